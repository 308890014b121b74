"""Command line: `python -m gansunews extract|survey|reparse|report|schedule …`.

- `extract FILE... [--url URL]` parses saved pages without crawling: one JSON object per file, in order, in the
  data contract (without crawl metadata); a page that cannot be read as an article prints
  `{"file": …, "error": …}` and makes the exit status 1.
- `schedule run PLAN` / `schedule crontab` schedule crawls through scrapyd (see gansunews/schedule.py).
- `report [--last | --crawl-id ID]` writes a crawl report from MongoDB (see gansunews/report.py).
- `reparse [--since DAY] [--ids ID,…]` rebuilds stored articles from their kept pages (see gansunews/reparse.py).
- `survey [--json] [-s NAME=VALUE]` walks discovery and samples each channel (one archive page, one article),
  stores nothing, prints the channel tree and whether the site looks like the model; exit 1 when it does not.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict
from datetime import date
from pathlib import Path

from pymongo import MongoClient
from pymongo.errors import PyMongoError

from gansunews import redact, reparse, report, survey
from gansunews.config import SettingsError
from gansunews.pages import PageError
from gansunews.pages.article import ArticlePage
from gansunews.pipelines.clean import clean_article
from gansunews.pipelines.dedupe import fingerprint
from gansunews.pipelines.regions import article_regions
from gansunews.schedule import DEFAULT_URL, PLANS, crontab, schedule
from gansunews.store import MongoConfig, Store


def extract(path: Path, url: str | None) -> dict:
    page = ArticlePage.from_bytes(url or _page_url(path), path.read_bytes())
    article = clean_article(page.article(require_cms_id=False))
    article.regions = article_regions(article)
    fingerprint(article)  # simhash and minhash, as the crawl fills them
    record = asdict(article)
    record.pop("crawl")
    return record


def _page_url(path: Path) -> str:
    """A saved page's own URL when it names one (canonical, og:url), else its file URL."""
    head = path.read_bytes()[:20000].decode("latin-1")
    for marker in ('rel="canonical" href="', 'property="og:url" content="'):
        start = head.find(marker)
        if start >= 0:
            return head[start + len(marker) :].split('"', 1)[0]
    return path.resolve().as_uri()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m gansunews", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    extract_cmd = commands.add_parser("extract", help="parse saved article pages and print JSON lines")
    extract_cmd.add_argument("files", nargs="+", type=Path)
    extract_cmd.add_argument("--url", help="the URL the page(s) came from (resolves links, gives the article id)")
    schedule_cmd = commands.add_parser("schedule", help="schedule crawls through scrapyd, or print crontab lines")
    schedule_cmd.add_argument("action", choices=["run", "crontab", "plans"])
    schedule_cmd.add_argument("plan", nargs="?", choices=sorted(PLANS))
    schedule_cmd.add_argument("--url", default=DEFAULT_URL, help="scrapyd's address")
    schedule_cmd.add_argument("--project", default="gansunews")
    schedule_cmd.add_argument("--since-days", type=int, help="override the plan's look-back")
    schedule_cmd.add_argument(
        "--log-dir", type=Path, help="where scheduled runs append their output (default: ~/.local/state/gansunews)"
    )
    reparse_cmd = commands.add_parser("reparse", help="rebuild stored articles from their kept pages: no crawl")
    reparse_cmd.add_argument("--uri", default=os.environ.get("MONGO_URI"), help="default: $MONGO_URI")
    reparse_cmd.add_argument("--database", default=os.environ.get("MONGO_DATABASE", "gansunews"))
    reparse_cmd.add_argument("--since", help="only articles published on or after this day (YYYY-MM-DD)")
    reparse_cmd.add_argument("--ids", help="only these article ids, comma-separated")
    survey_cmd = commands.add_parser(
        "survey", help="walk discovery and sample each channel: does the site look as expected?"
    )
    survey_cmd.add_argument("--json", action="store_true", help="print JSON instead of the table")
    survey_cmd.add_argument("-s", "--set", action="append", default=[], metavar="NAME=VALUE", help="a Scrapy setting")
    report_cmd = commands.add_parser("report", help="crawl report from MongoDB: Markdown, PNG charts, one HTML page")
    which = report_cmd.add_mutually_exclusive_group()
    which.add_argument("--last", action="store_true", help="the latest crawl (the default)")
    which.add_argument("--crawl-id")
    report_cmd.add_argument("--out", type=Path, default=Path("reports"))
    report_cmd.add_argument("--uri", default=os.environ.get("MONGO_URI"), help="default: $MONGO_URI")
    report_cmd.add_argument("--database", default=os.environ.get("MONGO_DATABASE", "gansunews"))
    options = parser.parse_args(argv)
    redact.install()
    if options.command == "schedule":
        return run_schedule(options, parser)
    if options.command == "report":
        return run_report(options, parser)
    if options.command == "reparse":
        return run_reparse(options, parser)
    if options.command == "survey":
        overrides = dict(item.split("=", 1) for item in options.set if "=" in item)
        if len(overrides) != len(options.set):
            parser.error("survey -s takes NAME=VALUE")
        return survey.run(overrides, options.json)
    status = 0
    for path in options.files:
        try:
            record = extract(path, options.url)
        except (PageError, OSError) as error:
            record, status = {"file": str(path), "error": str(error)}, 1
        print(json.dumps(record, ensure_ascii=False), flush=True)
    return status


def checked(config: MongoConfig, parser: argparse.ArgumentParser) -> MongoConfig:
    """The configuration, or exit status 2 with one line for a URI or database name that cannot be used."""
    try:
        config.check()
    except SettingsError as error:
        parser.error(str(error))
    return config


def run_report(options: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if not options.uri:
        parser.error("report needs MongoDB: --uri or MONGO_URI")
    checked(MongoConfig(options.uri, options.database), parser)
    client = MongoClient(options.uri, serverSelectionTimeoutMS=5000)
    try:
        found = report.load(client[options.database], options.crawl_id)
        paths = report.write(found, options.out)
    except (LookupError, PyMongoError) as error:
        print(f"report: {error}", file=sys.stderr)
        return 1
    finally:
        client.close()
    for path in paths:
        print(path)
    return 0


def run_reparse(options: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    """Exit status 1 when some article could not be rebuilt (it is left as stored, and listed)."""
    if not options.uri:
        parser.error("reparse needs MongoDB: --uri or MONGO_URI")
    since = options.since
    if since:
        try:
            date.fromisoformat(since)
        except ValueError:
            parser.error(f"--since {since!r}: expected YYYY-MM-DD")
    ids = [part.strip() for part in (options.ids or "").split(",") if part.strip()]
    store = Store(checked(MongoConfig(options.uri, options.database), parser))
    try:
        summary = reparse.run(store, since, ids)
    except PyMongoError as error:
        print(redact.redact(f"reparse: {error}"), file=sys.stderr)
        return 1
    finally:
        store.close()
    print(json.dumps(summary.as_dict(), ensure_ascii=False))
    return 1 if summary.failed else 0


def run_schedule(options: argparse.Namespace, parser: argparse.ArgumentParser) -> int:
    if options.action == "crontab":
        print(crontab(options.url, options.project, log_dir=options.log_dir))
    elif options.action == "plans":
        for plan in PLANS.values():
            print(f"{plan.name:18} {plan.cron:14} {plan.description}")
    else:
        if not options.plan:
            parser.error("schedule run needs a plan: " + ", ".join(sorted(PLANS)))
        try:
            job = schedule(PLANS[options.plan], options.url, options.project, since_days=options.since_days)
        except (RuntimeError, OSError) as error:
            print(redact.redact(f"schedule {options.plan}: {error}"), file=sys.stderr)
            return 1
        print(json.dumps({"plan": options.plan, "jobid": job}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
