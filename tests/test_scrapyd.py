"""Operations against a real scrapyd on loopback: the egg (with its package data) uploaded through
addversion.json, a job scheduled with arguments against the replica, its job id in every item and in `crawls`,
and `python -m gansunews schedule`."""

from __future__ import annotations

import configparser
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
import zipfile
from datetime import date
from pathlib import Path

import pytest
from pymongo import MongoClient

from gansunews.schedule import PLANS, crontab, schedule
from tests.conftest import PROJECT, missing_service
from tests.services import free_port

SINCE = "2024-01-01"


def post(url: str, fields: dict[str, str], files: dict[str, bytes] | None = None) -> dict:
    """A multipart POST (scrapyd's addversion.json wants the egg as a file field)."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields.items()
    ]
    parts += [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"; filename="{k}.egg"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + data
        + b"\r\n"
        for k, data in (files or {}).items()
    ]
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)


def get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


@pytest.fixture(scope="module")
def egg(tmp_path_factory) -> Path:
    deploy = shutil.which("scrapyd-deploy", path=str(Path(sys.executable).parent))
    if deploy is None:
        missing_service("scrapyd-client is not installed")
    path = tmp_path_factory.mktemp("egg") / "gansunews.egg"
    subprocess.run([deploy, f"--build-egg={path}"], cwd=PROJECT, check=True, capture_output=True)
    return path


def test_egg_carries_the_division_table_and_settings(egg):
    names = zipfile.ZipFile(egg).namelist()
    assert "gansunews/data/gansu_divisions.csv" in names and "gansunews/settings.py" in names
    assert "gansunews/commands/crawl.py" in names and "gansunews/spiders/discovery.py" in names
    assert not any(name.startswith("tests/") for name in names)


@pytest.fixture(scope="module")
def scrapyd(tmp_path_factory, replica, mongo_server):
    binary = shutil.which("scrapyd", path=str(Path(sys.executable).parent))
    if binary is None:
        missing_service("scrapyd is not installed")
    home = tmp_path_factory.mktemp("scrapyd")
    port = free_port()
    config = configparser.ConfigParser()
    config.read(PROJECT / "deploy/scrapyd.conf", encoding="utf-8")  # the documented example, on loopback
    config["scrapyd"].update(
        {
            "http_port": str(port),
            "poll_interval": "0.5",
            **{
                name: str(home / name.removesuffix("_dir"))
                # a jobs_dir of the operator's own too: scrapyd then passes a JOBDIR, which the crawl drops
                for name in ("eggs_dir", "dbs_dir", "logs_dir", "items_dir", "jobs_dir")
            },
        }
    )
    with (home / "scrapyd.conf").open("w", encoding="utf-8") as file:
        config.write(file)
    uri = os.environ.get("MONGO_URI") or mongo_server.uri
    env = {
        **os.environ,
        "http_proxy": replica.proxy_url,
        "https_proxy": replica.proxy_url,
        "MONGO_URI": uri,
        "MONGO_DATABASE": "scrapyd_test",
        "GANSUNEWS_SPOOL_DIR": str(home / "spool"),
    }
    env.pop("PYTHONPATH", None)  # the crawl must run from the egg, not from this checkout
    log = home / "scrapyd.log"  # a file, not a pipe nobody reads: a full pipe would block scrapyd (see FerretDB)
    with log.open("ab") as stderr:
        process = subprocess.Popen([binary], cwd=home, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            get(f"{url}/daemonstatus.json")
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(log.read_text(encoding="utf-8", errors="replace")[-2000:]) from None
            time.sleep(0.2)
    MongoClient(uri).drop_database("scrapyd_test")
    yield url, home, uri
    process.terminate()
    process.wait(timeout=20)


def wait_for(url: str, job: str, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        jobs = get(f"{url}/listjobs.json?project=gansunews")
        done = [j for j in jobs.get("finished", []) if j["id"] == job]
        if done:
            return done[0]
        time.sleep(1)
    raise TimeoutError(f"job {job} did not finish: {jobs}")


def test_deployed_job_crawls_the_replica_with_its_job_id(scrapyd, egg, site):
    url, home, uri = scrapyd
    added = post(f"{url}/addversion.json", {"project": "gansunews", "version": "1"}, {"egg": egg.read_bytes()})
    assert added["status"] == "ok" and added["spiders"] == 2, added  # gscn and gscn-survey
    scheduled = post(
        f"{url}/schedule.json",
        {"project": "gansunews", "spider": "gscn", "since": SINCE, "setting": "AUTOTHROTTLE_ENABLED=0"},
    )
    job = scheduled["jobid"]
    wait_for(url, job)
    items_file = home / "items" / "gansunews" / "gscn" / f"{job}.jl"
    items = [json.loads(line) for line in items_file.read_text(encoding="utf-8").splitlines()]
    log = (home / "logs" / "gansunews" / "gscn" / f"{job}.log").read_text(encoding="utf-8")
    assert {i["article_id"] for i in items} == site.expected_ids(date.fromisoformat(SINCE)), log[-3000:]
    assert {i["crawl"]["job_id"] for i in items} == {job}
    record = MongoClient(uri).scrapyd_test.crawls.find_one({"job_id": job})
    assert record and record["finish_reason"] == "finished"
    assert "ignored: a stopped crawl resumes by itself" in log and not (home / "jobs").exists()


def test_schedule_command_uses_the_scrapyd_api(scrapyd, egg):
    url, _, uri = scrapyd
    post(f"{url}/addversion.json", {"project": "gansunews", "version": "2"}, {"egg": egg.read_bytes()})
    job = schedule(PLANS["region-longdong"], url, "gansunews", since_days=900, settings={"AUTOTHROTTLE_ENABLED": "0"})
    finished = wait_for(url, job)
    assert finished["spider"] == "gscn"
    record = MongoClient(uri).scrapyd_test.crawls.find_one({"job_id": job})
    assert record["args"]["regions"] == ["620800", "621000"]


def test_a_job_with_a_misspelled_argument_fails_with_one_plain_line(scrapyd, egg, replica):
    url, home, _ = scrapyd
    post(f"{url}/addversion.json", {"project": "gansunews", "version": "3"}, {"egg": egg.read_bytes()})
    before = len(replica.requests)
    job = post(f"{url}/schedule.json", {"project": "gansunews", "spider": "gscn", "sinse": SINCE})["jobid"]
    wait_for(url, job)
    log = (home / "logs" / "gansunews" / "gscn" / f"{job}.log").read_text(encoding="utf-8")
    errors = [line for line in log.splitlines() if " ERROR: " in line]
    assert len(errors) == 1 and "unknown argument 'sinse'" in errors[0] and "since" in errors[0], log[-2000:]
    assert "Traceback" not in log and len(replica.requests) == before


def test_crontab_lines_schedule_every_plan(tmp_path):
    text = crontab("https://ops:s3cret@127.0.0.1:6800", "gansunews", log_dir=tmp_path / "logs")
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    assert len(lines) == len(PLANS)
    assert all(" -m gansunews schedule run " in line and len(line.split()[:5]) == 5 for line in lines)
    assert all(
        f"mkdir -p {tmp_path / 'logs'} " in line and f">> {tmp_path / 'logs' / 'schedule.log'}" in line
        for line in lines
    )
    assert "s3cret" not in text and "/var/log" not in text  # no password in a crontab; no root needed


def test_crontab_logs_to_the_users_state_directory_by_default(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    assert f">> {tmp_path / 'gansunews' / 'schedule.log'}" in crontab("http://127.0.0.1:6800", "gansunews")
