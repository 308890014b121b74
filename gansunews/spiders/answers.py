"""Answers that are not the page asked for. A busy server or a firewall may answer with a page of its own, served
with 200, which Scrapy's RetryMiddleware lets through (it judges by status): read as the page asked for, it was an
empty archive page (its articles lost), a channel not found, a pager script without `maxpage`, or an article
titled 系统繁忙 stored for good. The checks below tell such answers apart, from what the page objects read; the
spider asks again (`asked_again`), and once the retries are spent records the page as lost, so a later crawl reads
it again (README, *Reliability*)."""

from __future__ import annotations

import logging

from scrapy import Spider
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Request, Response

from gansunews.items import RawArticle
from gansunews.pages.article import Body
from gansunews.pages.listing import ListingPage
from gansunews.text import same_title

MIN_SITE_LINKS = 3  # every page of the portal has its navigation: one with fewer links into the site is not one
# What the downloader noted in a request's meta on its way (Scrapy's MetaCopyDetectionMiddleware list): not carried
# into the request asked again, which keeps only `retry_times`, its retry budget
DOWNLOAD_META = frozenset(
    {"_auth_proxy", "_dont_cache", "_scheme_proxy", "cache_timestamp", "download_latency"}
    | {"redirect_reasons", "redirect_times", "redirect_ttl", "redirect_urls"}
)


def is_bare(page: ListingPage) -> bool:
    """A home or channel page with no article entry, nothing a browser could draw, and hardly a link into the site."""
    return not page.article_entries() and not page.needs_browser and len(page.links()) < MIN_SITE_LINKS


def is_not_a_listing(page: ListingPage) -> bool:
    """An archive page with no list, no list container, no pager and nothing a browser could draw. An archive page
    past a channel's oldest entries is empty, but keeps its container and pager."""
    return not page.is_listing and not page.needs_browser


def is_not_a_script(body: bytes) -> bool:
    """A pager script that is an HTML page."""
    return body.lstrip()[:1] == b"<"


def is_not_the_article(raw: RawArticle | None, listed_title: str | None) -> bool:
    """An article page no template knows, with no date of its own (only its URL's), whose title is not the
    listing's. An article whose listing shortened or reworded its title still shows its date."""
    if raw is None or raw.template != "generic" or raw.date_from != "url":
        return False
    return not same_title(listed_title, raw.title)


def is_not_the_continuation(body: Body | None, article_title: str | None) -> bool:
    """A continuation page no template knows whose title is not its article's."""
    return body is not None and body.title_shown is not None and not same_title(article_title, body.title_shown)


def asked_url(response: Response) -> str:
    """The URL the spider asked for, before any redirect (a firewall may redirect to a page of its own)."""
    return (response.meta.get("redirect_urls") or [response.url])[0]


def asked_again(spider: Spider, response: Response, reason: str) -> Request | None:
    """The request again (the URL asked for, not a page it was redirected to), within `RETRY_TIMES` and counted in
    Scrapy's `retry/*` stats (`retry/reason_count/<reason>`); None once they are spent (a warning says so)."""
    meta = {key: value for key, value in response.request.meta.items() if key not in DOWNLOAD_META}
    request = response.request.replace(url=asked_url(response), meta=meta)
    return get_retry_request(request, spider=spider, reason=reason, give_up_log_level=logging.WARNING)
