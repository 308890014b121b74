"""Discovery: which page is the scope's home, which listings are channels in scope, and which region each
stands for. Pure decisions over page objects (no requests, no settings), each from converging signals, and each
says which signal decided so that the spider can count it:

- the scope's home (甘肃新闻) is known by the link text that led to it, by a `<title>` naming it in either order
  with any separator (`甘肃新闻_中国甘肃网`, `中国甘肃网-甘肃新闻`, `甘肃新闻 | 中国甘肃网`), or by a breadcrumb
  ending with it;
- a listing is in scope when its breadcrumb names the scope; without a breadcrumb, when it was reached from a
  scope page or its link names a division;
- its region is the most specific division its breadcrumb (else its link text) names, in any form `lookup`
  accepts (庆阳, 庆阳市, 庆阳新闻, 陇东·庆阳).

`Discovery` holds one crawl's part: the links it has followed (each once), the channels it has found, and whether
a candidate is still unanswered (until then, a channel may yet be found that lists anything).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from urllib.parse import urlsplit

from gansunews.pages import CRUMB_ROOTS
from gansunews.pages.listing import Link, ListingPage
from gansunews.regions import PROVINCE, Division, divisions, lookup, name_form
from gansunews.spiders.walk import Channel
from gansunews.urls import channel_key, strip_query

PROVINCE_CODE = "620000"
_TITLE_SEPARATORS = re.compile(r"\s*(?:[_|｜\-–—:：·•>»]|&gt;)\s*|\s{2,}")


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


class Discovery:
    def __init__(self, scope_names: set[str], max_depth: int, count: Callable[[str], None]) -> None:
        self.scope_names, self.max_depth, self.count = scope_names, max_depth, count
        self.followed: set[str] = set()  # channel_key of every link requested as a possible channel
        self.found: set[str] = set()  # channel_key of every channel found
        self.unanswered = 0  # requests for possible channels not answered yet

    @property
    def ongoing(self) -> bool:
        return self.unanswered > 0

    def follow(self, url: str) -> None:
        """A request for a possible channel (a seed, a candidate link, a page sent to the browser) goes out."""
        self.followed.add(channel_key(url))
        self.unanswered += 1

    def answered(self) -> None:
        self.unanswered -= 1

    def candidates(self, page: ListingPage, parent: Channel | None) -> Iterator[Link]:
        """Links to follow, each once (`follow` is called for them): named after a division or the scope, or on the
        host of a scope page, up to the discovery depth."""
        if parent is not None and parent.depth >= self.max_depth:
            return
        host = urlsplit(page.url).hostname
        for link in page.links():
            if channel_key(link.url) in self.followed:
                continue
            same_host = parent is not None and urlsplit(link.url).hostname == host
            if is_candidate(link.text, same_host, self.scope_names):
                self.follow(link.url)
                yield link

    def root(self, page: ListingPage, link_text: str) -> Channel | None:
        """The scope's own home page (甘肃新闻's), known by its link text, its <title> or its breadcrumb."""
        by = scope_root_by(page, link_text, self.scope_names)
        if by is None:
            return None
        self.count(f"discovery/root_by/{by}")
        return Channel(url=strip_query(page.url), name=min(self.scope_names), region_code=PROVINCE_CODE, depth=1)

    def channel(self, page: ListingPage, link_text: str, parent: Channel | None) -> Channel | None:
        """A listing in scope found for the first time, as a channel (its `key` set); None for one outside the scope
        (counted) or found already."""
        channel = identify(page, link_text, parent, self.scope_names)
        if channel is None:
            self.count("discovery/out_of_scope")
            return None
        channel.key = channel_key(page.url)
        if channel.key in self.found:
            return None
        self.found.add(channel.key)
        self.count("discovery/channels")
        self.count(f"discovery/channels/{divisions()[channel.region_code].level}")
        crumbs = page.breadcrumb()
        named_by = region_named_by(crumbs, link_text)
        if named_by:
            self.count(f"discovery/region_name/{named_by}")
        self.count(f"discovery/breadcrumb/{'present' if crumbs else 'absent'}")
        return channel
