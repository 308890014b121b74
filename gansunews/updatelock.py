"""One process at a time updates stored documents, on a server whose updates are not atomic.

FerretDB v1 (SQLite) applies an update by reading the document, changing it in its own memory and writing it back,
with no transaction around the three (its issue #3040; `updateDocument` in its handler). Two processes updating
one article at the same moment lose one's change: two connections each adding 200 channels to one document with
`$addToSet` kept 105 of the 400 (tests/test_updatelock.py shows it). Within a crawl the store's one writer
thread puts its writes in order; across processes (a distributed crawl, two scrapyd jobs, `reparse` beside a crawl)
this lock does.

The lock is one document in `locks`: taken by inserting it (`_id` is unique, and an insert is atomic), given back
by deleting it. One left behind by a process that died while it held it (for the milliseconds an update takes)
expires after `EXPIRES` seconds, and the next taker removes it. On MongoDB itself updates are atomic and the lock
is not used (`buildInfo` says which server it is).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterator

from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

LOCK_ID = "updates"
EXPIRES = 30.0  # seconds: far longer than an update batch takes (FerretDB's slowest seen: a few seconds)
PAUSE = 0.005  # seconds between attempts while another process holds it


class UpdateLock:
    def __init__(self, locks: Collection) -> None:
        self.locks = locks
        self.holder = uuid.uuid4().hex
        self.needed: bool | None = None  # known at the first use: is the server FerretDB?
        self.waits = 0  # attempts that found the lock held (for the crawl's stats)
        self.stale = 0  # locks of dead holders removed

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """The block runs while no other process updates (on FerretDB; on MongoDB it just runs)."""
        if self.needed is None:
            self.needed = "ferretdbVersion" in self.locks.database.client.admin.command("buildInfo")
        if not self.needed:
            yield
            return
        self._take()
        try:
            yield
        finally:
            self.locks.delete_one({"_id": LOCK_ID, "holder": self.holder})

    def _take(self) -> None:
        while True:
            try:
                self.locks.insert_one({"_id": LOCK_ID, "holder": self.holder, "expires": time.time() + EXPIRES})
                return
            except DuplicateKeyError:
                self.waits += 1
            lock = self.locks.find_one({"_id": LOCK_ID})
            if lock is not None and lock.get("holder") == self.holder:
                # ours: the server went away before it was given back (the block's writes failed). Until 2026-12-03
                # this process waited for it to expire, and every write of the crawl with it
                self.locks.update_one({"_id": LOCK_ID}, {"$set": {"expires": time.time() + EXPIRES}})
                return
            if lock is not None and lock.get("expires", 0) < time.time():  # its holder died holding it
                self.locks.delete_one({"_id": LOCK_ID, "holder": lock.get("holder")})
                self.stale += 1
            else:
                time.sleep(PAUSE)
