"""Channels merged into articles listed again (another channel names an article stored already, or on its way to
storage), kept until they are written.

A merge goes to the store's writer thread in order with its other writes. One that cannot be written (MongoDB away)
is tried again every `GANSUNEWS_MONGO_FLUSH_SECONDS`, with those that came meanwhile, and whoever waits for it (the
walk's page that listed the article, a distributed crawl's lease) is told only once it is written. What is still
unwritten when the crawl closes goes with the crawl record's last writes, spooled with them while MongoDB is away
and replayed at the next start (gansunews/extensions.py, `CrawlRecord`). Until 2026-12-03 a merge that failed was
logged and dropped: the walk moved past its page, the channel was missing from the article, and the verdict said ok.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from gansunews.store import PyMongoError, Store

logger = logging.getLogger(__name__)

Channels = dict[str, list[dict[str, Any]]]  # article id → channels that list it


class ChannelMerges:
    def __init__(self, store: Store, count: Callable[[str, int], None]) -> None:
        self.store, self.count = store, count
        self.pause = store.config.flush_seconds
        self.due: list[tuple[Channels, Callable[[], None]]] = []  # not written yet, with whom to tell once they are
        self.task: asyncio.Task | None = None
        self.closing = False

    def add(self, channels: Channels, written: Callable[[], None]) -> None:
        self.due.append((channels, written))
        if self.task is None:
            self.task = asyncio.ensure_future(self._write_due())

    async def close(self) -> Channels:
        """At the close: one more attempt (the pages and leases that wait for them end if it succeeds), then what is
        still unwritten, handed over."""
        self.closing = True
        if self.task is not None:  # none while merges are due only after an earlier close gave up
            await self.task
        unwritten, self.due = combined(self.due), []
        return unwritten

    async def _write_due(self) -> None:
        failed = False
        while self.due:
            writing, self.due = self.due, []
            try:
                merged = await self.store.run(self.store.add_channels, combined(writing))
            except PyMongoError as error:
                self.due[:0] = writing
                self.count("mongo/merges_delayed", 1)
                if not failed:
                    logger.warning("channels not merged (%s): tried again until MongoDB answers", error)
                failed = True
                if self.closing:
                    break
                await asyncio.sleep(self.pause)
                continue
            except Exception:  # a bug, not MongoDB: trying again would fail again, and hold the pages for ever
                logger.exception("channels not merged")
                self.count("mongo/merges_failed", 1)
                merged = 0
            if failed:
                logger.info("channels merged again")
                failed = False
            self.count("incremental/channels_merged", merged)
            for _, written in writing:
                written()
        self.task = None


def combined(merges: list[tuple[Channels, Any]]) -> Channels:
    channels: Channels = {}
    for by_id, _ in merges:
        for cms_id, listed in by_id.items():
            channels.setdefault(cms_id, []).extend(listed)
    return channels
