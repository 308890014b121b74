"""A channel's walk: pure decisions about which archive page comes next, how far the walk has got (`WalkLedger`),
and what it saves so that a stopped crawl resumes and an incremental one stops (`Channel.begin`, `progress`).

Archive pages are numbered so that page `maxpage` is the newest (SITE.md, seen on several sites of this CMS). That
is an assumption the dates can check: page `maxpage` should hold the entries just older than the live page. When
it holds much older ones, page 1 is fetched to compare, and if page 1 is the newer of the two the numbering falls
with time and the walk goes upwards from page 1 instead.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Any

from gansunews.urls import Pager

WINDOW, PARKED, ENDED = "window", "parked", "ended"  # why a walk requests no more pages now (`Channel.next_pages`)
UNCOVERED = "uncovered"  # no complete walk is known to have listed the channel down to any day (`Channel.prior`)
WALKED_ANYWHERE = 10**9  # `walked_below` where page numbers move (falling numbering), or of a walk not recorded


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
    saved_walk: tuple[int | None, bool] | None = None  # the progress last saved (resume_at, complete)
    parked_at: int | None = None  # the page just requested behind the queued articles (the queue was full)
    cut_short: bool = False  # stopped by `max_pages`: not complete
    unfinished: bool = False  # ended by pages lost (its pager script, archive pages failed for good): not complete
    walked_below: int | None = None  # archive pages up to this one were walked to the end by an earlier run
    watermark: date | None = None  # the newest day an earlier run saw listed, when earlier walks cover what is wanted
    # What complete walks listed, from the watermark down: to this ISO day, to the archive's end (None), or not known
    # (UNCOVERED), as earlier runs left it (`begin`); with this walk once it is complete: `coverage`.
    prior: str | None = UNCOVERED
    prior_watermark: date | None = None
    since: date | None = None  # this crawl's, and its grace days (`begin`)
    grace: timedelta = timedelta(0)
    stopped: str | None = None  # how the walk ended: "cutoff", "known" (stored pages), None (the archive's end)
    aged_out: bool = False  # entries of its pages were left for their age: it did not list everything it passed

    @property
    def ended_early(self) -> bool:
        """Ended before its cutoff or the archive's end (pages lost, `max_pages`): not complete."""
        return self.unfinished or self.cut_short

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
            # the watermark moves only with a walk not ended by lost pages or `max_pages`: the next crawl reads to it
            "newest_seen": self.newest_seen.isoformat() if self.newest_seen and not self.ended_early else None,
        }

    def begin(
        self, state: dict[str, Any], since: date | None = None, grace: timedelta = timedelta(0), full: bool = False
    ) -> bool:
        """What earlier runs left in the channel's stored record: how far down the archive a walk once went to its
        end (`walked_below`: an incremental walk stops at stored articles from there on), and where a stopped one
        got to (`resume_at`: the walk jumps there once it meets stored articles). True when that walk was complete:
        its record must then say incomplete while this one runs (`progress(begun=True)`), so that a crawl killed
        before any of its pages is done does not pass for complete.

        Earlier walks count only as far down as they listed (`covered_since`): a crawl that wants older articles
        (its `since` before that day, or none) walks down to its `since` past stored pages, and no watermark cuts
        it short. Until 2026-12-03 a first crawl of recent days (the README's trial), or the hourly plan, left
        every later backfill reading one week. A `full` crawl takes the coverage only, to join it."""
        self.since, self.grace = since, grace
        walk = state.get("walk")
        if walk is None:  # a new channel, or one saved by a clean finish before walks were recorded (complete)
            walk = {"complete": True, "walked_below": WALKED_ANYWHERE} if state.get("newest_seen") else {}
        if "covered_since" in walk:
            self.prior = walk["covered_since"]
        elif walk.get("complete"):  # recorded before coverage was: taken to cover everything, as it was then
            self.prior = None
        if state.get("newest_seen"):
            self.prior_watermark = date.fromisoformat(state["newest_seen"][:10])
        if full:
            return bool(walk.get("complete"))
        if self.prior != UNCOVERED and (self.prior is None or (since is not None and since.isoformat() >= self.prior)):
            self.watermark = self.prior_watermark
            self.walked_below = walk.get("walked_below")
        # a falling archive's numbers move: not resumable by number; nor is a walk that wanted less than this one
        # (its done pages left out what was older than its `since`)
        walked_since = walk.get("since")
        wanted_as_much = walked_since is None or (since is not None and since.isoformat() >= walked_since)
        if not walk.get("complete") and walk.get("resume_at") and walk.get("step", -1) < 0 and wanted_as_much:
            self.resume_at = walk["resume_at"]
        return bool(walk.get("complete"))

    def coverage(self) -> str | None:
        """What complete walks cover once this one is complete: down to the archive's end (None) when it listed all
        it passed to there; else down to its cutoff, joined to what earlier walks covered when it reached into that
        (a watermark's cutoff, stored pages, or a `since` within their span)."""
        if self.stopped is None and not self.aged_out:
            return None
        if self.since is None or self.stopped == "known" or self.cutoff(self.since, self.grace) != self.since:
            return self.prior
        if self.prior == UNCOVERED or self.prior_watermark is None or self.since > self.prior_watermark:
            return self.since.isoformat()  # earlier coverage, if any, does not join this one
        return None if self.prior is None else min(self.since.isoformat(), self.prior)

    def cutoff(self, since: date | None, grace: timedelta) -> date | None:
        """The oldest publish day still wanted: `since`, or the watermark less the grace days if that is later. The
        grace: an article may be listed days after the date it carries (back-dated, or published behind a newer
        video), and one older than the watermark would never be fetched."""
        days = [day for day in (since, self.watermark - grace if self.watermark else None) if day]
        return max(days) if days else None

    def recent(self, day: date | None, cutoff: date | None) -> bool:
        """An entry of `day` is wanted (undated ones are); the newest day seen is the channel's next watermark."""
        if day and (self.newest_seen is None or day > self.newest_seen):
            self.newest_seen = day
        wanted = not (cutoff and day and day < cutoff)
        self.aged_out = self.aged_out or not wanted
        return wanted

    def repeats(self, listed: frozenset[str]) -> bool:
        """An archive page listing exactly what another recent one listed: a site that serves one page for every
        number would otherwise be walked to its end. (Page `maxpage` may repeat the live page: that is allowed.)"""
        if listed and listed in self.recent_pages:
            return True
        self.recent_pages.append(listed)
        return False

    def past_empty_page(self, most: int) -> bool:
        """Whether the walk goes on after a page that says nothing about dates (empty, lost): up to `most` times."""
        self.empty_pages += 1
        return self.empty_pages <= most

    def reached(self, max_pages: int) -> bool:
        """`max_pages` (0: no limit) requested, counting the live page: the walk is cut short."""
        if max_pages and self.pages_requested >= max_pages:
            self.cut_short = True
        return self.cut_short

    def next_pages(self, start: int, max_pages: int, queue_full: Callable[[], bool]) -> tuple[list[int], str]:
        """The archive pages to request now, from `start` on in the walk's direction, keeping `window` of them in
        flight, and why no more: WINDOW (more as these are read), PARKED (`queue_full`: the last page, `parked_at`,
        waits in the queue behind the articles, and the walk goes on when it is read) or ENDED (past the archive's
        end, or `max_pages`)."""
        numbers: list[int] = []
        number: int | None = start if 1 <= start <= self.walk_end else None
        self.parked_at = None
        while number is not None and not self.exhausted:
            if self.pages_requested - self.pages_walked >= self.window:
                return numbers, WINDOW
            if self.reached(max_pages):
                break
            parked = queue_full()
            self.pages_requested += 1
            self.last_requested = number
            self.ledger.requested(number)
            numbers.append(number)
            if parked:
                self.parked_at = number
                return numbers, PARKED
            number = next_page(number, self.step, self.walk_end)
        return numbers, ENDED

    def stops_at_known(self, number: int) -> bool:
        """Stored articles end the walk only where an earlier walk went to its end: elsewhere a stopped one may have
        stored them through other channels, or read the page and stopped before it was done."""
        return self.walked_below is not None and number <= self.walked_below

    def can_resume(self) -> bool:
        """An earlier run stopped further down the archive than this walk has gone: it may jump there."""
        return bool(self.resume_at) and not (self.last_requested and self.resume_at >= self.last_requested)

    def progress(self, begun: bool = False) -> dict[str, Any] | None:
        """The walk's progress to save, None when nothing changed: where a stopped crawl resumes (after the pages
        whose articles are all settled), or that it is complete, and how far down the archive a walk has gone to
        its end."""
        ledger = self.ledger
        complete = self.exhausted and ledger.idle and not (self.ended_early or begun)
        if not (complete or begun or self.unfinished) and ledger.done_through is None:
            return None
        done = ledger.done_through
        resume_at = None if complete or begun or done is None else next_page(done, self.step, self.walk_end)
        if complete:  # a falling archive's numbers move: a complete walk there covers any number
            self.walked_below = self.maxpage if self.step < 0 and self.maxpage else WALKED_ANYWHERE
        if (resume_at, complete) == self.saved_walk and not begun:
            return None
        self.saved_walk = (resume_at, complete)
        walk = {"resume_at": resume_at, "step": self.step, "complete": complete, "walked_below": self.walked_below}
        walk["since"] = self.since.isoformat() if self.since else None
        covered = self.coverage() if complete else self.prior  # an incomplete walk leaves what earlier ones covered
        return walk if covered == UNCOVERED else {**walk, "covered_since": covered}
