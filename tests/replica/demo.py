"""`make demo`: start the replica of the portal and a FerretDB, crawl the replica through it as a proxy into\narticles.jsonl and MongoDB, and summarise both."""

from __future__ import annotations

import argparse
import collections
import json
import subprocess
import sys
import tempfile
from datetime import date
from pathlib import Path

from pymongo import MongoClient

from tests.replica.server import ReplicaServer, crawl_command
from tests.replica.site import Site
from tests.services import FerretDB, ferretdb_binary

PROJECT = Path(__file__).resolve().parents[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="articles.jsonl")
    parser.add_argument("--since", default="2024-01-01")
    parser.add_argument("--seed", type=int, default=7)
    options = parser.parse_args()
    site = Site(seed=options.seed)
    server = ReplicaServer(site).start()
    database = FerretDB(ferretdb_binary()).start()
    workdir = Path(tempfile.mkdtemp(prefix="gansunews-demo-"))
    stats_file = workdir / "stats.json"
    env = server.crawl_environment(  # a local replica: no politeness floor
        MONGO_URI=database.uri, MONGO_DATABASE="gansunews", GANSUNEWS_SPOOL_DIR=str(workdir / "spool")
    )
    print(f"replica of gscn.com.cn serving as proxy on {server.proxy_url}; FerretDB on {database.uri}")
    print(f"crawling since {options.since} …")
    command = crawl_command(
        "-a",
        f"since={options.since}",
        "-O",
        options.out,
        "-s",
        "AUTOTHROTTLE_ENABLED=0",
        "-s",
        "LOG_LEVEL=WARNING",
        "-s",
        f"GANSUNEWS_STATS_FILE={stats_file}",
    )
    try:
        completed = subprocess.run(command, cwd=PROJECT, env=env, check=False)
        if completed.returncode:
            return completed.returncode
        stats = json.loads(stats_file.read_text(encoding="utf-8"))
        summarise(Path(options.out), stats, site, options.since, offsite=len(server.offsite))
        summarise_store(MongoClient(database.uri).gansunews)
        report = subprocess.run(
            [sys.executable, "-m", "gansunews", "report", "--last", "--out", "reports"],
            cwd=PROJECT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        print("  crawl report:", " and ".join(report.stdout.split()) or report.stderr.strip())
    finally:
        server.stop()
        database.close()
    return 0


def summarise_store(db) -> None:
    failures = collections.Counter(doc["reason"] for doc in db.failures.find())
    record = db.crawls.find_one()
    print(
        f"\nMongoDB (FerretDB): {db.articles.count_documents({})} articles, {db.channels.count_documents({})} channels,"
        f" {db.crawls.count_documents({})} crawl record (quality: {record['quality']['verdict']})"
    )
    print("  failures by reason:", dict(failures))


def summarise(out: Path, stats: dict, site: Site, since: str, offsite: int) -> None:
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    expected = site.expected_ids(date.fromisoformat(since))
    got = {item["article_id"] for item in items}
    by_level = collections.Counter(r["level"] for item in items for r in item["regions"])
    templates = collections.Counter(item["template"] for item in items)
    ours = {
        key.removeprefix("gansunews/"): value for key, value in sorted(stats.items()) if key.startswith("gansunews/")
    }
    print(f"\n{len(items)} articles in {out} (finish reason: {stats.get('finish_reason')})")
    print(
        f"  expected by the replica: {len(expected)}; missing {len(expected - got)}, unexpected {len(got - expected)}"
    )
    print(f"  templates: {dict(templates)}; region tags by level: {dict(by_level)}")
    print(f"  reposts linked to an earlier copy: {sum(1 for item in items if item['duplicate_of'])}")
    print(f"  requests: {stats.get('downloader/request_count')}, off-site requests seen by the replica: {offsite}")
    print("  stats:", ", ".join(f"{key}={value}" for key, value in ours.items()))


if __name__ == "__main__":
    sys.exit(main())
