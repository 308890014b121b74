"""The quality verdict: each symptom of a site unlike the model makes a named problem; handled drift is a note."""

import pytest

from gansunews.quality import quality_verdict

HEALTHY = {
    "item_scraped_count": 100,
    "downloader/request_count": 200,
    "gansunews/discovery/channels": 20,
    "gansunews/listing/pages": 60,
    "gansunews/listing/entries": 300,
    "gansunews/listing/live_entries": 100,
    "gansunews/template/A": 100,
    "gansunews/date/from/page": 100,
    "gansunews/fields/source": 100,
    "gansunews/fields/authors": 80,
    "gansunews/fields/regions": 100,
    "gansunews/fields/editor": 100,
}


def verdict(previous=None, args=None, reason="finished", **changes):
    stats = {**HEALTHY, **{f"gansunews/{k.replace('__', '/')}": v for k, v in changes.items()}}
    return quality_verdict(stats, reason, previous, args)


def test_a_healthy_crawl_is_ok():
    assert verdict() == ("ok", [], [])


def test_nothing_found_names_why():
    stats = {"downloader/request_count": 30, "gansunews/listing/pages": 0}
    state, problems, _ = quality_verdict(stats, "finished", None)
    assert state == "degraded"
    assert any("no channel discovered" in p for p in problems) and "no articles" in problems


def test_most_channels_without_pager_is_a_problem_a_few_a_note():
    state, problems, _ = verdict(pager__missing=15)
    assert state == "degraded" and any("15 of 20 channels have no pager" in p for p in problems)
    state, _, notes = verdict(pager__missing=2)
    assert state == "ok" and any("2 of 20 channels have no pager" in n for n in notes)


def test_lists_not_recognised():
    state, problems, _ = verdict(listing__entries=0, listing__channels_without_entries=20)
    assert state == "degraded"
    assert any("no article entry on any of 60 listing pages" in p for p in problems)
    assert any("20 of 20 channels list no article entries" in p for p in problems)


def test_lists_whose_entries_are_all_older_than_the_cutoff_were_recognised():
    """A crawl `since` yesterday, before anything new was listed: no article, for its age, not an unknown list (until
    2026-12-03 it blamed the list). Still a problem: dates misread as old would look the same."""
    stats = {**HEALTHY, "item_scraped_count": 0, "gansunews/listing/entries": 0}
    state, problems, _ = quality_verdict({**stats, "gansunews/listing/older_than_cutoff": 45}, "finished")
    assert state == "degraded" and "no articles (the 45 entries listed are older than the cutoff)" in problems
    assert not any("not recognised" in p for p in problems)


def test_pages_robots_txt_forbids_are_a_problem_of_their_own_not_failures():
    state, problems, _ = verdict(fail__article__robots_txt=3, fail__listing__robots_txt=1)
    assert state == "degraded" and problems == ["robots.txt forbids 4 pages the crawl needed: they were not read"]


def test_articles_fetched_and_not_read_are_a_problem_above_a_tenth_a_note_below():
    """Before 2026-12-03 no rule looked at them: a template change that left 15% of the articles without a body was
    `ok`."""
    state, problems, _ = verdict(drop__no_body=12, drop__no_title=3, drop__older_than_since=50)
    assert state == "degraded"
    assert "15 of 115 articles fetched could not be read (no_title 3, no_body 12)" in problems
    state, _, notes = verdict(drop__unparsable=2)
    assert state == "ok" and "2 of 102 articles fetched could not be read (unparsable 2)" in notes


def test_empty_archive_pages():
    assert any("30 of 60 listing pages" in p for p in verdict(listing__empty=30)[1])


def test_generic_extractor_and_url_dates():
    problems = verdict(template__generic=70, date__from__url=30)[1]
    assert any("70 of 100 articles read by the generic extractor" in p for p in problems)
    assert any("30 of 100 articles dated by their URL only" in p for p in problems)


def test_far_fewer_than_the_previous_crawl_of_the_same_regions():
    """Live pages are read by every run, full or incremental: their entries compare across runs."""
    args = {"since": "2024-01-01", "regions": []}
    previous = {"args": args, "stats": {**HEALTHY, "gansunews/listing/live_entries": 400}}
    problems = verdict(previous, {**args, "since": "2024-03-01"})[1]
    assert any("articles on live pages fell from 400 to 100" in p for p in problems)
    assert verdict(previous, {**args, "regions": ["621000"]})[0] == "ok"  # another selection: not comparable


def test_field_coverage_against_the_last_good_crawl():
    args = {"since": "2024-01-01", "regions": []}
    previous = {"args": args, "stats": HEALTHY, "quality": {"verdict": "ok"}}
    state, problems, _ = verdict(previous, args, fields__editor=40)
    assert state == "degraded" and any("editor coverage fell from 100% to 40%" in p for p in problems)


def test_channels_fell():
    previous = {"stats": {**HEALTHY, "gansunews/discovery/channels": 50}}
    assert any("channels found fell from 50 to 20" in p for p in verdict(previous)[1])


def test_an_interrupted_crawl_is_never_ok():
    assert verdict(reason="shutdown")[1] == ["finish reason shutdown"]


def test_redis_failures_mended_are_a_note_requests_not_given_back_or_lost_a_problem():
    state, problems, notes = verdict(distributed__redis_errors=4)
    assert state == "ok" and notes == ["Redis failed 4 commands: the crawl waited and mended them"]
    state, problems, _ = verdict(distributed__not_given_back=2)
    assert state == "degraded" and problems[0].startswith("2 leased requests not given back")
    state, problems, _ = verdict(distributed__redis_data_lost=1)
    assert state == "degraded" and problems[0].startswith("Redis lost the crawl's queue")
    state, problems, _ = verdict(distributed__redis_evicted_keys=12)
    assert state == "degraded" and problems[0].startswith("Redis evicted 12 keys while the crawl ran")


def test_articles_neither_stored_nor_spooled_are_a_problem():
    state, problems, _ = verdict(mongo__unsaved=7)
    assert state == "degraded" and problems[0].startswith("7 articles neither stored nor spooled")


def test_articles_still_spooled_at_the_close_are_a_problem():
    state, problems, _ = verdict(mongo__spooled_at_close=40, mongo__spooled=90)
    assert state == "degraded" and problems == [
        "40 articles are not in MongoDB (away at the close): spooled on this machine, written at its next start"
    ]


def test_raw_pages_not_kept_are_a_note():
    state, problems, notes = verdict(pages__lost=12)
    assert state == "ok" and not problems
    assert notes == ["12 raw pages neither kept nor spooled (the spool not writable): `reparse` lists their articles"]


def test_spooled_lines_set_aside_are_a_note():
    state, problems, notes = verdict(mongo__spool_set_aside=2)
    assert state == "ok" and not problems and notes[0].startswith("2 spooled lines cut short by a kill set aside")


def test_channel_merges_that_failed_for_a_bug_are_a_problem_and_delayed_ones_are_not():
    state, problems, _ = verdict(mongo__merges_failed=2)
    assert state == "degraded" and problems[0].startswith("2 channel merges failed")
    assert verdict(mongo__merges_delayed=5, mongo__merges_at_close=3) == ("ok", [], [])


def test_thresholds_are_settings():
    from scrapy.settings import Settings

    from gansunews.quality import Thresholds

    limits = Thresholds.from_settings(Settings({"GANSUNEWS_QUALITY_THRESHOLDS": '{"most": 0.9}'}))
    assert limits.most == 0.9
    state, _, notes = quality_verdict({**HEALTHY, "gansunews/pager/missing": 15}, "finished", None, None, limits)
    assert state == "ok" and any("15 of 20 channels have no pager" in n for n in notes)
    with pytest.raises(ValueError, match="unknown mostly"):
        Thresholds.from_settings(Settings({"GANSUNEWS_QUALITY_THRESHOLDS": {"mostly": 1}}))
