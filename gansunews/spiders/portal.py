"""The `gscn` spider: discovers the 甘肃新闻 channels, walks their listings newest first, then fetches articles.

Navigation only: page objects read the pages (article pages in worker processes, gansunews/readers.py),
discovery.py decides which pages are channels and their regions, walk.py which archive page comes next,
pipelines clean the items. The crawl has two phases so that an article listed in several channels is emitted
once with all of them: (1) discovery and listing walks, which collect article URLs and the channels that list
them; (2) when the listings are exhausted (`spider_idle`), the articles, oldest first, emitted in that order
through one funnel so that near-duplicate detection sees originals before reposts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from gansunews.args import CrawlArgs
from gansunews.browser import browser_meta
from gansunews.crawlinfo import failure_recorded
from gansunews.items import RawArticle
from gansunews.pages import PageError, content_type, raw_page
from gansunews.pages.listing import Entry, ListingPage, parse_maxpage
from gansunews.readers import PageReaders, Reader, Reading, read_article, read_continuation
from gansunews.regions import divisions, is_within
from gansunews.spiders.discovery import (
    PROVINCE_CODE,
    Channel,
    identify,
    is_candidate,
    region_named_by,
    scope_root_by,
)
from gansunews.spiders.walk import next_page, numbering_falls, numbering_suspect, pages_before_cutoff
from gansunews.store import MongoConfig, PyMongoError, StoredState
from gansunews.urls import article_id, article_match, article_url_date, channel_key, is_site_url, strip_query

logger = logging.getLogger(__name__)

PRIORITY_DISCOVERY = 300
PRIORITY_LISTING = 200
PRIORITY_ARTICLE = 0
MAX_CONTINUATION_PAGES = 50
MAX_REDIRECTS = 5
FUNNEL_POLL_SECONDS = 0.05  # how often the funnel looks at the scheduler's length while nothing is released
SCRAPYD_ARGUMENTS = frozenset({"_job"})  # scrapyd passes its job id as a spider argument
REDIRECT_CODES = [301, 302, 303, 307, 308]  # one list shared by every article request's meta


@dataclass(slots=True)
class PendingArticle:
    url: str
    cms_id: str
    known: bool = False
    """Stored by an earlier run: not fetched again."""
    channels: list[dict[str, str]] = field(default_factory=list)


class InOrder:
    """Releases results in the order their keys were registered, holding back those that finish early; keys are
    forgotten once released. `passthrough` releases at once: in a distributed crawl another process may finish
    a key."""

    def __init__(self, passthrough: bool = False) -> None:
        self.passthrough = passthrough
        self._keys: deque[str] = deque()  # registered, not released yet
        self._done: dict[str, Any] = {}

    def register(self, key: str) -> None:
        self._keys.append(key)

    def finish(self, key: str, result: Any) -> list[Any]:
        if self.passthrough:
            return [result] if result is not None else []
        self._done[key] = result
        released = []
        while self._keys and self._keys[0] in self._done:
            value = self._done.pop(self._keys.popleft())
            if value is not None:
                released.append(value)
        return released

    def drain(self) -> list[Any]:
        """Everything still held, in order, for keys that will never finish (a lost request)."""
        held = [self._done.pop(key) for key in self._keys if key in self._done]
        self._keys.clear()
        return [value for value in held if value is not None]

    @property
    def holding(self) -> bool:
        return bool(self._done)

    @property
    def unfinished(self) -> bool:
        """Keys registered and not released yet."""
        return not self.passthrough and bool(self._keys)


class PortalSpider(scrapy.Spider):
    name = "gscn"
    allowed_domains = ["gscn.com.cn"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = self.check_arguments(kwargs)
        for name in CrawlArgs.__dataclass_fields__:
            kwargs.pop(name, None)
        super().__init__(*args, **kwargs)
        self.channels: dict[str, Channel] = {}
        self.pending: dict[str, PendingArticle] = {}
        self.requested: set[str] = set()  # ids requested while peers may still list them (distributed crawl)
        self.in_order = InOrder()
        self.outbox: deque[RawArticle] = deque()  # released articles, waiting for the funnel (`emit_released`)
        self.released = asyncio.Event()
        self.emitting = False
        self.distributed = False
        self.seen_links: set[str] = set()
        self.watermarks: dict[str, str] = {}
        self.known: set[str] = set()  # ids stored by earlier runs: not fetched again

    @classmethod
    def check_arguments(cls, raw: dict[str, Any]) -> CrawlArgs:
        """The spider's arguments parsed, or ArgumentError naming the first unknown or bad one."""
        return CrawlArgs.parse(raw, extra=SCRAPYD_ARGUMENTS)

    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any) -> PortalSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.seeds = settings.getlist("GANSUNEWS_SEEDS")
        spider.scope_names = set(settings.getlist("GANSUNEWS_SCOPE"))
        spider.max_depth = settings.getint("GANSUNEWS_DISCOVERY_DEPTH")
        spider.render_js = settings.getbool("GANSUNEWS_PLAYWRIGHT_ENABLED")
        spider.page_lookahead = max(1, settings.getint("GANSUNEWS_PAGE_LOOKAHEAD"))
        spider.max_empty_pages = max(0, settings.getint("GANSUNEWS_MAX_EMPTY_PAGES"))
        spider.keep_pages = settings.getbool("GANSUNEWS_KEEP_PAGES") and MongoConfig.from_settings(settings) is not None
        spider.queued_articles = max(1, settings.getint("GANSUNEWS_QUEUED_ARTICLES"))
        spider.distributed = bool(settings.get("REDIS_URL"))
        spider.in_order = InOrder(passthrough=spider.distributed)  # another process may fetch what this one listed
        spider.shared_queue_patience = settings.getfloat("GANSUNEWS_REDIS_IDLE_SECONDS") if spider.distributed else 0.0
        spider.idle_mark = (-1, time.monotonic())
        spider.browser_context = settings.getdict("GANSUNEWS_PLAYWRIGHT_CONTEXT")
        spider.stored = None if spider.args.full else StoredState.from_crawler(crawler)
        spider.readers = PageReaders(max(0, settings.getint("GANSUNEWS_READ_WORKERS")))
        crawler.signals.connect(spider.on_idle, signal=signals.spider_idle)
        crawler.signals.connect(spider.on_closed, signal=signals.spider_closed)
        return spider

    def on_closed(self) -> None:
        stats = self.crawler.stats
        stats.set_value("gansunews/readers/peak_rss", self.readers.peak_rss())  # while the workers still run
        stats.set_value("gansunews/readers/lost_pools", self.readers.lost_pools)
        self.readers.close()

    def progress(self) -> dict[str, int]:
        """How far the crawl is: channels discovered, still walking and walked; articles listed, fetched, stored."""
        get = self.crawler.stats.get_value
        walking = sum(1 for c in self.channels.values() if c.pages_requested > c.pages_walked and not c.exhausted)
        return {
            "channels_discovered": len(self.channels),
            "channels_walking": walking,
            "channels_walked": len(self.channels) - walking,
            "articles_listed": len(self.pending) + get("gansunews/article/requested", 0),
            "articles_fetched": get("gansunews/article/fetched", 0),
            "articles_stored": get("item_scraped_count", 0),
        }

    def count(self, key: str, value: int = 1) -> None:
        self.crawler.stats.inc_value(f"gansunews/{key}", value)

    # ------------------------------------------------------------------------------ discovery

    async def start(self):
        if self.stored is not None:
            try:
                self.watermarks = await self.stored.watermarks()
                self.known = await self.stored.known_since(self.args.since)
            except PyMongoError as error:
                self.count("incremental/state_unavailable")
                logger.warning("stored state unavailable, crawling as if nothing were stored: %s", error)
            self.count("incremental/stored_ids", len(self.known))
        for seed in self.seeds:
            self.seen_links.add(channel_key(seed))
            yield Request(seed, callback=self.parse_home, errback=self.listing_failed, priority=PRIORITY_DISCOVERY)

    def parse_home(self, response: Response):
        """A portal home page: every site link is a possible way into the 甘肃新闻 tree."""
        page = self.listing_page(response)
        if page is not None:
            yield from self.follow_links(page, parent=self.scope_root(page, link_text=""))

    def listing_page(self, response: Response) -> ListingPage | None:
        """The page object, or None (counted, logged) for an empty or unreadable page."""
        try:
            return ListingPage.from_response(response)
        except PageError as error:
            self.count("listing/unparsable")
            logger.warning("listing page not parsed: %s", error)
            return None

    def scope_root(self, page: ListingPage, link_text: str) -> Channel | None:
        """The scope's own home page (甘肃新闻's), known by its link text, its <title> or its breadcrumb."""
        by = scope_root_by(page, link_text, self.scope_names)
        if by is None:
            return None
        self.count(f"discovery/root_by/{by}")
        return Channel(url=strip_query(page.url), name=min(self.scope_names), region_code=PROVINCE_CODE, depth=1)

    def follow_links(self, page: ListingPage, parent: Channel | None):
        """Candidate channels: links named after a division or the scope, or same-host links of a scope page."""
        if parent is not None and parent.depth >= self.max_depth:
            return
        host = urlsplit(page.url).hostname
        for link in page.links():
            key = channel_key(link.url)
            if key in self.seen_links:
                continue
            same_host = parent is not None and urlsplit(link.url).hostname == host
            if is_candidate(link.text, same_host, self.scope_names):
                self.seen_links.add(key)
                yield Request(
                    strip_query(link.url),
                    callback=self.parse_channel,
                    errback=self.listing_failed,
                    priority=PRIORITY_DISCOVERY - (parent.depth if parent else 0),
                    cb_kwargs={"link_text": link.text, "parent": parent},
                )

    async def parse_channel(self, response: Response, link_text: str, parent: Channel | None):
        """A candidate channel's live page: keep it when it is a listing in scope, walk it, look further. The
        scope's home is a root, not a channel, unless it has a pager of its own."""
        page = self.listing_page(response)
        if page is None:
            return
        if self.needs_rendering(page, response):
            yield self.rendered(response)
            return
        root = self.scope_root(page, link_text) if page.pager() is None else None
        if root is not None or not page.is_listing:
            if root is None:
                self.count("discovery/not_listing")
            for request in self.follow_links(page, parent=root) if root else ():
                yield request
            return
        channel = identify(page, link_text, parent, self.scope_names)
        if channel is None:
            self.count("discovery/out_of_scope")
            return
        key = channel_key(response.url)
        if key in self.channels:
            return
        channel.drawn_by_js = bool(response.meta.get("playwright"))
        self.channels[key] = channel
        self.count("discovery/channels")
        self.count(f"discovery/channels/{divisions()[channel.region_code].level}")
        named_by = region_named_by(page.breadcrumb(), link_text)
        if named_by:
            self.count(f"discovery/region_name/{named_by}")
        self.count(f"discovery/breadcrumb/{'present' if page.breadcrumb() else 'absent'}")
        for request in self.follow_links(page, parent=channel):
            yield request
        if self.wanted(channel):
            async for request in self.walk(page, channel):
                yield request
        else:
            self.count("discovery/channels_not_selected")

    def wanted(self, channel: Channel) -> bool:
        return not self.args.regions or is_within(divisions()[channel.region_code], set(self.args.regions))

    # -------------------------------------------------------------------------------- listings

    async def walk(self, page: ListingPage, channel: Channel):
        """The live page's entries, then the archive pages newest first (page `maxpage`, `maxpage-1` …)."""
        fresh = self.read_entries(page, channel)
        channel.live_days = page.days()
        live_entries = len(page.article_entries())
        self.count("listing/live_entries", live_entries)
        if not live_entries:
            self.count("listing/channels_without_entries")
        pager = page.pager()
        if pager is None:  # small channels may have none: the live page is all there is to walk
            self.count("pager/missing")
            return
        self.count(f"pager/script/{pager.reference}")
        channel.pager = pager
        channel.maxpage = pager.maxpage  # set by the page itself, or later from the pager script
        if not fresh or self.enough(channel):
            return
        if pager.maxpage:
            for request in self.walk_on(channel, pager.maxpage):
                yield request
        else:
            yield Request(
                pager.script_url,
                callback=self.parse_pager_script,
                errback=self.listing_failed,
                priority=PRIORITY_LISTING,
                cb_kwargs={"channel": channel},
            )

    def parse_pager_script(self, response: Response, channel: Channel):
        maxpage = parse_maxpage(response.body.decode("latin-1"))
        if maxpage is None:
            self.count("pager/bad_maxpage")
            logger.warning("pager script without a usable maxpage: %s", response.url)
            return
        channel.maxpage = maxpage
        yield from self.walk_on(channel, maxpage)

    def archive_request(self, channel: Channel, number: int, callback: Callable | None = None) -> Request:
        """An archive page; through the browser at once when the channel is drawn by JavaScript."""
        assert channel.pager is not None
        if channel.drawn_by_js:
            self.count("listing/rendered")
        return Request(
            channel.pager.page_url(number),
            callback=callback or self.parse_archive,
            errback=self.archive_failed,
            priority=PRIORITY_LISTING,
            cb_kwargs={"channel": channel, "number": number},
            meta=browser_meta(self.browser_context) if channel.drawn_by_js else None,
        )

    async def parse_archive(self, response: Response, channel: Channel, number: int):
        page = self.listing_page(response)
        if page is None:
            for request in self.archive_lost(channel):
                yield request
            return
        if self.needs_rendering(page, response):
            yield self.rendered(response)
            return
        if number == channel.maxpage and channel.step < 0 and self.numbering_in_doubt(page, channel):
            channel.held = page  # page 1 decides which way the numbers run
            yield self.archive_request(channel, 1, callback=self.parse_page_one).replace(dont_filter=True)
            return
        for request in self.after_archive_page(page, channel):
            yield request

    async def parse_page_one(self, response: Response, channel: Channel, number: int):
        """Page 1 against page `maxpage`: if it is the newer, the numbering falls with time and the walk goes up
        from page 1 (page `maxpage`, already here, is read as the oldest); else page 1 is left for the walk's end
        (its request was not remembered by the dupefilter) and the walk goes on down from page `maxpage`."""
        page, held = self.listing_page(response), channel.held
        channel.held = None
        if page is not None and numbering_falls(page.days(), held.days(), channel.live_days):
            self.count("pager/numbering/falling")
            logger.warning("archive numbers fall with time in %s: walking up from page 1", channel.url)
            channel.step, channel.last_requested = 1, 1
            self.read_entries(held, channel)
            held = page
        else:
            self.count("pager/numbering/checked_rising")
            channel.pages_walked += 1
        for request in self.after_archive_page(held, channel):
            yield request

    def numbering_in_doubt(self, page: ListingPage, channel: Channel) -> bool:
        if numbering_suspect(channel.live_days, page.days()) and (channel.maxpage or 0) > 1:
            self.count("pager/numbering/suspect")
            channel.pages_requested += 1
            return True
        return False

    def after_archive_page(self, page: ListingPage, channel: Channel):
        """Register an archive page's entries and request the next pages, or end the walk."""
        if self.repeats_a_page(page, channel):
            channel.pages_walked += 1
            channel.exhausted = True
            return
        if self.read_entries(page, channel):
            most = pages_before_cutoff(page.days(), self.cutoff(channel), self.page_lookahead)
            channel.window = min(2 * channel.window, most)
            yield from self.walk_on(channel, channel.last_requested + channel.step)
        else:
            channel.exhausted = True

    def repeats_a_page(self, page: ListingPage, channel: Channel) -> bool:
        """An archive page listing exactly what another recent one listed: a site that serves one page for every
        number would otherwise be walked to its end. (Page `maxpage` may repeat the live page: that is allowed.)"""
        listed = frozenset(article_id(entry.url) for entry in page.article_entries())
        if listed and listed in channel.recent_pages:
            self.count("listing/stopped_repeated")
            logger.warning("archive page %s repeats an earlier one of %s: walk stopped", page.url, channel.url)
            return True
        channel.recent_pages.append(listed)
        return False

    def archive_failed(self, failure: Failure):
        self.record_failure("listing", failure)
        channel = failure.request.cb_kwargs["channel"]
        if channel.held is not None:  # page 1 could not settle the numbering: keep the assumed direction
            held, channel.held = channel.held, None
            yield from self.after_archive_page(held, channel)
            return
        yield from self.archive_lost(channel)

    def archive_lost(self, channel: Channel):
        """An archive page that failed for good or could not be read: its slot in the look-ahead is free again, and
        the walk goes on past it, as past an empty page (it says nothing about dates), but not forever."""
        channel.pages_walked += 1
        if self.past_a_page_without_entries(channel):
            yield from self.walk_on(channel, channel.last_requested + channel.step)
        else:
            channel.exhausted = True

    def past_a_page_without_entries(self, channel: Channel) -> bool:
        """Whether the walk goes on after a page that says nothing about dates: yes, up to
        `GANSUNEWS_MAX_EMPTY_PAGES` of them."""
        channel.empty_pages += 1
        if channel.empty_pages > self.max_empty_pages:
            self.count("listing/stopped_empty")
        return channel.empty_pages <= self.max_empty_pages

    def walk_on(self, channel: Channel, start: int):
        """Archive pages from `start` on in the walk's direction, keeping `channel.window` of them in flight: the
        walk is sequential by nature (it stops at the first page with nothing new). The window opens like TCP's
        slow start, one page, then 2, 4 … up to `GANSUNEWS_PAGE_LOOKAHEAD`, and never past the pages the dates
        predict before the cutoff: a long walk hides its latency, a walk that stops early reads a page or two
        past the stop."""
        number: int | None = start if 1 <= start <= channel.walk_end else None
        while (
            number is not None
            and not channel.exhausted
            and not self.enough(channel)
            and channel.pages_requested - channel.pages_walked < channel.window
        ):
            channel.pages_requested += 1
            channel.last_requested = number
            yield self.archive_request(channel, number)
            number = next_page(number, channel.step, channel.walk_end)

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

    def enough(self, channel: Channel) -> bool:
        """`max_pages` reached, counting pages requested (the live page is the first)."""
        if self.args.max_pages and channel.pages_requested >= self.args.max_pages:
            self.count("listing/stopped_max_pages")
            return True
        return False

    def read_entries(self, page: ListingPage, channel: Channel) -> bool:
        """Register the page's articles; False when nothing on it is new enough (or unknown enough) to go on."""
        channel.pages_walked += 1
        self.count("listing/pages")
        articles = [entry for entry in page.entries() if self.is_article_entry(entry)]
        self.count(f"listing/found_by/{page.found_by}")
        undated = sum(1 for entry in articles if entry.date is None)
        if undated:
            self.count("listing/undated_entries", undated)  # their day comes from the URL
        if not articles:
            self.count("listing/empty")
            if page.needs_browser:
                self.count("listing/needs_browser")
            logger.warning("listing page without article entries: %s", page.url)
            return self.past_a_page_without_entries(channel)
        recent = [entry for entry in articles if self.recent_enough(entry, channel)]
        for entry in recent:
            self.register(entry, channel)
        if len(recent) < len(articles):
            self.count("listing/older_than_cutoff", len(articles) - len(recent))
        fresh = [entry for entry in recent if article_id(entry.url) not in self.known]
        if not fresh:
            self.count("listing/stopped_since" if not recent else "listing/stopped_known")
        return bool(fresh) or (not recent and self.cutoff(channel) is None)

    def is_article_entry(self, entry: Entry) -> bool:
        """True for article links; topics, off-site and other links are counted and left."""
        url = strip_query(entry.url)
        if article_match(url):
            return True
        kind = "offsite_link" if not is_site_url(url) else "topic" if "/cms_udf/" in url else "not_article_url"
        self.count(f"skip/{kind}")
        return False

    def cutoff(self, channel: Channel) -> date | None:
        """The oldest publish day still wanted: `since`, or the channel's watermark if that is later."""
        watermark = self.watermarks.get(channel_key(channel.url))
        days = [d for d in (self.args.since, date.fromisoformat(watermark[:10]) if watermark else None) if d]
        return max(days) if days else None

    def recent_enough(self, entry: Entry, channel: Channel) -> bool:
        published = entry.day
        cutoff = self.cutoff(channel)
        if published and (channel.newest_seen is None or published > channel.newest_seen):
            channel.newest_seen = published
        return not (cutoff and published and published < cutoff)

    def register(self, entry: Entry, channel: Channel) -> None:
        url = strip_query(entry.url)
        cms_id = article_id(url)
        self.count("listing/entries")
        if cms_id in self.requested:  # listed again after its request went out (by a peer, in a distributed crawl)
            return
        pending = self.pending.setdefault(cms_id, PendingArticle(url, cms_id, known=cms_id in self.known))
        if channel.ref not in pending.channels:
            pending.channels.append(channel.ref)

    def listing_failed(self, failure: Failure):
        self.record_failure("listing", failure)

    def channel_records(self) -> list[dict[str, Any]]:
        """Discovered channels as stored in the `channels` collection (watermark = newest publish day seen)."""
        return [channel.as_record(key) for key, channel in self.channels.items()]

    # -------------------------------------------------------------------------------- articles

    def on_idle(self) -> None:
        """Listings are exhausted: fetch the articles not yet requested, oldest first."""
        waiting = sorted(self.pending.values(), key=lambda p: (article_url_date(p.url) or date.min, p.cms_id))
        if waiting:
            self.pending = {}
            if self.distributed:  # alone, nothing is listed once the listings are exhausted: no need to remember
                self.requested.update(p.cms_id for p in waiting)
            self.crawler.engine.crawl(
                Request("data:,", callback=self.request_articles, cb_kwargs={"waiting": waiting}, dont_filter=True)
            )
            raise DontCloseSpider
        if self.in_order.holding:
            self.crawler.engine.crawl(Request("data:,", callback=self.release_held, dont_filter=True))
            raise DontCloseSpider
        if self.shared_queue_patience and self.still_waiting_for_peers():
            raise DontCloseSpider

    def still_waiting_for_peers(self) -> bool:
        """Distributed crawl: an idle process waits a while for work the others put in the shared queue, and
        closes only after `GANSUNEWS_REDIS_IDLE_SECONDS` without any response."""
        seen = self.crawler.stats.get_value("response_received_count", 0)
        if seen != self.idle_mark[0]:
            self.idle_mark = (seen, time.monotonic())
        return time.monotonic() - self.idle_mark[1] < self.shared_queue_patience

    async def request_articles(self, response: Response, waiting: list[PendingArticle]):
        """Articles stored by earlier runs are not fetched again; their new listings are merged into them."""
        known = {p.cms_id: p.channels for p in waiting if p.known}
        if known:
            self.count("incremental/known", len(known))
            try:
                self.count("incremental/channels_merged", await self.stored.add_channels(known))
            except PyMongoError as error:
                logger.warning("could not merge channels into stored articles: %s", error)
        fetch = deque(p for p in waiting if not p.known)
        waiting.clear()  # each entry now lives in `fetch` only, until its request is made
        known.clear()
        self.count("article/requested", len(fetch))
        for pending in fetch:
            self.in_order.register(pending.cms_id)
        self.emitting = not self.distributed
        try:
            while fetch and not self.closing():  # oldest first; one priority level, FIFO (settings)
                async for item in self.emit_released(until=self.may_request):
                    yield item
                pending = fetch.popleft()
                yield self.article_request(pending.url, pending.cms_id, pending.channels, PRIORITY_ARTICLE)
            async for item in self.emit_released(until=self.articles_settled):
                yield item
        finally:
            self.emitting = False

    async def emit_released(self, until: Callable[[], bool]):
        """The funnel: articles leave the spider here, in the order `in_order` released them, from this one
        long-running callback until `until()`. Yielded by the many callbacks that finish them, they would enter
        the pipelines interleaved, and a repost could reach DedupePipeline before its original."""
        while True:
            while self.outbox:
                yield self.outbox.popleft()
            if until():
                return
            self.released.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.released.wait(), FUNNEL_POLL_SECONDS)

    def finish(self, cms_id: str, raw: RawArticle | None) -> list[RawArticle]:
        """An article is done (`None`: it yielded nothing). What that releases goes to the funnel while it runs,
        else (distributed crawl; a request outliving the funnel) back to the callback to yield."""
        released = self.in_order.finish(cms_id, raw)
        if not self.emitting:
            return released
        self.outbox.extend(released)
        self.released.set()
        return []

    def may_request(self) -> bool:
        """Holds the next article request back while the scheduler has plenty queued, so that memory does not
        grow with the number of articles (100k queued requests would take ≈ 250 MB). A distributed crawl queues
        in Redis, not here."""
        scheduler = self.crawler.engine.scheduler
        return self.distributed or scheduler is None or len(scheduler) < self.queued_articles or self.closing()

    def closing(self) -> bool:
        """Scrapy is shutting down (CloseSpider, SIGTERM, scrapyd's cancel): nothing more will be downloaded, so
        the funnel must not wait for it. The engine's slot says so (private in Scrapy 2.19: no public flag)."""
        slot = getattr(self.crawler.engine, "_slot", None)
        return slot is None or slot.closing is not None

    def articles_settled(self) -> bool:
        """Every article released, or nothing left that could finish one: the crawl is closing, or no request is
        downloading or waiting and no response but the funnel's own is in the scraper (a request lost for good:
        `release_held` drains the rest at idle)."""
        if not self.in_order.unfinished or self.closing():
            return True
        engine = self.crawler.engine
        return (
            not engine.downloader.active
            and not engine.scheduler.has_pending_requests()
            and len(engine.scraper.slot.active) <= 1
        )

    def article_request(
        self, url: str, cms_id: str, channels: list[dict[str, str]], priority: int, redirects: int = 0
    ) -> Request:
        """Redirects are handled here, not by RedirectMiddleware: an article moved off the site (live streams)
        must never be requested, and must still finish its place in the emission order. The channels travel
        with the request, so whichever process fetches it (distributed crawl) can build the item."""
        return Request(
            url,
            callback=self.parse_article_or_redirect,
            errback=self.article_failed,
            priority=priority,
            cb_kwargs={"cms_id": cms_id, "channels": channels},
            meta={"dont_redirect": True, "handle_httpstatus_list": REDIRECT_CODES, "redirects": redirects},
            # One request per id is the spider's own bookkeeping (`pending`, `requested`): the dupefilter's set
            # would only grow. Across processes (distributed) it is the shared dupefilter that decides.
            dont_filter=redirects > 0 or not self.distributed,
        )

    async def parse_article_or_redirect(self, response: Response, cms_id: str, channels: list[dict[str, str]]):
        self.count("article/fetched")
        if response.status not in REDIRECT_CODES:
            async for result in self.parse_article(response, cms_id, channels):
                yield result
            return
        target = strip_query(response.urljoin(response.headers.get("Location", b"").decode("latin-1")))
        redirects = response.meta["redirects"] + 1
        if article_id(target) == cms_id and redirects <= MAX_REDIRECTS:
            yield self.article_request(target, cms_id, channels, response.request.priority, redirects)
            return
        self.count("skip/offsite_redirect" if not is_site_url(target) else "skip/redirect_elsewhere")
        logger.info("article %s redirects to %s: not followed", response.url, target)
        for item in self.finish(cms_id, None):
            yield item

    def release_held(self, response: Response):
        held = self.in_order.drain()
        logger.error("released %d articles whose predecessors never finished", len(held))
        yield from held

    async def parse_article(self, response: Response, cms_id: str, channels: list[dict[str, str]]):
        reading = await self.read(read_article, response)
        if reading.not_article:
            self.count(f"skip/{reading.not_article}")
        elif reading.error:
            self.count("drop/unparsable")
            logger.warning("article page not parsed: %s", reading.error)
            self.signal_failure(response.url, "drop", "unparsable", response.status, 1, reading.error)
        raw = reading.article
        if raw is not None:
            self.count(f"date/from/{raw.date_from}")
            self.count(f"template/{raw.template}")
            self.keep_page(raw, response)
            raw.status = response.status
            raw.channels = channels
            if reading.next_url:
                yield self.continuation_request(raw, reading.next_url, {strip_query(response.url)})
                return
        for item in self.finish(cms_id, raw):
            yield item

    def keep_page(self, raw: RawArticle, response: Response) -> None:
        """The page as fetched goes with the article to PagesPipeline (`reparse` reads the archive from them)."""
        if self.keep_pages:
            raw.pages.append(raw_page(response.url, response.status, content_type(response), response.body))

    async def read(self, reader: Reader, response: Response) -> Reading:
        """The page read by a worker process (gansunews/readers.py)."""
        try:
            return await self.readers.read(reader, response.url, response.body, content_type(response))
        except Exception as error:  # a bug, not the page: lose this page, not the order of those after it
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

    async def parse_continuation(self, response: Response, raw: RawArticle, visited: set[str]):
        reading = await self.read(read_continuation, response)
        if reading.body is None:  # the article keeps the pages it has; the loss is counted
            self.count("fail/continuation/unparsable")
            logger.warning("continuation page not parsed: %s", reading.error)
        else:
            raw.join(reading.body)
            self.keep_page(raw, response)
            next_url = reading.next_url
            if next_url and next_url not in visited and len(visited) < MAX_CONTINUATION_PAGES:
                yield self.continuation_request(raw, next_url, visited)
                return
        for item in self.finish(raw.article_id, raw):
            yield item

    def continuation_failed(self, failure: Failure):
        """A lost continuation page: the article is emitted with the pages it has, and the loss is counted."""
        self.record_failure("continuation", failure)
        raw = failure.request.cb_kwargs["raw"]
        yield from self.finish(raw.article_id, raw)

    def article_failed(self, failure: Failure):
        self.record_failure("article", failure)
        yield from self.finish(failure.request.cb_kwargs["cms_id"], None)

    def record_failure(self, kind: str, failure: Failure) -> None:
        """Every request that failed for good: counted by kind and reason, logged with its URL."""
        response = getattr(failure.value, "response", None)
        reason = f"http_{response.status}" if response is not None else type(failure.value).__name__
        self.count(f"fail/{kind}/{reason}")
        status = response.status if response is not None else None
        attempts = failure.request.meta.get("retry_times", 0) + 1
        self.signal_failure(failure.request.url, kind, reason, status, attempts, failure.getErrorMessage())
        logger.warning("%s failed (%s): %s — %s", kind, reason, failure.request.url, failure.getErrorMessage())

    def signal_failure(self, url: str, kind: str, reason: str, status: int | None, attempts: int, error: str) -> None:
        """Tell the crawl record (MongoDB `failures`) about a URL that yielded nothing, and why."""
        self.crawler.signals.send_catch_log(
            failure_recorded, url=url, kind=kind, reason=reason, status=status, attempts=attempts, error=error
        )
