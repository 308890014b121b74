"""The `gscn-survey` spider behind `python -m gansunews survey`: the crawl's own discovery, then per channel its
live page, one archive page and one article, read and described, nothing stored. What an operator runs first
against the live portal, to see whether it looks like the model the crawler was built on (SITE.md)."""

from __future__ import annotations

from typing import Any

from scrapy.http import Request, Response
from twisted.python.failure import Failure

from gansunews.browser import browser_meta
from gansunews.pages import PageError
from gansunews.pages.article import ArticlePage
from gansunews.pages.listing import ListingPage, date_form, parse_maxpage
from gansunews.regions import divisions
from gansunews.spiders.portal import PRIORITY_ARTICLE, PRIORITY_LISTING, PortalSpider
from gansunews.spiders.walk import Channel
from gansunews.urls import strip_query

ARTICLES_TRIED = 3  # listed articles tried per channel until one reads
SURVEYED_FIELDS = ("title", "source", "editor", "authors", "breadcrumb", "images", "original_title")


class SurveySpider(PortalSpider):
    name = "gscn-survey"
    custom_settings = {
        "ITEM_PIPELINES": {},
        "MONGO_URI": "",
        "REDIS_URL": "",  # a survey samples the site on its own: never a process of a distributed crawl
        "GANSUNEWS_READ_WORKERS": 0,
        "EXTENSIONS": {"gansunews.extensions.QualityLog": None, "gansunews.extensions.StatsFile": None},
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.rows: dict[str, dict[str, Any]] = {}

    def walk(self, page: ListingPage, channel: Channel):
        """Describe the live page; fetch one archive page and the first listed article."""
        division = divisions()[channel.region_code]
        entries = page.article_entries()
        pager = page.pager()
        row = self.rows[channel.url] = {
            "channel": channel.name,
            "depth": channel.depth,
            "url": channel.url,
            "region_code": division.code,
            "region_name": division.name,
            "level": division.level,
            "breadcrumb": page.breadcrumb(),
            "list_found_by": page.found_by,
            "list_drawn_by_script": page.drawn_by_script,
            "pager": pager is not None,
            "maxpage": pager.maxpage if pager else None,
            "live_entries": len(entries),
            "archive_entries": None,
            "date_forms": sorted({date_form(e.date_raw) for e in entries}),
            "template": None,
            "date_from": None,
            "fields": [],
            "errors": [],
        }
        candidates = [strip_query(entry.url) for entry in entries[:ARTICLES_TRIED]]
        if candidates:
            yield self.sample_article(row, candidates)
        if pager is None:
            return
        channel.pager = pager
        if pager.maxpage:
            yield self.sample_archive(channel, pager.maxpage, row)
        else:
            yield Request(
                pager.script_url,
                callback=self.survey_script,
                errback=self.survey_failed,
                priority=PRIORITY_LISTING,
                cb_kwargs={"channel": channel, "row": row},
            )

    def survey_script(self, response: Response, channel: Channel, row: dict[str, Any]):
        row["maxpage"] = parse_maxpage(response.body.decode("latin-1"))
        if row["maxpage"] is None:
            row["errors"].append("pager script without a usable maxpage")
            return
        yield self.sample_archive(channel, row["maxpage"], row)

    def sample_archive(self, channel: Channel, number: int, row: dict[str, Any]) -> Request:
        assert channel.pager is not None
        return Request(
            channel.pager.page_url(number),
            callback=self.survey_archive,
            errback=self.survey_failed,
            priority=PRIORITY_LISTING,
            cb_kwargs={"row": row},
            meta=browser_meta(self.browser_context) if channel.drawn_by_js else None,
        )

    def survey_archive(self, response: Response, row: dict[str, Any]):
        page = self.listing_page(response)
        entries = page.article_entries() if page else []
        row["archive_entries"] = len(entries)
        row["date_forms"] = sorted({*row["date_forms"], *(date_form(e.date_raw) for e in entries)})
        yield from ()

    def sample_article(self, row: dict[str, Any], candidates: list[str]) -> Request:
        """The first listed article; the next one when it cannot be read (a live stream, a dead link …)."""
        return Request(
            candidates[0],
            callback=self.survey_article,
            errback=self.survey_failed,
            priority=PRIORITY_ARTICLE,
            cb_kwargs={"row": row, "rest": candidates[1:]},
        )

    def survey_article(self, response: Response, row: dict[str, Any], rest: list[str] | None = None):
        try:
            raw = ArticlePage.from_response(response).article()
        except PageError as error:
            row["errors"].append(f"article not read: {error}")
            if rest:
                yield self.sample_article(row, rest)
            return
        row["template"], row["date_from"] = raw.template, raw.date_from
        row["fields"] = [name for name in SURVEYED_FIELDS if getattr(raw, name)]

    def survey_failed(self, failure: Failure):
        kwargs = failure.request.cb_kwargs
        kwargs["row"]["errors"].append(f"{failure.request.url}: {failure.getErrorMessage()}")
        if kwargs.get("rest"):
            yield self.sample_article(kwargs["row"], kwargs["rest"])
