"""The identity of one crawl run, shared by every component through the crawler's stats."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any


def crawl_id(crawler) -> str:
    """The run's id, made on first use: `GANSUNEWS_CRAWL_ID` if set, else a UTC timestamp plus random suffix."""
    stats = crawler.stats
    value = stats.get_value("gansunews/crawl_id")
    if not value:
        value = crawler.settings.get("GANSUNEWS_CRAWL_ID") or (
            datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
        )
        stats.set_value("gansunews/crawl_id", value)
    return value


def job_id(crawler) -> str | None:
    """scrapyd's job id: scrapyd passes it as the `_job` argument and in the SCRAPY_JOB environment variable."""
    spider = getattr(crawler, "spider", None)
    return getattr(spider, "_job", None) or os.environ.get("SCRAPY_JOB") or None


# Sent by the spider (`failed=FailedUrl(…)`) for every request that failed for good, and every page that came and
# could not be read
failure_recorded = object()


@dataclass(frozen=True)
class FailedUrl:
    """A URL that yielded nothing, and why; `retry`: what a later crawl (gansunews/spiders/retries.py) or `reparse`
    needs to request or read it again (an article's `channels`, an archive page's `channel` key and `page`)."""

    url: str
    kind: str  # article, listing, continuation, drop
    reason: str
    status: int | None
    attempts: int
    error: str
    retry: dict[str, Any] | None = None


# Sent every GANSUNEWS_PROGRESS_SECONDS with the crawl's progress figures (extensions.Progress); CrawlRecord keeps
# them in the run's `crawls` document, so a scrapyd job can be watched from MongoDB.
progress_reported = object()

# Sent by MongoPipeline with the ids of every batch it has written, or spooled (`spooled=True`: replayed later, and
# sent again, spooled=False, once they are seen in MongoDB): the spider counts those articles settled, and a
# channel's walk progress is saved only past settled articles. A distributed crawl's lease waits for MongoDB: a
# spool is on one machine only.
articles_stored = object()
