"""The repost index on disk (SQLite's temporary file behind an 8 MiB page cache, as the crawl uses it) against the
same index all in memory (SQLite's `:memory:`: memory growing with the archive, as the numpy index it replaced did).

    python -m bench.reposts [--articles 300000]

Each article is looked up (`original_of`) and then added, as DedupePipeline does; one in 50 is a lightly edited
copy of the article 25 before it. Dates are spread over a year, so that lookups fall anywhere in the index (and a
copy is published within the 90-day window of its original about 40% of the time). Prints time per article and the
process's memory growth for each, and the ratios. Fingerprints are computed before timing; each index is built in
a process of its own.
"""

from __future__ import annotations

import argparse
import multiprocessing
import random
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime

from gansunews.fingerprints import Fingerprint, signature
from gansunews.reposts import RepostIndex

CHARACTERS = [chr(code) for code in range(0x4E00, 0x4E00 + 3000)]


def rss_mib() -> float:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def articles(count: int) -> list[tuple[str, str, Fingerprint]]:
    rng = random.Random(1)
    texts, made = [], []
    for number in range(count):
        text = "".join(rng.choices(CHARACTERS, k=300))
        if number % 50 == 49:
            text = texts[-25][:-3] + "。"  # a copy, its end edited
        texts.append(text)
        day = datetime.fromtimestamp(1_500_000_000 + rng.randrange(365) * 86400, UTC).isoformat()
        made.append((f"{100_000_000 + number:09d}", day, Fingerprint.of(f"h{number}", signature(text))))
    return made


def run(count: int, path: str) -> tuple[float, float, int]:
    """(µs per article, MiB grown, reposts found), in a process of its own (`main`): memory freed by one index
    would otherwise be reused by the next."""
    made = articles(count)
    index = RepostIndex(path=path)
    before, started, reposts = rss_mib(), time.perf_counter(), 0
    for cms_id, published_at, body in made:
        original, _ = index.original_of(cms_id, published_at, body)
        reposts += original is not None
        index.add(cms_id, published_at, body, original)
    elapsed, grown = time.perf_counter() - started, rss_mib() - before
    index.close()
    return 1e6 * elapsed / len(made), grown, reposts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=300_000)
    count = parser.parse_args().articles
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), max_tasks_per_child=1) as pool:
        in_memory = pool.submit(run, count, ":memory:").result()
        on_disk = pool.submit(run, count, "").result()
    for name, (micros, grown, reposts) in (("all in memory (baseline)", in_memory), ("on disk, 8 MiB cache", on_disk)):
        print(
            f"{name:26} {micros:6.0f} µs an article, memory +{grown:6.1f} MiB ({1024 * grown / count:.3f} KB an "
            f"article), {reposts} reposts found"
        )
    print(f"on disk / in memory: time {on_disk[0] / in_memory[0]:.2f}×, memory growth {on_disk[1] / in_memory[1]:.2f}×")


if __name__ == "__main__":
    main()
