"""Crawl report from MongoDB: Markdown plus a PNG chart.

    python -m gansunews report [--last | --crawl-id ID] [--out DIR] [--uri URI] [--database NAME]

Articles per 市州 and 县区, the newest article per region, freshness (crawled − published), field coverage,
failures by reason, and a comparison with the previous run.
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from gansunews.regions import COUNTY, PREFECTURE

COVERAGE_FIELDS = ("source", "editor", "authors", "images", "regions", "original_title")
COMPARED_STATS = (
    "item_scraped_count",
    "downloader/request_count",
    "gansunews/discovery/channels",
    "gansunews/listing/entries",
    "item_dropped_count",
)


@dataclass
class Report:
    crawl: dict[str, Any]
    previous: dict[str, Any] | None
    articles: list[dict[str, Any]]
    failures: Counter = field(default_factory=Counter)

    def per_region(self, level: str) -> Counter:
        return Counter(r["name"] for a in self.articles for r in a.get("regions", []) if r["level"] == level)

    def newest(self) -> dict[str, dict[str, Any]]:
        newest: dict[str, dict[str, Any]] = {}
        for article in self.articles:
            for region in article.get("regions", []):
                if region["level"] in (PREFECTURE, COUNTY):
                    best = newest.get(region["name"])
                    if best is None or article["published_at"] > best["published_at"]:
                        newest[region["name"]] = article
        return newest

    def freshness_hours(self) -> list[float]:
        hours = []
        for article in self.articles:
            crawled = article.get("crawl", {}).get("crawled_at")
            if crawled and article.get("published_at"):
                delta = datetime.fromisoformat(crawled) - datetime.fromisoformat(article["published_at"])
                hours.append(delta.total_seconds() / 3600)
        return hours

    def coverage(self) -> dict[str, float]:
        total = len(self.articles) or 1
        return {name: sum(1 for a in self.articles if a.get(name)) / total for name in COVERAGE_FIELDS}


def load(db, crawl_id: str | None = None) -> Report:
    crawls = sorted(
        db.crawls.find(
            {},
            {
                "stats": 1,
                "started_at": 1,
                "finished_at": 1,
                "finish_reason": 1,
                "quality": 1,
                "args": 1,
                "job_id": 1,
                "spider": 1,
            },
        ),
        key=lambda doc: doc["started_at"],
    )
    if not crawls:
        raise LookupError("no crawls recorded in this database")
    index = next((i for i, doc in enumerate(crawls) if doc["_id"] == crawl_id), None) if crawl_id else len(crawls) - 1
    if index is None:
        raise LookupError(f"no crawl {crawl_id!r}")
    crawl = crawls[index]
    articles = list(
        db.articles.find(
            {"crawl.crawl_id": crawl["_id"]}, {"content_html": 0, "content_text": 0, "revisions": 0, "minhash": 0}
        )
    )
    failures = Counter(doc["reason"] for doc in db.failures.find({"crawl_id": crawl["_id"]}, {"reason": 1}))
    return Report(crawl, crawls[index - 1] if index > 0 else None, articles, failures)


def markdown(report: Report, chart: str | None) -> str:
    crawl, stats = report.crawl, report.crawl.get("stats", {})
    quality = crawl.get("quality") or {}
    lines = [
        f"# Crawl {crawl['_id']}",
        "",
        f"- spider `{crawl.get('spider')}`, job `{crawl.get('job_id')}`, arguments `{crawl.get('args')}`",
        f"- {crawl.get('started_at')} → {crawl.get('finished_at')}, finish reason `{crawl.get('finish_reason')}`",
        f"- quality: **{quality.get('verdict', 'unknown')}** {'; '.join(quality.get('problems', []))}",
        f"- articles stored by this run: **{len(report.articles)}**",
        "",
    ]
    if chart:
        lines += [f"![articles per region]({chart})", ""]
    for title, level in (("Articles per 市州", PREFECTURE), ("Articles per 县区", COUNTY)):
        lines += [f"## {title}", "", "| region | articles |", "|---|---|"]
        lines += [f"| {name} | {count} |" for name, count in report.per_region(level).most_common()] or ["| — | 0 |"]
        lines.append("")
    lines += ["## Newest article per region", "", "| region | published | title |", "|---|---|---|"]
    lines += [
        f"| {name} | {a['published_at']} | [{a['title']}]({a['url']}) |" for name, a in sorted(report.newest().items())
    ]
    hours = report.freshness_hours()
    lines += ["", "## Freshness (crawled − published)", ""]
    if hours:
        p90 = statistics.quantiles(hours, n=10)[-1] if len(hours) > 1 else hours[0]
        lines += [f"- median {statistics.median(hours):.1f} h, 90th percentile {p90:.1f} h, newest {min(hours):.1f} h"]
    else:
        lines += ["- no articles"]
    lines += ["", "## Field coverage", "", "| field | share of articles |", "|---|---|"]
    lines += [f"| {name} | {share:.0%} |" for name, share in report.coverage().items()]
    lines += ["", "## Failures by reason", "", "| reason | URLs |", "|---|---|"]
    lines += [f"| {reason} | {count} |" for reason, count in report.failures.most_common()] or ["| none | 0 |"]
    lines += ["", "## Compared with the previous run", ""]
    if report.previous:
        before = report.previous.get("stats", {})
        lines += [
            f"Previous run: {report.previous['_id']} ({report.previous.get('started_at')})",
            "",
            "| stat | previous | this run | change |",
            "|---|---|---|---|",
        ]
        for name in COMPARED_STATS:
            old, new = before.get(name, 0), stats.get(name, 0)
            lines.append(f"| {name} | {old} | {new} | {new - old:+} |")
    else:
        lines.append("No earlier run in this database.")
    return "\n".join(lines) + "\n"


def draw_chart(report: Report, path: Path) -> None:
    """Horizontal bars: articles per 市州. Names need a CJK font; without one, division codes are shown."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    cjk = [
        f.name
        for f in font_manager.fontManager.ttflist
        if any(key in f.name for key in ("CJK", "WenQuanYi", "Droid Sans Fallback", "Noto Sans SC"))
    ]
    counts = report.per_region(PREFECTURE).most_common()
    codes = {r["name"]: r["code"] for a in report.articles for r in a.get("regions", [])}
    labels = [name if cjk else codes[name] for name, _ in counts]
    if cjk:
        plt.rcParams["font.family"] = [cjk[0], "DejaVu Sans"]
    figure, axes = plt.subplots(figsize=(8, 0.4 * max(len(counts), 3) + 1.2))
    axes.barh(labels[::-1], [count for _, count in counts][::-1], color="#3b6ea8")
    axes.set_xlabel("articles")
    axes.set_title(f"crawl {report.crawl['_id']}: articles per prefecture")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def write(report: Report, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    chart = out / f"report-{report.crawl['_id']}.png"
    draw_chart(report, chart)
    text = out / f"report-{report.crawl['_id']}.md"
    text.write_text(markdown(report, chart.name), encoding="utf-8")
    return text, chart
