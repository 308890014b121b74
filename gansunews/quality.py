"""The crawl's quality verdict: `ok` or `degraded`, with the problems that made it so and notes on drift that was
handled. Pure: the crawl's stats, its finish reason and arguments, and the previous crawl's record (MongoDB).

A crawl that met a site unlike the one it expects must say so here: no channel, channels without a pager or
without entries, archive pages without entries, most articles read by the generic extractor or dated from their
URL only, far fewer listed articles or field coverage well below the previous comparable crawl.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gansunews.pipelines.validate import UNREADABLE

COVERED_FIELDS = ("source", "authors", "regions")


@dataclass(frozen=True)
class Thresholds:
    """Where a symptom becomes a problem; `GANSUNEWS_QUALITY_THRESHOLDS` overrides any of them by name."""

    most: float = 0.5  # a symptom shared by more than this share of channels (or articles) is a problem, not a note
    url_dates: float = 0.25  # articles dated by their URL only
    empty_pages: float = 0.25  # listing pages without entries, of all listing pages read
    failed_requests: float = 0.1  # requests failed for good, of all requests
    unreadable: float = 0.1  # articles fetched and not read (no title, date or body), of all fetched and read
    coverage_drop: float = 0.25  # a field's coverage this much below the previous comparable crawl's
    min_items: int = 20  # below this many articles, shares say little
    min_source: float = 0.5
    min_authors: float = 0.2
    min_regions: float = 0.5

    @classmethod
    def from_settings(cls, settings) -> Thresholds:
        overrides = settings.getdict("GANSUNEWS_QUALITY_THRESHOLDS")
        unknown = set(overrides) - set(cls.__dataclass_fields__)
        if unknown:
            known = ", ".join(sorted(cls.__dataclass_fields__))
            raise ValueError(f"GANSUNEWS_QUALITY_THRESHOLDS: unknown {', '.join(sorted(unknown))}; known: {known}")
        return cls(**{name: type(getattr(cls, name))(value) for name, value in overrides.items()})


def quality_verdict(
    stats: dict[str, Any],
    reason: str,
    previous: dict[str, Any] | None = None,
    args: dict[str, Any] | None = None,
    limits: Thresholds = Thresholds(),
) -> tuple[str, list[str], list[str]]:
    """(verdict, problems, notes)."""
    get = stats.get
    problems: list[str] = []
    notes: list[str] = []
    items = get("item_scraped_count", 0)
    channels = get("gansunews/discovery/channels", 0)
    requests = get("downloader/request_count", 0) or 1
    failures = {k: v for k, v in stats.items() if k.startswith("gansunews/fail/")}
    forbidden = sum(v for k, v in failures.items() if k.endswith("/robots_txt"))
    failed = sum(failures.values()) - forbidden
    pages = get("gansunews/listing/pages", 0)
    if reason != "finished":
        problems.append(f"finish reason {reason}")
    if channels == 0:
        problems.append("no channel discovered: the scope's home or its channel links were not recognised")
    older = get("gansunews/listing/older_than_cutoff", 0)  # entries found, and left for their age
    if items == 0 and get("gansunews/incremental/known", 0) == 0:
        why = f" (the {older} entries listed are older than the cutoff)" if older else ""
        problems.append(f"no articles{why}")
    share = _Shares(problems, notes)
    share(
        get("gansunews/pager/missing", 0),
        channels,
        "channels have no pager (only their live page was read)",
        limits.most,
    )
    share(
        get("gansunews/listing/channels_without_entries", 0), channels, "channels list no article entries", limits.most
    )
    if pages and get("gansunews/listing/entries", 0) + older == 0:
        problems.append(f"no article entry on any of {pages} listing pages: the list is not recognised")
    empty = get("gansunews/listing/empty", 0)
    if pages and empty / pages > limits.empty_pages:
        problems.append(f"{empty} of {pages} listing pages without article entries")
    if items >= limits.min_items:
        share(get("gansunews/template/generic", 0), items, "articles read by the generic extractor only", limits.most)
        share(get("gansunews/date/from/url", 0), items, "articles dated by their URL only", limits.url_dates)
        for name in COVERED_FIELDS:
            covered = get(f"gansunews/fields/{name}", 0)
            if covered / items < getattr(limits, f"min_{name}"):
                problems.append(f"{name} on {covered}/{items} articles")
    if forbidden:  # the site asks not to read them: the archive lacks them whatever the share
        problems.append(f"robots.txt forbids {forbidden} pages the crawl needed: they were not read")
    unreadable = {reason: get(f"gansunews/drop/{reason}", 0) for reason in UNREADABLE}
    lost = sum(unreadable.values())
    if lost:
        which = ", ".join(f"{reason} {count}" for reason, count in unreadable.items() if count)
        what = f"{lost} of {items + lost} articles fetched could not be read ({which})"
        many = items + lost >= limits.min_items and lost / (items + lost) > limits.unreadable
        (problems if many else notes).append(what)
    if failed / requests > limits.failed_requests:
        problems.append(f"{failed} failed requests of {requests}")
    if get("gansunews/discovery/unfound"):
        unfound = get("gansunews/discovery/unfound")
        notes.append(f"{len(unfound)} channels found by recent crawls were not found: {'、'.join(unfound[:10])}")
    if get("gansunews/walk/unfinished", 0):
        notes.append(f"{get('gansunews/walk/unfinished')} walks ended by pages lost: the next crawl walks them again")
    if get("gansunews/listing/stopped_repeated", 0):
        notes.append(f"{get('gansunews/listing/stopped_repeated')} walks stopped at an archive page repeating another")
    if get("gansunews/pager/numbering/falling", 0):
        notes.append(f"{get('gansunews/pager/numbering/falling')} channels number their archive pages newest first")
    if get("gansunews/mongo/unsaved", 0):
        problems.append(
            f"{get('gansunews/mongo/unsaved')} articles neither stored nor spooled (MongoDB away, the spool not"
            " writable): the next crawl fetches them again"
        )
    if get("gansunews/pages/lost", 0):
        lost = get("gansunews/pages/lost")
        notes.append(
            f"{lost} raw pages neither kept nor spooled (the spool not writable): `reparse` lists their articles"
        )
    if get("gansunews/mongo/spool_set_aside", 0):
        notes.append(
            f"{get('gansunews/mongo/spool_set_aside')} spooled lines cut short by a kill set aside"
            " (`<spool>.unreadable`): their writes were never confirmed, so no crawl counted them done"
        )
    if get("gansunews/mongo/spooled_at_close", 0):
        problems.append(
            f"{get('gansunews/mongo/spooled_at_close')} articles are not in MongoDB (away at the close): spooled on"
            " this machine, written at its next start"
        )
    if get("gansunews/mongo/merges_failed", 0):
        problems.append(f"{get('gansunews/mongo/merges_failed')} channel merges failed (a bug, logged): channels lost")
    if get("gansunews/dedupe/repoint_failed", 0):
        problems.append(f"{get('gansunews/dedupe/repoint_failed')} stored reposts not re-pointed at their original")
    if get("gansunews/dedupe/index_failed", 0):
        problems.append(f"the repost index failed {get('gansunews/dedupe/index_failed')} times: reposts not looked for")
    if get("gansunews/dedupe/peers_unchecked", 0):
        problems.append("the peers' articles could not be compared with this process's: reposts across them missed")
    if get("gansunews/distributed/not_given_back", 0):
        problems.append(
            f"{get('gansunews/distributed/not_given_back')} leased requests not given back (Redis away at the close):"
            " a peer or the next process of this run takes them back"
        )
    if get("gansunews/distributed/redis_data_lost", 0):
        problems.append("Redis lost the crawl's queue (restarted without its data): requests in it were never made")
    if get("gansunews/distributed/redis_evicted_keys", 0):
        problems.append(
            f"Redis evicted {get('gansunews/distributed/redis_evicted_keys')} keys while the crawl ran (a memory limit"
            " with an allkeys policy): its queue or seen set may have lost some"
        )
    redis_errors = get("gansunews/distributed/redis_errors", 0)
    if redis_errors:
        notes.append(f"Redis failed {redis_errors} commands: the crawl waited and mended them")
    problems += _against_previous(stats, items, channels, previous, args, limits)
    return ("degraded" if problems else "ok"), problems, notes


class _Shares:
    """A symptom shared by more than `limit` of its kind is a problem; a smaller share is a note."""

    def __init__(self, problems: list[str], notes: list[str]) -> None:
        self.problems, self.notes = problems, notes

    def __call__(self, count: int, total: int, what: str, limit: float) -> None:
        if count and total:
            (self.problems if count / total > limit else self.notes).append(f"{count} of {total} {what}")


def _against_previous(
    stats: dict[str, Any],
    items: int,
    channels: int,
    previous: dict[str, Any] | None,
    args: dict[str, Any] | None,
    limits: Thresholds,
) -> list[str]:
    """Channels found, articles listed (same arguments only) and field coverage against the previous crawl."""
    if not previous:
        return []
    problems = []
    before = previous.get("crawl_stats") or previous.get("stats", {})  # a distributed crawl's sums, if it was one
    had_channels = before.get("gansunews/discovery/channels", 0)
    if had_channels and channels < had_channels / 2:  # listings, not articles: an incremental run fetches few
        problems.append(f"channels found fell from {had_channels} to {channels}")
    # live pages are read by every run, incremental or not: their entries compare across runs of one selection
    same_regions = args is not None and (previous.get("args") or {}).get("regions") == args.get("regions")
    listed, had_listed = stats.get("gansunews/listing/live_entries", 0), before.get("gansunews/listing/live_entries", 0)
    if same_regions and had_listed and listed < had_listed / 2:
        problems.append(f"articles on live pages fell from {had_listed} to {listed}")
    comparable = args is not None and previous.get("args") == args
    had_items = before.get("item_scraped_count", 0)
    enough = items >= limits.min_items and had_items >= limits.min_items
    if comparable and enough and previous.get("quality", {}).get("verdict") == "ok":
        for name in (*COVERED_FIELDS, "editor"):
            now, then = (
                stats.get(f"gansunews/fields/{name}", 0) / items,
                before.get(f"gansunews/fields/{name}", 0) / had_items,
            )
            if then - now > limits.coverage_drop:
                problems.append(f"{name} coverage fell from {then:.0%} to {now:.0%}")
    return problems
