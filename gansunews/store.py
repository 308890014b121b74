"""MongoDB access for the archive: configuration, the collections and their writes, and the local spool.

Everything here is synchronous and runs on the crawl's one writer thread (`Store.run`), never on the reactor, in
the order it was asked. Collections (database `MONGO_DATABASE`): `articles` (`_id` = article_id, `revisions` kept
when the body changes), `pages` (the raw pages, for `reparse`), `crawls` (one document per run), `failures` (one per
failed URL and run), `channels` (discovered listings, their newest-seen watermark and walk progress),
`unwritten_channels` (listings of articles on their way to storage, in any process: merged when they are written).

Writes insert what is new with `insert_many` and update only what exists: FerretDB (and MongoDB) insert in bulk
far faster than they upsert one by one, and a re-crawl stores few known articles again.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import logging
import os
import re
import threading
import zlib
from base64 import b64decode, b64encode
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

import pymongo
from pymongo import ASCENDING, DESCENDING, MongoClient, UpdateOne
from pymongo.cursor import Cursor
from pymongo.errors import BulkWriteError, ConfigurationError, InvalidName, OperationFailure, PyMongoError
from scrapy import signals

from gansunews.config import SettingsError
from gansunews.idset import IdSet
from gansunews.redact import redact
from gansunews.updatelock import UpdateLock

logger = logging.getLogger(__name__)
T = TypeVar("T")

AWAY_WAIT_SECONDS = 0.5  # how long an operation waits for a server while it is away (`Store._call`): pymongo
# looks for one every half second at the most often, so less would not fail sooner

DUPLICATE_KEY = 11000
# Fields compared and kept as a revision when an article's body changes.
REVISION_FIELDS = (
    "title",
    "published_at",
    "source",
    "editor",
    "authors",
    "content_text",
    "content_html",
    "content_hash",
)
FINGERPRINT_FIELDS = ("minhash", "content_hash", "published_at", "duplicate_of")
STORED_FIELDS = {"channels": 1, "regions": 1, "crawl.first_seen": 1, **dict.fromkeys(REVISION_FIELDS, 1)}


UPDATE_CHUNK = 20  # article updates per bulk write (Store._update)
BATCH_PAGES = 50  # raw pages per write when no article batch takes them first (Store.keep_pages_soon)
_CRAWL_STORES: WeakKeyDictionary = WeakKeyDictionary()  # crawler → its one Store


@dataclass(frozen=True)
class MongoConfig:
    """`MONGO_URI`, `MONGO_DATABASE` and the `GANSUNEWS_MONGO_*` settings, read once."""

    uri: str
    database: str = "gansunews"
    batch_size: int = 200
    flush_seconds: float = 2.0
    timeout_ms: int = 5000
    spool_dir: Path = Path(".gansunews/spool")

    @classmethod
    def from_settings(cls, settings) -> MongoConfig | None:
        """None when storage is off: no `MONGO_URI`, or `GANSUNEWS_MONGO_ENABLED` false."""
        uri = settings.get("MONGO_URI")
        if not uri or not settings.getbool("GANSUNEWS_MONGO_ENABLED", True):
            return None
        return cls(
            uri=uri,
            database=settings.get("MONGO_DATABASE") or "gansunews",
            batch_size=settings.getint("GANSUNEWS_MONGO_BATCH_SIZE", 200),
            flush_seconds=settings.getfloat("GANSUNEWS_MONGO_FLUSH_SECONDS", 2.0),
            timeout_ms=settings.getint("GANSUNEWS_MONGO_TIMEOUT_MS", 5000),
            spool_dir=Path(settings.get("GANSUNEWS_SPOOL_DIR") or ".gansunews/spool"),
        )

    def check(self) -> None:
        """SettingsError for a URI pymongo cannot parse or a database name MongoDB would refuse (a space, a dot …):
        found at the first write instead, every batch of a crawl would fail. Connects nothing."""
        try:
            with MongoClient(self.uri, connect=False) as client:
                client[self.database]
        except InvalidName as error:
            raise SettingsError(f"MONGO_DATABASE={self.database!r}: {error}") from None
        except (ConfigurationError, ValueError) as error:  # InvalidURI is a ConfigurationError
            raise SettingsError(f"MONGO_URI: {redact(str(error))}") from None

    def articles_spool(self, count: Callable[[int], object] | None = None) -> Spool:
        """Where articles wait while the server cannot take them (MongoPipeline's spool)."""
        return Spool(self.spool_dir / f"{self.database}-articles.jsonl", count)

    def records_spool(self, count: Callable[[int], object] | None = None) -> Spool:
        """Where other writes wait: operations the crawl record replays at the next start (gansunews/extensions.py)."""
        return Spool(self.spool_dir / f"{self.database}-records.jsonl", count)

    def pages_spool(self, count: Callable[[int], object] | None = None) -> Spool:
        """Where raw pages wait while the server cannot take them (`Store.save_due_pages`)."""
        return Spool(self.spool_dir / f"{self.database}-pages.jsonl", count)


def check_mongo(settings) -> None:
    """`MongoConfig.check` for the crawl's settings (storage on)."""
    config = MongoConfig.from_settings(settings)
    if config is not None:
        config.check()


@dataclass
class SaveResult:
    inserted: int = 0
    updated: int = 0
    revisions: int = 0
    unchanged: int = 0


class Spool:
    """An append-only JSON-lines file of documents that could not be written; replayed when the server is back.

    Several processes may share one (two scrapyd jobs with the default spool directory): every append and every
    replay holds an exclusive lock on `<file>.lock`, so a replay never removes lines another process appended
    while it was writing them.

    A line is whole or absent: an append that fails (a full disk) is cut back off the file, and one cut short by a
    kill is ended before the next append, and set aside at the replay (`<file>.unreadable`, counted). Until
    2026-12-03 such a line made the next append's first document unreadable too, and the replay failed on it, at
    every start: one stuck spool stopped every crawl."""

    def __init__(self, path: Path, count: Callable[[int], object] | None = None) -> None:
        self.path = path
        self.lock = threading.Lock()  # threads of this process; the file lock orders processes
        self.count = count  # told how many unreadable lines a replay set aside

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with self.lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.with_name(self.path.name + ".lock").open("a") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)

    def append(self, docs: list[dict[str, Any]]) -> None:
        data = "".join(json.dumps(doc, ensure_ascii=False) + "\n" for doc in docs).encode()
        with self._locked():
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                size = os.fstat(fd).st_size
                if size and os.pread(fd, 1, size - 1) != b"\n":  # a line cut short by a kill: ended first
                    data = b"\n" + data
                try:
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                    os.fsync(fd)
                except OSError:
                    os.ftruncate(fd, size)  # no part of these documents stays to spoil the next line
                    raise
            finally:
                os.close(fd)

    def pending(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0

    def take(self, write: Callable[[list[dict[str, Any]]], object]) -> int:
        """Write every spooled document with `write`; the file is removed only after the write succeeded."""
        if not self.pending():  # nothing to replay: no lock taken (nor its directory made) at every flush
            return 0
        with self._locked():
            if not self.pending():
                return 0
            docs, unreadable = [], []
            for line in self.path.read_bytes().splitlines():
                try:
                    docs.append(json.loads(line))
                except ValueError:  # bad JSON or UTF-8 cut in the middle of a character
                    if line.strip():
                        unreadable.append(line)
            write(docs)
            if unreadable:
                self._set_aside(unreadable)
            self.path.unlink()
            return len(docs)

    def _set_aside(self, lines: list[bytes]) -> None:
        """Lines no replay can read, kept for a person to look at: documents whose write was never confirmed (the
        process was killed while spooling them), so their crawl did not count them stored."""
        if self.count is not None:
            self.count(len(lines))
        aside = self.path.with_name(self.path.name + ".unreadable")
        try:
            with aside.open("ab") as kept:
                kept.writelines(line + b"\n" for line in lines)
        except OSError as error:  # a full disk: they are dropped, and the replay goes on
            logger.error("%d unreadable lines of %s dropped (not set aside: %s)", len(lines), self.path, error)
            return
        logger.error("%d unreadable lines of %s set aside in %s", len(lines), self.path, aside)


class DueWrites:
    """Writes handed to a store's writer thread and coalesced: what comes, by key, while the write waits for the
    thread joins it, and is written once with its latest value (`write` gets them all, on the writer thread)."""

    def __init__(self, store: Store, write: Callable[[dict[str, Any]], object]) -> None:
        self.store, self.write = store, write
        self.due: dict[str, Any] = {}
        self.lock = threading.Lock()  # filled on the event loop, taken on the writer thread

    def add(self, key: str, value: Any) -> None:
        with self.lock:
            first = not self.due
            self.due[key] = value
        if first:
            self.store.run_soon(self.flush)

    def flush(self) -> None:
        with self.lock:
            due, self.due = self.due, {}
        if due:
            self.write(due)


class Store:
    """The collections, with one writer thread; `await store.run(fn, …)` calls `fn` there. A crawl has one
    (`Store.of(crawler, config)`): one client and one writer thread for the pipeline, the crawl record and the
    state reads, closed when the engine stops, after every component's last write."""

    @classmethod
    def of(cls, crawler, config: MongoConfig) -> Store:
        store = _CRAWL_STORES.get(crawler)
        if store is None:
            store = _CRAWL_STORES[crawler] = cls(config)
            store.count = lambda key, value: value and crawler.stats.inc_value(f"gansunews/{key}", value)
            crawler.signals.connect(store.close, signal=signals.engine_stopped)
        return store

    def __init__(self, config: MongoConfig) -> None:
        self.config = config
        self.client: MongoClient = MongoClient(
            config.uri,
            serverSelectionTimeoutMS=config.timeout_ms,
            connectTimeoutMS=config.timeout_ms,
            socketTimeoutMS=max(config.timeout_ms * 6, 30000),
            retryWrites=False,  # FerretDB has no sessions for retryable writes; we retry through the spool
        )
        self.db = self.client[config.database]
        # Updates read and write whole documents on FerretDB: one process at a time (gansunews/updatelock.py)
        self.update_lock = UpdateLock(self.db.locks)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gansunews-mongo")
        self.answered = False  # a server answered once: when none is known now, it is away (`_call`)
        self.in_flight: set[asyncio.Future] = set()  # writes not waited for (`run_soon`)
        # What arrived for articles not written yet (still in a pipeline's batch), applied when they are written:
        self.repointed: dict[str, str] = {}  # copy → the original found after it
        self.walks_due = DueWrites(self, self._save_walks)  # saved, not written yet
        self.pages_due: list[dict[str, Any]] = []  # handed over, written before the next articles (`keep_pages_soon`)
        self.pages_lock = threading.Lock()
        self.pages_spool = config.pages_spool(lambda lines: self.count("mongo/spool_set_aside", lines))
        # a crawl's stats (`Store.of`), counted on the writer thread: pages/kept, bytes, spooled, replayed, lost
        self.count: Callable[[str, int], None] = lambda key, value: None

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.executor, self._call, function, args)

    def _call(self, function: Callable[..., T], args: tuple[Any, ...]) -> T:
        """On the writer thread. While the server is away (it answered before, and pymongo's monitor knows no
        server now), an operation waits `AWAY_WAIT_SECONDS` for one, not the whole server-selection timeout: the
        writes queued on this thread during an outage each waited that out in turn (5 s by default), so the crawl
        slowed to the writer's pace and its close took a minute or more. A wait asks the monitor to look again, so
        the first operation after the server is back finds it."""
        if self.client.topology_description.has_writable_server():
            self.answered = True
        elif self.answered:
            with pymongo.timeout(AWAY_WAIT_SECONDS):
                return function(*args)
        return function(*args)

    def run_soon(self, function: Callable[..., object], *args: Any, level: int = logging.WARNING) -> None:
        """`function` on the writer thread, in order with every other write, not waited for (kept referenced until
        it ends). A server error is logged at `level`: it costs a stale figure or a re-read after a stop; any other
        error is a bug, logged with its traceback."""

        def finished(future: asyncio.Future) -> None:
            self.in_flight.discard(future)
            if future.cancelled() or (error := future.exception()) is None:
                return
            if isinstance(error, PyMongoError):
                logger.log(level, "%s not written: %s", function.__name__, error)
            else:
                logger.error("%s failed", function.__name__, exc_info=error)

        future = asyncio.ensure_future(self.run(function, *args))
        self.in_flight.add(future)
        future.add_done_callback(finished)

    def close(self) -> None:
        self.executor.shutdown(wait=True)
        self.client.close()

    # ------------------------------------------------------------------------------------ set-up

    def ping(self) -> None:
        self.client.admin.command("ping")

    def ensure_indexes(self) -> None:
        self.db.articles.create_index([("published_at", ASCENDING)])
        self.db.articles.create_index([("regions.code", ASCENDING)])
        self.db.articles.create_index([("channels.url", ASCENDING)])
        self.db.articles.create_index([("content_hash", ASCENDING)])
        self.db.articles.create_index([("crawl.last_seen", ASCENDING)])
        self.db.crawls.create_index([("spider", ASCENDING), ("started_at", ASCENDING)])
        self.db.failures.create_index([("crawl_id", ASCENDING), ("url", ASCENDING)], unique=True)
        self.db.channels.create_index([("region_code", ASCENDING)])
        self.db.pages.create_index([("article_id", ASCENDING)])

    # ---------------------------------------------------------------------------------- articles

    def save_articles(self, docs: list[dict[str, Any]]) -> SaveResult:
        """Insert new articles; for stored ones keep `first_seen`, merge channels and regions, and keep the
        previous version as a revision when `content_hash` changed. Idempotent: replaying a batch is harmless.

        Inserting first and updating only what the server reports as duplicate keeps the common case (new
        articles) at `insert_many` speed; a `$in` look-up first would scan the collection on FerretDB."""
        self.save_due_pages()  # an article is never in MongoDB before its pages
        docs = list({doc["_id"]: doc for doc in docs}.values())
        for doc in docs:
            if doc["_id"] in self.repointed:
                doc["duplicate_of"] = self.repointed.pop(doc["_id"])
        existing = self._insert_new(self.db.articles, docs)
        result = SaveResult(inserted=len(docs) - len(existing))
        ids = [doc["_id"] for doc in docs]
        if not existing and not self.db.unwritten_channels.find_one({"_id": {"$in": ids}}, {"_id": 1}):
            return result  # all new, nothing merged: no update (a merge that comes now finds them stored)
        with self.update_lock.held():  # each update is computed from the document as stored now
            updates = []
            for doc in existing:
                stored = self.db.articles.find_one({"_id": doc["_id"]}, STORED_FIELDS) or {}
                updates += self._update_for(doc, stored, result)
            self._update(updates)
            self._merge_unwritten_channels(ids)
        return result

    def stored_among(self, ids: list[str]) -> list[str]:
        """The ids whose articles are stored (one look-up each: FerretDB scans the collection for an `$in`)."""
        return [cms_id for cms_id in ids if self.db.articles.find_one({"_id": cms_id}, {"_id": 1})]

    def _merge_unwritten_channels(self, ids: list[str]) -> None:
        """Channels that listed these articles while they were on their way here (`add_channels`), now merged."""
        waiting = list(self.db.unwritten_channels.find({"_id": {"$in": ids}}))  # a small collection
        if waiting:
            self._update([channels_added(doc["_id"], doc["channels"]) for doc in waiting])
            self.db.unwritten_channels.delete_many({"_id": {"$in": [doc["_id"] for doc in waiting]}})

    def _update(self, updates: list[UpdateOne]) -> None:
        """Updates in chunks: FerretDB takes seconds per bulk update of large documents, and a batch of 130 ran
        past the 30 s socket timeout (a full re-read of the replica); real MongoDB does not care."""
        for start in range(0, len(updates), UPDATE_CHUNK):
            self.db.articles.bulk_write(updates[start : start + UPDATE_CHUNK], ordered=False)

    @staticmethod
    def _insert_new(collection, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """insert_many the documents; returns those that exist already (duplicate `_id`)."""
        if not docs:
            return []
        try:
            collection.insert_many(docs, ordered=False)
        except BulkWriteError as error:
            duplicates = {e["index"] for e in error.details["writeErrors"] if e.get("code") == DUPLICATE_KEY}
            if len(duplicates) != len(error.details["writeErrors"]):
                raise
            return [docs[index] for index in sorted(duplicates)]
        return []

    def rebuild_articles(self, docs: list[dict[str, Any]], at: str) -> SaveResult:
        """Replace stored articles with rebuilt ones (`reparse`): every field is today's reading (regions too, not
        merged with the old); channels stay. When any field a reader sees changed, the old version is kept in
        `revisions`."""
        result = SaveResult()
        with self.update_lock.held():  # `reparse` may run beside a crawl
            updates = []
            for doc in docs:
                stored = self.db.articles.find_one({"_id": doc["_id"]}, STORED_FIELDS) or {}
                update: dict[str, Any] = {"$set": {k: v for k, v in doc.items() if k not in ("_id", "channels")}}
                if any(stored.get(key) != doc.get(key) for key in REVISION_FIELDS):
                    update["$push"] = {"revisions": revision(stored, at)}
                    result.revisions += 1
                else:
                    result.unchanged += 1
                updates.append(UpdateOne({"_id": doc["_id"]}, update))
            self._update(updates)
        return result

    @staticmethod
    def _update_for(doc: dict[str, Any], stored: dict[str, Any], result: SaveResult) -> list[UpdateOne]:
        """The stored article's update, its new channels added (`channels_added`: another process may be adding
        others at the same moment)."""
        fields = {key: value for key, value in doc.items() if key not in ("_id", "crawl", "channels", "regions")}
        fields["regions"] = merge_unique(stored.get("regions", []), doc.get("regions", []), key="code")
        crawl = dict(doc.get("crawl", {}))
        crawl["first_seen"] = stored.get("crawl", {}).get("first_seen") or crawl.get("first_seen")
        fields["crawl"] = crawl
        update: dict[str, Any] = {"$set": fields}
        if stored.get("content_hash") and stored.get("content_hash") != doc.get("content_hash"):
            update["$push"] = {"revisions": revision(stored, crawl.get("crawled_at"))}
            result.revisions += 1
            result.updated += 1
        else:
            result.unchanged += 1
        new = new_channels(doc.get("channels", []), stored)
        if new:
            update["$addToSet"] = {"channels": {"$each": new}}
        return [UpdateOne({"_id": doc["_id"]}, update)]

    def repoint(self, copies: list[str], original: str) -> int:
        """Copies point at an original found after them: those stored now, and those written later (still in a
        pipeline's batch when the original was read: a streaming crawl reads articles in any order, and a full
        re-read writes stored copies again), remembered until written. One update per id: FerretDB answers `_id`
        equality from its key, and scanned the whole collection for an `$in` (at 300k articles, past the 30 s
        timeout)."""
        self.repointed.update(dict.fromkeys(copies, original))
        update = {"$set": {"duplicate_of": original}}
        with self.update_lock.held():
            return sum(self.db.articles.update_one({"_id": copy}, update).modified_count for copy in copies)

    # ------------------------------------------------------------------------------------- pages

    def keep_pages_soon(self, pages: list[dict[str, Any]]) -> None:
        """Pages to keep (`save_pages`), written with the next batch of articles, before it, or by 50 when articles
        wait. Written in their own batches, a crawl killed with pages not written yet had stored their articles
        (until 2026-12-03: up to 49, whose pages were never kept, since a stored article is not fetched again)."""
        with self.pages_lock:
            self.pages_due += pages
            full = len(self.pages_due) >= BATCH_PAGES
        if full:
            self.run_soon(self.save_due_pages)

    def save_due_pages(self) -> None:
        """On the writer thread: the pages spooled earlier, then the due ones. A batch that cannot be written is
        spooled (base64 bodies) and written before the next batch, at the close or at the next start. Until
        2026-12-03 it was dropped: its articles, spooled and replayed, were stored without their pages, and being
        stored they are not fetched again, so `reparse` could never read them."""
        with self.pages_lock:
            batch, self.pages_due = self.pages_due, []
        try:
            self.count("pages/replayed", self.pages_spool.take(self._keep_spooled_pages))
            if batch:
                self._keep_pages(batch)
        except PyMongoError as error:
            if not batch:
                return
            try:
                self.pages_spool.append([{**page, "body": b64encode(page["body"]).decode()} for page in batch])
            except OSError as failure:
                self.count("pages/lost", len(batch))
                logger.error("%d raw pages neither kept (%s) nor spooled (%s)", len(batch), error, failure)
                return
            self.count("pages/spooled", len(batch))
            logger.warning("%d raw pages not kept (%s): spooled to %s", len(batch), error, self.pages_spool.path)

    def _keep_spooled_pages(self, pages: list[dict[str, Any]]) -> None:
        for start in range(0, len(pages), BATCH_PAGES):
            batch = pages[start : start + BATCH_PAGES]
            self._keep_pages([{**page, "body": b64decode(page["body"])} for page in batch])

    def _keep_pages(self, pages: list[dict[str, Any]]) -> None:
        self.count("pages/bytes", self.save_pages(pages))
        self.count("pages/kept", len(pages))

    def save_pages(self, docs: list[dict[str, Any]]) -> int:
        """Keep fetched pages (one per URL: a later fetch replaces an earlier one), their bodies zlib-compressed
        here, on the writer thread: zlib lets go of the GIL, so the crawl's event loop goes on meanwhile. Inserted in
        bulk, replaced only when the server reports the URL kept already: FerretDB took 1.2 s per bulk upsert of 50
        pages, which made every crawl wait for its page writes. Returns the compressed bytes written."""
        docs = [{**doc, "body": zlib.compress(doc["body"], 6)} for doc in docs]
        for doc in self._insert_new(self.db.pages, docs):
            self.db.pages.replace_one({"_id": doc["_id"]}, doc)
        return sum(len(doc["body"]) for doc in docs)

    def drop_records(self, reasons: Iterable[str]) -> list[dict[str, Any]]:
        """The failure records of articles dropped for these reasons (`drop/<reason>`): url, channels, at."""
        query = {"reason": {"$in": [f"drop/{reason}" for reason in reasons]}}
        return list(self.db.failures.find(query, {"_id": 0, "url": 1, "channels": 1, "at": 1}))

    def pages_of(self, article_id: str) -> list[dict[str, Any]]:
        """An article's kept pages, first page first."""
        return sorted(self.db.pages.find({"article_id": article_id}), key=lambda page: page["part"])

    def stored_ids(self, since: date | None) -> IdSet:
        """Ids of stored articles published on or after `since` (all when None), in one pass."""
        query = {"published_at": {"$gte": since.isoformat()}} if since else {}
        return IdSet(int(doc["_id"]) for doc in self.db.articles.find(query, {"_id": 1}))

    def add_channels(self, channels_by_id: dict[str, list[dict[str, Any]]]) -> int:
        """Merge newly seen listings into stored articles (not fetched again), or, for articles on their way to
        storage in this process or another, into `unwritten_channels`, merged when they are written. That one is
        written first and the article tried again after: whichever side comes second merges the channels."""
        with self.update_lock.held():
            return self._add_channels(channels_by_id)

    def _add_channels(self, channels_by_id: dict[str, list[dict[str, Any]]]) -> int:
        stored = {cms_id: self.db.articles.find_one({"_id": cms_id}, {"channels.url": 1}) for cms_id in channels_by_id}
        unwritten = [
            channels_added(cms_id, channels, upsert=True)
            for cms_id, channels in channels_by_id.items()
            if stored[cms_id] is None
        ]
        if unwritten:
            self.db.unwritten_channels.bulk_write(unwritten, ordered=False)
        # all of them: an article written since it was looked up gets them here (else from `unwritten_channels`)
        additions = [
            channels_added(cms_id, new)
            for cms_id, channels in channels_by_id.items()
            if (new := new_channels(channels, stored[cms_id] or {}))
        ]
        return self.db.articles.bulk_write(additions, ordered=False).modified_count if additions else 0

    def published_span(self) -> tuple[str, str] | None:
        """The publish times (ISO strings) of the first and last dated stored article; None when there is none."""
        dated = {"published_at": {"$gt": ""}}
        first = self.db.articles.find_one(dated, {"published_at": 1}, sort=[("published_at", ASCENDING)])
        last = self.db.articles.find_one(dated, {"published_at": 1}, sort=[("published_at", DESCENDING)])
        return (first["published_at"], last["published_at"]) if first and last else None

    def fingerprints(self, start: str | None = None, end: str | None = None) -> Cursor:
        """Stored articles' fingerprints, for near-duplicate detection across runs: all, or those published in
        [start, end) (ISO strings, China time as stored). A cursor: read it here, on the store's thread."""
        query = {"published_at": {"$gte": start, "$lt": end}} if start and end else {}
        return self._fingerprints_of(query)

    def written_since(self, since: str) -> Cursor:
        """Fingerprints (and ids) of the articles written since `since` (`crawl.last_seen`, ISO, China time as
        stored), in no order: sorted, FerretDB reads the whole collection before the first batch (9 s at 100,000
        articles, past the socket timeout at a few hundred thousand); unsorted, batches come as it scans. A
        cursor: read it here, on the store's thread."""
        return self._fingerprints_of({"crawl.last_seen": {"$gte": since}})

    def written_by(self, crawl_ids: list[str], since: str) -> Cursor:
        """Fingerprints (and ids) of the articles these crawls wrote since `since` (China time as stored)."""
        return self._fingerprints_of({"crawl.crawl_id": {"$in": crawl_ids}, "crawl.last_seen": {"$gte": since}})

    def crawls_beside(self, crawl_id: str, since: str) -> list[str]:
        """The other crawls that ran while this one did, since `since` (UTC, as `crawls` records it): finished
        since, or unfinished and started or reporting progress since. A crawl killed long ago is never finished,
        and is not one of them."""
        running = {"finished_at": None, "$or": [{"started_at": {"$gte": since}}, {"progress.at": {"$gte": since}}]}
        query = {"_id": {"$ne": crawl_id}, "$or": [{"finished_at": {"$gte": since}}, running]}
        return [doc["_id"] for doc in self.db.crawls.find(query, {"_id": 1})]

    def _fingerprints_of(self, query: dict[str, Any]) -> Cursor:
        return self.db.articles.find(query, dict.fromkeys(FINGERPRINT_FIELDS, 1), batch_size=2000)

    # ------------------------------------------------------------------------- crawls, failures

    def start_crawl(self, doc: dict[str, Any]) -> None:
        self.db.crawls.replace_one({"_id": doc["_id"]}, doc, upsert=True)

    def finish_crawl(self, crawl_id: str, fields: dict[str, Any]) -> None:
        self.db.crawls.update_one({"_id": crawl_id}, {"$set": fields}, upsert=True)

    def save_progress(self, crawl_id: str, progress: dict[str, Any]) -> None:
        self.db.crawls.update_one({"_id": crawl_id}, {"$set": {"progress": progress}})

    def previous_crawl(self, spider: str, before: str) -> dict[str, Any] | None:
        """The last crawl that finished (the verdict's baseline): a stopped one, or a process refused by a
        distributed crawl, read less than the site holds, and would hide a fall."""
        found = self.db.crawls.find({"spider": spider, "started_at": {"$lt": before}, "finish_reason": "finished"})
        return max(found, key=lambda doc: doc["started_at"], default=None)

    def retryable_failures(self, days: int, reasons: tuple[str, ...]) -> list[dict[str, Any]]:
        """The records of the last `days` days whose reason begins with one of `reasons`, and of archive pages (url,
        reason, at, crawl; an article's channels and listing title, a continuation's article, an archive page's
        channel and page)."""
        after = (datetime.now(UTC) - timedelta(days=days)).isoformat()  # `at` is utc_now()'s ISO text: it sorts
        begins = "^(" + "|".join(re.escape(reason) for reason in reasons) + ")"
        retryable = [{"reason": {"$regex": begins}}, {"page": {"$exists": True}}]
        fields = ("url", "reason", "at", "crawl_id", "channels", "title", "channel", "page", "article")
        return list(self.db.failures.find({"$or": retryable, "at": {"$gte": after}}, dict.fromkeys(fields, 1)))

    def last_written_by(self, ids: list[str]) -> dict[str, str]:
        """The crawl that wrote each stored article last (one look-up each: FerretDB scans for an `$in`)."""
        docs = (self.db.articles.find_one({"_id": cms_id}, {"crawl.crawl_id": 1}) for cms_id in ids)
        return {doc["_id"]: doc.get("crawl", {}).get("crawl_id") for doc in docs if doc}

    def save_failures(self, docs: list[dict[str, Any]]) -> None:
        updates = [UpdateOne({"_id": doc["_id"]}, {"$set": doc}, upsert=True) for doc in docs]
        if updates:
            self.db.failures.bulk_write(updates, ordered=False)

    # ---------------------------------------------------------------------------------- channels

    def save_channels(self, docs: list[dict[str, Any]]) -> None:
        """Upsert discovered channels; the watermark only moves forward."""
        with self.update_lock.held():  # processes closing at once: each reads the watermark, then writes
            stored = {doc["_id"]: doc for doc in self.db.channels.find({"_id": {"$in": [d["_id"] for d in docs]}})}
            for doc in docs:
                doc["newest_seen"] = later_watermark(
                    stored.get(doc["_id"], {}).get("newest_seen"), doc.get("newest_seen")
                )
                self.db.channels.update_one({"_id": doc["_id"]}, {"$set": doc}, upsert=True)

    def save_walk_soon(
        self, key: str, channel: dict[str, Any], walk: dict[str, Any], staged_by: str | None = None
    ) -> None:
        """A channel's walk progress (`resume_at`: the next archive page a stopped crawl reads; `complete`), written
        when the writer thread gets to it (`run_soon`). A walk saved again before then is written once, with its
        latest progress: a crawl saves at almost every listing page, and one write per save queued in front of the
        articles' batches (≈ 1,800 on the benchmark replica; FerretDB used 10-11 CPU s instead of 13, bench.crawl).
        The watermark is not written here: it moves only when a crawl finishes cleanly (`save_channels`).

        `staged_by` (a distributed crawl's mark): the walk is staged beside the one earlier crawls left, with the
        watermark it reached, until its crawl has finished (`promote_walks`)."""
        self.walks_due.add(key, (channel, walk, staged_by))

    def _save_walks(self, due: dict[str, tuple[dict[str, Any], dict[str, Any], str | None]]) -> None:
        updates = []
        for key, (channel, walk, staged_by) in due.items():
            fields = {k: v for k, v in channel.items() if k not in ("_id", "newest_seen")}
            if staged_by:
                fields["staged"] = {"crawl": staged_by, "walk": walk, "newest_seen": channel.get("newest_seen")}
            else:
                fields["walk"] = walk
            updates.append(UpdateOne({"_id": key}, {"$set": fields}, upsert=True))
        with self.update_lock.held():
            self.db.channels.bulk_write(updates)

    def promote_walks(self, staged_by: str) -> int:
        """The walks a distributed crawl staged become the channels' walks, with their watermarks (which only move
        forward), once it has finished: every article its walks listed is settled then, by whichever process took
        it. A crawl stopped before its end promotes nothing (a resumed one does, when it finishes): its walks'
        coverage would claim articles still in its queue. Idempotent: each process that finishes calls it."""
        promoted = 0
        with self.update_lock.held():
            for doc in self.db.channels.find({"staged.crawl": staged_by}, {"staged": 1, "newest_seen": 1}):
                staged = doc["staged"]
                newest = later_watermark(doc.get("newest_seen"), staged.get("newest_seen"))
                update = {"$set": {"walk": staged["walk"], "newest_seen": newest}, "$unset": {"staged": ""}}
                promoted += self.db.channels.update_one(
                    {"_id": doc["_id"], "staged.crawl": staged_by}, update
                ).modified_count
        return promoted

    def channel_states(self) -> dict[str, dict[str, Any]]:
        """Every stored channel's watermark (`newest_seen`), walk progress (`walk`), name and when a crawl that
        finished last found it (`found_at`), by key."""
        fields = {"newest_seen": 1, "walk": 1, "name": 1, "found_at": 1}
        return {doc["_id"]: doc for doc in self.db.channels.find({}, fields)}


def later_watermark(stored: str | None, new: str | None) -> str | None:
    """A channel's watermark only moves forward (ISO days: they sort)."""
    return max(filter(None, (stored, new)), default=None)


def revision(stored: dict[str, Any], replaced_at: str | None) -> dict[str, Any]:
    """The stored version of an article's readable fields, kept when they are replaced."""
    return {**{key: stored.get(key) for key in REVISION_FIELDS}, "replaced_at": replaced_at}


def new_channels(channels: list[dict[str, Any]], stored: dict[str, Any]) -> list[dict[str, Any]]:
    """The channels whose URL the stored article does not list yet."""
    known = {channel.get("url") for channel in stored.get("channels", [])}
    return [channel for channel in channels if channel["url"] not in known]


def channels_added(cms_id: str, channels: list[dict[str, Any]], upsert: bool = False) -> UpdateOne:
    """The channels added to the article in one atomic `$addToSet`, so processes adding channels to the same article
    at once lose none (a read, a merge and a write would), and add the same channel (an equal document) once. The
    filter is the `_id` alone: FerretDB answers that from its key, and scanned the collection for any more (2.5 s
    an update at 50,000 articles)."""
    return UpdateOne({"_id": cms_id}, {"$addToSet": {"channels": {"$each": channels}}}, upsert=upsert)


def merge_unique(old: list[dict[str, Any]], new: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    """Old entries first, then new ones whose `key` is not there yet."""
    merged = {entry.get(key): entry for entry in old}
    for entry in new:
        merged.setdefault(entry.get(key), entry)
    return list(merged.values())


def utc_now() -> str:
    return datetime.now(UTC).isoformat()


__all__ = ["MongoConfig", "OperationFailure", "PyMongoError", "SaveResult", "Spool", "Store", "merge_unique", "utc_now"]
