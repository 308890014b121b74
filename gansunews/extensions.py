"""Extensions: the run's final stats as a JSON file, for operators and tests (stats, not logs, are asserted)."""

from __future__ import annotations

import json
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured


class StatsFile:
    """Writes the final stats and finish reason to `GANSUNEWS_STATS_FILE` when the spider closes."""

    def __init__(self, crawler, path: Path) -> None:
        self.crawler = crawler
        self.path = path

    @classmethod
    def from_crawler(cls, crawler) -> StatsFile:
        path = crawler.settings.get("GANSUNEWS_STATS_FILE")
        if not path:
            raise NotConfigured("GANSUNEWS_STATS_FILE is not set")
        extension = cls(crawler, Path(path))
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, spider, reason: str) -> None:
        stats = {**self.crawler.stats.get_stats(), "finish_reason": reason}
        self.path.write_text(json.dumps(stats, default=str, ensure_ascii=False, indent=1), encoding="utf-8")
