"""Pages that failed for good in earlier crawls (a burst of 503s, a timeout, an empty page): an incremental walk
stops at pages whose articles are stored and never reaches them again, so each crawl requests them again until they
have failed in `GANSUNEWS_RETRY_FAILED_CRAWLS` crawls. An article is requested with the channels that listed it,
also one whose page came but could not be read (an empty 200 response, a page cut short, a template the readers do
not know: `READ_DROPS`); an
archive page once its channel is found again, and its entries are registered without moving the walk; an article
stored without a continuation page that failed is requested again, whole, while the crawl that stored it last is
the one that lost the page. Gone (404, 410) or forbidden by robots.txt, a page is not tried again. Pure: failure
records in, what to request out."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from gansunews.idset import IdSet
from gansunews.pipelines.validate import UNREADABLE
from gansunews.urls import article_id, article_url_date

NOT_RETRIED = frozenset({"http_404", "http_410", "robots_txt"})
# An article page that came and could not be read is fetched again too: a transient fault (an empty or cut short
# 200 response) passes, and the page kept for `reparse` would not. Until 2026-12-03 it was not, and an article whose
# one fetch came back empty was lost for good (a template not known yet costs a request in each of the next crawls).
READ_DROPS = tuple(f"drop/{reason}" for reason in UNREADABLE)
ARTICLE_REASONS = ("article/", *READ_DROPS)
RETRIED_REASONS = (*ARTICLE_REASONS, "continuation/")  # with archive pages (`page`): what `planned` reads


@dataclass(frozen=True)
class Retry:
    url: str
    cms_id: str
    day: date
    channels: list[dict[str, str]]
    stored_by: str | None = None  # an article stored without a page: the crawl that lost it (it must be the last)
    title: str | None = None  # the title its listing gave (gansunews/spiders/answers.py)


def grouped(failures: Iterable[dict[str, Any]], key: Callable[[dict[str, Any]], str | None]) -> dict[str, list]:
    """One page's failure records together (across crawls), by `key`; records without one are left out."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for failure in failures:
        if (name := key(failure)) is not None:
            groups.setdefault(name, []).append(failure)
    return groups


def worth_retrying(records: list[dict[str, Any]], most: int) -> dict[str, Any] | None:
    """The last of one page's failure records, when the page failed in fewer than `most` crawls and last for a
    reason that may pass."""
    last = max(records, key=lambda record: record["at"])
    if len(records) >= most or last["reason"].rpartition("/")[2] in NOT_RETRIED:
        return None
    return last


def articles_to_retry(failures: Iterable[dict[str, Any]], known: IdSet, since: date | None, most: int) -> list[Retry]:
    """The articles to request again (`worth_retrying`), not stored since and not older than `since`. `failures`:
    the `failures` records of articles (url, reason, at, channels)."""
    retries = []
    for cms_id, records in grouped(failures, lambda failure: article_id(failure["url"])).items():
        last = worth_retrying(records, most)
        day = article_url_date(last["url"]) if last else None
        if last is None or day is None or int(cms_id) in known or (since and day < since):
            continue
        channels = list({c["url"]: c for record in records for c in record.get("channels") or []}.values())
        title = next((record["title"] for record in records if record.get("title")), None)
        retries.append(Retry(last["url"], cms_id, day, channels, title=title))
    return retries


def pages_to_retry(failures: Iterable[dict[str, Any]], most: int) -> dict[str, dict[int, str]]:
    """The archive pages to request again (`worth_retrying`), by channel key: page number -> URL. `failures`: the
    `failures` records of archive pages (url, reason, at, channel, page)."""
    pages: dict[str, dict[int, str]] = {}
    for url, records in grouped(failures, lambda failure: failure["url"]).items():
        last = worth_retrying(records, most)
        if last is not None:
            pages.setdefault(last["channel"], {})[last["page"]] = url
    return pages


def truncated_to_retry(failures: Iterable[dict[str, Any]], since: date | None, most: int) -> list[Retry]:
    """Articles stored without a continuation page that failed (`worth_retrying`), to request again whole if the
    crawl that lost the page (`stored_by`) stored them last. `failures`: the `failures` records of continuation
    pages (url, reason, at, crawl_id, article, channels)."""
    retries = []
    for cms_id, records in grouped(failures, lambda failure: article_id(failure.get("article") or "")).items():
        last = worth_retrying(records, most)
        day = article_url_date(last["article"]) if last else None
        if last is not None and day is not None and not (since and day < since):
            retries.append(Retry(last["article"], cms_id, day, last.get("channels") or [], last["crawl_id"]))
    return retries


def planned(
    failures: list[dict[str, Any]], known: IdSet, since: date | None, most: int
) -> tuple[list[Retry], dict[str, dict[int, str]]]:
    """From the `failures` records a crawl reads at its start: the articles to request again (whole articles stored
    without a page among them, still to be checked against what stored them last), and the archive pages to read
    again by channel (`articles_to_retry`, `truncated_to_retry`, `pages_to_retry`)."""
    articles = [failure for failure in failures if failure["reason"].startswith(ARTICLE_REASONS)]
    truncated = [failure for failure in failures if failure["reason"].startswith("continuation/")]
    pages = [failure for failure in failures if "page" in failure]
    retries = articles_to_retry(articles, known, since, most) + truncated_to_retry(truncated, since, most)
    return retries, pages_to_retry(pages, most)
