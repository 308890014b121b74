"""Spider arguments: `-a` and scrapyd deliver strings; they are parsed and validated here, once."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from gansunews.regions import divisions, lookup
from gansunews.text import CHINA_TZ

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ArgumentError(ValueError):
    """A spider argument that cannot be used, with what was wrong and what is accepted."""


@dataclass(frozen=True)
class CrawlArgs:
    since: date | None = None
    """Only articles published on or after this day; listing walks stop at the first page entirely older."""
    max_pages: int | None = None
    """At most this many listing pages per channel (the live page counts as one)."""
    regions: frozenset[str] = field(default_factory=frozenset)
    """Division codes: only channels of these regions and their descendants are walked. Empty: all."""
    full: bool = False
    """Ignore stored state (incremental crawling) and fetch everything again."""

    @classmethod
    def parse(cls, raw: dict[str, str | None], extra: frozenset[str] = frozenset()) -> CrawlArgs:
        """The arguments from their strings; an unknown name (a typo such as `sinse`) is an error, not ignored.
        `extra` names arguments that others use (scrapyd's `_job`)."""
        known = {name for name in cls.__dataclass_fields__}
        unknown = sorted(set(raw) - known - extra)
        if unknown:
            accepted = ", ".join(sorted(known))
            raise ArgumentError(f"unknown argument {unknown[0]!r}: the accepted arguments are {accepted}")
        return cls(
            since=_parse_since(raw.get("since")),
            max_pages=_parse_positive_int("max_pages", raw.get("max_pages")),
            regions=_parse_regions(raw.get("regions")),
            full=_parse_bool("full", raw.get("full")),
        )

    @property
    def since_datetime(self) -> datetime | None:
        return datetime(self.since.year, self.since.month, self.since.day, tzinfo=CHINA_TZ) if self.since else None

    def as_dict(self) -> dict[str, object]:
        return {
            "since": self.since.isoformat() if self.since else None,
            "max_pages": self.max_pages,
            "regions": sorted(self.regions),
            "full": self.full,
        }


def _parse_since(value: str | None) -> date | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise ArgumentError(f"since={value!r}: expected a day as YYYY-MM-DD, e.g. since=2024-01-01") from None
    today = datetime.now(CHINA_TZ).date()
    if day > today:  # a typo of the year: the crawl would walk every live page and find nothing
        raise ArgumentError(f"since={value!r}: after today ({today.isoformat()} in China)")
    return day


def _parse_positive_int(name: str, value: str | None) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if number < 1:
        raise ArgumentError(f"{name}={value!r}: expected a whole number of at least 1")
    return number


def _parse_bool(name: str, value: str | None) -> bool:
    text = str(value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ArgumentError(f"{name}={value!r}: expected 1/0, true/false or yes/no")


def _parse_regions(value: str | None) -> frozenset[str]:
    """`regions=621000,西峰区,临夏` → division codes; unknown names are an error, not an empty crawl."""
    codes = set()
    for part in (value or "").replace("，", ",").split(","):
        part = part.strip()
        if not part:
            continue
        division = divisions().get(part) or lookup(part)
        if division is None:
            raise ArgumentError(f"regions: {part!r} is neither a Gansu division code nor a division name")
        codes.add(division.code)
    return frozenset(codes)
