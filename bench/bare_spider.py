"""The baseline of bench/crawl.py: a bare Scrapy spider that fetches a list of URLs and does nothing else.
`rendered` lists pages it fetches through the browser, as the crawl had to (JavaScript-drawn listings)."""

from pathlib import Path
from typing import ClassVar

import scrapy

from gansunews.browser import browser_meta


class BareSpider(scrapy.Spider):
    name = "bare"
    custom_settings: ClassVar[dict] = {
        "ITEM_PIPELINES": {},
        "EXTENSIONS": {"gansunews.extensions.PeakMemory": 700, "gansunews.extensions.StatsFile": 900},
        "ADDONS": {},
        "ROBOTSTXT_OBEY": False,
    }

    def __init__(self, urls: str = "", rendered: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.urls = Path(urls).read_text(encoding="utf-8").split()
        self.rendered = Path(rendered).read_text(encoding="utf-8").split() if rendered else []

    async def start(self):
        browser = browser_meta(self.settings.getdict("GANSUNEWS_PLAYWRIGHT_CONTEXT"))  # as the crawl renders
        for url in self.urls:
            yield self.fetch(url)
        for url in self.rendered:
            yield self.fetch(url, browser)

    def fetch(self, url: str, meta: dict | None = None) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.fetched,
            errback=self.fetched,
            dont_filter=True,
            meta={"dont_redirect": True, "handle_httpstatus_all": True, **(meta or {})},
        )

    def fetched(self, _):
        return None
