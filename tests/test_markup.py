"""The one Markdown path: user text renders as formatted, safe HTML and nothing else."""
from __future__ import annotations

import pytest

from drafting.markup import render_markdown
from tests.helpers.html import assert_inert

# What is checked here does not depend on the database: run once (tests/conftest.py).
pytestmark = pytest.mark.database_independent


def test_corpus_renders_inert(xss_payloads):
    assert len(xss_payloads) >= 45
    for payload in xss_payloads:
        assert_inert(str(render_markdown(payload)))
        # Inside a longer text and a list item, the same payloads stay inert.
        assert_inert(str(render_markdown(f"Recognising that\n\n- {payload}\n\n**bold** {payload}")))


def test_template_syntax_is_not_evaluated():
    assert "{{7*7}}" in str(render_markdown("{{7*7}}"))


@pytest.mark.parametrize(("source", "expected"), [
    ("*Recognising* that", "<em>Recognising</em> that"),
    ("**Calls on** States", "<strong>Calls on</strong> States"),
    ("1. first\n2. second", "<ol>\n<li>first</li>\n<li>second</li>\n</ol>"),
    ("| a | b |\n|---|---|\n| 1 | 2 |", "<td>1</td>"),
    ("> quoted", "<blockquote>"),
])
def test_markdown_formatting_survives(source, expected):
    assert expected in str(render_markdown(source))


def test_links_are_kept_safe():
    html = str(render_markdown("[IOM](https://www.iom.int/)"))
    assert 'href="https://www.iom.int/"' in html
    assert 'rel="noopener noreferrer nofollow ugc"' in html


def test_images_are_not_fetched():
    # An image would make every reader's browser fetch a URL the author chose.
    assert "<img" not in str(render_markdown("![x](https://example.org/track.png)"))


def test_empty_text_renders_nothing():
    assert str(render_markdown("")) == ""
    assert str(render_markdown(None)) == ""


def test_one_text_leaves_nothing_behind_for_the_next():
    """The converter is reused: a link reference defined in one text (a comment, say) must
    not turn words of the next text (someone else's clause) into a link."""
    render_markdown("Nothing to see.\n\n[1]: http://evil.example/")
    assert "href" not in render_markdown("See [the report][1].")
    assert render_markdown("*a*") == render_markdown("*a*") == '<p><em>a</em></p>'


def test_each_thread_converts_on_its_own():
    """Converters keep state while converting: threads must not share one."""
    import threading

    texts = [f"**{n}** and [link](http://example.org/{n})" for n in range(200)]
    results: dict[int, str] = {}

    def work(offset: int) -> None:
        for n in range(offset, len(texts), 4):
            results[n] = str(render_markdown(texts[n]))

    workers = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert all(f"<strong>{n}</strong>" in results[n] and f"example.org/{n}\"" in results[n]
               for n in range(len(texts)))
