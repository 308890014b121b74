"""Shared fixtures: the replica of the portal (a real HTTP/CONNECT proxy on loopback) and a crawl runner that
runs `scrapy crawl gscn` exactly as a user would, in a subprocess with the proxy variables set."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pymongo import MongoClient

from tests.replica.server import ReplicaServer, crawl_command, crawl_environment
from tests.replica.site import Site
from tests.services import FerretDB, RedisServer, ferretdb_binary

PROJECT = Path(__file__).resolve().parent.parent
# Crawls here reach a local replica: no politeness floor (every crawl subprocess inherits this; settings via the
# environment are part of what the tests exercise).
os.environ.setdefault("GANSUNEWS_MIN_DELAY", "0")
REQUIRE_SERVICES = os.environ.get("GANSUNEWS_REQUIRE_SERVICES") == "1"


def missing_service(reason: str) -> None:
    """Skip loudly on a laptop; fail under CI (`GANSUNEWS_REQUIRE_SERVICES=1`)."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}")
    pytest.skip(f"SERVICE MISSING — {reason}")


@dataclass
class CrawlResult:
    items: list[dict]
    stats: dict
    log: str
    returncode: int

    @property
    def ids(self) -> list[str]:
        return [item["article_id"] for item in self.items]

    def stat(self, key: str, default: int = 0) -> int:
        return self.stats.get(f"gansunews/{key}", default)


def run_crawl(
    proxy_url: str,
    workdir: Path,
    *args: str,
    settings: dict | None = None,
    env: dict | None = None,
    timeout: int = 300,
    feed: bool = True,
) -> CrawlResult:
    """`scrapy crawl gscn` through the replica; with `feed`, its items written with `-O` (articles then wait for
    the walks to list past them: the spider streams differently without a feed)."""
    workdir.mkdir(parents=True, exist_ok=True)
    out, stats_file, log_file = workdir / "out.jsonl", workdir / "stats.json", workdir / "crawl.log"
    command = crawl_command(
        *(("-O", str(out)) if feed else ()),
        "-s",
        "AUTOTHROTTLE_ENABLED=0",
        "-s",
        f"GANSUNEWS_STATS_FILE={stats_file}",
        "-s",
        f"LOG_FILE={log_file}",
    )
    for name, value in (settings or {}).items():
        command += ["-s", f"{name}={value}"]
    for arg in args:
        command += ["-a", arg]
    completed = subprocess.run(
        command,
        cwd=PROJECT,
        env=crawl_environment(proxy_url, **(env or {})),
        timeout=timeout,
        capture_output=True,
        text=True,
    )
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []
    stats = json.loads(stats_file.read_text(encoding="utf-8")) if stats_file.exists() else {}
    log = (log_file.read_text(encoding="utf-8") if log_file.exists() else "") + completed.stderr
    return CrawlResult(items, stats, log, completed.returncode)


def listed_by_another_channel(site: Site, server: ReplicaServer):
    """(story, channel): the site's newest story, stored by an earlier crawl, now listed at the top of 兰州's live page
    too, which the replica answers a second late (so that a test can act while it is asked for)."""
    story = max(site.stories.values(), key=lambda s: s.published)
    lanzhou = site.city("620100")
    assert lanzhou not in site.channel_of(story)
    lanzhou.stories = sorted([*lanzhou.stories, story], key=lambda s: s.published)
    server.delays[urlsplit(lanzhou.live_url).path] = 1.0
    return story, lanzhou


def crash_when_asked(database: FerretDB, server: ReplicaServer, url: str, back_once: Path | None) -> threading.Thread:
    """Crash the database as the replica is asked for `url`. With `back_once` (a crawl's log file), start it again
    once the crawl has logged a merge that failed: a fixed downtime could pass before the merge was tried, behind the
    other writes that the writer thread tries in order."""
    path = urlsplit(url).path

    def outage() -> None:
        deadline = time.monotonic() + 120
        while not any(urlsplit(asked).path == path for asked in server.in_flight) and time.monotonic() < deadline:
            time.sleep(0.01)
        database.crash()
        if back_once is None:
            return
        while time.monotonic() < deadline:
            if back_once.exists() and "channels not merged" in back_once.read_text(encoding="utf-8", errors="replace"):
                break
            time.sleep(0.05)
        database.start()

    watcher = threading.Thread(target=outage, daemon=True)
    watcher.start()
    return watcher


@pytest.fixture(scope="session")
def site() -> Site:
    return Site(seed=7)


@pytest.fixture(scope="session")
def replica(site):
    server = ReplicaServer(site).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def data_drawn_replica():
    """(site, server): a replica whose 图片 list its script builds from data, so that only Chromium can read it."""
    if not shutil.which("chromium"):
        missing_service("Debian's chromium is not installed (apt-get install chromium): JS-drawn lists need it")
    site = Site(seed=7, variations=frozenset({"list_from_data"}))
    server = ReplicaServer(site).start()
    yield site, server
    server.stop()


@pytest.fixture(scope="module")
def redis_url():
    """Debian's redis-server for a module's tests (each crawl or queue uses its own run name in it)."""
    if not shutil.which("redis-server"):
        missing_service("redis-server is not installed (apt-get install redis-server)")
    server = RedisServer().start()
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def mongo_server():
    """A MongoDB-compatible server: `MONGO_URI` if set, else a FerretDB started here (None for a real MongoDB)."""
    if os.environ.get("MONGO_URI"):
        yield None
        return
    binary = ferretdb_binary()
    if binary is None:
        missing_service("FerretDB binary not found: run `make ferretdb` (needs Go) or set MONGO_URI")
    server = FerretDB(binary).start()
    yield server
    server.close()


@pytest.fixture
def own_ferretdb(mongo_server):
    """A server this test may stop and start (FerretDB only)."""
    if mongo_server is None:
        pytest.skip("stopping the server mid-crawl needs the FerretDB harness, not an external MONGO_URI")
    server = FerretDB(mongo_server.binary).start()
    yield server
    server.close()


@pytest.fixture
def mongo_uri(mongo_server) -> str:
    return os.environ["MONGO_URI"] if mongo_server is None else mongo_server.uri


@pytest.fixture
def mongo_db(mongo_uri, request):
    """A fresh database for one test, dropped afterwards."""
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name)[-50:]
    client = MongoClient(mongo_uri, serverSelectionTimeoutMS=5000)
    client.drop_database(name)
    yield client[name]
    try:
        client.drop_database(name)
    finally:
        client.close()
