"""Discovery and the walk's direction: pure decisions, tested without a crawl."""

from collections import Counter
from datetime import date, timedelta

import pytest

from gansunews.pages.listing import ListingPage
from gansunews.spiders.discovery import Discovery, identify, scope_root_by, title_parts
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
from gansunews.spiders.walks import GO_ON, KNOWN, STOP, Walks
from gansunews.urls import Pager

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


def test_discovery_follows_each_candidate_once_up_to_its_depth_and_finds_each_channel_once():
    stats = Counter()
    discovery = Discovery(SCOPE, max_depth=2, count=lambda key, value=1: stats.update({key: value}))
    links = '<a href="/qy/">庆阳</a> <a href="/qy/?from=home">庆阳</a> <a href="/sz/">市州播报</a>'
    links += '<a href="/x">关于</a>'
    home = listing("甘肃新闻_中国甘肃网", links, url="https://gansu.gscn.com.cn/")
    root = discovery.root(home, "")
    assert root.depth == 1 and stats["discovery/root_by/title"] == 1
    followed = [link.url for link in discovery.candidates(home, root)]  # same host as the scope's home: all three
    assert followed == ["https://gansu.gscn.com.cn/qy/", "https://gansu.gscn.com.cn/sz/", "https://gansu.gscn.com.cn/x"]
    assert discovery.ongoing and list(discovery.candidates(home, root)) == []  # followed already
    for _ in followed:
        discovery.answered()
    assert not discovery.ongoing
    page = listing("庆阳", CRUMBS.format("庆阳"), url="https://gansu.gscn.com.cn/qy/")
    channel = discovery.channel(page, "庆阳", root)
    assert channel.key and channel.region_code == "621000" and discovery.channel(page, "庆阳", root) is None
    assert stats["discovery/channels"] == 1 and stats["discovery/region_name/exact"] == 1
    assert list(discovery.candidates(page, channel)) == []  # depth 2 reached: its links are not followed
    outside = listing("x", '<div>您的位置：<a href="/">中国甘肃网</a> &gt; <a href="#">财经</a></div>')
    assert discovery.channel(outside, "财经", None) is None and stats["discovery/out_of_scope"] == 1


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
    assert channel.progress() == {"resume_at": 48, "step": -1, "complete": False, "walked_below": None, "since": None}
    assert channel.progress() is None  # saved already
    channel.exhausted = True
    walk = {"resume_at": None, "step": -1, "complete": True, "walked_below": 50, "since": None, "covered_since": None}
    assert channel.progress() == walk, "listed to the archive's end: it covers everything"


def test_an_earlier_walk_decides_where_this_one_stops_and_resumes():
    walk = {"resume_at": 20, "step": -1, "complete": False, "walked_below": 50, "covered_since": None}
    stopped = walked_channel(walk=walk)
    assert stopped.resume_at == 20 and stopped.stops_at_known(50) and not stopped.stops_at_known(51)
    stopped.last_requested = 45
    assert stopped.can_resume()  # meets stored articles on page 45: jumps to page 20
    stopped.last_requested = 19
    assert not stopped.can_resume()  # already past it
    falling = walked_channel(walk={"resume_at": 20, "step": 1, "complete": False})
    assert falling.resume_at is None  # falling numbers move: a page number is no place to resume at
    complete = Channel(url="https://gansu.gscn.com.cn/lz/index.shtml", name="兰州", region_code="620100", depth=3)
    assert complete.begin({"walk": {"complete": True, "walked_below": 50}})  # its record must say incomplete now
    assert complete.progress(begun=True) == {
        "resume_at": None,
        "step": -1,
        "complete": False,
        "walked_below": 50,
        "since": None,
        "covered_since": None,  # recorded before coverage was: taken to cover everything
    }
    before_walks = walked_channel(newest_seen="2024-03-10")  # saved by a clean finish before walks were recorded
    assert before_walks.stops_at_known(10**6)


def test_a_walk_requests_its_window_then_parks_while_the_queue_is_full_then_ends_at_the_archive_end():
    channel = walked_channel()
    channel.maxpage, channel.window, channel.pages_walked = 3, 2, 1  # the live page read
    assert channel.next_pages(3, 0, lambda: False) == ([3, 2], WINDOW)  # two in flight: more as they are read
    channel.pages_walked += 2
    assert channel.next_pages(1, 0, lambda: True) == ([1], PARKED) and channel.parked_at == 1  # behind the queue
    assert list(channel.ledger.pages)[-1].number == 1 and channel.last_requested == 1
    channel.pages_walked += 1
    assert channel.next_pages(0, 0, lambda: False) == ([], ENDED) and channel.parked_at is None


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


PAGER = "https://gansu.gscn.com.cn/system/count/0084837/261675136134/count_page_list_0084837261675136134.js"


def crawl_walks(queue: list[bool] | None = None, **options) -> tuple[Walks, Channel, Counter, list]:
    """A crawl's walks with one channel found, its stats and what it saved; `queue[0]`: whether the queue is full."""
    stats, saved, queue = Counter(), [], queue if queue is not None else [False]
    walks = Walks(
        count=lambda key, value=1: stats.update({key: value}),
        queue_full=lambda: queue[0],
        save=lambda key, record, walk: saved.append((key, walk)),
        **options,
    )
    channel = Channel(url="https://gansu.gscn.com.cn/lz/index.shtml", name="兰州", region_code="620100", depth=3)
    channel.key = "lz"
    walks.add(channel)
    walks.begin(channel)
    return walks, channel, stats, saved


def read(walks: Walks, channel: Channel, number: int, days: list, ids: set, verdict: str = GO_ON) -> list[int]:
    """What the spider does with a page it read: register its entries, then ask for the next pages."""
    channel.pages_walked += 1
    channel.ledger.read(number, days, ids)
    if number == 0:
        return walks.after_live_page(channel, verdict, Pager.from_script_src(PAGER, maxpage=20))
    return walks.after_archive_page(channel, number, verdict, days)


def test_walks_open_their_window_up_to_the_look_ahead_and_save_progress_as_pages_are_done():
    walks, channel, stats, saved = crawl_walks(lookahead=4)
    assert read(walks, channel, 0, [D(2024, 3, 10)], {"a"}) == [20]
    assert walks.frontier(discovering=True) is None  # discovery may still find a channel listing anything
    assert read(walks, channel, 20, [D(2024, 3, 9)], {"b"}) == [19, 18]
    assert read(walks, channel, 19, [D(2024, 3, 8)], set()) == [17, 16, 15]  # window 4: 18, 17, 16, 15
    assert walks.frontier(discovering=False) == D(2024, 3, 8)
    assert saved == [] and stats["pager/script/root"] == 1
    walks.settled([channel], "a")
    assert saved == []  # page 20 still waits for "b"
    walks.settled([channel], "b")
    assert saved == [("lz", {"resume_at": 18, "step": -1, "complete": False, "walked_below": None, "since": None})]


def test_a_walk_window_stays_within_the_pages_the_dates_predict_before_the_cutoff():
    walks, channel, _, _ = crawl_walks(lookahead=8, since=D(2024, 3, 5))
    read(walks, channel, 0, [D(2024, 3, 10)], set())
    assert read(walks, channel, 20, [D(2024, 3, 9), D(2024, 3, 8)], set()) == [19, 18]  # 3 days left, 1 a page
    assert read(walks, channel, 19, [D(2024, 3, 7), D(2024, 3, 6)], set()) == []  # two in flight already
    assert read(walks, channel, 18, [D(2024, 3, 5)], set(), verdict=STOP) == [] and channel.exhausted


def test_a_parked_walk_asks_for_one_page_behind_the_queue_and_goes_on_when_it_is_read():
    queue = [False]
    walks, channel, stats, _ = crawl_walks(queue, lookahead=4)
    read(walks, channel, 0, [D(2024, 3, 10)], set())
    queue[0] = True
    assert read(walks, channel, 20, [D(2024, 3, 9)], set()) == [19] and stats["walk/parked"] == 1
    assert channel.parked_at == 19 and walks.walking(channel)
    queue[0] = False
    assert read(walks, channel, 19, [D(2024, 3, 8)], set()) == [18, 17, 16, 15] and channel.parked_at is None


def test_a_walk_without_maxpage_waits_for_its_pager_script_and_ends_without_it():
    walks, channel, stats, _ = crawl_walks()
    channel.ledger.read(0, [D(2024, 3, 10)], set())
    assert walks.after_live_page(channel, GO_ON, Pager.from_script_src(PAGER)) is None
    assert walks.walking(channel) and walks.frontier(discovering=False) == D(2024, 3, 10)
    assert walks.after_pager_script(channel, None) == [] and channel.exhausted
    assert not walks.walking(channel) and walks.frontier(discovering=False) == date.min  # no walk left
    other, channel, stats, _ = crawl_walks()
    assert other.after_live_page(channel, GO_ON, None) == [] and stats["pager/missing"] == 1


def test_a_walk_jumps_to_where_a_stopped_crawl_left_it_and_goes_past_lost_pages_a_few_times():
    walks, channel, stats, _ = crawl_walks(max_empty_pages=1, lookahead=4)
    walks.states = {"lz": {"walk": {"resume_at": 9, "step": -1, "complete": False, "walked_below": None}}}
    walks.begin(channel)
    assert read(walks, channel, 0, [D(2024, 3, 10)], set(), verdict=KNOWN) == [9]  # page 20 on was done
    assert stats["walk/resumed"] == 1 and channel.window == 1
    assert walks.lost(channel, 9) == [8]  # a lost page is passed, once
    assert walks.lost(channel, 8) == [] and channel.exhausted and stats["listing/stopped_empty"] == 1


def test_walks_outside_the_regions_asked_for_are_not_wanted():
    walks, channel, _, _ = crawl_walks(regions=frozenset({"620200"}))
    assert not walks.wanted(channel) and not walks.walking(channel)
    assert walks.records()[0]["_id"] == "lz"


def test_a_staged_walk_saves_no_beginning_and_leaves_the_watermark_to_its_promotion():
    """Distributed: nothing staged counts before the crawl finishes, so the walk's record need not say incomplete
    while it runs; its watermark goes with its staged progress, not with the process's copy of the channel."""
    walks, channel, _, saved = crawl_walks(staged=True)
    walks.states = {"lz": {"walk": {"complete": True, "walked_below": 20}, "newest_seen": "2024-03-01"}}
    walks.begin(channel)
    assert saved == []  # a walk of one process saves `complete: False` here (`progress(begun=True)`)
    read(walks, channel, 0, [D(2024, 3, 10)], set(), verdict=STOP)
    assert saved and saved[-1][1]["complete"]
    assert walks.records()[0]["newest_seen"] is None
    assert "maxpage" not in walks.records()[0] and "numbering" not in walks.records()[0]  # staged by the walk's end


@pytest.mark.parametrize("lost", [True, False], ids=["script_lost", "script_without_maxpage"])
def test_a_walk_ended_by_its_lost_pager_script_is_not_complete_and_keeps_its_watermark(lost):
    """Saved as complete (to every page) with the live page's watermark, no later crawl would walk the archive."""
    walks, channel, stats, saved = crawl_walks()
    channel.recent(D(2024, 3, 10), None)
    channel.ledger.read(0, [D(2024, 3, 10)], set())
    walks.after_live_page(channel, GO_ON, Pager.from_script_src(PAGER))
    walks.after_pager_script(channel, None, lost=lost)
    assert saved[-1][1]["complete"] is not lost and stats["walk/unfinished"] == int(lost)
    assert channel.as_record("lz")["newest_seen"] == (None if lost else "2024-03-10")


@pytest.mark.parametrize(
    ("earlier", "since", "covered"),
    [
        ({"complete": True, "walked_below": 9, "covered_since": "2024-03-20"}, D(2024, 3, 25), True),
        ({"complete": True, "walked_below": 9, "covered_since": "2024-03-20"}, D(2024, 1, 1), False),
        ({"complete": True, "walked_below": 9, "covered_since": "2024-03-20"}, None, False),
        ({"complete": True, "walked_below": 9, "covered_since": None}, None, True),
        ({"complete": False, "resume_at": 5, "walked_below": 9}, D(2024, 3, 25), False),  # cut short, say
    ],
    ids=["within", "backfill_older", "everything_wanted", "covered_to_the_end", "never_complete"],
)
def test_earlier_walks_count_only_as_far_down_as_they_listed(earlier, since, covered):
    """A trial of recent days, then a backfill: the backfill walks down to its `since`, past stored pages and with no
    watermark. Until 2026-12-03 it read one week and stored 35 of 146 articles, with an `ok` verdict."""
    channel = Channel(url="https://gansu.gscn.com.cn/lz/index.shtml", name="兰州", region_code="620100", depth=3)
    channel.begin({"walk": earlier, "newest_seen": "2024-03-30"}, since)
    assert (channel.watermark is not None, channel.stops_at_known(9)) == (covered, covered)


def test_what_a_complete_walk_covers():
    def ended(earlier: dict, since, stopped, aged_out=False) -> str | None:
        channel = Channel(url="https://gansu.gscn.com.cn/lz/index.shtml", name="兰州", region_code="620100", depth=3)
        channel.begin({"walk": earlier, "newest_seen": "2024-03-30"} if earlier else {}, since, timedelta(days=7))
        channel.stopped, channel.aged_out, channel.exhausted = stopped, aged_out, True
        return channel.progress()["covered_since"]

    new = {}
    assert ended(new, D(2024, 3, 20), "cutoff", aged_out=True) == "2024-03-20"  # down to its since
    assert ended(new, D(2024, 3, 20), None) is None, "to the archive's end, nothing left for its age"
    assert ended(new, D(2024, 3, 20), None, aged_out=True) == "2024-03-20", "its window passed the end"
    to_march = {"complete": True, "covered_since": "2024-03-20"}
    assert ended(to_march, D(2024, 1, 1), "cutoff", aged_out=True) == "2024-01-01", "the backfill joins it"
    assert ended(to_march, D(2024, 3, 28), "cutoff", aged_out=True) == "2024-03-20", "the watermark's cutoff"
    assert ended(to_march, D(2024, 3, 25), "known") == "2024-03-20"
    assert ended({"complete": True, "covered_since": None}, D(2024, 3, 25), "known") is None


def test_a_full_crawl_joins_the_coverage_without_using_it():
    """`full=1` (the nightly plan, a week) walks everything to its since; it must not shrink what a backfill covered."""
    channel = Channel(url="https://gansu.gscn.com.cn/lz/index.shtml", name="兰州", region_code="620100", depth=3)
    earlier = {"complete": True, "walked_below": 9, "covered_since": "2024-01-01"}
    channel.begin({"walk": earlier, "newest_seen": "2024-03-30"}, D(2024, 3, 24), timedelta(days=7), full=True)
    assert channel.watermark is None and not channel.stops_at_known(9)
    channel.stopped, channel.aged_out, channel.exhausted = "cutoff", True, True
    assert channel.progress()["covered_since"] == "2024-01-01"


def test_a_walk_stopped_by_a_crawl_that_wanted_less_is_not_resumed():
    """Its done pages left out what was older than its `since`: a backfill that jumped over them would miss that."""
    stopped = {"resume_at": 20, "step": -1, "complete": False, "walked_below": None, "since": "2024-03-01"}
    channel = Channel(url="https://gansu.gscn.com.cn/lz/index.shtml", name="兰州", region_code="620100", depth=3)
    channel.begin({"walk": stopped}, D(2024, 1, 1))
    assert channel.resume_at is None
    channel.begin({"walk": stopped}, D(2024, 3, 5))
    assert channel.resume_at == 20


def test_a_walk_whose_last_pages_in_flight_are_read_after_it_ended_is_saved_complete():
    """Empty archive pages in flight when the walk stops: no article settles after them, so nothing else saves the
    walk. Before, it stayed saved as stopped (found in the benchmark's re-crawl, one run in two: the next crawl
    resumed it and read 31 empty pages again)."""
    walks, channel, _, saved = crawl_walks(lookahead=4, max_empty_pages=0)
    read(walks, channel, 0, [D(2024, 3, 10)], set())
    assert read(walks, channel, 20, [D(2024, 3, 9)], set()) == [19, 18]
    assert walks.lost(channel, 19, gone=True) == [] and channel.exhausted  # past no empty page: the walk ends
    assert saved[-1][1]["complete"] is False  # page 18 is still in flight
    walks.lost(channel, 18, gone=True)
    assert saved[-1][1]["complete"] is True
