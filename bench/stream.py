"""Streaming and resuming, measured on a generated replica, each against a clean run in the same bench.

    python -m bench.stream [--scale 12] [--latency 0.15] [--only resume,first,shared]

1. **Time to the first stored article**: a crawl with the shipped politeness (AutoThrottle, the 0.25 s floor, one
   download slot for the site) against a replica that answers every page `--latency` seconds late; the time from
   the start to the first article in MongoDB, against the whole run (aim: ≤ 60 s and ≤ 10% of the run).
2. **Resume waste**: a clean crawl (no politeness floor, so it is quick) counts its requests; then, on a fresh
   database, a crawl killed with SIGKILL once the replica has answered 15% (and, separately, 60%) of that count,
   and an ordinary crawl after it. Prints both runs' requests together over the clean run's (aim ≤ 1.10×) and
   checks that the exact article set is stored once.
3. **Two processes vs one** (scrapy-redis, `REDIS_URL`): the same crawl by one process, then by two sharing a run,
   the second joining 5 s late, against a replica answering 100 ms late; wall time of each, the articles each
   process stored, and whether the exact set was stored once.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

from pymongo import MongoClient

from tests.replica.server import ReplicaServer, crawl_command
from tests.replica.site import Site
from tests.services import FerretDB, RedisServer, ferretdb_binary

PROJECT = Path(__file__).resolve().parent.parent
SINCE = date(2024, 1, 1)
QUIET = ["-a", f"since={SINCE}", "-s", "LOG_LEVEL=WARNING"]


def crawl(server: ReplicaServer, uri: str, database: str, work: Path, *settings: str, **env: str) -> subprocess.Popen:
    env = server.crawl_environment(
        MONGO_URI=uri,
        MONGO_DATABASE=database,
        GANSUNEWS_SPOOL_DIR=str(work / "spool"),
        GANSUNEWS_PROGRESS_SECONDS="0",
        **env,
    )
    return subprocess.Popen(
        crawl_command(*QUIET, *settings), cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def first_article(site: Site, ferret: FerretDB, work: Path, latency: float) -> None:
    server = ReplicaServer(site).start()
    server.delay = latency
    client = MongoClient(ferret.uri)
    try:
        started = time.monotonic()
        env_floor = ("-s", "GANSUNEWS_MIN_DELAY=0.25")  # the shipped floor (the replica's environment sets 0)
        process = crawl(server, ferret.uri, "first", work, *env_floor)
        first = None
        while process.poll() is None:
            if first is None and client.first.articles.estimated_document_count():
                first = time.monotonic() - started
            time.sleep(0.2)
        total = time.monotonic() - started
        stored = client.first.articles.count_documents({})
    finally:
        server.stop()
        client.close()
    assert first is not None, "nothing was stored"
    print(
        f"first stored article after {first:.1f} s of a {total:.1f} s crawl ({first / total:.1%}); "
        f"{stored} articles, {len(server.requests)} requests, every page {latency * 1000:.0f} ms late "
        "(aim: ≤ 60 s and ≤ 10%)"
    )


def resume_waste(site: Site, ferret: FerretDB, work: Path) -> None:
    expected = site.expected_ids(SINCE)
    client = MongoClient(ferret.uri)
    server = ReplicaServer(site).start()
    try:
        crawl(server, ferret.uri, "clean", work / "clean").wait()
        clean = len(server.requests)
        assert {d["_id"] for d in client.clean.articles.find({}, {"_id": 1})} == expected
        crawl(server, ferret.uri, "clean", work / "clean").wait()
        fixed = len(server.requests) - clean
        print(
            f"clean crawl: {clean} requests; any later run costs {fixed} ({fixed / clean:.1%}) on the unchanged site "
            "(home pages, live pages, pager scripts, listed non-articles): part of every rerun's count below"
        )
        for share in (0.15, 0.60):
            database = f"resume{int(share * 100)}"
            client.drop_database(database)
            before = len(server.requests)
            process = crawl(server, ferret.uri, database, work / database)
            while len(server.requests) - before < share * clean and process.poll() is None:
                time.sleep(0.01)
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
            killed = len(server.requests) - before
            stored_then = client[database].articles.count_documents({})
            crawl(server, ferret.uri, database, work / database).wait()
            rerun = len(server.requests) - before - killed
            stored = [d["_id"] for d in client[database].articles.find({}, {"_id": 1})]
            exact = set(stored) == expected and len(stored) == len(expected)
            print(
                f"kill -9 at {killed / clean:.0%} of the requests ({stored_then} of {len(expected)} articles stored), "
                f"then a rerun: {killed} + {rerun} = {killed + rerun} requests vs {clean} for one clean run: "
                f"{(killed + rerun) / clean:.3f}× (aim ≤ 1.10×); exact set stored once: {exact}"
            )
    finally:
        server.stop()
        client.close()


def shared_crawl(site: Site, ferret: FerretDB, work: Path, late: float = 5.0) -> None:
    expected = site.expected_ids(SINCE)
    redis = RedisServer().start()
    server = ReplicaServer(site).start()
    server.delay = 0.1
    client = MongoClient(ferret.uri)
    try:
        seconds, links = {}, {}
        for processes in (1, 2):
            database = f"shared{processes}"
            env = {"REDIS_URL": redis.url, "GANSUNEWS_REDIS_RUN": database}
            started = time.monotonic()
            running = [crawl(server, ferret.uri, database, work / database, "-s", "CONCURRENT_REQUESTS=4", **env)]
            if processes == 2:
                time.sleep(late)
                running.append(
                    crawl(server, ferret.uri, database, work / f"{database}b", "-s", "CONCURRENT_REQUESTS=4", **env)
                )
            for process in running:
                process.wait()
            seconds[processes] = time.monotonic() - started
            stored = [d["_id"] for d in client[database].articles.find({}, {"_id": 1})]
            by = Counter(d["crawl"]["crawl_id"] for d in client[database].articles.find({}, {"crawl.crawl_id": 1}))
            exact = set(stored) == expected and len(stored) == len(expected)
            found = client[database].articles.find({"duplicate_of": {"$ne": None}}, {"duplicate_of": 1})
            links[processes] = {d["_id"]: d["duplicate_of"] for d in found}
            print(
                f"{processes} process{'es' if processes > 1 else ''}: {seconds[processes]:.1f} s, articles stored per "
                f"process {sorted(by.values(), reverse=True)}; exact set stored once: {exact}; "
                f"{len(links[processes])} reposts"
            )
        print(f"two processes vs one: {seconds[1] / seconds[2]:.2f}× faster (each process: 4 requests in flight)")
        same = sum(1 for copy, original in links[2].items() if links[1].get(copy) == original)
        print(f"repost links as one process made them: {same} of {len(links[1])} (two processes made {len(links[2])})")
    finally:
        server.stop()
        client.close()
        redis.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=12)
    parser.add_argument("--latency", type=float, default=0.15)
    parser.add_argument("--only", default="resume,first,shared", help="which benchmarks, comma-separated")
    options = parser.parse_args()
    chosen = set(options.only.split(","))
    site = Site(seed=7, scale=options.scale)
    print(f"replica: {len(site.stories)} stories, {len(site.expected_ids(SINCE))} articles since {SINCE}")
    ferret = FerretDB(ferretdb_binary()).start()
    work = Path(tempfile.mkdtemp(prefix="gansunews-stream-"))
    try:
        if "resume" in chosen:
            resume_waste(site, ferret, work)
        if "shared" in chosen:
            shared_crawl(site, ferret, work)
        if "first" in chosen:
            first_article(site, ferret, work, options.latency)
    finally:
        ferret.close()


if __name__ == "__main__":
    main()
