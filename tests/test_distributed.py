"""Crawler processes share one crawl through a real redis-server (scrapy-redis): together they emit the expected
set, and no article twice; one killed mid-crawl loses nothing (its leased requests go back to the queue)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import pytest
import redis
from pymongo import MongoClient

from tests.conftest import PROJECT, CrawlResult, crash_when_asked, listed_by_another_channel, run_crawl
from tests.replica.server import ReplicaServer, crawl_command, crawl_environment
from tests.replica.site import Site
from tests.services import RedisServer

SINCE = "2024-01-01"


def shared(redis_url: str, mongo_uri: str, database: str, **more: str) -> dict[str, str]:
    """The environment of one distributed crawl's processes: a new run in Redis, storing into one MongoDB database."""
    return {
        "REDIS_URL": redis_url,
        "GANSUNEWS_REDIS_RUN": uuid.uuid4().hex,
        "MONGO_URI": mongo_uri,
        "MONGO_DATABASE": database,
        **more,
    }


def stored_ids(database) -> set[str]:
    return {doc["_id"] for doc in database.articles.find({}, {"_id": 1})}


def two_processes(
    proxy_url: str, workdir: Path, env: dict[str, str], late: float = 0.0, settings: dict | None = None
) -> list[CrawlResult]:
    """One crawl of two processes at once, the second starting `late` seconds after the first (in `workdir/<n>`)."""
    results: list[CrawlResult] = [None, None]

    def crawl(slot: int) -> None:
        time.sleep(late * slot)
        results[slot] = run_crawl(proxy_url, workdir / str(slot), f"since={SINCE}", env=env, settings=settings)

    workers = [threading.Thread(target=crawl, args=(slot,)) for slot in (0, 1)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return results


@pytest.mark.parametrize("late", [0.0, 5.0], ids=["together", "second_joins_5s_late"])
def test_two_processes_split_one_crawl(redis_url, mongo_uri, mongo_db, replica, site, tmp_path, late):
    """Article requests go to the shared queue as listings are read, so a process joining late finds work there
    (before streaming, one joining 2 s late made no request, and one joining 5 s late left 88 articles unfetched).
    Each process also writes a feed of what it emitted: no article is in both."""
    env = shared(redis_url, mongo_uri, mongo_db.name)
    for story in site.stories.values():  # slow enough for both processes to take part
        replica.delays[story.path] = 0.1 if not late else 0.3
    results = two_processes(replica.proxy_url, tmp_path, env, late, settings={"CONCURRENT_REQUESTS": 4})
    replica.delays.clear()
    first, second = results
    assert first.returncode == 0 and second.returncode == 0, (first.log[-2000:], second.log[-2000:])
    both = first.ids + second.ids
    assert len(both) == len(set(both)), "an article was emitted by both processes"
    assert set(both) == stored_ids(mongo_db) == site.expected_ids(date.fromisoformat(SINCE))
    assert first.ids and second.ids, "one process did all the work: the crawl was not shared"
    assert "gansunews.leases.LeasedScheduler" in first.log
    for result in results:  # every lease finished: nothing given back at the close
        assert "gansunews/distributed/given_back" not in result.stats
    for result in results:  # each judges the crawl (its processes' sums), not its share: one may discover nothing
        assert result.stats["gansunews/quality"] == "ok", result.stats.get("gansunews/quality/problems")


def test_walks_through_the_shared_queue_lose_no_page(redis_url, mongo_uri, mongo_db, tmp_path):
    """A walk's state travels with its requests through Redis (a copy per request). With several pages of a walk in
    flight, each carried a stale copy and the walk ended early: 48 of 1,596 articles were never fetched. Walks are
    one page at a time when distributed; a replica with deep channels shows it."""
    site = Site(seed=7, scale=4)
    server = ReplicaServer(site).start()
    try:
        env = shared(redis_url, mongo_uri, mongo_db.name)
        result = run_crawl(server.proxy_url, tmp_path, f"since={SINCE}", env=env)
    finally:
        server.stop()
    assert result.returncode == 0, result.log[-2000:]
    assert sorted(result.ids) == sorted(stored_ids(mongo_db)) == sorted(site.expected_ids(date.fromisoformat(SINCE)))
    assert "gansunews/distributed/given_back" not in result.stats


def test_the_same_run_name_crawls_again_once_its_crawl_finished(
    redis_url, mongo_uri, mongo_db, replica, site, tmp_path
):
    """The default run name every night: a finished crawl's queue and seen set are cleared by the next crawl of the
    name (here a full one: every article fetched again). Before, the second crawl found every page seen, made no
    request, stored nothing and said ok."""
    run = uuid.uuid4().hex
    env = shared(redis_url, mongo_uri, mongo_db.name, GANSUNEWS_REDIS_RUN=f"{run}*")  # a glob character in the name
    bystander = redis.Redis.from_url(redis_url)
    bystander.set(f"gansunews:{run}-other:requests", "kept")  # another run's keys, which `{run}*` would match
    first = run_crawl(replica.proxy_url, tmp_path / "first", f"since={SINCE}", "full=1", env=env)
    second = run_crawl(replica.proxy_url, tmp_path / "second", f"since={SINCE}", "full=1", env=env)
    expected = site.expected_ids(date.fromisoformat(SINCE))
    assert sorted(first.ids) == sorted(second.ids) == sorted(expected), second.log[-2000:]
    assert stored_ids(mongo_db) == expected
    assert "gansunews/distributed/previous_crawl_cleared" not in first.stats
    assert second.stat("distributed/previous_crawl_cleared") >= 3, "the queue, the seen set, the counters …"
    assert second.stats["gansunews/quality"] == "ok"
    assert bystander.get(f"gansunews:{run}-other:requests") == b"kept"


@pytest.mark.parametrize(
    ("argument", "setting", "named"),
    [
        ("since=2023-01-01", {}, '"since": "2023-01-01"'),
        (f"since={SINCE}", {"MONGO_DATABASE": "elsewhere"}, "elsewhere"),
    ],
    ids=["since_mistyped", "another_database"],
)
def test_a_process_with_other_terms_does_not_join_the_crawl(
    redis_url, mongo_uri, mongo_db, replica, site, tmp_path, argument, setting, named
):
    """A peer started with another `since` (a typo) would walk the shared crawl's channels to another cutoff, one
    with another database would split the archive: it refuses to join, says why in one line, exits with status 2
    and makes no request; the crawl goes on unharmed."""
    env = shared(redis_url, mongo_uri, mongo_db.name)
    for story in site.stories.values():  # slow enough for the second to arrive while the first works
        replica.delays[story.path] = 0.1
    results = {}

    def crawl(name: str, argument: str, late: float, **setting: str) -> None:
        time.sleep(late)
        results[name] = run_crawl(replica.proxy_url, tmp_path / name, argument, env={**env, **setting})

    workers = [
        threading.Thread(target=crawl, args=("crawl", f"since={SINCE}", 0.0)),
        threading.Thread(target=crawl, args=("other", argument, 3.0), kwargs=setting),
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    replica.delays.clear()
    mongo_db.client.drop_database("elsewhere")  # its crawl record: refused, with its reason
    crawl, other = results["crawl"], results["other"]
    assert other.returncode == 2 and not other.ids, other.log[-2000:]
    assert other.stats["finish_reason"] == "arguments_differ"
    assert "downloader/request_count" not in other.stats
    assert named in other.log and "not joining it" in other.log
    expected = site.expected_ids(date.fromisoformat(SINCE))
    assert crawl.returncode == 0 and sorted(crawl.ids) == sorted(expected) and stored_ids(mongo_db) == expected
    assert crawl.stats["gansunews/quality"] == "ok", crawl.stats.get("gansunews/quality/problems")


def test_a_resumed_crawl_reads_its_live_pages_again(redis_url, mongo_uri, mongo_db, tmp_path):
    """A distributed crawl stopped with work left (here by an item limit) is resumed by the next process of its run
    name, which also reads the live pages again: an article published meanwhile is stored. Before, the resumed crawl
    found every live page seen and only finished its old queue: the new article waited for the next crawl."""
    site = Site(seed=7)
    server = ReplicaServer(site).start()
    env = shared(redis_url, mongo_uri, mongo_db.name)
    try:
        stopped = run_crawl(
            server.proxy_url, tmp_path / "stopped", f"since={SINCE}", env=env, settings={"CLOSESPIDER_ITEMCOUNT": 20}
        )
        lanzhou_xinqu = next(channel for channel in site.channels if channel.pager == "missing")  # its live page only
        newest = max(story.published for story in site.stories.values())
        story = site.publish(lanzhou_xinqu, newest + timedelta(hours=1))
        resumed = run_crawl(server.proxy_url, tmp_path / "resumed", f"since={SINCE}", env=env)
    finally:
        server.stop()
    assert stopped.stats["finish_reason"] == "closespider_itemcount", stopped.log[-2000:]
    assert resumed.returncode == 0, resumed.log[-2000:]
    assert story.article_id in resumed.ids, "the new article was not found"
    assert resumed.stat("distributed/resumed") == 1
    assert stored_ids(mongo_db) == site.expected_ids(date.fromisoformat(SINCE))


def test_a_backfill_after_a_distributed_crawl_of_recent_days_stores_its_whole_span(
    redis_url, mongo_uri, mongo_db, replica, site, tmp_path
):
    """A distributed crawl saves no walk progress, so it records no coverage: it must not move the watermarks either,
    or a later backfill would read one week behind them (the legacy reading of a record without a walk is "covers
    everything"). Before, the backfill stored the recent days only."""
    env = shared(redis_url, mongo_uri, mongo_db.name)
    recent = run_crawl(replica.proxy_url, tmp_path / "recent", "since=2024-03-20", env=env)
    assert recent.returncode == 0 and recent.ids, recent.log[-2000:]
    alone = {"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db.name, "GANSUNEWS_SPOOL_DIR": str(tmp_path / "spool")}
    backfill = run_crawl(replica.proxy_url, tmp_path / "backfill", f"since={SINCE}", env=alone)
    assert backfill.returncode == 0, backfill.log[-2000:]
    assert stored_ids(mongo_db) == site.expected_ids(date.fromisoformat(SINCE))


def test_a_second_distributed_crawl_stops_at_the_pages_the_first_stored(
    redis_url, mongo_uri, mongo_db, replica, site, tmp_path
):
    """A distributed crawl's walks are staged as they end (in whichever process ends them) and count once the crawl
    has finished: the next crawl stops at stored pages, as after a crawl of one process. Before, a distributed
    crawl recorded no walk, and each walked its channels down to its `since` again (as costly as the first)."""
    env = shared(redis_url, mongo_uri, mongo_db.name)
    first = run_crawl(replica.proxy_url, tmp_path / "first", f"since={SINCE}", env=env)
    assert first.returncode == 0, first.log[-2000:]
    walks = [doc for doc in mongo_db.channels.find() if "walk" in doc]
    assert walks and all(doc["walk"]["complete"] and doc["walk"].get("covered_since") for doc in walks), walks[:2]
    assert all(doc["newest_seen"] for doc in walks)
    # what a walk learns on its way (the archive's size, from a pager script a peer may read) is recorded as by one
    # process, not as the copy of the process that found the channel knew it
    alone = mongo_db.client[f"{mongo_db.name}_alone"]
    env_alone = {"MONGO_URI": mongo_uri, "MONGO_DATABASE": alone.name, "GANSUNEWS_SPOOL_DIR": str(tmp_path / "spool")}
    try:
        assert run_crawl(replica.proxy_url, tmp_path / "alone", f"since={SINCE}", env=env_alone).returncode == 0
        by_one = {doc["_id"]: (doc["maxpage"], doc["numbering"]) for doc in alone.channels.find()}
    finally:
        mongo_db.client.drop_database(alone.name)
    assert {doc["_id"]: (doc["maxpage"], doc["numbering"]) for doc in walks} == {
        d["_id"]: by_one[d["_id"]] for d in walks
    }
    assert not mongo_db.channels.count_documents({"staged": {"$exists": True}}), "promoted, not left staged"
    second = run_crawl(replica.proxy_url, tmp_path / "second", f"since={SINCE}", env=env)
    assert second.returncode == 0, second.log[-2000:]
    cost = second.stats["downloader/request_count"], first.stats["downloader/request_count"]
    print(f"distributed re-crawl cost: {cost[0]} / {cost[1]} requests")
    assert cost[0] <= cost[1] / 4, cost
    assert second.stat("listing/stopped_known") > 0
    assert stored_ids(mongo_db) == site.expected_ids(date.fromisoformat(SINCE))
    assert second.stats["gansunews/quality"] == "ok", second.stats.get("gansunews/quality/problems")


def test_a_channel_that_recent_crawls_found_and_this_one_did_not_is_named_by_two_processes(
    redis_url, mongo_uri, mongo_db, tmp_path
):
    """Each process discovers a part of the site: the channels the crawl found are their union (in Redis), named once
    no work is left. Before, a distributed crawl never said that a channel had vanished."""
    site = Site(seed=7)
    server = ReplicaServer(site).start()
    try:
        first = run_crawl(
            server.proxy_url, tmp_path / "1", f"since={SINCE}", env=shared(redis_url, mongo_uri, mongo_db.name)
        )
        assert first.returncode == 0, first.log[-2000:]
        assert "gansunews/discovery/unfound" not in first.stats
        jiayuguan = next(city for city in site.shizhou.children if city.name == "嘉峪关")
        site.shizhou.children.remove(jiayuguan)
        results = two_processes(server.proxy_url, tmp_path / "2", shared(redis_url, mongo_uri, mongo_db.name))
    finally:
        server.stop()
    for result in results:  # each names what the crawl did not find, not what it did not find itself
        assert result.returncode == 0, result.log[-2000:]
        assert result.stats["gansunews/discovery/unfound"] == ["嘉峪关"], result.stats.get(
            "gansunews/discovery/unfound"
        )
        assert "1 channels found by recent crawls were not found: 嘉峪关" in result.stats["gansunews/quality/notes"]


def test_a_stopped_distributed_crawl_moves_no_walk_until_it_finishes(redis_url, mongo_uri, mongo_db, tmp_path):
    """Stopped before its end, a distributed crawl's articles may still wait in its queue: the walks it staged do
    not count until the crawl, resumed, has finished."""
    site = Site(seed=7)
    server = ReplicaServer(site).start()
    env = shared(redis_url, mongo_uri, mongo_db.name)
    try:
        settings = {"CLOSESPIDER_ITEMCOUNT": 20}
        stopped = run_crawl(server.proxy_url, tmp_path / "stopped", f"since={SINCE}", env=env, settings=settings)
        assert stopped.stats["finish_reason"] == "closespider_itemcount", stopped.log[-2000:]
        assert mongo_db.channels.count_documents({"staged": {"$exists": True}}), "walks ended meanwhile are staged"
        assert not mongo_db.channels.count_documents({"walk": {"$exists": True}})
        assert not mongo_db.channels.count_documents({"newest_seen": {"$ne": None}})
        resumed = run_crawl(server.proxy_url, tmp_path / "resumed", f"since={SINCE}", env=env)
    finally:
        server.stop()
    assert resumed.returncode == 0, resumed.log[-2000:]
    assert mongo_db.channels.count_documents({"walk.complete": True})
    assert not mongo_db.channels.count_documents({"staged": {"$exists": True}})
    assert stored_ids(mongo_db) == site.expected_ids(date.fromisoformat(SINCE))


@pytest.mark.parametrize(
    ("stop", "rerun"),
    [(signal.SIGKILL, False), (signal.SIGKILL, True), (signal.SIGTERM, False)],
    ids=["killed_a_peer_finishes", "killed_a_rerun_resumes", "cancelled_a_peer_finishes"],
)
def test_a_process_stopped_mid_crawl_loses_nothing(redis_url, mongo_db, tmp_path, stop, rerun):
    """A process crawling into MongoDB is killed with SIGKILL while it holds requests. Its heartbeat stops, and
    whoever goes on with the crawl takes its leased requests back into the queue and finishes: a peer that was
    working beside it, or a process started afterwards with the same run name (the queue is where the crawl was).
    Every article is stored, with every channel that lists it, and reposts point at their original whichever
    process read them. Without the take-back, articles were lost. The queue is kept short, so walks park; parked
    walks kept in the killed process's memory were lost with it (their next pages now wait in the queue). Stopped
    with SIGTERM instead (scrapyd's cancel), it closes, giving back what it has not finished, and the peer finishes."""
    site = Site(seed=7)
    server = ReplicaServer(site).start()
    for story in site.stories.values():
        server.delays[story.path] = 0.1
    host, port = mongo_db.client.address
    shared = {
        "REDIS_URL": redis_url,
        "GANSUNEWS_REDIS_RUN": uuid.uuid4().hex,
        "GANSUNEWS_REDIS_LEASE_SECONDS": "3",
        "GANSUNEWS_QUEUED_ARTICLES": "3",  # walks park: their next pages wait in the queue
        "MONGO_URI": f"mongodb://{host}:{port}/",
        "MONGO_DATABASE": mongo_db.name,
    }
    stopped_stats = tmp_path / "stopped-stats.json"
    env = crawl_environment(
        server.proxy_url,
        **shared,
        GANSUNEWS_SPOOL_DIR=str(tmp_path / "spool-killed"),
        GANSUNEWS_STATS_FILE=str(stopped_stats),
    )
    command = crawl_command("-a", f"since={SINCE}", "-s", "CONCURRENT_REQUESTS=4", "-s", "LOG_LEVEL=WARNING")
    killed = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    going_on: list = []

    def go_on() -> None:
        env = {**shared, "GANSUNEWS_SPOOL_DIR": str(tmp_path / "spool-going-on")}
        settings = {"CONCURRENT_REQUESTS": 4}
        going_on.append(run_crawl(server.proxy_url, tmp_path / "on", f"since={SINCE}", env=env, settings=settings))

    try:
        deadline = time.monotonic() + 120
        while mongo_db.articles.count_documents({}) < 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        peer = threading.Thread(target=go_on)
        if not rerun:
            peer.start()
            time.sleep(3)  # both at work
        os.kill(killed.pid, stop)
        killed.wait(timeout=60)
        stored_before = {doc["_id"] for doc in mongo_db.articles.find({}, {"_id": 1})}
        server.delays.clear()
        if rerun:
            peer.start()
        peer.join(timeout=280)
        (result,) = going_on
        alone = run_crawl(server.proxy_url, tmp_path / "alone", f"since={SINCE}")  # one process, for the channels
    finally:
        killed.kill()
        server.stop()
    assert result.returncode == 0, result.log[-3000:]
    if stop == signal.SIGKILL:
        assert result.stat("distributed/taken_back") >= 1, "the killed process held no lease: the test proves nothing"
    else:  # it closed: what it had not finished it gave back itself
        assert json.loads(stopped_stats.read_text(encoding="utf-8"))["finish_reason"] == "shutdown"
    assert result.stat("walk/parked") >= 1, "no walk parked: the test proves nothing about parked walks"
    stored = {doc["_id"]: {c["url"] for c in doc["channels"]} for doc in mongo_db.articles.find({}, {"channels": 1})}
    assert set(stored) == site.expected_ids(date.fromisoformat(SINCE))
    assert "gansunews/distributed/given_back" not in result.stats
    assert stored == {item["article_id"]: {c["url"] for c in item["channels"]} for item in alone.items}
    original, exact, near = site.reposts  # whichever processes read them, the copies point at the original
    duplicate_of = {doc["_id"]: doc.get("duplicate_of") for doc in mongo_db.articles.find({}, {"duplicate_of": 1})}
    assert duplicate_of[exact.article_id] == duplicate_of[near.article_id] == original.article_id
    if rerun:  # what was stored is not fetched again (at most what the killed one held); the walks go on from the queue
        assert len(set(result.ids) & stored_before) <= result.stat("distributed/taken_back")
        assert result.stats.get("gansunews/listing/pages", 0) < alone.stats["gansunews/listing/pages"]
    else:  # listed again after the other process requested it: merged on write
        assert result.stat("article/listed_again") >= 1


def test_articles_in_a_killed_process_s_spool_are_taken_back(redis_url, own_ferretdb, replica, site, tmp_path):
    """MongoDB goes away and a process spools what it reads: the spool is on its machine only, so its leases on
    those articles stay until they are in MongoDB. Killed then, and MongoDB back, a rerun with the same run name
    (another machine: another spool) takes them back and stores every article. Before, a spooled article ended its
    lease, and the rerun never fetched it."""
    database = MongoClient(own_ferretdb.uri).gansunews
    shared = {"REDIS_URL": redis_url, "GANSUNEWS_REDIS_RUN": uuid.uuid4().hex, "GANSUNEWS_REDIS_LEASE_SECONDS": "3"}
    spool = tmp_path / "spool-killed"
    env = crawl_environment(replica.proxy_url, **shared, MONGO_URI=own_ferretdb.uri, GANSUNEWS_SPOOL_DIR=str(spool))
    settings = {**SPOOLING, "CONCURRENT_REQUESTS": 4, "LOG_LEVEL": "WARNING"}
    command = crawl_command("-a", f"since={SINCE}", *(f"--set={name}={value}" for name, value in settings.items()))
    for story in site.stories.values():
        replica.delays[story.path] = 0.1
    killed = subprocess.Popen(command, cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while database.articles.count_documents({}) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        own_ferretdb.crash()
        while not spooled_ids(spool) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        os.kill(killed.pid, signal.SIGKILL)
        killed.wait(timeout=30)
        own_ferretdb.start()
        replica.delays.clear()
        rerun_env = {**shared, "MONGO_URI": own_ferretdb.uri, "GANSUNEWS_SPOOL_DIR": str(tmp_path / "spool-rerun")}
        result = run_crawl(replica.proxy_url, tmp_path / "rerun", f"since={SINCE}", env=rerun_env)
    finally:
        killed.kill()
        replica.delays.clear()
    assert result.returncode == 0, result.log[-3000:]
    assert spooled_ids(spool), "the killed process spooled nothing: the test proves nothing"
    stored = {doc["_id"] for doc in database.articles.find({}, {"_id": 1})}
    assert spooled_ids(spool) <= stored, "an article only in the dead process's spool"
    assert stored == site.expected_ids(date.fromisoformat(SINCE))


def test_a_process_waits_for_mongodb_to_come_back_then_finishes_with_every_article(
    redis_url, own_ferretdb, replica, site, tmp_path
):
    """Distributed, a spooled article keeps its lease, so a process waits for MongoDB rather than finishing with
    articles on its own disk only. MongoDB back, the spool is replayed, the articles are seen there, their leases
    end and the crawl finishes on its own, with every article stored."""
    database = MongoClient(own_ferretdb.uri).gansunews
    for story in site.stories.values():
        replica.delays[story.path] = 0.06

    def outage() -> None:
        deadline = time.monotonic() + 120
        while database.articles.count_documents({}) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
        own_ferretdb.crash()
        while not spooled_ids(tmp_path / "spool") and time.monotonic() < deadline:
            time.sleep(0.05)  # a fixed downtime could pass on the store's other writes alone
        time.sleep(1)
        own_ferretdb.start()

    watcher = threading.Thread(target=outage, daemon=True)
    watcher.start()
    env = {"REDIS_URL": redis_url, "GANSUNEWS_REDIS_RUN": uuid.uuid4().hex, "MONGO_URI": own_ferretdb.uri}
    env["GANSUNEWS_SPOOL_DIR"] = str(tmp_path / "spool")
    try:
        settings = {**SPOOLING, "CONCURRENT_REQUESTS": 2}
        result = run_crawl(replica.proxy_url, tmp_path / "crawl", f"since={SINCE}", env=env, settings=settings)
    finally:
        watcher.join()
        replica.delays.clear()
    assert result.returncode == 0, result.log[-3000:]
    assert result.stat("mongo/spooled") > 0 and result.stat("mongo/replayed") > 0, result.stats
    assert {doc["_id"] for doc in database.articles.find({}, {"_id": 1})} == site.expected_ids(
        date.fromisoformat(SINCE)
    )
    assert "gansunews/distributed/given_back" not in result.stats  # every lease ended: nothing left waiting


def test_a_channel_merged_while_mongodb_is_away_ends_its_lease_once_written(redis_url, own_ferretdb, tmp_path):
    """Distributed, a listing's lease waits for the channels it merges into stored articles. MongoDB goes away as
    a listing that names a stored article is read: the merge is tried again until MongoDB is back, then the lease
    ends and the crawl finishes, the channel merged. Until 2026-12-03 the failed merge was dropped, its lease never
    ended, and the crawl waited for ever (`busy`)."""
    database = MongoClient(own_ferretdb.uri).gansunews
    site = Site(seed=7)
    server = ReplicaServer(site).start()
    try:
        env = {"REDIS_URL": redis_url, "GANSUNEWS_REDIS_RUN": uuid.uuid4().hex, "MONGO_URI": own_ferretdb.uri}
        env["GANSUNEWS_SPOOL_DIR"] = str(tmp_path / "spool")
        first = run_crawl(server.proxy_url, tmp_path / "1", f"since={SINCE}", env=env)
        assert first.returncode == 0, first.log[-2000:]
        story, lanzhou = listed_by_another_channel(site, server)
        watcher = crash_when_asked(own_ferretdb, server, lanzhou.live_url, back_once=tmp_path / "2" / "crawl.log")
        second = run_crawl(server.proxy_url, tmp_path / "2", f"since={SINCE}", env=env, settings=SPOOLING, timeout=120)
        watcher.join()
    finally:
        server.stop()
    assert second.returncode == 0, second.log[-3000:]
    assert second.stat("mongo/merges_delayed") > 0, second.stats
    assert "gansunews/distributed/given_back" not in second.stats  # every lease ended: nothing left waiting
    channels = {doc["url"] for doc in database.articles.find_one({"_id": story.article_id})["channels"]}
    assert lanzhou.live_url in channels


@pytest.mark.parametrize("outage", ["restarted", "hung"])
def test_redis_away_mid_crawl_loses_nothing(mongo_uri, mongo_db, replica, site, tmp_path, outage):
    """Redis restarted (its data kept in its append-only file) for 12 s mid-crawl: longer than the client retries a
    refused connection, so commands fail throughout the flow (taking, queueing, freeing, the heartbeat). Or hung for
    12 s: commands time out and are tried again, and one that ran although its answer was lost (a request taken
    twice) is mended. The process waits, mends what failed once Redis is back, and finishes with every article once.
    Before, a restart of 3 s left it waiting forever: leases freed while Redis was away stayed in Redis, so its work
    never ended."""
    (tmp_path / "redis").mkdir()
    server = RedisServer(data=tmp_path / "redis").start()
    env = shared(server.url, mongo_uri, mongo_db.name)
    run = env["GANSUNEWS_REDIS_RUN"]
    for story in site.stories.values():
        replica.delays[story.path] = 0.05
    results: list = []

    def crawl() -> None:
        settings = {"CONCURRENT_REQUESTS": 4}
        results.append(run_crawl(replica.proxy_url, tmp_path, f"since={SINCE}", env=env, settings=settings))

    crawler = threading.Thread(target=crawl)
    crawler.start()
    try:
        seen, deadline = redis.Redis(port=server.port), time.monotonic() + 60
        while seen.scard(f"gansunews:{run}:dupefilter") < 30 and time.monotonic() < deadline:
            time.sleep(0.05)
        seen.close()
        if outage == "restarted":
            server.stop()
            time.sleep(12)
            server.start()
        else:
            os.kill(server.process.pid, signal.SIGSTOP)
            time.sleep(12)
            os.kill(server.process.pid, signal.SIGCONT)
        crawler.join()
    finally:
        replica.delays.clear()
        server.stop()
    (result,) = results
    assert result.returncode == 0, result.log[-3000:]
    if outage == "restarted":
        assert result.stat("distributed/redis_errors") >= 1, "no command failed: the test proves nothing"
    assert len(result.ids) == len(set(result.ids)), "an article emitted twice"
    assert set(result.ids) == stored_ids(mongo_db) == site.expected_ids(date.fromisoformat(SINCE))
    assert "gansunews/distributed/given_back" not in result.stats


SPOOLING = {"GANSUNEWS_MONGO_BATCH_SIZE": 5, "GANSUNEWS_MONGO_FLUSH_SECONDS": 0.2, "GANSUNEWS_MONGO_TIMEOUT_MS": 500}


def spooled_ids(spool: Path) -> set[str]:
    lines = [line for path in spool.glob("*articles.jsonl") for line in path.read_text(encoding="utf-8").splitlines()]
    return {json.loads(line)["_id"] for line in lines if line.strip()}


ASKED_AGAIN = ("bare_page", "not_a_script", "not_a_listing", "not_the_article")  # gansunews/spiders/answers.py


def test_two_processes_ask_again_for_answers_that_are_not_the_page_asked_for(redis_url, mongo_uri, mongo_db, tmp_path):
    """A busy server's page (200) for 15% of first attempts, two processes: a page asked again goes through the
    shared queue like any request (its lease, the shared dupefilter, which it passes), and whichever process takes it
    reads it. The exact set is stored once, every field right."""
    site = Site(seed=7)
    server = ReplicaServer(site).start()
    server.faults = {"busy": 0.15}
    try:
        results = two_processes(server.proxy_url, tmp_path, shared(redis_url, mongo_uri, mongo_db.name))
    finally:
        server.stop()
    assert all(result.returncode == 0 for result in results), [result.log[-2000:] for result in results]
    both = results[0].items + results[1].items
    assert len(both) == len({item["article_id"] for item in both}) and site.wrong_fields(both) == []
    assert stored_ids(mongo_db) == site.expected_ids(date.fromisoformat(SINCE))
    asked = sum(result.stats.get(f"retry/reason_count/{reason}", 0) for result in results for reason in ASKED_AGAIN)
    assert asked >= 20, [result.stats for result in results]
