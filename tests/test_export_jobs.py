"""Export and finalise jobs render in a child process (drafting/export/child.py).

The server's job compiles the outline and hands it to ``python -m drafting.export.child``;
these tests run that real child: its bytes equal an in-process rendering of the same outline,
its progress reaches the owner's socket in order, and a child that is too slow, crashes or is
killed ends its job as failed with a clear message (never a hung job, never a 500).
Finalising is a job too: every format once, all or nothing, one at a time.
"""
from __future__ import annotations

import itertools
import os
import re
import signal
import threading
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask_babel import force_locale
from sqlalchemy import func, select

from drafting.errors import Unavailable
from drafting.export import child, jobs, services
from models import Conference, OutcomeDocument, db
from tests.helpers.exports import (  # noqa: F401 - export_world and final_quickly are fixtures
    FIRST,
    QUICK,
    TEXTUAL,
    every_turn_taken,
    export_world,
    final_quickly,
    settle,
    signed_in,
    stored,
    wait_for,
)

#: Deterministic formats: the same outline gives the same bytes.
DETERMINISTIC = [name for name in ("md", "json") if services.is_available(services.FORMATS[name])]


def children_of_this_process() -> list[int]:
    """The export children this test process has running now (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"drafting.export.child" in command:
            found.append(int(entry.name))
    return found


def job_events(socket, job_id: int, *, timeout: float = 10) -> list[tuple[str, dict]]:
    events: list[tuple[str, dict]] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not any(n == "export_finished" for n, _p in events):
        events += [(m["name"], m["args"][0]) for m in socket.get_received()
                   if m["name"] in {"export_progress", "export_finished"} and m["args"][0]["job"] == job_id]
        time.sleep(0.02)
    return events


# --- the child process ------------------------------------------------------------------


@pytest.mark.skipif(not DETERMINISTIC, reason="no Markdown or JSON renderer")
def test_the_child_renders_the_same_bytes_as_this_process(app, world):
    with app.app_context(), force_locale("en"):
        outline = services.outline_of(db.session.get(Conference, world.conference))
        formats = [services.FORMATS[name] for name in DETERMINISTIC]
        reports: list[float] = []
        here = services.render_formats(outline, formats, changes=True)
        there = child.render_in_child(outline, formats, changes=True, locale="en",
                                      config=child.child_config(app), progress=reports.append)
    assert there == here and all(there)
    assert reports == sorted(reports) and reports[-1] == 1.0
    assert children_of_this_process() == []


def test_an_export_job_runs_in_a_child_and_reports_in_order(app, world, socket_test_client):
    client = signed_in(app, world.cast.secretariat)
    socket = socket_test_client(app, flask_test_client=client)
    socket.get_received()
    started = client.api("POST", f"/api/v1/conferences/{world.conference}/exports",
                         {"format": TEXTUAL})
    assert started.status_code == 202
    job = started.get_json()
    assert job["kind"] == "export" and job["status"] in ("queued", "running")
    seen = wait_for(client, job["id"])
    statuses = [answer["status"] for answer in [job, *seen]]
    order = ["queued", "running", "finished"]
    assert [order.index(s) for s in statuses] == sorted(order.index(s) for s in statuses)
    assert statuses[-1] == "finished"
    events = job_events(socket, job["id"])
    progress = [payload["progress"] for name, payload in events if name == "export_progress"]
    # Compiled here (5, 20); the child's own report of the rendering, mapped to 20..99.
    assert progress == sorted(progress) and len(set(progress)) == len(progress)
    assert progress[:2] == [5, 20] and progress[-1] == 99
    assert [name for name, _p in events] == ["export_progress"] * len(progress) + ["export_finished"]
    assert events[-1][1] == {"job": job["id"], "kind": "export", "status": "finished",
                             "progress": 100, "error": None}
    file = client.get(seen[-1]["download_url"])
    assert FIRST in file.get_data(as_text=True)
    socket.disconnect()


def test_a_child_past_the_timeout_is_killed_and_its_job_fails(app, world, monkeypatch):
    # Far shorter than a child needs to start: it is killed, whatever the format.
    monkeypatch.setitem(app.config, "EXPORT_TIMEOUT_SECONDS", 0.2)
    client = signed_in(app, world.cast.secretariat)
    job = client.api("POST", f"/api/v1/conferences/{world.conference}/exports",
                     {"format": TEXTUAL}).get_json()
    ended = wait_for(client, job["id"])[-1]
    assert ended["status"] == "failed" and ended["download_url"] is None
    assert "took longer than 0.2 seconds" in ended["error"]
    assert children_of_this_process() == []
    # The job's page says so (no 500), and there is nothing to download.
    page = client.get(f"/export/jobs/{job['id']}/progress")
    assert page.status_code == 200 and "took longer than 0.2 seconds" in page.get_data(as_text=True)
    assert client.get(f"/export/jobs/{job['id']}/download").status_code == 409


def test_a_child_that_crashes_fails_with_a_clear_message(app):
    # Not an outline: the renderer raises in the child, which exits with status 1.
    with app.app_context(), force_locale("en"), pytest.raises(Unavailable) as failed:
        child.render_in_child("not an outline", ["md"], locale="en", config=child.child_config(app))
    assert "The export failed (status 1)" in failed.value.message
    assert "has been logged" in failed.value.message
    assert children_of_this_process() == []


def test_a_child_killed_by_the_system_fails_with_a_clear_message(app, world):
    with app.app_context():
        outline = services.outline_of(db.session.get(Conference, world.conference))
    outcome: dict[str, Any] = {}

    def render() -> None:
        with app.app_context(), force_locale("en"):
            try:
                child.render_in_child(outline, ["md"], locale="en", config=child.child_config(app))
            except Unavailable as error:
                outcome["error"] = error.message

    thread = threading.Thread(target=render)
    thread.start()
    deadline = time.monotonic() + 10
    while not (running := children_of_this_process()) and time.monotonic() < deadline:
        time.sleep(0.005)
    assert running, "the child did not start"
    os.kill(running[0], signal.SIGKILL)  # what the kernel's OOM killer sends
    thread.join(30)
    assert "stopped by the system" in outcome["error"]
    assert children_of_this_process() == []


def test_rendering_in_the_server_process_remains_possible(app, world, monkeypatch):
    monkeypatch.setitem(app.config, "EXPORT_IN_CHILD_PROCESS", False)
    # A timeout only a child can honour: in this process it does not apply.
    monkeypatch.setitem(app.config, "EXPORT_TIMEOUT_SECONDS", 0.001)
    client = signed_in(app, world.cast.secretariat)
    job = client.api("POST", f"/api/v1/conferences/{world.conference}/exports",
                     {"format": TEXTUAL}).get_json()
    ended = wait_for(client, job["id"])[-1]
    assert ended["status"] == "finished"
    assert FIRST in client.get(ended["download_url"]).get_data(as_text=True)


@pytest.mark.skipif(not services.is_available(services.FORMATS["docx"]), reason="no DOCX renderer")
def test_a_direct_download_of_a_heavy_format_renders_in_a_child_too(app, world, monkeypatch):
    client = signed_in(app, world.cast.secretariat)
    url = f"/conferences/{world.conference}/export/download?format=docx"
    monkeypatch.setitem(app.config, "EXPORT_TIMEOUT_SECONDS", 0.2)
    refused = client.get(url)
    assert refused.status_code == 503  # the friendly error page, not a 500
    assert "took longer than 0.2 seconds" in refused.get_data(as_text=True)
    monkeypatch.setitem(app.config, "EXPORT_TIMEOUT_SECONDS", 300)
    file = client.get(url)
    assert file.status_code == 200 and file.data.startswith(b"PK")
    assert children_of_this_process() == []


# --- finalising is a job ----------------------------------------------------------------


def finalise_count(app, conference_id: int) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(OutcomeDocument).where(
            OutcomeDocument.conference_id == conference_id))


def test_finalising_runs_once_and_stores_every_format_once(app, world, quick_final, socket_test_client):
    settle(app, world)
    client = signed_in(app, world.cast.secretariat)
    socket = socket_test_client(app, flask_test_client=client)
    socket.get_received()
    url = f"/api/v1/conferences/{world.conference}/finalise"
    first = client.api("POST", url)
    assert first.status_code == 202
    job = first.get_json()
    assert job["kind"] == "finalise" and job["format"] is None and job["download_url"] is None
    # While it runs, a second is refused, through the API and the page alike.
    second = client.api("POST", url)
    assert second.status_code == 409
    assert "being finalised already" in second.get_json()["error"]["message"]
    page = client.submit(f"/conferences/{world.conference}/finalise", {"confirm": "1"})
    assert page.status_code == 409 and "being finalised already" in page.get_data(as_text=True)
    ended = wait_for(client, job["id"])[-1]
    assert ended["status"] == "finished" and ended["final"] is True and ended["download_url"] is None
    assert sorted(stored(app, world.conference)) == sorted(QUICK)
    assert finalise_count(app, world.conference) == len(QUICK)
    events = job_events(socket, job["id"])
    progress = [payload["progress"] for name, payload in events if name == "export_progress"]
    assert progress == sorted(progress) and progress[0] == 10 and 10 < progress[-1] < 100
    assert events[-1] == ("export_finished", {"job": job["id"], "kind": "finalise",
                                              "status": "finished", "progress": 100, "error": None})
    # Once final, never again; a finalise job has no file of its own.
    again = client.api("POST", url)
    assert again.status_code == 409 and "already final" in again.get_json()["error"]["message"]
    assert client.get(f"/export/jobs/{job['id']}/download").status_code == 404
    socket.disconnect()


def test_a_finalisation_that_fails_stores_nothing(app, world, quick_final, monkeypatch):
    settle(app, world)
    client = signed_in(app, world.cast.secretariat)
    monkeypatch.setitem(app.config, "EXPORT_TIMEOUT_SECONDS", 0.2)
    job = client.api("POST", f"/api/v1/conferences/{world.conference}/finalise").get_json()
    ended = wait_for(client, job["id"])[-1]
    assert ended["status"] == "failed" and "took longer than" in ended["error"]
    assert finalise_count(app, world.conference) == 0
    page = client.get(f"/conferences/{world.conference}/export").get_data(as_text=True)
    assert 'data-export-status="ready"' in page  # still a draft, and may be finalised
    # Nothing half-done stands in the way of the next attempt.
    monkeypatch.setitem(app.config, "EXPORT_TIMEOUT_SECONDS", 300)
    retry = client.api("POST", f"/api/v1/conferences/{world.conference}/finalise").get_json()
    assert wait_for(client, retry["id"])[-1]["status"] == "finished"
    assert finalise_count(app, world.conference) == len(QUICK)


def test_the_finalise_form_follows_its_job_on_a_page_without_scripts(app, world, quick_final):
    settle(app, world)
    client = signed_in(app, world.cast.secretariat)
    started = client.submit(f"/conferences/{world.conference}/finalise", {"confirm": "1"})
    assert started.status_code == 302
    page_url = started.headers["Location"]
    job_id = int(re.fullmatch(r"/export/jobs/(\d+)/progress", page_url).group(1))
    running = client.get(page_url).get_data(as_text=True)
    if 'data-export-job-status="finished"' not in running:
        assert '<meta http-equiv="refresh" content="1">' in running and "<progress" in running
        assert 'data-export-job-kind="finalise"' in running
    assert wait_for(client, job_id)[-1]["status"] == "finished"
    done = client.get(page_url).get_data(as_text=True)
    assert "http-equiv" not in done and "The outcome document is final." in done
    assert f'href="/conferences/{world.conference}/export#final"' in done
    # Only the secretariat finalises; others do not see the job either.
    chair = signed_in(app, world.cast.chair)
    assert chair.submit(f"/conferences/{world.conference}/finalise", {"confirm": "1"}).status_code == 403
    assert chair.get(page_url).status_code == 404


def test_the_export_page_offers_the_live_progress_to_its_script(app, world):
    client = signed_in(app, world.cast.secretariat)
    page = client.get(f"/conferences/{world.conference}/export").get_data(as_text=True)
    assert re.search(r'<script type="module" src="/static/dist/export-[A-Z2-7]{8}\.js">', page)
    assert f'data-api-url="/api/v1/conferences/{world.conference}/exports"' in page
    assert f'data-api-url="/api/v1/conferences/{world.conference}/finalise"' in page
    assert page.count("data-export-jobs") == 2
    assert 'data-running="Exporting {format}…"' in page
    chair = signed_in(app, world.cast.chair)
    section = chair.get(f"/groups/{world.group}/export").get_data(as_text=True)
    assert f'data-group-id="{world.group}"' in section and "data-export-finalise" not in section


def test_a_job_store_refuses_a_second_finalisation_of_one_conference_only():
    from drafting.errors import Conflict

    store = jobs.JobStore()

    def finalising(n: int, conference: int, owner: int) -> jobs.ExportJob:
        return jobs.ExportJob(id=n, owner_id=owner, conference_id=conference, group_id=None,
                              format=None, changes=False, locale="en", kind=jobs.FINALISE)

    store.add(finalising(1, conference=1, owner=1))
    with pytest.raises(Conflict):
        store.add(finalising(2, conference=1, owner=2))  # another person: refused all the same
    store.add(finalising(3, conference=2, owner=2))
    store.update(1, status=jobs.FAILED, finished_at=jobs.utcnow())
    store.add(finalising(4, conference=1, owner=2))  # the first ended: a new attempt may start


# --- under gevent, as deployed ----------------------------------------------------------

GEVENT_SCRIPT = """
from gevent import monkey
monkey.patch_all()

import json, pickle, sys
import gevent
from flask_babel import force_locale
from drafting import create_app
from drafting.export import child

outline = pickle.loads(open(sys.argv[1], "rb").read())
app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SOCKETIO_ASYNC_MODE": "gevent",
                  "VOTE_DEADLINE_POLL_SECONDS": 0})
beats, reports = [0], []

def beat():
    while True:
        gevent.sleep(0.01)
        beats[0] += 1

def report(progress):
    reports.append((progress, beats[0]))

def render():
    with app.app_context(), force_locale("en"):
        return child.render_in_child(outline, ["md"], locale="en", progress=report,
                                     config=child.child_config(app))

ticker = gevent.spawn(beat)
gevent.sleep(0.05)
before = beats[0]
[data] = gevent.spawn(render).get()
ticker.kill()
open(sys.argv[2], "wb").write(data)
print(json.dumps({"reports": reports, "before": before}))
"""


@pytest.mark.skipif("md" not in DETERMINISTIC, reason="no Markdown renderer")
def test_under_gevent_waiting_for_the_child_holds_no_other_greenlet(app, world, tmp_path):
    """The server's greenlet that follows a child yields while it waits: another greenlet of
    the process keeps beating while the child starts and renders."""
    import json
    import pickle
    import subprocess
    import sys

    with app.app_context(), force_locale("en"):
        outline = services.outline_of(db.session.get(Conference, world.conference))
        [expected] = services.render_formats(outline, [services.FORMATS["md"]])
    (tmp_path / "outline.pickle").write_bytes(pickle.dumps(outline))
    result = subprocess.run(  # noqa: S603 - this interpreter and our own script
        [sys.executable, "-c", GEVENT_SCRIPT, str(tmp_path / "outline.pickle"), str(tmp_path / "out.md")],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    measured = json.loads(result.stdout.strip().splitlines()[-1])
    assert (tmp_path / "out.md").read_bytes() == expected
    reports = measured["reports"]
    assert reports and reports[-1][0] == 1.0
    # The other greenlet beat on while this one waited for the child's first report (a new
    # Python process importing Plenary: the longest wait); a wait that held the process
    # would have left no beat in between.
    assert reports[0][1] - measured["before"] >= 2, measured


def test_jobs_beyond_the_concurrency_wait_their_turn(app, world):
    """A PDF takes every core and hundreds of MB: at most EXPORT_CONCURRENCY jobs of a
    process render at once; another waits, queued, and runs when a turn is free."""
    client = signed_in(app, world.cast.secretariat)
    with every_turn_taken(app) as asked:
        started = client.api("POST", f"/api/v1/conferences/{world.conference}/exports",
                             {"format": TEXTUAL})
        assert started.status_code == 202
        job_id = started.get_json()["id"]
        assert asked.wait(10), "the job never asked for a turn"
        waiting = client.get(f"/export/jobs/{job_id}").get_json()
        assert waiting["status"] == "queued" and waiting["progress"] == 0
        # The page without scripts says why nothing moves.
        page = client.get(f"/export/jobs/{job_id}/progress").get_data(as_text=True)
        assert "Waiting for other exports to finish…" in page
    assert wait_for(client, job_id)[-1]["status"] == "finished"


def test_five_formats_in_a_row_queue_and_run_in_turn(app, world):
    """Clicking five formats in a row: five jobs queued (none refused), which run one at a
    time in the order asked for, each ending before the next starts."""
    formats = [name for name in ("md", "json", "html", "akn", "docx", "pdf")
               if services.is_available(services.FORMATS[name])][:5]
    assert len(formats) == 5
    client = signed_in(app, world.cast.secretariat)
    url = f"/api/v1/conferences/{world.conference}/exports"
    with every_turn_taken(app) as asked:
        started = [client.api("POST", url, {"format": name}) for name in formats]
        assert [r.status_code for r in started] == [202] * 5, started[-1].get_data(as_text=True)
        ids = [r.get_json()["id"] for r in started]
        assert asked.wait(10), "the first job never asked for a turn"
        waiting = [client.get(f"/export/jobs/{job_id}").get_json() for job_id in ids]
        assert [j["status"] for j in waiting] == ["queued"] * 5
        assert all(j["started_at"] is None for j in waiting)
    ended = [wait_for(client, job_id)[-1] for job_id in ids]
    assert [j["status"] for j in ended] == ["finished"] * 5
    assert [j["format"] for j in ended] == formats
    for before, after in itertools.pairwise(ended):
        assert datetime.fromisoformat(before["finished_at"]) <= \
            datetime.fromisoformat(after["started_at"]), (before, after)
    assert [client.get(j["download_url"]).status_code for j in ended] == [200] * 5


def test_beyond_the_queues_bound_a_clear_refusal(app, world, monkeypatch):
    monkeypatch.setattr(jobs, "MAX_UNFINISHED_PER_OWNER", 2)
    client = signed_in(app, world.cast.secretariat)
    url = f"/api/v1/conferences/{world.conference}/exports"
    with every_turn_taken(app):
        accepted = [client.api("POST", url, {"format": TEXTUAL}) for _n in range(2)]
        assert [r.status_code for r in accepted] == [202, 202]
        refused = client.api("POST", url, {"format": TEXTUAL})
        assert refused.status_code == 429
        assert refused.get_json()["error"]["message"] == (
            "You already have 2 exports waiting or running; wait for one to finish before "
            "asking for another.")
        # The page's form (no script) says the same on a page, not a 500.
        page = client.submit(f"/conferences/{world.conference}/export/jobs", {"format": TEXTUAL})
        assert page.status_code == 429
        assert "You already have 2 exports waiting or running" in page.get_data(as_text=True)
        # Someone else's export is not held up by this person's queue.
        chair = signed_in(app, world.cast.chair)
        other = chair.api("POST", url, {"format": TEXTUAL, "group_id": world.group})
        assert other.status_code == 202
    for response in [*accepted, other]:
        client_of = chair if response is other else client
        assert wait_for(client_of, response.get_json()["id"])[-1]["status"] == "finished"
