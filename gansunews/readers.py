"""Article pages read in worker processes. Page objects are pure functions of a page's bytes, so the reading —
the largest part of the crawl's own CPU — can run beside the crawl process, which Scrapy keeps on one core.

`GANSUNEWS_READ_WORKERS` processes (spawned: the crawl process has threads) read the pages; with 0, or when a
worker dies, pages are read in the crawl process itself, so a lost worker costs time, never a page."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import sys
import types
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from gansunews.fingerprints import stored_fingerprints
from gansunews.items import RawArticle
from gansunews.pages import PageError
from gansunews.pages.article import ArticlePage, Body
from gansunews.text import body_text

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reading:
    """An article page, read: the article (first page) or its body (continuation page) with the URL of the next
    page; or why the page is not an article; or why it could not be read."""

    article: RawArticle | None = None
    body: Body | None = None
    next_url: str | None = None
    not_article: str | None = None
    error: str | None = None


def read_article(url: str, body: bytes, content_type: str) -> Reading:
    try:
        page = ArticlePage.from_bytes(url, body, {"content-type": content_type})
        reason = page.not_article_reason()
        if reason:
            return Reading(not_article=reason)
        article, next_url = page.article(), page.next_page_url()
    except PageError as error:
        return Reading(error=str(error))
    if next_url is None:  # the body is complete: fingerprinted here, off the crawl's event loop (≈ 7% of it)
        article.simhash, article.minhash = stored_fingerprints(body_text(article.paragraphs))
    return Reading(article=article, next_url=next_url)


def read_continuation(url: str, body: bytes, content_type: str) -> Reading:
    try:
        page = ArticlePage.from_bytes(url, body, {"content-type": content_type})
        return Reading(body=page.continuation(), next_url=page.next_page_url())
    except PageError as error:
        return Reading(error=str(error))


Reader = Callable[[str, bytes, str], Reading]


class PageReaders:
    """Runs readers in `workers` processes, or in this one when `workers` is 0."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.lost_pools = 0
        self._pool: ProcessPoolExecutor | None = None

    async def read(self, reader: Reader, url: str, body: bytes, content_type: str) -> Reading:
        if self.workers:
            pool = self._running_pool()
            try:
                with _main_module_hidden():  # workers start in submit()
                    future = pool.submit(reader, url, body, content_type)
                return await asyncio.wrap_future(future)
            except BrokenProcessPool:  # a worker died (killed, out of memory): its pages are read here instead
                if pool is self._pool:
                    logger.error("a page-reading worker died; starting new workers")
                    self.lost_pools += 1
                    self._pool = None
        return reader(url, body, content_type)

    def _running_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=context, initializer=_die_with, initargs=(os.getpid(),)
            )
        return self._pool

    def peak_rss(self) -> int:
        """Bytes: the sum of the workers' peak resident sets, for the crawl's memory accounting."""
        return sum(peak_rss(child.pid) for child in multiprocessing.active_children())

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _die_with(parent: int) -> None:
    """In a worker: end when the crawl process ends, however it ends. A crawl killed with -9 closes no pool, and
    its workers would wait for pages forever (seen: orphans of killed test crawls, 45 MiB each)."""
    with contextlib.suppress(OSError, AttributeError):  # Linux only: elsewhere a worker may outlive a killed crawl
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the crawl ended before the line above
        os._exit(0)


PR_SET_PDEATHSIG = 1


@contextlib.contextmanager
def _main_module_hidden():
    """A spawned worker runs the parent's main module again (for functions defined there) unless it is a package's
    `__main__`. Ours are defined here, and the main module is the `scrapy` script or scrapyd's runner, which import
    all of Scrapy and Twisted: measured, a worker of 66 instead of 44 MiB. Workers start with a bare stand-in."""
    main = sys.modules["__main__"]
    sys.modules["__main__"] = types.ModuleType("__main__")
    try:
        yield
    finally:
        sys.modules["__main__"] = main


def peak_rss(pid: int | str | None = "self") -> int:
    """Bytes: a process's peak resident set, VmHWM (0 when gone, or not Linux). Not getrusage's `ru_maxrss`: on
    Linux that starts from the resident size of the process that launched this one (exec keeps it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:  # gone, or not Linux
        return 0
    kilobytes = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")), "0")
    return int(kilobytes) * 1024
