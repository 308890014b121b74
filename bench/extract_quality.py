"""How well the generic path reads pages of other sites: main text, publish day, author or source.

    python -m bench.extract_quality [--devset DIR]

On `zh-news-devset` (57 Chinese article pages with their main text labelled; the day, the authors and the
source labelled by us, by reading each page: tests/fixtures/devset_labels.json) it prints, for the project's
extractor (`python -m gansunews extract`), trafilatura and htmldate on the same pages:
- content F1: character-level F1 over non-whitespace characters (multisets), averaged over pages;
- publish day: right on the share of the pages that show one (a page showing none is left out);
- author or source: right on the share of the pages that name either, when one named author or the source is
  found (spaces and `~` ignored; a source that contains the label or is contained in it counts).
The tests hold the project's floor on these numbers (tests/test_extract_quality.py).
"""

from __future__ import annotations

import argparse
import json
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
LABELS = PROJECT / "tests/fixtures/devset_labels.json"
DEVSET_PLACES = (PROJECT.parent / "shared/data/zh-news-devset", Path("/work/shared/data/zh-news-devset"))


def devset_dir() -> Path | None:
    """`GANSUNEWS_DEVSET`, else the shared data beside the project; None when neither holds the pages."""
    places = [Path(os.environ["GANSUNEWS_DEVSET"])] if os.environ.get("GANSUNEWS_DEVSET") else list(DEVSET_PLACES)
    return next((place for place in places if (place / "labels.json").exists()), None)


@dataclass
class Page:
    key: str
    url: str
    html: bytes
    content: str
    day: str | None
    authors: list[str]
    source: str | None


@dataclass
class Reading:
    """What an extractor read from one page (None where it does not read that field)."""

    content: str | None = None
    day: str | None = None
    authors: list[str] | None = None
    source: str | None = None


def load(devset: Path) -> list[Page]:
    texts = json.loads((devset / "labels.json").read_text(encoding="utf-8"))
    labels = json.loads(LABELS.read_text(encoding="utf-8"))
    return [
        Page(
            key,
            label["url"],
            (devset / "pages" / f"{key}.html").read_bytes(),
            texts[key]["content"],
            label["day"],
            label["authors"],
            label["source"],
        )
        for key, label in sorted(labels.items())
    ]


def content_f1(found: str, expected: str) -> float:
    found_chars, expected_chars = Counter(re.sub(r"\s", "", found)), Counter(re.sub(r"\s", "", expected))
    common = sum((found_chars & expected_chars).values())
    if not common:
        return 0.0
    precision, recall = common / sum(found_chars.values()), common / sum(expected_chars.values())
    return 2 * precision * recall / (precision + recall)


def _plain(name: str) -> str:
    return re.sub(r"[\s~～]", "", name)


def names_right(reading: Reading, page: Page) -> bool:
    authors = {_plain(a) for a in reading.authors or []}
    if any(_plain(a) in authors for a in page.authors):
        return True
    found, label = _plain(reading.source or ""), _plain(page.source or "")
    return bool(found and label and (label in found or found in label))


@dataclass
class Scores:
    content: float | None
    day: float | None
    names: float | None
    wrong_days: list[str]
    missed_names: list[str]


def score(pages: list[Page], read: Callable[[Page], Reading]) -> Scores:
    readings = [(page, read(page)) for page in pages]
    f1s = [content_f1(r.content or "", p.content) for p, r in readings if r.content is not None]
    dated = [(p, r) for p, r in readings if p.day]
    wrong_days = [f"{p.url} {r.day} ≠ {p.day}" for p, r in dated if r.day != p.day]
    named = [(p, r) for p, r in readings if (p.authors or p.source) and r.authors is not None]
    missed = [f"{p.url} {r.authors} {r.source} ≠ {p.authors} {p.source}" for p, r in named if not names_right(r, p)]
    return Scores(
        content=sum(f1s) / len(f1s) if f1s else None,
        day=1 - len(wrong_days) / len(dated) if dated else None,
        names=1 - len(missed) / len(named) if named else None,
        wrong_days=wrong_days,
        missed_names=missed,
    )


def read_project(page: Page) -> Reading:
    from gansunews.pages import PageError
    from gansunews.pages.article import ArticlePage
    from gansunews.pipelines.clean import clean_article

    try:
        article = clean_article(ArticlePage.from_bytes(page.url, page.html).article(require_cms_id=False))
    except PageError:
        return Reading(content="", day=None, authors=[], source=None)
    day = article.published_at[:10] if article.published_at else None
    return Reading(article.content_text, day, article.authors, article.source)


def read_trafilatura(page: Page) -> Reading:
    import trafilatura

    from gansunews.pages import decode_html

    document = trafilatura.bare_extraction(decode_html(page.html, None)[0], url=page.url, with_metadata=True)
    if document is None:
        return Reading(content="", day=None, authors=[], source=None)
    authors = [document.author] if document.author else []
    return Reading(document.text or "", document.date, authors, document.sitename)


def read_htmldate(page: Page) -> Reading:
    import htmldate

    from gansunews.pages import decode_html

    return Reading(day=htmldate.find_date(decode_html(page.html, None)[0], url=page.url, original_date=True))


EXTRACTORS = {"gansunews": read_project, "trafilatura": read_trafilatura, "htmldate": read_htmldate}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--devset", type=Path, help="the devset directory (default: GANSUNEWS_DEVSET, ../shared)")
    parser.add_argument("--misses", action="store_true", help="list the pages each extractor got wrong")
    options = parser.parse_args()
    devset = options.devset or devset_dir()
    if devset is None:
        parser.error("zh-news-devset not found: pass --devset or set GANSUNEWS_DEVSET")
    pages = load(devset)
    dated, named = sum(1 for p in pages if p.day), sum(1 for p in pages if p.authors or p.source)
    print(f"{len(pages)} pages; {dated} show a day, {named} name an author or source")
    for name, read in EXTRACTORS.items():
        scores = score(pages, read)
        figures = [
            f"{label} {value:.3f}" if value is not None else f"{label} —"
            for label, value in (("content F1", scores.content), ("day", scores.day), ("author/source", scores.names))
        ]
        print(f"{name:12s} " + "   ".join(figures))
        if options.misses:
            for line in scores.wrong_days + scores.missed_names:
                print("    ", line)


if __name__ == "__main__":
    main()
