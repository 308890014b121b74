"""Leases on the shared queue, against a real redis-server: a leased request stays in Redis until everything it
waits for is done, and a process that stops beating has its requests put back with their priorities."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
import scrapy
from scrapy.utils.test import get_crawler
from scrapy_redis import connection

from gansunews.items import RawArticle
from gansunews.leases import LeasedQueue, Leases
from tests.services import RedisServer


def process(redis_url: str, run: str) -> LeasedQueue:
    """One crawler process's queue and leases (a real Crawler, a real Redis)."""
    settings = {"REDIS_URL": redis_url, "GANSUNEWS_REDIS_RUN": run, "GANSUNEWS_REDIS_LEASE_SECONDS": 1}
    crawler = get_crawler(settings_dict=settings)
    crawler.stats.open_spider()
    spider = scrapy.Spider.from_crawler(crawler, name="gscn")
    spider.leases = Leases(crawler)
    return LeasedQueue(connection.from_settings(crawler.settings), spider, f"gansunews:{run}:requests")


def leased_count(queue: LeasedQueue) -> int:
    return queue.server.hlen(queue.leases.leased_key(queue.leases.me))


def test_a_silent_process_s_requests_go_back_with_their_priority(redis_url):
    run = uuid.uuid4().hex
    dead, alive = process(redis_url, run), process(redis_url, run)
    dead.push(scrapy.Request("https://gansu.gscn.com.cn/a.shtml", priority=200))
    dead.push(scrapy.Request("https://gansu.gscn.com.cn/b.shtml", priority=0))
    taken = dead.pop()
    assert taken.url.endswith("/a.shtml") and len(dead) == 1 and leased_count(dead) == 1
    dead.leases.heartbeat()  # beats once, then never again
    alive.leases.heartbeat()
    assert alive.leases.busy() and len(alive) == 1, "a live peer's lease is left alone"
    time.sleep(1.3)
    alive.leases.heartbeat()
    assert alive.server.hlen(dead.leases.leased_key(dead.leases.me)) == 0
    assert alive.leases.crawler.stats.get_value("gansunews/distributed/taken_back") == 1
    assert [alive.pop().url[-7:] for _ in range(2)] == ["a.shtml", "b.shtml"], "the most urgent first, as before"
    assert alive.pop() is None


def test_a_lease_ends_when_its_children_articles_and_writes_are_done(redis_url):
    queue = process(redis_url, uuid.uuid4().hex)
    leases = queue.leases
    queue.push(scrapy.Request("https://gansu.gscn.com.cn/listing.shtml"))
    lease = queue.pop().meta["lease"]
    child = leases.child(lease, scrapy.Request("https://gansu.gscn.com.cn/013001100.shtml"))
    leases.child(
        lease, RawArticle(url="https://gansu.gscn.com.cn/013001100.shtml", article_id="013001100", template="A")
    )
    written = leases.hold(lease)
    leases.finish(lease)  # the callback ended
    queue.push(child)
    assert "parent_lease" not in child.meta and leased_count(queue) == 1
    leases.settled("013001100")
    assert leased_count(queue) == 1, "a write is still on its way"
    written()
    assert leased_count(queue) == 0 and not leases.waiting
    queue.pop()  # the child
    leases.closed("shutdown")  # its lease not finished: given back at the close
    assert len(queue) == 1 and leases.crawler.stats.get_value("gansunews/distributed/given_back") == 1


def test_a_request_is_marked_seen_and_queued_in_one_step_and_its_parent_is_freed_after(redis_url):
    """Seen and not queued (a process killed between the two steps) would lose the request for good: every later
    listing of it is filtered. The parent's lease ends only once the child is in Redis."""
    queue = process(redis_url, uuid.uuid4().hex)
    leases, seen = queue.leases, f"{queue.key}:seen"
    queue.push(scrapy.Request("https://gansu.gscn.com.cn/listing.shtml"))
    lease = queue.pop().meta["lease"]
    first = leases.child(lease, scrapy.Request("https://gansu.gscn.com.cn/013001100.shtml"))
    again = leases.child(lease, scrapy.Request("https://gansu.gscn.com.cn/013001100.shtml"))
    leases.finish(lease)  # the callback ended; its two children wait
    assert queue.push_unseen(first, "fp-13001100", seen) and len(queue) == 1
    assert leased_count(queue) == 1, "one child is still on its way"
    assert not queue.push_unseen(again, "fp-13001100", seen) and len(queue) == 1
    assert again.meta["parent_lease"] == lease, "a seen request keeps its marks for the dropped request's handling"
    leases.dropped(again)
    assert leased_count(queue) == 0
    queued = queue.pop()
    assert queued.url.endswith("013001100.shtml") and "parent_lease" not in queued.meta
    assert queue.server.sismember(seen, "fp-13001100")


def test_what_failed_while_redis_was_away_is_mended_once_it_is_back(tmp_path):
    """Redis stopped: a child cannot be queued (it waits in the process, and its parent's lease with it), a lease that
    ends cannot be freed, nothing can be taken, a channel found cannot be noted, and whether work is left is unknown
    (so there is). Redis back (its data kept), the next heartbeat queues the child, frees both leases, notes the
    channel, and gives back a request taken by a command whose answer was lost (leased in Redis, unknown to the
    process)."""
    server = RedisServer(data=tmp_path).start()
    try:
        queue = process(server.url, uuid.uuid4().hex)
        leases, seen = queue.leases, f"{queue.key}:seen"
        for name, priority in (("listing", 10), ("other", 5), ("lost", -5)):
            queue.push(scrapy.Request(f"https://gansu.gscn.com.cn/{name}.shtml", priority=priority))
        listing, other = queue.pop().meta["lease"], queue.pop().meta["lease"]
        lost, _ = leases.take()
        del leases.waiting[lost]  # taken, but its answer lost: this process does not know the lease
        child = leases.child(listing, scrapy.Request("https://gansu.gscn.com.cn/013001100.shtml"))
        server.stop()
        assert queue.push_unseen(child, "fp-13001100", seen), "it waits here, as good as queued"
        leases.finish(listing)  # the listing's callback ended: its child is not in Redis yet
        leases.finish(other)  # done, but its lease cannot be freed in Redis now
        assert queue.pop() is None and len(queue) == 1 and leases.busy()
        leases.found("lz")  # a channel discovered: the crawl's channels are not known until it is noted
        assert leases.all_found() is None
        assert leases.crawler.stats.get_value("gansunews/distributed/redis_errors") >= 4
        server.start()
        leases.heartbeat()
        assert leases.all_found() == {"lz"}
        assert not queue.unqueued and not leases.unfreed and not leases.waiting
        assert leased_count(queue) == 0
        assert leases.crawler.stats.get_value("gansunews/distributed/unknown_given_back") == 1
        assert sorted(queue.pop().url.rsplit("/", 1)[1] for _ in range(2)) == ["013001100.shtml", "lost.shtml"]
        assert queue.server.sismember(seen, "fp-13001100")
    finally:
        server.stop()


@pytest.fixture(scope="module")
def hardened_redis_url():
    """A redis-server with KEYS and CONFIG disabled, as hardening guides advise (and managed services do)."""
    server = RedisServer(None, "--rename-command", "KEYS", "", "--rename-command", "CONFIG", "").start()
    yield server.url
    server.stop()


def test_a_process_begins_a_new_crawl_only_when_the_run_s_last_one_is_over(hardened_redis_url):
    """Joined while a peer is alive; resumed while work is queued or leased; begun anew (the run's keys cleared, and
    no other run's) once the last crawl finished, or stopped with no work left and nobody alive. On a Redis without
    KEYS (the run's keys are named, not searched for) and without CONFIG (the eviction policy cannot be read)."""
    redis_url = hardened_redis_url
    run = uuid.uuid4().hex
    bystander = process(redis_url, f"{run}-other")
    bystander.push(scrapy.Request("https://gansu.gscn.com.cn/other.shtml"))

    def begin() -> LeasedQueue:
        queue = process(redis_url, run)
        queue.leases.begin()
        return queue

    def cleared(queue: LeasedQueue) -> int | None:
        return queue.leases.crawler.stats.get_value("gansunews/distributed/previous_crawl_cleared")

    first = begin()
    assert first.leases.crawler.stats.get_value("gansunews/distributed/joined") is None
    joined = begin()
    assert joined.leases.crawler.stats.get_value("gansunews/distributed/joined") == 1, "a peer is alive: joined"
    assert joined.leases.crawler.stats.get_value("gansunews/distributed/resumed") is None
    first.push(scrapy.Request("https://gansu.gscn.com.cn/listing.shtml"))
    first.pop()  # leased, and then the process is killed: it beats no more
    time.sleep(1.3)
    resumed = begin()
    assert cleared(resumed) is None and resumed.server.hlen(first.leases.leased_key(first.leases.me)) == 1
    assert resumed.leases.crawler.stats.get_value("gansunews/distributed/resumed") == 1
    assert (first.leases.epoch, resumed.leases.epoch) == (0, 1), "its live pages are new again"
    assert begin().leases.epoch == 1, "a peer joining the resumed crawl"
    resumed.leases.heartbeat()  # the killed one's lease is back in the queue ...
    resumed.leases.finish(resumed.pop().meta["lease"])  # ... and done here
    assert len(resumed) == 0 and leased_count(resumed) == 0
    resumed.leases.closed("shutdown")  # no work left, but stopped, not finished
    time.sleep(1.3)
    stopped_with_nothing_left = begin()
    assert cleared(stopped_with_nothing_left) >= 3
    assert stopped_with_nothing_left.leases.crawler.stats.get_value("gansunews/distributed/joined") is None
    stopped_with_nothing_left.push(scrapy.Request("https://gansu.gscn.com.cn/listing.shtml"))
    stopped_with_nothing_left.leases.closed("finished")  # finished (as if its last request were done)
    after_finished = begin()  # at once: the finished one may still be alive
    assert cleared(after_finished) >= 3 and len(after_finished) == 0
    after_finished.leases.closed("finished")
    last = begin()
    assert cleared(last) >= 3
    left = {key.decode().removeprefix(f"gansunews:{run}:") for key in last.server.scan_iter(f"gansunews:{run}:*")}
    assert left == {"run", "arguments", "workers", f"alive:{last.leases.me}"}, "the finished crawl's keys are gone"
    assert len(bystander) == 1, "another run's queue is left alone"


def test_a_redis_that_may_evict_is_a_warning_and_keys_evicted_meanwhile_a_problem(redis_url):
    """Redis with a memory limit and an allkeys policy may evict the queue or the seen set without a word."""
    quiet = process(redis_url, uuid.uuid4().hex)  # the default: no limit, nothing evicted
    quiet.leases.begin()
    quiet.leases.heartbeat()
    assert not any("evict" in key for key in quiet.leases.crawler.stats.get_stats())
    server = RedisServer(None, "--maxmemory", "2mb", "--maxmemory-policy", "allkeys-lru").start()
    try:
        queue = process(server.url, uuid.uuid4().hex)
        queue.leases.begin()
        stats = queue.leases.crawler.stats
        assert stats.get_value("gansunews/distributed/redis_may_evict") == 1
        queue.leases.heartbeat()
        assert stats.get_value("gansunews/distributed/redis_evicted_keys") is None
        for number in range(400):  # another user of the same Redis, filling it
            queue.server.set(f"other:{number}", b"x" * 10_000)
        queue.leases.heartbeat()
        assert stats.get_value("gansunews/distributed/redis_evicted_keys") > 0
    finally:
        server.stop()


def test_peers_agree_on_parsed_settings_not_on_how_they_were_written():
    """One peer's settings from settings.py, another's from the environment (strings): the same crawl."""
    from scrapy.utils.test import get_crawler as crawler_with

    from gansunews.distributed import crawl_terms
    from gansunews.spiders.portal import PortalSpider

    def terms(**settings) -> dict:
        crawler = crawler_with(PortalSpider, {"GANSUNEWS_DISCOVERY_DEPTH": 4, "GANSUNEWS_PLAYWRIGHT_ENABLED": True})
        crawler.settings.frozen = False
        for name, value in settings.items():
            crawler.settings.set(name, value, priority=25)  # as the environment sets them
        crawler.spider = PortalSpider.from_crawler(crawler)
        return crawl_terms(crawler)

    assert terms() == terms(GANSUNEWS_DISCOVERY_DEPTH="4", GANSUNEWS_PLAYWRIGHT_ENABLED="1")
    assert terms(GANSUNEWS_SEEDS="https://a.example/,https://b.example/") != terms()
    assert terms(GANSUNEWS_PLAYWRIGHT_ENABLED="false") != terms()


def test_redis_that_lost_the_crawl_s_data_is_a_logged_error_and_a_stat(redis_url):
    """Redis restarted without its data has no queue and no seen set: the crawl cannot know what it lost, but it says
    that it lost something (the verdict is then degraded)."""
    queue = process(redis_url, uuid.uuid4().hex)
    queue.leases.begin()
    queue.leases.opened()
    stats = queue.leases.crawler.stats
    assert stats.get_value("gansunews/distributed/redis_data_lost") is None
    queue.server.delete(queue.leases.run_key, *queue.server.keys(f"{queue.leases.prefix}:*"))
    queue.leases.heartbeat()
    queue.leases.heartbeat()
    assert stats.get_value("gansunews/distributed/redis_data_lost") == 1
    queue.leases.closed("finished")


def test_the_crawl_s_counters_are_summed_over_its_processes(redis_url):
    """Each process adds what its counters gained since its last push; the sums are the crawl's, for its verdict,
    once every peer still alive has pushed its final counters."""
    run = uuid.uuid4().hex
    first, second = process(redis_url, run), process(redis_url, run)
    first.leases.begin()
    second.leases.begin()
    first.leases.crawler.stats.inc_value("gansunews/discovery/channels", 25)
    first.leases.crawler.stats.inc_value("item_scraped_count", 3)
    second.leases.crawler.stats.inc_value("item_scraped_count", 4)
    second.leases.crawler.stats.set_value("gansunews/crawl_id", "not a number: not summed")
    first.leases.push_counters()
    first.leases.push_counters()  # nothing new: nothing added twice
    first.leases.crawler.stats.inc_value("item_scraped_count", 1)
    first.leases.opened()  # alive (for a second), counters not final: the other waits for them while it lives
    started = time.monotonic()
    summed = asyncio.run(second.leases.crawl_counters())
    assert time.monotonic() - started >= 0.5, "it did not wait for its peer's final counters"
    assert summed["gansunews/discovery/channels"] == 25 and summed["item_scraped_count"] == 8
    assert asyncio.run(first.leases.crawl_counters())["item_scraped_count"] == 8, "its peer is final: no wait"
    assert "gansunews/crawl_id" not in summed


def test_a_process_taken_back_while_alive_registers_again_with_its_next_take(redis_url):
    """A peer took a slow process for dead (its heartbeat late) and took its work back; the slow one goes on taking.
    Its new lease must be in a registered process's hash: a process beginning the run names the leases from there."""
    run = uuid.uuid4().hex
    slow, peer = process(redis_url, run), process(redis_url, run)
    slow.leases.begin()
    peer.leases.begin()
    for name in ("one", "two"):
        slow.push(scrapy.Request(f"https://gansu.gscn.com.cn/{name}.shtml"))
    slow.pop()
    peer.leases.take_back(slow.leases.me)
    assert slow.leases.me not in peer.leases.workers() and len(slow) == 2
    slow.pop()
    assert slow.leases.me in peer.leases.workers() and leased_count(slow) == 1


def test_a_process_still_closing_when_a_new_crawl_of_its_run_begins_keeps_to_its_own(redis_url):
    """The last process of a finished crawl marks it finished; a peer is still closing (waiting for counters) when the
    next crawl of the run name begins and clears the keys. The peer's counters must not go into the new crawl's sums,
    nor its `finished` mark end the new crawl (the next process would clear it while it runs)."""
    run = uuid.uuid4().hex
    last, closing = process(redis_url, run), process(redis_url, run)
    last.leases.begin()
    closing.leases.begin()
    closing.leases.crawler.stats.inc_value("item_scraped_count", 7)
    closing.leases.push_counters()
    last.leases.closed("finished")
    new = process(redis_url, run)
    new.leases.begin()
    assert new.leases.crawler.stats.get_value("gansunews/distributed/previous_crawl_cleared")
    closing.leases.crawler.stats.inc_value("item_scraped_count", 1)
    assert asyncio.run(closing.leases.crawl_counters()) is None, "judged on its own counters"
    assert closing.leases.crawler.stats.get_value("gansunews/distributed/outlived") == 1
    closing.leases.closed("finished")
    assert not new.server.hgetall(new.leases.sums_key), "nothing added to the new crawl's sums"
    assert not new.server.exists(new.leases.finished_key), "the new crawl is not marked finished"
    joined = process(redis_url, run)
    joined.leases.begin()
    assert joined.leases.crawler.stats.get_value("gansunews/distributed/joined") == 1, "the new crawl goes on"
