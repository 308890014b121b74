"""MongoDB write rate: the real MongoPipeline (batched upserts on its writer thread) against raw `insert_many` of
the same documents into the same server, measured in the same run.

    python -m bench.mongo_write [--articles 5000] [--uri mongodb://…]   # default: a FerretDB started here

Prints articles per second for both and the ratio pipeline ÷ insert_many (aim ≥ 0.8×).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time

from pymongo import MongoClient
from scrapy.utils.test import get_crawler

from gansunews.items import Article
from gansunews.pipelines.mongo import MongoPipeline, article_document
from gansunews.spiders.portal import PortalSpider
from tests.replica.site import _WORDS
from tests.services import FerretDB, ferretdb_binary

WORDS = _WORDS


def articles(count: int) -> list[Article]:
    rng = random.Random(1)
    made = []
    for number in range(count):
        body = "\n".join("，".join(rng.choice(WORDS) for _ in range(12)) + "。" for _ in range(8))
        made.append(
            Article(
                article_id=f"{13_000_000 + number:09d}",
                url=f"https://gansu.gscn.com.cn/system/2024/03/01/{number:09d}.shtml",
                title=f"标题{number}",
                original_title=None,
                published_at="2024-03-01T09:00:00+08:00",
                published_at_raw="24-03-01 09:00",
                source="甘肃日报",
                editor="程建",
                authors=["张明"],
                content_text=body,
                content_html="<p>" + body.replace("\n", "</p><p>") + "</p>",
                images=[],
                page_count=1,
                breadcrumb=["中国甘肃网", "甘肃新闻"],
                channels=[{"name": "要闻", "url": "u", "region_code": "620000"}],
                regions=[{"code": "620000", "name": "甘肃省", "level": "province", "via": "channel"}],
                crawl={"crawl_id": "bench", "crawled_at": "2024-03-01T09:00:00+08:00"},
            )
        )
    return made


def raw_insert_many(uri: str, docs: list[dict], batch: int) -> float:
    collection = MongoClient(uri).bench_raw.articles
    collection.drop()
    start = time.perf_counter()
    for offset in range(0, len(docs), batch):
        collection.insert_many(docs[offset : offset + batch], ordered=False)
    return time.perf_counter() - start


def pipeline(uri: str, items: list[Article], batch: int) -> float:
    MongoClient(uri).drop_database("bench_pipeline")
    crawler = get_crawler(
        PortalSpider,
        {
            "MONGO_URI": uri,
            "MONGO_DATABASE": "bench_pipeline",
            "GANSUNEWS_MONGO_BATCH_SIZE": batch,
            "GANSUNEWS_SPOOL_DIR": "/tmp/bench-spool",
        },
    )

    async def run() -> float:
        component = MongoPipeline.from_crawler(crawler)
        await component.open_spider()
        start = time.perf_counter()
        for item in items:
            await component.process_item(item)
        await component.close_spider()
        return time.perf_counter() - start

    return asyncio.run(run())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--uri")
    options = parser.parse_args()
    server = None if options.uri else FerretDB(ferretdb_binary()).start()
    uri = options.uri or server.uri
    try:
        items = articles(options.articles)
        docs = [article_document(item) for item in items]
        baseline = raw_insert_many(uri, docs, options.batch)
        ours = pipeline(uri, items, options.batch)
    finally:
        if server:
            server.close()
    print(f"articles: {options.articles}, batch {options.batch}, server {'FerretDB (SQLite)' if server else uri}")
    print(f"raw insert_many (baseline): {options.articles / baseline:8.0f} articles/s")
    print(f"MongoPipeline:              {options.articles / ours:8.0f} articles/s")
    print(f"ratio pipeline / insert_many: {baseline / ours:.2f}×  (aim ≥ 0.8×)")


if __name__ == "__main__":
    main()
