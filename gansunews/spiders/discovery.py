"""Discovery: which page is the scope's home, which listings are channels in scope, and which region each
stands for. Pure decisions over page objects (no requests, no settings, no state), each from converging
signals, and each says which signal decided so that the spider can count it:

- the scope's home (甘肃新闻) is known by the link text that led to it, by a `<title>` naming it in either order
  with any separator (`甘肃新闻_中国甘肃网`, `中国甘肃网-甘肃新闻`, `甘肃新闻 | 中国甘肃网`), or by a breadcrumb
  ending with it;
- a listing is in scope when its breadcrumb names the scope; without a breadcrumb, when it was reached from a
  scope page or its link names a division;
- its region is the most specific division its breadcrumb (else its link text) names, in any form `lookup`
  accepts (庆阳, 庆阳市, 庆阳新闻, 陇东·庆阳).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from gansunews.pages import CRUMB_ROOTS
from gansunews.pages.listing import ListingPage
from gansunews.regions import PROVINCE, Division, lookup, name_form
from gansunews.spiders.walk import WalkLedger
from gansunews.urls import Pager, strip_query

PROVINCE_CODE = "620000"
_TITLE_SEPARATORS = re.compile(r"\s*(?:[_|｜\-–—:：·•>»]|&gt;)\s*|\s{2,}")


@dataclass(eq=False)  # one object per channel: compared by identity
class Channel:
    """A listing the spider walks: where it is, what it is called, which region it stands for, how far the walk
    has gone."""

    url: str
    name: str
    region_code: str
    depth: int
    pager: Pager | None = None
    pages_walked: int = 0
    pages_requested: int = 1  # the live page
    last_requested: int = 0  # the archive page requested last
    step: int = -1  # archive numbers rise with time (SITE.md): walk down; +1 once the dates show they fall
    exhausted: bool = False
    empty_pages: int = 0
    maxpage: int | None = None
    newest_seen: date | None = None
    live_days: list[date] = field(default_factory=list)  # the live page's: what page `maxpage` should continue
    held: Any = None  # page `maxpage`, held while page 1 is fetched to check the numbering
    recent_pages: deque = field(default_factory=lambda: deque(maxlen=4))  # entry sets of the last archive pages
    window: int = 1  # archive pages in flight: doubles with every page worth reading, up to the look-ahead
    drawn_by_js: bool = False  # its live page had to be rendered: so will its archive pages
    key: str = ""  # channel_key(url): its `_id` in the `channels` collection
    ledger: WalkLedger = field(default_factory=WalkLedger)  # pages in flight, how far listed, how far done
    resume_at: int | None = None  # where an earlier run stopped: the walk jumps there once it meets stored pages
    saved_walk: tuple[int | None, bool] = (None, False)  # the progress last saved (resume_at, complete)
    parked_at: int | None = None  # the next page, while the walk waits for the scheduler to drain
    cut_short: bool = False  # stopped by `max_pages`: not complete
    walked_below: int | None = None  # archive pages up to this one were walked to the end by an earlier run

    @property
    def walk_end(self) -> int:
        """The highest archive page the walk may request: `maxpage`, which a walk upwards has already read."""
        return (self.maxpage or 0) - (1 if self.step > 0 else 0)

    @cached_property
    def ref(self) -> dict[str, str]:
        """How an article names this channel: one dict shared by all of them (read-only downstream)."""
        return {"name": self.name, "url": self.url, "region_code": self.region_code}

    def as_record(self, key: str) -> dict[str, Any]:
        return {
            "_id": key,
            **self.ref,
            "depth": self.depth,
            "channel_code": self.pager.channel_code if self.pager else None,
            "sub_code": self.pager.sub_code if self.pager else None,
            "maxpage": self.maxpage,
            "numbering": "falling" if self.step > 0 else "rising",
            "newest_seen": self.newest_seen.isoformat() if self.newest_seen else None,
        }


def title_parts(title: str) -> list[str]:
    """A `<title>`'s names without the site's own: `中国甘肃网-甘肃新闻` → [`甘肃新闻`]."""
    return [part for part in _TITLE_SEPARATORS.split(title) if part and part not in CRUMB_ROOTS]


def scope_root_by(page: ListingPage, link_text: str, scope_names: set[str]) -> str | None:
    """How the page is known as the scope's own home (`link_text`, `title`, `breadcrumb`), or None."""
    if link_text in scope_names:
        return "link_text"
    if len(parts := title_parts(page.title)) == 1 and parts[0] in scope_names:
        return "title"
    crumbs = page.breadcrumb()
    if len(crumbs) > 1 and crumbs[-1] in scope_names:
        return "breadcrumb"
    return None


def identify(page: ListingPage, link_text: str, parent: Channel | None, scope_names: set[str]) -> Channel | None:
    """Name, region and depth of a listing; None when it lies outside the scope. Depth is the breadcrumb's
    (甘肃新闻 1, 市州播报 2, 庆阳 3, 西峰 4), not the hops that found the page."""
    crumbs = page.breadcrumb()
    division = division_of(crumbs, link_text)
    in_scope = bool(scope_names & set(crumbs)) if crumbs else division is not None or parent is not None
    if not in_scope:
        return None
    region = division.code if division else parent.region_code if parent else PROVINCE_CODE
    name = crumbs[-1] if len(crumbs) > 1 else link_text
    depth = len(crumbs) - 1 if crumbs else (parent.depth + 1 if parent else 1)
    return Channel(url=strip_query(page.url), name=name, region_code=region, depth=depth)


def division_of(crumbs: list[str], link_text: str) -> Division | None:
    """The most specific division named by the breadcrumb's entries after the root, or by the link text."""
    named = [d for d in (lookup(c) for c in crumbs[1:]) if d] or [d for d in [lookup(link_text)] if d]
    named = [d for d in named if d.level != PROVINCE] or named
    return named[-1] if named else None


def region_named_by(crumbs: list[str], link_text: str) -> str | None:
    """`exact` or `variant` (a suffix or compound form such as 天水新闻, 陇东·庆阳): how the name that gave the
    region was written; None when no name gave it."""
    division = division_of(crumbs, link_text)
    if division is None or division.level == PROVINCE:
        return None
    names = [c for c in crumbs[1:] if lookup(c) == division] or [link_text]
    return name_form(names[-1])


def is_candidate(link_text: str, same_host_as_scope_page: bool, scope_names: set[str]) -> bool:
    """Links worth fetching as possible channels: named after a division or the scope, or on a scope page's
    host (sub-channels such as 市州播报 carry no place name)."""
    return same_host_as_scope_page or link_text in scope_names or lookup(link_text) is not None
