"""The crawl's walks: every channel found, and after each listing page a walk reads, which archive pages it requests
next or that it is over (`Walks`). Also how far all walks have listed (`frontier`, for a feed's complete lines) and
what each saves so that a stopped crawl resumes after its done pages.

Decisions only: page verdicts and numbers in, page numbers out. The spider reads the pages and makes the requests;
`count` is told what happened (crawl stats), `save` is given a walk's progress to store, `queue_full` says when the
scheduler holds enough (the walk's next page is then parked: it waits in the queue behind the articles). `staged`: a
distributed crawl's walks travel with their requests, and the articles they list are settled by whichever process
takes them, so a walk's progress is staged, and counts once the crawl has finished (`Store.promote_walks`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from gansunews.regions import divisions, is_within
from gansunews.spiders.walk import ENDED, PARKED, Channel, pages_before_cutoff
from gansunews.urls import Pager

logger = logging.getLogger(__name__)

GO_ON, KNOWN, STOP = "go_on", "known", "stop"  # what a listing page says about its walk (the spider's read_entries)
PAGER_SCRIPT = -1  # the pager script's place in a walk's ledger

SaveWalk = Callable[[str, dict[str, Any], dict[str, Any]], None]  # (channel key, channel record, walk progress)


class Walks:
    def __init__(
        self,
        *,
        count: Callable[[str], None],
        queue_full: Callable[[], bool],
        save: SaveWalk | None = None,
        since: date | None = None,
        regions: frozenset[str] = frozenset(),
        max_pages: int | None = None,
        full: bool = False,
        max_empty_pages: int = 3,
        lookahead: int = 1,
        grace: timedelta = timedelta(0),
        staged: bool = False,
    ) -> None:
        self.count, self.queue_full, self.save, self.staged = count, queue_full, save, staged
        self.since, self.regions, self.max_pages = since, set(regions), max_pages or 0
        self.full = full  # earlier walks count for the coverage only: no watermark, no stop at stored pages, no resume
        self.max_empty_pages, self.lookahead, self.grace = max_empty_pages, lookahead, grace
        self.channels: dict[str, Channel] = {}
        self.states: dict[str, dict[str, Any]] = {}  # stored channels: watermark, walk progress (earlier runs)

    def add(self, channel: Channel) -> None:
        """A channel found (`channel.key` set)."""
        self.channels[channel.key] = channel

    def wanted(self, channel: Channel) -> bool:
        """Walked: in the regions asked for (`regions=`), or all."""
        return not self.regions or is_within(divisions()[channel.region_code], self.regions)

    def walking(self, channel: Channel) -> bool:
        """Pages of the walk requested and not read, or more to come."""
        return self.wanted(channel) and not (channel.exhausted and channel.ledger.all_read)

    def cutoff(self, channel: Channel) -> date | None:
        return channel.cutoff(self.since, self.grace)

    # --------------------------------------------------------------------------------- decisions

    def begin(self, channel: Channel) -> None:
        """Before the live page's entries are read: what earlier runs left (`Channel.begin`)."""
        if channel.begin(self.states.get(channel.key, {}), self.since, self.grace, self.full):
            self.save_progress(channel, begun=True)

    def after_live_page(self, channel: Channel, verdict: str, pager: Pager | None) -> list[int] | None:
        """The archive pages to request after the live page; None when the pager script must tell `maxpage` first
        (`after_pager_script`)."""
        if pager is None:  # small channels may have none: the live page is all there is to walk
            self.count("pager/missing")
            return self.end(channel)
        self.count(f"pager/script/{pager.reference}")
        channel.pager = pager
        channel.maxpage = pager.maxpage  # set by the page itself, or later from the pager script
        if verdict == STOP or (verdict == KNOWN and self.stops_at_known(channel, 0)) or channel.reached(self.max_pages):
            return self.end(channel, stopped=verdict)
        if not pager.maxpage:
            channel.ledger.requested(PAGER_SCRIPT)
            return None
        start = pager.maxpage
        if verdict == KNOWN and self.resumable(channel):
            start, channel.resume_at = channel.resume_at, None
        return self.next_pages(channel, start)

    def after_pager_script(self, channel: Channel, maxpage: int | None, lost: bool = False) -> list[int]:
        """The pager script read (`maxpage`), or not (None: the walk ends with its live page; `lost`: the script
        failed for good, so the walk is not complete, and the next crawl walks the archive)."""
        channel.ledger.read(PAGER_SCRIPT, [], set())
        if lost:
            self.unfinished(channel)
        if maxpage is None:
            return self.end(channel)
        channel.maxpage = maxpage
        return self.next_pages(channel, maxpage)

    def repeated(self, channel: Channel, number: int, listed: frozenset[str]) -> bool:
        """An archive page listing what a recent one listed (`Channel.repeats`) ends the walk."""
        if not channel.repeats(listed):
            return False
        self.count("listing/stopped_repeated")
        channel.ledger.read(number, [], set())
        channel.pages_walked += 1
        self.end(channel)
        return True

    def after_archive_page(self, channel: Channel, number: int, verdict: str, days: list[date]) -> list[int]:
        """After an archive page's entries are registered: jump to where a stopped crawl left the walk, go on with a
        wider window, or end."""
        if verdict == KNOWN and self.resumable(channel):
            resume_at, channel.resume_at = channel.resume_at, None
            return self.next_pages(channel, resume_at)
        if verdict == GO_ON or (verdict == KNOWN and not self.stops_at_known(channel, number)):
            channel.window = min(2 * channel.window, pages_before_cutoff(days, self.cutoff(channel), self.lookahead))
            return self.next_pages(channel, channel.last_requested + channel.step)
        return self.end(channel, stopped=verdict)

    def lost(self, channel: Channel, number: int, gone: bool = False) -> list[int]:
        """An archive page that failed for good or could not be read: its slot in the window is free again, and the
        walk goes on past it, as past an empty page (it says nothing about dates), but not forever. A walk ended so
        is unfinished, unless the page is `gone` (404: the site's state, not a loss)."""
        channel.ledger.read(number, [], set())
        channel.pages_walked += 1
        if self.past_empty_page(channel):
            return self.next_pages(channel, channel.last_requested + channel.step)
        if not gone:
            self.unfinished(channel)
        return self.end(channel)

    def unfinished(self, channel: Channel) -> None:
        """The walk ends for pages lost, not at the archive's end or the cutoff: what lies beyond is unknown. It is
        saved as not complete and its watermark stays, so the next crawl walks it again (`Channel.progress`)."""
        if not channel.unfinished:
            channel.unfinished = True
            self.count("walk/unfinished")

    def past_empty_page(self, channel: Channel) -> bool:
        if channel.past_empty_page(self.max_empty_pages):
            return True
        self.count("listing/stopped_empty")
        return False

    def stops_at_known(self, channel: Channel, number: int) -> bool:
        stops = channel.stops_at_known(number)
        if stops:
            self.count("listing/stopped_known")
        return stops

    def resumable(self, channel: Channel) -> bool:
        """The walk met stored articles, and an earlier run stopped further down: it jumps there."""
        if not channel.can_resume():
            return False
        self.count("walk/resumed")
        logger.info("%s: resuming the walk at archive page %d", channel.url, channel.resume_at)
        channel.window = 1
        return True

    def next_pages(self, channel: Channel, start: int) -> list[int]:
        """Archive pages from `start` on (`Channel.next_pages`). The window of pages in flight opens like TCP's slow
        start, one page, then 2, 4 … up to the look-ahead, and never past the pages the dates predict before the
        cutoff: a long walk hides its latency, a walk that stops early reads a page or two past the stop. While the
        scheduler is full the walk is parked: its next page waits in the queue behind the articles it listed
        (`Channel.parked_at`, requested at the lowest priority), and the walk goes on when that page is read. So
        memory does not grow with the archive, and a parked walk is a request like any other: in the shared queue of
        a distributed crawl, where a peer goes on with it if this process stops (no process holds it)."""
        numbers, why = channel.next_pages(start, self.max_pages, self.queue_full)
        if why == PARKED:
            self.count("walk/parked")
        elif why == ENDED:
            self.end(channel)
        return numbers

    def end(self, channel: Channel, stopped: str = GO_ON) -> list[int]:
        """No more pages will be requested for this walk (none: the empty list). `stopped`: the verdict of the page
        it ended at (STOP: its cutoff; KNOWN: stored pages); else it reached the archive's end (`Channel.coverage`)."""
        if not channel.exhausted:
            if channel.cut_short:
                self.count("listing/stopped_max_pages")
            channel.stopped = {STOP: "cutoff", KNOWN: "known"}.get(stopped)
            channel.exhausted = True
            channel.resume_at = None  # not reached: what lies beyond is older than wanted, or not there
            self.save_progress(channel)
        elif channel.ledger.idle:  # the pages in flight when it ended are read (no article waits): now complete
            self.save_progress(channel)
        return []

    # ---------------------------------------------------------------------------------- progress

    def settled(self, channels: list[Channel], cms_id: str) -> None:
        """An article these walks listed is settled: their pages that waited for it may now be done."""
        for channel in channels:
            if channel.ledger.settle(cms_id) or (channel.exhausted and channel.ledger.idle):
                self.save_progress(channel)

    def save_progress(self, channel: Channel, begun: bool = False) -> None:
        """The walk's progress (`Channel.progress`), saved as it goes. A resume point of an earlier run stays until
        the walk reaches it. A staged walk saves no beginning: nothing staged counts before the crawl finishes."""
        if self.save is None or (channel.resume_at and not begun) or (begun and self.staged):
            return
        walk = channel.progress(begun)
        if walk is not None:
            self.save(channel.key, channel.as_record(channel.key), walk)

    def frontier(self, discovering: bool) -> date | None:
        """Articles newer than this day are listed by every walk that could list them (`date.min`: no walk is left,
        all are); None while a walk has not listed a dated page yet, or discovery may still find channels."""
        if discovering:
            return None
        newest = date.min
        for channel in self.channels.values():
            if self.walking(channel):
                frontier = channel.ledger.frontier
                if frontier is None:
                    return None
                newest = max(newest, frontier)
        return newest

    def unfound(self, days: int, found: set[str]) -> list[str]:
        """The names of the stored channels that a crawl of the last `days` days found, and this one did not (it
        found the channels keyed `found`)."""
        after = (datetime.now(UTC) - timedelta(days=days)).isoformat()
        return sorted(
            state.get("name") or key
            for key, state in self.states.items()
            if key not in found and (state.get("found_at") or "") >= after
        )

    def records(self) -> list[dict[str, Any]]:
        """The channels as stored in the `channels` collection (watermark = newest publish day seen). A watermark
        moves only with the coverage of a walk that reached it (a later crawl would read one week behind it, down to
        nothing the walk listed): a staged walk's moves with its progress (`Store.promote_walks`). This process's
        copy of a distributed walk has seen its live page, while its pages went on in copies held by any process: what
        the walk learnt (the archive's size, its numbering) is staged by the copy that ended it."""
        found_at = datetime.now(UTC).isoformat()
        records = [{**channel.as_record(key), "found_at": found_at} for key, channel in self.channels.items()]
        if not self.staged:
            return records
        return [{**self.live_page_fields(record), "newest_seen": None} for record in records]

    @staticmethod
    def live_page_fields(record: dict[str, Any]) -> dict[str, Any]:
        return {name: value for name, value in record.items() if name not in ("maxpage", "numbering")}
