"""`python -m gansunews report` on two real crawls stored in FerretDB: Markdown sections and a PNG chart."""

from __future__ import annotations

import html
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from gansunews.browser import chromium
from tests.conftest import PROJECT, missing_service
from tests.test_mongo import crawl_into

SINCE = "2024-01-01"


HOSTILE_TITLE = '<script>window.hacked = 1</script><img src=x onerror="window.hacked = 2">'


@pytest.fixture
def reported(mongo_db, replica, tmp_path):
    """Two crawls into FerretDB, a headline with markup smuggled into the second, and the report's files."""
    crawl_into(mongo_db, replica.proxy_url, tmp_path / "1", f"since={SINCE}", "max_pages=1")
    second = crawl_into(mongo_db, replica.proxy_url, tmp_path / "2", f"since={SINCE}", "full=1")
    changed = mongo_db.articles.update_many({"_id": {"$in": second.ids}}, {"$set": {"title": HOSTILE_TITLE}})
    assert changed.modified_count == len(second.ids)
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
    return second, [Path(path) for path in completed.stdout.split()]


def test_report_of_the_last_crawl_compares_with_the_previous(reported):
    second, (text_path, chart_path, _) = reported
    text = text_path.read_text(encoding="utf-8")
    assert f"# Crawl {second.stats['gansunews/crawl_id']}" in text
    for section in (
        "## Articles per 市州",
        "## Articles per 县区",
        "## Newest article per region",
        "## Freshness",
        "## Field coverage",
        "## Failures by reason",
        "## Compared with the previous run",
        "## Staleness per 市州",
        "## Staleness per 县区",
    ):
        assert section in text
    assert f"articles stored by this run: **{len(second.ids)}**" in text
    assert "| 庆阳市 |" in text and "| 西峰区 |" in text
    assert "| article/http_404 | 1 |" in text
    assert "| item_scraped_count |" in text and "No earlier run" not in text
    chart = chart_path.read_bytes()
    assert chart.startswith(b"\x89PNG\r\n\x1a\n") and len(chart) > 5000
    assert "| 积石山保安族东乡族撒拉族自治县 |" in text and "| 玉门市 | never |" in text  # every county, stale or not


def test_html_report_is_self_contained_escaped_and_not_blank(reported, tmp_path):
    _, (_, _, page_path) = reported
    page = page_path.read_text(encoding="utf-8")
    assert "<script" not in page and "onerror=" not in page.replace("onerror=&quot;", "")
    assert html.escape(HOSTILE_TITLE) in page
    assert page.count('src="data:image/png;base64,') == 2 and "http" not in page.split("<body>")[0]
    if not shutil.which("chromium-headless-shell") and not shutil.which("chromium"):
        missing_service("Debian's chromium is not installed: the report is looked at in a browser")
    from playwright.sync_api import sync_playwright

    shot = tmp_path / "report.png"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1200, "height": 1600})
        tab.goto(page_path.as_uri())
        hacked = tab.evaluate("window.hacked || 0")
        tab.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert hacked == 0
    with Image.open(shot) as image:
        pixels = image.convert("L").resize((200, 400))
        dark = sum(1 for value in pixels.getdata() if value < 200)
        assert image.height > 1600 and dark / (200 * 400) > 0.02  # text, tables and charts, not a blank page


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
