"""RegionsPipeline: attribute each article to Gansu's divisions via its channels, breadcrumb and text."""

from __future__ import annotations

from gansunews.items import Article
from gansunews.regions import COUNTY, LEVEL_ORDER, Division, divisions, find_in_text, lookup

TEXT_PARAGRAPHS = 3  # title, lead and the first paragraphs name the place; later ones wander


def article_regions(article: Article) -> list[dict[str, str]]:
    """`{code, name, level, via}` per division, strongest evidence first (channel, breadcrumb, text);
    a county's prefecture is added with `implied_by` when nothing names it directly."""
    found: dict[str, dict[str, str]] = {}

    def add(division: Division | None, via: str) -> None:
        if division and division.code not in found:
            found[division.code] = division.as_region(via)

    for channel in article.channels:
        add(divisions().get(channel.get("region_code") or ""), "channel")
    for crumb in article.breadcrumb[1:]:
        add(lookup(crumb), "breadcrumb")
    prose = "\n".join(
        [article.title, article.original_title or "", *article.content_text.split("\n")[:TEXT_PARAGRAPHS]]
    )
    for division in find_in_text(prose):
        add(division, "text")
    # 来源 names a place reliably only as a county media centre (西峰区融媒体中心); 天水日报 may report anything
    for division in find_in_text(article.source or ""):
        add(division if division.level == COUNTY else None, "text")
    for region in list(found.values()):
        county = divisions()[region["code"]]
        if county.level == COUNTY and county.parent_code and county.parent_code not in found:
            found[county.parent_code] = divisions()[county.parent_code].as_region(region["via"], county.code)
    return sorted(found.values(), key=lambda r: (LEVEL_ORDER[r["level"]], r["code"]))


class RegionsPipeline:
    def process_item(self, item):
        if isinstance(item, Article):
            item.regions = article_regions(item)
        return item
