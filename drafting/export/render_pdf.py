"""The outcome document as PDF: WeasyPrint lays out the HTML document (render_html).

The HTML carries everything: print CSS (page breaks, running headers, "Page n of N", the
table of contents' page numbers by ``target-counter``), the metadata (title, authors = the
organisers, creation time) and the headings WeasyPrint turns into PDF bookmarks. Fonts are
the system's DejaVu (Debian's fonts-dejavu-core/-extra, installed by the project's setup);
WeasyPrint embeds the glyphs it uses.

Nothing is fetched: the document names no resource, and the URL fetcher refuses every URL
all the same, so that no text a delegate wrote can make the server read a local file or call
an address on its network. Links that user text carries are printed as text (their address
after them), not kept as clickable PDF links; the document's own cross-references stay.
"""
from __future__ import annotations

import logging
from typing import Any

from weasyprint import HTML
from weasyprint.urls import URLFetcher

from drafting.export import render_html
from drafting.export.outline import Outline

log = logging.getLogger(__name__)


class RefusingFetcher(URLFetcher):
    """Refuses every URL. WeasyPrint reports the refusal as a warning and goes on without the
    resource, so a stray reference can never stop an export, nor be fetched."""

    def fetch(self, url: str, headers: Any = None) -> Any:
        log.warning("Refused to fetch %r while rendering the outcome document", url[:200])
        raise ValueError("The outcome document fetches no URL.")


def render(outline: Outline, *, changes: bool = False) -> bytes:
    """PDF bytes of the outcome document (or its "changes since the first draft" version)."""
    html = HTML(string=render_html.document(outline, changes=changes), base_url=None,
                url_fetcher=RefusingFetcher(), media_type="print")
    document = html.render()
    for page in document.pages:
        # Only the document's own cross-references (table of contents) stay clickable.
        page.links[:] = [link for link in page.links if link[0] == "internal"]
    pdf: bytes = document.write_pdf()
    return pdf
