"""Crawl throughput and re-crawl cost on a generated replica, against baselines measured in the same run.

    python -m bench.crawl [--scale 80] [--latency 0]   # scale 80 ≈ 20,000 articles; 40 ≈ 10,000; 200 ≈ 50,000

1. The full crawl parses, cleans, deduplicates and stores into FerretDB; the baseline (bench/bare_spider.py)
   fetches exactly the URLs the full crawl fetched, through the same replica and the same way (the pages the
   crawl had to render in Chromium, JavaScript-drawn listings, it renders too), and does nothing with them.
   Prints requests per second for both and the ratio full ÷ bare (aim ≥ 0.85×); and, for reference, the ratio
   against the bare spider fetching every URL over plain HTTP (the rendered pages then come back empty).
   `--latency` makes the replica answer every page that many seconds late (a server far away: the crawl is then
   bound by round trips, not by this machine's two cores, which the replica, FerretDB and the crawl share).
2. A second, incremental crawl of the unchanged replica into the same database: its requests over the first
   crawl's (aim ≤ 10%).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.replica.server import ReplicaServer, crawl_command
from tests.replica.site import Site
from tests.services import FerretDB, ferretdb_binary

PROJECT = Path(__file__).resolve().parent.parent
SINCE = "since=2023-01-01"
SETTINGS = [
    "-s",
    "AUTOTHROTTLE_ENABLED=0",
    "-s",
    "LOG_LEVEL=WARNING",
    "-s",
    "CONCURRENT_REQUESTS=16",
    "-s",
    "CONCURRENT_REQUESTS_PER_DOMAIN=8",
]


@dataclass
class Run:
    seconds: float
    stats: dict
    crawler_cpu: float = 0.0  # seconds of CPU the crawl process used (user + system)

    @property
    def requests(self) -> int:
        return self.stats["downloader/request_count"]

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def peak_mib(self) -> float:
        """The crawl process's own peak RSS (not Scrapy's `memusage/max`: it starts from this bench's size)."""
        return self.stats.get("gansunews/memory/peak_rss", 0) / 2**20

    @property
    def readers_mib(self) -> float:
        """Peak RSS of the page-reading worker processes (`GANSUNEWS_READ_WORKERS`), beside the crawl's own."""
        return self.stats.get("gansunews/readers/peak_rss", 0) / 2**20


def timed(command: list[str], env: dict[str, str], stats: Path) -> Run:
    start, cpu = time.perf_counter(), children_cpu()
    subprocess.run(
        [*command, "-s", f"GANSUNEWS_STATS_FILE={stats}"], cwd=PROJECT, env=env, check=True, stdout=subprocess.DEVNULL
    )
    seconds = time.perf_counter() - start
    return Run(seconds, json.loads(stats.read_text(encoding="utf-8")), children_cpu() - cpu)


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def process_cpu(pid: int) -> float:
    """CPU seconds a running process has used so far (user + system, from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def full_crawl(server: ReplicaServer, database: FerretDB, work: Path, name: str = "full") -> Run:
    """`scrapy crawl gscn` as a user runs it, storing into `database`."""
    env = server.crawl_environment(MONGO_URI=database.uri, GANSUNEWS_SPOOL_DIR=str(work / "spool"))
    command = crawl_command("-a", SINCE, *SETTINGS)  # stored in MongoDB only: no feed export
    return timed(command, env, work / f"{name}.json")


def bare_crawl(urls: list[str], rendered: list[str], server: ReplicaServer, work: Path, name: str) -> Run:
    """The bare spider fetching `urls` over HTTP and `rendered` through the browser, as the crawl did."""
    listed, to_render = work / "urls.txt", work / "rendered.txt"
    listed.write_text("\n".join(urls), encoding="utf-8")
    to_render.write_text("\n".join(rendered), encoding="utf-8")
    command = [sys.executable, "-m", "scrapy", "runspider", str(PROJECT / "bench/bare_spider.py")]
    arguments = ["-a", f"urls={listed}", "-a", f"rendered={to_render}"]
    return timed([*command, *arguments, *SETTINGS], server.crawl_environment(), work / f"{name}.json")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", type=int, default=80)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds every page is answered late")
    options = parser.parse_args()
    site = Site(seed=7, scale=options.scale)
    server = ReplicaServer(site).start()
    server.delay = options.latency
    database = FerretDB(ferretdb_binary()).start()
    work = Path(tempfile.mkdtemp(prefix="gansunews-bench-"))
    try:
        replica_cpu, database_cpu = time.process_time(), process_cpu(database.process.pid)
        full = full_crawl(server, database, work)
        replica_cpu, database_cpu = time.process_time() - replica_cpu, process_cpu(database.process.pid) - database_cpu
        plain, rendered = server.plain_requests(), server.rendered_pages()
        bare_replica_cpu = time.process_time()
        bare = bare_crawl(plain, rendered, server, work, "bare")
        bare_replica_cpu = time.process_time() - bare_replica_cpu
        http_only = bare_crawl(plain + rendered, [], server, work, "bare_http")
        again = full_crawl(server, database, work, "again")
    finally:
        server.stop()
        database.close()
    articles = full.stats.get("item_scraped_count", 0)
    print(
        f"replica: {len(site.stories)} stories; full crawl: {articles} articles, "
        f"{full.requests} requests in {full.seconds:.1f} s ({articles / full.seconds:.0f} articles/s)"
    )
    print(
        f"full crawl (parse, clean, dedupe, store): {full.rate:7.1f} requests/s, peak RSS {full.peak_mib:.0f} MiB "
        f"+ {full.readers_mib:.0f} MiB (page reader)"
    )
    print(f"bare spider, same URLs (baseline):       {bare.rate:7.1f} requests/s, peak RSS {bare.peak_mib:.0f} MiB")
    print(f"ratio full / bare: {full.rate / bare.rate:.2f}×  (aim ≥ 0.85×)")
    second = (
        f"the bare spider rendered the {len(rendered)} pages the crawl rendered; fetching those over plain HTTP too "
        "(empty lists) it makes"
        if rendered
        else "the crawl rendered no page; the same plain replay again makes"  # a second sample of the baseline
    )
    print(f"  {second} {http_only.rate:.1f} requests/s: ratio {full.rate / http_only.rate:.2f}×")
    print(
        f"CPU seconds on {os.cpu_count()} cores: full crawl {full.crawler_cpu:.0f} (crawler) + {database_cpu:.0f} "
        f"(FerretDB) + {replica_cpu:.0f} (replica); bare {bare.crawler_cpu:.0f} (crawler) + {bare_replica_cpu:.0f} "
        f"(replica); crawler CPU per request {1000 * full.crawler_cpu / full.requests:.2f} ms vs "
        f"{1000 * bare.crawler_cpu / bare.requests:.2f} ms"
    )
    print(
        f"re-crawl of the unchanged replica: {again.requests} / {full.requests} requests = "
        f"{again.requests / full.requests:.1%}  (aim ≤ 10%), {again.stats.get('item_scraped_count', 0)} articles"
    )


if __name__ == "__main__":
    main()
