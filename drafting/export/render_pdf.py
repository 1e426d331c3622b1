"""The outcome document as PDF: WeasyPrint lays out the HTML document (render_html).

The HTML carries everything: print CSS (page breaks, running headers, "Page n of N", the
table of contents' page numbers), the metadata (title, authors = the organisers, creation
time) and the headings WeasyPrint turns into PDF bookmarks. Fonts are the system's DejaVu
(Debian's fonts-dejavu-core/-extra, installed by the project's setup); WeasyPrint embeds the
glyphs it uses.

**A large document is laid out in parts, side by side.** WeasyPrint lays out one document on
one core and keeps every page's boxes until it writes: a conference of 3,000 clauses took
30 s and 800 MB in one piece. Layout does not depend on page numbers, so the document is cut
where it breaks pages anyway (front matter, groups' sections, annexes); worker processes (one
per core, ``EXPORT_PDF_WORKERS``) lay the parts out, largest first, each writing its PDF and
letting go of its boxes. Then, knowing every part's length:

- the front matter is laid out again with the table of contents' page numbers as text;
- small documents of otherwise empty pages carry "Page n of N" where the bottom margin box
  puts it, and are stamped onto the pages (as form XObjects: the pages' own drawing stays);
- the document's own cross-references (contents entries, links between sections) and its
  bookmarks are put back across the parts, named destinations are made for the contents, the
  groups, the recommendations and the annexes (``outcome.pdf#recommendation-2-3``), and the
  metadata comes from the front matter.

The workers run ``pdf_worker.py`` by its path: WeasyPrint without the application, about
60 MB each before a part. On the benchmark's conference (3,000 clauses, 328 pages, 2 cores)
the PDF takes about 14-15 s and 370 MB in all, against 30 s and 811 MB in one piece
(docs/benchmarks.md).

A small document is laid out in one piece, as before: same pages, same text.

Nothing is fetched: the document names no resource, and the URL fetcher refuses every URL
all the same, so that no text a delegate wrote can make the server read a local file or call
an address on its network. Links that user text carries are printed as text (their address
after them), not kept as clickable PDF links; the document's own cross-references stay.
"""
from __future__ import annotations

import io
import itertools
import logging
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, as_completed
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, cast

from flask import current_app, has_app_context
from flask_babel import gettext as _
from markupsafe import escape
from pypdf import PageObject, PdfReader, PdfWriter
from pypdf.annotations import Link
from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, Fit, NameObject

from drafting.export import pdf_worker, render_html
from drafting.export.outline import Outline
from drafting.export.pdf_worker import LaidOut, RefusingFetcher, lay_out
from drafting.export.render_html import Part

__all__ = ["LaidOut", "RefusingFetcher", "lay_out", "plan_parts", "render", "render_in_parts"]

log = logging.getLogger(__name__)

#: A document weighing less (about its HTML's length) is laid out in one piece (~40 pages).
SPLIT_ABOVE = 150_000
#: Parts per worker: more balance the workers better (the last part to finish is short),
#: fewer embed fewer copies of the fonts.
PARTS_PER_WORKER = 8
#: Anchors kept as the assembled PDF's named destinations.
NAMED_DESTINATIONS = ("contents", "group-", "recommendation-", "chairs-summary", "annex-")
#: WeasyPrint draws in CSS pixels; PDF counts points.
POINTS_PER_PIXEL = 0.75


def render(outline: Outline, *, changes: bool = False,
           progress: Callable[[float], None] | None = None) -> bytes:
    """PDF bytes of the outcome document (or its "changes since the first draft" version).
    ``progress`` hears the share of the work done (0-1) as parts are laid out."""
    sections, annexes = _weights(outline)
    if sum(sections) + sum(annexes.values()) < SPLIT_ABOVE:
        return _in_one_piece(render_html.document(outline, changes=changes))
    return render_in_parts(outline, changes=changes, workers=_workers(), progress=progress)


def _workers() -> int:
    """``EXPORT_PDF_WORKERS`` (default: one per core). One, in this process, where gevent has
    patched threading (rendering in the server process, ``EXPORT_IN_CHILD_PROCESS=0``): a
    process pool's threads and pipes are not made for greenlets."""
    if _gevent_patched():
        return 1
    configured = current_app.config.get("EXPORT_PDF_WORKERS") if has_app_context() else None
    return max(1, int(configured or os.cpu_count() or 1))


def _gevent_patched() -> bool:
    monkey = sys.modules.get("gevent.monkey")  # imported by whoever patched, never by us
    return bool(monkey is not None and monkey.is_module_patched("threading"))


def _in_one_piece(html: str) -> bytes:
    document = pdf_worker.parse(html).render()
    for page in document.pages:
        # Only the document's own cross-references (table of contents) stay clickable.
        page.links[:] = [link for link in page.links if link[0] == "internal"]
    pdf: bytes = document.write_pdf()
    return pdf


# --- planning and assembling ------------------------------------------------------------------


def _weights(outline: Outline) -> tuple[list[int], dict[str, int]]:
    """What laying out each group's section and each annex costs, roughly: its HTML's length."""
    sections = [sum(len(c.text.html) + 200 for r in s.recommendations for c in r.preambular + r.operative)
                + 500 for s in outline.sections]
    annexes = {"s": len(outline.chairs_summary.html),
               "a": 600 * len(outline.votes) + sum(40 * len(v.roll_call or []) for v in outline.votes),
               "b": sum(len(s.text.html) + 300 for s in outline.statements),
               "c": sum(150 * len(c.participants) for c in outline.participants)}
    return sections, annexes


def plan_parts(outline: Outline, workers: int) -> list[Part]:
    """The body cut into parts at the page breaks it has anyway: consecutive groups' sections
    (and the annexes) gathered until a part holds a share of a worker's work
    (``PARTS_PER_WORKER``), so that the workers stay evenly busy while few parts each embed
    their own copy of the fonts."""
    weights, annex_weights = _weights(outline)
    target = max(1, (sum(weights) + sum(annex_weights.values())) // (max(1, workers) * PARTS_PER_WORKER))
    parts: list[Part] = []
    sections: list[int] = []
    annexes: list[str] = []
    weight = 0

    def close() -> None:
        nonlocal weight
        if sections or annexes:
            parts.append(Part(sections=tuple(sections), annexes=tuple(annexes)))
        sections.clear()
        annexes.clear()
        weight = 0

    for index, each in enumerate(weights):
        sections.append(index)
        weight += each
        if weight >= target:
            close()
    for annex, each in annex_weights.items():
        if sections and weight + each > target:
            close()
        annexes.append(annex)
        weight += each
        if weight >= target:
            close()
    close()
    return parts


class _Workers:
    """Worker processes running ``pdf_worker.py`` by its path (WeasyPrint without the
    application: half the memory of a process that imports ``drafting``), each fed by a
    thread of this process; a part goes to whichever worker is free."""

    SCRIPT = str(Path(pdf_worker.__file__).resolve())

    def __init__(self, count: int) -> None:
        self.tasks: queue.SimpleQueue[tuple[str, Future[LaidOut]] | None] = queue.SimpleQueue()
        self.processes = [subprocess.Popen(  # noqa: S603 - our own script, by its path
            [sys.executable, self.SCRIPT], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
            for _ in range(count)]
        self.feeders = [threading.Thread(target=self._feed, args=(process,), daemon=True,
                                         name="pdf-layout-feeder") for process in self.processes]
        for feeder in self.feeders:
            feeder.start()

    def submit(self, html: str) -> Future[LaidOut]:
        future: Future[LaidOut] = Future()
        self.tasks.put((html, future))
        return future

    def _feed(self, process: subprocess.Popen[bytes]) -> None:
        assert process.stdin is not None and process.stdout is not None
        while (task := self.tasks.get()) is not None:
            html, future = task
            if not future.set_running_or_notify_cancel():
                continue
            try:
                pdf_worker.write_frame(process.stdin, html)
                status, value = pdf_worker.read_frame(process.stdout)
            except (EOFError, OSError):
                future.set_exception(RuntimeError(
                    f"A PDF layout worker ended (exit status {process.poll()})"))
                continue
            if status == "ok":
                future.set_result(LaidOut(**value))
            else:
                future.set_exception(RuntimeError(f"A PDF layout worker failed: {value}"))

    def close(self) -> None:
        for _feeder in self.feeders:
            self.tasks.put(None)
        for feeder in self.feeders:
            feeder.join(timeout=5)
        for process in self.processes:
            with suppress(OSError):
                process.stdin.close()  # type: ignore[union-attr]
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            with suppress(OSError):
                process.stdout.close()  # type: ignore[union-attr]


@contextmanager
def _pool(workers: int) -> Iterator[_Workers | None]:
    if workers <= 1:
        yield None
        return
    pool = _Workers(workers)
    try:
        yield pool
    finally:
        pool.close()


def _submit(pool: _Workers | None, html: str) -> Future[LaidOut]:
    if pool is not None:
        return pool.submit(html)
    done: Future[LaidOut] = Future()
    done.set_result(lay_out(html))
    return done


def render_in_parts(outline: Outline, *, changes: bool = False, workers: int = 1,
                    progress: Callable[[float], None] | None = None) -> bytes:
    """The document laid out in parts by ``workers`` processes (1: one after the other in
    this one), then assembled (see the module's documentation)."""
    parts = plan_parts(outline, workers)
    texts = [render_html.document(outline, changes=changes, part=part) for part in parts]
    # The front matter's length with a number as wide as any real one in each entry.
    placeholder = {anchor: 8888 for anchor in _toc_anchors(outline)}
    front_part = Part(front=True)
    front_text = render_html.document(outline, changes=changes, part=front_part, toc_pages=placeholder)
    steps = len(parts) + 3  # the parts, the front matter twice, assembling
    finished = 0

    def step() -> None:
        nonlocal finished
        finished += 1
        if progress is not None:
            progress(min(1.0, finished / steps))

    with _pool(workers) as pool:
        # The front matter first (its length numbers the rest), then the largest parts first:
        # the last part to finish is a short one.
        front_future = _submit(pool, front_text)
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        futures: dict[int, Future[LaidOut]] = {i: _submit(pool, texts[i]) for i in order}
        for _done in as_completed([front_future, *futures.values()]):
            step()
        front = front_future.result()
        laid = [futures[index].result() for index in range(len(texts))]

        def stamp(front_pages: int) -> list[Future[LaidOut]]:
            total = front_pages + sum(p.pages for p in laid)
            # One piece more than workers: the front matter is laid out beside them.
            pieces = workers + 1
            cuts = [1 + total * n // pieces for n in range(pieces)] + [total + 1]
            return [_submit(pool, _stamp_html(start, end - 1, total))
                    for start, end in itertools.pairwise(cuts) if end > start]

        # The front matter again, numbering the contents; the page numbers meanwhile.
        for _attempt in range(3):
            pages = {name: page + 1 for name, (page, _x, _y) in _landed([front, *laid]).items()}
            again_future = _submit(pool, render_html.document(
                outline, changes=changes, part=front_part, toc_pages=pages))
            stamp_futures = stamp(front.pages)
            again = again_future.result()
            stable = again.pages == front.pages
            front = again
            if stable:
                break
            # The real numbers changed its length (a narrower number ended a line sooner):
            # the pages after it moved, number again.
        else:
            log.warning("The outcome document's contents kept changing length; its page "
                        "numbers may be off by a page")
            stamp_futures = stamp(front.pages)
        stamps = [future.result() for future in stamp_futures]
        step()
    pdf = _assemble([front, *laid], stamps)
    step()
    return pdf


def _stamp(writer: PdfWriter, page: PageObject, stamp: PageObject) -> None:
    """Draw the stamp's page over the page: as a form XObject that the page's contents end
    with, the page's own drawing left as it is (merging pages would rewrite every stream)."""
    form = DecodedStreamObject()
    form.set_data(stamp.get_contents().get_data())  # type: ignore[union-attr]
    form.update({
        NameObject("/Type"): NameObject("/XObject"),
        NameObject("/Subtype"): NameObject("/Form"),
        NameObject("/BBox"): stamp.mediabox,
        # By reference: the stamp's pages share theirs, cloned once into the writer.
        NameObject("/Resources"): stamp.raw_get("/Resources").clone(writer),
    })
    form_reference = writer._add_object(form.flate_encode())
    # The page's own copies: WeasyPrint's pages share one resources dictionary.
    resources = DictionaryObject()
    resources.update(cast(DictionaryObject, page["/Resources"].get_object()))
    xobjects = DictionaryObject()
    xobjects.update(cast(DictionaryObject, resources.get("/XObject", DictionaryObject()).get_object()))
    xobjects[NameObject("/PlenaryStamp")] = form_reference
    resources[NameObject("/XObject")] = xobjects
    page[NameObject("/Resources")] = resources
    before, after = DecodedStreamObject(), DecodedStreamObject()
    before.set_data(b"q\n")
    after.set_data(b"\nQ\nq /PlenaryStamp Do Q\n")
    # The page's own streams by reference (a stream must be an indirect object).
    contents = page.raw_get("/Contents")
    resolved = contents.get_object()
    own = list(resolved) if isinstance(resolved, ArrayObject) else [contents]
    page[NameObject("/Contents")] = ArrayObject(
        [writer._add_object(before), *own, writer._add_object(after)])


def _toc_anchors(outline: Outline) -> list[str]:
    anchors = [f"group-{s.number}" for s in outline.sections]
    anchors += [f"recommendation-{r.number.replace('.', '-')}" for s in outline.sections
                for r in s.recommendations]
    summary = ["chairs-summary"] if outline.chairs_summary.html else []
    return [*anchors, *summary, "annex-a", "annex-b", "annex-c"]


def _offsets(parts: Sequence[LaidOut]) -> list[int]:
    """Each part's first page in the assembled document (0-based)."""
    offsets = [0]
    for part in parts[:-1]:
        offsets.append(offsets[-1] + part.pages)
    return offsets


def _landed(parts: Sequence[LaidOut]) -> dict[str, tuple[int, float, float]]:
    """Anchor -> (page in the assembled document, x, y); the first of a name counts."""
    anchors: dict[str, tuple[int, float, float]] = {}
    for part, offset in zip(parts, _offsets(parts), strict=True):
        for name, (page, x, y) in part.anchors.items():
            anchors.setdefault(name, (offset + page, x, y))
    return anchors


def _stamp_html(first: int, last: int, total: int) -> str:
    """Pages ``first``..``last`` saying "Page n of N" where the document's bottom margin box
    would (templates/export/document.html: 22 mm bottom margin, 20 mm sides, DejaVu Sans
    8 pt, centred). Plain blocks, one a page, their numbers written out, not counted: the
    cheapest pages WeasyPrint makes, and they can be made in pieces side by side."""
    pages = "".join(f'<div class="p"><p>{_page_label(number, total)}</p></div>'
                    for number in range(first, last + 1))
    return ('<!DOCTYPE html><html><head><meta charset="utf-8"><style>'
            '@page { size: A4; margin: 0 } body { margin: 0 }'
            '.p { box-sizing: border-box; height: 297mm; padding-top: 275mm; break-after: page }'
            '.p p { margin: 0 20mm; font: 8pt "DejaVu Sans", sans-serif; line-height: 22mm; '
            'text-align: center; color: #555 }'
            f'</style></head><body>{pages}</body></html>')


def _page_label(number: int, total: int) -> str:
    return escape(_("Page %(page)s of %(pages)s", page=number, pages=total))


def _assemble(parts: Sequence[LaidOut], stamps: Sequence[LaidOut]) -> bytes:
    writer = PdfWriter()
    first = PdfReader(io.BytesIO(parts[0].pdf))
    for part in parts:
        writer.append(PdfReader(io.BytesIO(part.pdf)), import_outline=False)
    stamp_pages = [page for stamp in stamps for page in PdfReader(io.BytesIO(stamp.pdf)).pages]
    for pdf_page, stamp_page in zip(writer.pages, stamp_pages, strict=True):
        _stamp(writer, pdf_page, stamp_page)
    offsets = _offsets(parts)
    heights = [height for part in parts for height in part.heights]
    anchors = _landed(parts)
    for part, offset in zip(parts, offsets, strict=True):
        for page, (x1, y1, x2, y2), target in part.links:
            if target not in anchors:
                log.warning("No anchor #%s in the outcome document", target[:100])
                continue
            where, x, y = anchors[target]
            height = heights[offset + page]
            writer.add_annotation(offset + page, Link(
                rect=(x1 * POINTS_PER_PIXEL, (height - y2) * POINTS_PER_PIXEL,
                      x2 * POINTS_PER_PIXEL, (height - y1) * POINTS_PER_PIXEL),
                target_page_index=where,
                fit=Fit.xyz(left=x * POINTS_PER_PIXEL, top=(heights[where] - y) * POINTS_PER_PIXEL)))
    # Bookmarks: a heading of level n goes under the last heading of a lower level.
    parents: list[tuple[int, Any]] = []
    for part, offset in zip(parts, offsets, strict=True):
        for page, level, label, x, y in part.bookmarks:
            while parents and parents[-1][0] >= level:
                parents.pop()
            item = writer.add_outline_item(
                title=label, page_number=offset + page, parent=parents[-1][1] if parents else None,
                fit=Fit.xyz(left=x * POINTS_PER_PIXEL, top=(heights[offset + page] - y) * POINTS_PER_PIXEL))
            parents.append((level, item))
    # Named destinations (``outcome.pdf#recommendation-2-3``) for the sections a reader or a
    # press release would point at.
    for name, (page, _x, _y) in sorted(anchors.items(), key=lambda item: item[1]):
        if name.startswith(NAMED_DESTINATIONS):
            writer.add_named_destination(name, page)
    if first.metadata:
        writer.add_metadata(dict(first.metadata))
    language = first.root_object.get("/Lang")
    if language is not None:
        # pypdf has no setter for the catalogue's language.
        writer._root_object[NameObject("/Lang")] = language
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()
