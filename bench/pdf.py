"""The PDF engines side by side (``python -m bench.run pdf``): the product's WeasyPrint path
(drafting/export/render_pdf.py, its layout workers included) and the Typst candidate
(bench/typst_pdf.py), on the benchmark conference of bench/outcome.py (20 groups × 10
recommendations × 15 clauses by default), from the same outline, in the same run, turn about
(the order flips every round), each run a fresh process.

Each run reports the outline's compile time and the render's wall time, the CPU seconds the
render took (its process and its children: WeasyPrint's workers) and what else kept the
machine's two cores busy meanwhile (``other_cpu``: cores' worth, 0-2), since both cores are
shared with whatever else runs here: a figure means little without the load beside it.
"""
from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import outcome, proc

ENGINES = ("weasyprint", "typst", "weasyprint-gc")
#: ``weasyprint-gc``: the WeasyPrint path with the garbage collector's thresholds raised in
#: every process (bench/gc_site/sitecustomize.py), an experiment.
GC_SITE = Path(__file__).resolve().parent / "gc_site"
GOAL_SECONDS = outcome.GOALS["pdf"]


def _cpu() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def render_one(database: Path, conference_id: int, engine: str, locale: str, keep: Path | None) -> dict[str, Any]:
    """Compile the outline and render it with ``engine``, in this (fresh) process."""
    from flask_babel import force_locale

    from drafting.export.outline import compile_outline
    from models import Conference, db

    app = outcome._app(database)
    if engine.startswith("weasyprint"):
        from drafting.export import render_pdf as module
    else:
        from bench import typst_pdf as module  # type: ignore[no-redef]
    sampler = outcome.MemorySampler()
    sampler.start()
    with app.test_request_context(), force_locale(locale):
        started = time.perf_counter()
        outline = compile_outline(db.session.get(Conference, conference_id))  # type: ignore[arg-type]
        compiled = time.perf_counter()
        busy, cpu = proc.machine_busy_seconds(), _cpu()
        data = module.render(outline)
        finished = time.perf_counter()
        busy, cpu = proc.machine_busy_seconds() - busy, _cpu() - cpu
    sampler.stop()
    wall = finished - compiled
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        (keep / f"{engine}-{locale}.pdf").write_bytes(data)
    import io

    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(data)).pages)
    return {"bench": "pdf", "engine": engine, "locale": locale, "render_seconds": round(wall, 2),
            "compile_seconds": round(compiled - started, 2), "seconds": round(finished - started, 2),
            "render_cpu_seconds": round(cpu, 1), "other_cpu": round(max(busy - cpu, 0) / wall, 2),
            "peak_mb": round(max(sampler.peak_mb, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)),
            "pages": pages, "bytes": len(data)}


def run(engines: list[str], rounds: int, groups: int, recommendations: int, clauses: int,
        voters: int, locale: str, keep: Path | None, wait_quiet: float = 0) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="plenary-bench-") as scratch:
        database = Path(scratch) / "outcome.sqlite"
        conference_id = outcome.seed(database, groups, recommendations, clauses, voters)
        for number in range(rounds):
            for engine in engines if number % 2 == 0 else list(reversed(engines)):
                if wait_quiet:
                    proc.wait_for_quiet(wait_quiet)
                command = [sys.executable, "-m", "bench.pdf", str(database), str(conference_id), engine, locale]
                if keep is not None:
                    command.append(str(keep))
                env = {**os.environ, "PYTHONWARNINGS": "ignore"}
                if engine == "weasyprint-gc":
                    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(GC_SITE), env.get("PYTHONPATH")]))
                child = subprocess.run(command, capture_output=True, text=True, check=True,  # noqa: S603
                                       env=env)
                row = json.loads(child.stdout.strip().splitlines()[-1])
                row.update(round=number + 1, size=f"{groups}x{recommendations}x{clauses}")
                print(json.dumps(row), flush=True)
                rows.append(row)
    return rows


def table(rows: list[dict[str, Any]]) -> str:
    """Median render time per engine, every run with the other CPU load beside it, and the
    ratio to WeasyPrint's median."""
    by_engine: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_engine.setdefault(f"{row['engine']} ({row['locale']})", []).append(row)
    medians = {name: statistics.median(r["render_seconds"] for r in found) for name, found in by_engine.items()}
    reference = next((value for name, value in medians.items() if name.startswith("weasyprint (")), None)
    lines = [f"| engine | compile + render s, median (goal ≤ {GOAL_SECONDS:g}) | render s, median "
             "| runs: render s (other CPU, cores) | compile s | render CPU s | peak MB | pages | size "
             "| WeasyPrint's render time ÷ this |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, found in by_engine.items():
        runs = ", ".join(f"{r['render_seconds']} ({r['other_cpu']})" for r in found)
        last = found[-1]
        ratio = f"{reference / medians[name]:.2f}×" if reference and not name.startswith("weasyprint (") else "–"
        total = statistics.median(r["seconds"] for r in found)
        lines.append(f"| {name} | {total:.2f} | {medians[name]:.2f} | {runs} "
                     f"| {statistics.median(r['compile_seconds'] for r in found):.2f} "
                     f"| {statistics.median(r['render_cpu_seconds'] for r in found):.1f} "
                     f"| {max(r['peak_mb'] for r in found)} | {last['pages']} | {last['bytes'] // 1024} KiB "
                     f"| {ratio} |")
    return "\n".join(lines)


if __name__ == "__main__":
    # One run, in a fresh process: DATABASE CONFERENCE ENGINE LOCALE [KEEP_DIR]
    database_arg, conference_arg, engine_arg, locale_arg, *keep_arg = sys.argv[1:]
    print(json.dumps(render_one(Path(database_arg), int(conference_arg), engine_arg, locale_arg,
                                Path(keep_arg[0]) if keep_arg else None)))
