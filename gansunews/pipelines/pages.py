"""PagesPipeline: the pages an article was read from, kept compressed in MongoDB's `pages` collection so that
`python -m gansunews reparse` can rebuild the archive with better page objects and no crawl. First in line: it takes
the pages off the item, so they never reach the cleaning, a feed or the `articles` collection.

The store writes them before the next batch of articles, so an article is never in MongoDB without its pages,
whenever the crawl stops (`Store.keep_pages_soon`); pages MongoDB cannot take are spooled and written once it is
back, at the latest at the next start. Off without MongoDB or with `GANSUNEWS_KEEP_PAGES=false`."""

from __future__ import annotations

from scrapy.exceptions import NotConfigured

from gansunews.items import RawArticle
from gansunews.store import MongoConfig, Store


class PagesPipeline:
    def __init__(self, crawler, config: MongoConfig) -> None:
        self.crawler = crawler
        self.store = Store.of(crawler, config)

    @classmethod
    def from_crawler(cls, crawler) -> PagesPipeline:
        config = MongoConfig.from_settings(crawler.settings)
        if config is None or not crawler.settings.getbool("GANSUNEWS_KEEP_PAGES"):
            raise NotConfigured("pages are kept in MongoDB only (MONGO_URI, GANSUNEWS_KEEP_PAGES)")
        return cls(crawler, config)

    async def process_item(self, item):
        if isinstance(item, RawArticle) and item.pages:
            self.store.keep_pages_soon(item.pages)
            item.pages = []
        return item

    async def open_spider(self) -> None:
        await self.store.run(self.store.save_due_pages)  # what an earlier run spooled (MongoDB away then)

    async def close_spider(self) -> None:
        await self.store.run(self.store.save_due_pages)
