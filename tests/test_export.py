"""Exporting the outcome document: who may export what, drafts and the final document,
background jobs, the export page, the API and the command line.

The renderers themselves (content, numbering, inertness of user text in each format) are
tested in their own files; here Markdown and HTML (fast) carry the checks, and the PDF and
DOCX renderers run once, in the one test that finalises every format.
"""
from __future__ import annotations

import hashlib
import re
import time
from typing import Any

import pytest
from sqlalchemy import func, select

from drafting.export import jobs, services
from models import (
    OutcomeDocument,
    Participant,
    db,
    utcnow,
)
from tests.helpers.exports import (  # noqa: F401 - export_world and final_quickly are fixtures
    AVAILABLE,
    FIRST,
    OTHER,
    PREAMBULAR,
    QUICK,
    SECOND,
    TEXTUAL,
    World,
    disposition_name,
    download,
    export_world,
    final_quickly,
    finalise_on_the_page,
    settle,
    signed_in,
    stored,
    wait_for,
)

# --- who may export what ----------------------------------------------------------------


@pytest.mark.parametrize(("role", "status"), [
    ("secretariat", 200), ("chair", 403), ("member", 403), ("observer", 403),
    ("other_chair", 403), ("outsider", 404)])
def test_the_secretariat_exports_the_whole_conference(app, world, role, status):
    client = signed_in(app, getattr(world.cast, role))
    assert download(client, world).status_code == status
    assert client.get(f"/conferences/{world.conference}/export").status_code == status
    assert client.get(f"/conferences/{world.conference}/export/preview").status_code == status


@pytest.mark.parametrize(("role", "status"), [
    ("secretariat", 200), ("chair", 200), ("member", 403), ("observer", 403),
    ("other_chair", 403), ("outsider", 404)])
def test_a_chair_exports_their_own_groups_section(app, world, role, status):
    client = signed_in(app, getattr(world.cast, role))
    assert download(client, world, group=world.group).status_code == status
    assert client.get(f"/groups/{world.group}/export").status_code == status


def test_a_group_section_holds_only_that_group_and_is_a_draft(app, world):
    client = signed_in(app, world.cast.chair)
    response = download(client, world, "md", group=world.group)
    text = response.get_data(as_text=True)
    assert disposition_name(response) == f"outcome-{world.conference}-group-{world.group}-draft.md"
    assert "Labour migration" in text and FIRST in text
    assert OTHER not in text and "Ethnic migration" not in text
    # Another group's section is not this chair's.
    assert download(client, world, group=world.other_group).status_code == 403
    settle(app, world)
    other = signed_in(app, world.cast.other_chair)
    response = download(other, world, "md", group=world.other_group)
    assert response.status_code == 200 and OTHER in response.get_data(as_text=True)
    # Nothing pending in that group, and still a draft: a section is never the outcome.
    assert "DRAFT" in response.get_data(as_text=True)
    assert "-draft" in disposition_name(response)


def test_an_unknown_format_is_refused(app, world):
    client = signed_in(app, world.cast.secretariat)
    assert download(client, world, "rtf").status_code == 400


# --- drafts and the final document ------------------------------------------------------


def test_a_draft_is_marked_and_lists_what_is_pending(app, world):
    client = signed_in(app, world.cast.secretariat)
    response = download(client, world, "md")
    text = response.get_data(as_text=True)
    assert disposition_name(response) == f"outcome-{world.conference}-draft.md"
    assert "DRAFT" in text and "Still being drafted" in text
    assert "Member Person" in text and "Hidden Person" not in text  # opted out of publication
    page = client.get(f"/conferences/{world.conference}/export").get_data(as_text=True)
    assert 'data-export-status="draft"' in page
    assert f'data-pending-kind="recommendation" data-pending-id="{world.pending_recommendation}"' in page
    assert f'data-pending-kind="vote" data-pending-id="{world.open_vote}"' in page
    # Nothing stored; the changes version is a draft too.
    assert stored(app, world.conference) == {}
    changes = download(client, world, "md", changes=True)
    assert disposition_name(changes) == f"outcome-{world.conference}-draft-changes.md"


def test_finalise_is_refused_while_anything_is_pending(app, world, quick_final):
    client = signed_in(app, world.cast.secretariat)
    refused = client.submit(f"/conferences/{world.conference}/finalise", {"confirm": "1"})
    assert refused.status_code == 409
    page = refused.get_data(as_text=True)
    assert "pending" in page and "Still being drafted" in page
    assert stored(app, world.conference) == {}
    # Without the confirmation box ticked, nothing happens either.
    settle(app, world)
    unconfirmed = client.submit(f"/conferences/{world.conference}/finalise", {})
    assert unconfirmed.status_code == 400 and stored(app, world.conference) == {}
    done = finalise_on_the_page(client, world)
    assert done["status"] == "finished" and done["kind"] == "finalise" and done["final"] is True
    assert done["download_url"] is None  # the stored files are downloaded from the page
    documents = stored(app, world.conference)
    assert sorted(documents) == sorted(QUICK)
    for document in documents.values():
        assert document.sha256 == hashlib.sha256(document.data).hexdigest()
        assert document.size == len(document.data)
        assert document.created_by_id == world.cast.secretariat.id
    page = client.get(f"/conferences/{world.conference}/export").get_data(as_text=True)
    assert 'data-export-status="final"' in page
    for document in documents.values():
        assert document.sha256 in page
    # A second finalise is refused and changes nothing.
    again = client.submit(f"/conferences/{world.conference}/finalise", {"confirm": "1"})
    assert again.status_code == 409
    assert {k: d.sha256 for k, d in stored(app, world.conference).items()} == {
        k: d.sha256 for k, d in documents.items()}


def test_final_bytes_are_served_exactly_on_every_download(app, world, quick_final):
    settle(app, world)
    client = signed_in(app, world.cast.secretariat)
    assert finalise_on_the_page(client, world)["status"] == "finished"
    documents = stored(app, world.conference)
    text = documents[TEXTUAL].data.decode()
    assert "DRAFT" not in text and FIRST in text and OTHER in text
    for name, document in documents.items():
        seen = [client.get(f"/conferences/{world.conference}/export/final/{name}"),
                client.get(f"/conferences/{world.conference}/export/final/{name}"),
                download(client, world, name)]
        for response in seen:
            assert response.status_code == 200
            assert response.data == document.data
            assert hashlib.sha256(response.data).hexdigest() == document.sha256
            assert disposition_name(response) == f"outcome-{world.conference}-final.{services.FORMATS[name].extension}"
    # The changes version and a group's section are still rendered afresh, as drafts.
    assert "-draft-changes" in disposition_name(download(client, world, TEXTUAL, changes=True))
    assert "-draft" in disposition_name(download(client, world, TEXTUAL, group=world.group))


def test_the_final_download_needs_a_final_document(app, world):
    client = signed_in(app, world.cast.secretariat)
    assert client.get(f"/conferences/{world.conference}/export/final/md").status_code == 404
    assert client.get(f"/conferences/{world.conference}/export/final/exe").status_code == 404


@pytest.mark.skipif(not {"pdf", "docx"} <= set(AVAILABLE), reason="PDF/DOCX renderers not present")
def test_finalising_stores_every_format(app, world):
    settle(app, world)
    client = signed_in(app, world.cast.secretariat)
    token = _token(app, world.cast.secretariat)
    response = client.api("POST", f"/api/v1/conferences/{world.conference}/finalise", token=token)
    assert response.status_code == 202, response.get_data(as_text=True)
    ended = wait_for(client, response.get_json()["id"], api_token=token)[-1]
    assert ended["status"] == "finished", ended
    listed = client.api("GET", f"/api/v1/conferences/{world.conference}/documents",
                        token=token).get_json()
    assert [d["format"] for d in listed] == list(services.FORMATS)
    documents = stored(app, world.conference)
    assert documents["pdf"].data.startswith(b"%PDF")
    assert documents["docx"].data.startswith(b"PK")
    for entry in listed:
        assert entry["sha256"] == documents[entry["format"]].sha256
        assert client.get(entry["download_url"]).data == documents[entry["format"]].data


# --- background jobs --------------------------------------------------------------------


def _token(app, participant) -> str:
    from tests.factories import Factories

    return Factories(app).api_token(participant)


def test_an_export_job_reports_progress_and_finishes(app, world):
    client = signed_in(app, world.cast.secretariat)
    started = client.api("POST", f"/api/v1/conferences/{world.conference}/exports",
                         {"format": TEXTUAL, "changes": False})
    assert started.status_code == 202, started.get_data(as_text=True)
    job = started.get_json()
    assert job["status"] in ("queued", "running", "finished") and job["final"] is False
    seen = wait_for(client, job["id"])
    progress = [s["progress"] for s in seen]
    assert progress == sorted(progress) and progress[-1] == 100
    assert seen[-1]["status"] == "finished" and seen[-1]["final"] is False
    assert seen[-1]["filename"] == f"outcome-{world.conference}-draft.{TEXTUAL}"
    file = client.get(seen[-1]["download_url"])
    assert file.status_code == 200 and len(file.data) == seen[-1]["size"]
    assert FIRST in file.get_data(as_text=True) and "DRAFT" in file.get_data(as_text=True)
    # The same job through the API, and nobody else's.
    polled = client.api("GET", f"/api/v1/exports/{job['id']}")
    assert polled.get_json()["status"] == "finished"
    other = signed_in(app, world.cast.chair)
    assert other.get(f"/export/jobs/{job['id']}").status_code == 404
    assert other.get(f"/export/jobs/{job['id']}/download").status_code == 404
    assert other.api("GET", f"/api/v1/exports/{job['id']}").status_code == 404


def test_a_job_of_the_final_document_serves_the_stored_bytes(app, world, quick_final):
    settle(app, world)
    token = _token(app, world.cast.secretariat)
    client = app.test_client()
    finalising = client.api("POST", f"/api/v1/conferences/{world.conference}/finalise", token=token)
    assert finalising.status_code == 202
    assert wait_for(client, finalising.get_json()["id"], api_token=token)[-1]["status"] == "finished"
    started = client.api("POST", f"/api/v1/conferences/{world.conference}/exports",
                         {"format": TEXTUAL}, token=token).get_json()
    seen = wait_for(client, started["id"], api_token=token)
    assert seen[-1]["final"] is True
    browser = signed_in(app, world.cast.secretariat)
    # A job belongs to its owner, whichever way they authenticate.
    file = browser.get(f"/export/jobs/{started['id']}/download")
    assert file.data == stored(app, world.conference)[TEXTUAL].data


def test_the_format_buttons_follow_the_job_on_a_page_without_scripts(app, world):
    client = signed_in(app, world.cast.chair)
    started = client.submit(f"/groups/{world.group}/export/jobs", {"format": TEXTUAL, "changes": "1"})
    assert started.status_code == 302
    page_url = started.headers["Location"]
    job_id = int(re.fullmatch(r"/export/jobs/(\d+)/progress", page_url).group(1))
    deadline = time.monotonic() + 60
    while True:
        page = client.get(page_url).get_data(as_text=True)
        if 'data-export-job-status="finished"' in page or time.monotonic() > deadline:
            break
        # Until it ends, the page reloads itself and shows the progress.
        assert '<meta http-equiv="refresh" content="1">' in page and "<progress" in page
        time.sleep(0.05)
    assert 'http-equiv="refresh"' not in page and "This is a draft." in page
    from tests.helpers.pages import base_head, executable_problems, read, structure_problems

    finished = read(client.get(page_url))
    head = base_head(read(app.test_client().get("/login")))
    assert not structure_problems(finished) and not executable_problems(finished, head)
    download = f"/export/jobs/{job_id}/download"
    assert f'href="{download}"' in page
    file = client.get(download)
    assert disposition_name(file) == f"outcome-{world.conference}-group-{world.group}-draft-changes.{TEXTUAL}"
    assert FIRST in file.get_data(as_text=True)
    # Someone else's job page does not exist for them; an unknown format is refused.
    assert signed_in(app, world.cast.secretariat).get(page_url).status_code == 404
    assert client.submit(f"/groups/{world.group}/export/jobs", {"format": "exe"}).status_code == 400
    assert client.submit(f"/conferences/{world.conference}/export/jobs",
                         {"format": TEXTUAL}).status_code == 403


def test_a_chair_starts_jobs_for_their_own_section_only(app, world):
    token = _token(app, world.cast.chair)
    client = app.test_client()
    url = f"/api/v1/conferences/{world.conference}/exports"
    assert client.api("POST", url, {"format": TEXTUAL}, token=token).status_code == 403
    assert client.api("POST", url, {"format": TEXTUAL, "group_id": world.other_group},
                      token=token).status_code == 403
    started = client.api("POST", url, {"format": TEXTUAL, "group_id": world.group, "changes": True},
                         token=token)
    assert started.status_code == 202
    seen = wait_for(client, started.get_json()["id"], api_token=token)
    assert seen[-1]["status"] == "finished" and seen[-1]["final"] is False
    assert seen[-1]["filename"] == f"outcome-{world.conference}-group-{world.group}-draft-changes.{TEXTUAL}"
    outsider = _token(app, world.cast.outsider)
    assert client.api("POST", url, {"format": TEXTUAL}, token=outsider).status_code == 404
    bad = client.api("POST", url, {"format": "rtf"}, token=token)
    assert bad.status_code == 400 and "format" in bad.get_json()["error"]["fields"]


def test_a_job_that_loses_its_permission_fails_cleanly(app, world):
    """Checked again in the background: the conference deleted meanwhile -> a failed job."""
    with app.test_request_context():
        secretariat = db.session.get(Participant, world.cast.secretariat.id)
        job = jobs.ExportJob(id=424242, owner_id=secretariat.id, conference_id=10**6,
                             group_id=None, format=TEXTUAL, changes=False, locale="en")
        jobs.store().add(job)
    jobs.run_job(app, 424242)
    assert job.status == "failed" and job.error and job.data is None


def test_a_participant_queues_a_bounded_number_of_jobs_and_keeps_few_files():
    from drafting.errors import RateLimited

    store = jobs.JobStore()

    def job(n: int, **fields: Any) -> jobs.ExportJob:
        return jobs.ExportJob(id=n, owner_id=1, conference_id=1, group_id=None, format="md",
                              changes=False, locale="en", **fields)

    for n in range(1, jobs.MAX_UNFINISHED_PER_OWNER + 1):
        store.add(job(n))
    with pytest.raises(RateLimited) as refused:
        store.add(job(99))
    assert refused.value.message == (
        f"You already have {jobs.MAX_UNFINISHED_PER_OWNER} exports waiting or running; wait "
        "for one to finish before asking for another.")
    store.add(jobs.ExportJob(id=100, owner_id=2, conference_id=1, group_id=None, format="md",
                             changes=False, locale="en"))  # someone else is not held up
    for n in range(1, jobs.MAX_UNFINISHED_PER_OWNER + 1):
        store.update(n, status=jobs.FINISHED, finished_at=utcnow())
    for n in range(10, 30):
        store.add(job(n, status=jobs.FINISHED, finished_at=utcnow(), data=b"x"))
    mine = [j.id for j in store.jobs.values() if j.owner_id == 1]
    assert len(mine) == jobs.MAX_KEPT_PER_OWNER and 29 in mine and 1 not in mine
    assert store.get(100) is not None


def test_the_process_queues_a_bounded_number_of_jobs_of_everyone(monkeypatch):
    from drafting.errors import RateLimited

    monkeypatch.setattr(jobs, "MAX_UNFINISHED", 5)
    store = jobs.JobStore()

    def job(n: int, owner: int) -> jobs.ExportJob:
        return jobs.ExportJob(id=n, owner_id=owner, conference_id=1, group_id=None, format="md",
                              changes=False, locale="en")

    for n in range(1, 6):
        store.add(job(n, owner=n))  # five people, one export each
    with pytest.raises(RateLimited) as refused:
        store.add(job(6, owner=6))
    assert refused.value.message == "The server has too many exports waiting; try again in a minute."
    store.update(1, status=jobs.FINISHED, finished_at=utcnow())
    store.add(job(6, owner=6))  # one has run: room for another


def test_a_queue_is_served_by_one_runner_oldest_first():
    store = jobs.JobStore()
    for n, owner in ((3, 1), (1, 2), (2, 1)):
        store.add(jobs.ExportJob(id=n, owner_id=owner, conference_id=1, group_id=None,
                                 format="md", changes=False, locale="en"))
    assert store.claim_queue(1) and not store.claim_queue(1)  # one runner per queue
    assert store.claim_queue(2)
    assert store.next_queued(1) == 3  # in the order asked for, not by id
    store.update(3, status=jobs.RUNNING)
    assert store.next_queued(1) == 2
    store.update(2, status=jobs.FINISHED, finished_at=utcnow())
    assert store.next_queued(1) is None  # the runner ends ...
    assert store.claim_queue(1)  # ... and the next job of this owner starts a new one


# --- finalise and documents through the API ---------------------------------------------


def test_the_api_finalises_once(app, world, quick_final):
    token = _token(app, world.cast.secretariat)
    client = app.test_client()
    url = f"/api/v1/conferences/{world.conference}/finalise"
    refused = client.api("POST", url, token=token)
    assert refused.status_code == 409 and "pending" in refused.get_json()["error"]["message"]
    assert client.api("GET", f"/api/v1/conferences/{world.conference}/documents",
                      token=token).get_json() == []
    settle(app, world)
    for role in ("chair", "member"):
        assert client.api("POST", url, token=_token(app, getattr(world.cast, role))).status_code == 403
    assert client.api("POST", url, token=_token(app, world.cast.outsider)).status_code == 404
    done = client.api("POST", url, token=token)
    assert done.status_code == 202 and done.get_json()["kind"] == "finalise"
    assert done.get_json()["format"] is None
    assert wait_for(client, done.get_json()["id"], api_token=token)[-1]["status"] == "finished"
    listed = client.api("GET", f"/api/v1/conferences/{world.conference}/documents", token=token)
    assert [d["format"] for d in listed.get_json()] == QUICK
    again = client.api("POST", url, token=token)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "conflict"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(OutcomeDocument)) == len(QUICK)


# --- the page and the preview -----------------------------------------------------------


def test_the_preview_is_the_html_document_under_a_strict_policy(app, world):
    if "html" not in AVAILABLE:
        pytest.skip("the HTML renderer is not present")
    client = signed_in(app, world.cast.secretariat)
    response = client.get(f"/conferences/{world.conference}/export/preview")
    assert response.status_code == 200 and response.mimetype == "text/html"
    policy = response.headers["Content-Security-Policy"]
    assert "default-src 'none'" in policy and "script-src" not in policy and "sandbox" in policy
    assert response.headers["Content-Disposition"] == "inline"
    html = response.get_data(as_text=True)
    assert FIRST in html and "window.__xss" not in html.replace("&lt;script&gt;window.__xss", "")
    page = client.get(f"/conferences/{world.conference}/export").get_data(as_text=True)
    assert f'href="/conferences/{world.conference}/export/preview"' in page
    for name in AVAILABLE:
        assert f'data-export-format="{name}"' in page
    assert "data-export-finalise" in page


def test_the_pages_are_well_formed_and_hostile_text_stays_inert(app, world, quick_final):
    from tests.helpers.pages import base_head, executable_problems, read, structure_problems

    head = base_head(read(app.test_client().get("/login")))
    pages = [(world.cast.secretariat, f"/conferences/{world.conference}/export"),
             (world.cast.chair, f"/groups/{world.group}/export")]
    settle(app, world)
    for person, path in pages:
        response = signed_in(app, person).get(path)
        assert response.status_code == 200
        page = read(response)
        assert not structure_problems(page) and not executable_problems(page, head)
    client = signed_in(app, world.cast.secretariat)
    assert finalise_on_the_page(client, world)["status"] == "finished"
    final = client.get(pages[0][1])
    assert not structure_problems(read(final)) and "data-export-documents" in final.get_data(as_text=True)


def test_the_chairs_page_offers_the_section_without_finalising(app, world):
    client = signed_in(app, world.cast.chair)
    page = client.get(f"/groups/{world.group}/export").get_data(as_text=True)
    assert f'action="/groups/{world.group}/export/jobs"' in page
    assert "data-export-finalise" not in page
    assert "Still being drafted" in page  # the group's own pending item


# --- the command line -------------------------------------------------------------------


def test_the_command_line_writes_the_final_bytes(app, world, quick_final, tmp_path):
    runner = app.test_cli_runner()
    target = tmp_path / "outcome.md"
    args = ["export", "--conference", str(world.conference), "--format", TEXTUAL, "-o", str(target)]
    refused = runner.invoke(args=[*args, "--final"])
    assert refused.exit_code != 0 and "not finalised" in refused.output and not target.exists()
    draft = runner.invoke(args=args)
    assert draft.exit_code == 0, draft.output
    assert "draft" in draft.output and "DRAFT" in target.read_text()
    settle(app, world)
    client = signed_in(app, world.cast.secretariat)
    assert finalise_on_the_page(client, world)["status"] == "finished"
    final = runner.invoke(args=[*args, "--final"])
    assert final.exit_code == 0, final.output
    downloaded = client.get(f"/conferences/{world.conference}/export/final/{TEXTUAL}").data
    assert target.read_bytes() == downloaded
    assert hashlib.sha256(downloaded).hexdigest() in final.output
    group = runner.invoke(args=[*args, "--group", str(world.group)])
    assert group.exit_code == 0 and OTHER not in target.read_text()
    assert runner.invoke(args=[*args, "--final", "--changes"]).exit_code != 0
    missing = runner.invoke(args=["export", "--conference", "999999", "--format", "md", "-o", str(target)])
    assert missing.exit_code != 0 and "No conference" in missing.output


def test_the_owner_hears_the_jobs_progress_on_their_socket(app, world, socket_test_client):
    client = signed_in(app, world.cast.secretariat)
    socket = socket_test_client(app, flask_test_client=client)
    bystander_client = signed_in(app, world.cast.chair)
    bystander = socket_test_client(app, flask_test_client=bystander_client)
    assert socket.is_connected() and bystander.is_connected()
    socket.get_received()
    bystander.get_received()
    job = client.api("POST", f"/api/v1/conferences/{world.conference}/exports",
                     {"format": TEXTUAL}).get_json()
    wait_for(client, job["id"])
    events: list[tuple[str, dict]] = []
    deadline = time.monotonic() + 10  # the event follows the status pollers see by a moment
    while time.monotonic() < deadline and not any(n == "export_finished" for n, _p in events):
        events += [(m["name"], m["args"][0]) for m in socket.get_received()
                   if m["name"] in {"export_progress", "export_finished"}]
        time.sleep(0.02)
    assert events, "no export events"
    assert all(payload["job"] == job["id"] for _name, payload in events)
    progress = [payload["progress"] for name, payload in events if name == "export_progress"]
    assert progress == sorted(progress) and all(0 < p < 100 for p in progress)
    assert events[-1][0] == "export_finished"
    assert events[-1][1]["status"] == "finished" and events[-1][1]["progress"] == 100
    assert [n for n, _p in events].count("export_finished") == 1
    assert not [m for m in bystander.get_received() if m["name"].startswith("export_")]
    socket.disconnect()
    bystander.disconnect()
