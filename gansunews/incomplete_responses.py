"""Pages that came incomplete are asked again, like a 503: Scrapy's RetryMiddleware judges by status only. The
retries share `RETRY_TIMES` and the `retry/*` stats with RetryMiddleware (`retry/reason_count/<reason>`).

- **Empty**: a server under load, or a cache between it and us, sometimes answers 200 with no page at all. Until
  2026-12-03 the spider met the empty page as unreadable: an archive page was lost for the crawl, an article dropped
  (`drop/unparsable`) until a later crawl asked for it again. A page is never empty on purpose here (robots.txt may
  be: it is left alone). The last empty answer goes on to the spider, which records it.
- **Cut short**: a response without a length (neither `Content-Length` nor chunks) ends where its connection
  closes, so a page cut short there is whole to Scrapy, which can only flag it `partial`. An HTML page ends with its
  `</body>` or `</html>`: one flagged `partial` without either is cut short. Until 2026-12-04 such a page was read as
  it came: an article stored with half its text (and never fetched again), a listing's entries past the cut lost.
  Through its retries, it is a failure (`CutShortError`, reason `cut_short`), which the spider records and the
  next crawls ask again. A whole page without a length is counted (`gansunews/download/unframed`).
"""

from __future__ import annotations

import logging
import re

from scrapy import Spider
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Request, Response

EMPTY, CUT_SHORT = "empty_response", "cut_short"
_PAGE_END = re.compile(rb"</(?:body|html)\s*>", re.I)


class CutShortError(Exception):
    """An HTML page without a length that ended before its end, through its retries (recorded as `cut_short`)."""


def is_cut_short(response: Response) -> bool:
    """An HTML page that ended where its connection closed, before its `</body>` or `</html>`."""
    if "partial" not in response.flags or not response.body:
        return False
    html = b"html" in response.headers.get("Content-Type", b"").lower() or response.body.lstrip()[:1] == b"<"
    return html and _PAGE_END.search(response.body) is None


class RetryIncompleteResponses:
    """Downloader middleware, after HttpCompressionMiddleware on the way back (a compressed page is not empty, nor
    whole, until it is inflated)."""

    def __init__(self, crawler) -> None:
        self.spider: Spider = crawler.spider
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler) -> RetryIncompleteResponses:
        return cls(crawler)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if (
            response.status != 200
            or not request.url.startswith("http")  # `data:` requests the spider makes to itself
            or request.url.endswith("/robots.txt")
            or request.meta.get("dont_retry")
        ):
            return response
        if not response.body or response.body.isspace():  # not `strip()`: a copy of every page
            return self.retry(request, EMPTY) or response
        if is_cut_short(response):
            retry = self.retry(request, CUT_SHORT)
            if retry is None:
                raise CutShortError(f"{len(response.body)} bytes, then the connection closed")
            return retry
        if "partial" in response.flags:
            self.stats.inc_value("gansunews/download/unframed")
        return response

    def retry(self, request: Request, reason: str) -> Request | None:
        return get_retry_request(request, spider=self.spider, reason=reason, give_up_log_level=logging.WARNING)
