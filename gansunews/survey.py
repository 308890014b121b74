"""`python -m gansunews survey`: run the `gscn-survey` spider, print the channel tree and a verdict on whether the
site looks like the model the crawler was built on. The verdict is pure (`survey_verdict`); `run` crawls."""

from __future__ import annotations

import json
import sys
from typing import Any

from gansunews.regions import COUNTY, PREFECTURE, divisions

MOST = 0.5


def survey_verdict(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Which 市州 and how many 县区 have a channel, and the problems that make the site look unlike the model."""
    prefectures = {code: d.name for code, d in divisions().items() if d.level == PREFECTURE}
    counties = {code for code, d in divisions().items() if d.level == COUNTY}
    found = {row["region_code"] for row in rows}
    problems = []
    if not rows:
        problems.append("no channel discovered: the scope's home or its channel links were not recognised")
    if rows and not found & set(prefectures):
        problems.append("no 市州 channel")
    articles = [row for row in rows if row["template"]]
    for count, total, what in (
        (sum(not row["pager"] for row in rows), len(rows), "channels without a pager"),
        (sum(not row["live_entries"] for row in rows), len(rows), "channels without article entries"),
        (
            sum(row["template"] == "generic" for row in articles),
            len(articles),
            "articles read only by the generic path",
        ),
        (sum(row["date_from"] == "url" for row in articles), len(articles), "articles without a date of their own"),
    ):
        if total and count / total > MOST:
            problems.append(f"{count} of {total} {what}")
    if rows and not articles:
        problems.append("no article could be read")
    forbidden = sum(any("robots.txt" in error for error in row["errors"]) for row in rows)
    if forbidden:  # the crawl honours robots.txt: those channels' pages would be missing from the archive
        problems.append(f"robots.txt forbids pages of {forbidden} of {len(rows)} channels (see their errors)")
    missing = sorted(name for code, name in prefectures.items() if code not in found)
    return {
        "ok": not problems,
        "problems": problems,
        "prefectures_found": sorted(prefectures[code] for code in found & set(prefectures)),
        "prefectures_missing": missing,
        "counties_found": len(found & counties),
        "counties_total": len(counties),
        "channels": len(rows),
    }


def table(rows: list[dict[str, Any]], verdict: dict[str, Any]) -> str:
    """The channel tree as text: one line per channel, breadcrumb order, then the verdict."""
    head = ("channel", "region", "pager", "maxpage", "live", "archive", "dates", "template", "date", "fields", "url")
    lines = [head]
    for row in sorted(rows, key=lambda r: (r["breadcrumb"] or [r["channel"]], r["url"])):
        depth = max(0, row["depth"] - 1)
        lines.append(
            (
                "  " * depth + row["channel"],
                f"{row['region_code']} {row['region_name']}",
                "yes" if row["pager"] else "NO",
                str(row["maxpage"] or "-"),
                str(row["live_entries"]),
                "-" if row["archive_entries"] is None else str(row["archive_entries"]),
                ",".join(row["date_forms"]) or "-",
                row["template"] or "-",
                row["date_from"] or "-",
                ",".join(row["fields"]) or "-",
                row["url"] + ("  ! " + "; ".join(row["errors"]) if row["errors"] else ""),
            )
        )
    widths = [max(_width(line[i]) for line in lines) for i in range(len(head) - 1)]
    text = [
        "  ".join(c + " " * (w - _width(c)) for c, w in zip(line, widths, strict=False)) + "  " + line[-1]
        for line in lines
    ]
    text.append("")
    text.append(f"市州 with a channel: {len(verdict['prefectures_found'])} of 14")
    if verdict["prefectures_missing"]:
        text.append(f"  expected and not found: {'、'.join(verdict['prefectures_missing'])}")
    text.append(f"县区 with a channel: {verdict['counties_found']} of {verdict['counties_total']}")
    text.append("verdict: " + ("the site looks like the model" if verdict["ok"] else "the site looks UNLIKE the model"))
    text += [f"  problem: {problem}" for problem in verdict["problems"]]
    return "\n".join(text)


def _width(text: str) -> int:
    """Display width: CJK characters take two columns."""
    return sum(2 if ord(char) > 0x2E80 else 1 for char in text)


def run(settings_overrides: dict[str, str], as_json: bool) -> int:
    """Survey the portal (through `http(s)_proxy` like the crawl), print, and return the exit status."""
    from scrapy.crawler import CrawlerProcess
    from scrapy.settings import Settings

    from gansunews.spiders.survey import SurveySpider

    settings = Settings()
    settings.setmodule("gansunews.settings", priority="project")
    settings.set("LOG_LEVEL", "WARNING", priority="project")
    settings.setdict(settings_overrides, priority="cmdline")
    process = CrawlerProcess(settings)
    crawler = process.create_crawler(SurveySpider)
    process.crawl(crawler)
    process.start()
    if crawler.stats.get_value("finish_reason") is None:  # it never opened: the log above says why
        print("the survey did not run: see the errors above", file=sys.stderr)
        return 2
    rows = list(crawler.spider.rows.values())
    verdict = survey_verdict(rows)
    print(
        json.dumps({"channels": rows, "verdict": verdict}, ensure_ascii=False, indent=1)
        if as_json
        else table(rows, verdict)
    )
    return 0 if verdict["ok"] else 1
