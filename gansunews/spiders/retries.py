"""Articles that failed for good in earlier crawls (a burst of 503s, a timeout): an incremental walk stops at pages
whose articles are stored and never lists them again, so each crawl requests them again, with the channels that
listed them, until they have failed in `GANSUNEWS_RETRY_FAILED_CRAWLS` crawls. Gone (404, 410) or forbidden by
robots.txt, they are not tried again. Pure: failure records in, requests to make out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from gansunews.idset import IdSet
from gansunews.urls import article_id, article_url_date

NOT_RETRIED = frozenset({"article/http_404", "article/http_410", "article/robots_txt"})


@dataclass(frozen=True)
class Retry:
    url: str
    cms_id: str
    day: date
    channels: list[dict[str, str]]


def articles_to_retry(failures: Iterable[dict[str, Any]], known: IdSet, since: date | None, most: int) -> list[Retry]:
    """The articles to request again: failed (last time for a reason that may pass) in fewer than `most` crawls, not
    stored since, and not older than `since`. `failures`: the `failures` records of articles (url, reason, at,
    channels)."""
    by_id: dict[str, list[dict[str, Any]]] = {}
    for failure in failures:
        cms_id = article_id(failure["url"])
        if cms_id is not None:
            by_id.setdefault(cms_id, []).append(failure)
    retries = []
    for cms_id, records in by_id.items():
        last = max(records, key=lambda record: record["at"])
        day = article_url_date(last["url"])
        if len(records) >= most or last["reason"] in NOT_RETRIED or int(cms_id) in known or day is None:
            continue
        if since and day < since:
            continue
        channels = list({c["url"]: c for record in records for c in record.get("channels") or []}.values())
        retries.append(Retry(last["url"], cms_id, day, channels))
    return retries
