"""`python -m gansunews reparse`: rebuild stored articles from their kept pages (`pages` collection) with today's
page objects and pipelines (cleaning, regions, validation, near-duplicate links), without any request to the site.

Articles are rebuilt oldest first, so a repost meets its original first. Each keeps its channels and `first_seen`;
a changed body keeps the old version in `revisions`, as a crawl does. An article whose pages were not kept, or that
no longer reads, is reported and left as it is: never dropped. The run gets a `crawls` record of kind `reparse`.
"""

from __future__ import annotations

import uuid
import zlib
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gansunews.fingerprints import Fingerprint, decode_signature
from gansunews.items import Article
from gansunews.pages import PageError
from gansunews.pages.article import ArticlePage
from gansunews.pipelines.clean import clean_article
from gansunews.pipelines.dedupe import fingerprint
from gansunews.pipelines.mongo import article_document
from gansunews.pipelines.regions import article_regions
from gansunews.pipelines.validate import problem
from gansunews.reposts import RepostIndex
from gansunews.store import Store

BATCH = 100  # rebuilt articles per write (the store updates them in smaller chunks)


@dataclass
class Summary:
    read: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: Counter = field(default_factory=Counter)
    """Reason → articles left as they were (`no_pages`, `unparsable`, `drop/no_body` …)."""
    failed_ids: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "failed": dict(self.failed),
            "failed_ids": self.failed_ids,
        }


def rebuild(pages: list[dict[str, Any]], stored: dict[str, Any]) -> Article | str:
    """The article from its kept pages, or the reason it cannot be rebuilt."""
    if not pages or pages[0]["part"] != 1:
        return "no_pages"
    try:
        first, *rest = (_page(page) for page in pages)
        raw = first.article()
        for continuation in rest:
            raw.join(continuation.continuation())
    except PageError:
        return "unparsable"
    raw.channels = stored.get("channels", [])
    raw.status = pages[0]["status"]
    article = clean_article(raw)
    article.regions = article_regions(article)
    reason = problem(article, None)
    return f"drop/{reason}" if reason else article


def _page(page: dict[str, Any]) -> ArticlePage:
    return ArticlePage.from_bytes(page["_id"], zlib.decompress(page["body"]), {"content-type": page["content_type"]})


def run(store: Store, since: str | None = None, ids: list[str] | None = None, similar: float = 0.7) -> Summary:
    """Rebuild the selected articles (all, those published since a day, or those ids) in `store`."""
    started = datetime.now(UTC).isoformat()
    run_id = f"reparse-{started[:19].replace(':', '').replace('-', '')}-{uuid.uuid4().hex[:6]}"
    query: dict[str, Any] = {}
    if ids:
        query["_id"] = {"$in": ids}
    if since:
        query["published_at"] = {"$gte": since}
    fields = {"published_at": 1, "channels": 1, "crawl": 1}
    targets = sorted(store.db.articles.find(query, fields), key=lambda doc: (doc.get("published_at", ""), doc["_id"]))
    chosen = {doc["_id"] for doc in targets}
    index = RepostIndex(similar)
    for doc in store.fingerprints():  # the others, as stored; the rebuilt join as they are rebuilt
        if doc["_id"] not in chosen:
            body = Fingerprint.of(doc.get("content_hash", ""), decode_signature(doc.get("minhash")))
            index.add(doc["_id"], doc.get("published_at", ""), body, doc.get("duplicate_of"))
    summary, batch = Summary(), []
    for stored in targets:
        summary.read += 1
        result = rebuild(store.pages_of(stored["_id"]), stored)
        if isinstance(result, str):
            summary.failed[result] += 1
            summary.failed_ids[stored["_id"]] = result
            continue
        body = fingerprint(result)
        result.duplicate_of, _ = index.original_of(result.article_id, result.published_at, body)
        index.add(result.article_id, result.published_at, body, result.duplicate_of)
        result.crawl = {**stored.get("crawl", {}), "reparsed_at": started, "reparse_id": run_id}
        batch.append(article_document(result))
        if len(batch) >= BATCH:
            _write(store, batch, started, summary)
    _write(store, batch, started, summary)
    record = {
        "_id": run_id,
        "spider": "reparse",
        "kind": "reparse",
        "args": {"since": since, "ids": ids or []},
        "started_at": started,
        "finished_at": datetime.now(UTC).isoformat(),
        "summary": summary.as_dict(),
    }
    store.db.crawls.insert_one(record)
    return summary


def _write(store: Store, batch: list[dict[str, Any]], at: str, summary: Summary) -> None:
    if batch:
        result = store.rebuild_articles(batch, at)
        summary.changed += result.revisions
        summary.unchanged += result.unchanged
        batch.clear()
