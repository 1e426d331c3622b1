"""The front end's bundles as the server links and serves them: hashed names from
static/dist/manifest.json (drafting/assets.py), shared code in one chunk, a year in the
browser's cache for what cannot change, and a clear error when nothing was built."""
from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from drafting.assets import Manifest, MissingManifest
from tests.conftest import ROOT

pytestmark = pytest.mark.database_independent

DIST = ROOT / "static" / "dist"


def manifest() -> dict[str, dict[str, list[str] | str]]:
    return json.loads((DIST / "manifest.json").read_text(encoding="utf-8"))


def test_pages_link_the_hashed_entries_and_preload_their_chunks(client):
    entries = manifest()
    page = client.get("/login").get_data(as_text=True)
    assert f'<link rel="stylesheet" href="/static/dist/{entries["main.css"]["file"]}">' in page
    assert f'<script type="module" src="/static/dist/{entries["main.js"]["file"]}"></script>' in page
    for chunk in entries["main.js"].get("imports", []):
        assert f'<link rel="modulepreload" href="/static/dist/{chunk}">' in page
    # Cache-busting is in the name now: no query string left to change.
    assert "?v=" not in page


def test_socket_io_client_is_one_chunk_shared_by_the_live_pages():
    entries = manifest()
    shared = set(entries["editor.js"]["imports"]) & set(entries["votes.js"]["imports"]) \
        & set(entries["export.js"]["imports"])
    # A string of socket.io-client's reconnection code: in exactly one file of the build.
    holders = [path.relative_to(DIST).as_posix() for path in DIST.rglob("*.js")
               if "reconnect_attempt" in path.read_text(encoding="utf-8")]
    assert len(holders) == 1 and holders[0] in shared, (holders, shared)


def test_hashed_files_are_kept_for_a_year_and_the_rest_revalidated(client):
    entries = manifest()
    for name in ("main.js", "main.css"):
        answer = client.get(f"/static/dist/{entries[name]['file']}")
        assert answer.status_code == 200
        assert answer.cache_control.max_age == 365 * 24 * 3600
        assert answer.cache_control.immutable and answer.cache_control.public
    for path in ("/static/favicon.svg", "/static/dist/manifest.json", "/static/dist/testing/axe.js"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert not answer.cache_control.immutable and not answer.cache_control.max_age, path


def test_a_missing_manifest_says_how_to_build_it(tmp_path):
    with pytest.raises(MissingManifest, match=re.escape("npm run build")):
        Manifest(tmp_path / "manifest.json", reload=False).entry("main.js")


@pytest.mark.parametrize("reload", [True, False])
def test_the_manifest_is_read_again_when_it_changes_only_in_debug(tmp_path, reload):
    path = tmp_path / "manifest.json"
    write(path, {"main.js": {"file": "main-AAAAAAAA.js"}}, mtime=1_000)
    assets = Manifest(path, reload=reload)
    assert assets.entry("main.js").file == "main-AAAAAAAA.js"
    write(path, {"main.js": {"file": "main-BBBBBBBB.js", "imports": ["chunks/chunk-CCCCCCCC.js"]}},
          mtime=2_000)
    entry = assets.entry("main.js")
    if reload:
        assert (entry.file, entry.imports) == ("main-BBBBBBBB.js", ("chunks/chunk-CCCCCCCC.js",))
    else:
        assert (entry.file, entry.imports) == ("main-AAAAAAAA.js", ())


def test_an_entry_the_build_does_not_have_is_named(tmp_path):
    path = tmp_path / "manifest.json"
    write(path, {"main.js": {"file": "main-AAAAAAAA.js"}}, mtime=1_000)
    with pytest.raises(MissingManifest, match=re.escape("'editor.js'")):
        Manifest(path, reload=False).entry("editor.js")


def write(path: Path, content: object, *, mtime: int) -> None:
    # An explicit time: two writes within the file system's clock tick look unchanged.
    path.write_text(json.dumps(content), encoding="utf-8")
    os.utime(path, (mtime, mtime))
