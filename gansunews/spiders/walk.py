"""A channel's walk: pure decisions about which archive page comes next.

Archive pages are numbered so that page `maxpage` is the newest (SITE.md, seen on several sites of this CMS). That
is an assumption the dates can check: page `maxpage` should hold the entries just older than the live page. When
it holds much older ones, page 1 is fetched to compare, and if page 1 is the newer of the two the numbering falls
with time and the walk goes upwards from page 1 instead.
"""

from __future__ import annotations

import math
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
