"""`python -m gansunews report` on two real crawls stored in FerretDB: Markdown sections and a PNG chart."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import PROJECT
from tests.test_mongo import crawl_into

SINCE = "2024-01-01"


def test_report_of_the_last_crawl_compares_with_the_previous(mongo_db, replica, tmp_path):
    crawl_into(mongo_db, replica.proxy_url, tmp_path / "1", f"since={SINCE}", "max_pages=1")
    second = crawl_into(mongo_db, replica.proxy_url, tmp_path / "2", f"since={SINCE}", "full=1")
    host, port = mongo_db.client.address
    env = {
        **os.environ,
        "MONGO_URI": f"mongodb://{host}:{port}/",
        "MONGO_DATABASE": mongo_db.name,
        "PYTHONPATH": str(PROJECT),
    }
    completed = subprocess.run(
        [sys.executable, "-m", "gansunews", "report", "--last", "--out", str(tmp_path / "r")],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr
    text_path, chart_path = completed.stdout.split()
    text = Path(text_path).read_text(encoding="utf-8")
    assert f"# Crawl {second.stats['gansunews/crawl_id']}" in text
    for section in (
        "## Articles per 市州",
        "## Articles per 县区",
        "## Newest article per region",
        "## Freshness",
        "## Field coverage",
        "## Failures by reason",
        "## Compared with the previous run",
    ):
        assert section in text
    assert f"articles stored by this run: **{len(second.ids)}**" in text
    assert "| 庆阳市 |" in text and "| 西峰区 |" in text
    assert "| article/http_404 | 1 |" in text
    assert "| item_scraped_count |" in text and "No earlier run" not in text
    chart = Path(chart_path).read_bytes()
    assert chart.startswith(b"\x89PNG\r\n\x1a\n") and len(chart) > 5000


def test_report_without_crawls_is_a_clear_error(mongo_db, tmp_path):
    host, port = mongo_db.client.address
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "gansunews",
            "report",
            "--uri",
            f"mongodb://{host}:{port}/",
            "--database",
            mongo_db.name,
            "--out",
            str(tmp_path),
        ],
        cwd=PROJECT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 1 and "no crawls recorded" in completed.stderr
