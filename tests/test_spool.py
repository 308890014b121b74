"""The spool shared by processes (two scrapyd jobs with one spool directory): a replay never loses what another
process appends meanwhile, and no document is replayed twice. Real processes, one real file."""

from __future__ import annotations

import json
import multiprocessing
import resource
import signal
import sys
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


def test_a_line_cut_short_by_a_kill_is_set_aside_and_spoils_nothing(tmp_path):
    """A process killed while spooling leaves part of a line (here cut inside a character). The next append starts
    on a line of its own, and the replay writes every whole document and sets the part aside, counted. Until
    2026-12-03 the next document was glued to it, and the replay failed on the line at every start."""
    path = tmp_path / "gansunews-articles.jsonl"
    spool, set_aside = Spool(path, count=lambda lines: set_aside.append(lines)), []
    spool.append([{"_id": number} for number in range(3)])
    cut = '{"_id": 3, "title": "甘肃'.encode()[:-1]
    with path.open("ab") as killed:
        killed.write(cut)
    spool.append([{"_id": 4}])
    written: list[int] = []
    assert spool.take(lambda docs: written.extend(doc["_id"] for doc in docs)) == 4
    assert written == [0, 1, 2, 4] and set_aside == [1]
    assert (tmp_path / "gansunews-articles.jsonl.unreadable").read_bytes() == cut + b"\n"
    assert not path.exists()


def append_past_the_limit(path: str, limit: int) -> None:
    """A full disk: writes past `limit` bytes fail (EFBIG, the signal ignored as a crawl process would see ENOSPC)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    try:
        Spool(Path(path)).append([{"_id": number, "body": "文" * 2000} for number in range(100, 120)])
    except OSError:
        sys.exit(0)
    sys.exit(3)  # the append should have failed


def test_an_append_that_fails_leaves_no_part_of_its_documents(tmp_path):
    """A batch the disk cannot take fails (the pipeline keeps it in memory) and leaves the file as it was: the
    documents spooled before and after it are replayed. Until 2026-12-03 its first part stayed in the file."""
    path = tmp_path / "gansunews-articles.jsonl"
    spool = Spool(path)
    spool.append([{"_id": number} for number in range(3)])
    size = path.stat().st_size
    full = multiprocessing.get_context("spawn").Process(target=append_past_the_limit, args=(str(path), size + 20000))
    full.start()
    full.join(60)
    assert full.exitcode == 0
    assert path.stat().st_size == size
    spool.append([{"_id": 3}])
    assert spooled_ids(path) == [0, 1, 2, 3]
