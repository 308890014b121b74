"""MongoPipeline: articles into MongoDB in batches, off the reactor, with nothing lost when the server goes away.

Batches are flushed by size (`GANSUNEWS_MONGO_BATCH_SIZE`), by time (`GANSUNEWS_MONGO_FLUSH_SECONDS`) and at
close. A batch that cannot be written is appended to a local spool file (`GANSUNEWS_SPOOL_DIR/articles.jsonl`)
and replayed before the next batch, at close, or at the next start. Writes are idempotent, so a replay never
duplicates an article. A batch that can be neither written nor spooled (MongoDB away and the disk full) stays in
memory and is tried again at the next flush; never stored, it is never settled, so the walks that listed it do not
move past it, and the next crawl fetches it again (`mongo/unsaved` at the close, a problem in the verdict).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from itemadapter import ItemAdapter
from scrapy.exceptions import CloseSpider, NotConfigured

from gansunews.crawlinfo import articles_stored
from gansunews.items import Article
from gansunews.redact import redact
from gansunews.store import MongoConfig, OperationFailure, PyMongoError, Store

logger = logging.getLogger(__name__)
WRITTEN, SPOOLED, KEPT = "written", "spooled", "kept"  # what became of a batch (`MongoPipeline._write`)
WRITE_ATTEMPTS = 3
RETRY_PAUSE = 0.5  # seconds, times the attempt number


def article_document(item: Article) -> dict:
    """The stored document: the item's fields (a shallow copy: items are not changed after this stage)."""
    doc = dict(ItemAdapter(item).items())
    doc["_id"] = doc["article_id"]
    return doc


class MongoPipeline:
    def __init__(self, crawler, config: MongoConfig) -> None:
        self.crawler = crawler
        self.config = config
        self.spool = config.articles_spool(lambda lines: self.count("spool_set_aside", lines))
        self.store: Store | None = None
        self.buffer: list[dict] = []
        self.lock = asyncio.Lock()
        self.timer: asyncio.Task | None = None
        self.writing: asyncio.Future | None = None
        # Spooled by this process and not seen in MongoDB yet: kept on this machine only, so a distributed crawl's
        # leases on them stay until they are (`articles_stored` with spooled=True, then False).
        self.unconfirmed: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler) -> MongoPipeline:
        config = MongoConfig.from_settings(crawler.settings)
        if config is None:
            raise NotConfigured("MONGO_URI is not set (or GANSUNEWS_MONGO_ENABLED is false)")
        return cls(crawler, config)

    def count(self, key: str, value: int = 1) -> None:
        if value:
            self.crawler.stats.inc_value(f"gansunews/mongo/{key}", value)

    async def open_spider(self) -> None:
        self.store = Store.of(self.crawler, self.config)
        try:
            await self.store.run(self.store.ping)
            await self.store.run(self.store.ensure_indexes)
        except PyMongoError as error:
            logger.error("MongoDB unreachable at %s: %s", redact(self.config.uri), redact(str(error)))
            raise CloseSpider("mongodb_unreachable") from error
        await self.store.run(self._write, [])  # replays what an earlier run spooled
        self.timer = asyncio.ensure_future(self._flush_periodically())

    async def process_item(self, item):
        if isinstance(item, Article):
            self.buffer.append(article_document(item))
            if len(self.buffer) >= self.config.batch_size:
                await self.flush_in_background()
        return item

    async def flush_in_background(self) -> None:
        """Start writing the full buffer and go on; wait only while the previous batch is still being written,
        so at most two batches are held in memory."""
        if self.writing is not None:
            await self.writing
        self.writing = asyncio.ensure_future(self.flush())

    async def close_spider(self) -> None:
        if self.timer:
            self.timer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.timer
        if self.writing is not None:
            await self.writing
        await self.flush()
        if self.buffer:  # kept: neither written nor spooled
            self.count("unsaved", len(self.buffer))
            logger.error(
                "%d articles neither stored nor spooled (MongoDB away, the spool not writable): lost for this crawl; "
                "the next fetches them again",
                len(self.buffer),
            )
        if self.store is not None:  # other processes updating the same database (gansunews/updatelock.py)
            self.count("update_lock_waits", self.store.update_lock.waits)
            self.count("update_lock_stale", self.store.update_lock.stale)
        if self.spool.pending():
            logger.error(
                "MongoDB unavailable at close: articles kept in %s, replayed at the next start", self.spool.path
            )
        # this crawl's articles that are on this machine only: MongoDB's archive lacks them until the next start
        self.count("spooled_at_close", len(self.unconfirmed))

    async def _flush_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.config.flush_seconds)
            # Shielded: close_spider cancels this loop, and cancelling a flush that has taken its batch from the
            # buffer but still waits for the writer thread would drop that batch.
            await asyncio.shield(self.flush())

    async def flush(self) -> None:
        async with self.lock:
            batch, self.buffer = self.buffer, []
            if not (batch or self.spool.pending() or self.unconfirmed):
                return
            assert self.store is not None
            outcome = await self.store.run(self._write, batch)
            if outcome == KEPT:  # tried again at the next flush
                self.buffer[:0] = batch
                return
            written = outcome == WRITTEN
            if batch:  # written or spooled: durable either way, here
                ids = [doc["_id"] for doc in batch]
                self.crawler.signals.send_catch_log(articles_stored, ids=ids, spooled=not written)
                if not written:
                    self.unconfirmed.update(ids)
            if written and self.unconfirmed:  # maybe the server answers again: which spooled ones reached it
                try:
                    confirmed = await self.store.run(self.store.stored_among, sorted(self.unconfirmed))
                except PyMongoError:
                    return  # still away: asked again at the next flush
                self.unconfirmed.difference_update(confirmed)
                self.crawler.signals.send_catch_log(articles_stored, ids=confirmed, spooled=False)

    def _write(self, batch: list[dict]) -> str:
        """On the writer thread: replay the spool first (order matters for revisions), then the batch: WRITTEN,
        SPOOLED, or KEPT (neither). A server that answers with an error (a busy SQLite file under FerretDB, say) is
        retried; one that is gone is not."""
        for attempt in range(1, WRITE_ATTEMPTS + 1):
            try:
                self._replay()
                if batch:
                    self._save(batch)
                return WRITTEN
            except OperationFailure as error:
                if attempt == WRITE_ATTEMPTS:
                    return self._spool(batch, error)
                self.count("retries")
                time.sleep(RETRY_PAUSE * attempt)
            except PyMongoError as error:
                return self._spool(batch, error)
        return KEPT

    def _save(self, batch: list[dict]) -> None:
        result = self.store.save_articles(batch)
        self.count("inserted", result.inserted)
        self.count("updated", result.updated)
        self.count("revisions", result.revisions)
        self.count("unchanged", result.unchanged)
        self.count("batches")

    def _spool(self, batch: list[dict], error: PyMongoError) -> str:
        self.count("errors")
        try:
            self.spool.append(batch)
        except OSError as failure:
            self.count("unspooled_batches")
            logger.error(
                "MongoDB write failed (%s) and the spool could not be written (%s): %d articles kept in memory",
                error,
                failure,
                len(batch),
            )
            return KEPT
        self.count("spooled", len(batch))
        logger.warning("MongoDB write failed (%s): %d articles spooled to %s", error, len(batch), self.spool.path)
        return SPOOLED

    def _replay(self) -> None:
        replayed = self.spool.take(self._save_in_batches)
        if replayed:
            self.count("replayed", replayed)
            logger.info("replayed %d spooled articles into MongoDB", replayed)

    def _save_in_batches(self, docs: list[dict]) -> None:
        for start in range(0, len(docs), self.config.batch_size):
            self.store.save_articles(docs[start : start + self.config.batch_size])


__all__ = ["MongoPipeline", "article_document"]
