"""Pipelines on real items inside a real (not started) Scrapy crawler: drops, stats, regions, reposts."""

from __future__ import annotations

import asyncio

import pytest
from scrapy.exceptions import DropItem
from scrapy.utils.test import get_crawler

from gansunews.items import Article, RawArticle
from gansunews.pipelines.clean import CleanPipeline, clean_article
from gansunews.pipelines.dedupe import DedupePipeline
from gansunews.pipelines.regions import article_regions
from gansunews.pipelines.validate import ValidatePipeline
from gansunews.spiders.portal import PortalSpider

BODY = [
    "近年来，西峰区坚持以促进军地深度融合发展为目标，广泛开展军民共建共享活动，全面贯彻落实各项优抚政策。",
    "同时，西峰区按照“四有”标准和全覆盖要求，在全区7个乡镇组建了退役军人服务站，畅通了服务保障的最后一公里。",
]


def raw(cms_id="012429584", date="20-08-05 08:44", paragraphs=None, title="双拥花开董志塬", **fields) -> RawArticle:
    return RawArticle(
        url=f"http://gansu.gscn.com.cn/system/2020/08/05/{cms_id}.shtml?from=x",
        article_id=cms_id,
        template="A",
        title=title,
        published_at_raw=date,
        paragraphs=BODY if paragraphs is None else paragraphs,
        **fields,
    )


@pytest.fixture
def crawler():
    crawler = get_crawler(PortalSpider, {"GANSUNEWS_SEEDS": []})
    crawler.spider = crawler._create_spider(since="2020-01-01")
    return crawler


def test_clean_builds_the_contract(crawler):
    pipeline = CleanPipeline(crawler)
    pipeline.open_spider()
    article = pipeline.process_item(raw(source="来源：陇东报 编辑：程建", editor="编辑:程建"))
    assert isinstance(article, Article)
    assert article.url == "https://gansu.gscn.com.cn/system/2020/08/05/012429584.shtml"
    assert article.published_at == "2020-08-05T08:44:00+08:00"
    assert (article.source, article.editor) == ("陇东报", "程建")
    assert article.content_text == "\n".join(BODY)
    assert article.crawl["crawl_id"] and article.crawl["spider"] == "gscn"


@pytest.mark.parametrize(
    ("item", "reason"),
    [
        (raw(title=""), "no_title"),
        (raw(date=None), "no_date"),
        (raw(date="来源:陇东报"), "no_date"),
        (raw(date="2999-01-01 10:00"), "bad_date"),
        (raw(paragraphs=[]), "no_body"),
        (raw(date="2019-12-31 23:59"), "older_than_since"),
    ],
)
def test_validation_drops_with_a_counted_reason(crawler, item, reason):
    with pytest.raises(DropItem, match=reason):
        ValidatePipeline(crawler).process_item(clean_article(item))
    assert crawler.stats.get_value(f"gansunews/drop/{reason}") == 1


def test_regions_via_channel_breadcrumb_and_text():
    article = clean_article(
        raw(
            breadcrumb=["中国甘肃网", "甘肃新闻", "市州播报", "庆阳"],
            channels=[{"name": "要闻", "url": "u", "region_code": "620000"}],
        )
    )
    regions = {r["code"]: r for r in article_regions(article)}
    assert regions["620000"]["via"] == "channel"
    assert regions["621000"]["via"] == "breadcrumb"
    assert regions["621002"]["via"] == "text"


def test_county_implies_its_prefecture():
    article = clean_article(raw(title="积石山县灾后重建", paragraphs=["灾后重建工作有序推进，群众陆续搬入新居。"]))
    regions = {r["code"]: r for r in article_regions(article)}
    assert regions["622927"]["via"] == "text"
    assert regions["622900"]["implied_by"] == "622927"


def test_newspaper_source_is_not_a_place_but_county_media_centre_is():
    plain = clean_article(raw(title="全省春耕有序推进", paragraphs=["各地抢抓农时。"], source="天水日报"))
    assert article_regions(plain) == []
    local = clean_article(raw(title="春耕生产有序推进", paragraphs=["各地抢抓农时。"], source="西峰区融媒体中心"))
    assert {r["code"] for r in article_regions(local)} == {"621002", "621000"}


def dedupe_item(dedupe: DedupePipeline, item):
    return asyncio.run(dedupe.process_item(item))


def test_repost_points_at_earlier_copy_and_exact_copy_shares_hash(crawler):
    dedupe = DedupePipeline.from_crawler(crawler)
    original = dedupe_item(dedupe, clean_article(raw("013000001", "2024-01-15 09:00")))
    exact = dedupe_item(
        dedupe,
        clean_article(
            raw("013000050", "2024-01-20 09:00", title="转载", paragraphs=[p.replace("，", ", ") for p in BODY])
        ),
    )
    near = dedupe_item(
        dedupe,
        clean_article(
            raw("013000090", "2024-01-25 09:00", title="各地热议", paragraphs=[BODY[0], BODY[1][:-1] + "，成效明显。"])
        ),
    )
    other = dedupe_item(
        dedupe,
        clean_article(
            raw(
                "013000095",
                "2024-01-25 10:00",
                paragraphs=[
                    "兰州新区今年计划实施重点项目一百二十个，总投资超过八百亿元，涵盖新能源、新材料和数字经济等领域。"
                ],
            )
        ),
    )
    assert original.duplicate_of is None and other.duplicate_of is None
    assert exact.duplicate_of == near.duplicate_of == "013000001"
    assert exact.content_hash == original.content_hash and len(original.simhash) == 16


def test_same_id_twice_is_dropped(crawler):
    dedupe = DedupePipeline.from_crawler(crawler)
    dedupe_item(dedupe, clean_article(raw()))
    with pytest.raises(DropItem, match="duplicate_id"):
        dedupe_item(dedupe, clean_article(raw()))


def test_an_original_older_than_its_copies_repoints_them(crawler):
    """Copies first (a back-dated original found later): they point at the original from then on."""
    dedupe = DedupePipeline.from_crawler(crawler)
    copy = dedupe_item(dedupe, clean_article(raw("013000050", "2024-01-20 09:00", title="转载")))
    original = dedupe_item(dedupe, clean_article(raw("013000001", "2024-01-15 09:00")))
    assert copy.duplicate_of is None and original.duplicate_of is None  # the feed keeps what was emitted
    assert dedupe.index.root_of("013000050") == "013000001" and dedupe.index.root_of("013000001") is None
    assert crawler.stats.get_value("gansunews/dedupe/later_original") == 1


def test_a_batch_that_can_be_neither_written_nor_spooled_stays_and_is_not_settled(tmp_path):
    """MongoDB away and the spool not writable (a full disk; here its directory is a file): the batch is kept in
    memory and tried again; it is not reported stored (not settled), so the walks do not move past it. Once the
    spool can be written, it is spooled and reported (as spooled)."""
    from gansunews.crawlinfo import articles_stored
    from gansunews.pipelines.mongo import MongoPipeline
    from gansunews.store import MongoConfig, Store

    blocked = tmp_path / "spool"
    blocked.write_text("not a directory")
    config = MongoConfig(uri="mongodb://127.0.0.1:9/", timeout_ms=200, spool_dir=blocked / "inside")
    crawler = get_crawler(settings_dict={})
    crawler.stats.open_spider()
    reported: list[tuple[list[str], bool]] = []
    crawler.signals.connect(lambda ids, spooled: reported.append((ids, spooled)), signal=articles_stored, weak=False)
    pipeline = MongoPipeline(crawler, config)
    pipeline.store = Store(config)
    pipeline.buffer = [{"_id": "013000001"}, {"_id": "013000002"}]

    async def main() -> None:
        await pipeline.flush()
        assert [doc["_id"] for doc in pipeline.buffer] == ["013000001", "013000002"] and reported == []
        blocked.unlink()
        await pipeline.flush()

    try:
        asyncio.run(main())
    finally:
        pipeline.store.close()
    assert pipeline.buffer == [] and reported == [(["013000001", "013000002"], True)]
    assert crawler.stats.get_value("gansunews/mongo/unspooled_batches") == 1
    assert crawler.stats.get_value("gansunews/mongo/spooled") == 2
