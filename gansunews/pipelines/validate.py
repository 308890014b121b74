"""ValidatePipeline: an article without title, date or body — or older than `since` — is dropped with a reason."""

from __future__ import annotations

import re

from gansunews.items import Article
from gansunews.pipelines import drop

# What `problem` finds in the page's reading (not the article's age)
READING_PROBLEMS = ("no_title", "no_date", "bad_date", "no_body")
# Why a fetched article was dropped, when the reason is the page's reading: these and a page the readers could not
# read at all (`unparsable`, the spider's). `reparse` reads such articles again from their kept pages.
UNREADABLE = ("unparsable", *READING_PROBLEMS)


def problem(article: Article, since_iso: str | None) -> str | None:
    """The first reason the article cannot be kept, or None."""
    if not article.title:
        return "no_title"
    if not article.published_at:
        return "bad_date" if re.search(r"\d{2}\s*[-/年.]\s*\d{1,2}", article.published_at_raw) else "no_date"
    if not article.content_text:
        return "no_body"
    if since_iso and article.published_at[:10] < since_iso:
        return "older_than_since"
    return None


class ValidatePipeline:
    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler) -> ValidatePipeline:
        return cls(crawler)

    def process_item(self, item):
        if not isinstance(item, Article):
            return item
        args = getattr(self.crawler.spider, "args", None)
        since = args.since.isoformat() if args and args.since else None
        reason = problem(item, since)
        if reason:
            raise drop(self.crawler, reason, item.article_id, item.url)
        self.crawler.stats.inc_value("gansunews/items/valid")
        for name in ("source", "editor", "authors", "images", "regions", "original_title"):
            if getattr(item, name):
                self.crawler.stats.inc_value(f"gansunews/fields/{name}")  # coverage, for the quality verdict
        return item
