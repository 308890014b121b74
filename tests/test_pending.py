"""The spider's pending articles: pure bookkeeping, tested without a crawl."""

from datetime import date

from gansunews.idset import IdSet
from gansunews.items import RawArticle
from gansunews.spiders.pending import GONE, NEW, WAITING, PendingArticles, is_complete
from gansunews.spiders.retries import articles_to_retry, planned
from gansunews.spiders.walk import Channel

D = date
NEWS = Channel(url="https://gansu.gscn.com.cn/gsyw/index.shtml", name="要闻", region_code="620000", depth=2)
LANZHOU = Channel(url="https://gansu.gscn.com.cn/lz/index.shtml", name="兰州", region_code="620100", depth=3)


def raw(cms_id: str) -> RawArticle:
    url = f"https://gansu.gscn.com.cn/system/2024/03/05/{cms_id}.shtml"
    return RawArticle(url=url, article_id=cms_id, template="A")


def test_an_article_listed_twice_is_requested_once_and_carries_both_channels():
    pending = PendingArticles()
    assert pending.list("013000001", D(2024, 3, 5), NEWS) == NEW
    assert pending.list("013000001", D(2024, 3, 6), LANZHOU) == WAITING
    assert pending.list("013000001", D(2024, 3, 6), LANZHOU) == WAITING  # the same channel once
    article = raw("013000001")
    assert pending.hold("013000001", article) == D(2024, 3, 6)  # the latest day any listing gave
    assert article.channels == [NEWS.ref, LANZHOU.ref]
    assert pending.settle("013000001") == [NEWS, LANZHOU]  # both walks' pages waited for it


def test_held_articles_leave_once_every_walk_listed_past_their_day():
    pending = PendingArticles()
    for cms_id, day in (("013000001", D(2024, 3, 1)), ("013000002", D(2024, 3, 9))):
        pending.list(cms_id, day, NEWS)
        pending.hold(cms_id, raw(cms_id))
    assert pending.release(None) == []  # a walk has not listed a dated page yet
    assert [a.article_id for a in pending.release(D(2024, 3, 5))] == ["013000002"]
    assert pending.list("013000002", D(2024, 3, 9), LANZHOU) == GONE  # released: its line is written
    assert [a.article_id for a in pending.release(date.min)] == ["013000001"]  # no walk left
    assert not pending.held and len(pending.listed) == 2  # released, not settled: stored yet or not


def test_settled_and_earlier_stored_articles_are_never_requested_again():
    pending = PendingArticles()
    pending.known.add(13000009)
    assert pending.list("013000009", D(2024, 3, 5), NEWS) == GONE
    pending.list("013000001", D(2024, 3, 5), NEWS)
    assert pending.settle("013000001") == [NEWS]
    assert pending.settle("013000001") == []  # settled once
    assert pending.list("013000001", D(2024, 3, 5), LANZHOU) == GONE
    assert not pending.listed and 13000001 in pending.settled


def test_untracked_listings_note_nothing():
    """Distributed: the shared dupefilter decides; this process only skips what is stored."""
    pending = PendingArticles()
    assert pending.list("013000001", D(2024, 3, 5), NEWS, track=False) == NEW
    assert pending.list("013000001", D(2024, 3, 5), NEWS, track=False) == NEW
    assert not pending.listed and pending.hold("013000001", raw("013000001")) is None
    pending.known.add(13000002)
    assert pending.list("013000002", D(2024, 3, 5), NEWS, track=False) == GONE


def test_complete_means_newer_than_the_frontier_or_no_walk_left():
    assert not is_complete(D(2024, 3, 5), None)
    assert is_complete(D(2024, 3, 5), D(2024, 3, 4)) and not is_complete(D(2024, 3, 5), D(2024, 3, 5))
    assert is_complete(date.min, date.min)


def test_articles_that_failed_are_retried_until_they_failed_in_enough_crawls():
    def failure(cms_id: int, reason: str, at: str, channel: str = "https://gansu.gscn.com.cn/gsyw/") -> dict:
        url = f"https://gansu.gscn.com.cn/system/2024/03/02/{cms_id:09d}.shtml"
        return {"url": url, "reason": f"article/{reason}", "at": at, "channels": [{"url": channel, "name": "x"}]}

    failures = [
        failure(13000001, "http_503", "2024-03-10"),
        failure(13000001, "TimeoutError", "2024-03-11", channel="https://gansu.gscn.com.cn/sz/"),  # another channel
        failure(13000002, "http_503", "2024-03-10"),
        failure(13000002, "http_503", "2024-03-11"),
        failure(13000002, "http_503", "2024-03-12"),  # failed in 3 crawls: left
        failure(13000003, "http_503", "2024-03-10"),
        failure(13000003, "http_404", "2024-03-11"),  # gone now
        failure(13000004, "http_503", "2024-03-10"),  # stored since
        failure(13000005, "robots_txt", "2024-03-10"),  # forbidden
        failure(13000006, "http_503", "2024-03-10"),
    ]
    retries = articles_to_retry(failures, IdSet([13000004]), since=date(2024, 3, 1), most=3)
    assert [retry.cms_id for retry in retries] == ["013000001", "013000006"]
    assert {c["url"] for c in retries[0].channels} == {
        "https://gansu.gscn.com.cn/gsyw/",
        "https://gansu.gscn.com.cn/sz/",
    }
    assert articles_to_retry(failures, IdSet(), since=date(2024, 3, 5), most=3) == [], "older than since"


def test_a_retried_article_takes_the_channels_of_this_crawl_s_listings_too():
    pending = PendingArticles()
    pending.known.add(13000009)
    assert not pending.retry("013000009", D(2024, 3, 2), [NEWS.ref]), "stored since"
    assert pending.retry("013000010", D(2024, 3, 2), [NEWS.ref])
    assert not pending.retry("013000010", D(2024, 3, 2), [NEWS.ref]), "requested already"
    assert pending.list("013000010", D(2024, 3, 2), LANZHOU) == WAITING
    article = raw("013000010")
    pending.hold("013000010", article)
    assert article.channels == [NEWS.ref, LANZHOU.ref]


def test_lost_archive_pages_are_read_again_by_channel_until_they_failed_in_enough_crawls():
    from gansunews.spiders.retries import pages_to_retry

    def failure(page: int, reason: str, at: str, channel: str = "gansu.gscn.com.cn/gsyw/") -> dict:
        url = f"https://gansu.gscn.com.cn/system/count//0060181/590830166131/000/000/c0060181590830166131_{page:09d}.shtml"
        return {"url": url, "reason": f"listing/{reason}", "at": at, "channel": channel, "page": page}

    failures = [
        failure(4, "http_503", "2024-03-10"),
        failure(3, "unparsable", "2024-03-10"),
        failure(3, "http_503", "2024-03-11"),  # failed in 2 crawls: left
        failure(2, "http_404", "2024-03-10"),
    ]
    pages = pages_to_retry(failures, most=2)
    assert list(pages) == ["gansu.gscn.com.cn/gsyw/"] and sorted(pages["gansu.gscn.com.cn/gsyw/"]) == [4]


def test_articles_stored_without_a_lost_page_are_fetched_again_while_tries_are_left():
    from gansunews.spiders.retries import truncated_to_retry

    article = "https://gansu.gscn.com.cn/system/2024/03/02/013000020.shtml"
    lost = {"url": article.replace(".shtml", "_02.shtml"), "article": article, "channels": [{"url": "x"}]}
    once = [{**lost, "reason": "continuation/http_503", "at": "2024-03-10", "crawl_id": "c1"}]
    (retry,) = truncated_to_retry(once, since=None, most=3)
    assert (retry.url, retry.cms_id, retry.stored_by, retry.channels) == (article, "013000020", "c1", [{"url": "x"}])
    thrice = [{**once[0], "at": f"2024-03-1{n}", "crawl_id": f"c{n}"} for n in range(3)]
    assert truncated_to_retry(thrice, since=None, most=3) == []
    assert truncated_to_retry(once, since=date(2024, 3, 5), most=3) == [], "older than since"


def test_articles_whose_page_could_not_be_read_are_retried_like_those_that_failed():
    url = "https://gansu.gscn.com.cn/system/2024/03/02/{:09d}.shtml"
    failures = [
        {"url": url.format(13000001), "reason": "drop/unparsable", "at": "2024-03-10", "channels": [NEWS.ref]},
        {"url": url.format(13000002), "reason": "drop/no_body", "at": "2024-03-10"},
        {"url": url.format(13000003), "reason": "drop/older_than_since", "at": "2024-03-10"},  # read: not retried
        {"url": url.format(13000004), "reason": "drop/duplicate", "at": "2024-03-10"},
    ]
    retries, pages = planned(failures, IdSet(), since=None, most=3)
    assert [retry.cms_id for retry in retries] == ["013000001", "013000002"] and pages == {}
    assert retries[0].channels == [NEWS.ref]


def test_an_article_retried_keeps_the_title_its_listing_gave():
    url = "https://gansu.gscn.com.cn/system/2024/03/02/013000001.shtml"
    failures = [
        {"url": url, "reason": "article/not_the_article", "at": "2024-03-10", "title": "兰州新区推进重点项目建设"},
        {"url": url, "reason": "article/http_503", "at": "2024-03-11"},  # a record without one (a retry's)
    ]
    (retry,) = articles_to_retry(failures, IdSet(), since=None, most=3)
    assert retry.title == "兰州新区推进重点项目建设"
