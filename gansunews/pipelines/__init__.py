"""Item pipelines, one job each: clean → regions → validate → dedupe (→ MongoDB)."""

from __future__ import annotations

import logging

from scrapy.exceptions import DropItem

logger = logging.getLogger(__name__)


def drop(crawler, reason: str, item_id: str, detail: str = "") -> DropItem:
    """Count the drop under `gansunews/drop/<reason>`, log it, and return the DropItem to raise."""
    crawler.stats.inc_value(f"gansunews/drop/{reason}")
    logger.warning("dropped %s: %s %s", item_id, reason, detail)
    # logged once here with the reason; Scrapy's own message (the whole item) only at DEBUG
    return DropItem(f"{reason}: {item_id} {detail}".strip(), log_level="DEBUG")
