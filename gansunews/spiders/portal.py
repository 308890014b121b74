"""The `gscn` spider: discovers the 甘肃新闻 channels, walks their listings newest first, and fetches each article as
soon as a listing names it.

Navigation only: page objects read the pages (article pages in worker processes, gansunews/readers.py),
discovery.py decides which pages are channels and their regions, walks.py which archive pages come next and how far
the walks have got (walk.py: one walk's state), pending.py which articles are requested and when a read one may
leave the spider.

One stream: an article request goes out when its first listing is read; later listings add their channels (merged
on write once the article has left the spider). With a feed, a read article waits until every walk has listed past
its day (the walks' event-time frontier, `WalkLedger.frontier`), so its line has all its channels. Articles reach
the pipelines in any order (DedupePipeline re-points reposts read before their original). A channel's walk progress
is saved in MongoDB as its pages become done (every article on them settled), and a stopped crawl resumes after
them. Distributed (`REDIS_URL`), every callback is `@leased`: its request stays in Redis until what it yielded is
safe, and a process that dies loses nothing (gansunews/leases.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from gansunews.args import CrawlArgs
from gansunews.browser import browser_meta
from gansunews.crawlinfo import FailedUrl, articles_stored
from gansunews.incomplete_responses import CUT_SHORT
from gansunews.items import RawArticle
from gansunews.leases import Leases, leased
from gansunews.merges import ChannelMerges
from gansunews.pages import PageError, content_type, raw_page
from gansunews.pages.listing import Entry, ListingPage, parse_maxpage
from gansunews.readers import PageReaders, Reader, Reading, read_article, read_continuation
from gansunews.spiders.answers import (
    asked_again,
    asked_url,
    is_bare,
    is_not_a_listing,
    is_not_a_script,
    is_not_the_article,
    is_not_the_continuation,
)
from gansunews.spiders.discovery import Discovery
from gansunews.spiders.failures import Failures, lost
from gansunews.spiders.pending import GONE, WAITING, PendingArticles, is_complete
from gansunews.spiders.retries import NOT_RETRIED, RETRIED_REASONS, Retry, planned
from gansunews.spiders.walk import Channel, numbering_falls, numbering_suspect
from gansunews.spiders.walks import GO_ON, KNOWN, STOP, Walks
from gansunews.store import MongoConfig, PyMongoError, Store, utc_now
from gansunews.urls import article_id, is_site_url, link_kind, strip_query

logger = logging.getLogger(__name__)

PRIORITY_DISCOVERY = 300
PRIORITY_LISTING = 200
PRIORITY_ARTICLE = 0
PRIORITY_PARKED = -1  # an archive page asked for while the queue was full: after every queued article
MAX_CONTINUATION_PAGES = 50
MAX_REDIRECTS = 5
SCRAPYD_ARGUMENTS = frozenset({"_job"})  # scrapyd passes its job id as a spider argument
REDIRECT_CODES = [301, 302, 303, 307, 308]  # one list shared by every article request's meta
RETRY_DAYS = 30  # failures older than this are not read (they were tried enough)
UNFOUND_DAYS = 30  # a channel found by a crawl in these days and not by this one is named
# Pages that show what is new (seeds, candidates and channels' live pages, pager scripts): a distributed crawl that was
# stopped reads them again when it is resumed (gansunews/distributed.py, `ArticleDupeFilter`)
LIVE = {"live": True}


class PortalSpider(scrapy.Spider):
    name = "gscn"
    allowed_domains = ["gscn.com.cn"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = self.check_arguments(kwargs)
        for name in CrawlArgs.__dataclass_fields__:
            kwargs.pop(name, None)
        super().__init__(*args, **kwargs)
        self.pending = PendingArticles()
        self.distributed = False
        self.leases: Leases | None = None  # distributed: what this process has taken from the shared queue

    @classmethod
    def check_arguments(cls, raw: dict[str, Any]) -> CrawlArgs:
        """The spider's arguments parsed, or ArgumentError naming the first unknown or bad one."""
        return CrawlArgs.parse(raw, extra=SCRAPYD_ARGUMENTS)

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any) -> PortalSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.seeds = settings.getlist("GANSUNEWS_SEEDS")
        spider.discovery = Discovery(
            set(settings.getlist("GANSUNEWS_SCOPE")), settings.getint("GANSUNEWS_DISCOVERY_DEPTH"), spider.count
        )
        spider.render_js = settings.getbool("GANSUNEWS_PLAYWRIGHT_ENABLED")
        mongo = MongoConfig.from_settings(settings)
        spider.store = Store.of(crawler, mongo) if mongo else None
        spider.merges = ChannelMerges(spider.store, spider.count) if spider.store else None
        spider.keep_pages = settings.getbool("GANSUNEWS_KEEP_PAGES") and mongo is not None
        spider.queued_articles = max(1, settings.getint("GANSUNEWS_QUEUED_ARTICLES"))
        spider.retry_crawls = max(0, settings.getint("GANSUNEWS_RETRY_FAILED_CRAWLS"))
        spider.lost_pages = {}  # archive pages lost by earlier crawls, by channel key: number -> URL
        # A feed line cannot change once written: with a feed (`-O`), articles wait until every walk has listed
        # past them, so each line has all its channels. MongoDB merges later channels on write: no waiting.
        spider.complete_lines = bool(settings.getdict("FEEDS"))
        # Archive pages run ahead of the articles they list when articles wait for the walks (a feed); else they
        # queue with them (one priority, FIFO), so a page is done soon after it is read and a stop loses little.
        spider.archive_priority = PRIORITY_LISTING if spider.complete_lines else PRIORITY_ARTICLE
        spider.distributed = bool(settings.get("REDIS_URL"))
        spider.walks = Walks(
            count=spider.count,
            queue_full=spider.queue_full,
            save=spider.save_walk if spider.store is not None else None,
            staged=spider.distributed,  # a walk's state travels with its requests: which process ends it is open
            since=spider.args.since,
            regions=spider.args.regions,
            max_pages=spider.args.max_pages,
            full=spider.args.full,
            max_empty_pages=max(0, settings.getint("GANSUNEWS_MAX_EMPTY_PAGES")),
            # Distributed, whichever process reads a page requests the next one: one page at a time, since a
            # parallel page would carry a stale copy of the walk
            lookahead=1 if spider.distributed else max(1, settings.getint("GANSUNEWS_PAGE_LOOKAHEAD")),
            grace=timedelta(days=max(0, settings.getint("GANSUNEWS_WATERMARK_GRACE_DAYS"))),
        )
        if spider.distributed:
            spider.leases = Leases(crawler)
            crawler.signals.connect(spider.listed_again, signal=signals.request_dropped)
        spider.browser_context = settings.getdict("GANSUNEWS_PLAYWRIGHT_CONTEXT")
        spider.readers = PageReaders(max(0, settings.getint("GANSUNEWS_READ_WORKERS")))
        spider.failures = Failures(crawler)
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.on_closed, signal=signals.spider_closed)
        # An article is settled once stored (MongoDB: written or spooled), or emitted when nothing stores it, or
        # dropped by a pipeline.
        if mongo:
            crawler.signals.connect(spider.on_stored, signal=articles_stored)
        else:
            crawler.signals.connect(spider.on_item_done, signal=signals.item_scraped)
        crawler.signals.connect(spider.on_item_done, signal=signals.item_dropped)
        crawler.signals.connect(spider.on_item_done, signal=signals.item_error)
        return spider

    def on_closed(self) -> None:
        stats = self.crawler.stats
        stats.set_value("gansunews/readers/peak_rss", self.readers.peak_rss())  # while the workers still run
        stats.set_value("gansunews/readers/lost_pools", self.readers.lost_pools)
        self.readers.close()

    def progress(self) -> dict[str, int]:
        """How far the crawl is: channels discovered, still walking and walked; articles listed, fetched, stored."""
        get = self.crawler.stats.get_value
        channels = self.walks.channels.values()
        walking = sum(1 for channel in channels if self.walks.walking(channel))
        return {
            "channels_discovered": len(channels),
            "channels_walking": walking,
            "channels_walked": len(channels) - walking,
            "articles_listed": get("gansunews/article/requested", 0),
            "articles_fetched": get("gansunews/article/fetched", 0),
            "articles_stored": get("item_scraped_count", 0),
        }

    def count(self, key: str, value: int = 1) -> None:
        self.crawler.stats.inc_value(f"gansunews/{key}", value)

    # ------------------------------------------------------------------------------ discovery

    async def start(self):
        retries: list[Retry] = []
        if self.store is not None:
            try:  # a full crawl reads the walks' records only to join what they covered (`Channel.begin`)
                self.walks.states = await self.store.run(self.store.channel_states)
                if not self.args.full:
                    self.pending.known = await self.store.run(self.store.stored_ids, self.args.since)
                    if self.retry_crawls:
                        failures = await self.store.run(self.store.retryable_failures, RETRY_DAYS, RETRIED_REASONS)
                        known, since = self.pending.known, self.args.since
                        retries, self.lost_pages = planned(failures, known, since, self.retry_crawls)
                        truncated = [retry.cms_id for retry in retries if retry.stored_by]
                        written = await self.store.run(self.store.last_written_by, truncated)
                        retries = [r for r in retries if not r.stored_by or written.get(r.cms_id) == r.stored_by]
            except PyMongoError as error:
                self.count("incremental/state_unavailable")
                logger.warning("stored state unavailable, crawling as if nothing were stored: %s", error)
            if not self.args.full:
                self.count("incremental/stored_ids", len(self.pending.known))
        for retry in retries:  # ahead of the walks, which would not list them again
            again = retry.stored_by is not None  # stored without a page: fetched again whole
            if self.pending.retry(retry.cms_id, retry.day, retry.channels, track=not self.distributed, again=again):
                self.count("article/retried")
                self.count("article/requested")
                channels = retry.channels if self.distributed else []
                yield self.article_request(retry.url, retry.cms_id, channels, PRIORITY_ARTICLE, title=retry.title)
        for seed in self.seeds:
            self.discovery.follow(seed)
            yield Request(
                seed, callback=self.parse_home, errback=self.discovery_failed, priority=PRIORITY_DISCOVERY, meta=LIVE
            )

    @leased
    def parse_home(self, response: Response):
        """A portal home page: every site link is a possible way into the 甘肃新闻 tree (asked again if bare)."""
        self.discovery.answered()
        page = self.listing_page(response)
        if (retry := self.discovery_again(response, page)) is not None:
            yield retry
            return
        if page is not None:
            yield from self.follow_links(page, parent=self.discovery.root(page, link_text=""))
        self.discovered()
        yield from self.release()

    @leased
    def discovery_failed(self, failure: Failure):
        self.discovery.answered()
        self.failures.record("listing", failure)
        self.discovered()
        yield from self.release()

    def discovered(self) -> None:
        """Once discovery is over: the channels that crawls of the last weeks found and this one did not (the site
        reorganised, a link gone), named (a warning, a note in the verdict). Distributed, each process discovers a
        part: the crawl's channels are known once no work is left anywhere (`on_idle`)."""
        if not (self.discovery.ongoing or self.distributed):
            self.name_unfound(set(self.walks.channels))

    def name_unfound(self, found: set[str]) -> None:
        if self.crawler.stats.get_value("gansunews/discovery/unfound"):
            return
        unfound = self.walks.unfound(UNFOUND_DAYS, found)
        if unfound:
            self.crawler.stats.set_value("gansunews/discovery/unfound", unfound)
            logger.warning("%d channels found by recent crawls were not found: %s", len(unfound), "、".join(unfound))

    def discovery_again(self, response: Response, page: ListingPage | None) -> Request | None:
        """A home or channel page that is unreadable or bare (not the page asked for: gansunews/spiders/answers.py),
        asked again while retries are left; discovery waits for it."""
        if page is not None and not is_bare(page):
            return None
        retry = asked_again(self, response, "bare_page")
        if retry is not None:
            self.discovery.follow(response.url)
        else:  # still bare through its retries: a failed request, which the verdict counts
            self.count("fail/listing/bare_page")
        return retry

    def listing_page(self, response: Response) -> ListingPage | None:
        """The page object, or None (counted, logged) for an empty or unreadable page."""
        try:
            return ListingPage.from_response(response)
        except PageError as error:
            self.count("listing/unparsable")
            logger.warning("listing page not parsed: %s", error)
            return None

    def follow_links(self, page: ListingPage, parent: Channel | None):
        for link in self.discovery.candidates(page, parent):
            yield Request(
                strip_query(link.url),
                callback=self.parse_channel,
                errback=self.discovery_failed,
                priority=PRIORITY_DISCOVERY - (parent.depth if parent else 0),
                cb_kwargs={"link_text": link.text, "parent": parent},
                meta=LIVE,
            )

    @leased
    async def parse_channel(self, response: Response, link_text: str, parent: Channel | None):
        """A candidate channel's live page: keep it when it is a listing in scope, walk it, look further. The
        scope's home is a root, not a channel, unless it has a pager of its own."""
        self.discovery.answered()
        for result in self.discover(response, link_text, parent):
            yield result
        self.discovered()
        for article in self.release():
            yield article

    def discover(self, response: Response, link_text: str, parent: Channel | None):
        page = self.listing_page(response)
        if (retry := self.discovery_again(response, page)) is not None:
            yield retry
            return
        if page is None:
            return
        if self.needs_rendering(page, response):
            self.discovery.follow(response.url)
            yield self.rendered(response)
            return
        root = self.discovery.root(page, link_text) if page.pager() is None else None
        if root is not None or not page.is_listing:
            if root is None:
                self.count("discovery/not_listing")
            yield from self.follow_links(page, parent=root) if root else ()
            return
        channel = self.discovery.channel(page, link_text, parent)
        if channel is None:
            return
        channel.drawn_by_js = bool(response.meta.get("playwright"))
        self.walks.add(channel)
        if self.leases is not None:
            self.leases.found(channel.key)
        yield from self.follow_links(page, parent=channel)
        if self.walks.wanted(channel):
            yield from self.walk(page, channel)
        else:
            self.count("discovery/channels_not_selected")

    def walk(self, page: ListingPage, channel: Channel):
        """The live page's entries, then the archive pages newest first (page `maxpage`, `maxpage-1` …)."""
        self.walks.begin(channel)
        verdict, articles = self.read_entries(page, channel, 0)
        yield from articles
        channel.live_days = page.days()
        yield from self.lost_page_requests(channel)
        live_entries = len(page.article_entries())
        self.count("listing/live_entries", live_entries)
        if not live_entries:
            self.count("listing/channels_without_entries")
        pager = page.pager()
        numbers = self.walks.after_live_page(channel, verdict, pager)
        if numbers is not None:
            yield from self.archive_requests(channel, numbers)
            return
        assert pager is not None
        yield Request(
            pager.script_url,
            callback=self.parse_pager_script,
            errback=self.pager_script_failed,
            priority=PRIORITY_LISTING,
            cb_kwargs={"channel": channel},
            meta=LIVE,
        )

    @leased
    def parse_pager_script(self, response: Response, channel: Channel):
        """The count-JS script tells `maxpage`. An HTML page in its place is not the script asked for (a busy
        server's, served with 200), or a script without a length and without its number (cut short, maybe): asked
        again, and if it stays, the walk ends unfinished, as for a script lost (the next crawl walks the archive).
        Until 2026-12-03 it ended the walk at the live page as complete."""
        maxpage = parse_maxpage(response.body.decode("latin-1"))
        html = maxpage is None and is_not_a_script(response.body)
        # without a length, a script without its number may be cut short (gansunews/incomplete_responses.py)
        cut = maxpage is None and not html and "partial" in response.flags
        reason = "not_a_script" if html else CUT_SHORT if cut else None
        if reason and (retry := asked_again(self, response, reason)) is not None:
            yield retry
            return
        if maxpage is None:
            self.count(f"fail/listing/{reason}" if reason else "pager/bad_maxpage")
            logger.warning("pager script without a usable maxpage: %s", response.url)
        lost = reason is not None
        yield from self.archive_requests(channel, self.walks.after_pager_script(channel, maxpage, lost=lost))
        yield from self.release()

    @leased
    def pager_script_failed(self, failure: Failure):
        gone = self.failures.record("listing", failure) in NOT_RETRIED  # a 404 is the site's state, not a loss
        self.walks.after_pager_script(failure.request.cb_kwargs["channel"], None, lost=not gone)
        yield from self.release()

    def archive_requests(self, channel: Channel, numbers: list[int]):
        for number in numbers:
            yield self.archive_request(channel, number)

    def archive_request(self, channel: Channel, number: int, callback: Callable | None = None) -> Request:
        """An archive page; through the browser at once when the channel is drawn by JavaScript."""
        assert channel.pager is not None
        if channel.drawn_by_js:
            self.count("listing/rendered")
        return Request(
            channel.pager.page_url(number),
            callback=callback or self.parse_archive,
            errback=self.archive_failed,
            priority=PRIORITY_PARKED if number == channel.parked_at else self.archive_priority,
            cb_kwargs={"channel": channel, "number": number},
            meta=browser_meta(self.browser_context) if channel.drawn_by_js else None,
        )

    @leased
    async def parse_archive(self, response: Response, channel: Channel, number: int):
        for result in self.archive_page(response, channel, number):
            yield result
        for article in self.release():
            yield article

    def archive_page(self, response: Response, channel: Channel, number: int):
        page = self.listing_page(response)
        wrong = page is not None and is_not_a_listing(page)  # not the page asked for (gansunews/spiders/answers.py)
        if wrong and (retry := asked_again(self, response, "not_a_listing")) is not None:
            yield retry
            return
        if page is None or wrong:
            if wrong:
                self.count("fail/listing/not_a_listing")  # a failed request: the verdict counts it
            self.unreadable(response, channel, number, "not_a_listing" if wrong else "unparsable")
            yield from self.archive_requests(channel, self.walks.lost(channel, number))
            return
        if self.needs_rendering(page, response):
            yield self.rendered(response)
            return
        if number == channel.maxpage and channel.step < 0 and self.numbering_in_doubt(page, channel):
            channel.held = page  # page 1 decides which way the numbers run
            yield self.archive_request(channel, 1, callback=self.parse_page_one).replace(dont_filter=True)
            return
        yield from self.after_archive_page(page, channel, number)

    @leased
    async def parse_page_one(self, response: Response, channel: Channel, number: int):
        """Page 1 against page `maxpage`: if it is the newer, the numbering falls with time and the walk goes up
        from page 1 (page `maxpage`, already here, is read as the oldest); else page 1 is left for the walk's end
        (its request was not remembered by the dupefilter) and the walk goes on down from page `maxpage`."""
        page, held = self.listing_page(response), channel.held
        channel.held = None
        number = channel.maxpage
        if page is not None and numbering_falls(page.days(), held.days(), channel.live_days):
            self.count("pager/numbering/falling")
            logger.warning("archive numbers fall with time in %s: walking up from page 1", channel.url)
            channel.step, channel.last_requested = 1, 1
            _, articles = self.read_entries(held, channel, number, dated=False)  # the oldest: says nothing yet
            for request in articles:
                yield request
            held, number = page, 1
        else:
            self.count("pager/numbering/checked_rising")
            channel.pages_walked += 1
        for result in self.after_archive_page(held, channel, number):
            yield result
        for article in self.release():
            yield article

    def numbering_in_doubt(self, page: ListingPage, channel: Channel) -> bool:
        if numbering_suspect(channel.live_days, page.days()) and (channel.maxpage or 0) > 1:
            self.count("pager/numbering/suspect")
            channel.pages_requested += 1
            return True
        return False

    def after_archive_page(self, page: ListingPage, channel: Channel, number: int):
        """Register an archive page's entries and request the next pages, or end the walk (or jump to where a
        stopped crawl left it)."""
        if self.walks.repeated(channel, number, frozenset(article_id(entry.url) for entry in page.article_entries())):
            logger.warning("archive page %s repeats an earlier one of %s: walk stopped", page.url, channel.url)
            return
        verdict, articles = self.read_entries(page, channel, number)
        yield from articles
        yield from self.archive_requests(channel, self.walks.after_archive_page(channel, number, verdict, page.days()))

    @leased
    def archive_failed(self, failure: Failure):
        channel, number = failure.request.cb_kwargs["channel"], failure.request.cb_kwargs["number"]
        gone = self.failures.record("listing", failure, lost(channel, number)) in NOT_RETRIED
        if channel.held is not None:  # page 1 could not settle the numbering: keep the assumed direction
            held, channel.held = channel.held, None
            yield from self.after_archive_page(held, channel, channel.maxpage)
        else:
            yield from self.archive_requests(channel, self.walks.lost(channel, number, gone))
        yield from self.release()

    def lost_page_requests(self, channel: Channel):
        """Archive pages of the channel that earlier crawls lost (gansunews/spiders/retries.py), requested again
        beside the walk: a page the walk requests too is read twice (`dont_filter`), never skipped by it."""
        for number, url in sorted(self.lost_pages.pop(channel.key, {}).items()):
            self.count("listing/retried")
            yield Request(
                url,
                callback=self.parse_lost_page,
                errback=self.lost_page_failed,
                priority=PRIORITY_LISTING,
                cb_kwargs={"channel": channel, "number": number},
                meta=browser_meta(self.browser_context) if channel.drawn_by_js else None,
                dont_filter=True,
            )

    @leased
    def parse_lost_page(self, response: Response, channel: Channel, number: int):
        """A lost archive page read again: its articles are registered; the walk does not move."""
        page = self.listing_page(response)
        if page is None:
            self.unreadable(response, channel, number)
        elif self.needs_rendering(page, response):
            yield self.rendered(response)
        else:
            _, articles = self.read_entries(page, channel, number, walked=False)
            yield from articles
        yield from self.release()

    def unreadable(self, response: Response, channel: Channel, number: int, reason: str = "unparsable") -> None:
        """An archive page that came but could not be read: recorded under the URL asked for (not a page it was
        redirected to), so that a later crawl reads it again."""
        self.failures.signal(
            FailedUrl(asked_url(response), "listing", reason, response.status, 1, "", lost(channel, number))
        )

    @leased
    def lost_page_failed(self, failure: Failure):
        self.failures.record(
            "listing", failure, lost(failure.request.cb_kwargs["channel"], failure.request.cb_kwargs["number"])
        )
        yield from self.release()

    def queue_full(self) -> bool:
        """The scheduler holds `GANSUNEWS_QUEUED_ARTICLES` requests: walks wait (`Walks.next_pages`)."""
        scheduler = self.crawler.engine.scheduler
        return scheduler is not None and len(scheduler) >= self.queued_articles

    def needs_rendering(self, page: ListingPage, response: Response) -> bool:
        """A list container without items, not rendered yet, and a browser to render it in."""
        if not page.needs_browser or response.meta.get("playwright"):
            return False
        if not self.render_js:
            self.count("listing/needs_browser_disabled")
            return False
        return True

    def rendered(self, response: Response) -> Request:
        """The same listing request again, through headless Chromium (scrapy-playwright), ahead of its peers:
        it has already waited its turn once."""
        self.count("listing/rendered")
        return response.request.replace(
            meta=browser_meta(self.browser_context), dont_filter=True, priority=response.request.priority + 1
        )

    def read_entries(
        self, page: ListingPage, channel: Channel, number: int, dated: bool = True, walked: bool = True
    ) -> tuple[str, list[Request]]:
        """Register the page's articles: (GO_ON, KNOWN when all its entries are stored, or STOP; the requests
        for articles listed here first). A page read outside the walk (`walked=False`: a lost page read again) is
        not in its ledger."""
        if walked:
            channel.pages_walked += 1
        self.count("listing/pages")
        articles = [entry for entry in page.entries() if self.is_article_entry(entry)]
        self.count(f"listing/found_by/{page.found_by}")
        if page.drawn_by_script:
            self.count("listing/drawn_by_script")  # read from the HTML its script writes: no browser needed
        undated = sum(1 for entry in articles if entry.date is None)
        if undated:
            self.count("listing/undated_entries", undated)  # their day comes from the URL
        if not articles:
            self.count("listing/empty")
            if page.needs_browser:
                self.count("listing/needs_browser")
            logger.warning("listing page without article entries: %s", page.url)
            if not walked:
                return STOP, []
            channel.ledger.read(number, [], set())
            return GO_ON if self.walks.past_empty_page(channel) else STOP, []
        cutoff = self.walks.cutoff(channel) if walked else self.walks.since  # a lost page is behind the watermark
        recent = [entry for entry in articles if channel.recent(entry.day, cutoff)]
        requests, waiting, stored = [], set(), {}
        for entry in recent:
            request = self.register(entry, channel, waiting, stored)
            if request is not None:
                requests.append(request)
        # the page is done once the channels it adds are written, as once its articles settle (distributed, the
        # page's lease waits for them: the walk's copy in its next request would wait for ever)
        merge = f"channels of page {number}"
        waits = walked and stored and self.store is not None and not self.distributed
        if waits:
            waiting.add(merge)
        if walked:
            channel.ledger.read(number, page.days() if dated else [], waiting)
        self.add_channels(stored, written=(lambda: self.walks.settled([channel], merge)) if waits else None)
        if len(recent) < len(articles):
            self.count("listing/older_than_cutoff", len(articles) - len(recent))
        if not recent:
            self.count("listing/stopped_since")
            return STOP, requests
        if all(int(article_id(entry.url)) in self.pending.known for entry in recent):
            return KNOWN, requests
        return GO_ON, requests

    def is_article_entry(self, entry: Entry) -> bool:
        """True for article links; topics, off-site and other links are counted and left."""
        kind = link_kind(strip_query(entry.url))
        if kind != "article":
            self.count(f"skip/{kind}")
        return kind == "article"

    def register(
        self, entry: Entry, channel: Channel, waiting: set[str], stored: dict[str, list[dict[str, str]]]
    ) -> Request | None:
        """An article entry: its request when it is listed for the first time. Listed again, its channel joins
        it: the unsettled article's own list (`waiting`: this page is done once it settles), or the stored
        document (`stored`)."""
        url = strip_query(entry.url)
        cms_id = article_id(url)
        self.count("listing/entries")
        # distributed, the shared dupefilter decides (`listed_again`), and the channels travel with the request
        outcome = self.pending.list(cms_id, entry.day, channel, track=not self.distributed)
        if outcome == GONE:
            stored.setdefault(cms_id, []).append(channel.ref)
            return None
        if not self.distributed:
            waiting.add(cms_id)
        if outcome == WAITING:
            return None
        self.count("article/requested")
        channels = [channel.ref] if self.distributed else []
        return self.article_request(url, cms_id, channels, PRIORITY_ARTICLE, title=entry.title)

    def add_channels(
        self,
        channels_by_id: dict[str, list[dict[str, str]]],
        counted: str = "incremental/known",
        lease: int | None = None,
        written: Callable[[], None] | None = None,
    ) -> None:
        """Channels of articles stored already (by an earlier run, or released by this one), or requested by
        another process, merged on write, however long MongoDB is away (gansunews/merges.py). Distributed, the
        listing's lease waits for the write; `written` is told too."""
        if not channels_by_id:
            return
        self.count(counted, len(channels_by_id))
        if self.store is None:  # a feed's articles wait for their listings: only an out-of-order one gets here
            self.count("listing/after_release", len(channels_by_id))
            return
        lease_written = self.leases.hold(lease) if self.leases else lambda: None

        def merged() -> None:
            lease_written()
            if written is not None:
                written()

        self.merges.add(channels_by_id, merged)

    def listed_again(self, request: Request) -> None:
        """Distributed: an article request the shared dupefilter had seen (some process requested the article
        already). Its channel is merged on write, wherever the article is stored."""
        cms_id = request.cb_kwargs.get("cms_id") if request.callback == self.parse_article_or_redirect else None
        if cms_id is not None:
            self.count("article/requested", -1)
            lease = request.meta.get("parent_lease")
            self.add_channels({cms_id: request.cb_kwargs["channels"]}, counted="article/listed_again", lease=lease)
        self.leases.dropped(request)

    def save_walk(self, key: str, record: dict[str, Any], walk: dict[str, Any]) -> None:
        """Distributed, staged under the crawl's mark (`Store.promote_walks`)."""
        staged_by = self.leases.run_mark.decode() if self.leases is not None else None
        self.store.save_walk_soon(key, record, {**walk, "at": utc_now()}, staged_by)

    # -------------------------------------------------------------------------------- articles

    def on_idle(self) -> None:
        """Articles still held (no walk left to list them) are released."""
        if self.pending.held:
            self.crawler.engine.crawl(Request("data:,", callback=self.release_all, dont_filter=True))
            raise DontCloseSpider
        if self.leases is not None:
            if self.leases.busy():
                raise DontCloseSpider  # a peer's leased work may still bring more, or come back to the queue
            found = self.leases.all_found()  # no work is left: every process's discovery is over
            if found is not None:
                self.name_unfound(found)

    def release(self):
        """Held articles every walk has listed past."""
        yield from self.pending.release(self.walks.frontier(self.discovery.ongoing) if self.pending.held else None)

    @leased
    def release_all(self, response: Response):
        """Idle: no walk is left to list the held articles."""
        yield from self.pending.release(date.min)

    def fetched(self, cms_id: str, raw: RawArticle | None):
        """An article fetched (continuation pages joined): settled at once when it yields nothing; else released at
        once, or, for a feed, when every walk has listed past its day."""
        if raw is None:
            self.settle(cms_id)
            return
        day = self.pending.hold(cms_id, raw)
        if day is None:  # fetched for a peer (distributed crawl): its channels came with the request
            yield raw
            return
        if self.complete_lines and not is_complete(day, self.walks.frontier(self.discovery.ongoing)):
            return
        yield from self.pending.released([cms_id])

    def on_stored(self, ids: list[str], spooled: bool = False) -> None:
        for cms_id in ids:
            self.settle(cms_id, in_store=not spooled)

    def on_item_done(self, item: Any, **_: Any) -> None:
        self.settle(item.article_id)

    def settle(self, cms_id: str, in_store: bool = True) -> None:
        """The article is stored, dropped or failed: the pages that listed it may now be done. Distributed, its
        lease ends once it is in MongoDB (not in this machine's spool: a peer takes it back if this process dies)."""
        if self.leases is not None and in_store:
            self.leases.settled(cms_id)
        self.walks.settled(self.pending.settle(cms_id), cms_id)

    def article_request(
        self,
        url: str,
        cms_id: str,
        channels: list[dict[str, str]],
        priority: int,
        redirects: int = 0,
        title: str | None = None,
    ) -> Request:
        """Redirects are handled here, not by RedirectMiddleware: an article moved off the site (live streams)
        must never be requested, and must still be settled. In a distributed crawl the channels travel with the
        request, so whichever process fetches it can build the item. `title`: the listing's, which a page no
        template knows must show (`is_not_the_article`)."""
        return Request(
            url,
            callback=self.parse_article_or_redirect,
            errback=self.article_failed,
            priority=priority,
            cb_kwargs={"cms_id": cms_id, "channels": channels, "title": title},
            meta={"dont_redirect": True, "handle_httpstatus_list": REDIRECT_CODES, "redirects": redirects},
            # One request per id is the spider's own bookkeeping (`listed`, `settled`): the dupefilter's set
            # would only grow. Across processes (distributed) it is the shared dupefilter that decides.
            dont_filter=redirects > 0 or not self.distributed,
        )

    @leased
    async def parse_article_or_redirect(
        self, response: Response, cms_id: str, channels: list[dict[str, str]], title: str | None = None
    ):
        self.count("article/fetched")
        if response.status not in REDIRECT_CODES:
            async for result in self.parse_article(response, cms_id, channels, title):
                yield result
            return
        target = strip_query(response.urljoin(response.headers.get("Location", b"").decode("latin-1")))
        redirects = response.meta["redirects"] + 1
        if article_id(target) == cms_id and redirects <= MAX_REDIRECTS:
            yield self.article_request(target, cms_id, channels, response.request.priority, redirects, title)
            return
        if is_site_url(target):  # another page of the site in its place (a firewall's check, an error page), or a loop
            retry = self.article_retry(cms_id, channels, title)  # the next crawls ask again (spiders/retries.py)
            self.failures.failed(
                FailedUrl(response.url, "article", "redirect_elsewhere", response.status, 1, f"to {target}", retry)
            )
        else:  # off the site: a live stream's page, never an article
            self.count("skip/offsite_redirect")
            logger.info("article %s redirects to %s: not followed", response.url, target)
        for result in self.fetched(cms_id, None):
            yield result

    async def parse_article(self, response: Response, cms_id: str, channels: list[dict[str, str]], title: str | None):
        reading = await self.read(read_article, response)
        if is_not_the_article(reading.article, title):  # not the page asked for (gansunews/spiders/answers.py)
            if (retry := asked_again(self, response, "not_the_article")) is not None:
                yield retry
                return
            # still not the article: a failure the next crawls ask again; its page is not kept (it is not the article's)
            error = f"the page shows {reading.article.title!r}, the listing {title!r}"
            attempts = response.request.meta.get("retry_times", 0) + 1
            retry = self.article_retry(cms_id, channels, title)
            self.failures.failed(
                FailedUrl(response.url, "article", "not_the_article", response.status, attempts, error, retry)
            )
            reading = Reading()
        if reading.not_article:
            self.count(f"skip/{reading.not_article}")
        elif reading.error:
            self.count("drop/unparsable")
            logger.warning("article page not parsed: %s", reading.error)
            self.keep_unread_page(response)
            retry = self.article_retry(cms_id, channels, title)  # `reparse` stores it with its channels
            self.failures.signal(
                FailedUrl(response.url, "drop", "unparsable", response.status, 1, reading.error, retry)
            )
        raw = reading.article
        if raw is not None:
            self.count(f"date/from/{raw.date_from}")
            self.count(f"template/{raw.template}")
            self.keep_page(raw, response)
            raw.status = response.status
            raw.channels = channels  # the request's (distributed crawl); `hold` gives this process's own
            if reading.next_url:
                yield self.continuation_request(raw, reading.next_url, {strip_query(response.url)})
                return
        for result in self.fetched(cms_id, raw):
            yield result

    def keep_page(self, raw: RawArticle, response: Response) -> None:
        """The page as fetched goes with the article to PagesPipeline (`reparse` reads the archive from them)."""
        if self.keep_pages:
            raw.pages.append(raw_page(response.url, response.status, content_type(response), response.body))

    def keep_unread_page(self, response: Response) -> None:
        """An article page no reader could read is kept all the same: `reparse` reads it again once reading
        improves (a template the readers do not know yet). Until 2026-12-03 it was not, and the article was out of
        reach once older than the walks' cutoff."""
        if self.keep_pages:
            self.store.keep_pages_soon([raw_page(response.url, response.status, content_type(response), response.body)])

    async def read(self, reader: Reader, response: Response) -> Reading:
        """The page read by a worker process (gansunews/readers.py)."""
        try:
            return await self.readers.read(reader, response.url, response.body, content_type(response))
        except Exception as error:  # a bug, not the page: lose this page (counted), not the crawl
            logger.exception("reading %s failed", response.url)
            return Reading(error=f"{type(error).__name__}: {error}")

    def continuation_request(self, raw: RawArticle, url: str, visited: set[str]) -> Request:
        return Request(
            url,
            callback=self.parse_continuation,
            errback=self.continuation_failed,
            priority=PRIORITY_ARTICLE + 1,
            cb_kwargs={"raw": raw, "visited": visited | {url}},
        )

    @leased
    async def parse_continuation(self, response: Response, raw: RawArticle, visited: set[str]):
        reading, reason = await self.read(read_continuation, response), "unparsable"
        if is_not_the_continuation(reading.body, raw.title):  # gansunews/spiders/answers.py
            if (retry := asked_again(self, response, "not_the_article")) is not None:
                yield retry
                return
            error = f"the page shows {reading.body.title_shown!r}, the article {raw.title!r}"
            reading, reason = Reading(error=error), "not_the_article"
        if reading.body is None:  # the article keeps the pages it has; the loss is counted and recorded
            status, error = response.status, reading.error or ""
            self.failures.failed(FailedUrl(response.url, "continuation", reason, status, 1, error, self.truncated(raw)))
        else:
            raw.join(reading.body)
            self.keep_page(raw, response)
            next_url = reading.next_url
            if next_url and next_url not in visited and len(visited) < MAX_CONTINUATION_PAGES:
                yield self.continuation_request(raw, next_url, visited)
                return
        for result in self.fetched(raw.article_id, raw):
            yield result

    @leased
    def continuation_failed(self, failure: Failure):
        """A lost continuation page: the article is emitted with the pages it has, and the loss is counted and
        recorded (a later crawl fetches the article again)."""
        raw = failure.request.cb_kwargs["raw"]
        self.failures.record("continuation", failure, self.truncated(raw))
        yield from self.fetched(raw.article_id, raw)

    def truncated(self, raw: RawArticle) -> dict[str, Any]:
        """What the failure record of a lost continuation page keeps: the article, the channels that listed it."""
        return {"article": raw.url, "channels": raw.channels or self.pending.channels_of(raw.article_id)}

    def article_retry(self, cms_id: str, channels: list[dict[str, str]], title: str | None) -> dict[str, Any]:
        """What the failure record of an article keeps, for the crawls that request it again: the channels that
        listed it, and the listing's title (a page that is not the article is told apart by it:
        gansunews/spiders/answers.py)."""
        return {"channels": channels or self.pending.channels_of(cms_id), "title": title}

    @leased
    def article_failed(self, failure: Failure):
        kwargs = failure.request.cb_kwargs  # `title` since 2026-12-03: a queue kept in Redis may hold older requests
        cms_id = kwargs["cms_id"]
        self.failures.record("article", failure, self.article_retry(cms_id, kwargs["channels"], kwargs.get("title")))
        yield from self.fetched(cms_id, None)
