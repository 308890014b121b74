"""ListingPage: the Enorth channel list — article entries with dates, navigation links, the count-JS pager."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

from gansunews.pages import HtmlPage
from gansunews.text import parse_listing_date, squash
from gansunews.urls import Pager, article_url_date, is_site_url

_MAXPAGE = re.compile(r"\bmaxpage\s*=\s*['\"]?(\d+)")
_NOT_CHANNEL = re.compile(r"\.(?:jpg|jpeg|png|gif|pdf|doc|docx|xls|zip|rar|mp4|js|css)$|/cms_udf/|/system/\d{4}/", re.I)


@dataclass(frozen=True)
class Entry:
    """One list item: the link, its text and the date shown beside it (None when absent or unreadable)."""

    url: str
    title: str
    date_raw: str
    date: datetime | None

    @property
    def day(self) -> date | None:
        """The publish day: the listed date, else the one in the article URL."""
        return self.date.date() if self.date else article_url_date(self.url)


@dataclass(frozen=True)
class Link:
    url: str
    text: str


def parse_maxpage(script: str) -> int | None:
    """`var maxpage = N;` → N; None when absent or not a positive number."""
    match = _MAXPAGE.search(script or "")
    value = int(match.group(1)) if match else 0
    return value if value > 0 else None


class ListingPage(HtmlPage):
    """A channel's live page (`index.shtml`) or one of its archive pages."""

    @cached_property
    def _items(self):
        items = self.selector.xpath('//*[@id="content"]/ul/li')
        return items or self.selector.xpath('//*[@id="content"]//li[a]')

    @property
    def has_container(self) -> bool:
        return bool(self.selector.xpath('//*[@id="content"]'))

    @property
    def needs_browser(self) -> bool:
        """A list container with no items in the HTML: the list is drawn by JavaScript."""
        return self.has_container and not self._items

    def entries(self) -> list[Entry]:
        return self._entries

    @cached_property
    def _entries(self) -> list[Entry]:  # parsed once: the spider reads a page's entries more than once
        found = []
        for item in self._items:
            url = self.absolute(item.xpath(".//a/@href").get())
            if not url:
                continue
            date_raw = squash(" ".join(item.xpath(".//span//text() | .//em//text()").getall()))
            url_date = article_url_date(url)
            found.append(
                Entry(
                    url=url,
                    title=squash(item.xpath("normalize-space(.//a)").get()),
                    date_raw=date_raw,
                    date=parse_listing_date(date_raw, url_date.year if url_date else None),
                )
            )
        return found

    def pager(self) -> Pager | None:
        """The count-JS pager from the script's src (codes and base path are never assumed)."""
        inline = parse_maxpage(" ".join(self.selector.xpath("//script[not(@src)]/text()").getall()))
        for src in self.selector.xpath("//script/@src").getall():
            pager = Pager.from_script_src(self.absolute(src) or "", inline)
            if pager:
                return pager
        return None

    def links(self) -> list[Link]:
        """Site links that may lead to channels (not articles, topics, files or scripts), first mention wins."""
        seen: dict[str, Link] = {}
        for anchor in self.selector.xpath("//a[@href]"):
            url = self.absolute(anchor.xpath("@href").get())
            if url and is_site_url(url) and not _NOT_CHANNEL.search(url.split("?")[0]):
                text = squash(anchor.xpath("normalize-space()").get()) or squash(anchor.xpath("@title").get())
                if text and url not in seen:
                    seen[url] = Link(url=url, text=text)
        return list(seen.values())
