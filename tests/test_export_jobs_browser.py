"""The export page in a real Chromium: the secretariat presses a format button, a progress
bar follows the job (socket events, polling when the socket is down), the download link
appears and the download starts, all without leaving the page; finalising the same way
ends on the page listing the stored documents.

The job runs on the session's live server and renders in a child process, as in production.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from drafting.export import services
from tests.helpers.exports import (  # noqa: F401 - export_world and final_quickly are fixtures
    FIRST,
    QUICK,
    TEXTUAL,
    every_turn_taken,
    export_world,
    final_quickly,
    settle,
)

pytestmark = pytest.mark.browser

#: Where a person looks at the page once the export is ready.
SCREENSHOT = Path("/tmp/notes/export-progress.png")  # noqa: S108 - a fixed place to look

MARK = "() => { window.plenaryNotReloaded = true; }"
STILL_MARKED = "() => window.plenaryNotReloaded === true"


@pytest.mark.parametrize("socket", ["connected", "blocked"])
def test_an_export_shows_its_progress_and_then_downloads(app, world, person, tmp_path, socket):
    label = services.FORMATS[TEXTUAL].label
    context, page = person(world.cast.secretariat)
    if socket == "blocked":
        # No socket at all: the page polls the job instead.
        context.route("**/socket.io/**", lambda route: route.abort())
    page.goto(f"/conferences/{world.conference}/export")
    page.evaluate(MARK)
    with page.expect_download(timeout=60_000) as downloading:
        page.get_by_role("button", name=label, exact=True).click()
        job = page.locator("[data-export-live-job]")
        expect(job.locator("progress")).to_be_visible()
    download = downloading.value
    expect(job).to_have_attribute("data-status", "finished")
    expect(job.locator("progress")).to_have_attribute("value", "100")
    link = job.get_by_role("link", name=f"Download outcome-{world.conference}-draft.{TEXTUAL}")
    expect(link).to_be_visible()
    expect(job.get_by_role("status")).to_have_text(f"{label} is ready.")
    assert page.evaluate(STILL_MARKED), "the page was reloaded"
    assert download.suggested_filename == f"outcome-{world.conference}-draft.{TEXTUAL}"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    assert FIRST in saved.read_text()
    page.screenshot(path=tmp_path / "export-progress.png", full_page=True)
    if socket == "connected":
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(tmp_path / "export-progress.png", SCREENSHOT)


def test_finalising_shows_its_progress_and_then_the_stored_documents(app, world, person, quick_final):
    settle(app, world)
    _context, page = person(world.cast.secretariat)
    page.goto(f"/conferences/{world.conference}/export")
    page.on("dialog", lambda dialog: dialog.accept())
    page.get_by_label("I confirm that the outcome document is final.").check()
    page.get_by_role("button", name="Finalise", exact=True).click()
    # The job is followed on the page, which then shows the stored files.
    table = page.locator("[data-export-documents]")
    expect(table).to_be_visible(timeout=60_000)
    expect(table.locator("tbody tr")).to_have_count(len(QUICK))
    expect(page.locator("[data-export-status]")).to_have_attribute("data-export-status", "final")


def test_a_job_waiting_for_a_turn_says_so_then_runs(app, world, person):
    """Every turn taken (as by other exports running): the new job's bar waits at 0 with a
    word saying why; when a turn is free it runs and its file comes."""
    label = services.FORMATS[TEXTUAL].label
    with every_turn_taken(app):
        _context, page = person(world.cast.secretariat)
        page.goto(f"/conferences/{world.conference}/export")
        page.get_by_role("button", name=label, exact=True).click()
        job = page.locator("[data-export-live-job]")
        expect(job).to_have_attribute("data-status", "queued")
        expect(job.get_by_role("status")).to_have_text("Waiting for other exports to finish…")
        expect(job.locator("progress")).to_have_attribute("value", "0")
    with page.expect_download(timeout=60_000):
        expect(job).to_have_attribute("data-status", "finished", timeout=60_000)
    expect(job.get_by_role("status")).to_have_text(f"{label} is ready.")


def test_five_formats_clicked_in_a_row_queue_and_each_downloads(app, world, person):
    """Five format buttons pressed one after the other: five jobs on the page, none refused,
    each queued behind the one before, then each finished with its download link."""
    names = [name for name in ("md", "json", "html", "akn", "docx", "pdf")
             if services.is_available(services.FORMATS[name])][:5]
    labels = [services.FORMATS[name].label for name in names]
    with every_turn_taken(app) as asked:
        _context, page = person(world.cast.secretariat)
        page.goto(f"/conferences/{world.conference}/export")
        jobs = page.locator("[data-export-live-job]")
        for count, label in enumerate(labels, start=1):
            page.get_by_role("button", name=label, exact=True).click()
            expect(jobs).to_have_count(count)
        assert asked.wait(10)
        expect(page.locator("[data-export-refused]")).to_have_count(0)
        for index in range(5):
            expect(jobs.nth(index)).to_have_attribute("data-status", "queued")
            expect(jobs.nth(index).get_by_role("status")).to_have_text("Waiting for other exports to finish…")
    # Newest first on the page: the last asked for is on top.
    for index, label in enumerate(reversed(labels)):
        job = jobs.nth(index)
        expect(job).to_have_attribute("data-status", "finished", timeout=120_000)
        expect(job.get_by_role("status")).to_have_text(f"{label} is ready.")
        expect(job.get_by_role("link")).to_have_attribute("href", re.compile(r"/export/jobs/\d+/download"))
    page.screenshot(path=SCREENSHOT.with_name("export-queue.png"), full_page=True)
