"""The articles one crawl process has requested and not settled yet, and when a read one may leave the spider.

An article is requested when the first listing names it; later listings add their channels to it while it is
pending, and their pages wait for it to settle (stored, dropped or failed: `WalkLedger`). With a feed a read article
is held until every walk has listed past its day (`complete`), so that its one line carries all its channels;
once released, a channel that lists it is merged on write. Ids settled by this run and stored by earlier runs are
kept compactly (`IdSet`) and never requested again. Pure bookkeeping: no requests, no settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING

from gansunews.idset import IdSet
from gansunews.items import RawArticle

if TYPE_CHECKING:
    from gansunews.spiders.walk import Channel

NEW, WAITING, GONE = "new", "waiting", "gone"  # what a listing's entry means for its article (`PendingArticles.list`)


@dataclass(slots=True)
class Listed:
    """An article requested by this process and not settled yet."""

    day: date
    channels: list[dict[str, str]] = field(default_factory=list)
    walks: list[Channel] = field(default_factory=list)  # whose ledgers wait for it
    article: RawArticle | None = None  # read, waiting for every walk to list past `day`
    released: bool = False


def is_complete(day: date, after: date | None) -> bool:
    """An article of `day` can gain no more channels, when the walks have listed everything newer than `after`
    (`date.min`: every walk is over; None: not known yet)."""
    return after is not None and (after == date.min or day > after)


class PendingArticles:
    def __init__(self) -> None:
        self.listed: dict[str, Listed] = {}  # requested by this process, not settled yet
        self.held: dict[str, Listed] = {}  # read, waiting for the walks to list past their day
        self.settled = IdSet()  # ids stored, dropped or failed in this run
        self.known = IdSet()  # ids stored by earlier runs

    def list(self, cms_id: str, day: date | None, channel: Channel, track: bool = True) -> str:
        """A listing of `channel` names the article: NEW (request it), WAITING (requested already: the channel joins
        it, and the listing's page waits for it) or GONE (stored by an earlier run, or settled or released by this
        one: the channel is merged on write). `track=False` (a distributed crawl, where the shared dupefilter
        decides): NEW unless stored, and nothing is noted."""
        listed = self.listed.get(cms_id)
        if listed is None:
            if int(cms_id) in self.known or int(cms_id) in self.settled:
                return GONE
            if track:
                self.listed[cms_id] = Listed(day=day or date.min, channels=[channel.ref], walks=[channel])
            return NEW
        if listed.released:
            return GONE
        if channel.ref not in listed.channels:
            listed.channels.append(channel.ref)
        if channel not in listed.walks:
            listed.walks.append(channel)
        listed.day = max(listed.day, day or date.min)
        return WAITING

    def retry(
        self, cms_id: str, day: date, channels: list[dict[str, str]], track: bool = True, again: bool = False
    ) -> bool:
        """An article that failed in an earlier crawl, requested again (True) unless stored (`again`: stored without
        a page, so fetched again all the same) or requested already; its channels are those that listed it then,
        and listings of this crawl add theirs. `track` as in `list`."""
        if cms_id in self.listed or int(cms_id) in self.settled or (int(cms_id) in self.known and not again):
            return False
        if track:
            self.listed[cms_id] = Listed(day=day, channels=list(channels))
        return True

    def channels_of(self, cms_id: str) -> list[dict[str, str]]:
        """The channels that listed a requested article so far."""
        listed = self.listed.get(cms_id)
        return list(listed.channels) if listed else []

    def hold(self, cms_id: str, raw: RawArticle) -> date | None:
        """A read article, with the channels that listed it, waits for release; returns its day (None: not
        requested by this process, it came with its channels)."""
        listed = self.listed.get(cms_id)
        if listed is None:
            return None
        raw.channels = listed.channels
        listed.article = raw
        self.held[cms_id] = listed
        return listed.day

    def release(self, after: date | None) -> list[RawArticle]:
        """The held articles that are complete (`is_complete`), taken out all at once: the caller may run other
        code that releases between them."""
        return self.released([cms_id for cms_id, listed in self.held.items() if is_complete(listed.day, after)])

    def released(self, ids: list[str]) -> list[RawArticle]:
        articles = []
        for cms_id in ids:
            listed = self.held.pop(cms_id)
            listed.released = True
            articles.append(listed.article)
            listed.article = None
        return articles

    def settle(self, cms_id: str) -> list[Channel]:
        """The article is stored, dropped or failed: the walks whose pages listed it (none if it was not pending)."""
        listed = self.listed.pop(cms_id, None)
        if listed is None:
            return []
        self.held.pop(cms_id, None)
        self.settled.add(int(cms_id))
        return listed.walks
