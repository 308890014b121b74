"""Peak memory (RSS) of the full crawl as the archive grows, against the smallest replica measured in the same run.

    python -m bench.memory [--scales 40,200,400]     # ≈ 10k, 50k and 100k articles (the last takes ≈ 12 min)

Each scale is a fresh replica and a fresh FerretDB; the crawl is the one users run (parse, clean, dedupe,
store). Peak RSS is each process's own high-water mark (VmHWM, `gansunews/memory/peak_rss`), the crawl process's
plus the page-reading worker's: not Scrapy's `memusage/max`, which on Linux starts from the RSS of the process
that launched the crawl (this one, holding a 100k-story replica, is larger than the crawl). Prints
peak RSS per scale, and its growth against the first scale next to the growth in articles (sub-linear: the first
ratio stays well below the second), and per article.
Aims (issue 14): ≤ 300 MiB at 300k articles (`--scales 40,1100`, ≈ 35 min), growing ≤ 0.1 KB per article.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from bench.crawl import full_crawl
from tests.replica.server import ReplicaServer
from tests.replica.site import Site
from tests.services import FerretDB, ferretdb_binary


def peak(scale: int) -> tuple[int, float, float]:
    """(articles, peak RSS in MiB of the crawl process, of its page readers) of a full crawl at `scale`."""
    server = ReplicaServer(Site(seed=7, scale=scale)).start()
    database = FerretDB(ferretdb_binary()).start()
    try:
        run = full_crawl(server, database, Path(tempfile.mkdtemp(prefix="gansunews-bench-")))
    finally:
        server.stop()
        database.close()
    return run.stats.get("item_scraped_count", 0), run.peak_mib, run.readers_mib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="40,200,400")
    options = parser.parse_args()
    results = []
    for scale in (int(s) for s in options.scales.split(",")):
        articles, crawl, readers = peak(scale)
        mib = crawl + readers
        results.append((articles, mib))
        base_articles, base_mib = results[0]
        print(
            f"{articles:7d} articles: peak RSS {mib:5.0f} MiB ({mib * 2**20 / 1e6:.0f} MB) = crawl process "
            f"{crawl:.0f} + page reader {readers:.0f}; against the first scale {mib / base_mib:.2f}× the memory for "
            f"{articles / base_articles:.2f}× the articles" + slope(results),
            flush=True,
        )


def slope(results: list[tuple[int, float]]) -> str:
    """The growth per article since the first scale (the issue's aim: ≤ 0.1 KB), from the second scale on."""
    (base_articles, base_mib), (articles, mib) = results[0], results[-1]
    if articles <= base_articles:
        return ""
    return f", {(mib - base_mib) * 2**20 / 1000 / (articles - base_articles):.2f} KB per article more"


if __name__ == "__main__":
    main()
