"""Laying out one part of the PDF outcome document (drafting/export/render_pdf.py).

Importable (a part laid out in the calling process) and runnable as a script, by its path:
``python drafting/export/pdf_worker.py`` reads parts from stdin and answers on stdout, as
many as it is sent. Run by its path it imports WeasyPrint and nothing of the application (not
the ``drafting`` package: Flask, SQLAlchemy and the rest would double a worker's memory), so
it must import nothing but the standard library and WeasyPrint.

Frames both ways: an 8-byte big-endian length, then a pickle. A request is the part's HTML
(str); an answer is ``("ok", LaidOut as a dict)`` or ``("error", message)``. Only the parent,
which started the worker on pipes of its own, ever writes to its stdin.
"""
from __future__ import annotations

import ctypes
import gc
import logging
import pickle
import struct
import sys
from contextlib import suppress
from dataclasses import asdict, dataclass, field
from typing import IO, Any

from weasyprint import HTML
from weasyprint.urls import URLFetcher

log = logging.getLogger("drafting.export.render_pdf")

HEADER = struct.Struct(">Q")


class RefusingFetcher(URLFetcher):
    """Refuses every URL. WeasyPrint reports the refusal as a warning and goes on without the
    resource, so a stray reference can never stop an export, nor be fetched."""

    def fetch(self, url: str, headers: Any = None) -> Any:
        log.warning("Refused to fetch %r while rendering the outcome document", url[:200])
        raise ValueError("The outcome document fetches no URL.")


def parse(text: str) -> HTML:
    return HTML(string=text, base_url=None, url_fetcher=RefusingFetcher(), media_type="print")


@dataclass
class LaidOut:
    """A part's PDF and what assembling needs to know of its pages (CSS pixels, from the
    page's top-left corner)."""

    pdf: bytes
    heights: list[float]
    #: Anchor name -> (page, x, y): where the document's ids landed.
    anchors: dict[str, tuple[int, float, float]] = field(default_factory=dict)
    #: (page, (x1, y1, x2, y2), anchor): the part's links to the document's own ids.
    links: list[tuple[int, tuple[float, float, float, float], str]] = field(default_factory=list)
    #: (page, level, label, x, y), in order: the headings that become bookmarks.
    bookmarks: list[tuple[int, int, str, float, float]] = field(default_factory=list)

    @property
    def pages(self) -> int:
        return len(self.heights)


def lay_out(html: str) -> LaidOut:
    """Lay one part out and write it, keeping its links and bookmarks aside: they are put back
    on the assembled document, where every anchor is known."""
    document = parse(html).render()
    laid = LaidOut(pdf=b"", heights=[page.height for page in document.pages])
    for number, page in enumerate(document.pages):
        for name, (x, y, *_rest) in page.anchors.items():
            laid.anchors.setdefault(name, (number, x, y))
        laid.links += [(number, tuple(rectangle), target)
                       for kind, target, rectangle, _box in page.links if kind == "internal"]
        laid.bookmarks += [(number, level, label, x, y)
                           for level, label, (x, y), _state in page.bookmarks]
        # Written back on the assembled document: links and bookmarks across parts, and
        # named destinations for its main sections only (one per clause costs pypdf seconds).
        page.links[:] = []
        page.bookmarks[:] = []
        page.anchors.clear()
    laid.pdf = document.write_pdf()
    del document
    give_back_memory()
    return laid


def give_back_memory() -> None:
    """A worker lays out part after part: hand the freed boxes' memory back to the system
    between them (glibc keeps freed heap pages otherwise), so that an idle worker holds little."""
    gc.collect()
    with suppress(OSError, AttributeError):  # not glibc: nothing to trim
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def read_frame(stream: IO[bytes]) -> Any:
    """The next frame's object; EOFError when the stream ends between frames."""
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        raise EOFError
    size = HEADER.unpack(header)[0]
    data = stream.read(size)
    if len(data) < size:
        raise EOFError
    return pickle.loads(data)  # noqa: S301 - frames come only from the parent's own pipe


def write_frame(stream: IO[bytes], value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(HEADER.pack(len(data)) + data)
    stream.flush()


def serve(requests: IO[bytes], answers: IO[bytes]) -> None:
    while True:
        try:
            html = read_frame(requests)
        except EOFError:
            return
        try:
            answer: tuple[str, Any] = ("ok", asdict(lay_out(html)))
        except Exception as error:  # reported to the parent, which fails the export
            log.exception("Laying out a part of the outcome document failed")
            answer = ("error", f"{type(error).__name__}: {error}")
        write_frame(answers, answer)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    serve(sys.stdin.buffer, sys.stdout.buffer)
