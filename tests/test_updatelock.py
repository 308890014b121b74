"""Two processes updating one stored article at the same moment (a distributed crawl, two scrapyd jobs) keep both
changes: FerretDB v1 does not apply updates atomically, so the store takes `UpdateLock` around them. Each
"process" here is a thread with its own client, that is, its own connections to the server, as processes have."""

from __future__ import annotations

import threading
import time

from pymongo import MongoClient

from gansunews.store import MongoConfig, Store
from gansunews.updatelock import LOCK_ID, UpdateLock

UPDATES = 150  # per process


def side_by_side(*work) -> None:
    threads = [threading.Thread(target=job) for job in work]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def adding(collection, prefix: str, lock: UpdateLock | None = None):
    def add() -> None:
        for number in range(UPDATES):
            if lock is None:
                collection.update_one({"_id": "a"}, {"$addToSet": {"channels": f"{prefix}{number}"}})
            else:
                with lock.held():
                    collection.update_one({"_id": "a"}, {"$addToSet": {"channels": f"{prefix}{number}"}})

    return add


def test_without_the_lock_ferretdb_loses_updates_and_with_it_none(mongo_uri, mongo_db, mongo_server):
    clients = [MongoClient(mongo_uri) for _ in range(2)]
    try:
        first, second = (client[mongo_db.name].articles for client in clients)
        if mongo_server is not None:  # FerretDB: the reason for the lock, shown (MongoDB's updates are atomic)
            first.insert_one({"_id": "a", "channels": []})
            side_by_side(adding(first, "x"), adding(second, "y"))
            assert len(first.find_one({"_id": "a"})["channels"]) < 2 * UPDATES
            first.delete_one({"_id": "a"})
        first.insert_one({"_id": "a", "channels": []})
        locks = [UpdateLock(client[mongo_db.name].locks) for client in clients]
        side_by_side(adding(first, "x", locks[0]), adding(second, "y", locks[1]))
        assert len(first.find_one({"_id": "a"})["channels"]) == 2 * UPDATES
        assert first.database.locks.count_documents({}) == 0  # given back
        assert locks[0].needed == (mongo_server is not None)
        if mongo_server is not None:
            assert locks[0].waits + locks[1].waits > 0  # they did meet
    finally:
        for client in clients:
            client.close()


def test_a_lock_left_by_a_dead_process_expires_and_is_taken(mongo_uri, mongo_db, mongo_server):
    mongo_db.locks.insert_one({"_id": LOCK_ID, "holder": "dead", "expires": time.time() - 1})
    lock = UpdateLock(mongo_db.locks)
    with lock.held():
        held = mongo_db.locks.find_one({"_id": LOCK_ID})
    if mongo_server is not None:
        assert held["holder"] == lock.holder and lock.stale == 1
    assert mongo_db.locks.find_one({"_id": LOCK_ID, "holder": lock.holder}) is None


def test_a_lock_this_holder_could_not_give_back_is_taken_again_at_once(mongo_uri, mongo_db, mongo_server):
    """The server went away inside the block, so the lock was not given back: this process takes it again at
    once. Until 2026-12-03 it waited for its own lock to expire (30 s), and every write of its crawl with it."""
    if mongo_server is None:
        return  # MongoDB itself: no lock is taken
    lock = UpdateLock(mongo_db.locks)
    mongo_db.locks.insert_one({"_id": LOCK_ID, "holder": lock.holder, "expires": time.time() + 30})
    began = time.monotonic()
    with lock.held():
        assert mongo_db.locks.find_one({"_id": LOCK_ID})["holder"] == lock.holder
    assert time.monotonic() - began < 1
    assert lock.stale == 0 and mongo_db.locks.find_one({"_id": LOCK_ID}) is None


def test_two_stores_merging_channels_into_one_article_keep_every_channel(mongo_uri, mongo_db):
    """What two crawl processes do when listings they read name an article stored already."""
    stores = [Store(MongoConfig(uri=mongo_uri, database=mongo_db.name)) for _ in range(2)]
    try:
        mongo_db.articles.insert_one({"_id": "013000001", "channels": []})

        def merging(store: Store, prefix: str):
            def merge() -> None:
                for number in range(UPDATES // 3):
                    url = f"https://gansu.gscn.com.cn/{prefix}{number}/index.shtml"
                    store.add_channels({"013000001": [{"name": prefix, "url": url, "region_code": "620000"}]})

            return merge

        side_by_side(merging(stores[0], "a"), merging(stores[1], "b"))
        assert len(mongo_db.articles.find_one({"_id": "013000001"})["channels"]) == 2 * (UPDATES // 3)
    finally:
        for store in stores:
            store.close()
