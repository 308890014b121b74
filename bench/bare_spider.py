"""The baseline of bench/crawl.py: a bare Scrapy spider that fetches a list of URLs and does nothing else."""

from pathlib import Path
from typing import ClassVar

import scrapy


class BareSpider(scrapy.Spider):
    name = "bare"
    custom_settings: ClassVar[dict] = {
        "ITEM_PIPELINES": {},
        "EXTENSIONS": {"gansunews.extensions.StatsFile": 900},
        "ADDONS": {},
        "ROBOTSTXT_OBEY": False,
    }

    def __init__(self, urls: str = "", **kwargs) -> None:
        super().__init__(**kwargs)
        self.urls = Path(urls).read_text(encoding="utf-8").split()

    async def start(self):
        for url in self.urls:
            yield scrapy.Request(
                url,
                callback=self.fetched,
                errback=self.fetched,
                dont_filter=True,
                meta={"dont_redirect": True, "handle_httpstatus_all": True},
            )

    def fetched(self, _):
        return None
