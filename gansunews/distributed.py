"""Distributed crawling: with `REDIS_URL`, scrapy-redis' scheduler and dupefilter let several processes share one
crawl (an existing engine, not a home-made queue).

Processes that cooperate use the same `GANSUNEWS_REDIS_RUN` name; its queue, fingerprints and leases live under
`gansunews:<run>:…` and persist when one process finishes (the others may still be working). Use a new run
name per crawl, or delete the keys. A request taken from the queue is leased, not removed, until its work is safe
(gansunews/leases.py): a process that dies loses nothing.
"""

from __future__ import annotations

import hashlib

from scrapy.exceptions import NotConfigured
from scrapy_redis.dupefilter import RFPDupeFilter

from gansunews.urls import article_match


class Distributed:
    """The add-on: switches the scheduler and dupefilter to Redis when `REDIS_URL` is set."""

    def update_settings(self, settings) -> None:
        if not settings.get("REDIS_URL"):
            raise NotConfigured  # silently off: a single-process crawl
        prefix = key_prefix(settings)
        for name, value in {
            "SCHEDULER": "gansunews.leases.LeasedScheduler",
            "SCHEDULER_QUEUE_CLASS": "gansunews.leases.LeasedQueue",
            "DUPEFILTER_CLASS": "gansunews.distributed.ArticleDupeFilter",
            "SCHEDULER_PERSIST": True,
            "SCHEDULER_QUEUE_KEY": f"{prefix}:requests",
            "SCHEDULER_DUPEFILTER_KEY": f"{prefix}:dupefilter",
        }.items():
            settings.set(name, value, priority="addon")


def key_prefix(settings) -> str:
    """Where one distributed crawl's keys live in Redis."""
    return f"gansunews:{settings.get('GANSUNEWS_REDIS_RUN') or 'gscn'}"


class ArticleDupeFilter(RFPDupeFilter):
    """One fetch per article page across processes, whichever URL form (http/https, tracking query) a listing
    used: article pages are identified by their CMS id and continuation number, other pages by URL."""

    def request_fingerprint(self, request) -> str:
        match = article_match(request.url.split("?", 1)[0])
        if match is None:
            return super().request_fingerprint(request)
        return hashlib.sha1(f"article:{match['id']}:{int(match['part'] or 1):02d}".encode()).hexdigest()
