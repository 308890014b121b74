"""Gansu's administrative divisions (GB/T 2260) and the matching of place names in channel names and text.

Two kinds of matching:
- `lookup(name)` for a whole channel or breadcrumb name ("庆阳", "城关", "临夏州"): every full and short form.
- `find_in_text(text)` for prose: full names and only those short forms that are not everyday words, scanned
  leftmost-longest so that 会宁县 is not read as 宁县, with traps (合作社, 玉门关, 景泰蓝 …) consumed unmatched.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files

PROVINCE = "province"
PREFECTURE = "prefecture"
COUNTY = "county"
LEVEL_ORDER = {PROVINCE: 0, PREFECTURE: 1, COUNTY: 2}

# Autonomy suffixes, longest first, so that 张家川回族自治县 → 张家川县 / 张家川.
_AUTONOMY = re.compile(
    r"^(?P<stem>.{2,}?)(?:保安族|东乡族|撒拉族|回族|藏族|裕固族|蒙古族|哈萨克族|族)*自治(?P<kind>州|县)$"
)
# Names outside the table that the site uses: 兰州新区 is a state-level new area of 兰州; 华亭县 became 华亭市 in 2018.
_EXTRA_NAMES = {"兰州新区": "620100", "华亭县": "620881", "甘肃": "620000"}
# Short forms that are everyday words or other places: only their full names count in prose.
_PROSE_UNSAFE_SHORT = {
    "白银",
    "安宁",
    "安定",
    "城关",
    "合作",
    "清水",
    "民乐",
    "高台",
    "康乐",
    "平川",
    "金川",
    "永昌",
    "东乡",
    "西和",
    "广河",
    "西固",
    "和政",
    "两当",
    "合水",
    "灵台",
    "崇信",
}
# Words that contain a place name but are not that place; consumed without a match.
_TRAPS = (
    "合作社",
    "合作市场",
    "玉门关",
    "景泰蓝",
    "山丹丹",
    "城关镇",
    "兰州拉面",
    "临夏砖雕",
    "中国甘肃网",
    "每日甘肃网",
    "甘肃网",
)
# 2-character county names (环县, 宁县 …) hide inside words (循环县域, 形成县级): require a word boundary before.
_BOUNDARY_BEFORE = set("在于和与及的、，。；：“”‘’（）()《》【】省市州区县赴到至从对向为让把被将据自等是了以并—- \n\t")


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: str
    parent_code: str | None

    def as_region(self, via: str, implied_by: str | None = None) -> dict[str, str]:
        region = {"code": self.code, "name": self.name, "level": self.level, "via": via}
        if implied_by:
            region["implied_by"] = implied_by
        return region


@cache
def divisions() -> dict[str, Division]:
    """Every division by code, read once from the package data."""
    text = files("gansunews").joinpath("data/gansu_divisions.csv").read_text(encoding="utf-8")
    rows = csv.DictReader(text.splitlines())
    return {row["code"]: Division(row["code"], row["name"], row["level"], row["parent_code"] or None) for row in rows}


def short_forms(name: str) -> list[str]:
    """Short forms people write: 临夏回族自治州 → 临夏州, 临夏; 庆阳市 → 庆阳; 环县 → none (one character)."""
    forms = []
    autonomy = _AUTONOMY.match(name)
    if autonomy:
        forms += [autonomy["stem"] + autonomy["kind"], autonomy["stem"]]
    elif name[-1] in "市区县省" and len(name) >= 3:
        forms.append(name[:-1])
    return forms


@cache
def _names() -> tuple[dict[str, str], dict[str, str]]:
    """(all forms → code, prose-safe forms → code). Prefectures win a shared short form (临夏, 白银)."""
    by_level = sorted(divisions().values(), key=lambda d: -LEVEL_ORDER[d.level])
    every: dict[str, str] = {}
    prose: dict[str, str] = {}
    for division in by_level:  # counties first, so prefectures overwrite a shared short form
        every[division.name] = prose[division.name] = division.code
        for form in short_forms(division.name):
            every[form] = division.code
            if form not in _PROSE_UNSAFE_SHORT:
                prose[form] = division.code
    for name, code in _EXTRA_NAMES.items():
        every[name] = prose[name] = code
    return every, prose


# What portals add to a place's name to name its channel: 庆阳新闻, 庆阳频道, 庆阳播报, 陇东·庆阳.
_CHANNEL_SUFFIX = re.compile(r"(?:新闻网|新闻|频道|播报|资讯|动态|在线|快讯|要闻|之窗|视窗)$")
_NAME_PARTS = re.compile(r"[·•・|｜/]")


def lookup(name: str) -> Division | None:
    """The division a whole name denotes (a channel's link text or a breadcrumb entry), or None: a name in
    full or short form, with or without a channel suffix (庆阳新闻, 庆阳频道), or the last part of a compound
    name that is one (陇东·庆阳). Nothing is searched inside words: 白银价格 and 合作社 name nothing."""
    every = _names()[0]
    for part in reversed(_NAME_PARTS.split(re.sub(r"\s+", "", name))):
        code = every.get(part) or every.get(_CHANNEL_SUFFIX.sub("", part))
        if code:
            return divisions()[code]
    return None


def name_form(name: str) -> str:
    """How a division was named: `exact` (a full or short form), else `variant` (suffix or compound)."""
    return "exact" if re.sub(r"\s+", "", name) in _names()[0] else "variant"


@cache
def _prose_pattern() -> re.Pattern[str]:
    alternatives = sorted([*_names()[1], *_TRAPS], key=len, reverse=True)
    return re.compile("|".join(map(re.escape, alternatives)))


def find_in_text(text: str) -> list[Division]:
    """Divisions named in prose, in order of first mention, without traps and false short matches."""
    prose = _names()[1]
    found: dict[str, Division] = {}
    for match in _prose_pattern().finditer(text):
        word = match.group()
        if word in _TRAPS:
            continue
        hidden_in_word = match.start() > 0 and text[match.start() - 1] not in _BOUNDARY_BEFORE
        if len(word) == 2 and word.endswith("县") and hidden_in_word:
            continue
        code = prose[word]
        found.setdefault(code, divisions()[code])
    return list(found.values())


def is_within(division: Division, roots: set[str]) -> bool:
    """True when the division is one of `roots` or lies under one of them."""
    current: Division | None = division
    while current:
        if current.code in roots:
            return True
        current = divisions().get(current.parent_code or "")
    return False
