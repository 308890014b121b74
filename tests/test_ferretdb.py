"""The FerretDB server built here (tools/ferretdb) indexes what FerretDB's `_id` lookups ask for: without that
index every find, update or delete by `_id` scans the whole collection (FerretDB v1.24's own `_id` index is on
another expression, which SQLite cannot use for them)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from pymongo import MongoClient

from tests.conftest import missing_service
from tests.services import FerretDB, ferretdb_binary


def test_lookups_by_id_use_an_index_once_a_collection_exists():
    binary = ferretdb_binary()
    if binary is None:
        missing_service("FerretDB binary not found: run `make ferretdb`")
    server = FerretDB(binary).start()
    try:
        client = MongoClient(server.uri)
        client.lookups.articles.insert_many([{"_id": f"{13000000 + i:09d}", "title": "t"} for i in range(200)])
        database = Path(server.data.name) / "data" / "lookups.sqlite"
        deadline, plan = time.monotonic() + 10, ""
        while "__id_lookup" not in plan and time.monotonic() < deadline:
            time.sleep(0.2)
            with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
                table = connection.execute("SELECT name FROM sqlite_master WHERE name LIKE 'articles%'").fetchone()[0]
                query = f"EXPLAIN QUERY PLAN SELECT * FROM \"{table}\" WHERE _ferretdb_sjson->'$._id' = ?"
                plan = " ".join(str(row) for row in connection.execute(query, ['"013000007"']))
        assert "__id_lookup" in plan, plan  # SEARCH … USING INDEX, not SCAN
        assert client.lookups.articles.find_one({"_id": "013000007"})["title"] == "t"  # FerretDB still answers
        client.close()
    finally:
        server.close()
