"""Requests that yielded nothing, and why: counted by kind and reason (`fail/<kind>/<reason>`), logged with their
URL, and sent to the crawl record (MongoDB `failures`, gansunews/extensions.py) with what a later crawl needs to
request them again (`retry`: gansunews/spiders/retries.py)."""

from __future__ import annotations

import logging
from typing import Any

from scrapy.exceptions import IgnoreRequest
from twisted.python.failure import Failure

from gansunews.crawlinfo import FailedUrl, failure_recorded
from gansunews.incomplete_responses import CUT_SHORT, CutShortError
from gansunews.spiders.walk import Channel

logger = logging.getLogger(__name__)

ROBOTS_TXT = "robots.txt"


class Failures:
    def __init__(self, crawler) -> None:
        self.crawler = crawler

    def record(self, kind: str, failure: Failure, retry: dict[str, Any] | None = None) -> str:
        """A request that failed for good (after Scrapy's retries): recorded, and its reason returned."""
        response = getattr(failure.value, "response", None)
        reason = f"http_{response.status}" if response is not None else type(failure.value).__name__
        if failure.check(CutShortError):
            reason = CUT_SHORT
        if failure.check(IgnoreRequest) and ROBOTS_TXT in str(failure.value):  # RobotsTxtMiddleware's own message
            reason = "robots_txt"
        status = response.status if response is not None else None
        attempts = failure.request.meta.get("retry_times", 0) + 1
        self.failed(FailedUrl(failure.request.url, kind, reason, status, attempts, failure.getErrorMessage(), retry))
        return reason

    def failed(self, failed: FailedUrl) -> None:
        """A request that failed for good: counted (`fail/<kind>/<reason>`, which the verdict weighs), logged and
        recorded. Also a page that came, through its retries, as another page than the one asked for."""
        self.crawler.stats.inc_value(f"gansunews/fail/{failed.kind}/{failed.reason}")
        self.signal(failed)
        logger.warning("%s failed (%s): %s — %s", failed.kind, failed.reason, failed.url, failed.error)

    def signal(self, failed: FailedUrl) -> None:
        """Tell the crawl record about a URL that yielded nothing, and why (also a page that came and could not be
        read: its reason says so)."""
        self.crawler.signals.send_catch_log(failure_recorded, failed=failed)


def lost(channel: Channel, number: int) -> dict[str, Any]:
    """What a failure record of an archive page keeps, so that a later crawl reads the page again."""
    return {"channel": channel.key, "page": number}
