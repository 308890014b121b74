"""Reading article pages in worker processes: the same readings as in the crawl process, and a worker that dies
costs no page."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import signal
import subprocess
import sys
import textwrap
import time
from dataclasses import replace
from pathlib import Path

import pytest

from gansunews.pages import _header
from gansunews.pipelines.clean import clean_article
from gansunews.pipelines.dedupe import fingerprint
from gansunews.readers import PageReaders, Reading, peak_rss, read_article, read_continuation
from tests.conftest import PROJECT
from tests.fixtures import load


def arguments(name: str) -> tuple[str, bytes, str]:
    url, body, headers = load(name)
    return url, body, _header(headers, "content-type") or ""


def test_an_article_page_is_read_with_its_next_page():
    reading = read_article(*arguments("article/multipage_1"))
    assert reading.article is not None and reading.article.title
    assert reading.next_url and reading.next_url.endswith("013001772_02.shtml")
    assert reading.not_article is None and reading.error is None


def test_non_articles_and_unreadable_pages_say_why():
    assert read_article(*arguments("article/soft_404")) == Reading(not_article="soft_404")
    empty = read_article(*arguments("article/empty"))
    assert empty.article is None and "empty page" in empty.error


def test_a_continuation_page_gives_its_body():
    reading = read_continuation(*arguments("article/multipage_3"))
    assert reading.body is not None and reading.body.paragraphs and reading.next_url is None


def test_a_one_page_article_is_fingerprinted_as_the_dedupe_pipeline_would():
    raw = read_article(*arguments("article/template_b_gbk")).article
    assert raw.simhash and raw.minhash.startswith("m1:")
    article = clean_article(raw)
    expected = clean_article(replace(raw, simhash="", minhash=""))
    read, computed = fingerprint(article), fingerprint(expected)
    assert read.keys.tolist() == computed.keys.tolist() and read.values.tolist() == computed.values.tolist()
    assert (article.simhash, article.minhash) == (expected.simhash, expected.minhash)


def test_a_multipage_article_is_fingerprinted_once_joined():
    first = read_article(*arguments("article/multipage_1")).article
    assert first.simhash == first.minhash == ""  # its body is not complete yet
    one_page = read_article(*arguments("article/template_b_gbk")).article
    one_page.join(read_continuation(*arguments("article/multipage_3")).body)
    assert one_page.simhash == one_page.minhash == ""  # DedupePipeline fingerprints the joined body


def test_a_worker_reads_what_the_crawl_process_reads():
    async def both():
        readers = PageReaders(workers=1)
        try:
            return [await readers.read(read_article, *arguments(name)) for name in ("article/template_b_gbk",) * 2]
        finally:
            readers.close()

    in_worker = asyncio.run(both())
    assert in_worker == [read_article(*arguments("article/template_b_gbk"))] * 2
    assert in_worker[0].article.title


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="peak RSS is read from /proc")
def test_a_dead_worker_costs_time_not_pages():
    async def kill_then_read():
        readers = PageReaders(workers=1)
        try:
            await readers.read(read_article, *arguments("article/template_a_sample"))  # the worker is up
            assert readers.peak_rss() > 10 * 2**20
            for worker in multiprocessing.active_children():
                os.kill(worker.pid, signal.SIGKILL)
                worker.join(10)
            after = await readers.read(read_article, *arguments("article/template_a_sample"))
            again = await readers.read(read_article, *arguments("article/template_a_sample"))
            return readers.lost_pools, after, again
        finally:
            readers.close()

    lost, after, again = asyncio.run(kill_then_read())
    expected = read_article(*arguments("article/template_a_sample"))
    assert lost == 1 and after == expected and again == expected


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="peak RSS is read from /proc")
def test_peak_rss_is_the_process_own_not_its_launchers():
    """getrusage's `ru_maxrss` of a new process starts from the size of the process that launched it (Linux keeps it
    across exec), so Scrapy's `memusage/max` of a crawl started by a large process is that process's size."""
    ballast = b"x" * (256 * 2**20)  # written, so resident in this process
    code = "import resource; from gansunews.readers import peak_rss; print(peak_rss(), resource.getrusage(0).ru_maxrss)"
    child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=PROJECT)
    own, inherited_kib = map(int, child.stdout.split())
    assert inherited_kib * 1024 >= len(ballast)
    assert 0 < own < 128 * 2**20
    assert peak_rss() >= len(ballast)


def test_workers_do_not_run_the_main_script_again(tmp_path):
    """Started from a script (the `scrapy` command is one), a spawned worker would run it again as `__mp_main__`
    (for Scrapy's script: import all of Scrapy and Twisted, ≈ 22 MiB per worker)."""
    script = tmp_path / "main_script.py"
    script.write_text(
        textwrap.dedent(
            """
            import asyncio, sys
            from gansunews.readers import PageReaders, read_article
            print("script run as", __name__, file=sys.stderr)

            async def read():
                readers = PageReaders(workers=1)
                try:
                    page = b"<html><body><p>x</p></body></html>"
                    await readers.read(read_article, "https://gansu.gscn.com.cn/a.shtml", page, "text/html")
                    print(readers.lost_pools)
                finally:
                    readers.close()

            if __name__ == "__main__":
                asyncio.run(read())
            """
        ),
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    child = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env=env, timeout=60)
    assert child.returncode == 0, child.stderr
    assert child.stdout.strip() == "0"  # read by the worker, which did not die
    assert child.stderr.count("script run as") == 1, child.stderr


def test_workers_end_with_a_killed_crawl_process(tmp_path):
    """kill -9 closes no pool: the workers must not outlive the crawl process, waiting for pages forever."""
    script = tmp_path / "crawl_process.py"
    script.write_text(
        textwrap.dedent(
            """
            import asyncio, multiprocessing, os, signal
            from gansunews.readers import PageReaders, read_article

            async def read():
                readers = PageReaders(workers=1)
                page = b"<html><body><p>x</p></body></html>"
                await readers.read(read_article, "https://gansu.gscn.com.cn/a.shtml", page, "text/html")
                print(*(child.pid for child in multiprocessing.active_children()), flush=True)
                os.kill(os.getpid(), signal.SIGKILL)

            asyncio.run(read())
            """
        )
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    # without the fix this times out: an orphaned worker keeps the captured output open
    child = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, cwd=PROJECT, env=env, timeout=60
    )
    workers = [int(pid) for pid in child.stdout.split()]
    assert child.returncode == -signal.SIGKILL and workers
    deadline = time.monotonic() + 10
    while any(alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(alive(pid) for pid in workers)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has ended; only its parent (init) has not reaped it yet
