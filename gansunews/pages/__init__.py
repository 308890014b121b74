"""Page objects: pure functions of a page's raw bytes, URL and headers. No settings, no I/O, no requests."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from urllib.parse import urljoin

from parsel import Selector
from w3lib.encoding import html_body_declared_encoding, http_content_type_encoding, resolve_encoding

from gansunews.urls import article_match, strip_query

FALLBACK_ENCODING = "gb18030"  # superset of GBK and GB2312, which sister sites of this CMS serve


class PageError(ValueError):
    """A page that cannot be read as the kind of page it was fetched as."""


def decode_html(body: bytes, content_type: str | None) -> tuple[str, str]:
    """(text, encoding): charset from the HTTP header, then `<meta>`, then UTF-8 if valid, else gb18030."""
    declared = http_content_type_encoding(content_type) or html_body_declared_encoding(body)
    candidates = [resolve_encoding(declared)] if declared and resolve_encoding(declared) else []
    candidates += ["utf-8", FALLBACK_ENCODING]
    for encoding in candidates:
        try:
            return body.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            continue
    return body.decode(FALLBACK_ENCODING, errors="replace"), FALLBACK_ENCODING


@dataclass
class HtmlPage:
    """A fetched HTML page: its URL and a selector over its decoded text."""

    url: str
    selector: Selector
    encoding: str

    @classmethod
    def from_bytes(cls, url: str, body: bytes, headers: Mapping[str, str] | None = None) -> HtmlPage:
        content_type = _header(headers or {}, "content-type")
        text, encoding = decode_html(body, content_type)
        if not text.strip():
            raise PageError(f"empty page {url}")
        return cls(url=url, selector=Selector(text=text, base_url=url), encoding=encoding)

    @classmethod
    def from_response(cls, response) -> HtmlPage:
        return cls.from_bytes(response.url, response.body, {"content-type": content_type(response)})

    def absolute(self, href: str | None) -> str | None:
        href = (href or "").strip()
        if not href or href.startswith(("javascript:", "#", "mailto:")):
            return None
        return urljoin(self.url, href)

    @property
    def title(self) -> str:
        return self.selector.xpath("normalize-space(//title)").get() or ""

    def breadcrumb(self) -> list[str]:
        """`中国甘肃网 >> 甘肃新闻 >> 市州播报 >> 庆阳` as names, whatever the separators (`>>`, `>`, `»`, `→`, `/`,
        images) and whatever the root is called (中国甘肃网, 首页, 网站首页: stored as 中国甘肃网, so that one
        archive has one form). Read once: discovery asks several times."""
        return self._breadcrumb

    @cached_property
    def _breadcrumb(self) -> list[str]:
        roots = " or ".join(f"normalize-space()='{root}'" for root in CRUMB_ROOTS)
        holders = self.selector.xpath(f"//*[a[{roots}]]")
        if not holders:
            return []
        # a source link may also read 中国甘肃网, a nav bar 首页: the breadcrumb says 位置, or is separated
        holder = next((h for h in holders if _HERE.search(h.xpath("string()").get() or "")), None)
        holder = holder or next((h for h in holders if _CRUMB_MARK.search(h.xpath("string()").get() or "")), None)
        holder = holder or next((h for h in holders if h.xpath("./img") and len(h.xpath("./a")) > 1), None)
        if holder is None:
            return []
        names = [
            name
            for part in holder.xpath(".//a | .//text()[not(parent::a)]")
            for name in _SEPARATORS.split(_node_text(part))
        ]
        names = [n.strip(" :：") for n in names if n.strip(" :：")]
        start = next((i for i, name in enumerate(names) if name in CRUMB_ROOTS), None)
        if start is None:
            return names
        return [SITE_NAME, *names[start + 1 :]]


CRUMB_ROOTS = ("中国甘肃网", "首页", "网站首页")
SITE_NAME = CRUMB_ROOTS[0]
_SEPARATORS = re.compile(r"\s*(?:>>|>|»|›|→|&gt;|/)\s*")
_CRUMB_MARK = re.compile(r">|›|»|→")  # what tells a breadcrumb from a source link or a nav bar
_HERE = re.compile(r"(?:您(?:当前)?的?|当前)位置\s*[:：]?")


def raw_page(url: str, status: int, content_type: str, body: bytes) -> dict:
    """A fetched page as the archive keeps it: its bytes (compressed when written: `Store.save_pages`) with what
    decoding them needs. `_id` is the URL without query; `part` is 1 for an article's first page, N for its
    `_N`/`_0N` continuation."""
    url = strip_query(url)
    match = article_match(url)
    return {
        "_id": url,
        "article_id": match["id"] if match else None,
        "part": int(match["part"] or 1) if match else 1,
        "status": status,
        "content_type": content_type,
        "fetched_at": datetime.now(UTC).isoformat(),
        "body": body,
    }


def content_type(response) -> str:
    """A Scrapy response's Content-Type header as text ('' when absent)."""
    return (response.headers.get("Content-Type") or b"").decode("latin-1")


def _node_text(node: Selector) -> str:
    text = node.root if isinstance(node.root, str) else node.xpath("normalize-space()").get()
    return _HERE.sub("", text or "").strip()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None
