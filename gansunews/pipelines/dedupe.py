"""DedupePipeline: one record per article id; reposts (exact or near-duplicate bodies) point at the earliest copy.

Near duplicates use SimHash over character 4-grams (the `simhash` library and its bucketed index): Chinese has
no spaces, and 4-grams survive re-punctuation and small edits. Items arrive oldest first (see the spider), so
the copy already indexed is the earlier one.
"""

from __future__ import annotations

import logging

from simhash import Simhash, SimhashIndex

from gansunews.items import Article
from gansunews.pipelines import drop
from gansunews.store import MongoConfig, PyMongoError, Store

logger = logging.getLogger(__name__)

SHINGLE = 4
MIN_NEAR_DUP_CHARS = 80  # shorter bodies (captions, notices) are too alike to call reposts
MAX_DISTANCE = 3


def fingerprint(text: str) -> Simhash:
    compact = "".join(text.split())
    return Simhash([compact[i : i + SHINGLE] for i in range(max(1, len(compact) - SHINGLE + 1))])


class DedupePipeline:
    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.seen_ids: set[str] = set()
        self.by_hash: dict[str, str] = {}
        self.index = SimhashIndex([], k=MAX_DISTANCE)
        self.published: dict[str, tuple[str, str | None]] = {}  # id → (published_at, duplicate_of)

    @classmethod
    def from_crawler(cls, crawler) -> DedupePipeline:
        return cls(crawler)

    async def open_spider(self) -> None:
        """Across runs: stored articles join the index, so tomorrow's repost points at today's original."""
        config = MongoConfig.from_settings(self.crawler.settings)
        if config is None:
            return
        store = Store(config)
        try:
            stored = await store.run(store.fingerprints)
        except PyMongoError as error:
            self.crawler.stats.inc_value("gansunews/dedupe/state_unavailable")
            logger.warning("stored fingerprints unavailable, near duplicates found within this run only: %s", error)
            stored = []
        finally:
            store.close()
        for doc in stored:
            if doc.get("simhash"):
                self.remember(
                    doc["_id"],
                    Simhash(int(doc["simhash"], 16)),
                    doc.get("content_hash", ""),
                    doc.get("published_at", ""),
                    doc.get("duplicate_of"),
                    near=True,
                )
        self.crawler.stats.set_value("gansunews/dedupe/stored_fingerprints", len(stored))

    def process_item(self, item):
        if not isinstance(item, Article):
            return item
        if item.article_id in self.seen_ids:
            raise drop(self.crawler, "duplicate_id", item.article_id)
        self.seen_ids.add(item.article_id)
        simhash = fingerprint(item.content_text)
        item.simhash = f"{simhash.value:016x}"
        item.duplicate_of = self.original_of(item, simhash)
        if item.duplicate_of:
            self.crawler.stats.inc_value("gansunews/dedupe/reposts")
        if item.article_id not in self.published:  # a stored article fetched again is already indexed
            self.remember(
                item.article_id,
                simhash,
                item.content_hash,
                item.published_at,
                item.duplicate_of,
                near=len(item.content_text) >= MIN_NEAR_DUP_CHARS,
            )
        return item

    def remember(
        self, cms_id: str, simhash: Simhash, content_hash: str, published_at: str, duplicate_of: str | None, near: bool
    ) -> None:
        if content_hash:
            self.by_hash.setdefault(content_hash, cms_id)
        if near:
            self.index.add(cms_id, simhash)
        self.published[cms_id] = (published_at, duplicate_of)

    def original_of(self, item: Article, simhash: Simhash) -> str | None:
        """The earliest-published earlier copy (following chains to their root), or None."""
        candidates = set(self.index.get_near_dups(simhash)) if len(item.content_text) >= MIN_NEAR_DUP_CHARS else set()
        if item.content_hash in self.by_hash:
            candidates.add(self.by_hash[item.content_hash])
        candidates.discard(item.article_id)
        roots = {self.published[c][1] or c for c in candidates} - {item.article_id}
        earlier = [r for r in roots if self.published[r][0] <= item.published_at]
        if roots and not earlier:
            self.crawler.stats.inc_value("gansunews/dedupe/later_original")
        return min(earlier, key=lambda r: (self.published[r][0], r)) if earlier else None
