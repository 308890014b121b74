"""Discovery and the walk's direction: pure decisions, tested without a crawl."""

from datetime import date, timedelta

import pytest

from gansunews.pages.listing import ListingPage
from gansunews.spiders.discovery import identify, scope_root_by, title_parts
from gansunews.spiders.walk import (
    ENDED,
    PARKED,
    WINDOW,
    Channel,
    WalkLedger,
    next_page,
    numbering_falls,
    numbering_suspect,
    pages_before_cutoff,
)

SCOPE = {"甘肃新闻"}
CRUMBS = '<div>当前位置：<a href="/">首页</a> &gt; <a href="#">甘肃新闻</a> &gt; <a href="#">{}</a></div>'


def listing(title="", body="", url="https://gansu.gscn.com.cn/sz1/index.shtml"):
    return ListingPage.from_bytes(url, f"<html><head><title>{title}</title></head><body>{body}</body></html>".encode())


@pytest.mark.parametrize(
    "title", ["甘肃新闻_中国甘肃网", "中国甘肃网-甘肃新闻", "甘肃新闻 | 中国甘肃网", "中国甘肃网 » 甘肃新闻"]
)
def test_scope_home_by_title_in_either_order(title):
    assert scope_root_by(listing(title), "", SCOPE) == "title"


def test_a_channel_under_the_scope_is_not_its_home():
    assert title_parts("要闻_甘肃新闻_中国甘肃网") == ["要闻", "甘肃新闻"]
    assert scope_root_by(listing("要闻_甘肃新闻_中国甘肃网"), "要闻", SCOPE) is None


def test_scope_home_by_link_text_or_breadcrumb():
    assert scope_root_by(listing("首页"), "甘肃新闻", SCOPE) == "link_text"
    crumbs = '<div>当前位置：<a href="/">首页</a> &gt; <a href="#">甘肃新闻</a></div>'
    assert scope_root_by(listing("首页", crumbs), "", SCOPE) == "breadcrumb"


@pytest.mark.parametrize(("name", "code"), [("庆阳新闻", "621000"), ("陇东·庆阳", "621000"), ("天水频道", "620500")])
def test_region_from_a_suffixed_breadcrumb(name, code):
    channel = identify(listing("x", CRUMBS.format(name)), "", None, SCOPE)
    assert channel is not None and channel.region_code == code and channel.depth == 2


def test_out_of_scope_breadcrumb_is_not_a_channel_even_named_after_a_division():
    crumbs = '<div>您的位置：<a href="/">中国甘肃网</a> &gt; <a href="#">财经</a> &gt; <a href="#">庆阳</a></div>'
    assert identify(listing("x", crumbs), "庆阳", Channel("u", "甘肃新闻", "620000", 1), SCOPE) is None


def test_without_breadcrumb_the_link_and_parent_decide():
    parent = Channel("https://gansu.gscn.com.cn/", "甘肃新闻", "620000", 1)
    channel = identify(listing("x"), "平凉播报", parent, SCOPE)
    assert channel.region_code == "620800" and channel.depth == 2


D = date


def test_numbering_rising_is_not_suspect():
    live = [D(2024, 3, 30), D(2024, 3, 20)]
    assert not numbering_suspect(live, [D(2024, 3, 30), D(2024, 3, 25)])
    assert not numbering_suspect([], [D(2020, 1, 1)])  # nothing to compare with


def test_numbering_suspect_when_the_top_page_is_old_or_undated():
    live = [D(2024, 3, 30), D(2024, 3, 20)]
    assert numbering_suspect(live, [D(2023, 10, 1), D(2023, 9, 1)])
    assert numbering_suspect(live, [])


def test_numbering_falls_when_page_one_is_the_newer():
    live = [D(2024, 3, 30), D(2024, 3, 20)]
    assert numbering_falls([D(2024, 3, 29)], [D(2023, 10, 1)], live)
    assert not numbering_falls([D(2016, 1, 1)], [D(2023, 10, 1)], live)  # page 1 oldest: rising after all
    assert numbering_falls([D(2024, 3, 29)], [], live) and not numbering_falls([D(2016, 1, 1)], [], live)
    assert not numbering_falls([], [D(2023, 10, 1)], live)


def test_next_page_in_either_direction():
    assert next_page(5, -1, 9) == 4 and next_page(1, -1, 9) is None
    assert next_page(5, 1, 9) == 6 and next_page(9, 1, 9) is None


def test_pages_before_cutoff():
    assert pages_before_cutoff([D(2024, 3, 10), D(2024, 3, 5)], D(2024, 3, 1), 16) == 1
    assert pages_before_cutoff([D(2024, 3, 10), D(2024, 3, 9)], D(2024, 1, 1), 16) == 16
    assert pages_before_cutoff([], D(2024, 1, 1), 16) == 16


def test_ledger_frontier_moves_only_over_pages_read_without_a_gap():
    ledger = WalkLedger()
    ledger.read(0, [D(2024, 3, 10), D(2024, 3, 8)], {"a"})  # the live page
    for number in (50, 49, 48):
        ledger.requested(number)
    assert ledger.frontier == D(2024, 3, 8)
    ledger.read(49, [D(2024, 3, 2)], {"c"})  # arrives before page 50: says nothing yet about 50's days
    assert ledger.frontier == D(2024, 3, 8) and not ledger.all_read
    ledger.read(50, [D(2024, 3, 6)], {"b"})
    assert ledger.frontier == D(2024, 3, 2)
    ledger.read(48, [], set())  # a lost page: no days
    assert ledger.frontier == D(2024, 3, 2) and ledger.all_read


def test_ledger_is_done_through_the_pages_whose_articles_all_settled():
    ledger = WalkLedger()
    ledger.read(0, [D(2024, 3, 10)], {"a"})
    for number in (50, 49):
        ledger.requested(number)
    ledger.read(50, [D(2024, 3, 6)], {"a", "b"})  # "a" listed on the live page too
    ledger.read(49, [D(2024, 3, 2)], set())  # only stored articles: done once those before it are
    assert ledger.done_through is None
    assert not ledger.settle("b") and ledger.done_through is None  # the live page still waits for "a"
    assert ledger.settle("a") and ledger.done_through == 49 and ledger.idle
    assert ledger.frontier == D(2024, 3, 2)  # pages done keep their days


def walked_channel(**state) -> Channel:
    channel = Channel(url="https://gansu.gscn.com.cn/lz/index.shtml", name="兰州", region_code="620100", depth=3)
    channel.maxpage = 50
    channel.begin(state)
    return channel


def test_a_walk_saves_where_a_stopped_crawl_resumes_then_that_it_is_complete():
    channel = walked_channel()
    assert channel.walked_below is None and channel.resume_at is None
    assert channel.progress() is None  # no page done yet: nothing to save
    channel.ledger.read(0, [D(2024, 3, 10)], set())
    for number in (50, 49):
        channel.ledger.requested(number)
    channel.ledger.read(50, [D(2024, 3, 6)], {"a"})
    channel.ledger.read(49, [D(2024, 3, 2)], set())
    assert channel.progress() is None  # page 50 waits for "a"
    channel.ledger.settle("a")
    assert channel.progress() == {"resume_at": 48, "step": -1, "complete": False, "walked_below": None}
    assert channel.progress() is None  # saved already
    channel.exhausted = True
    assert channel.progress() == {"resume_at": None, "step": -1, "complete": True, "walked_below": 50}


def test_an_earlier_walk_decides_where_this_one_stops_and_resumes():
    stopped = walked_channel(walk={"resume_at": 20, "step": -1, "complete": False, "walked_below": 50})
    assert stopped.resume_at == 20 and stopped.stops_at_known(50) and not stopped.stops_at_known(51)
    stopped.last_requested = 45
    assert stopped.can_resume()  # meets stored articles on page 45: jumps to page 20
    stopped.last_requested = 19
    assert not stopped.can_resume()  # already past it
    falling = walked_channel(walk={"resume_at": 20, "step": 1, "complete": False})
    assert falling.resume_at is None  # falling numbers move: a page number is no place to resume at
    complete = Channel(url="https://gansu.gscn.com.cn/lz/index.shtml", name="兰州", region_code="620100", depth=3)
    assert complete.begin({"walk": {"complete": True, "walked_below": 50}})  # its record must say incomplete now
    assert complete.progress(begun=True) == {"resume_at": None, "step": -1, "complete": False, "walked_below": 50}
    before_walks = walked_channel(newest_seen="2024-03-10")  # saved by a clean finish before walks were recorded
    assert before_walks.stops_at_known(10**6)


def test_a_walk_requests_its_window_then_parks_while_the_queue_is_full_then_ends_at_the_archive_end():
    channel = walked_channel()
    channel.maxpage, channel.window, channel.pages_walked = 3, 2, 1  # the live page read
    assert channel.next_pages(3, 0, lambda: False) == ([3, 2], WINDOW)  # two in flight: more as they are read
    channel.pages_walked += 2
    assert channel.next_pages(1, 0, lambda: True) == ([], PARKED) and channel.parked_at == 1
    assert channel.next_pages(1, 0, lambda: False) == ([1], ENDED) and channel.parked_at is None
    assert list(channel.ledger.pages)[-1].number == 1 and channel.last_requested == 1


def test_max_pages_cuts_a_walk_short_counting_the_live_page():
    channel = walked_channel()
    channel.window, channel.pages_walked = 16, 1
    assert channel.next_pages(50, 3, lambda: False) == ([50, 49], ENDED)
    assert channel.cut_short and channel.reached(3)
    assert not walked_channel().reached(0)  # no limit


def test_the_cutoff_is_since_or_the_watermark_less_the_grace_days():
    grace = timedelta(days=3)
    assert walked_channel().cutoff(None, grace) is None
    assert walked_channel().cutoff(D(2024, 1, 1), grace) == D(2024, 1, 1)
    seen = walked_channel(newest_seen="2024-03-10T00:00:00")
    assert seen.cutoff(D(2024, 1, 1), grace) == D(2024, 3, 7)
    assert seen.cutoff(D(2024, 3, 9), grace) == D(2024, 3, 9)
    assert seen.recent(D(2024, 3, 7), D(2024, 3, 7)) and not seen.recent(D(2024, 3, 6), D(2024, 3, 7))
    assert seen.recent(None, D(2024, 3, 7))  # undated: its day comes from the URL
    assert seen.recent(D(2024, 3, 12), None) and seen.newest_seen == D(2024, 3, 12)  # the next watermark


def test_a_walk_stops_at_a_repeated_page_and_after_too_many_empty_ones():
    channel = walked_channel()
    assert not channel.repeats(frozenset({"a", "b"})) and not channel.repeats(frozenset({"c"}))
    assert channel.repeats(frozenset({"a", "b"}))
    assert not channel.repeats(frozenset()) and not channel.repeats(frozenset())  # empty pages are counted apart
    assert channel.past_empty_page(2) and channel.past_empty_page(2) and not channel.past_empty_page(2)
