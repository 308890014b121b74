"""MongoDB persistence against a real server (FerretDB, or MONGO_URI): documents, runs, failures, channels,
incremental re-crawls, revisions, near duplicates across runs, and zero loss when the server goes away."""

from __future__ import annotations

import threading
import time
from datetime import date, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pymongo import MongoClient
from pymongo.errors import PyMongoError

from gansunews.urls import channel_key
from tests.conftest import crash_when_asked, listed_by_another_channel, run_crawl
from tests.replica.server import ReplicaServer
from tests.replica.site import Site

SINCE = "2024-01-01"


def crawl_into(db, proxy_url, workdir, *args, settings=None, feed=True):
    env = {
        "MONGO_URI": db.client.address and f"mongodb://{db.client.address[0]}:{db.client.address[1]}/",
        "MONGO_DATABASE": db.name,
        "GANSUNEWS_SPOOL_DIR": str(workdir / "spool"),
    }
    return run_crawl(proxy_url, workdir, *args, settings=settings, env=env, feed=feed)


@pytest.fixture
def fresh_replica():
    site = Site(seed=7)
    server = ReplicaServer(site).start()
    yield site, server
    server.stop()


def test_stored_documents_match_the_json_lines(mongo_db, replica, site, tmp_path):
    result = crawl_into(mongo_db, replica.proxy_url, tmp_path, f"since={SINCE}")
    assert result.stats["finish_reason"] == "finished", result.log[-2000:]
    stored = {doc["_id"]: doc for doc in mongo_db.articles.find()}
    assert set(stored) == set(result.ids) == site.expected_ids(date.fromisoformat(SINCE))
    for item in result.items:
        doc = stored[item["article_id"]]
        for key in (
            "url",
            "title",
            "published_at",
            "source",
            "editor",
            "authors",
            "content_text",
            "channels",
            "regions",
            "content_hash",
            "simhash",
        ):
            assert doc[key] == item[key], (item["article_id"], key)
        assert doc["crawl"]["crawl_id"] == item["crawl"]["crawl_id"] and doc["crawl"]["first_seen"]
    assert result.stat("mongo/inserted") == len(result.ids)
    # the feed's duplicate_of is what was known when the line was written; storage points at the earliest copy
    original, exact, near = (story.article_id for story in site.reposts)
    assert {key: doc["duplicate_of"] for key, doc in stored.items() if doc["duplicate_of"]} == {
        exact: original,
        near: original,
    }


def test_one_crawl_document_per_run_with_stats_and_verdict(mongo_db, replica, tmp_path):
    result = crawl_into(mongo_db, replica.proxy_url, tmp_path, f"since={SINCE}", "max_pages=2")
    (record,) = list(mongo_db.crawls.find())
    assert record["_id"] == result.stats["gansunews/crawl_id"]
    assert record["args"] == {"since": SINCE, "max_pages": 2, "regions": [], "full": False}
    assert record["finish_reason"] == "finished" and record["finished_at"] > record["started_at"]
    assert record["versions"]["scrapy"] == "2.19.0"
    assert record["stats"]["item_scraped_count"] == len(result.ids)
    assert (record["quality"]["verdict"], record["quality"]["problems"]) == ("ok", [])


def test_failures_are_recorded_with_reasons(mongo_db, replica, site, tmp_path):
    crawl_into(mongo_db, replica.proxy_url, tmp_path, f"since={SINCE}")
    reasons = {doc["reason"] for doc in mongo_db.failures.find()}
    assert {"article/http_404", "listing/http_404", "drop/no_body", "drop/unparsable"} <= reasons
    dead = mongo_db.failures.find_one({"reason": "article/http_404"})
    assert dead["status"] == 404 and dead["attempts"] == 1 and dead["crawl_id"]


def test_channels_with_codes_and_watermarks(mongo_db, replica, site, tmp_path):
    crawl_into(mongo_db, replica.proxy_url, tmp_path, f"since={SINCE}")
    channels = {doc["name"]: doc for doc in mongo_db.channels.find()}
    assert len(channels) == len(site.channels) - 1  # all but the finance channel
    deep = channels["社会"]
    assert (deep["channel_code"], deep["sub_code"], deep["maxpage"]) == (
        site.shehui.code,
        site.shehui.sub,
        site.shehui.maxpage,
    )
    assert deep["newest_seen"] == max(s.published for s in site.shehui.stories).date().isoformat()
    assert channels["西峰区"]["region_code"] == "621002"


def test_indexes_created_at_open(mongo_db, replica, tmp_path):
    crawl_into(mongo_db, replica.proxy_url, tmp_path, "max_pages=1")
    names = {key for index in mongo_db.articles.list_indexes() for key in index["key"]}
    assert {"published_at", "regions.code", "channels.url", "content_hash"} <= names


def test_unreachable_server_closes_the_spider_with_a_reason(replica, tmp_path):
    env = {"MONGO_URI": "mongodb://127.0.0.1:9/", "GANSUNEWS_SPOOL_DIR": str(tmp_path / "spool")}
    result = run_crawl(
        replica.proxy_url, tmp_path, f"since={SINCE}", env=env, settings={"GANSUNEWS_MONGO_TIMEOUT_MS": 300}
    )
    assert result.stats["finish_reason"] == "mongodb_unreachable"
    assert result.items == []


def test_recrawl_of_unchanged_site_costs_little(mongo_db, fresh_replica, tmp_path):
    _, server = fresh_replica
    first = crawl_into(mongo_db, server.proxy_url, tmp_path / "1", f"since={SINCE}")
    first_seen = {doc["_id"]: doc["crawl"]["first_seen"] for doc in mongo_db.articles.find()}
    second = crawl_into(mongo_db, server.proxy_url, tmp_path / "2", f"since={SINCE}")
    ratio = second.stats["downloader/request_count"] / first.stats["downloader/request_count"]
    print(
        f"re-crawl cost: {second.stats['downloader/request_count']} / {first.stats['downloader/request_count']}"
        f" requests = {ratio:.1%}"
    )
    assert ratio <= 0.25, {k: v for k, v in second.stats.items() if k.startswith("gansunews/")}
    assert second.items == [] and second.stat("incremental/known") > 0
    assert mongo_db.crawls.count_documents({}) == 2
    assert {doc["_id"]: doc["crawl"]["first_seen"] for doc in mongo_db.articles.find()} == first_seen
    latest = max(mongo_db.crawls.find(), key=lambda doc: doc["started_at"])
    assert latest["quality"]["verdict"] == "ok", latest["quality"]


def test_new_articles_are_found_by_an_incremental_crawl(mongo_db, fresh_replica, tmp_path):
    site, server = fresh_replica
    newest = sorted(
        (
            s
            for s in site.stories.values()
            if s.kind == "article" and site.channel_of(s) and s not in site.finance.stories
        ),
        key=lambda s: s.published,
    )[-3:]
    server.renderer.hidden = {s.article_id for s in newest}
    first = crawl_into(mongo_db, server.proxy_url, tmp_path / "1", f"since={SINCE}")
    assert not set(first.ids) & server.renderer.hidden
    server.renderer.hidden = set()
    second = crawl_into(mongo_db, server.proxy_url, tmp_path / "2", f"since={SINCE}")
    assert set(second.ids) == {s.article_id for s in newest}
    assert mongo_db.articles.count_documents({}) == len(site.expected_ids(date.fromisoformat(SINCE)))


def test_full_recrawl_keeps_a_revision_when_the_body_changed(mongo_db, fresh_replica, tmp_path):
    site, server = fresh_replica
    crawl_into(mongo_db, server.proxy_url, tmp_path / "1", f"since={SINCE}", "max_pages=1")
    story = site.cross_listed
    before = mongo_db.articles.find_one({"_id": story.article_id})
    story.paragraphs = [*story.paragraphs, "（本文有更新）记者补充了最新进展，相关工作仍在推进中。"]
    crawl_into(mongo_db, server.proxy_url, tmp_path / "2", f"since={SINCE}", "max_pages=1", "full=1")
    after = mongo_db.articles.find_one({"_id": story.article_id})
    assert after["content_hash"] != before["content_hash"]
    assert [r["content_hash"] for r in after["revisions"]] == [before["content_hash"]]
    assert after["crawl"]["first_seen"] == before["crawl"]["first_seen"]
    assert after["crawl"]["crawl_id"] != before["crawl"]["crawl_id"]


def test_repost_crawled_tomorrow_points_at_todays_original(mongo_db, fresh_replica, tmp_path):
    site, server = fresh_replica
    original, exact, near = site.reposts
    server.renderer.hidden = {exact.article_id, near.article_id}
    crawl_into(mongo_db, server.proxy_url, tmp_path / "1", f"since={SINCE}")
    server.renderer.hidden = set()
    for story in (exact, near):  # published the next day, at the top of their listings
        site.republish(story, datetime(2024, 4, 1, 9, 30))
    second = crawl_into(mongo_db, server.proxy_url, tmp_path / "2", f"since={SINCE}")
    items = {item["article_id"]: item for item in second.items}
    assert set(items) == {exact.article_id, near.article_id}
    assert items[exact.article_id]["duplicate_of"] == items[near.article_id]["duplicate_of"] == original.article_id


def stop_after(server, db, articles: int, spool: Path | None) -> threading.Thread:
    """Crash the database once it holds `articles` articles; with a `spool` file, start it again once the crawl has
    spooled there (a fixed downtime raced the store's other writes, which can use up a short outage on their own)."""

    def run():
        deadline = time.monotonic() + 120
        while db.articles.count_documents({}) < articles and time.monotonic() < deadline:
            time.sleep(0.05)
        server.crash()
        if spool is None:
            return
        while not (spool.exists() and spool.stat().st_size) and time.monotonic() < deadline:
            time.sleep(0.05)
        server.start()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


SLOW = {
    "CONCURRENT_REQUESTS": 2,
    "GANSUNEWS_MONGO_BATCH_SIZE": 10,
    "GANSUNEWS_MONGO_FLUSH_SECONDS": 0.2,
    "GANSUNEWS_MONGO_TIMEOUT_MS": 500,
}


def crawl_through_outage(database, replica, workdir, restart: bool):
    """A slowed crawl during which the database stops once it holds 20 articles (and, with `restart`, starts again
    once articles were spooled)."""
    site, server = replica
    for story in site.stories.values():
        server.delays[story.path] = 0.06
    db = MongoClient(database.uri).gansunews
    spool = workdir / "spool" / "gansunews-articles.jsonl" if restart else None
    watcher = stop_after(database, db, articles=20, spool=spool)
    result = crawl_into(db, server.proxy_url, workdir, f"since={SINCE}", settings=SLOW)
    watcher.join()
    return site, server, db, result


def assert_pages_kept(db, expected: set[str]) -> None:
    """Every stored article has its first page kept for `reparse`: pages MongoDB could not take were spooled and
    written once it was back (until 2026-12-03 they were dropped, and their articles could never be read again)."""
    kept = {page["article_id"] for page in db.pages.find({"part": 1}, {"article_id": 1})}
    assert expected <= kept, sorted(expected - kept)


def test_server_gone_mid_crawl_loses_nothing(own_ferretdb, fresh_replica, tmp_path):
    site, _, db, result = crawl_through_outage(own_ferretdb, fresh_replica, tmp_path, restart=True)
    expected = site.expected_ids(date.fromisoformat(SINCE))
    assert result.stat("mongo/spooled") > 0 and result.stat("mongo/replayed") > 0, result.stats
    assert result.stat("mongo/spooled_at_close") == 0  # every spooled article seen in MongoDB before the close
    assert {doc["_id"] for doc in db.articles.find()} == expected
    assert db.articles.count_documents({}) == len(expected) == len(result.ids)
    assert_pages_kept(db, expected)


def test_spool_is_replayed_at_the_next_start(own_ferretdb, fresh_replica, tmp_path):
    site, server, db, first = crawl_through_outage(own_ferretdb, fresh_replica, tmp_path, restart=False)
    assert first.stat("mongo/spooled") > 0 and list((tmp_path / "spool").iterdir())
    # what MongoDB lacks until the next start is said
    assert first.stat("mongo/spooled_at_close") == first.stat("mongo/spooled"), first.stats
    assert any("not in MongoDB" in problem for problem in first.stats["gansunews/quality/problems"])
    own_ferretdb.start()
    second = crawl_into(db, server.proxy_url, tmp_path, f"since={SINCE}", "max_pages=1")
    assert second.stat("mongo/replayed") == first.stat("mongo/spooled")
    assert {doc["_id"] for doc in db.articles.find()} == site.expected_ids(date.fromisoformat(SINCE))
    assert first.stat("pages/spooled") > 0 and second.stat("pages/replayed") == first.stat("pages/spooled")
    assert_pages_kept(db, site.expected_ids(date.fromisoformat(SINCE)))
    assert db.crawls.count_documents({}) == 2  # the first run's record was spooled too


@pytest.mark.parametrize("back", ["mid_crawl", "after_the_crawl"])
def test_a_channel_merged_while_the_database_is_away_is_written_once_it_is_back(
    own_ferretdb, fresh_replica, tmp_path, back
):
    """A stored article that another channel lists now gets that channel on write. The database goes away as that
    channel's live page is read: the merge waits, and is written once the database is back, during the crawl, or at
    the next start (spooled with the crawl record). Until 2026-12-03 it was logged and dropped, the walk moved past
    the page, and the verdict said ok."""
    site, server = fresh_replica
    db = MongoClient(own_ferretdb.uri).gansunews
    crawl_into(db, server.proxy_url, tmp_path / "1", f"since={SINCE}", feed=False)
    story, lanzhou = listed_by_another_channel(site, server)
    server.delay = 0.3  # the crawl goes on for seconds after the database is back
    # the page is answered a second after the crash, and its merge sent while the database is away
    log = tmp_path / "2" / "crawl.log"
    watcher = crash_when_asked(own_ferretdb, server, lanzhou.live_url, back_once=log if back == "mid_crawl" else None)
    second = crawl_into(db, server.proxy_url, tmp_path / "2", f"since={SINCE}", settings=SLOW, feed=False)
    watcher.join()
    assert second.stats["finish_reason"] == "finished", second.log[-2000:]
    assert second.stat("mongo/merges_delayed") > 0, second.stats
    if back == "after_the_crawl":
        assert second.stat("mongo/merges_at_close") > 0, second.stats
        own_ferretdb.start()
        assert len(db.articles.find_one({"_id": story.article_id})["channels"]) == 1  # not written yet
        # the next crawl cannot read the listing again: the merge can only come from the spool
        server.broken = {urlsplit(lanzhou.live_url).path}
        crawl_into(db, server.proxy_url, tmp_path / "2", f"since={SINCE}", "max_pages=1", feed=False)  # its spool
    channels = {channel_key(c["url"]) for c in db.articles.find_one({"_id": story.article_id})["channels"]}
    assert channel_key(lanzhou.live_url) in channels, second.log[-3000:]


def test_one_store_per_crawler_closed_when_the_engine_stops(mongo_uri):
    """The pipeline, the crawl record, the dedupe loader and the spider's state share one client and one writer
    thread; it closes after their last writes, when the engine stops."""
    from scrapy import signals
    from scrapy.utils.test import get_crawler

    from gansunews.spiders.portal import PortalSpider
    from gansunews.store import MongoConfig, Store

    crawler, other = (get_crawler(PortalSpider, {"MONGO_URI": mongo_uri}) for _ in range(2))
    config = MongoConfig.from_settings(crawler.settings)
    store = Store.of(crawler, config)
    assert Store.of(crawler, config) is store and Store.of(other, config) is not store
    store.db.command("ping")
    crawler.signals.send_catch_log(signals.engine_stopped)
    assert store.executor._shutdown
    Store.of(other, config).close()


def test_an_original_found_after_its_reposts_becomes_their_root_in_storage(mongo_db, fresh_replica, tmp_path):
    """The reposts are stored first (their original was not listed yet); the next full re-read (the nightly plan)
    finds the earlier-dated original, and every stored copy points at it from then on."""
    site, server = fresh_replica
    original, exact, near = site.reposts
    server.renderer.hidden = {original.article_id}
    crawl_into(mongo_db, server.proxy_url, tmp_path / "1", f"since={SINCE}")
    copies = {"_id": {"$in": [exact.article_id, near.article_id]}}
    stored = {doc["_id"]: doc["duplicate_of"] for doc in mongo_db.articles.find(copies)}
    assert stored == {exact.article_id: None, near.article_id: exact.article_id}
    server.renderer.hidden = set()
    second = crawl_into(mongo_db, server.proxy_url, tmp_path / "2", f"since={SINCE}", "full=1")
    items = {item["article_id"]: item for item in second.items}
    assert items[original.article_id]["duplicate_of"] is None
    assert second.stat("dedupe/later_original") == 1 and second.stat("dedupe/repointed_stored") == 2
    assert second.stat("mongo/errors") == 0 and second.stat("mongo/spooled") == 0  # 129 updates, in time
    assert {doc["duplicate_of"] for doc in mongo_db.articles.find(copies)} == {original.article_id}


LANZHOU = "兰州新区今年计划实施重点项目一百二十个，总投资超过八百亿元，涵盖新能源、新材料和数字经济等领域。" * 2


def dedupe_article(cms_id: str, published_at: str, text: str = ""):
    """A cleaned article with a body long enough for a near-duplicate signature, the same body every time unless
    `text` is given."""
    from gansunews.items import Article

    text = text or LANZHOU
    return Article(
        article_id=cms_id,
        url=f"https://gansu.gscn.com.cn/system/{published_at[:10].replace('-', '/')}/{cms_id}.shtml",
        title="t",
        original_title=None,
        published_at=published_at,
        published_at_raw="",
        source=None,
        editor=None,
        authors=[],
        content_text=text,
        content_html="",
        images=[],
        page_count=1,
        breadcrumb=[],
        channels=[],
        regions=[],
        template="A",
        content_hash=f"h{len(text)}{text[:2]}",
    )


def test_a_repost_right_behind_its_late_original_still_finds_it(mongo_db, mongo_uri):
    """Scrapy runs a response's items through the pipelines concurrently: while the original's stored copies are
    re-pointed in MongoDB (an await), the next repost must already find the original in the index."""
    import asyncio

    from scrapy import signals
    from scrapy.utils.test import get_crawler

    from gansunews.fingerprints import Fingerprint
    from gansunews.pipelines.dedupe import DedupePipeline, fingerprint
    from gansunews.spiders.portal import PortalSpider

    crawler = get_crawler(PortalSpider, {"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db.name})
    dedupe = DedupePipeline.from_crawler(crawler)
    stored_copy = dedupe_article("013000050", "2024-01-20T09:00:00+08:00")
    mongo_db.articles.insert_one({"_id": stored_copy.article_id, "duplicate_of": None})
    body: Fingerprint = fingerprint(stored_copy)
    dedupe.index.add(stored_copy.article_id, stored_copy.published_at, body, None, stored=True)  # an earlier run's

    async def both():
        return await asyncio.gather(
            dedupe.process_item(dedupe_article("013000001", "2024-01-15T09:00:00+08:00")),
            dedupe.process_item(dedupe_article("013000060", "2024-01-25T09:00:00+08:00")),
        )

    original, repost = asyncio.run(both())
    crawler.signals.send_catch_log(signals.engine_stopped)  # closes the crawl's store
    assert original.duplicate_of is None and repost.duplicate_of == "013000001"
    assert crawler.stats.get_value("gansunews/dedupe/later_original") == 1
    assert mongo_db.articles.find_one({"_id": "013000050"})["duplicate_of"] == "013000001"


def test_reposts_across_processes_are_linked_when_a_process_closes(mongo_db, mongo_uri):
    """Distributed, each process's index holds its own articles; a peer's article written after its week was
    loaded was never compared with them. At close the peers' articles written meanwhile go through the index, and
    MongoDB's links are corrected both ways."""
    import asyncio

    from scrapy import signals
    from scrapy.utils.test import get_crawler

    from gansunews.pipelines.dedupe import DedupePipeline, fingerprint
    from gansunews.spiders.portal import PortalSpider
    from gansunews.text import CHINA_TZ

    tianshui = "天水市今年春季植树造林四万亩，新建城市公园六座，城区绿化覆盖率提高到百分之四十以上，市民出行。" * 2
    gannan = "甘南藏族自治州举办第十届香巴拉旅游艺术节，来自各地的游客欣赏锅庄舞表演，品尝酥油茶和糌粑等特色美食。" * 2
    wuwei = "武威市启动沙漠治理示范工程，五年内将在民勤县周边压沙造林五十万亩，筑起阻挡风沙的绿色屏障和生态长廊。" * 2
    settings = {"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db.name, "REDIS_URL": "redis://127.0.0.1:1/0"}
    crawler = get_crawler(PortalSpider, settings)
    dedupe = DedupePipeline.from_crawler(crawler)

    def written(article) -> dict:  # as MongoPipeline writes it
        fingerprint(article)
        doc = {"_id": article.article_id, "published_at": article.published_at, "content_hash": article.content_hash}
        seen = datetime.now(CHINA_TZ).isoformat()
        return {**doc, "minhash": article.minhash, "duplicate_of": article.duplicate_of, "crawl": {"last_seen": seen}}

    async def crawl():
        ours = [
            dedupe_article("013000010", "2024-01-15T09:00:00+08:00", LANZHOU),  # an original
            dedupe_article("013000020", "2024-02-10T09:00:00+08:00", tianshui),  # a copy of the peer's 013000001
            dedupe_article("013000030", "2024-03-09T09:00:00+08:00", wuwei),  # a copy of the peer's 013000004
        ]
        for article in ours:
            await dedupe.process_item(article)
        mongo_db.articles.insert_many([written(article) for article in ours])
        peers = [  # written by a peer meanwhile, which knew none of this process's articles
            dedupe_article("013000001", "2024-01-05T09:00:00+08:00", tianshui),
            dedupe_article("013000002", "2024-01-20T09:00:00+08:00", LANZHOU),
            dedupe_article("013000005", "2024-03-03T09:00:00+08:00", wuwei),  # the peer's copy of its 013000004,
            dedupe_article("013000004", "2024-03-01T09:00:00+08:00", wuwei),  # found first: ours points at the root
            dedupe_article("013000003", "2024-01-21T09:00:00+08:00", gannan),
        ]
        peers[2].duplicate_of = "013000004"
        mongo_db.articles.insert_many([written(article) for article in peers])
        await dedupe.close_spider()

    asyncio.run(crawl())
    crawler.signals.send_catch_log(signals.engine_stopped)  # closes the crawl's store
    stored = {doc["_id"]: doc["duplicate_of"] for doc in mongo_db.articles.find({}, {"duplicate_of": 1})}
    assert stored == {
        "013000010": None,
        "013000020": "013000001",  # this process's copy, re-pointed at the peer's earlier original
        "013000001": None,
        "013000002": "013000010",  # the peer's copy, pointed at this process's earlier original
        "013000030": "013000004",  # not at the peer's copy 013000005, read first
        "013000004": None,
        "013000005": "013000004",
        "013000003": None,
    }
    assert crawler.stats.get_value("gansunews/dedupe/peer_articles") == 5
    assert crawler.stats.get_value("gansunews/dedupe/peer_reposts") == 1
    assert crawler.stats.get_value("gansunews/dedupe/later_original") == 2


def test_a_crawl_compares_at_close_the_articles_another_crawl_beside_it_wrote(mongo_db, mongo_uri):
    """Two scrapyd jobs on one database (a backfill beside the nightly run): each process's index knows its own
    articles; at close, those written meanwhile by a crawl that ran beside this one go through it. A crawl killed
    long ago (never finished, no progress since) is not beside it, and a crawl alone reads nothing."""
    import asyncio

    from scrapy import signals
    from scrapy.utils.test import get_crawler

    from gansunews.crawlinfo import crawl_id
    from gansunews.pipelines.dedupe import DedupePipeline, fingerprint
    from gansunews.spiders.portal import PortalSpider
    from gansunews.store import utc_now
    from gansunews.text import CHINA_TZ

    tianshui = "天水市今年春季植树造林四万亩，新建城市公园六座，城区绿化覆盖率提高到百分之四十以上，市民出行。" * 2
    crawler = get_crawler(PortalSpider, {"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db.name})
    dedupe = DedupePipeline.from_crawler(crawler)

    def written(article, by: str) -> dict:  # as MongoPipeline writes it
        fingerprint(article)
        seen = datetime.now(CHINA_TZ).isoformat()
        doc = {"_id": article.article_id, "published_at": article.published_at, "content_hash": article.content_hash}
        return {**doc, "minhash": article.minhash, "duplicate_of": None, "crawl": {"crawl_id": by, "last_seen": seen}}

    async def crawl(other: dict):
        ours = dedupe_article("013000020", "2024-02-10T09:00:00+08:00", tianshui)
        await dedupe.process_item(ours)
        mongo_db.articles.insert_one(written(ours, crawl_id(crawler)))
        mongo_db.crawls.insert_one(other)
        theirs = dedupe_article(f"01300000{mongo_db.crawls.count_documents({})}", "2024-01-05T09:00:00+08:00", tianshui)
        mongo_db.articles.insert_one(written(theirs, other["_id"]))
        await dedupe.close_spider()

    killed = {"_id": "killed", "started_at": "2024-01-01T00:00:00+00:00", "finished_at": None, "progress": {}}
    asyncio.run(crawl(killed))
    assert crawler.stats.get_value("gansunews/dedupe/peer_articles") is None  # alone: nothing read
    assert mongo_db.articles.find_one({"_id": "013000020"})["duplicate_of"] is None

    dedupe = DedupePipeline.from_crawler(crawler)
    mongo_db.articles.delete_many({})
    beside = {"_id": "beside", "started_at": "2024-01-01T00:00:00+00:00", "finished_at": None}
    asyncio.run(crawl({**beside, "progress": {"at": utc_now()}}))
    crawler.signals.send_catch_log(signals.engine_stopped)  # closes the crawl's store
    assert crawler.stats.get_value("gansunews/dedupe/crawls_beside") == 1
    assert crawler.stats.get_value("gansunews/dedupe/peer_articles") == 1
    assert mongo_db.articles.find_one({"_id": "013000020"})["duplicate_of"] == "013000002"  # theirs is earlier


def test_copies_still_on_their_way_point_at_their_late_original_when_written(mongo_db, mongo_uri):
    """`Store.repoint`: a stored copy is re-pointed at once; a copy written later (still in a pipeline's batch, or
    written again by a full re-read) points at the original when it is written, and is then forgotten."""
    from gansunews.store import MongoConfig, Store

    store = Store(MongoConfig(uri=mongo_uri, database=mongo_db.name))
    try:
        mongo_db.articles.insert_one({"_id": "013000050", "duplicate_of": None})
        assert store.repoint(["013000050", "013000060"], "013000001") == 1
        store.save_articles([{"_id": "013000060", "duplicate_of": None, "content_hash": "h", "channels": []}])
    finally:
        store.close()
    assert mongo_db.articles.find_one({"_id": "013000050"})["duplicate_of"] == "013000001"
    assert mongo_db.articles.find_one({"_id": "013000060"})["duplicate_of"] == "013000001"
    assert store.repointed == {"013000050": "013000001"}  # written already: kept in case a re-read writes it again


def test_reposts_re_pointed_while_the_database_is_away_are_spooled_and_replayed_at_the_next_start(
    own_ferretdb, tmp_path
):
    """A copy is stored, then MongoDB goes away, then its earlier original is read: the stored copy cannot be
    re-pointed. It is tried again at the close, spooled with the crawl records, and the next start's crawl record
    replays it. Until 2026-12-03 it was dropped, and the copy pointed at nothing for good."""
    import asyncio

    from scrapy.utils.test import get_crawler

    from gansunews.extensions import CrawlRecord
    from gansunews.pipelines.dedupe import DedupePipeline
    from gansunews.spiders.portal import PortalSpider

    db = MongoClient(own_ferretdb.uri).gansunews
    settings = {
        "MONGO_URI": own_ferretdb.uri,
        "MONGO_DATABASE": db.name,
        "GANSUNEWS_SPOOL_DIR": str(tmp_path),
        "GANSUNEWS_MONGO_TIMEOUT_MS": 500,
    }
    crawler = get_crawler(PortalSpider, settings)
    dedupe = DedupePipeline.from_crawler(crawler)
    copy = dedupe_article("013000020", "2024-02-10T09:00:00+08:00")

    async def crawl():
        await dedupe.process_item(copy)
        db.articles.insert_one({"_id": copy.article_id, "duplicate_of": None})  # as MongoPipeline writes it
        own_ferretdb.crash()
        await dedupe.process_item(dedupe_article("013000010", "2024-01-15T09:00:00+08:00"))  # its original
        await dedupe.close_spider()

    asyncio.run(crawl())
    assert crawler.stats.get_value("gansunews/dedupe/repoint_delayed") == 1
    assert crawler.stats.get_value("gansunews/dedupe/repoint_spooled") == 1
    own_ferretdb.start()
    assert db.articles.find_one({"_id": copy.article_id})["duplicate_of"] is None
    following = get_crawler(PortalSpider, settings)
    asyncio.run(CrawlRecord.from_crawler(following).spider_opened(following._create_spider()))
    assert db.articles.find_one({"_id": copy.article_id})["duplicate_of"] == "013000010"
    assert not (tmp_path / f"{db.name}-records.jsonl").exists()


def test_while_the_server_is_away_an_operation_fails_in_half_a_second_not_the_whole_timeout(own_ferretdb):
    """Every write queued on the store's thread during an outage waited out the server-selection timeout in turn
    (5 s by default): the crawl slowed to one write per timeout, and its close took minutes. Once a server has
    answered, an operation waits half a second for one; the first after the server is back finds it."""
    import asyncio

    from gansunews.store import MongoConfig, Store

    store = Store(MongoConfig(uri=own_ferretdb.uri, timeout_ms=5000))

    async def main():
        await store.run(store.ping)  # the server has answered
        own_ferretdb.crash()
        began = time.monotonic()
        for _ in range(3):
            with pytest.raises(PyMongoError):
                await store.run(store.ping)
        away = time.monotonic() - began
        own_ferretdb.start()
        await store.run(store.ping)
        return away

    try:
        away = asyncio.run(main())
    finally:
        store.close()
    assert away < 3, away  # 15 s before


def test_the_verdict_s_baseline_is_the_last_crawl_that_finished(mongo_db, mongo_uri):
    from gansunews.store import MongoConfig, Store

    store = Store(MongoConfig(uri=mongo_uri, database=mongo_db.name))
    for day, reason in (("01", "finished"), ("02", "shutdown"), ("03", "arguments_differ"), ("05", "finished")):
        store.finish_crawl(f"c{day}", {"spider": "gscn", "started_at": f"2026-12-{day}", "finish_reason": reason})
    mongo_db.crawls.insert_one({"_id": "running", "spider": "gscn", "started_at": "2026-12-03"})
    try:
        assert store.previous_crawl("gscn", "2026-12-05")["_id"] == "c01"
        assert store.previous_crawl("gscn", "2026-12-06")["_id"] == "c05"
        assert store.previous_crawl("gscn", "2026-12-01") is None
    finally:
        store.close()


def test_a_walk_saved_again_before_the_writer_gets_to_it_is_written_once_with_its_latest_progress(mongo_db, mongo_uri):
    import asyncio
    import threading

    from gansunews.store import MongoConfig, Store

    store = Store(MongoConfig(uri=mongo_uri, database=mongo_db.name))
    busy = threading.Event()
    record = {"_id": "lz", "name": "兰州", "newest_seen": "2024-03-10"}

    async def main():
        store.run_soon(busy.wait)  # the writer is busy with an article batch, say
        for resume_at in (50, 49, 48):
            store.save_walk_soon("lz", record, {"resume_at": resume_at, "complete": False})
        store.save_walk_soon("qy", {**record, "_id": "qy"}, {"resume_at": None, "complete": True})
        assert len(store.in_flight) == 2  # the busy write and one write of every walk saved since
        busy.set()
        while store.in_flight:
            await asyncio.sleep(0.01)

    try:
        asyncio.run(main())
    finally:
        store.close()
    walks = {doc["_id"]: doc for doc in mongo_db.channels.find()}
    assert walks["lz"]["walk"] == {"resume_at": 48, "complete": False} and walks["qy"]["walk"]["complete"]
    assert "newest_seen" not in walks["lz"]  # the watermark moves only when a crawl finishes cleanly


def test_a_staged_walk_counts_only_once_its_crawl_is_promoted(mongo_db, mongo_uri):
    """A distributed crawl's walks wait beside the walk earlier crawls left; its finish promotes its own, once, and
    never moves a watermark back."""
    import asyncio

    from gansunews.store import MongoConfig, Store

    earlier = {"resume_at": None, "complete": True, "covered_since": "2024-01-01"}
    mongo_db.channels.insert_many(
        [
            {"_id": "lz", "name": "兰州", "newest_seen": "2024-03-10", "walk": earlier},
            {"_id": "qy", "name": "庆阳", "newest_seen": "2024-03-12", "walk": earlier},
        ]
    )
    store = Store(MongoConfig(uri=mongo_uri, database=mongo_db.name))
    walk = {"resume_at": None, "complete": True, "covered_since": None}

    async def main():
        store.save_walk_soon("lz", {"_id": "lz", "name": "兰州", "newest_seen": "2024-03-20"}, walk, "crawl-a")
        store.save_walk_soon("qy", {"_id": "qy", "name": "庆阳", "newest_seen": "2024-03-11"}, walk, "crawl-a")
        store.save_walk_soon("ts", {"_id": "ts", "name": "天水", "newest_seen": None}, walk, "crawl-b")
        staged = await store.run(lambda: {doc["_id"]: doc for doc in mongo_db.channels.find()})
        assert staged["lz"]["walk"] == earlier and staged["lz"]["newest_seen"] == "2024-03-10"  # not yet
        return [await store.run(store.promote_walks, "crawl-a") for _ in range(2)]

    try:
        assert asyncio.run(main()) == [2, 0]  # a second finishing process finds nothing left to promote
    finally:
        store.close()
    channels = {doc["_id"]: doc for doc in mongo_db.channels.find()}
    assert channels["lz"]["walk"] == walk and channels["lz"]["newest_seen"] == "2024-03-20"
    assert channels["qy"]["walk"] == walk and channels["qy"]["newest_seen"] == "2024-03-12"  # only forward
    assert "staged" not in channels["lz"] and "walk" not in channels["ts"]  # another crawl's waits for its finish
    assert channels["ts"]["staged"]["crawl"] == "crawl-b"


def test_stored_fingerprints_join_by_the_week_near_what_is_read(mongo_db, mongo_uri):
    """A crawl loads the stored articles published within the repost window of what it reads, not the archive."""
    import asyncio

    from scrapy import signals
    from scrapy.utils.test import get_crawler

    from gansunews.pipelines.dedupe import DedupePipeline, fingerprint
    from gansunews.spiders.portal import PortalSpider

    for cms_id, day in (("013000001", "2024-01-10"), ("012000001", "2023-03-01"), ("012000002", "2023-02-01")):
        stored = dedupe_article(cms_id, f"{day}T09:00:00+08:00")
        fingerprint(stored)
        mongo_db.articles.insert_one(
            {"_id": cms_id, "published_at": stored.published_at, "content_hash": "h", "minhash": stored.minhash}
        )
    crawler = get_crawler(PortalSpider, {"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db.name})
    dedupe = DedupePipeline.from_crawler(crawler)
    repost = asyncio.run(dedupe.process_item(dedupe_article("013000090", "2024-01-20T09:00:00+08:00")))
    crawler.signals.send_catch_log(signals.engine_stopped)  # closes the crawl's store
    assert repost.duplicate_of == "013000001"  # stored by an earlier run, 10 days before
    assert crawler.stats.get_value("gansunews/dedupe/stored_fingerprints") == 1  # the 2023 copies stayed stored
    assert "012000001" not in dedupe.index


def test_reposts_read_before_their_original_point_at_it_in_storage(mongo_db, tmp_path):
    fresh = Site(seed=7)
    original, exact, near = fresh.reposts
    server = ReplicaServer(fresh).start()
    server.delays[original.path] = 1.5  # the original answers last
    try:
        result = crawl_into(mongo_db, server.proxy_url, tmp_path, f"since={SINCE}")
    finally:
        server.stop()
    assert result.stat("dedupe/later_original") >= 1
    stored = {doc["_id"]: doc.get("duplicate_of") for doc in mongo_db.articles.find({}, {"duplicate_of": 1})}
    assert stored[original.article_id] is None
    assert stored[exact.article_id] == stored[near.article_id] == original.article_id
    assert sum(1 for root in stored.values() if root) == 2


def test_without_a_feed_articles_stream_and_later_channels_are_merged_on_write(mongo_db, replica, site, tmp_path):
    """No feed: nothing waits for the walks. An article listed again after it left the spider (still in a batch,
    or stored) gets that channel in MongoDB, so every stored article has exactly the channels that list it."""
    result = crawl_into(mongo_db, replica.proxy_url, tmp_path, f"since={SINCE}", feed=False)
    assert result.stats["finish_reason"] == "finished", result.log[-2000:]
    stored = {doc["_id"]: doc for doc in mongo_db.articles.find()}
    assert set(stored) == site.expected_ids(date.fromisoformat(SINCE))
    stories = {story.article_id: story for story in site.stories.values()}
    for cms_id, doc in stored.items():
        listed_in = {channel_key(c.live_url) for c in site.channels if stories[cms_id] in site.reachable(c)}
        assert {channel_key(c["url"]) for c in doc["channels"]} == listed_in, cms_id
    assert site.wrong_fields(list(stored.values())) == []


def test_a_full_disk_under_the_repost_index_costs_repost_links_not_articles(tmp_path, caplog):
    """The repost index's file cannot grow (SQLite's "database or disk is full", here by a page limit): every
    article still goes on, without its repost link; the failures are counted, said once, and the verdict is
    degraded. Reposts of what the index holds are still found."""
    import asyncio
    import dataclasses

    from scrapy.utils.test import get_crawler

    from gansunews.pipelines.dedupe import DedupePipeline
    from gansunews.quality import quality_verdict
    from gansunews.spiders.portal import PortalSpider

    crawler = get_crawler(PortalSpider, {"GANSUNEWS_SPOOL_DIR": str(tmp_path)})
    dedupe = DedupePipeline.from_crawler(crawler)

    def article(number: int, text: str):
        item = dedupe_article(f"{13100000 + number:09d}", "2024-01-15T09:00:00+08:00")
        return dataclasses.replace(item, content_text=text, content_hash=f"h{hash(text)}")

    async def crawl():
        first = await dedupe.process_item(article(0, "原文" * 100))
        pages = dedupe.index.db.execute("PRAGMA page_count").fetchone()[0]
        dedupe.index.db.execute(f"PRAGMA max_page_count = {pages}")  # full
        others = [await dedupe.process_item(article(number, f"{number}" * 300)) for number in range(1, 200)]
        repost = await dedupe.process_item(article(999, "原文" * 100))
        assert dedupe.index.db.execute("PRAGMA integrity_check").fetchone() == ("ok",)  # each failure rolled back
        await dedupe.close_spider()
        return first, others, repost

    first, others, repost = asyncio.run(crawl())
    stats = crawler.stats
    assert len(others) == 199 and all(item.minhash for item in others)  # every article went on, fingerprinted
    assert stats.get_value("gansunews/dedupe/index_failed") >= 1
    assert repost.duplicate_of == first.article_id
    assert sum("the repost index failed" in r.getMessage() for r in caplog.records) == 1
    verdict, problems, _ = quality_verdict(stats.get_stats(), "finished")
    assert verdict == "degraded" and any(problem.startswith("the repost index failed") for problem in problems)


def test_stored_weeks_are_read_only_where_the_archive_has_articles(mongo_db, mongo_uri):
    """A backfill into an empty archive reads no stored week (on FerretDB each read scans the collection, and the
    writes wait behind it); a crawl of an archive reads only the weeks within its span."""
    import asyncio

    from scrapy import signals
    from scrapy.utils.test import get_crawler

    from gansunews.pipelines.dedupe import DedupePipeline
    from gansunews.spiders.portal import PortalSpider

    def read(*articles):
        crawler = get_crawler(PortalSpider, {"MONGO_URI": mongo_uri, "MONGO_DATABASE": mongo_db.name})
        dedupe = DedupePipeline.from_crawler(crawler)

        async def run():
            for article in articles:
                await dedupe.process_item(article)

        asyncio.run(run())
        crawler.signals.send_catch_log(signals.engine_stopped)  # closes the crawl's store
        return dedupe

    empty = read(dedupe_article("013000001", "2024-01-15T09:00:00+08:00"))
    assert empty.archive_weeks == (1, 0) and set(empty.weeks.values()) == {None}
    mongo_db.articles.insert_one({"_id": "013000002", "published_at": "2023-06-01T09:00:00+08:00"})
    archive = read(dedupe_article("013000003", "2023-07-01T09:00:00+08:00"))
    loaded = [week for week, read in archive.weeks.items() if read is not None]
    assert loaded and archive.archive_weeks[0] == archive.archive_weeks[1] in loaded


def test_stored_weeks_not_read_are_tried_again_then_given_up(tmp_path):
    """A read of stored fingerprints that fails is tried again when its weeks are next needed; after three
    failures in a row the crawl finds reposts within itself only, and says so."""
    import asyncio

    from scrapy import signals
    from scrapy.utils.test import get_crawler

    from gansunews.pipelines.dedupe import DedupePipeline
    from gansunews.spiders.portal import PortalSpider

    settings = {"MONGO_URI": "mongodb://127.0.0.1:9/", "GANSUNEWS_MONGO_TIMEOUT_MS": 100}
    crawler = get_crawler(PortalSpider, settings)
    crawler.stats.open_spider()
    dedupe = DedupePipeline.from_crawler(crawler)

    async def run():
        for number in range(5):
            await dedupe.process_item(dedupe_article(f"01300000{number}", "2024-01-15T09:00:00+08:00"))

    asyncio.run(run())
    crawler.signals.send_catch_log(signals.engine_stopped)  # closes the crawl's store
    assert crawler.stats.get_value("gansunews/dedupe/load_failed") == 3
    assert crawler.stats.get_value("gansunews/dedupe/state_unavailable") == 1 and dedupe.unavailable


def test_a_backfill_after_a_crawl_of_recent_days_stores_its_whole_span(mongo_db, fresh_replica, tmp_path):
    """The README's first live crawl: recent days first, then the backfill. The backfill walks down to its `since`
    past the pages the first crawl stored; the crawl after it is incremental again. Until 2026-12-03 the backfill read
    one week behind the first crawl's watermark and stored 35 of 146 articles, with an `ok` verdict."""
    site, server = fresh_replica
    crawl_into(mongo_db, server.proxy_url, tmp_path / "recent", "since=2024-03-20", feed=False)
    backfill = crawl_into(mongo_db, server.proxy_url, tmp_path / "backfill", f"since={SINCE}", feed=False)
    assert {doc["_id"] for doc in mongo_db.articles.find({}, {"_id": 1})} == site.expected_ids(
        date.fromisoformat(SINCE)
    )
    assert backfill.stats["gansunews/quality"] == "ok"
    again = crawl_into(mongo_db, server.proxy_url, tmp_path / "again", f"since={SINCE}", feed=False)
    assert again.stats["downloader/request_count"] < backfill.stats["downloader/request_count"] / 4


def test_a_channel_that_recent_crawls_found_and_this_one_did_not_is_named(mongo_db, fresh_replica, tmp_path):
    """The site drops its link to a 市州 channel (reorganised): the channel's new articles are out of reach. The crawl
    says which channel it no longer finds (a warning, a note in the verdict). Before, it said nothing."""
    site, server = fresh_replica
    crawl_into(mongo_db, server.proxy_url, tmp_path / "1", f"since={SINCE}", feed=False)
    jiayuguan = next(city for city in site.shizhou.children if city.name == "嘉峪关")
    site.shizhou.children.remove(jiayuguan)
    second = crawl_into(mongo_db, server.proxy_url, tmp_path / "2", f"since={SINCE}", feed=False)
    assert second.stats["gansunews/discovery/unfound"] == ["嘉峪关"]
    assert "1 channels found by recent crawls were not found: 嘉峪关" in second.stats["gansunews/quality/notes"]
    assert "channels found by recent crawls were not found" in second.log
