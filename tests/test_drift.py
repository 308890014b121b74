"""The crawl against replicas rendered the ways SITE.md says the real portal may differ: one variation at a time,
all at once with other slugs and codes, and two broken replicas whose verdicts must name the cause. The survey
command against the same replicas."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import date

import pytest
import redis

from gansunews.urls import channel_key
from tests.conftest import PROJECT, missing_service, run_crawl
from tests.replica.server import ReplicaServer, crawl_environment
from tests.replica.site import ALL_VARIATIONS, Site

SINCE = date(2024, 1, 1)
# which way each variation must be met: a stat that says so
WAY_IN = {
    "title_site_first": "discovery/root_by/title",
    "list_class": "listing/found_by/pager_script",
    "pager_relative": "pager/script/relative",
    "city_suffix": "discovery/region_name/variant",
    "no_listing_crumbs": "discovery/breadcrumb/absent",
    "bracket_dates": "listing/undated_entries",
    "reversed_numbering": "pager/numbering/falling",
}


def crawl_replica(site: Site, workdir):
    if not shutil.which("chromium"):
        missing_service("Debian's chromium is not installed (apt-get install chromium): JS-drawn lists need it")
    server = ReplicaServer(site).start()
    try:
        result = run_crawl(server.proxy_url, workdir, f"since={SINCE}")
        result.requests = list(server.requests)
    finally:
        server.stop()
    assert result.returncode == 0, result.log[-3000:]
    return result


def assert_exact(result, site: Site) -> None:
    assert len(result.ids) == len(set(result.ids))
    assert set(result.ids) == site.expected_ids(SINCE)
    assert site.wrong_fields(result.items) == []
    stories = {story.article_id: story for story in site.stories.values()}
    for item in result.items:  # every channel that lists it, and none that does not (sidebars are not entries)
        story = stories[item["article_id"]]
        listed_in = {channel_key(c.live_url) for c in site.channels if story in site.reachable(c)}
        assert {channel_key(c["url"]) for c in item["channels"]} == listed_in, item["article_id"]
        assert {c["region_code"] for c in item["channels"]} <= {r["code"] for r in item["regions"]}


@pytest.mark.parametrize("variation", sorted(ALL_VARIATIONS))
def test_each_variation_finds_every_article(variation, tmp_path):
    site = Site(seed=7, variations=frozenset({variation}))
    result = crawl_replica(site, tmp_path)
    assert_exact(result, site)
    assert result.stats.get("gansunews/quality") == "ok", result.stats.get("gansunews/quality/problems")
    if variation in WAY_IN:
        assert result.stat(WAY_IN[variation]) > 0


def test_all_variations_at_once_with_other_slugs_and_codes(tmp_path):
    site = Site(seed=2024, variations=ALL_VARIATIONS)
    result = crawl_replica(site, tmp_path)
    assert_exact(result, site)
    assert result.stat("discovery/channels/prefecture") == 15  # 14 市州 and 兰州新区
    assert result.stats.get("gansunews/quality") == "ok", result.stats.get("gansunews/quality/problems")


def test_no_pager_anywhere_reads_live_pages_and_says_so(tmp_path):
    site = Site(seed=7, variations=frozenset({"no_pager"}))
    result = crawl_replica(site, tmp_path)
    assert set(result.ids) == site.expected_ids(SINCE)  # the live pages' articles, all of them
    assert result.stat("pager/missing") == 25
    assert result.stats["gansunews/quality"] == "degraded"
    assert any("25 of 25 channels have no pager" in p for p in result.stats["gansunews/quality/problems"])


def test_no_recognisable_list_finds_nothing_and_says_why(tmp_path):
    site = Site(seed=7, variations=frozenset({"no_list"}))
    result = crawl_replica(site, tmp_path)
    assert result.ids == []
    problems = result.stats["gansunews/quality/problems"]
    assert result.stats["gansunews/quality"] == "degraded" and "no articles" in problems
    assert any("channels list no article entries" in p for p in problems)
    closing = result.log[result.log.index("Closing spider") :]  # what the crawl says as it ends
    assert "quality problem: no articles" in closing and "is degraded" in closing


def test_pages_robots_txt_forbids_are_a_named_problem(tmp_path):
    """The crawl honours robots.txt. A site whose robots.txt forbids its article pages: they are counted apart from
    failures and named in the verdict (before, the verdict said "104 failed requests of 68")."""
    site = Site(seed=7, variations=frozenset({"robots_system"}))
    result = crawl_replica(site, tmp_path)
    forbidden = result.stats["robotstxt/forbidden"]
    assert forbidden > 50 and result.stat("fail/article/robots_txt") > 0
    problems = result.stats["gansunews/quality/problems"]
    assert f"robots.txt forbids {forbidden} pages the crawl needed: they were not read" in problems
    assert not any("failed requests" in problem for problem in problems)


def survey(site: Site, *arguments: str, **env: str) -> subprocess.CompletedProcess:
    server = ReplicaServer(site).start()
    try:
        return subprocess.run(
            [str(PROJECT / ".venv/bin/python"), "-m", "gansunews", "survey", *arguments],
            cwd=PROJECT,
            env=crawl_environment(server.proxy_url, **env),
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        server.stop()


def test_survey_prints_the_channel_tree_with_every_prefecture():
    site = Site(seed=2024, variations=ALL_VARIATIONS)
    done = survey(site)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "市州 with a channel: 14 of 14" in done.stdout and "县区 with a channel: 5 of 86" in done.stdout
    assert "the site looks like the model" in done.stdout
    for city in site.shizhou.children:
        assert city.name in done.stdout and city.live_url.rsplit("/", 1)[0] in done.stdout


def test_survey_json_describes_each_channel(redis_url):
    """With the environment of a distributed crawl too: a survey is never one of its processes (before, REDIS_URL in
    the environment made it fail to start, and it printed that the site looked unlike the model)."""
    done = survey(Site(seed=7), "--json", REDIS_URL=redis_url)
    assert not redis.Redis.from_url(redis_url).keys("gansunews:*")
    report = json.loads(done.stdout)
    assert done.returncode == 0 and report["verdict"]["ok"] and report["verdict"]["prefectures_missing"] == []
    yaowen = next(row for row in report["channels"] if row["channel"] == "要闻")
    assert yaowen["pager"] and yaowen["maxpage"] and yaowen["live_entries"] == 5 and yaowen["archive_entries"]
    assert yaowen["template"] and "title" in yaowen["fields"] and yaowen["date_from"] == "page"
    # a channel whose first listed article is an empty page is sampled with its next one
    shehui = next(row for row in report["channels"] if row["channel"] == "社会")
    assert shehui["template"] and any("article not read" in error for error in shehui["errors"])


@pytest.mark.parametrize(
    ("variation", "cause"),
    [
        ("no_pager", "25 of 25 channels without a pager"),
        ("no_list", "channels without article entries"),
        ("robots_system", "robots.txt forbids pages of"),  # before: "the site looks like the model"
    ],
)
def test_survey_of_a_broken_replica_fails_naming_the_cause(variation, cause):
    done = survey(Site(seed=7, variations=frozenset({variation})))
    assert done.returncode == 1
    assert "the site looks UNLIKE the model" in done.stdout and cause in done.stdout


def test_archive_pages_repeating_each_other_stop_the_walk(tmp_path):
    """A pager that serves the same page for every number: each walk stops at the first repeat, not at page 1."""
    site = Site(seed=7, variations=frozenset({"repeating_pages"}))
    result = crawl_replica(site, tmp_path)
    assert set(result.ids) == site.expected_ids(SINCE)
    assert result.stat("listing/stopped_repeated") >= 10
    deep_pages = [url for url in result.requests if site.shehui.code in url and "/system/count//" in url]
    assert len(deep_pages) <= 4  # not 1,001
    assert any(
        "walks stopped at an archive page repeating another" in n
        for n in result.stats.get("gansunews/quality/notes", [])
    )


def test_without_pagers_a_sidebar_is_never_taken_for_the_list(tmp_path):
    """No pager script to point at the list, a 热点排行 sidebar of other channels' articles on every listing, and a
    list drawn by JavaScript: the dated list wins over the sidebar, also in the list read from the script's own
    HTML, and no article is attributed to a channel that does not list it."""
    site = Site(seed=7, variations=frozenset({"no_pager", "list_class"}))
    result = crawl_replica(site, tmp_path)
    assert_exact(result, site)
    assert result.stat("listing/found_by/most_links") == 25 and result.stat("listing/drawn_by_script") >= 1
