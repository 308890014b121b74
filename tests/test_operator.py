"""What an operator meets first: bad arguments, settings from -s and the environment, politeness per origin, no open
ports, no secrets in logs, progress while a crawl runs."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import date

import pytest
from scrapy.settings import Settings

from gansunews import redact
from gansunews.config import ENVIRONMENT_PRIORITY, SettingsError, apply_environment, check, project_defaults, user_agent
from tests.conftest import PROJECT, run_crawl
from tests.replica.server import ReplicaServer, crawl_command
from tests.replica.site import Site
from tests.test_mongo import crawl_into

README = (PROJECT / "README.md").read_text(encoding="utf-8")
SINCE = "2024-01-01"


# --- arguments ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argument", "named"),
    [
        ("sinse=2024-01-01", "unknown argument 'sinse'"),
        ("since=2024-13-01", "since='2024-13-01'"),
        ("since=2062-01-01", "since='2062-01-01': after today"),  # before: every live page walked, nothing found
        ("regions=火星", "'火星'"),
    ],
)
def test_a_bad_argument_ends_with_one_plain_line_and_no_request(replica, argument, named):
    before = len(replica.requests)
    done = subprocess.run(
        crawl_command("-a", argument),
        cwd=PROJECT,
        env=replica.crawl_environment(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    errors = [line for line in done.stderr.splitlines() if " ERROR: " in line]
    assert done.returncode == 2
    assert len(errors) == 1 and named in errors[0], done.stderr[-2000:]
    assert "Traceback" not in done.stderr and len(replica.requests) == before


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        (("GANSUNEWS_PAGE_LOOKAHEAD", "many"), "GANSUNEWS_PAGE_LOOKAHEAD='many': expected a whole number"),
        (("GANSUNEWS_PLAYWRIGHT_CONTEXT", "{bad"), "GANSUNEWS_PLAYWRIGHT_CONTEXT='{bad': expected a JSON object"),
        (("GANSUNEWS_SEEDS", "gscn.com.cn"), "GANSUNEWS_SEEDS: 'gscn.com.cn' is not an http(s) URL"),
        (("GANSUNEWS_SCOPE", " "), "GANSUNEWS_SCOPE is empty"),
        (("GANSUNEWS_CONTACT", "me@example.org\r\nX-Injected: 1"), "GANSUNEWS_CONTACT='me@example.org\\r\\nX-In"),
    ],
    ids=["not_a_number", "not_json", "seed_without_scheme", "empty_scope", "contact_with_a_line_break"],
)
def test_a_bad_setting_from_the_environment_is_named_before_any_request(replica, setting, named):
    """Before: a seed without a scheme, or an empty scope, crawled nothing and exited 0 (a traceback for the seed); a
    context that is not JSON ended with a traceback; a contact with a line break was accepted (it goes into the
    User-Agent header)."""
    before = len(replica.requests)
    env = replica.crawl_environment(**dict([setting]))
    done = subprocess.run(crawl_command(), cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    errors = [line for line in done.stderr.splitlines() if " ERROR: " in line]
    assert done.returncode == 2 and len(errors) == 1 and named in errors[0], done.stderr[-2000:]
    assert "Traceback" not in done.stderr and len(replica.requests) == before


def test_scrapy_s_jobdir_is_dropped_with_a_warning(replica, site, tmp_path):
    """Paused with SIGTERM and resumed through JOBDIR, a crawl lost 21 of 146 articles (its disk queue held copies of
    walks the resumed process did not know), and once finished the next crawl found every page seen. scrapyd sets a
    JOBDIR per job when its `jobs_dir` is set: the crawl drops it, says so, and resumes by itself."""
    jobdir = tmp_path / "job"
    result = run_crawl(replica.proxy_url, tmp_path / "crawl", f"since={SINCE}", settings={"JOBDIR": jobdir})
    assert result.returncode == 0 and f"JOBDIR={jobdir} ignored" in result.log
    assert sorted(result.ids) == sorted(site.expected_ids(date.fromisoformat(SINCE)))
    assert not jobdir.exists()


def test_a_spool_directory_that_cannot_be_made_is_named_before_any_request(replica, tmp_path):
    """Before, the crawl failed at its start with a traceback (replaying the spool), or, with MongoDB up, at its
    first outage."""
    (tmp_path / "a-file").write_text("")
    before = len(replica.requests)
    env = replica.crawl_environment(
        MONGO_URI="mongodb://127.0.0.1:9/", GANSUNEWS_SPOOL_DIR=str(tmp_path / "a-file/spool")
    )
    done = subprocess.run(crawl_command(), cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    errors = [line for line in done.stderr.splitlines() if " ERROR: " in line]
    assert done.returncode == 2 and len(errors) == 1 and "GANSUNEWS_SPOOL_DIR=" in errors[0], done.stderr
    assert "cannot be made a directory" in errors[0] and len(replica.requests) == before


@pytest.mark.parametrize(
    ("mongo", "named"),
    [
        ({"MONGO_URI": "mongodb://127.0.0.1:9/", "MONGO_DATABASE": "gansu news"}, "MONGO_DATABASE='gansu news'"),
        ({"MONGO_URI": "mongodb://127.0.0.1:9/", "MONGO_DATABASE": "gansu.news"}, "MONGO_DATABASE='gansu.news'"),
        ({"MONGO_URI": "mongdb://127.0.0.1:9/"}, "MONGO_URI: Invalid URI scheme"),
        ({"MONGO_URI": "mongodb://me:p@ss@127.0.0.1:9/"}, "MONGO_URI:"),
    ],
)
def test_a_mongodb_uri_or_database_that_cannot_be_used_is_named_before_any_request(replica, tmp_path, mongo, named):
    """Before, the crawl failed at its start with a traceback (and then another, from the crawl command)."""
    before = len(replica.requests)
    env = replica.crawl_environment(**mongo, GANSUNEWS_SPOOL_DIR=str(tmp_path / "spool"))
    done = subprocess.run(crawl_command(), cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    errors = [line for line in done.stderr.splitlines() if " ERROR: " in line]
    assert done.returncode == 2 and len(errors) == 1 and named in errors[0], done.stderr[-2000:]
    assert "Traceback" not in done.stderr and "p@ss" not in done.stderr and len(replica.requests) == before
    for command in ("report", "reparse"):  # the commands that read the archive say the same, and exit 2
        done = subprocess.run(
            [sys.executable, "-m", "gansunews", command], cwd=PROJECT, env=env, capture_output=True, text=True
        )
        assert done.returncode == 2 and named in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_a_redis_that_does_not_answer_is_named_before_any_request(replica):
    """A distributed crawl cannot start without its queue (once started, it waits for Redis instead)."""
    before = len(replica.requests)
    env = replica.crawl_environment(REDIS_URL="redis://127.0.0.1:9/0", MONGO_URI="mongodb://127.0.0.1:9/")
    done = subprocess.run(crawl_command(), cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    errors = [line for line in done.stderr.splitlines() if " ERROR: " in line]
    assert done.returncode == 2 and len(errors) == 1 and "REDIS_URL: Redis does not answer" in errors[0], done.stderr
    assert "Traceback" not in done.stderr and len(replica.requests) == before


def test_a_distributed_crawl_without_mongodb_is_refused_before_any_request(replica):
    """A feed cannot be a distributed crawl's store: a killed process's unflushed lines were lost although their
    leases had ended (one article of 146), and a line misses the channels peers find later."""
    before = len(replica.requests)
    env = replica.crawl_environment(REDIS_URL="redis://127.0.0.1:9/0")
    done = subprocess.run(crawl_command(), cwd=PROJECT, env=env, capture_output=True, text=True, timeout=120)
    errors = [line for line in done.stderr.splitlines() if " ERROR: " in line]
    assert done.returncode == 2 and len(errors) == 1 and "REDIS_URL without MONGO_URI" in errors[0], done.stderr
    assert len(replica.requests) == before


# --- settings ----------------------------------------------------------------------------------------------------


def project_settings(**cmdline: str) -> Settings:
    settings = Settings()
    settings.setmodule("gansunews.settings", priority="project")
    settings.setdict(cmdline, priority="cmdline")
    return settings


def test_precedence_cmdline_then_environment_then_defaults():
    settings = project_settings(GANSUNEWS_PAGE_LOOKAHEAD="3")
    env = {"GANSUNEWS_PAGE_LOOKAHEAD": "7", "GANSUNEWS_READ_WORKERS": "2", "MONGO_DATABASE": "other", "HOME": "/x"}
    applied = apply_environment(settings, env)
    assert sorted(applied) == ["GANSUNEWS_PAGE_LOOKAHEAD", "GANSUNEWS_READ_WORKERS", "MONGO_DATABASE"]
    assert settings.getint("GANSUNEWS_PAGE_LOOKAHEAD") == 3  # -s wins
    assert settings.getint("GANSUNEWS_READ_WORKERS") == 2 and settings["MONGO_DATABASE"] == "other"
    assert settings.getpriority("GANSUNEWS_READ_WORKERS") == ENVIRONMENT_PRIORITY


@pytest.mark.parametrize(
    ("text", "value"), [("true", True), ("True", True), ("1", True), ("false", False), ("0", False)]
)
def test_booleans_parse_as_scrapy_parses_them(text, value):
    settings = project_settings()
    apply_environment(settings, {"GANSUNEWS_PLAYWRIGHT_ENABLED": text})
    check(settings)
    assert settings.getbool("GANSUNEWS_PLAYWRIGHT_ENABLED") is value


def test_a_setting_that_does_not_parse_is_named():
    with pytest.raises(SettingsError, match="GANSUNEWS_MIN_DELAY='soon': expected a number"):
        check(project_settings(GANSUNEWS_MIN_DELAY="soon"))


def test_user_agent_names_the_project_and_the_contact():
    assert user_agent("ops@example.org").startswith("gansunews/") and "+ops@example.org" in user_agent(
        "ops@example.org"
    )


def test_readme_settings_table_lists_every_setting_and_no_other():
    table = README[README.index("## Settings") : README.index("## Dependencies")]
    listed = set(re.findall(r"^\| `([A-Z_]+)`", table, re.M))
    defaults = set(project_defaults())
    assert defaults - listed == set(), "settings missing from the README table"
    environment_only = {"GANSUNEWS_LOG_LEVEL"}
    assert {n for n in listed if n.startswith("GANSUNEWS_")} - defaults - environment_only == set(), "stale rows"


def test_environment_and_cmdline_reach_the_spider(data_drawn_replica, tmp_path):
    """Rendering off from the environment; `-s` turns it back on: the JS-drawn list is read only then."""
    _, replica = data_drawn_replica
    off = run_crawl(replica.proxy_url, tmp_path / "off", "max_pages=1", env={"GANSUNEWS_PLAYWRIGHT_ENABLED": "false"})
    on = run_crawl(
        replica.proxy_url,
        tmp_path / "on",
        "max_pages=1",
        env={"GANSUNEWS_PLAYWRIGHT_ENABLED": "false"},
        settings={"GANSUNEWS_PLAYWRIGHT_ENABLED": "true"},
    )
    assert off.stat("listing/needs_browser_disabled") >= 1 and off.stat("listing/rendered") == 0
    assert on.stat("listing/rendered") >= 1 and on.stat("listing/needs_browser_disabled") == 0


# --- politeness, ports, secrets ----------------------------------------------------------------------------------


@pytest.fixture
def slow_replica():
    server = ReplicaServer(Site(seed=7))
    server.delay = 0.15  # every page: requests overlap, so concurrency shows
    yield server.start()
    server.stop()


def test_requests_in_flight_across_hosts_stay_within_the_sites_limit(slow_replica, tmp_path):
    # no rendering: a page Chromium renders adds its own script requests, outside Scrapy's slots (README). A delay as
    # a real crawl has one (0.25 s): Scrapy 2.19 counts a request against its slot only once its task runs, and with
    # the 1 ms guard of a delay-less crawl, an event loop stalled past it between two starts (a garbage collection
    # on this loaded 2-core machine) can let a fifth start: the likely cause, read in Scrapy's code and not
    # reproduced, of 5 in flight once in CI (2026-12-03; gansunews/config.py)
    env = {"GANSUNEWS_PLAYWRIGHT_ENABLED": "false", "GANSUNEWS_MIN_DELAY": "0.05"}
    result = run_crawl(slow_replica.proxy_url, tmp_path, "since=2024-03-01", "max_pages=2", env=env)
    hosts = {re.sub(r"^https?://([^/]+).*", r"\1", url) for url in slow_replica.requests}
    assert result.returncode == 0 and len(hosts) >= 2  # www and gansu: one origin
    # CONCURRENT_REQUESTS_PER_DOMAIN for the whole site, not per host
    assert 2 <= slow_replica.max_in_flight <= 4, slow_replica.peak


def test_a_default_crawl_opens_no_port_and_names_a_contact(replica, tmp_path):
    result = run_crawl(replica.proxy_url, tmp_path, "max_pages=1", env={"GANSUNEWS_CONTACT": "ops@example.org"})
    extensions = result.log.split("Enabled extensions:", 1)[1].split("]", 1)[0]
    assert "TelnetConsole" not in extensions and "RemoteControl" not in extensions
    assert "Telnet Password" not in result.log and "listening" not in result.log.lower()
    assert re.search(r"'USER_AGENT': 'gansunews/[^']*\+ops@example\.org", result.log)


def test_passwords_never_reach_the_log(replica, tmp_path):
    secret = "s3cret-Pa55"
    uri = f"mongodb://gansu:{secret}@127.0.0.1:9/"  # nothing listens: the crawl closes at start
    result = run_crawl(
        replica.proxy_url, tmp_path, "max_pages=1", env={"MONGO_URI": uri, "GANSUNEWS_MONGO_TIMEOUT_MS": "300"}
    )
    assert result.stats["finish_reason"] == "mongodb_unreachable"
    assert secret not in result.log and "mongodb://gansu:***@127.0.0.1:9/" in result.log


def test_redact_masks_passwords_only():
    assert (
        redact.redact("at mongodb://u:p@h:1/db, redis://:pw@r:6379/0")
        == "at mongodb://u:***@h:1/db, redis://:***@r:6379/0"
    )
    assert redact.redact("https://gansu.gscn.com.cn/a:b@c") == "https://gansu.gscn.com.cn/a:b@c"  # no userinfo


# --- progress ----------------------------------------------------------------------------------------------------


def test_progress_is_logged_and_kept_in_the_crawl_record(mongo_db, slow_replica, tmp_path):
    slow_replica.delay = 0.05
    result = crawl_into(
        mongo_db, slow_replica.proxy_url, tmp_path, "since=2024-03-01", settings={"GANSUNEWS_PROGRESS_SECONDS": "0.5"}
    )
    lines = [line for line in result.log.splitlines() if "progress: channels" in line]
    assert lines and re.search(r"articles \d+ listed, \d+ fetched, \d+ stored; \d+/min; left: ", lines[-1])
    record = mongo_db.crawls.find_one({"_id": result.stats["gansunews/crawl_id"]})
    assert record["progress"]["channels_discovered"] > 0 and "minutes_left" in record["progress"]
