"""Schedules through scrapyd's HTTP API (scrapyd has no cron): named plans, and the crontab lines that run them.

python -m gansunews schedule run nightly|hourly|region-<group> [--url URL] [--project P] [--since-days N]
python -m gansunews schedule crontab [--url URL] [--project P]
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import sys
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from gansunews.redact import redact
from gansunews.regions import divisions

DEFAULT_URL = "http://127.0.0.1:6800"
PROJECT = Path(__file__).resolve().parent.parent

# 甘肃's customary regions, for per-region runs that split the nightly work.
REGION_GROUPS = {
    "hexi": ("620900", "620200", "620700", "620300", "620600"),  # 河西: 酒泉 嘉峪关 张掖 金昌 武威
    "longzhong": ("620100", "620400", "621100", "622900"),  # 陇中: 兰州 白银 定西 临夏
    "longdong": ("621000", "620800"),  # 陇东: 庆阳 平凉
    "longnan": ("620500", "621200"),  # 陇南: 天水 陇南
    "gannan": ("623000",),  # 甘南
}


@dataclass(frozen=True)
class Plan:
    name: str
    cron: str
    since_days: int
    full: bool
    regions: tuple[str, ...] = ()
    description: str = ""

    def arguments(self, today: date, since_days: int | None = None) -> dict[str, str]:
        args = {"since": (today - timedelta(days=since_days or self.since_days)).isoformat()}
        if self.full:
            args["full"] = "1"
        if self.regions:
            args["regions"] = ",".join(self.regions)
        return args


PLANS = {
    "nightly": Plan("nightly", "30 2 * * *", 7, True, description="re-read the last week, stored state ignored"),
    "hourly": Plan("hourly", "7 * * * *", 2, False, description="incremental: new articles only"),
    **{
        f"region-{group}": Plan(
            f"region-{group}", f"{15 + 5 * i} 3 * * *", 30, False, codes, "、".join(divisions()[c].name for c in codes)
        )
        for i, (group, codes) in enumerate(REGION_GROUPS.items())
    },
}


def schedule(
    plan: Plan,
    url: str,
    project: str,
    today: date | None = None,
    since_days: int | None = None,
    settings: dict[str, str] | None = None,
) -> str:
    """POST schedule.json; returns scrapyd's job id, or raises RuntimeError with scrapyd's message."""
    fields = [("project", project), ("spider", "gscn"), *plan.arguments(today or date.today(), since_days).items()]
    fields += [("setting", f"{name}={value}") for name, value in (settings or {}).items()]
    request = urllib.request.Request(f"{url.rstrip('/')}/schedule.json", data=urllib.parse.urlencode(fields).encode())
    user, password = os.environ.get("SCRAPYD_USERNAME"), os.environ.get("SCRAPYD_PASSWORD")
    if user and password:  # scrapyd's HTTP basic auth, the same variables scrapy.cfg's deploy target reads
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
    if answer.get("status") != "ok":
        raise RuntimeError(redact(f"scrapyd refused {plan.name}: {answer.get('message', answer)}"))
    return answer["jobid"]


def default_log_dir() -> Path:
    """Where scheduled runs append their output: the user's own state directory, no root needed."""
    return Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "gansunews"


def crontab(url: str, project: str, python: str = sys.executable, log_dir: Path | None = None) -> str:
    """The crontab lines that schedule every plan through scrapyd, logging to `log_dir` (created if missing).
    Credentials are never written into them: cron passes SCRAPYD_USERNAME/SCRAPYD_PASSWORD from its environment."""
    logs = log_dir or default_log_dir()
    lines = [
        "# gansunews schedules (scrapyd has no cron): crontab -e, then paste these lines",
        "# scrapyd with a password: set SCRAPYD_USERNAME and SCRAPYD_PASSWORD at the top of the crontab",
    ]
    for plan in PLANS.values():
        command = [python, "-m", "gansunews", "schedule", "run", plan.name, "--url", redact(url), "--project", project]
        log = shlex.quote(str(logs / "schedule.log"))
        lines.append(f"# {plan.name}: {plan.description}")
        lines.append(
            f"{plan.cron} mkdir -p {shlex.quote(str(logs))} && cd {shlex.quote(str(PROJECT))} && {shlex.join(command)}"
            f" >> {log} 2>&1"
        )
    return "\n".join(lines)
