"""DedupePipeline: one record per article id; reposts (exact or near-duplicate bodies) point at the earliest copy.

Items arrive in any order (the spider streams them); a copy read before its original is re-pointed when the
original comes. Copies count only when published within `GANSUNEWS_REPOST_WINDOW_DAYS` of each other, so stored
articles join the index by the week, as the crawl reaches their days: a nightly crawl loads the archive's last few
months, not all of it, and tomorrow's repost still points at today's original. How copies are found is in
`gansunews.reposts`; the index lives on disk (SQLite), so its memory does not grow with the archive.
"""

from __future__ import annotations

import asyncio
import logging
import math
import sqlite3
from datetime import UTC, datetime, timedelta
from itertools import islice

from gansunews.crawlinfo import crawl_id
from gansunews.fingerprints import (
    SIMILAR,
    WINDOW_DAYS,
    Fingerprint,
    decode_signature,
    stored_fingerprints,
    timestamp,
)
from gansunews.items import Article
from gansunews.pipelines import drop
from gansunews.reposts import RepostIndex
from gansunews.store import MongoConfig, PyMongoError, Store
from gansunews.text import CHINA_TZ

logger = logging.getLogger(__name__)

MIN_NEAR_DUP_CHARS = 80  # shorter bodies (captions, notices) are too alike to call reposts unless identical
WEEK = 7 * 86400  # stored fingerprints are loaded a week of publish time at a time
# A peer's article is written within seconds of being read (`crawl.last_seen`), or when its spool is replayed after
# an outage: those written by peers since this process started are read at its close, with this much to spare.
PEERS_MARGIN = timedelta(hours=1)


def fingerprint(article: Article) -> Fingerprint:
    """Fills the article's `simhash` and `minhash` unless the page reader did, and returns the fingerprint the
    repost index compares."""
    if not article.simhash:
        article.simhash, article.minhash = stored_fingerprints(article.content_text)
    values = decode_signature(article.minhash)
    return Fingerprint.of(article.content_hash, values if len(article.content_text) >= MIN_NEAR_DUP_CHARS else None)


def stored_fingerprint(doc: dict) -> Fingerprint:
    """The fingerprint of an article as MongoDB holds it (`FINGERPRINT_FIELDS`)."""
    return Fingerprint.of(doc.get("content_hash", ""), decode_signature(doc.get("minhash")))


class DedupePipeline:
    def __init__(
        self, crawler, stored: MongoConfig | None, similar: float, window_days: float, peers: bool = False
    ) -> None:
        self.crawler = crawler
        self.stored = stored  # where earlier runs' fingerprints are, if anywhere
        self.peers = peers  # other processes share the crawl (distributed): their articles are compared at close
        self.started = datetime.now(UTC).astimezone(CHINA_TZ)
        self.index = RepostIndex(similar, window_days)
        self.weeks: dict[int, asyncio.Future | None] = {}  # weeks loaded, being loaded, or with nothing to load (None)
        self.archive_weeks: tuple[int, int] | None = None  # the first and last week stored before this run
        self.archive_read: asyncio.Future | None = None
        self.failures = 0  # reads of stored weeks failed in a row
        self.unrepointed: list[tuple[list[str], str]] = []  # (copies, original) MongoDB did not take: at the close
        self.unavailable = False

    @classmethod
    def from_crawler(cls, crawler) -> DedupePipeline:
        settings = crawler.settings
        return cls(
            crawler,
            MongoConfig.from_settings(settings),
            settings.getfloat("GANSUNEWS_NEAR_DUPLICATE_SIMILARITY", SIMILAR),
            settings.getfloat("GANSUNEWS_REPOST_WINDOW_DAYS", WINDOW_DAYS),
            peers=bool(settings.get("REDIS_URL")),
        )

    async def process_item(self, item):
        if not isinstance(item, Article):
            return item
        await self.load_near(item.published_at)
        body = fingerprint(item)
        # checked after the await, and no await from here until the article is in the index: a copy of the same
        # id in the pipelines meanwhile finds it
        try:
            if self.index.read_by_this_run(item.article_id):
                raise drop(self.crawler, "duplicate_id", item.article_id)
            item.duplicate_of, later = self.index.original_of(item.article_id, item.published_at, body)
            # into the index before any await: Scrapy runs a response's items through the pipelines concurrently
            # (CONCURRENT_ITEMS), and the next one must already find this one
            self.index.add(item.article_id, item.published_at, body, item.duplicate_of)
        except sqlite3.Error as error:  # the index's file (a full disk): the article goes on, unchecked
            self.index_failed(error)
            return item
        if item.duplicate_of:
            self.crawler.stats.inc_value("gansunews/dedupe/reposts")
        if later:
            await self.found_earlier_original(item.article_id, later)
        return item

    async def load_near(self, published_at: str) -> None:
        """The stored articles of the weeks within the window of `published_at` join the index from MongoDB (each
        week once; an item that needs a week another item is loading waits for it). Only weeks that can hold any
        are read: within the span the archive had before this run (a backfill into an empty database reads none: on
        FerretDB every such read scans the whole collection, and held up the writes behind it)."""
        when = timestamp(published_at)
        if not math.isfinite(when):
            return
        window = self.index.window
        weeks = range(int((when - window) // WEEK), int((when + window) // WEEK) + 1)
        if self.stored is None or self.unavailable:
            return
        if self.archive_weeks is None:
            self.archive_read = self.archive_read or asyncio.ensure_future(self._read_archive_weeks())
            await self.archive_read
        missing = [week for week in weeks if week not in self.weeks]
        if missing:
            self.weeks.update(dict.fromkeys(missing))  # nothing stored there
            first, last = self.archive_weeks
            stored = [week for week in missing if first <= week <= last]
            if stored:
                loading = asyncio.ensure_future(self._load(stored[0], stored[-1] + 1))
                self.weeks.update(dict.fromkeys(stored, loading))
        pending = {self.weeks[week] for week in weeks if self.weeks[week] and not self.weeks[week].done()}
        if pending:  # most items find their weeks loaded: no pass through the event loop for them
            await asyncio.gather(*pending)

    async def _read_archive_weeks(self) -> None:
        """The weeks of the first and last article stored before this run (first > last: none)."""
        store = Store.of(self.crawler, self.stored)
        try:
            span = await store.run(store.published_span)
        except PyMongoError as error:
            logger.warning("the archive's span is unknown (%s): every week is read", error)
            span = ("0001-01-01T00:00:00+08:00", "9999-12-31T00:00:00+08:00")
        self.archive_weeks = (int(timestamp(span[0]) // WEEK), int(timestamp(span[1]) // WEEK)) if span else (1, 0)

    async def _load(self, first_week: int, end_week: int) -> None:
        """Weeks [first_week, end_week) of stored fingerprints: read on the store's thread, added here (the index
        is only ever changed on the reactor's thread). A read that fails is tried again when its weeks are next
        needed; after three failures in a row the crawl goes on finding reposts within this run only."""
        start, end = (datetime.fromtimestamp(week * WEEK, CHINA_TZ).isoformat() for week in (first_week, end_week))
        store = Store.of(self.crawler, self.stored)
        try:
            docs = await store.run(lambda: list(store.fingerprints(start, end)))
        except PyMongoError as error:
            self.crawler.stats.inc_value("gansunews/dedupe/load_failed")
            this = asyncio.current_task()
            for week in range(first_week, end_week):
                if self.weeks.get(week) is this:
                    del self.weeks[week]
            self.failures += 1
            if self.failures >= 3:
                self.unavailable = True  # said once
                self.crawler.stats.inc_value("gansunews/dedupe/state_unavailable")
                logger.warning("stored fingerprints unavailable, near duplicates found within this run only: %s", error)
            else:
                logger.warning("stored fingerprints from %s to %s not read (tried again): %s", start, end, error)
            return
        self.failures = 0
        try:
            for doc in docs:
                body = stored_fingerprint(doc)
                self.index.add(doc["_id"], doc.get("published_at", ""), body, doc.get("duplicate_of"), stored=True)
        except sqlite3.Error as error:
            self.index_failed(error)
        self.crawler.stats.inc_value("gansunews/dedupe/stored_fingerprints", len(docs))

    def index_failed(self, error: sqlite3.Error) -> None:
        """The index could not be read or written (its file's disk full): counted, said once; the articles go on,
        their reposts not found."""
        stats = self.crawler.stats
        stats.inc_value("gansunews/dedupe/index_failed")
        if stats.get_value("gansunews/dedupe/index_failed") == 1:
            logger.warning("the repost index failed (%s): articles go on without repost links while it does", error)

    async def close_spider(self) -> None:
        if self.stored is not None:
            await self.compare_peers_articles()
            await self.repoint_delayed()
        self.index.close()

    async def repoint_delayed(self) -> None:
        """Re-pointings MongoDB did not take during the crawl (it was away): tried again, and what it still does not
        take is spooled with the crawl records, which the next start replays. Until 2026-12-03 they were dropped, and
        the stored copies kept pointing at a later copy, or at nothing."""
        store = Store.of(self.crawler, self.stored)
        while self.unrepointed:
            copies, original = self.unrepointed[0]
            try:
                count = await store.run(store.repoint, copies, original)
            except PyMongoError:
                break
            self.crawler.stats.inc_value("gansunews/dedupe/repointed_stored", count)
            self.unrepointed.pop(0)
        if not self.unrepointed:
            return
        left, self.unrepointed = self.unrepointed, []
        copies = sum(len(copies) for copies, _ in left)
        try:
            self.stored.records_spool().append([{"op": "repoint", "args": [c, original]} for c, original in left])
        except OSError as error:
            self.crawler.stats.inc_value("gansunews/dedupe/repoint_failed", copies)
            logger.error("reposts not re-pointed in MongoDB, and the spool could not be written (%s): %s", error, left)
            return
        self.crawler.stats.inc_value("gansunews/dedupe/repoint_spooled", copies)
        logger.warning("%d reposts not re-pointed in MongoDB: spooled, re-pointed at the next start", copies)

    async def compare_peers_articles(self) -> None:
        """Reposts between this process's articles and its peers': the other processes of a distributed crawl, or
        other crawls writing to the same database meanwhile (two scrapyd jobs, a backfill beside the nightly run).
        The index holds what this process read and the stored weeks it loaded; a peer's article written after its
        week was loaded was never compared with this process's. At close every article of the run is stored
        (distributed, a process closes only when no process holds a lease, and a lease ends when its articles are
        stored), so the peers' articles written since this process started go through the index now, and MongoDB's
        links are corrected both ways: a peer's copy of an earlier article of this process points at it, and this
        process's copies of an earlier peer article are re-pointed (`dedupe/later_original`). Each process does
        this at its close; whichever closes last has seen every article of both. Without a distributed peer or a
        crawl beside this one (the common case), nothing is read."""
        store = Store.of(self.crawler, self.stored)
        stats = self.crawler.stats
        since = self.started - PEERS_MARGIN
        try:
            if self.peers:
                cursor = await store.run(store.written_since, since.isoformat())
            else:
                started = self.started.astimezone(UTC).isoformat()  # a crawl finished before then needs nothing
                beside = await store.run(store.crawls_beside, crawl_id(self.crawler), started)
                if not beside:
                    return
                stats.set_value("gansunews/dedupe/crawls_beside", len(beside))
                cursor = await store.run(store.written_by, beside, since.isoformat())
            while docs := await store.run(lambda: list(islice(cursor, 2000))):
                for doc in docs:
                    if doc["_id"] not in self.index:
                        stats.inc_value("gansunews/dedupe/peer_articles")
                        await self.compare_peer_article(store, doc)
        except (PyMongoError, sqlite3.Error) as error:
            stats.inc_value("gansunews/dedupe/peers_unchecked")
            logger.warning("peers' articles not compared with this process's (%s): reposts across them missed", error)

    async def compare_peer_article(self, store: Store, doc: dict) -> None:
        body = stored_fingerprint(doc)
        published_at, stored_root = doc.get("published_at", ""), doc.get("duplicate_of")
        original, later = self.index.original_of(doc["_id"], published_at, body)
        self.index.add(doc["_id"], published_at, body, original or stored_root, stored=True)
        if original and original != stored_root:
            await store.run(store.repoint, [doc["_id"]], original)
            self.crawler.stats.inc_value("gansunews/dedupe/peer_reposts")
        if later:  # at the peer's root: copies point at the root of their chain, never at another copy
            await self.found_earlier_original(stored_root or doc["_id"], later)

    async def found_earlier_original(self, original: str, roots: list[str]) -> None:
        """Copies read before their original (the crawl streams articles in any order; or an earlier-dated
        original crawled in a later run) point at it from now on: in the index, and in MongoDB — stored copies
        now, copies still on their way when they are written. A copy already in the `-O` feed keeps what it had
        (counted in `dedupe/repointed_in_run`)."""
        try:
            copies = self.index.repoint(roots, original)
            in_run = [cms_id for cms_id in copies if self.index.read_by_this_run(cms_id)]
        except sqlite3.Error as error:
            self.index_failed(error)
            return
        self.crawler.stats.inc_value("gansunews/dedupe/later_original")
        self.crawler.stats.inc_value("gansunews/dedupe/repointed_in_run", len(in_run))
        if self.stored is not None:
            store = Store.of(self.crawler, self.stored)
            try:
                count = await store.run(store.repoint, copies, original)
            except PyMongoError as error:
                logger.warning("reposts of %s not re-pointed in MongoDB yet (%s): %s", original, error, copies)
                self.crawler.stats.inc_value("gansunews/dedupe/repoint_delayed", len(copies))
                self.unrepointed.append((copies, original))
                return
            self.crawler.stats.inc_value("gansunews/dedupe/repointed_stored", count)
