"""Crawl throughput and peak memory on a generated replica, against a bare spider fetching the same URLs.

    python -m bench.crawl [--scale 80]          # scale 80 ≈ 20,000 articles; 40 ≈ 10,000; 200 ≈ 50,000

The full crawl parses, cleans, deduplicates and stores into FerretDB; the baseline (bench/bare_spider.py)
fetches exactly the URLs the full crawl fetched, through the same replica, and does nothing with them. Prints
requests per second for both, the ratio full ÷ bare (aim ≥ 0.8×), and the full crawl's peak RSS.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.replica.server import ReplicaServer, crawl_command
from tests.replica.site import Site
from tests.services import FerretDB, ferretdb_binary

PROJECT = Path(__file__).resolve().parent.parent
SETTINGS = [
    "-s",
    "AUTOTHROTTLE_ENABLED=0",
    "-s",
    "LOG_LEVEL=WARNING",
    "-s",
    "MEMUSAGE_CHECK_INTERVAL_SECONDS=1",
    "-s",
    "CONCURRENT_REQUESTS=16",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=8",
]


def timed(command: list[str], env: dict[str, str], stats: Path) -> tuple[float, dict]:
    start = time.perf_counter()
    subprocess.run(
        [*command, "-s", f"GANSUNEWS_STATS_FILE={stats}"], cwd=PROJECT, env=env, check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - start, json.loads(stats.read_text(encoding="utf-8"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=80)
    options = parser.parse_args()
    site = Site(seed=7, scale=options.scale)
    server = ReplicaServer(site).start()
    database = FerretDB(ferretdb_binary()).start()
    work = Path(tempfile.mkdtemp(prefix="gansunews-bench-"))
    env = server.crawl_environment(MONGO_URI=database.uri, GANSUNEWS_SPOOL_DIR=str(work / "spool"))
    try:
        full_time, full = timed(
            crawl_command(
                "-a",
                "since=2023-01-01",
                "-O",
                str(work / "out.jsonl"),
                *SETTINGS,
            ),
            env,
            work / "full.json",
        )
        urls = work / "urls.txt"
        urls.write_text("\n".join(server.requests), encoding="utf-8")
        bare_env = {k: v for k, v in env.items() if k != "MONGO_URI"}
        bare_time, bare = timed(
            [
                sys.executable,
                "-m",
                "scrapy",
                "runspider",
                str(PROJECT / "bench/bare_spider.py"),
                "-a",
                f"urls={urls}",
                *SETTINGS,
            ],
            bare_env,
            work / "bare.json",
        )
    finally:
        server.stop()
        database.close()
    articles = full.get("item_scraped_count", 0)
    full_rate = full["downloader/request_count"] / full_time
    bare_rate = bare["downloader/request_count"] / bare_time
    print(
        f"replica: {len(site.stories)} stories; full crawl: {articles} articles, "
        f"{full['downloader/request_count']} requests in {full_time:.1f} s ({articles / full_time:.0f} articles/s)"
    )
    print(
        f"full crawl (parse, clean, dedupe, store): {full_rate:7.1f} requests/s, peak RSS "
        f"{full.get('memusage/max', 0) / 2**20:.0f} MiB"
    )
    print(
        f"bare spider, same URLs (baseline):       {bare_rate:7.1f} requests/s, peak RSS "
        f"{bare.get('memusage/max', 0) / 2**20:.0f} MiB"
    )
    print(f"ratio full / bare: {full_rate / bare_rate:.2f}×  (aim ≥ 0.8×)")


if __name__ == "__main__":
    main()
