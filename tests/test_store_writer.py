"""Store.run_soon, the fire-and-forget writes (walk progress, pages, progress figures): they run in order
on the writer thread; a server error is logged at the caller's level, any other error with its traceback. No
server is needed: nothing here touches one (MongoClient connects on first use)."""

from __future__ import annotations

import asyncio
import logging

from pymongo.errors import AutoReconnect

from gansunews.store import MongoConfig, Store


def test_run_soon_runs_in_order_and_logs_what_fails(caplog):
    store = Store(MongoConfig(uri="mongodb://127.0.0.1:9/", timeout_ms=100))
    written: list[str] = []

    def gone():
        raise AutoReconnect("server gone")

    def bug():
        raise KeyError("walk")

    async def main():
        store.run_soon(written.append, "first")
        store.run_soon(gone, level=logging.INFO)
        store.run_soon(bug)
        store.run_soon(written.append, "last")
        while store.in_flight:
            await asyncio.sleep(0.01)

    with caplog.at_level(logging.INFO, logger="gansunews.store"):
        asyncio.run(main())
    store.close()
    assert written == ["first", "last"]  # in order on the writer thread, past the writes that failed
    server = next(r for r in caplog.records if "gone not written" in r.getMessage())
    assert server.levelno == logging.INFO and server.exc_info is None
    failed = next(r for r in caplog.records if "bug failed" in r.getMessage())
    assert failed.levelno == logging.ERROR and failed.exc_info and failed.exc_info[0] is KeyError
