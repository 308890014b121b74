"""Crawl report from MongoDB: Markdown, PNG charts and one self-contained HTML page.

    python -m gansunews report [--last | --crawl-id ID] [--out DIR] [--uri URI] [--database NAME]

Articles per 市州 and 县区, a heat-map of the archive's articles per week per 市州, staleness (days since the
archive's newest article per 市州 and 县区), the newest article per region, freshness (crawled − published), field
coverage, failures by reason, and a comparison with the previous run. Everything taken from the site is escaped
in the HTML page.
"""

from __future__ import annotations

import base64
import html
import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from gansunews.regions import COUNTY, PREFECTURE, divisions

HEATMAP_WEEKS = 26

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
    newest_by_region: dict[str, str] = field(default_factory=dict)
    """code → the archive's newest publish time (every stored article, not this run's only)."""
    weekly: Counter = field(default_factory=Counter)
    """(prefecture name, Monday of the week) → the archive's articles."""

    def staleness(self, level: str) -> list[tuple[str, float | None]]:
        """(name, days since the newest article, None when there is none) for every division of the level."""
        now = datetime.fromisoformat(self.crawl.get("finished_at") or self.crawl["started_at"])
        rows = []
        for code, division in divisions().items():
            if division.level != level:
                continue
            newest = self.newest_by_region.get(code)
            days = (now - datetime.fromisoformat(newest)).total_seconds() / 86400 if newest else None
            rows.append((division.name, days))
        return sorted(rows, key=lambda row: (row[1] is None, -(row[1] or 0)))

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
    newest: dict[str, str] = {}
    weekly: Counter = Counter()
    for doc in db.articles.find({}, {"published_at": 1, "regions": 1}):
        published = doc.get("published_at") or ""
        for region in doc.get("regions", []):
            if published > newest.get(region["code"], ""):
                newest[region["code"]] = published
            if region["level"] == PREFECTURE and published:
                day = date.fromisoformat(published[:10])
                weekly[(region["name"], day - timedelta(days=day.weekday()))] += 1
    return Report(crawl, crawls[index - 1] if index > 0 else None, articles, failures, newest, weekly)


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
    for title, level in (
        ("Staleness per 市州 (days since the newest article)", PREFECTURE),
        ("Staleness per 县区", COUNTY),
    ):
        lines += [f"## {title}", "", "| region | days |", "|---|---|"]
        lines += [f"| {name} | {_days(days)} |" for name, days in report.staleness(level)]
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


def _days(days: float | None) -> str:
    return "never" if days is None else f"{days:.1f}"


def _pyplot():
    """matplotlib's pyplot, headless, with a CJK font when one is installed (else labels are division codes)."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager
    from matplotlib import pyplot as plt

    cjk = [
        f.name
        for f in font_manager.fontManager.ttflist
        if any(key in f.name for key in ("CJK", "WenQuanYi", "Droid Sans Fallback", "Noto Sans SC"))
    ]
    if cjk:
        plt.rcParams["font.family"] = [cjk[0], "DejaVu Sans"]
    return plt, bool(cjk)


def _label(name: str, cjk: bool) -> str:
    return name if cjk else next((d.code for d in divisions().values() if d.name == name), name)


def draw_heatmap(report: Report, path: Path) -> None:
    """Articles per week (columns) per 市州 (rows) over the last `HEATMAP_WEEKS` weeks of the archive."""
    plt, cjk = _pyplot()
    names = [d.name for d in divisions().values() if d.level == PREFECTURE]
    last = max((week for _, week in report.weekly), default=date.fromisoformat(report.crawl["started_at"][:10]))
    weeks = [last - timedelta(weeks=n) for n in range(HEATMAP_WEEKS - 1, -1, -1)]  # ending at the newest week
    grid = [[report.weekly.get((name, week), 0) for week in weeks] for name in names]
    figure, axes = plt.subplots(figsize=(10, 5.5))
    image = axes.imshow(grid, aspect="auto", cmap="YlOrRd", vmin=0, vmax=max(1, *(max(row) for row in grid)))
    axes.set_yticks(range(len(names)), [_label(n, cjk) for n in names])
    axes.set_xticks(range(0, len(weeks), 4), [weeks[i].isoformat() for i in range(0, len(weeks), 4)], rotation=30)
    axes.set_title(f"articles per week per prefecture, the archive's last {HEATMAP_WEEKS} weeks")
    figure.colorbar(image, ax=axes, label="articles")
    figure.tight_layout()
    figure.savefig(path, dpi=90)
    plt.close(figure)


def draw_chart(report: Report, path: Path) -> None:
    """Horizontal bars: articles per 市州. Names need a CJK font; without one, division codes are shown."""
    plt, cjk = _pyplot()
    counts = report.per_region(PREFECTURE).most_common()
    labels = [_label(name, cjk) for name, _ in counts]
    figure, axes = plt.subplots(figsize=(8, 0.4 * max(len(counts), 3) + 1.2))
    axes.barh(labels[::-1], [count for _, count in counts][::-1], color="#3b6ea8")
    axes.set_xlabel("articles")
    axes.set_title(f"crawl {report.crawl['_id']}: articles per prefecture")
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


def html_page(report: Report, text: str, images: list[Path]) -> str:
    """One self-contained page: the charts inline (base64), then the report's sections as tables. Everything is
    escaped: titles and names come from the site."""
    inline = {image: base64.b64encode(image.read_bytes()).decode() for image in images}
    figures = "".join(
        f'<img alt="{html.escape(image.stem)}" src="data:image/png;base64,{data}">' for image, data in inline.items()
    )
    body, table = [], []

    def flush() -> None:
        if table:
            rows = [[html.escape(cell.strip()) for cell in row.strip("|").split("|")] for row in table]
            head = "".join(f"<th>{cell}</th>" for cell in rows[0])
            cells = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows[2:])
            body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{cells}</tbody></table>")
            table.clear()

    for line in text.splitlines():
        if line.startswith("|"):
            table.append(line)
            continue
        flush()
        if line.startswith("# "):
            body.append(f"<h1>{html.escape(line[2:])}</h1>{figures}")
        elif line.startswith("## "):
            body.append(f"<h2>{html.escape(line[3:])}</h2>")
        elif line.startswith("- "):
            body.append(f"<p>{html.escape(line[2:].replace('**', '').replace('`', ''))}</p>")
        elif line and not line.startswith("!["):
            body.append(f"<p>{html.escape(line)}</p>")
    flush()
    style = (
        "body{font-family:sans-serif;margin:2em;color:#222;max-width:70em}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}"
        "th{background:#eef}img{max-width:100%;margin:.5em 0}"
    )
    title = html.escape(f"gansunews crawl {report.crawl['_id']}")
    return (
        f'<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8"><title>{title}</title>'
        f"<style>{style}</style></head><body>{''.join(body)}</body></html>"
    )


def write(report: Report, out: Path) -> tuple[Path, Path, Path]:
    """Markdown, the bar chart and the heat-map as PNG, and the HTML page holding all of it."""
    out.mkdir(parents=True, exist_ok=True)
    stem = f"report-{report.crawl['_id']}"
    chart, heatmap = out / f"{stem}.png", out / f"{stem}-weekly.png"
    draw_chart(report, chart)
    draw_heatmap(report, heatmap)
    text = out / f"{stem}.md"
    content = markdown(report, chart.name) + f"\n![articles per week per 市州]({heatmap.name})\n"
    text.write_text(content, encoding="utf-8")
    page = out / f"{stem}.html"
    page.write_text(html_page(report, content, [chart, heatmap]), encoding="utf-8")
    return text, chart, page
