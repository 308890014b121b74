"""End to end: `scrapy crawl gscn` through the replica as an http(s) proxy; exact ids, stats, finish reason."""

from __future__ import annotations

from datetime import date

import pytest

from gansunews.urls import article_id
from tests.conftest import run_crawl
from tests.replica.server import ReplicaServer
from tests.replica.site import Site

SINCE = "2024-01-01"


@pytest.fixture(scope="module")
def crawl(replica, tmp_path_factory):
    before, before_browser = len(replica.requests), len(replica.browser_requests)
    result = run_crawl(replica.proxy_url, tmp_path_factory.mktemp("crawl"), f"since={SINCE}")
    result.requests = replica.requests[before:]
    result.browser_requests = replica.browser_requests[before_browser:]
    result.offsite = list(replica.offsite)
    assert result.returncode == 0, result.log[-3000:]
    return result


def test_finishes_cleanly(crawl):
    assert crawl.stats["finish_reason"] == "finished"
    assert "Traceback" not in crawl.log and crawl.stats.get("log_count/ERROR", 0) == 0


def test_exactly_the_expected_articles_once(crawl, site):
    assert len(crawl.ids) == len(set(crawl.ids))
    assert set(crawl.ids) == site.expected_ids(date.fromisoformat(SINCE))


def test_articles_stream_while_listings_are_walked(crawl):
    """Article requests go out as their listings are read, not after every walk: the first article stored was
    fetched before the last archive page was. Pages are read in a worker process."""
    order = {url.split("://", 1)[1]: at for at, url in enumerate(crawl.requests)}
    first_article = order[crawl.items[0]["url"].split("://", 1)[1]]
    last_listing = max(at for at, url in enumerate(crawl.requests) if "/system/20" not in url)
    assert first_article < last_listing / 2
    assert crawl.stat("readers/peak_rss") > 0  # the pages were read by a worker
    assert crawl.stat("memory/peak_rss") > 20 * 2**20  # the crawl process's own peak (test_readers: not its launcher's)
    assert crawl.stat("memory/mmap_threshold") == 2**20  # large freed blocks go back (test_allocator)


def test_nothing_older_than_since(crawl):
    assert all(item["published_at"][:10] >= SINCE for item in crawl.items)


def test_no_request_leaves_the_site(crawl):
    assert crawl.offsite == []
    assert crawl.stat("skip/offsite_link") == 1 and crawl.stat("skip/offsite_redirect") == 1


def test_non_articles_are_counted_not_emitted(crawl):
    assert crawl.stat("skip/live_redirect") == 1
    assert crawl.stat("skip/soft_404") == 1
    assert crawl.stat("skip/topic") == 1
    assert crawl.stat("fail/article/http_404") == 1
    assert crawl.stat("drop/no_date") == 0 and crawl.stat("drop/no_body") == 1
    assert crawl.stat("date/from/url") == 1  # a page without a date of its own: its URL's day
    assert crawl.stat("drop/unparsable") == 1  # an empty 200 response, through its retries
    assert crawl.stats["retry/reason_count/empty_response"] == 3


def test_degraded_pagers_are_counted(crawl):
    assert crawl.stat("pager/bad_maxpage") == 1
    assert crawl.stat("fail/listing/http_404") >= 1


def test_channels_discovered_at_every_level(crawl, site):
    assert crawl.stat("discovery/channels/province") == 5
    assert crawl.stat("discovery/channels/prefecture") == 14 + 1  # 兰州新区 is attributed to 兰州
    assert crawl.stat("discovery/channels/county") == 5
    assert not any("finance.gscn.com.cn" in url for url in crawl.requests)  # other trees are not walked


def test_deep_channel_crosses_the_thousand_page_folder(crawl, site):
    pages = {site.shehui.page_path(n) for n in (999, 1000, 1001)}
    assert pages <= {url.split("gscn.com.cn", 1)[1] for url in crawl.requests}
    assert "/000/000/" in site.shehui.page_path(999) and "/000/001/" in site.shehui.page_path(1000)


def test_listing_walk_stops_at_since(crawl, site):
    oldest_walked = min(int(u.rsplit("_", 1)[1][:9]) for u in crawl.requests if site.shehui.code in u and "_0" in u)
    assert oldest_walked >= site.shehui.extra_pages  # never walks down into the padding pages


def test_cross_listed_article_carries_every_channel(crawl, site):
    item = next(i for i in crawl.items if i["article_id"] == site.cross_listed.article_id)
    assert {c["name"] for c in item["channels"]} == {"庆阳", "西峰区", "要闻"}
    assert {c["region_code"] for c in item["channels"]} == {"621000", "621002", "620000"}


def test_fields_match_the_site(crawl, site):
    assert site.wrong_fields(crawl.items) == []


def test_multi_page_article_is_joined(crawl, site):
    item = next(i for i in crawl.items if i["article_id"] == site.multi_page.article_id)
    assert item["page_count"] == 3 and "下一页" not in item["content_text"]
    assert item["url"].endswith(f"{site.multi_page.article_id}.shtml")


def test_reposts_are_found_whatever_order_they_are_read_in(crawl, site):
    """In the feed a copy points at the earliest copy read before it; one read before its original cannot be
    changed once written (MongoDB re-points it: test_mongo)."""
    items = {item["article_id"]: item for item in crawl.items}
    original, exact, near = (items[story.article_id] for story in site.reposts)
    assert original["duplicate_of"] is None
    assert exact["content_hash"] == original["content_hash"]
    copies = {item["article_id"] for item in (original, exact, near)}
    assert {exact["duplicate_of"], near["duplicate_of"]} <= copies | {None}
    assert {item["article_id"] for item in crawl.items if item["duplicate_of"]} <= copies
    if {exact["duplicate_of"], near["duplicate_of"]} != {original["article_id"]}:
        assert crawl.stat("dedupe/later_original") >= 1


def test_regions_from_channels_breadcrumb_and_text(crawl, site):
    item = next(i for i in crawl.items if i["article_id"] == site.cross_listed.article_id)
    assert {(r["code"], r["via"]) for r in item["regions"]} == {
        ("620000", "channel"),
        ("621000", "channel"),
        ("621002", "channel"),
    }
    traps = next(i for i in crawl.items if i["article_id"] == site.dateline.article_id)
    assert [r["code"] for r in traps["regions"]] == ["620000"]


def test_new_area_channel_is_attributed_to_lanzhou(crawl, site):
    new_area = next(c for c in site.channels if c.name == "兰州新区")
    ids = {s.article_id for s in site.reachable(new_area) if s.published.date() >= date(2024, 1, 1)}
    items = [i for i in crawl.items if i["article_id"] in ids]
    assert items and all("620100" in {c["region_code"] for c in i["channels"]} for i in items)


def test_crawl_metadata(crawl):
    crawl_ids = {item["crawl"]["crawl_id"] for item in crawl.items}
    assert len(crawl_ids) == 1 and crawl.stats["gansunews/crawl_id"] in crawl_ids
    assert all(item["crawl"]["status"] == 200 and item["crawl"]["spider"] == "gscn" for item in crawl.items)


# --- arguments ---------------------------------------------------------------------------------------------


def test_regions_argument_limits_to_a_prefecture_and_its_counties(replica, site, tmp_path):
    result = run_crawl(replica.proxy_url, tmp_path, f"since={SINCE}", "regions=庆阳")
    wanted = {"621000", "621002", "621022"}
    expected = {
        s.article_id
        for c in site.channels
        if c.region in wanted
        for s in site.reachable(c)
        if s.kind == "article" and s.published.date() >= date(2024, 1, 1)
    }
    assert set(result.ids) == expected
    assert all({c["region_code"] for c in i["channels"]} <= wanted for i in result.items)


def test_max_pages_bounds_each_channel(replica, tmp_path):
    result = run_crawl(replica.proxy_url, tmp_path, "max_pages=1")
    assert result.stats["finish_reason"] == "finished"
    assert result.stat("listing/pages") == result.stat("discovery/channels") - result.stat(
        "discovery/channels_not_selected"
    )


def test_bad_argument_is_a_clear_error(replica, tmp_path):
    result = run_crawl(replica.proxy_url, tmp_path, "since=yesterday")
    assert result.returncode != 0 and "since='yesterday': expected a day as YYYY-MM-DD" in result.log


def test_other_seed_other_slugs_same_completeness(tmp_path):
    other = Site(seed=2024)
    server = ReplicaServer(other).start()
    try:
        result = run_crawl(server.proxy_url, tmp_path, f"since={SINCE}")
    finally:
        server.stop()
    assert set(result.ids) == other.expected_ids(date.fromisoformat(SINCE)) and len(result.ids) == len(set(result.ids))
    assert server.offsite == []


def test_a_list_its_script_writes_from_its_own_text_is_read_without_chromium(crawl, site):
    """图片's script writes HTML held in its own string literals: the entries are read from them, and no page
    goes to the browser."""
    assert crawl.stat("listing/drawn_by_script") >= 1 and crawl.stat("listing/rendered") == 0
    assert crawl.browser_requests == []
    drawn = {
        s.article_id for s in site.tupian.stories if s.kind == "article" and s.published.date() >= date(2024, 1, 1)
    }
    assert drawn and drawn <= set(crawl.ids)


@pytest.fixture(scope="module")
def data_drawn_crawl(data_drawn_replica, tmp_path_factory):
    """A crawl of the replica whose 图片 list is built from data by its script: only Chromium can read it."""
    _, server = data_drawn_replica
    before, before_browser = len(server.requests), len(server.browser_requests)
    result = run_crawl(server.proxy_url, tmp_path_factory.mktemp("data_drawn"), f"since={SINCE}")
    result.requests, result.browser_requests = server.requests[before:], server.browser_requests[before_browser:]
    assert result.returncode == 0, result.log[-3000:]
    return result


def test_a_list_built_from_data_is_rendered_in_chromium(data_drawn_crawl, data_drawn_replica):
    site, _ = data_drawn_replica
    assert data_drawn_crawl.stat("listing/rendered") >= 1 and data_drawn_crawl.stat("listing/drawn_by_script") == 0
    assert set(data_drawn_crawl.ids) == site.expected_ids(date.fromisoformat(SINCE))
    assert len(data_drawn_crawl.ids) == len(set(data_drawn_crawl.ids))


def test_a_js_drawn_channel_sends_its_archive_pages_straight_to_the_browser(data_drawn_crawl, data_drawn_replica):
    """Its live page showed the list is drawn by JavaScript: no archive page is fetched over HTTP first."""
    site, _ = data_drawn_replica
    archive = f"/c{site.tupian.code}{site.tupian.sub}_"
    rendered = [url for url, dest in data_drawn_crawl.browser_requests if dest == "document" and archive in url]
    fetched = [url for url in data_drawn_crawl.requests if archive in url]
    assert rendered and len(fetched) == len(rendered)  # every fetch of an archive page was the browser's


def test_without_a_browser_js_lists_are_counted_not_lost_silently(data_drawn_replica, tmp_path):
    _, server = data_drawn_replica
    result = run_crawl(
        server.proxy_url, tmp_path, f"since={SINCE}", "max_pages=1", env={"GANSUNEWS_PLAYWRIGHT_ENABLED": "0"}
    )
    assert result.stat("listing/needs_browser_disabled") >= 1 and result.stat("listing/rendered") == 0
    assert "Starting download handler" not in result.log  # scrapy-playwright is never built when nothing renders


def test_articles_fed_a_few_at_a_time_are_all_emitted_once(replica, site, tmp_path):
    """The spider hands article requests to the scheduler as it drains (bounded memory): with a queue of 2,
    nothing is lost, nothing is fetched twice."""
    before = len(replica.requests)
    result = run_crawl(
        replica.proxy_url,
        tmp_path,
        f"since={SINCE}",
        settings={"GANSUNEWS_QUEUED_ARTICLES": 2},
        env={"GANSUNEWS_PLAYWRIGHT_ENABLED": "0"},
    )
    assert set(result.ids) == site.expected_ids(date.fromisoformat(SINCE))  # 图片's list needs no browser
    assert len(result.ids) == len(set(result.ids))
    empty = {story.article_id for story in site.stories.values() if story.kind == "empty"}  # retried: empty each time
    fetched = [url for url in replica.requests[before:] if "/system/20" in url and article_id(url) not in empty]
    assert len(fetched) == len(set(fetched)) >= len(result.ids)


def test_empty_archive_pages_with_nothing_to_draw_a_list_are_not_rendered(replica, site, tmp_path):
    """社会's oldest archive pages are empty: a list container and the pager script, no other script. A browser
    would show them as served, so none goes to Chromium; the walk stops on them."""
    result = run_crawl(replica.proxy_url, tmp_path, "since=2023-01-01")
    assert set(result.ids) == site.expected_ids(date(2023, 1, 1))
    assert result.stat("listing/empty") >= 4 and result.stat("listing/stopped_empty") >= 1
    assert result.stat("listing/rendered") == 0 and result.stat("listing/needs_browser") == 0
