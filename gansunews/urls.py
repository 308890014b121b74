"""Pure URL helpers for the Enorth WebPublisher CMS of gscn.com.cn: article ids, canonical URLs, pager pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit, urlunsplit

SITE_DOMAIN = "gscn.com.cn"

# …/system/YYYY/MM/DD/NNNNNNNNN[_NN].shtml, optionally under a directory of the host.
ARTICLE_RE = re.compile(
    r"^/(?:[\w.-]+/)*system/(?P<y>\d{4})/(?P<m>\d{2})/(?P<d>\d{2})/(?P<id>\d{9})(?:_(?P<part>\d{1,2}))?\.shtml$"
)
PAGER_SCRIPT_RE = re.compile(
    r"^(?P<base>.*?)/system/count/+(?P<ch>\d{7})/(?P<sub>\d{12})/count_page_list_(?P=ch)(?P=sub)\.js$"
)
LIVE_PAGE_NAMES = ("index.shtml", "index.html", "index.htm", "")


def is_site_url(url: str) -> bool:
    """True for http(s) URLs on gscn.com.cn or one of its subdomains."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme in ("http", "https") and (host == SITE_DOMAIN or host.endswith("." + SITE_DOMAIN))


def article_match(url: str) -> re.Match[str] | None:
    """The article-path match of a site URL, or None when the URL is not an article page."""
    if not is_site_url(url):
        return None
    return ARTICLE_RE.match(urlsplit(url).path)


def link_kind(url: str) -> str:
    """What a listing's link leads to: "article", or why it is not one ("offsite_link", "topic", "not_article_url")."""
    if article_match(url):
        return "article"
    return "offsite_link" if not is_site_url(url) else "topic" if "/cms_udf/" in url else "not_article_url"


def article_id(url: str) -> str | None:
    """The 9-digit CMS id of an article URL (continuation pages share it)."""
    match = article_match(url)
    return match["id"] if match else None


def article_url_date(url: str) -> date | None:
    """The publish date encoded in an article URL's path."""
    match = article_match(url)
    if not match:
        return None
    try:
        return date(int(match["y"]), int(match["m"]), int(match["d"]))
    except ValueError:
        return None


def canonical_article_url(url: str) -> str:
    """`https://<host>/<path>`: no query, no fragment, no `_NN` continuation suffix."""
    parts = urlsplit(url)
    path = re.sub(r"_\d{1,2}\.shtml$", ".shtml", parts.path)
    return urlunsplit(("https", (parts.hostname or "").lower(), path, "", ""))


def strip_query(url: str) -> str:
    """The URL without query string and fragment (tracking parameters such as `?from=`)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc.lower(), parts.path, "", ""))


def channel_key(url: str) -> str:
    """A channel's identity: host and folder, whichever live page name (`index.shtml`, `/` …) the link used."""
    parts = urlsplit(url)
    folder, _, last = parts.path.rpartition("/")
    path = folder if last.lower() in LIVE_PAGE_NAMES else parts.path
    return f"{(parts.hostname or '').lower()}{path.rstrip('/')}/"


@dataclass(frozen=True)
class Pager:
    """The count-JS pager of a listing: where its archive pages live and how many there are."""

    script_url: str
    base: str
    channel_code: str
    sub_code: str
    maxpage: int | None = None
    """Known only when the page itself sets `maxpage`; otherwise read from the script."""
    reference: str = "root"
    """How the page referenced the script: `absolute`, `root` (`/system/…`) or `relative` (worth counting)."""

    @classmethod
    def from_script_src(cls, src: str, maxpage: int | None = None, reference: str = "root") -> Pager | None:
        """From the script's absolute URL; a cache-busting query (`?v=…`) is kept for the request, not matched."""
        match = PAGER_SCRIPT_RE.match(src.split("?", 1)[0].split("#", 1)[0])
        if not match:
            return None
        return cls(src, match["base"], match["ch"], match["sub"], maxpage=maxpage, reference=reference)

    def page_url(self, number: int) -> str:
        """Archive page N: double slash after `count`, a folder per 1,000 pages, 9-digit padding."""
        if number < 1:
            raise ValueError(f"page numbers start at 1, got {number}")
        codes = f"{self.channel_code}/{self.sub_code}"
        folders = f"{number // 1_000_000:03d}/{number // 1000 % 1000:03d}"
        name = f"c{self.channel_code}{self.sub_code}_{number:09d}.shtml"
        return f"{self.base}/system/count//{codes}/{folders}/{name}"
