"""Leases on the shared queue (distributed crawl): a request taken from Redis stays there, in its taker's `leased`
hash, until its work is safe: every request its callback yielded is in the queue (or was a duplicate), and every
article it yielded is stored or dropped. Each process refreshes a heartbeat key that expires after
`GANSUNEWS_REDIS_LEASE_SECONDS`; when a process stops beating (kill -9, a crash, a machine gone), the first peer to
notice moves its leased requests back to the queue, and a process that closes returns what it still holds.

At least once, never lost: a request taken back from a dead process may be fetched twice, and MongoDB's upsert by
article id keeps one record per article. A process closes only when the queue is empty and no process holds a
lease, so no peer leaves while another's work may still bring more. A yielded request is marked seen (the shared
dupefilter) and queued in one step (`LeasedScheduler`): seen and not queued, it would be filtered from then on.

Redis away for longer than the client's retries (gansunews/distributed.py) loses nothing either: a request that
cannot be queued waits in this process (`LeasedQueue.unqueued`, its parent's lease with it), a lease that cannot be
freed is freed later (`Leases.unfreed`), a lease taken whose answer was lost is given back, and a process that cannot
tell whether work is left waits. Each heartbeat mends what it can (`Leases.mend`); every failed command is counted
(`gansunews/distributed/redis_errors`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any

from redis.exceptions import RedisError
from scrapy import signals
from scrapy.exceptions import CloseSpider
from scrapy.http import Request
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet.task import LoopingCall

from gansunews.distributed import Evictions, crawl_terms, key_prefix

logger = logging.getLogger(__name__)

CURRENT: ContextVar[int | None] = ContextVar("lease", default=None)  # the lease of the callback running now

# Pop the most urgent request and lease it, in one step: a process killed between the two would lose it. The taker
# is (again) one of the run's processes: every lease is in a registered process's hash, which `BEGIN` names.
TAKE = """
local top = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #top == 0 then return false end
redis.call('ZREM', KEYS[1], top[1])
local lease = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], lease, top[2] .. ' ' .. top[1])
redis.call('SADD', KEYS[4], ARGV[1])
return {lease, top[1]}
"""

# Mark a request seen and queue it, in one step, unless it was seen: a process killed between the two would leave it
# seen and never queued, and every later listing of it filtered.
PUSH_UNSEEN = """
if redis.call('SADD', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
return 1
"""

# Begin this process's part in the run, in one step (processes starting together clear once): when the run's last crawl
# is over, clear its keys first; then set the run's mark and say this process is alive. Over: marked finished (its
# last processes may still be closing), or nothing queued, nothing leased and no process alive (a crawl stopped with
# no work left). Else there is work to resume, or peers to join, if this process's arguments are the crawl's; a crawl
# resumed (no process alive) begins a new epoch, in which its live pages are new to the seen set. The run's keys are
# named, not searched for (KEYS walks the whole keyspace, and hardened servers disable it): the fixed ones
# (KEYS[1..11]) and each registered process's lease and alive keys.
BEGIN = """
local workers = redis.call('SMEMBERS', KEYS[4])
local alive, leased = false, false
for _, worker in ipairs(workers) do
  if redis.call('EXISTS', ARGV[3] .. worker) == 1 then alive = true end
  if redis.call('HLEN', ARGV[2] .. worker) > 0 then leased = true end
end
local over = redis.call('EXISTS', KEYS[2]) == 1 or (redis.call('ZCARD', KEYS[3]) == 0 and not leased and not alive)
local cleared = 0
if over then
  for _, worker in ipairs(workers) do
    cleared = cleared + redis.call('DEL', ARGV[2] .. worker, ARGV[3] .. worker)
  end
  for i = 1, 11 do cleared = cleared + redis.call('DEL', KEYS[i]) end
end
local new = redis.call('SET', KEYS[1], ARGV[1], 'NX')
if new then redis.call('SET', KEYS[5], ARGV[5]) end
local arguments = redis.call('GET', KEYS[5]) or ARGV[5]
local resumed = false
if arguments == ARGV[5] then
  resumed = not new and not alive
  if resumed then redis.call('INCR', KEYS[10]) end
  redis.call('SET', KEYS[12], 1, 'EX', ARGV[4])
  redis.call('SADD', KEYS[4], ARGV[1])
end
local epoch = tonumber(redis.call('GET', KEYS[10]) or 0)
return {new and 1 or 0, cleared, arguments, epoch, resumed and 1 or 0, redis.call('GET', KEYS[1])}
"""

# Add this process's counter changes to the crawl's sums (and, ARGV[2] non-empty, mark them final for it), only while
# the run is still the crawl this process began in (KEYS[1] holds ARGV[1]): a process still closing when a new crawl
# of the run name begins must not add to the new crawl's sums. 0 when it is not.
PUSH_COUNTERS = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
for i = 3, #ARGV, 2 do redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1]) end
if ARGV[2] ~= '' then redis.call('SADD', KEYS[3], ARGV[2]) end
return 1
"""

# The crawl's sums, or its `finished` mark set, only while the run is this process's crawl (as `PUSH_COUNTERS`).
SUMS = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return false end
return redis.call('HGETALL', KEYS[2])
"""
MARK_FINISHED = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
return 1
"""

# Put requests a process holds (the leases named, or all of them) back into the queue with their priorities, in one
# step.
GIVE_BACK = """
local leases = ARGV
if #leases == 0 then leases = redis.call('HKEYS', KEYS[2]) end
local returned = 0
for _, lease in ipairs(leases) do
  local held = redis.call('HGET', KEYS[2], lease)
  if held then
    local at = string.find(held, ' ', 1, true)
    redis.call('ZADD', KEYS[1], string.sub(held, 1, at - 1), string.sub(held, at + 1))
    redis.call('HDEL', KEYS[2], lease)
    returned = returned + 1
  end
end
return returned
"""


class Leases:
    """This process's leases: what each leased request still waits for, and the Redis side (take, finish, give
    back, heartbeat, taking back a silent peer's work)."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler
        self.prefix = key_prefix(crawler.settings)
        self.me = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.seconds = max(1.0, crawler.settings.getfloat("GANSUNEWS_REDIS_LEASE_SECONDS"))
        self.waiting: dict[int, int] = {}  # lease -> its callback (1 until it ends) + children not yet safe
        self.articles: dict[str, list[int]] = {}  # article id -> the leases that yielded it (two after a take-back)
        self.unfreed: set[int] = set()  # leases ended here while Redis was away: still in Redis, to be freed
        self.unnoted: set[str] = set()  # channels found while Redis was away: noted in `found_key` once it is back
        self.counted: dict[str, int] = {}  # this process's counters as last added to the crawl's sums
        self.refused = False  # started with other arguments than the crawl in progress: closes at once
        self.epoch = 0  # times the crawl was resumed: its live pages are read again in each epoch (`BEGIN`)
        self.run_mark: bytes = b""  # the run's mark when this process began: which crawl of the run name it is in
        self.outlived = False  # a new crawl of the run name began while this process was still closing
        self.beat = LoopingCall(self.heartbeat)
        crawler.signals.connect(self.opened, signal=signals.spider_opened)
        crawler.signals.connect(self.closed, signal=signals.spider_closed)

    def attach(self, queue: LeasedQueue) -> None:
        """The shared queue these leases are on, and its Redis client (one per process: the scheduler's)."""
        self.queue, self.server, self.queue_key = queue, queue.server, queue.key
        self.take_script = self.server.register_script(TAKE)
        self.push_unseen_script = self.server.register_script(PUSH_UNSEEN)
        self.give_back_script = self.server.register_script(GIVE_BACK)
        self.begin_script = self.server.register_script(BEGIN)
        self.push_counters_script = self.server.register_script(PUSH_COUNTERS)
        self.sums_script = self.server.register_script(SUMS)
        self.mark_finished_script = self.server.register_script(MARK_FINISHED)
        self.evictions = Evictions(self.server, self.crawler.stats)

    def leased_key(self, worker: str) -> str:
        return f"{self.prefix}:leased:{worker}"

    def alive_key(self, worker: str) -> str:
        return f"{self.prefix}:alive:{worker}"

    @property
    def alive_seconds(self) -> int:
        """How long an alive key lasts without a heartbeat: the lease time, in whole seconds."""
        return max(1, round(self.seconds))

    @property
    def run_key(self) -> str:
        return f"{self.prefix}:run"

    @property
    def workers_key(self) -> str:
        return f"{self.prefix}:workers"

    @property
    def finished_key(self) -> str:
        return f"{self.prefix}:finished"

    @property
    def sums_key(self) -> str:
        return f"{self.prefix}:counters"

    @property
    def lease_counter_key(self) -> str:
        return f"{self.prefix}:lease_counter"

    @property
    def final_key(self) -> str:
        return f"{self.prefix}:counted"

    @property
    def found_key(self) -> str:
        return f"{self.prefix}:found"

    # ---------------------------------------------------------------- the queue's side

    def take(self) -> tuple[int, bytes] | None:
        """The most urgent request in the queue, leased to this process."""
        taken = self.take_script(
            keys=[self.queue_key, self.leased_key(self.me), self.lease_counter_key, self.workers_key], args=[self.me]
        )
        if not taken:
            return None
        lease, data = int(taken[0]), taken[1]
        self.waiting[lease] = 1
        return lease, data

    def pushed(self, request: Request) -> None:
        """A request is in Redis now: one child of its parent is safe (only now: a parent freed before the push
        would leave the child nowhere if this process were killed in between). A leased request pushed again as it
        is (a retry, made outside any callback) replaces its lease."""
        own, parent = request.meta.pop("lease", None), request.meta.pop("parent_lease", None)
        if own is not None:
            self.finish(own, everything=True)
        if parent is not None:
            self.finish(parent)

    # ---------------------------------------------------------------- the spider's side

    def child(self, lease: int | None, output: Any) -> Any:
        """Something a leased request's callback yielded: the lease waits until it is safe."""
        if lease is None or lease not in self.waiting:
            return output
        if isinstance(output, Request):
            output.meta.pop("lease", None)  # a copy of the request itself (rendered again) is a child like any
            output.meta["parent_lease"] = lease
        else:
            self.articles.setdefault(output.article_id, []).append(lease)
        self.waiting[lease] += 1
        return output

    def hold(self, lease: int | None = None) -> Callable[[], None]:
        """One more thing the lease (the running callback's when none is named) waits for, such as a write sent to
        MongoDB without waiting: call what this returns once it is done."""
        lease = CURRENT.get() if lease is None else lease
        if lease is None or lease not in self.waiting:
            return lambda: None
        self.waiting[lease] += 1
        return functools.partial(self.finish, lease)

    def found(self, channel_key: str) -> None:
        """A channel this process discovered: the crawl's channels are its processes' together (`all_found`). Noted
        again by `mend` when Redis is away."""
        try:
            self.server.sadd(self.found_key, channel_key)
        except RedisError as error:
            self.unnoted.add(channel_key)
            self.failed("noting a channel found", error)

    def all_found(self) -> set[str] | None:
        """The channels the crawl's processes discovered; None while Redis is away or this process has some not
        noted yet."""
        try:
            self.mend()
            return None if self.unnoted else {key.decode() for key in self.server.smembers(self.found_key)}
        except RedisError as error:
            self.failed("reading the channels found", error)
            return None

    def settled(self, article_id: str) -> None:
        """An article yielded by a leased callback is stored, dropped or failed."""
        for lease in self.articles.pop(article_id, ()):
            self.finish(lease)

    def dropped(self, request: Request) -> None:
        """A yielded request the shared dupefilter had seen: nothing more to wait for (the spider's `listed_again`
        holds the lease for what it does about it)."""
        parent = request.meta.pop("parent_lease", None)
        if parent is not None:
            self.finish(parent)

    def finish(self, lease: int | None, everything: bool = False) -> None:
        """One thing the lease waited for is done (or all of them): the last one frees it in Redis."""
        if lease is None:
            return
        left = 0 if everything else self.waiting.get(lease, 1) - 1
        if left > 0:
            self.waiting[lease] = left
            return
        self.waiting.pop(lease, None)
        try:
            self.server.hdel(self.leased_key(self.me), lease)
        except RedisError as error:
            self.failed("freeing a lease", error)
            self.unfreed.add(lease)

    def failed(self, what: str, error: RedisError) -> None:
        self.crawler.stats.inc_value("gansunews/distributed/redis_errors")
        logger.warning("Redis failed %s (waiting for it, mended once it is back): %s", what, error)

    # ---------------------------------------------------------------- liveness

    def begin(self, seen_key: str | None = None) -> None:
        """Before anything is queued: a new crawl when the run name is new or its last crawl is over (its keys are
        cleared: the same command tomorrow crawls again); else this process joins the crawl in progress, or resumes
        one that was stopped with work left (`BEGIN`), if it agrees with the crawl's terms (`crawl_terms`): a peer that
        walked with another `since`, other regions or other seeds would leave the crawl neither one nor the other.
        It refuses otherwise (CloseSpider `arguments_differ`: no request made, `scrapy crawl` exits 2)."""
        mine = json.dumps(crawl_terms(self.crawler), sort_keys=True, ensure_ascii=False)
        new, cleared, crawls, self.epoch, resumed, self.run_mark = self.begin_script(
            keys=[
                self.run_key,
                self.finished_key,
                self.queue_key,
                self.workers_key,
                f"{self.prefix}:arguments",
                seen_key or f"{self.prefix}:dupefilter",
                self.lease_counter_key,
                self.sums_key,
                self.final_key,
                f"{self.prefix}:epoch",
                self.found_key,
                self.alive_key(self.me),
            ],
            args=[self.me, self.leased_key(""), self.alive_key(""), self.alive_seconds, mine],
        )
        if cleared:
            self.crawler.stats.set_value("gansunews/distributed/previous_crawl_cleared", cleared)
            logger.info("run %s: its last crawl is over; its %d keys are cleared", self.prefix, cleared)
        crawls = crawls.decode()
        if crawls != mine:
            self.refused = True
            self.crawler.stats.set_value("gansunews/distributed/arguments_differ", 1)
            logger.error(
                "run %s: its crawl in progress has the arguments %s, this process %s: not joining it (start it with "
                "the same arguments, or under another GANSUNEWS_REDIS_RUN)",
                self.prefix,
                crawls,
                mine,
            )
            raise CloseSpider("arguments_differ")
        self.evictions.watch()
        if new:
            logger.info("run %s: a new crawl begins", self.prefix)
            return
        self.crawler.stats.set_value("gansunews/distributed/joined", 1)
        if resumed:
            self.crawler.stats.set_value("gansunews/distributed/resumed", 1)
        logger.info(
            "run %s: %s (%d requests queued)",
            self.prefix,
            "resuming the stopped crawl; its live pages are read again" if resumed else "joining the crawl in progress",
            len(self.queue),
        )

    def opened(self) -> None:
        if self.refused:
            return
        self.heartbeat()
        self.beat.start(self.seconds / 3, now=False)

    def heartbeat(self) -> None:
        """Say this process is alive, mend what Redis failed, and take back the work of peers that are not alive."""
        try:
            if self.server.set(self.run_key, self.me, nx=True):  # gone: Redis lost its data (restarted without it)
                self.run_mark = self.me.encode()  # the crawl goes on under a new mark (its peers' sums are lost)
                self.crawler.stats.inc_value("gansunews/distributed/redis_data_lost")
                logger.error("Redis lost this crawl's queue and seen set (restarted without its data?): work is lost")
            self.server.set(self.alive_key(self.me), 1, ex=self.alive_seconds)
            self.server.sadd(self.workers_key, self.me)
            self.mend()
            self.evictions.note()
            self.push_counters()
            for worker in self.workers():
                if worker != self.me and not self.server.exists(self.alive_key(worker)):
                    self.take_back(worker)
        except RedisError as error:  # the next beat tries again; the crawl goes on
            self.failed("the heartbeat", error)
        except Exception:  # a bug: logged, and the beat goes on (a stopped beat would let peers take this work)
            logger.exception("lease heartbeat failed")

    def mend(self) -> None:
        """After Redis failed: free the leases ended meanwhile, queue the requests that waited here, and give back
        leases this process does not know (taken by a command whose answer was lost)."""
        if self.unfreed:
            self.server.hdel(self.leased_key(self.me), *self.unfreed)
            self.unfreed.clear()
        if self.unnoted:
            self.server.sadd(self.found_key, *self.unnoted)
            self.unnoted.clear()
        self.queue.queue_waiting()
        unknown = {int(lease) for lease in self.server.hkeys(self.leased_key(self.me))} - set(self.waiting)
        if unknown:
            returned = self.give_back_script(keys=[self.queue_key, self.leased_key(self.me)], args=sorted(unknown))
            self.crawler.stats.inc_value("gansunews/distributed/unknown_given_back", returned)
            logger.warning("%d leases taken while Redis was away are back in the shared queue", returned)

    def push_counters(self, final: bool = False) -> None:
        """This process's counters (its integer stats) added to the crawl's sums in Redis: what changed since the
        last push, in one step, and (`final`) marked final. Only while the run is still the crawl this process
        began in (`PUSH_COUNTERS`); else it has `outlived` it."""
        counters = {key: value for key, value in self.crawler.stats.get_stats().items() if type(value) is int}
        changes = [
            item
            for key, value in counters.items()
            if (change := value - self.counted.get(key, 0))
            for item in (key, change)
        ]
        keys = [self.run_key, self.sums_key, self.final_key]
        if not self.push_counters_script(keys=keys, args=[self.run_mark, self.me if final else "", *changes]):
            self.outlive()
        self.counted = counters

    def outlive(self) -> None:
        """A new crawl of the run name began while this process was still closing: its counters, its verdict and its
        finish are its own, not the new crawl's."""
        if not self.outlived:
            self.outlived = True
            self.crawler.stats.set_value("gansunews/distributed/outlived", 1)
            logger.warning("run %s: a new crawl began while this process was closing: judged on its own", self.prefix)

    async def crawl_counters(self, wait: bool = True) -> dict[str, int] | None:
        """The crawl's counters summed over its processes (a process judges the crawl, not its share: one that
        joined late may have discovered no channel); None while Redis is away, or when a new crawl of the run name
        began meanwhile (`outlive`). This process's are pushed and marked final; then (`wait`: the crawl finished)
        it waits for the final counters of peers still alive, which close within seconds of it (no work is left),
        for `GANSUNEWS_REDIS_LEASE_SECONDS` at most (`distributed/peers_not_summed` counts those it did not wait
        for)."""
        if self.refused:  # not part of the crawl: its counters are not the crawl's
            return None
        try:
            self.evictions.note()
            self.push_counters(final=True)
            deadline = time.monotonic() + (self.seconds if wait else 0)
            while not self.outlived and (working := self.peers_working()) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            if not self.outlived and working:
                self.crawler.stats.set_value("gansunews/distributed/peers_not_summed", len(working))
            sums = None if self.outlived else self.sums_script(keys=[self.run_key, self.sums_key], args=[self.run_mark])
            if sums is None:
                self.outlive()
                return None
            return {key.decode(): int(value) for key, value in zip(sums[::2], sums[1::2], strict=True)}
        except RedisError as error:
            self.failed("summing the crawl's counters", error)
            return None

    def peers_working(self) -> list[str]:
        """Peers alive whose counters are not final yet."""
        final = {worker.decode() for worker in self.server.smembers(self.final_key)}
        return [w for w in self.workers() if w not in final and self.server.exists(self.alive_key(w))]

    def take_back(self, worker: str) -> None:
        """A silent peer's leases back into the queue. It leaves the run's processes first: should it take a request
        meanwhile (alive after all), the take registers it again, so its leases are never in an unregistered hash."""
        self.server.srem(self.workers_key, worker)
        returned = self.give_back_script(keys=[self.queue_key, self.leased_key(worker)])
        if returned:
            self.crawler.stats.inc_value("gansunews/distributed/taken_back", returned)
            logger.warning("process %s stopped beating: %d of its requests are back in the queue", worker, returned)

    def busy(self) -> bool:
        """Work somewhere: requests queued (or waiting here to be), or leased by a process (maybe this one) that may
        yield more. Redis away: maybe, so wait."""
        try:
            if len(self.queue):
                return True
            return any(self.server.hlen(self.leased_key(worker)) for worker in self.workers())
        except RedisError as error:
            self.failed("telling whether work is left", error)
            return True

    def workers(self) -> list[str]:
        return [worker.decode() for worker in self.server.smembers(self.workers_key)]

    def closed(self, reason: str) -> None:
        """A process that stops gives back what it has not finished (a stop before the end, or a bug). One that
        finishes marks the crawl finished: it closes only when no work is left anywhere, so the next process of this
        run name begins a new crawl (`begin`)."""
        if self.beat.running:
            self.beat.stop()
        if reason == "finished":
            with contextlib.suppress(RedisError):  # not marked: the next process resumes it, and finds nothing to do
                self.mark_finished_script(keys=[self.run_key, self.finished_key], args=[self.run_mark, self.me])
        try:
            returned = self.give_back_script(keys=[self.queue_key, self.leased_key(self.me)])
        except RedisError as error:  # its heartbeat expires: a peer, or the next process of this run, takes them back
            self.crawler.stats.set_value("gansunews/distributed/not_given_back", len(self.waiting) + len(self.unfreed))
            logger.error("leased requests could not be given back; they go back once this heartbeat expires: %s", error)
            return
        with contextlib.suppress(RedisError):  # else its alive key expires, and a peer drops it from the workers
            self.server.delete(self.alive_key(self.me))
            self.server.srem(self.workers_key, self.me)
        if returned:
            self.crawler.stats.set_value("gansunews/distributed/given_back", returned)
            logger.warning("%d leased requests not finished here are back in the shared queue", returned)


class LeasedQueue(PriorityQueue):
    """scrapy-redis' priority queue, whose pop leases the request to this process (`Leases`), and whose push frees
    the parent's share of its lease once the request is in Redis. A request that cannot be queued while Redis is
    away waits here (`unqueued`) and counts as queued."""

    def __init__(self, server, spider, key, serializer=None) -> None:
        super().__init__(server, spider, key, serializer)
        self.leases: Leases = spider.leases
        self.leases.attach(self)
        self.unqueued: list[tuple[Request, str | None, str | None]] = []  # (request, fingerprint, seen key)
        self.known_length = 0  # the queue's length when Redis last told it

    def __len__(self) -> int:
        try:
            self.known_length = super().__len__()
        except RedisError as error:
            self.leases.failed("telling the queue's length", error)
        return self.known_length + len(self.unqueued)

    def push(self, request: Request) -> None:
        self.push_unseen(request, None, None)

    def push_unseen(self, request: Request, fingerprint: str | None, seen_key: str | None) -> bool:
        """Queue the request unless its fingerprint is in `seen_key` (none: queue it), and add it there, in one step:
        False when it was seen (its lease marks stay, for the dropped request's handling). Redis away: True, and the
        request waits here until `queue_waiting`."""
        try:
            if not self._push(request, fingerprint, seen_key):
                return False
        except RedisError as error:
            self.leases.failed("queueing a request", error)
            self.unqueued.append((request, fingerprint, seen_key))
        return True

    def queue_waiting(self) -> None:
        """The requests that waited here, queued in order (Redis is back); one seen meanwhile is dropped, as the
        scheduler would have dropped it."""
        while self.unqueued:
            request, fingerprint, seen_key = self.unqueued[0]
            queued = self._push(request, fingerprint, seen_key)  # Redis still away: raises, and they wait on
            self.unqueued.pop(0)
            if not queued:
                self.spider.crawler.signals.send_catch_log(signals.request_dropped, request=request, spider=self.spider)

    def _push(self, request: Request, fingerprint: str | None, seen_key: str | None) -> bool:
        if seen_key is None:
            super().push(request)
        elif not self.leases.push_unseen_script(
            keys=[self.key, seen_key], args=[fingerprint, -request.priority, self._encode_request(request)]
        ):
            return False
        self.leases.pushed(request)
        return True

    def _encode_request(self, request: Request) -> bytes:
        """The request as queued: without this process's lease marks (they stay on the request itself)."""
        marks = {key: request.meta.pop(key) for key in ("lease", "parent_lease") if key in request.meta}
        try:
            return super()._encode_request(request)
        finally:
            request.meta.update(marks)

    def pop(self, timeout: int = 0) -> Request | None:
        try:
            taken = self.leases.take()
        except RedisError as error:  # taken maybe, its answer lost: `Leases.mend` gives it back
            self.leases.failed("taking a request", error)
            return None
        if taken is None:
            return None
        lease, data = taken
        request = self._decode_request(data)
        request.meta["lease"] = lease
        return request


class LeasedScheduler(Scheduler):
    """scrapy-redis' scheduler, with a request marked seen and queued in one step (`LeasedQueue.push_unseen`), that
    begins a new crawl of its run name when the last one finished (`Leases.begin`)."""

    def open(self, spider) -> None:
        super().open(spider)
        self.queue.leases.begin(self.df.key)
        self.df.epoch = self.queue.leases.epoch

    def enqueue_request(self, request: Request) -> bool:
        if request.dont_filter:
            self.queue.push(request)
        elif not self.queue.push_unseen(request, self.df.request_fingerprint(request), self.df.key):
            self.df.log(request, self.spider)
            return False
        if self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return True


def leased(callback: Callable) -> Callable:
    """A spider callback or errback whose request may be leased: what it yields is handed to the lease, and the
    callback's end is the lease's first condition (`_ends`). While the callback runs, its lease is `CURRENT`
    (`Leases.hold`)."""

    if inspect.isasyncgenfunction(callback):

        @functools.wraps(callback)
        async def async_wrapper(spider, outcome, *args, **kwargs):
            outputs = callback(spider, outcome, *args, **kwargs)
            leases = spider.leases
            if leases is None:
                async for output in outputs:
                    yield output
                return
            lease = outcome.request.meta.get("lease")  # a Response's request, or the Failure's (set by Scrapy)
            with _ends(leases, lease):
                while True:
                    with _running(lease):
                        try:
                            output = await anext(outputs)
                        except StopAsyncIteration:
                            break
                    yield leases.child(lease, output)

        return async_wrapper

    @functools.wraps(callback)
    def wrapper(spider, outcome, *args, **kwargs):
        outputs = callback(spider, outcome, *args, **kwargs)
        leases = spider.leases
        if leases is None:
            yield from outputs
            return
        lease = outcome.request.meta.get("lease")
        with _ends(leases, lease):
            while True:
                with _running(lease):
                    try:
                        output = next(outputs)
                    except StopIteration:
                        break
                yield leases.child(lease, output)

    return wrapper


@contextlib.contextmanager
def _ends(leases: Leases, lease: int | None) -> Iterator[None]:
    """A callback's end finishes its share of the lease, also when it raises (its request is done); not when a stop
    cancels it (GeneratorExit, CancelledError), so its request goes back to the queue."""
    try:
        yield
    except Exception:
        leases.finish(lease)
        raise
    leases.finish(lease)


@contextlib.contextmanager
def _running(lease: int | None) -> Iterator[None]:
    """`CURRENT` is the lease while the callback's code runs, up to its next output (not while others run)."""
    token = CURRENT.set(lease)
    try:
        yield
    finally:
        CURRENT.reset(token)
