"""A channel's walk: pure decisions about which archive page comes next.

Archive pages are numbered so that page `maxpage` is the newest (SITE.md, seen on several sites of this CMS). That
is an assumption the dates can check: page `maxpage` should hold the entries just older than the live page. When
it holds much older ones, page 1 is fetched to compare, and if page 1 is the newer of the two the numbering falls
with time and the walk goes upwards from page 1 instead.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import date


def numbering_suspect(live_days: list[date], top_page_days: list[date]) -> bool:
    """True when page `maxpage` shows no dated entry, or only entries older than everything on the live page: if
    numbers rose with time, page `maxpage` would hold the newest archived entries, which the live page repeats or
    continues. (An archive regenerated less often than the live page can lag: then page 1 is fetched for nothing.)"""
    if not live_days:
        return False
    return not top_page_days or max(top_page_days) < min(live_days)


def numbering_falls(page_one_days: list[date], top_page_days: list[date], live_days: list[date]) -> bool:
    """Page 1 newer than page `maxpage` (or, when page `maxpage` shows no dates, page 1 touching the live page):
    the numbering falls with time."""
    if not page_one_days:
        return False
    if top_page_days:
        return max(page_one_days) > max(top_page_days)
    return bool(live_days) and not numbering_suspect(live_days, page_one_days)


def next_page(last: int, step: int, maxpage: int) -> int | None:
    """The archive page after `last` in the walk's direction, or None past either end."""
    number = last + step
    return number if 1 <= number <= maxpage else None


def pages_before_cutoff(days: list[date], cutoff: date | None, most: int) -> int:
    """How many more pages are likely newer than the cutoff, from the days one page spans (at most `most`): a
    look-ahead window that opens past the cutoff would only fetch pages to throw away."""
    if cutoff is None or not days:
        return most
    days_left = (min(days) - cutoff).days
    return max(1, min(most, math.ceil(days_left / max(1, (max(days) - min(days)).days))))


@dataclass(slots=True)
class ListedPage:
    number: int  # 0: the live page
    read: bool = False
    oldest: date | None = None  # the oldest day it lists
    waiting: set[str] = field(default_factory=set)  # ids listed on it whose articles are not settled yet


class WalkLedger:
    """One channel's listing pages in the order its walk requested them, for two questions a streaming crawl asks:

    - **Which articles are complete?** Those newer than `frontier`, the oldest day on the pages read without a gap
      from the walk's start: every later page lists older entries, so no later page adds a channel to them.
    - **Where does a stopped crawl resume?** After `done_through`, the last archive page of the gapless prefix
      whose articles are all settled (stored, known, dropped or failed): nothing before it is ever read again.

    A page leaves the ledger once done, so it holds about the walk's look-ahead window."""

    def __init__(self) -> None:
        self.pages: deque[ListedPage] = deque()
        self.passed: date | None = None  # the oldest day of the pages already done
        self.done_through: int | None = None

    def requested(self, number: int) -> None:
        self.pages.append(ListedPage(number))

    def read(self, number: int, days: list[date], ids: set[str]) -> None:
        """Page `number` read (or lost: no days, no ids); a page read without a request joins the walk's end."""
        page = next((p for p in self.pages if p.number == number and not p.read), None)
        if page is None:
            page = ListedPage(number)
            self.pages.append(page)
        page.read, page.waiting = True, set(ids)
        page.oldest = min(days, default=None)
        self._pop_done()

    def settle(self, cms_id: str) -> bool:
        """An article listed here is settled; True when that moved `done_through`."""
        for page in self.pages:
            page.waiting.discard(cms_id)
        return self._pop_done()

    @property
    def frontier(self) -> date | None:
        """The oldest day listed without a gap so far; None before the first dated page."""
        oldest = self.passed
        for page in self.pages:
            if not page.read:
                break
            if page.oldest is not None and (oldest is None or page.oldest < oldest):
                oldest = page.oldest
        return oldest

    @property
    def idle(self) -> bool:
        """Nothing requested and unread, nothing unsettled."""
        return not self.pages

    @property
    def all_read(self) -> bool:
        return all(page.read for page in self.pages)

    def _pop_done(self) -> bool:
        moved = False
        while self.pages and self.pages[0].read and not self.pages[0].waiting:
            page = self.pages.popleft()
            if page.oldest is not None and (self.passed is None or page.oldest < self.passed):
                self.passed = page.oldest
            if page.number > 0:  # an archive page (not the live page, not the pager script)
                self.done_through, moved = page.number, True
        return moved
