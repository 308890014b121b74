"""CleanPipeline: a RawArticle becomes an Article — dates in ISO 8601, tidy fields, canonical URL, crawl metadata."""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

from gansunews.crawlinfo import crawl_id, job_id
from gansunews.items import Article, RawArticle
from gansunews.text import CHINA_TZ, DateError, body_text, parse_cn_datetime, squash
from gansunews.urls import canonical_article_url


def clean_article(raw: RawArticle, now: datetime | None = None) -> Article:
    """The pure part: also used by `python -m gansunews extract`."""
    content_text = body_text(raw.paragraphs)
    return Article(
        article_id=raw.article_id,
        url=canonical_article_url(raw.url),
        title=squash(raw.title),
        original_title=squash(raw.original_title) or None,
        published_at=_iso_date(raw.published_at_raw, now),
        published_at_raw=squash(raw.published_at_raw),
        source=_tidy_label_value(raw.source),
        editor=_tidy_label_value(raw.editor),
        authors=list(dict.fromkeys(squash(a) for a in raw.authors if squash(a))),
        content_text=content_text,
        content_html=raw.content_html,
        images=raw.images,
        page_count=raw.page_count,
        breadcrumb=raw.breadcrumb,
        channels=raw.channels,
        template=raw.template,
        content_hash=content_hash(content_text),
        simhash=raw.simhash,
        minhash=raw.minhash,
    )


def content_hash(text: str) -> str:
    """SHA-1 of the text without whitespace and punctuation, so re-spaced copies hash the same."""
    return hashlib.sha1(re.sub(r"[\W_]+", "", text).encode("utf-8")).hexdigest() if text else ""


def _iso_date(raw: str | None, now: datetime | None) -> str:
    """ISO 8601 with +08:00, or "" when the raw text holds no plausible date (validation drops it)."""
    try:
        return parse_cn_datetime(raw, now).isoformat()
    except DateError:
        return ""


def _tidy_label_value(value: str | None) -> str | None:
    """`来源：陇东报` → `陇东报`; never anything after a following `编辑:` label."""
    text = squash(value)
    text = re.sub(r"^(?:来源|稿源|责任编辑|编辑)\s*[:：]\s*", "", text)
    text = re.split(r"\s*(?:责任编辑|编辑|作者|发布时间)\s*[:：]", text)[0]
    return text.strip(" |") or None


class CleanPipeline:
    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.run: dict[str, str | None] = {}

    @classmethod
    def from_crawler(cls, crawler) -> CleanPipeline:
        return cls(crawler)

    def open_spider(self) -> None:
        self.run = {
            "crawl_id": crawl_id(self.crawler),
            "job_id": job_id(self.crawler),
            "spider": self.crawler.spider.name,
        }

    def process_item(self, item):
        if not isinstance(item, RawArticle):
            return item
        article = clean_article(item)
        now = datetime.now(UTC).astimezone(CHINA_TZ).isoformat()
        article.crawl = {
            **self.run,
            "crawled_at": now,
            "first_seen": now,
            "last_seen": now,
            "status": item.status,
        }
        return article
