"""`python -m gansunews reparse`: rebuild stored articles from their kept pages (`pages` collection) with today's
page objects and pipelines (cleaning, regions, validation, near-duplicate links), without any request to the site.

Articles are rebuilt oldest first, so a repost meets its original first. Each keeps its channels and `first_seen`;
a changed body keeps the old version in `revisions`, as a crawl does. An article whose pages were not kept, or that
no longer reads, is reported and left as it is: never dropped. Articles a crawl fetched and dropped for their reading
(no title, date or body, or a page not read at all: their failure records) are read again too, and stored once they
read, with the channels that listed them (`recovered`). The run gets a `crawls` record of kind `reparse`.
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
from gansunews.pipelines.validate import UNREADABLE, problem
from gansunews.reposts import RepostIndex
from gansunews.store import Store
from gansunews.urls import article_id, article_url_date

BATCH = 100  # rebuilt articles per write (the store updates them in smaller chunks)


@dataclass
class Summary:
    read: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: Counter = field(default_factory=Counter)
    """Reason → articles left as they were (`no_pages`, `unparsable`, `drop/no_body` …)."""
    failed_ids: dict[str, str] = field(default_factory=dict)
    recovered: list[str] = field(default_factory=list)
    """Articles a crawl dropped for their reading (no title, date or body), stored now that they read."""
    unread: int = 0
    """Such articles that still do not read (left out, as the crawl left them)."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "read": self.read,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "failed": dict(self.failed),
            "failed_ids": self.failed_ids,
            "recovered": self.recovered,
            "unread": self.unread,
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
    targets = [*store.db.articles.find(query, fields), *dropped_unread(store, since, ids)]
    targets.sort(key=lambda doc: (doc.get("published_at", ""), doc["_id"]))
    chosen = {doc["_id"] for doc in targets}
    index = RepostIndex(similar)
    for doc in store.fingerprints():  # the others, as stored; the rebuilt join as they are rebuilt
        if doc["_id"] not in chosen:
            body = Fingerprint.of(doc.get("content_hash", ""), decode_signature(doc.get("minhash")))
            index.add(doc["_id"], doc.get("published_at", ""), body, doc.get("duplicate_of"))
    summary, batch, recovered = Summary(), [], []
    for stored in targets:
        dropped = stored.get("dropped", False)
        pages = store.pages_of(stored["_id"])
        result = rebuild(pages, stored)
        summary.read += not dropped
        if isinstance(result, str):
            if dropped:  # still unreadable: left out, as the crawl left it
                summary.unread += 1
            else:
                summary.failed[result] += 1
                summary.failed_ids[stored["_id"]] = result
            continue
        body = fingerprint(result)
        result.duplicate_of, _ = index.original_of(result.article_id, result.published_at, body)
        index.add(result.article_id, result.published_at, body, result.duplicate_of)
        if dropped:
            fetched = pages[0]["fetched_at"]
            result.crawl = {"crawl_id": run_id, "spider": "reparse", "crawled_at": fetched, "first_seen": fetched}
            result.crawl.update(last_seen=fetched, status=pages[0]["status"], reparsed_at=started, reparse_id=run_id)
            recovered.append(article_document(result))
            summary.recovered.append(result.article_id)
            continue
        result.crawl = {**stored.get("crawl", {}), "reparsed_at": started, "reparse_id": run_id}
        batch.append(article_document(result))
        if len(batch) >= BATCH:
            _write(store, batch, started, summary)
    _write(store, batch, started, summary)
    if recovered:
        store.save_articles(recovered)
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


def dropped_unread(store: Store, since: str | None, ids: list[str] | None) -> list[dict[str, Any]]:
    """Articles a crawl fetched and dropped for their reading (their failure records: `drop/no_body`, `drop/unparsable`
    …), not stored since, as targets: their URL's day, the channels that listed them, `dropped`."""
    stored = store.stored_ids(None)
    targets: dict[str, dict[str, Any]] = {}
    for record in sorted(store.drop_records(UNREADABLE), key=lambda record: record["at"]):
        cms_id, day = article_id(record["url"]), article_url_date(record["url"])
        if cms_id is None or day is None or int(cms_id) in stored or (ids and cms_id not in ids):
            continue
        if since and day.isoformat() < since:
            continue
        channels = record.get("channels") or []
        targets[cms_id] = {"_id": cms_id, "published_at": day.isoformat(), "channels": channels, "dropped": True}
    return list(targets.values())


def _write(store: Store, batch: list[dict[str, Any]], at: str, summary: Summary) -> None:
    if batch:
        result = store.rebuild_articles(batch, at)
        summary.changed += result.revisions
        summary.unchanged += result.unchanged
        batch.clear()
