"""Extensions: the run's stats as a JSON file, and the run's record in MongoDB (crawls, failures, channels)."""

from __future__ import annotations

import json
import logging
import platform
from pathlib import Path

import scrapy
from scrapy import logformatter, signals
from scrapy.exceptions import NotConfigured
from twisted.internet import task

from gansunews import __version__
from gansunews.allocator import fix_mmap_threshold
from gansunews.crawlinfo import FailedUrl, crawl_id, failure_recorded, job_id, progress_reported
from gansunews.pipelines.validate import UNREADABLE
from gansunews.quality import Thresholds, quality_verdict
from gansunews.readers import peak_rss
from gansunews.store import DueWrites, MongoConfig, PyMongoError, Store, utc_now

logger = logging.getLogger(__name__)


class LogFormatter(logformatter.LogFormatter):
    """Scrapy builds a DEBUG record for every response and item even when `LOG_LEVEL` hides it (its loggers stay
    at NOTSET and the handler filters): ≈ 2% of the crawl's CPU. These two are skipped unless DEBUG is on."""

    def __init__(self, debug: bool) -> None:
        self.debug = debug

    @classmethod
    def from_crawler(cls, crawler) -> LogFormatter:
        level = crawler.settings.get("LOG_LEVEL")
        numeric = level if isinstance(level, int) else logging.getLevelName(str(level).upper())
        return cls(debug=not isinstance(numeric, int) or numeric <= logging.DEBUG)

    def crawled(self, *args, **kwargs):
        return super().crawled(*args, **kwargs) if self.debug else None

    def scraped(self, *args, **kwargs):
        return super().scraped(*args, **kwargs) if self.debug else None


class PeakMemory:
    """`gansunews/memory/peak_rss`: the crawl process's own peak resident set, in bytes. Scrapy's `memusage/max`
    reads getrusage's `ru_maxrss`, which on Linux never starts below the size of the process that launched the
    crawl (the kernel carries it across exec): a crawl started by a large process reports that process's size."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler) -> PeakMemory:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self) -> None:
        self.crawler.stats.set_value("gansunews/memory/peak_rss", peak_rss())


class MmapThreshold:
    """Large blocks (`GANSUNEWS_MALLOC_MMAP_THRESHOLD` bytes or more, 0: glibc's own policy) are given back to the
    system when freed, so that the crawl process's memory does not creep with the archive (gansunews/allocator.py)."""

    @classmethod
    def from_crawler(cls, crawler) -> MmapThreshold:
        size = crawler.settings.getint("GANSUNEWS_MALLOC_MMAP_THRESHOLD")
        if size <= 0:
            raise NotConfigured("GANSUNEWS_MALLOC_MMAP_THRESHOLD is 0")
        crawler.stats.set_value("gansunews/memory/mmap_threshold", size if fix_mmap_threshold(size) else 0)
        return cls()


class Progress:
    """Every `GANSUNEWS_PROGRESS_SECONDS`, one log line: channels discovered, walking and walked; articles listed,
    fetched and stored; the rate; an estimate of the time left (a lower bound while listings are still being
    walked: more articles may be listed). The same figures go to the `progress` stat and, through
    `progress_reported`, to the crawl's MongoDB record."""

    def __init__(self, crawler, interval: float) -> None:
        self.crawler = crawler
        self.interval = interval
        self.task: task.LoopingCall | None = None
        self.last_fetched = 0

    @classmethod
    def from_crawler(cls, crawler) -> Progress:
        interval = crawler.settings.getfloat("GANSUNEWS_PROGRESS_SECONDS")
        if interval <= 0:
            raise NotConfigured("GANSUNEWS_PROGRESS_SECONDS is 0")
        extension = cls(crawler, interval)
        crawler.signals.connect(extension.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_opened(self, spider) -> None:
        if hasattr(spider, "progress"):
            self.task = task.LoopingCall(self.report, spider)
            self.task.start(self.interval, now=False)

    def report(self, spider) -> dict:
        figures = spider.progress()
        per_minute = (figures["articles_fetched"] - self.last_fetched) * 60 / self.interval
        self.last_fetched = figures["articles_fetched"]
        left = max(0, figures["articles_listed"] - figures["articles_fetched"])
        minutes = left / per_minute if per_minute else None
        listing = figures["channels_walking"] > 0
        figures.update(
            articles_per_minute=round(per_minute, 1),
            minutes_left=round(minutes, 1) if minutes is not None else None,
            at=utc_now(),
        )
        eta = "unknown" if minutes is None else f"{'at least ' if listing else ''}{minutes:.0f} min"
        logger.info(
            "progress: channels %d discovered, %d walking, %d walked; articles %d listed, %d fetched, %d stored; "
            "%.0f/min; left: %s",
            figures["channels_discovered"],
            figures["channels_walking"],
            figures["channels_walked"],
            figures["articles_listed"],
            figures["articles_fetched"],
            figures["articles_stored"],
            per_minute,
            eta,
        )
        self.crawler.stats.set_value("gansunews/progress", figures)
        self.crawler.signals.send_catch_log(progress_reported, progress=figures)
        return figures

    def spider_closed(self) -> None:
        if self.task is not None and self.task.running:
            self.task.stop()


class StatsFile:
    """Writes the final stats and finish reason to `GANSUNEWS_STATS_FILE` when the spider closes, and again once the
    engine has stopped: after every `spider_closed` handler, some of which wait (a distributed crawl's verdict). A
    spider that could not open (MongoDB unreachable) closes without the engine having run, and no `engine_stopped`."""

    def __init__(self, crawler, path: Path) -> None:
        self.crawler = crawler
        self.path = path

    @classmethod
    def from_crawler(cls, crawler) -> StatsFile:
        path = crawler.settings.get("GANSUNEWS_STATS_FILE")
        if not path:
            raise NotConfigured("GANSUNEWS_STATS_FILE is not set")
        extension = cls(crawler, Path(path))
        crawler.signals.connect(extension.write, signal=signals.spider_closed)
        crawler.signals.connect(extension.write, signal=signals.engine_stopped)
        return extension

    def write(self, reason: str | None = None) -> None:
        stats = {**self.crawler.stats.get_stats(), **({"finish_reason": reason} if reason else {})}
        self.path.write_text(json.dumps(stats, default=str, ensure_ascii=False, indent=1), encoding="utf-8")


async def crawl_counters(crawler, reason: str) -> dict[str, int] | None:
    """A distributed crawl's counters summed over its processes (`Leases.crawl_counters`); None for one process.
    A process stopped before the end (`reason`) does not wait for its peers: they are still at work."""
    leases = getattr(crawler.spider, "leases", None)
    return await leases.crawl_counters(wait=reason == "finished") if leases is not None else None


def judge(
    crawler,
    reason: str,
    previous: dict | None = None,
    args: dict | None = None,
    counters: dict[str, int] | None = None,
) -> dict:
    """The verdict, in the stats (`gansunews/quality`) and in the crawl's last log lines, problems and notes
    named one per line. A distributed crawl is judged on its processes' summed `counters`."""
    limits = Thresholds.from_settings(crawler.settings)
    stats = {**crawler.stats.get_stats(), **(counters or {})}
    verdict, problems, notes = quality_verdict(stats, reason, previous, args, limits)
    crawler.stats.set_value("gansunews/quality", verdict)
    crawler.stats.set_value("gansunews/quality/problems", problems)
    crawler.stats.set_value("gansunews/quality/notes", notes)
    for note in notes:
        logger.info("quality note: %s", note)
    for problem in problems:
        logger.warning("quality problem: %s", problem)
    log = logger.info if verdict == "ok" else logger.warning
    log("crawl %s is %s%s", crawl_id(crawler), verdict, f": {len(problems)} problems above" if problems else "")
    return {"verdict": verdict, "problems": problems, "notes": notes}


class QualityLog:
    """The verdict of a crawl that keeps no record (no MongoDB): stats and log only. With MongoDB, CrawlRecord
    gives it, against the previous crawl."""

    def __init__(self, crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler) -> QualityLog:
        if MongoConfig.from_settings(crawler.settings) is not None:
            raise NotConfigured("CrawlRecord gives the verdict")
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    async def spider_closed(self, spider, reason: str) -> None:
        args = spider.args.as_dict() if hasattr(spider, "args") else None
        judge(self.crawler, reason, args=args, counters=await crawl_counters(self.crawler, reason))


class CrawlRecord:
    """The run's `crawls` document (arguments, settings, versions, job id, start/end, stats, finish reason,
    quality verdict), a `failures` document per URL that failed for good or article dropped, and — when the
    run finished cleanly — the discovered `channels` with their newest-seen watermarks.

    Records that cannot be written (server gone) are spooled and written at the next start."""

    SETTINGS = (
        "GANSUNEWS_SEEDS",
        "GANSUNEWS_SCOPE",
        "GANSUNEWS_DISCOVERY_DEPTH",
        "MONGO_DATABASE",
        "CONCURRENT_REQUESTS",
        "CONCURRENT_REQUESTS_PER_DOMAIN",
        "AUTOTHROTTLE_ENABLED",
        "ROBOTSTXT_OBEY",
        "DOWNLOAD_TIMEOUT",
        "RETRY_TIMES",
        "USER_AGENT",
    )
    REPLAYABLE = frozenset(
        {"add_channels", "repoint", "start_crawl", "finish_crawl", "save_failures", "save_channels", "promote_walks"}
    )

    def __init__(self, crawler, config: MongoConfig) -> None:
        self.crawler = crawler
        self.store = Store.of(crawler, config)
        self.spool = config.records_spool(
            lambda lines: crawler.stats.inc_value("gansunews/mongo/spool_set_aside", lines)
        )
        self.failures: dict[str, dict] = {}
        self.due = DueWrites(self.store, lambda due: self.store.save_failures(list(due.values())))
        self.started_at = ""

    @classmethod
    def from_crawler(cls, crawler) -> CrawlRecord:
        config = MongoConfig.from_settings(crawler.settings)
        if config is None:
            raise NotConfigured("MONGO_URI is not set")
        record = cls(crawler, config)
        crawler.signals.connect(record.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(record.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(record.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(record.failure, signal=failure_recorded)
        crawler.signals.connect(record.progress, signal=progress_reported)
        return record

    async def spider_opened(self, spider) -> None:
        self.started_at = utc_now()
        doc = {
            "_id": crawl_id(self.crawler),
            "spider": spider.name,
            "job_id": job_id(self.crawler),
            "args": spider.args.as_dict() if hasattr(spider, "args") else {},
            "settings": {name: self.crawler.settings.get(name) for name in self.SETTINGS},
            "versions": {"gansunews": __version__, "scrapy": scrapy.__version__, "python": platform.python_version()},
            "started_at": self.started_at,
            "finished_at": None,
            "finish_reason": None,
        }
        await self._write([("start_crawl", [doc])], replay=True)

    def progress(self, progress: dict) -> None:
        """The run's progress in its record while it runs, written off the reactor thread without waiting (a lost
        write is only a stale figure: not spooled)."""
        self.store.run_soon(self.store.save_progress, crawl_id(self.crawler), progress, level=logging.INFO)

    def failure(self, failed: FailedUrl) -> None:
        self._add_failure(failed.url, f"{failed.kind}/{failed.reason}", failed.status, failed.attempts, failed.error)
        self.failures[failed.url].update(failed.retry or {})
        self._write_soon(failed.url)

    def item_dropped(self, item, response, exception, spider) -> None:
        url = getattr(item, "url", None) or (response.url if response is not None else "")
        self._add_failure(
            url, "drop/" + str(exception).split(":", 1)[0], getattr(response, "status", None), 1, str(exception)
        )
        if getattr(item, "channels", None):  # `reparse` stores the article with them once it reads
            self.failures[url]["channels"] = item.channels
        if self.failures[url]["reason"].removeprefix("drop/") in UNREADABLE:
            self._write_soon(url)

    def _write_soon(self, url: str) -> None:
        """A record that a later crawl, or `reparse`, acts on is written as it comes, not only at the close: a crawl
        killed meanwhile (kill -9, the OOM killer) has gone past the page, and the next one would not come back to it.
        Until 2026-12-03 an article that failed for good before a kill was lost for good. Records that come while the
        writer is busy are written together (a template change drops every article). A write that fails is logged;
        the close writes every record again, or spools them."""
        self.due.add(url, dict(self.failures[url]))

    def _add_failure(self, url: str, reason: str, status: int | None, attempts: int, error: str) -> None:
        run = crawl_id(self.crawler)
        self.failures[url] = {
            "_id": f"{run}|{url}",
            "crawl_id": run,
            "url": url,
            "reason": reason,
            "status": status,
            "attempts": attempts,
            "last_error": error,
            "at": utc_now(),
        }

    async def spider_closed(self, spider, reason: str) -> None:
        run = crawl_id(self.crawler)
        unmerged = await spider.merges.close() if getattr(spider, "merges", None) else {}
        if unmerged:  # MongoDB away until the close (gansunews/merges.py): written below, or spooled and replayed
            self.crawler.stats.set_value("gansunews/mongo/merges_at_close", len(unmerged))
        try:
            previous = await self.store.run(self.store.previous_crawl, spider.name, self.started_at)
        except PyMongoError:
            previous = None
        args = spider.args.as_dict() if hasattr(spider, "args") else {}
        counters = await crawl_counters(self.crawler, reason)
        quality = judge(self.crawler, reason, previous, args, counters)
        fields = {
            "finished_at": utc_now(),
            "finish_reason": reason,
            "stats": mongo_safe(self.crawler.stats.get_stats()),
            "quality": quality,
        }
        if counters:  # distributed: what the verdict was given, and what the next crawl is compared with
            fields["crawl_stats"] = mongo_safe(counters)
        operations = [("finish_crawl", [run, fields]), ("save_failures", [list(self.failures.values())])]
        if unmerged:
            operations.insert(0, ("add_channels", [unmerged]))
        if reason == "finished":  # watermarks advance only after a clean run
            operations.append(("save_channels", [spider.walks.records()]))
            if spider.leases is not None:  # distributed: no work is left anywhere (gansunews/leases.py)
                operations.append(("promote_walks", [spider.leases.run_mark.decode()]))
        await self._write(operations)

    async def _write(self, operations: list[tuple[str, list]], replay: bool = False) -> None:
        try:
            if replay:
                await self.store.run(self.spool.take, self._replay)
            for name, args in operations:
                await self.store.run(getattr(self.store, name), *args)
        except PyMongoError as error:
            self.spool.append([{"op": name, "args": args} for name, args in operations])
            self.crawler.stats.inc_value("gansunews/mongo/records_spooled")
            logger.warning("crawl records not written (%s): spooled to %s", error, self.spool.path)

    def _replay(self, records: list[dict]) -> None:
        for record in records:
            if record["op"] in self.REPLAYABLE:
                getattr(self.store, record["op"])(*record["args"])


def mongo_safe(stats: dict) -> dict:
    """Stats as a MongoDB document: no dots or dollars in keys, datetimes as ISO strings."""
    return {
        key.replace(".", "_").replace("$", "_"): (value.isoformat() if hasattr(value, "isoformat") else value)
        for key, value in stats.items()
    }
