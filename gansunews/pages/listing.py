"""ListingPage: the Enorth channel list — article entries with dates, navigation links, the count-JS pager."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property

from lxml import html as lxml_html

from gansunews.pages import HtmlPage
from gansunews.pages.scripts import WRITES_HTML, target_id, written_html
from gansunews.text import parse_listing_date, squash
from gansunews.urls import Pager, article_id, article_match, article_url_date, is_site_url, strip_query

# The number must end before the text does: a script cut short mid-number (`maxpage = 1` of `12`) tells nothing
_MAXPAGE = re.compile(r"\bmaxpage\s*=\s*['\"]?(\d+)(?=\D)")
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


# Elements that hold one list entry, nearest first; a table cell is never one (its date sits in the next cell).
_ITEM_TAGS = ("li", "tr", "dd", "dt", "p", "h2", "h3", "h4", "div")
_PAGER_SCRIPT = "count_page_list_"
# A date beside an entry: 2024-03-05, 2024/03/05, 2024.03.05, 2024年3月5日, 03-05, 3月5日, with a time, in brackets.
_ENTRY_DATE = re.compile(
    r"[\[(（【]?\s*(?:(?:19|20)\d{2}\s*[-/.年]\s*)?\d{1,2}\s*[-/.月]\s*\d{1,2}(?:\s*日)?"
    r"(?:\s+\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?\s*[\])）】]?"
)


def date_form(raw: str) -> str:
    """The shape of a listed date, for the survey: `[2024-03-05]` → `[YYYY-MM-DD]`, '' → `none`."""
    if not raw:
        return "none"
    shape = re.sub(r"(?<!\d)\d{4}(?!\d)", "YYYY", raw)
    return re.sub(r"\d{1,2}", "NN", shape)


class ListingPage(HtmlPage):
    """A channel's live page (`index.shtml`) or one of its archive pages. The list is found by what it holds,
    article links, wherever it is: `#content ul li` (SITE.md), else the block around the pager script, else the
    block with the most article links; `found_by` says which."""

    @cached_property
    def _list(self) -> tuple[list, str]:
        """(entry elements, how the list was found)."""
        known = self._tree.xpath('//*[@id="content"]/ul/li') or self._tree.xpath('//*[@id="content"]//li[a]')
        if any(self._article_anchors(item) for item in known):
            return known, "content_id"
        groups: dict = {}  # container → its entry elements, in document order
        for anchor in self._article_anchors(self._tree):
            item = _entry_element(anchor)
            if len({article_id(self._article_urls[a]) for a in self._article_anchors(item)}) > 1:
                item = anchor  # bare links in one block (`<a>…</a> 03-05<br>`): each link is an entry
            groups.setdefault(item.getparent(), {})[item] = None
        if not groups:
            return [], "none"
        script = next(iter(self._tree.xpath(f"//script[contains(@src,'{_PAGER_SCRIPT}')]")), None)
        if script is not None:  # SITE.md: the script sits in the list's block; a sidebar's links are not entries
            block = script.getparent()
            with_pager = [c for c in groups if c is block or block in c.iterancestors()]
            if not with_pager:
                return [], "pager_script"
            main = with_pager[0]
        else:
            # lists show dates beside their entries, "hot" sidebars seldom do: dated entries first, then size
            main = max(groups, key=lambda c: (sum(map(_dated, groups[c])), len(groups[c])))
        # Enorth splits a list into blocks of five (`<ul>…</ul><ul>…</ul>`): sibling blocks belong to it
        blocks = [c for c in groups if c is main or c.getparent() is main.getparent()]
        items = [item for block in blocks for item in groups[block]]
        return items, "pager_script" if script is not None else "most_links"

    @cached_property
    def _tree(self):
        """The page as served; or, when that would go to the browser and its inline scripts write article links
        held in their own text, the page as a browser would show it (their HTML put in place, see `scripts.py`).
        The selector keeps the page as served."""
        drawn = self._drawn_by_scripts()
        if not drawn or not _AsServed(self.url, self.selector, self.encoding).needs_browser:
            return self.selector.root
        tree = copy.deepcopy(self.selector.root)
        for served, element in zip(self.selector.root.iter(), tree.iter(), strict=True):  # the copy's own scripts
            if served in drawn:
                _put(drawn[served], element, tree)
        return tree

    def _drawn_by_scripts(self) -> dict:
        """{inline script: the HTML it writes, parsed} for the scripts whose HTML links to an article."""
        drawn = {}
        for script in self.selector.root.iter("script"):
            html = "" if script.get("src") else written_html(script.text or "")
            if "<a" in html.lower():
                fragment = lxml_html.fragment_fromstring(html, create_parent="div")
                if any(article_match(strip_query(self.absolute(a.get("href")) or "")) for a in fragment.iter("a")):
                    drawn[script] = fragment
        return drawn

    @property
    def drawn_by_script(self) -> bool:
        """The entries were read from HTML an inline script writes, not from the served markup."""
        return self._tree is not self.selector.root

    @cached_property
    def _article_urls(self) -> dict:
        """Every anchor that links to an article, with its absolute URL: resolved once per page."""
        urls = {}
        for anchor in self._tree.iter("a"):
            url = self.absolute(anchor.get("href")) or ""
            if article_match(strip_query(url)):
                urls[anchor] = url
        return urls

    def _article_anchors(self, element) -> list:
        return [a for a in element.iter("a") if a in self._article_urls]

    @property
    def found_by(self) -> str:
        """How the list was found: `content_id`, `pager_script`, `most_links`, or `none`."""
        return self._list[1]

    @property
    def has_container(self) -> bool:
        """A list container as SITE.md describes it (`#content`), or the pager script's block."""
        return bool(self._tree.xpath('//*[@id="content"]')) or self.pager() is not None

    @property
    def needs_browser(self) -> bool:
        """The list may be drawn by JavaScript: no entries in the HTML but a list container and a script that may
        draw it, or inline scripts that write into the page and nothing better than an undated block of links (a
        sidebar, most likely)."""
        items, found_by = self._list
        if not items:
            return (self.has_container and self._has_scripts) or self._draws_with_script
        return found_by == "most_links" and not any(map(_dated, items)) and self._draws_with_script

    @cached_property
    def _has_scripts(self) -> bool:
        """Any script besides the count-JS pager (which writes only page numbers): without one, a browser would
        show the page as served. An empty archive page past a channel's oldest entries is such a page."""
        for script in self._tree.iter("script"):
            src = script.get("src")
            if (src and _PAGER_SCRIPT not in src) or (not src and (script.text or "").strip()):
                return True
        return bool(self._tree.xpath("//@*[starts-with(name(), 'on')]"))  # onload="…" and the like

    @cached_property
    def _draws_with_script(self) -> bool:
        return bool(WRITES_HTML.search(" ".join(self._tree.xpath("//script[not(@src)]/text()"))))

    @property
    def is_listing(self) -> bool:
        """A page with article entries, a pager, or a container waiting for its script."""
        return bool(self._list[0]) or self.has_container

    def entries(self) -> list[Entry]:
        return self._entries

    def article_entries(self) -> list[Entry]:
        """The entries that link to articles (a list may also hold topics, ads, off-site links)."""
        return [entry for entry in self._entries if article_match(strip_query(entry.url))]

    def days(self) -> list[date]:
        """The entries' publish days (as listed, else from their URLs)."""
        return [entry.day for entry in self._entries if entry.day]

    @cached_property
    def _entries(self) -> list[Entry]:  # parsed once: the spider reads a page's entries more than once
        found = []
        for item in self._list[0]:
            anchors = self._article_anchors(item) or [a for a in item.iter("a") if self.absolute(a.get("href"))]
            if not anchors:
                continue
            url = self._article_urls.get(anchors[0]) or self.absolute(anchors[0].get("href")) or ""
            title = squash(max((a.text_content() for a in anchors), key=len)) or squash(anchors[0].get("title"))
            date_raw = _date_beside(item)
            url_date = article_url_date(url)
            found.append(
                Entry(
                    url=url,
                    title=title,
                    date_raw=date_raw,
                    date=parse_listing_date(date_raw, url_date.year if url_date else None),
                )
            )
        return found

    def pager(self) -> Pager | None:
        """The count-JS pager from the script's src (codes and base path are never assumed)."""
        return self._pager

    @cached_property
    def _pager(self) -> Pager | None:
        inline = parse_maxpage(" ".join(self.selector.xpath("//script[not(@src)]/text()").getall()))
        for src in self.selector.xpath("//script/@src").getall():
            pager = Pager.from_script_src(self.absolute(src) or "", inline, _reference(src))
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


class _AsServed(ListingPage):
    """The page as served, its scripts not read: whether it needs them at all."""

    @cached_property
    def _tree(self):
        return self.selector.root


def _date_beside(item) -> str:
    """The date an entry element shows beside its links, as written ('' when none). A bare link's is its tail."""
    text = squash(item.tail if item.tag == "a" else item.text_content())
    for anchor in item.iter("a"):
        if label := squash(anchor.text_content()):
            text = text.replace(label, " ", 1)
    match = _ENTRY_DATE.search(text)
    return squash(match.group()) if match else ""


def _dated(item) -> bool:
    return bool(_date_beside(item))


def _entry_element(anchor):
    """The element that holds one entry: the anchor's nearest entry-like ancestor (the anchor itself if none)."""
    for ancestor in anchor.iterancestors():
        if ancestor.tag in _ITEM_TAGS:
            return ancestor
        if ancestor.tag in ("body", "html"):
            break
    return anchor


def _put(fragment, script, tree) -> None:
    """A script's HTML where a browser would show it: inside the element whose innerHTML it sets, else in its
    own place (`document.write`)."""
    name = target_id(script.text or "")
    target = next(iter(tree.xpath("//*[@id=$name]", name=name)), None) if name else None
    children = list(fragment)
    if target is not None:
        target[:] = children
    else:
        for child in children:
            script.addprevious(child)


def _reference(src: str) -> str:
    """How a page referenced a script: `absolute` (with a host), `root` (`/system/…`) or `relative`."""
    src = src.strip().lower()
    return (
        "absolute" if src.startswith(("http://", "https://", "//")) else "root" if src.startswith("/") else "relative"
    )
