"""The front end's bundles as the templates link them: static/dist/manifest.json, written by
static/src/build.mjs, names the hashed file of each entry ("main.js" -> "main-4QX2ZK7A.js")
and the shared chunks it imports.

Because a hashed file's name changes whenever its content does, a browser may keep it for a
year (``cache_hashed_assets``); only the pages, never cached, say which files are current.
"""
from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from flask import Flask, Response, request, url_for

#: The part of a file name esbuild's [hash] puts there (base32, eight characters).
HASHED_NAME = re.compile(r"-[A-Z2-7]{8}\.")
#: A year, the longest lifetime HTTP caches honour; `immutable` spares the revalidation.
HASHED_MAX_AGE = 365 * 24 * 3600


class MissingManifest(RuntimeError):
    """static/dist/manifest.json is not there: the front end was not built."""


@dataclass(frozen=True)
class Entry:
    """One entry of the build, its files relative to static/dist/."""

    #: The entry's own hashed file.
    file: str
    #: The chunks it imports, all of them, so that the browser fetches them in parallel.
    imports: tuple[str, ...] = ()
    #: The stylesheets its imports brought in (none today: CSS has entries of its own).
    css: tuple[str, ...] = ()

    @property
    def url(self) -> str:
        return dist_url(self.file)

    @property
    def preload_urls(self) -> list[str]:
        return [dist_url(path) for path in self.imports]

    @property
    def css_urls(self) -> list[str]:
        return [dist_url(path) for path in self.css]


def dist_url(path: str) -> str:
    return url_for("static", filename=f"dist/{path}")


class Manifest:
    """static/dist/manifest.json, read on first use. With ``reload`` (debug and tests) it is
    read again whenever the file changes, so `npm run watch` needs no restart; otherwise once
    for the life of the process, as the files it names do not change under a running server."""

    def __init__(self, path: Path, *, reload: bool) -> None:
        self.path = path
        self.reload = reload
        self._lock = threading.Lock()
        self._entries: dict[str, Entry] | None = None
        self._stamp: int | None = None

    def entry(self, name: str) -> Entry:
        entries = self._load()
        try:
            return entries[name]
        except KeyError:
            raise MissingManifest(f"{self.path} has no entry {name!r}: is it in the entryPoints "
                                  "of static/src/build.mjs, and the build current?") from None

    def _load(self) -> dict[str, Entry]:
        if self._entries is not None and not self.reload:
            return self._entries
        with self._lock:
            try:
                stamp = self.path.stat().st_mtime_ns
            except FileNotFoundError:
                raise MissingManifest(
                    f"{self.path} is missing: build the front end first "
                    "(`npm ci && npm run build`, or `make bundle`)") from None
            if self._entries is None or stamp != self._stamp:
                raw = json.loads(self.path.read_text(encoding="utf-8"))
                self._entries = {
                    name: Entry(file=item["file"], imports=tuple(item.get("imports", ())),
                                css=tuple(item.get("css", ())))
                    for name, item in raw.items()
                }
                self._stamp = stamp
            return self._entries


def manifest_for(app: Flask) -> Manifest:
    """The app's manifest, made once per app."""
    manifest = app.extensions.get("plenary_assets")
    if manifest is None:
        path = Path(app.static_folder or "") / "dist" / "manifest.json"
        manifest = app.extensions["plenary_assets"] = Manifest(path, reload=app.debug or app.testing)
    assert isinstance(manifest, Manifest)
    return manifest


def cache_hashed_assets(response: Response) -> Response:
    """A year in any cache for a hashed file of static/dist/; everything else as Flask serves
    it (revalidated with its ETag and date)."""
    filename = (request.view_args or {}).get("filename", "") if request.endpoint == "static" else ""
    if response.status_code == 200 and filename.startswith("dist/") \
            and HASHED_NAME.search(filename.rsplit("/", 1)[-1]):
        response.cache_control.public = True
        response.cache_control.max_age = HASHED_MAX_AGE
        response.cache_control.immutable = True
    return response


def install(app: Flask) -> None:
    """``asset(name)`` for the templates (templates/_assets.html), and the cache headers."""
    manifest = manifest_for(app)
    app.jinja_env.globals["asset"] = manifest.entry
    app.after_request(cache_hashed_assets)
