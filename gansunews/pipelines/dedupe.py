"""DedupePipeline: one record per article id; reposts (exact or near-duplicate bodies) point at the earliest copy.

Items arrive in any order (the spider streams them); a copy read before its original is re-pointed when the
original comes. Stored articles join the index at start (their `minhash` signature), so tomorrow's repost points
at today's original. How copies are found is in `gansunews.fingerprints`.
"""

from __future__ import annotations

import logging

from gansunews.fingerprints import Fingerprint, RepostIndex, decode_signature, encode_signature, signature_and_simhash
from gansunews.items import Article
from gansunews.pipelines import drop
from gansunews.store import MongoConfig, PyMongoError, Store

logger = logging.getLogger(__name__)

MIN_NEAR_DUP_CHARS = 80  # shorter bodies (captions, notices) are too alike to call reposts unless identical


def fingerprint(article: Article) -> Fingerprint:
    """Fills the article's `simhash` and `minhash`, and returns the fingerprint the repost index compares."""
    values, article.simhash = signature_and_simhash(article.content_text)
    article.minhash = encode_signature(values)
    return Fingerprint.of(article.content_hash, values if len(article.content_text) >= MIN_NEAR_DUP_CHARS else None)


class DedupePipeline:
    def __init__(self, crawler, stored: MongoConfig | None, similar: float) -> None:
        self.crawler = crawler
        self.stored = stored  # where earlier runs' fingerprints are, if anywhere
        self.index = RepostIndex(similar)
        self.first_row_of_run = 0  # index rows from here on are this run's articles; those before, stored ones

    @classmethod
    def from_crawler(cls, crawler) -> DedupePipeline:
        settings = crawler.settings
        return cls(
            crawler, MongoConfig.from_settings(settings), settings.getfloat("GANSUNEWS_NEAR_DUPLICATE_SIMILARITY")
        )

    async def open_spider(self) -> None:
        """Across runs: stored articles join the index."""
        if self.stored is None:
            return
        store = Store.of(self.crawler, self.stored)
        try:
            await store.run(self.load, store)
        except PyMongoError as error:
            self.crawler.stats.inc_value("gansunews/dedupe/state_unavailable")
            logger.warning("stored fingerprints unavailable, near duplicates found within this run only: %s", error)
        self.crawler.stats.set_value("gansunews/dedupe/stored_fingerprints", len(self.index))
        self.first_row_of_run = len(self.index)

    def load(self, store: Store) -> None:
        for doc in store.fingerprints():
            body = Fingerprint.of(doc.get("content_hash", ""), decode_signature(doc.get("minhash")))
            self.index.add(doc["_id"], doc.get("published_at", ""), body, doc.get("duplicate_of"))

    async def process_item(self, item):
        if not isinstance(item, Article):
            return item
        if self.index.rows.get(item.article_id, -1) >= self.first_row_of_run:  # already emitted by this run
            raise drop(self.crawler, "duplicate_id", item.article_id)
        body = fingerprint(item)
        item.duplicate_of, later = self.index.original_of(item.article_id, item.published_at, body)
        if item.duplicate_of:
            self.crawler.stats.inc_value("gansunews/dedupe/reposts")
        # into the index before any await: Scrapy runs a response's items through the pipelines concurrently
        # (CONCURRENT_ITEMS), and the next one must already find this one
        self.index.add(item.article_id, item.published_at, body, item.duplicate_of)
        if later:
            await self.found_earlier_original(item.article_id, later)
        return item

    async def found_earlier_original(self, original: str, roots: list[str]) -> None:
        """Copies read before their original (the crawl streams articles in any order; or an earlier-dated
        original crawled in a later run) point at it from now on: in the index, and in MongoDB — stored copies
        now, copies still on their way when they are written. A copy already in the `-O` feed keeps what it had
        (counted in `dedupe/repointed_in_run`)."""
        copies = self.index.repoint(roots, original)
        in_run = [cms_id for cms_id in copies if self.index.rows[cms_id] >= self.first_row_of_run]
        self.crawler.stats.inc_value("gansunews/dedupe/later_original")
        self.crawler.stats.inc_value("gansunews/dedupe/repointed_in_run", len(in_run))
        if self.stored is not None:
            store = Store.of(self.crawler, self.stored)
            try:
                count = await store.run(store.repoint, copies, original)
            except PyMongoError as error:
                logger.warning("reposts of %s not re-pointed in MongoDB (%s): %s", original, error, copies)
                self.crawler.stats.inc_value("gansunews/dedupe/repoint_failed", len(copies))
                return
            self.crawler.stats.inc_value("gansunews/dedupe/repointed_stored", count)
