"""DedupePipeline: one record per article id; reposts (exact or near-duplicate bodies) point at the earliest copy.

Near duplicates are found with MinHash over character 4-grams and an LSH index (datasketch), confirmed by the
estimated Jaccard similarity: Chinese has no spaces, 4-grams survive re-punctuation and small edits, and MinHash
separates a lightly edited repost (≈ 0.99) from unrelated articles on the same topics (≤ 0.3) far more reliably
than SimHash does on short bodies. The 64-bit `simhash` is still computed for users (Hamming comparisons).

Items arrive oldest first (see the spider), so an indexed copy is the earlier one; stored articles join the
index at start (their `minhash` signature), so tomorrow's repost points at today's original.
"""

from __future__ import annotations

import base64
import logging

import numpy as np
from datasketch import MinHash, MinHashLSH
from simhash import Simhash

from gansunews.items import Article
from gansunews.pipelines import drop
from gansunews.store import MongoConfig, PyMongoError, Store

logger = logging.getLogger(__name__)

SHINGLE = 4
PERMUTATIONS = 64
SCHEME = "affine32"  # datasketch's permutation scheme, named so that stored signatures stay comparable
SIMILAR = 0.7  # estimated Jaccard similarity of 4-gram sets that makes a repost
MIN_NEAR_DUP_CHARS = 80  # shorter bodies (captions, notices) are too alike to call reposts


def shingles(text: str) -> list[str]:
    compact = "".join(text.split())
    return [compact[i : i + SHINGLE] for i in range(max(1, len(compact) - SHINGLE + 1))]


_PERMUTATIONS = MinHash(num_perm=PERMUTATIONS, scheme=SCHEME).permutations  # drawn once, not per article


def minhash(text: str) -> MinHash:
    signature = MinHash(num_perm=PERMUTATIONS, scheme=SCHEME, permutations=_PERMUTATIONS)
    signature.update_batch(s.encode("utf-8") for s in shingles(text))
    return signature


def encode_minhash(signature: MinHash) -> str:
    return base64.b64encode(signature.hashvalues.astype("<u4").tobytes()).decode("ascii")


def decode_minhash(text: str) -> MinHash:
    values = np.frombuffer(base64.b64decode(text), dtype="<u4")
    return MinHash(num_perm=PERMUTATIONS, hashvalues=values, scheme=SCHEME, permutations=_PERMUTATIONS)


def simhash(text: str) -> str:
    return f"{Simhash(shingles(text)).value:016x}"


class DedupePipeline:
    def __init__(self, crawler, stored: MongoConfig | None) -> None:
        self.crawler = crawler
        self.stored = stored  # where earlier runs' fingerprints are, if anywhere
        self.seen_ids: set[str] = set()
        self.by_hash: dict[str, str] = {}
        self.index = MinHashLSH(threshold=SIMILAR, num_perm=PERMUTATIONS)
        self.signatures: dict[str, MinHash] = {}
        self.published: dict[str, tuple[str, str | None]] = {}  # id → (published_at, duplicate_of)

    @classmethod
    def from_crawler(cls, crawler) -> DedupePipeline:
        return cls(crawler, MongoConfig.from_settings(crawler.settings))

    async def open_spider(self) -> None:
        """Across runs: stored articles join the index."""
        if self.stored is None:
            return
        store = Store(self.stored)
        try:
            stored = await store.run(store.fingerprints)
        except PyMongoError as error:
            self.crawler.stats.inc_value("gansunews/dedupe/state_unavailable")
            logger.warning("stored fingerprints unavailable, near duplicates found within this run only: %s", error)
            stored = []
        finally:
            store.close()
        for doc in stored:
            signature = decode_minhash(doc["minhash"]) if doc.get("minhash") else None
            self.remember(
                doc["_id"], signature, doc.get("content_hash", ""), doc.get("published_at", ""), doc.get("duplicate_of")
            )
        self.crawler.stats.set_value("gansunews/dedupe/stored_fingerprints", len(stored))

    def process_item(self, item):
        if not isinstance(item, Article):
            return item
        if item.article_id in self.seen_ids:
            raise drop(self.crawler, "duplicate_id", item.article_id)
        self.seen_ids.add(item.article_id)
        signature = minhash(item.content_text)
        item.minhash = encode_minhash(signature)
        item.simhash = simhash(item.content_text)
        near = len(item.content_text) >= MIN_NEAR_DUP_CHARS
        item.duplicate_of = self.original_of(item, signature if near else None)
        if item.duplicate_of:
            self.crawler.stats.inc_value("gansunews/dedupe/reposts")
        if item.article_id not in self.published:  # a stored article fetched again is already indexed
            self.remember(
                item.article_id, signature if near else None, item.content_hash, item.published_at, item.duplicate_of
            )
        return item

    def remember(
        self, cms_id: str, signature: MinHash | None, content_hash: str, published_at: str, duplicate_of: str | None
    ) -> None:
        if content_hash:
            self.by_hash.setdefault(content_hash, cms_id)
        if signature is not None and cms_id not in self.signatures:
            self.index.insert(cms_id, signature)
            self.signatures[cms_id] = signature
        self.published[cms_id] = (published_at, duplicate_of)

    def original_of(self, item: Article, signature: MinHash | None) -> str | None:
        """The earliest-published earlier copy (following chains to their root), or None."""
        candidates = set()
        if signature is not None:
            candidates = {c for c in self.index.query(signature) if self.signatures[c].jaccard(signature) >= SIMILAR}
        if item.content_hash in self.by_hash:
            candidates.add(self.by_hash[item.content_hash])
        candidates.discard(item.article_id)
        roots = {self.published[c][1] or c for c in candidates} - {item.article_id}
        earlier = [r for r in roots if self.published[r][0] <= item.published_at]
        if roots and not earlier:
            self.crawler.stats.inc_value("gansunews/dedupe/later_original")
        return min(earlier, key=lambda r: (self.published[r][0], r)) if earlier else None
