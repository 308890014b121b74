"""An empty 200 response is retried like a 503. A server under load, or a cache between it and us, sometimes answers
200 with no page at all; Scrapy's RetryMiddleware judges by status only, so the spider met the empty page as
unreadable: an archive page was lost for the crawl, an article dropped (`drop/unparsable`) until a later crawl asked
for it again. A page is never empty on purpose here (robots.txt may be: it is left alone). The retries share
`RETRY_TIMES` and the `retry/*` stats with RetryMiddleware (`retry/reason_count/empty_response`); the last empty
answer goes on to the spider, which records it (the give-up is a warning: the spider's record says what was lost)."""

from __future__ import annotations

import logging

from scrapy import Spider
from scrapy.downloadermiddlewares.retry import get_retry_request
from scrapy.http import Request, Response

REASON = "empty_response"


class RetryEmptyResponses:
    """Downloader middleware, after HttpCompressionMiddleware on the way back (a compressed empty page is not
    empty until it is inflated)."""

    def __init__(self, spider: Spider) -> None:
        self.spider = spider

    @classmethod
    def from_crawler(cls, crawler) -> RetryEmptyResponses:
        return cls(crawler.spider)

    def process_response(self, request: Request, response: Response) -> Request | Response:
        if (
            response.status != 200
            or (response.body and not response.body.isspace())  # not `strip()`: a copy of every page
            or not request.url.startswith("http")  # `data:` requests the spider makes to itself
            or request.url.endswith("/robots.txt")
            or request.meta.get("dont_retry")
        ):
            return response
        retry = get_retry_request(request, spider=self.spider, reason=REASON, give_up_log_level=logging.WARNING)
        return retry or response
