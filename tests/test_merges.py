"""ChannelMerges against a FerretDB that crashes and comes back: a merge waits for the server, whoever waits for it
is told only once it is written, and what is unwritten at the close is handed over."""

from __future__ import annotations

import asyncio

from pymongo import MongoClient

from gansunews.merges import ChannelMerges
from gansunews.store import MongoConfig, Store

LANZHOU = {"name": "兰州", "url": "https://gansu.gscn.com.cn/sz64v/index.shtml", "region_code": "620100"}
TIANSHUI = {"name": "天水", "url": "https://gansu.gscn.com.cn/sz82p/", "region_code": "620500"}


def merges_into(database, stats: dict) -> tuple[Store, ChannelMerges]:
    store = Store(MongoConfig(uri=database.uri, database="gansunews", timeout_ms=300, flush_seconds=0.1))

    def count(key: str, value: int) -> None:
        stats[key] = stats.get(key, 0) + value

    return store, ChannelMerges(store, count)


def test_a_merge_waits_for_the_server_and_tells_its_waiter_once_written(own_ferretdb):
    db = MongoClient(own_ferretdb.uri).gansunews
    db.articles.insert_one({"_id": "013000001", "channels": []})
    stats: dict[str, int] = {}
    store, merges = merges_into(own_ferretdb, stats)
    told: list[str] = []

    async def main():
        own_ferretdb.crash()
        merges.add({"013000001": [LANZHOU]}, lambda: told.append("lanzhou"))
        while not stats.get("mongo/merges_delayed"):
            await asyncio.sleep(0.05)
        merges.add({"013000001": [TIANSHUI]}, lambda: told.append("tianshui"))  # joins the one waiting
        await asyncio.sleep(0.5)
        assert told == []  # nothing is done before it is written
        own_ferretdb.start()
        while len(told) < 2:
            await asyncio.sleep(0.05)
        return await merges.close()

    try:
        assert asyncio.run(asyncio.wait_for(main(), 60)) == {}
    finally:
        store.close()
    assert told == ["lanzhou", "tianshui"]
    assert stats["incremental/channels_merged"] == 1  # one write for both
    assert db.articles.find_one({"_id": "013000001"})["channels"] == [LANZHOU, TIANSHUI]


def test_what_the_server_does_not_take_by_the_close_is_handed_over(own_ferretdb):
    stats: dict[str, int] = {}
    store, merges = merges_into(own_ferretdb, stats)
    told: list[str] = []

    async def main():
        own_ferretdb.crash()
        merges.add({"013000001": [LANZHOU]}, lambda: told.append("a"))
        merges.add({"013000002": [TIANSHUI], "013000001": [TIANSHUI]}, lambda: told.append("b"))
        return await merges.close()

    try:
        unwritten = asyncio.run(asyncio.wait_for(main(), 60))
    finally:
        store.close()
    assert unwritten == {"013000001": [LANZHOU, TIANSHUI], "013000002": [TIANSHUI]}
    assert told == [] and stats["mongo/merges_delayed"] >= 1
