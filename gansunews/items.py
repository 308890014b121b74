"""Items: what page objects extract (`RawArticle`) and what users get (`Article`, DESIGN.md's data contract)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class RawArticle:
    """Fields as the page shows them, before cleaning; one per article, continuation pages already joined."""

    url: str
    """The URL of the first page as fetched (query string removed)."""
    article_id: str
    """The 9-digit CMS id from the URL."""
    template: str
    """Which extractor produced the fields: `A`, `B`, `C`, `meta` (metadata tags only) or `generic`."""
    title: str | None = None
    published_at_raw: str | None = None
    date_from: str = "page"
    """Where the date was read: `page` (the template's date line), `meta` (metadata tags) or `url` (the date path,
    day precision; `published_at_raw` is then that path)."""
    source: str | None = None
    editor: str | None = None
    original_title: str | None = None
    authors: list[str] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)
    """Body lines without furniture, pager or lead lines."""
    content_html: str = ""
    """The kept body blocks as sanitised HTML."""
    images: list[dict[str, str | None]] = field(default_factory=list)
    breadcrumb: list[str] = field(default_factory=list)
    column_name: str | None = None
    """`ColumnName` metadata tag, when the page has one."""
    page_count: int = 1
    channels: list[dict[str, Any]] = field(default_factory=list)
    """Every channel whose listing named this article: `{name, url, region_code}`."""
    status: int | None = None
    """HTTP status of the first page."""
    pages: list[dict[str, Any]] = field(default_factory=list)
    """The pages as fetched (`pages.raw_page`), for the archive's `pages` collection: PagesPipeline takes them off
    the item before it is cleaned, so they never reach a feed."""
    simhash: str = ""
    minhash: str = ""
    """The body's fingerprints (`Article`'s fields), when the page reader computed them: a one-page article's body
    is final when its page is read, and a worker process computes them off the crawl's event loop. Else (and once
    a continuation page joins) DedupePipeline computes them."""

    def join(self, body: Any) -> None:
        """Append a continuation page's body (`pages.article.Body`): the crawl and `reparse` join pages alike."""
        self.simhash = self.minhash = ""  # of the first page's body only
        self.paragraphs += body.paragraphs
        self.content_html += "\n" + body.html
        self.images += [image for image in body.images if image not in self.images]
        self.page_count += 1


@dataclass
class Article:
    """One article in the data contract of DESIGN.md; MongoDB stores the same document with `_id` = article_id."""

    article_id: str
    """The 9-digit CMS id from the URL, e.g. `"012429584"`."""
    url: str
    """Canonical URL: `https://<host>/<path>`, no query, no `_NN` continuation suffix."""
    title: str
    original_title: str | None
    """`原标题` when the body names one."""
    published_at: str
    """ISO 8601 with `+08:00`."""
    published_at_raw: str
    """The text the date was read from."""
    source: str | None
    """来源."""
    editor: str | None
    """编辑 / 责任编辑."""
    authors: list[str]
    """People named in lead lines (记者, 通讯员, 本网记者 …)."""
    content_text: str
    """Body paragraphs joined by `\\n`; no boilerplate, lead/author lines or pager text."""
    content_html: str
    """The body as sanitised HTML (no script/style/iframe/event attributes), absolute URLs."""
    images: list[dict[str, str | None]]
    """`{url, caption}` with absolute URLs."""
    page_count: int
    breadcrumb: list[str]
    channels: list[dict[str, Any]]
    """`{name, url, region_code}` for every channel listing that named the article."""
    regions: list[dict[str, str]] = field(default_factory=list)
    """`{code, name, level, via}`; via `channel`/`breadcrumb`/`text`; `implied_by` when a county implies it."""
    template: str = "generic"
    content_hash: str = ""
    """SHA-1 of the normalised body text: exact duplicates."""
    simhash: str = ""
    """64-bit SimHash of the body's character 4-grams, 16 hex digits (for Hamming-distance comparisons)."""
    minhash: str = ""
    """MinHash signature near-duplicate detection compares: `m1:` + base64 of 64 little-endian uint32."""
    duplicate_of: str | None = None
    """`article_id` of the earliest-published article this one reposts."""
    crawl: dict[str, Any] = field(default_factory=dict)
    """`crawl_id`, `job_id`, `spider`, `crawled_at`, `first_seen`, `last_seen`, `status`."""
