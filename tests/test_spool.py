"""The spool shared by processes (two scrapyd jobs with one spool directory): a replay never loses what another
process appends meanwhile, and no document is replayed twice. Real processes, one real file."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path

from gansunews.store import Spool


def append_many(path: str, first: int, count: int) -> None:
    """A second crawl process spooling during the same outage."""
    spool = Spool(Path(path))
    for number in range(first, first + count):
        spool.append([{"_id": number}])


def spooled_ids(path: Path) -> list[int]:
    return [json.loads(line)["_id"] for line in path.read_text().splitlines()] if path.exists() else []


def test_a_replay_keeps_what_another_process_appends_meanwhile(tmp_path):
    path = tmp_path / "gansunews-articles.jsonl"
    spool = Spool(path)
    spool.append([{"_id": number} for number in range(100)])
    other = multiprocessing.get_context("spawn").Process(target=append_many, args=(str(path), 100, 50))
    written: list[int] = []

    def slow_write(docs):  # the server is back, but slow: the other process spools meanwhile
        other.start()
        time.sleep(1.5)
        written.extend(doc["_id"] for doc in docs)

    assert spool.take(slow_write) == 100
    other.join(60)
    assert other.exitcode == 0
    assert sorted(written + spooled_ids(path)) == list(range(150))


def test_processes_appending_while_one_replays_lose_nothing_and_repeat_nothing(tmp_path):
    path = tmp_path / "gansunews-articles.jsonl"
    context = multiprocessing.get_context("spawn")
    writers = [context.Process(target=append_many, args=(str(path), start, 200)) for start in (0, 1000)]
    for writer in writers:
        writer.start()
    spool, written = Spool(path), []
    while any(writer.is_alive() for writer in writers):
        spool.take(lambda docs: written.extend(doc["_id"] for doc in docs))
        time.sleep(0.01)
    for writer in writers:
        writer.join(60)
    spool.take(lambda docs: written.extend(doc["_id"] for doc in docs))
    assert sorted(written) == [*range(200), *range(1000, 1200)]
