"""Pure text helpers for Chinese news pages: whitespace, dates, labels, boilerplate and lead lines."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise

CHINA_TZ = timezone(timedelta(hours=8))
EARLIEST = datetime(2000, 1, 1, tzinfo=CHINA_TZ)

_SPACE = re.compile(r"[\s\u00a0\u3000\u2002\u2003\u2009\u200b\ufeff]+")


def squash(text: str | None) -> str:
    """Collapse every kind of whitespace (&nbsp;, full-width indentation, zero-width) into single spaces."""
    return _SPACE.sub(" ", text or "").strip()


def body_text(paragraphs: list[str]) -> str:
    """An article's `content_text`: its non-empty paragraphs squashed, one per line."""
    return "\n".join(line for line in (squash(p) for p in paragraphs) if line)


# ---------------------------------------------------------------------------------------------- dates

_DATE_PATTERNS = (
    # 2020年8月5日 08:44[:00]
    re.compile(
        r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"
        r"(?:\s*(?P<H>\d{1,2})[:：](?P<M>\d{2})(?:[:：](?P<S>\d{2}))?)?"
    ),
    # 2020-08-05 08:44[:00], 2020/08/05, 2020.08.05
    re.compile(
        r"(?<!\d)(?P<y>(?:19|20)\d{2})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?!\d)"
        r"(?:[\sT]*(?P<H>\d{1,2})[:：](?P<M>\d{2})(?:[:：](?P<S>\d{2}))?"
        # an ISO time's offset (meta tags, JSON-LD): `2024-05-09T20:00:00Z` is the 10th in China
        r"(?:\.\d+)?(?P<tz>Z|[+-]\d{2}:?\d{2}(?!\d))?)?"
    ),
    # 20-08-05 08:44 (template A's two-digit year)
    re.compile(
        r"(?<!\d)(?P<yy>\d{2})-(?P<m>\d{1,2})-(?P<d>\d{1,2})(?!\d)"
        r"(?:\s*(?P<H>\d{1,2})[:：](?P<M>\d{2})(?:[:：](?P<S>\d{2}))?)?"
    ),
)


class DateError(ValueError):
    """A date that is missing, malformed or implausible (before 2000, or more than a day in the future)."""


_FULL_WIDTH_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")


def _first_date(text: str) -> re.Match[str] | None:
    text = text.translate(_FULL_WIDTH_DIGITS)  # one character for one: spans stay those of the original
    for pattern in _DATE_PATTERNS:
        match = pattern.search(text)
        if match:
            return match
    return None


def date_text(raw: str | None) -> str | None:
    """Just the date (and time) part of a longer line: `发布时间：2024-03-06 09:00 来源：…` → `2024-03-06 09:00`."""
    match = _first_date(squash(raw))
    return match.group().strip() if match else None


def parse_cn_datetime(raw: str | None, now: datetime | None = None) -> datetime:
    """The first date in `raw` as an aware datetime in Asia/Shanghai; raises DateError when there is none."""
    text = squash(raw)
    match = _first_date(text)
    if not match:
        raise DateError(f"no date in {text[:60]!r}")
    return _checked(_from_match(match), now or datetime.now(CHINA_TZ), text)


def _offset(text: str | None) -> timezone:
    """`Z`, `+00:00`, `-0500` as a timezone; China's when there is none (Chinese pages print local time)."""
    if not text:
        return CHINA_TZ
    if text == "Z":
        return UTC
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _from_match(match: re.Match[str]) -> datetime:
    parts = match.groupdict()
    year = int(parts["y"]) if parts.get("y") else 2000 + int(parts["yy"])
    try:
        return datetime(
            year,
            int(parts["m"]),
            int(parts["d"]),
            int(parts["H"] or 0),
            int(parts["M"] or 0),
            int(parts["S"] or 0),
            tzinfo=_offset(parts.get("tz")),
        ).astimezone(CHINA_TZ)
    except ValueError as error:
        raise DateError(f"impossible date {match.group()!r}: {error}") from None


def _checked(value: datetime, now: datetime, text: str) -> datetime:
    if value < EARLIEST:
        raise DateError(f"date before 2000: {text[:60]!r}")
    if value > now + timedelta(days=1):
        raise DateError(f"date in the future: {text[:60]!r}")
    return value


def parse_listing_date(raw: str | None, year_hint: int | None) -> datetime | None:
    """A listing date (YYYY-MM-DD, YYYY/MM/DD, MM-DD …); `MM-DD` takes its year from the article URL."""
    text = squash(raw).strip("()[]（）【】")
    short = re.fullmatch(r"(\d{1,2})\s*[-/.月]\s*(\d{1,2})日?(?:\s+\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)?", text)
    if short:
        if year_hint is None:
            return None
        text = f"{year_hint}-{short.group(1)}-{short.group(2)}"
    try:
        return parse_cn_datetime(text, now=datetime.max.replace(tzinfo=CHINA_TZ) - timedelta(days=2))
    except DateError:
        return None


# ------------------------------------------------------------------------------------ labelled values

_LABEL_END = r"(?=\s|$|来源|编辑|责任编辑|作者|发布时间|时间|浏览|字号|【|\|)"


def labelled(text: str, *labels: str) -> str | None:
    """The value after `label:` (half- or full-width colon) in an info line, stopping at the next label."""
    pattern = "|".join(map(re.escape, labels))
    match = re.search(rf"(?:{pattern})\s*[:：]\s*(?P<value>.+?){_LABEL_END}", text)
    return match["value"].strip() if match else None


# An outlet named without a label next to the date of an info line: `2024-05-10 00:26 每日经济新闻`,
# `2024-05-20 14:33 · 新华社`, `法新社2024年5月20日`. Only names with an outlet's ending count.
_OUTLET = r"[\u4e00-\u9fffA-Za-z0-9－\-《》]{0,12}?(?:网络版|网|报|社|台|新闻|客户端|财经|財經|周刊|杂志|频道)"
_OUTLET_AFTER = re.compile(rf"^\s*[·•|]?\s*(?P<name>{_OUTLET})(?![\u4e00-\u9fff])")
_OUTLET_BEFORE = re.compile(rf"(?<![\u4e00-\u9fff])(?P<name>{_OUTLET})\s*$")
_SOURCE_SENTENCE = re.compile(r"(?:本文)?来源于\s*(?P<name>[^\s，。,]{2,20})")


def unlabelled_source(header: str) -> str | None:
    """The source of an info line that does not label it: `本文来源于北京商报`, or an outlet beside the date."""
    sentence = _SOURCE_SENTENCE.search(header)
    if sentence:
        return sentence["name"]
    date = _first_date(header)
    if date is None:
        return None
    beside = _OUTLET_AFTER.search(header[date.end() :]) or _OUTLET_BEFORE.search(header[: date.start()])
    return beside["name"] if beside else None


_AUTHOR_LABEL = re.compile(r"(?:^|(?<=[\s|｜\]】）)]))(?:作者|记者|撰稿|文|文/图|图/文)\s*[:：/]\s*")
# Page furniture after a byline (`作者：新京报 举报 缩小字体 收藏 微博`): not names.
_FURNITURE = ("举报", "分享", "收藏", "微博", "微信", "打印", "字体", "字号", "关注", "评论", "阅读", "放大", "缩小")
_NOT_NAMES = ("编辑", "责任编辑", "来源", "发布", "时间", "日期", "浏览", "字号", "摄影", "通讯员", "记者")


def labelled_authors(text: str) -> list[str]:
    """The people after `作者：`, `记者：`, `文/` in an info line (`作者：张三 李四 编辑：王五` → 张三, 李四)."""
    match = _AUTHOR_LABEL.search(text)
    if not match:
        return []
    names: list[str] = []
    for token in re.split(r"[\s、，,]+", text[match.end() : match.end() + 40]):
        if not _NAME.match(token) or token.startswith(_NOT_NAMES) or any(word in token for word in _FURNITURE):
            break
        names.append(token)
    return names


# ------------------------------------------------------------------------------------- boilerplate

# A line starting with one of these ends the article: what follows is page furniture.
_TAIL_MARKERS = ("版权声明", "精彩推荐", "关注我们", "即时播报", "分享到", "相关新闻", "相关阅读", "热点推荐")
# A page number is a whole run of digits ((?!\d)): `\d{1,3}\s*` repeated could split a long run of digits in
# exponentially many ways before failing (a body line of 60 digits and a letter hung the page reader).
_PAGER_LINE = re.compile(r"^(?:(?:上一页|下一页|首页|尾页|末页|\d{1,3}(?!\d)|\[\d{1,3}\])\s*)+$")
_NOISE_LINE = re.compile(r"^(?:【?(?:纠错|打印|关闭|收藏|字号|大 中 小|返回顶部)】?\s*)+$|^(?:责任)?编辑\s*[:：]")


def is_tail_marker(line: str) -> bool:
    return line.startswith(_TAIL_MARKERS)


def is_noise(line: str) -> bool:
    """Pager text, print/close links and trailing editor lines: never body text."""
    return bool(_PAGER_LINE.match(line) or _NOISE_LINE.match(line))


# ------------------------------------------------------------------------------------- lead lines

_ROLES = (
    r"(?:本网|本报|新华社|中新网|甘肃日报)?(?:实习|见习|特约|首席)?(?:记者|通讯员|摄影|摄像|撰稿|文/图|图/文|文|图)"
)
_ROLE = re.compile(_ROLES)
_AUTHOR_LINE = re.compile(rf"^[（(]?\s*{_ROLES}\s*[:：/]?\s*[^\s，。；]{{2,4}}")
_DATELINE_AUTHORS = re.compile(rf"[（(]\s*(?P<inner>{_ROLES}[^（()）]{{2,60}})[)）]")
_ORIGINAL_TITLE = re.compile(r"^原标题\s*[:：]\s*(?P<title>.+)$")
_NAME = re.compile(r"^[\u4e00-\u9fff·]{2,5}$")
_TRAILING_WORDS = re.compile(r"(?:摄影报道|报道|摄|整理|供图|文图)$")


@dataclass
class Lead:
    """What the first lines of a body say about the article rather than being it."""

    original_title: str | None = None
    authors: list[str] = field(default_factory=list)
    paragraphs: list[str] = field(default_factory=list)


def _role_tokens(text: str) -> list[str]:
    """What stands between the roles of a byline, brackets and trailing words (摄, 报道 …) taken off."""
    return [_TRAILING_WORDS.sub("", t.strip("（）()")) for t in re.split(r"[\s、，,;；:：/]+", _ROLE.sub(" ", text))]


def names_after_roles(text: str) -> list[str]:
    """People in `本网记者 张三 李四 通讯员 王五` (roles dropped, 2–5 character names kept)."""
    names = []
    for token in _role_tokens(text):
        if _NAME.match(token) and token not in names:
            names.append(token)
    return names


def split_lead(paragraphs: list[str], lead_window: int = 4, tail_window: int = 2) -> Lead:
    """Move `原标题:`, author lines and dateline authors out of the first paragraphs into fields, and bylines that
    close the body (`（通讯员 王五）`, `记者 张三 摄`: photo pages put them after the pictures) out of the last ones."""
    lead = Lead()
    for index, line in enumerate(paragraphs):
        if index >= lead_window:
            lead.paragraphs.append(line)
            continue
        original = _ORIGINAL_TITLE.match(line)
        if original and not lead.original_title:
            lead.original_title = original["title"].strip()
        elif names := byline_names(line):
            lead.authors += [name for name in names if name not in lead.authors]
        else:
            lead.paragraphs.append(_take_dateline_authors(line, lead.authors))
    closing: list[list[str]] = []  # the names of the closing bylines, last line first
    while len(closing) < tail_window and len(lead.paragraphs) > 1 and (names := byline_names(lead.paragraphs[-1])):
        lead.paragraphs.pop()
        closing.append(names)
    for names in reversed(closing):
        lead.authors += [name for name in names if name not in lead.authors]
    return lead


def byline_names(line: str) -> list[str]:
    """The people of a line that is only a byline (`本网记者 张三 李四，通讯员 王五`, `（通讯员 王五）`, `记者 张三 摄`,
    `文/图 赵六`); [] for any other line, such as a sentence that starts with a role (`记者了解到，目前…。`)."""
    if len(line) > 40 or not _AUTHOR_LINE.match(line):
        return []
    if any(token and not _NAME.match(token) for token in _role_tokens(line)):
        return []
    return names_after_roles(line)


def _take_dateline_authors(line: str, authors: list[str]) -> str:
    """`中国甘肃网8月5日讯(本网记者 赵雪 李明)…` → authors, and the parenthesis leaves the text."""
    match = _DATELINE_AUTHORS.search(line[:80])
    if not match or ("讯" not in line[: match.start() + 1] and match.start() > 0):
        return line
    authors += [name for name in names_after_roles(match["inner"]) if name not in authors]
    return squash(line[: match.start()].rstrip() + line[match.end() :].lstrip())


def body_lines(lines: list[str]) -> list[str]:
    """Body lines without noise, cut at the first furniture marker (版权声明, 精彩推荐 …) after some text: one
    before any (a share bar above the body, `分享到：`) is left out, not taken for the end."""
    kept = []
    for line in lines:
        if is_tail_marker(line):
            if kept:
                break
            continue
        if line and not is_noise(line):
            kept.append(line)
    return kept


def _title_bigrams(title: str) -> set[str]:
    chars = [char for char in title if char.isalnum()]  # no spaces, punctuation, `…` of a shortened listing title
    return {first + second for first, second in pairwise(chars)}


def same_title(listed: str | None, shown: str | None, share: float = 0.5) -> bool:
    """True when a page's title may be the one a listing gave (half the listing title's character pairs are in it:
    listings shorten titles, pages add subtitles); also when the listing gave too little to tell."""
    wanted = _title_bigrams(listed or "")
    if len(wanted) < 2:
        return True
    return len(wanted & _title_bigrams(shown or "")) >= share * len(wanted)
