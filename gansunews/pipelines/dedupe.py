"""DedupePipeline: one record per article id; reposts (exact or near-duplicate bodies) point at the earliest copy.

Near duplicates use SimHash over character 4-grams (the `simhash` library and its bucketed index): Chinese has
no spaces, and 4-grams survive re-punctuation and small edits. Items arrive oldest first (see the spider), so
the copy already indexed is the earlier one.
"""

from __future__ import annotations

from simhash import Simhash, SimhashIndex

from gansunews.items import Article
from gansunews.pipelines import drop

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
        self.by_hash.setdefault(item.content_hash, item.article_id)
        if len(item.content_text) >= MIN_NEAR_DUP_CHARS:
            self.index.add(item.article_id, simhash)
        self.published[item.article_id] = (item.published_at, item.duplicate_of)
        return item

    def original_of(self, item: Article, simhash: Simhash) -> str | None:
        """The earliest-published earlier copy (following chains to their root), or None."""
        candidates = set(self.index.get_near_dups(simhash)) if len(item.content_text) >= MIN_NEAR_DUP_CHARS else set()
        if item.content_hash in self.by_hash:
            candidates.add(self.by_hash[item.content_hash])
        roots = {self.published[c][1] or c for c in candidates}
        earlier = [r for r in roots if self.published[r][0] <= item.published_at]
        if roots and not earlier:
            self.crawler.stats.inc_value("gansunews/dedupe/later_original")
        return min(earlier, key=lambda r: (self.published[r][0], r)) if earlier else None
