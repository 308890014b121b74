"""Distributed crawling: with `REDIS_URL`, scrapy-redis' scheduler and dupefilter let several processes share one
crawl (an existing engine, not a home-made queue).

Processes that cooperate use the same `GANSUNEWS_REDIS_RUN` name; its queue, fingerprints and leases live under
`gansunews:<run>:…` and persist when one process finishes (the others may still be working). A crawl that finished
is cleared by the next process of its name, which begins a new one; one that was stopped is resumed
(gansunews/leases.py, `Leases.begin`). A request taken from the queue is leased, not removed, until its work is safe
(gansunews/leases.py): a process that dies loses nothing.

Redis that goes away for a moment (a restart, a failover) is waited for: a failed command is retried for about 8 s
(`REDIS_PARAMS`), blocking the process, which can do little without its queue anyway. A longer outage is contained
where each command is made (gansunews/leases.py): nothing is lost, and the crawl goes on once Redis is back.

Also here: what a crawl's processes must agree on (`crawl_terms`), and whether Redis may drop the crawl's keys
(`Evictions`).
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

import redis
from redis.backoff import ExponentialBackoff
from redis.exceptions import RedisError, ResponseError
from redis.retry import Retry
from scrapy.exceptions import NotConfigured
from scrapy_redis.dupefilter import RFPDupeFilter

from gansunews.config import SettingsError, parsed
from gansunews.urls import article_match

logger = logging.getLogger(__name__)

# Settings that change what a crawl covers, or where it is stored: its processes must agree on them, as on the
# spider's arguments (MongoDB's address may be named differently on each machine; its database may not).
SHARED_SETTINGS = (
    "MONGO_DATABASE",
    "GANSUNEWS_SEEDS",
    "GANSUNEWS_SCOPE",
    "GANSUNEWS_DISCOVERY_DEPTH",
    "GANSUNEWS_MAX_EMPTY_PAGES",
    "GANSUNEWS_WATERMARK_GRACE_DAYS",
    "GANSUNEWS_PLAYWRIGHT_ENABLED",  # a peer without a browser would leave the JavaScript-drawn pages it takes unread
)

# A refused connection is retried after 0.2, 0.4, 0.8 s, then every second: ≈ 8 s in all (Redis restarts in less).
# A server that hangs costs a socket timeout per try. redis-py's own default gives up after ≈ 0.1 s.
REDIS_PARAMS = {
    "retry": Retry(ExponentialBackoff(cap=1.0, base=0.1), retries=10),
    "socket_timeout": 5,
    "socket_connect_timeout": 5,
}


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
            "REDIS_PARAMS": {**REDIS_PARAMS, **settings.getdict("REDIS_PARAMS")},  # the user's own win
        }.items():
            settings.set(name, value, priority="addon")


def check_distributed(settings) -> None:
    """Before any request, SettingsError for a distributed crawl without MongoDB, or whose Redis does not answer
    (after the client's retries): it cannot start without its store and its queue. A feed cannot be its store: a
    process's lines are on its own disk, where a kill loses the ones not flushed yet, although their leases have
    ended (tried: one article of 146 lost), and a line cannot gain the channels that list its article later."""
    if not settings.get("REDIS_URL"):
        return
    if not settings.get("MONGO_URI"):
        raise SettingsError(
            "REDIS_URL without MONGO_URI: a distributed crawl stores its articles in MongoDB, which its processes "
            "share (a feed of one process is lost with it, and misses the channels its peers find later)"
        )
    try:
        params = {**REDIS_PARAMS, **settings.getdict("REDIS_PARAMS")}  # as the crawl will connect (a password …)
        with redis.Redis.from_url(settings.get("REDIS_URL"), **params) as server:
            server.ping()
    except (RedisError, ValueError) as error:  # ValueError: a URL redis-py cannot parse
        raise SettingsError(f"REDIS_URL: Redis does not answer ({error})") from None


def key_prefix(settings) -> str:
    """Where one distributed crawl's keys live in Redis."""
    return f"gansunews:{settings.get('GANSUNEWS_REDIS_RUN') or 'gscn'}"


class ArticleDupeFilter(RFPDupeFilter):
    """One fetch per article page across processes, whichever URL form (http/https, tracking query) a listing
    used: article pages are identified by their CMS id and continuation number, other pages by URL. A page that
    shows what is new (a seed, a channel's live page, its pager script: `meta["live"]`) is new again in each epoch
    of the crawl (`Leases.epoch`: a stopped crawl, resumed, reads them again)."""

    epoch = 0

    def request_fingerprint(self, request) -> str:
        match = article_match(request.url.split("?", 1)[0])
        if match is None:
            fingerprint = super().request_fingerprint(request)
            if request.meta.get("live") and self.epoch:
                return hashlib.sha1(f"epoch:{self.epoch}:{fingerprint}".encode()).hexdigest()
            return fingerprint
        return hashlib.sha1(f"article:{match['id']}:{int(match['part'] or 1):02d}".encode()).hexdigest()


def crawl_terms(crawler) -> dict[str, Any]:
    """What every process of one crawl must agree on: the spider's arguments, and the settings that say what the
    crawl covers or where it is stored (`SHARED_SETTINGS`)."""
    spider_args = getattr(crawler.spider, "args", None)
    return {
        "arguments": spider_args.as_dict() if spider_args else {},
        "settings": {name: parsed(crawler.settings, name) for name in SHARED_SETTINGS},
    }


class Evictions:
    """A Redis that may evict keys without a TTL (a memory limit with an `allkeys-*` policy) may drop a crawl's queue
    or seen set without a word: warned at the start (`watch`), and keys evicted while the crawl runs (`note`, at each
    heartbeat and at the close) are an error and a problem in its verdict. Redis does not say whose keys it evicted.
    CONFIG may be refused (a managed Redis): the count is watched anyway; INFO refused too: nothing is watched."""

    def __init__(self, server, stats) -> None:
        self.server, self.stats = server, stats
        self.before: int | None = None  # Redis' count of evicted keys when this process began

    def watch(self) -> None:
        self.before = self.count()
        try:
            config = {_text(k): _text(v) for k, v in self.server.config_get("maxmemory*").items()}
        except ResponseError:  # CONFIG refused
            return
        policy, limit = config.get("maxmemory-policy", ""), int(config.get("maxmemory", "0") or 0)
        if limit and policy.startswith("allkeys"):
            self.stats.set_value("gansunews/distributed/redis_may_evict", 1)
            logger.warning(
                "Redis may evict this crawl's keys (maxmemory %d with maxmemory-policy %s): set it to noeviction, or "
                "give it memory enough; keys evicted while the crawl runs make its verdict degraded",
                limit,
                policy,
            )

    def note(self) -> None:
        now = self.count()
        if now is None or self.before is None or now <= self.before:
            return
        if not self.stats.get_value("gansunews/distributed/redis_evicted_keys"):
            logger.error("Redis evicted %d keys while this crawl ran: some may have been its own", now - self.before)
        self.stats.set_value("gansunews/distributed/redis_evicted_keys", now - self.before)

    def count(self) -> int | None:
        try:
            return int(self.server.info("stats").get("evicted_keys", 0))
        except ResponseError:  # INFO refused (an ACL)
            return None


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
