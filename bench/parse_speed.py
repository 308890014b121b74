"""Parse cost per article: our page objects (+ cleaning) against trafilatura on the same pages, same run.

    python -m bench.parse_speed [--rounds 5]

Prints medians and the ratio trafilatura ÷ ours (higher is better; the aim is ≥ 5×, ≤ 3 ms median).
"""

from __future__ import annotations

import argparse
import statistics
import time

import trafilatura

from gansunews.pages.article import ArticlePage
from gansunews.pipelines.clean import clean_article
from tests.fixtures import load
from tests.replica.render import Renderer
from tests.replica.site import Site


def pages() -> list[tuple[str, bytes, dict[str, str]]]:
    site = Site(seed=7)
    renderer = Renderer(site)
    found = [load("article/template_a_sample")]
    for story in site.stories.values():
        reply = renderer.reply(story.url)
        if story.kind == "article" and reply.status == 200:
            found.append((story.url, reply.body, reply.headers))
    return found


def ours(url: str, body: bytes, headers: dict[str, str]) -> None:
    clean_article(ArticlePage.from_bytes(url, body, headers).article())


def theirs(url: str, body: bytes, headers: dict[str, str]) -> None:
    trafilatura.bare_extraction(body, url=url, with_metadata=True)


def per_page(parse, corpus, rounds: int) -> list[float]:
    timings = []
    for _ in range(rounds):
        for url, body, headers in corpus:
            start = time.perf_counter()
            parse(url, body, headers)
            timings.append(time.perf_counter() - start)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    corpus = pages()
    per_page(ours, corpus[:5], 1), per_page(theirs, corpus[:5], 1)  # warm imports and caches
    mine = statistics.median(per_page(ours, corpus, options.rounds)) * 1000
    base = statistics.median(per_page(theirs, corpus, options.rounds)) * 1000
    print(f"pages: {len(corpus)} × {options.rounds} rounds")
    print(f"page objects + cleaning: median {mine:.2f} ms/article")
    print(f"trafilatura (baseline):  median {base:.2f} ms/article")
    print(f"ratio trafilatura / ours: {base / mine:.1f}×  (aim ≥ 5×)")


if __name__ == "__main__":
    main()
