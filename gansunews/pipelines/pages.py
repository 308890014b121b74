"""PagesPipeline: the pages an article was read from, kept compressed in MongoDB's `pages` collection so that
`python -m gansunews reparse` can rebuild the archive with better page objects and no crawl. First in line: it takes
the pages off the item, so they never reach the cleaning, a feed or the `articles` collection.

Off without MongoDB or with `GANSUNEWS_KEEP_PAGES=false`. A batch of pages that cannot be written is counted and
logged, not spooled: the article itself is (MongoPipeline), and `reparse` reports articles without pages."""

from __future__ import annotations

import logging

from scrapy.exceptions import NotConfigured

from gansunews.items import RawArticle
from gansunews.store import MongoConfig, PyMongoError, Store

logger = logging.getLogger(__name__)
BATCH_PAGES = 50


class PagesPipeline:
    def __init__(self, crawler, config: MongoConfig) -> None:
        self.crawler = crawler
        self.config = config
        self.buffer: list[dict] = []

    @classmethod
    def from_crawler(cls, crawler) -> PagesPipeline:
        config = MongoConfig.from_settings(crawler.settings)
        if config is None or not crawler.settings.getbool("GANSUNEWS_KEEP_PAGES"):
            raise NotConfigured("pages are kept in MongoDB only (MONGO_URI, GANSUNEWS_KEEP_PAGES)")
        return cls(crawler, config)

    async def process_item(self, item):
        if isinstance(item, RawArticle) and item.pages:
            self.buffer += item.pages
            item.pages = []
            if len(self.buffer) >= BATCH_PAGES:
                await self.flush()
        return item

    async def close_spider(self) -> None:
        await self.flush()

    async def flush(self) -> None:
        batch, self.buffer = self.buffer, []
        if not batch:
            return
        stats = self.crawler.stats
        store = Store.of(self.crawler, self.config)
        try:
            compressed = await store.run(store.save_pages, batch)
        except PyMongoError as error:
            stats.inc_value("gansunews/pages/lost", len(batch))
            logger.warning(
                "%d raw pages not kept (%s): their articles are stored, reparse will list them", len(batch), error
            )
            return
        stats.inc_value("gansunews/pages/kept", len(batch))
        stats.inc_value("gansunews/pages/bytes", compressed)
