"""The live-editing benchmark: Plenary and the peer servers under the same Node load clients.

Run from the repository root:

    .venv/bin/python -m bench.run fanout --editors 10,50 --servers plenary
    .venv/bin/python -m bench.run fanout --editors 50 --awareness --servers all --markdown
    .venv/bin/python -m bench.run latejoin --edits 10000,100000 --database sqlite,postgresql+psycopg://…
    .venv/bin/python -m bench.run floor --database sqlite,postgresql+psycopg://…
    .venv/bin/python -m bench.run ballots --people 100
    .venv/bin/python -m bench.run comments --people 100
    .venv/bin/python -m bench.run install-peers

``fanout``: N editors (bench/loadgen.mjs, one Node process) type into one clause, each
``--rate`` keystrokes a second with jitter (90 % one-character inserts, 10 % backspaces), after
``--warmup`` seconds for ``--seconds``; with ``--awareness`` each keystroke also sends a cursor.
``latejoin``: a clause with a long history, joined by fresh clients, warm and right after a
server restart. ``floor``: one durable commit alone, paced as editors type — the least any
fan-out can take when edits are relayed only once stored (bench/floor.py). ``ballots``: a
whole group casting at once from their vote pages, every ballot counted once (bench/ballots.py;
``--against /work/main`` measures another checkout in the same run, turn about).
``comments``: a comment reaching everyone on the page (bench/moments.py). Each run prints
one JSON line; ``--markdown`` adds a table with every peer's figures beside Plenary's and
their ratio. A run that does not converge (every replica, the
server's state as a newcomer syncs it, and for Plenary the stored text, all equal) is a
failure: the command exits 1.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench import ballots, floor, moments, peers, plenary, proc

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
SERVERS = ["plenary", *peers.PEERS]
#: The clause's first wording, typed in by the first editor, so the cursors start spread out.
INITIAL_TEXT = ("Recognising the need for a rapid, transparent and inclusive process, the working group "
                "recommends that the conference adopt the following measures within one year. ")


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,  # noqa: S603, S607
                          check=False).stdout


def server_version() -> str:
    """The commit, and when the server's code differs from it (work in progress), a
    fingerprint of the difference: figures are only comparable between equal versions."""
    commit = git("rev-parse", "HEAD").strip() or "unknown"
    code = ["drafting", "models", "wsgi.py"]
    changes = git("diff", "HEAD", "--", *code)
    for path in git("ls-files", "--others", "--exclude-standard", "--", *code).split():
        changes += path + (ROOT / path).read_text(errors="replace")
    if not changes:
        return commit
    return f"{commit}+dirty:{hashlib.sha256(changes.encode()).hexdigest()[:12]}"


# --- the load generator ---------------------------------------------------------------------

def ensure_node_modules() -> None:
    if not (BENCH / "node_modules").is_dir():
        log("installing the load generator's packages (npm ci --prefix bench)")
        subprocess.run(["npm", "ci", "--prefix", str(BENCH), "--no-audit", "--no-fund"],  # noqa: S603, S607
                       check=True, stdout=sys.stderr)


class Loadgen:
    """One run of bench/loadgen.mjs: its JSON lines as they come."""

    def __init__(self, config: dict[str, Any]) -> None:
        ensure_node_modules()
        # BENCH_NODE_ARGS: flags for Node, e.g. "--cpu-prof" to profile the load generator.
        flags = os.environ.get("BENCH_NODE_ARGS", "").split()
        self.process = subprocess.Popen(["node", *flags, str(BENCH / "loadgen.mjs")],  # noqa: S603, S607
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(config))
        self.process.stdin.close()

    @property
    def pid(self) -> int:
        return self.process.pid

    def events(self) -> Iterator[dict[str, Any]]:
        """Every event up to the result (returned last); a failure raises."""
        assert self.process.stdout is not None
        for line in self.process.stdout:
            event = json.loads(line)
            if event["event"] == "failed":
                raise RuntimeError(f"the load generator failed: {event['reason']}")
            yield event
            if event["event"] == "result":
                return
        raise RuntimeError(f"the load generator ended (exit {self.process.wait()}) without a result")

    def result(self) -> dict[str, Any]:
        return next(e for e in self.events() if e["event"] == "result")

    def stop(self, grace: float = 5) -> None:
        try:
            self.process.wait(timeout=grace)  # it exits by itself after its result
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(timeout=10)


def run_loadgen(config: dict[str, Any]) -> dict[str, Any]:
    """The result of a load generator run that ends by itself (history, late joins)."""
    loadgen = Loadgen(config)
    try:
        return loadgen.result()
    finally:
        loadgen.stop()


# --- the servers ----------------------------------------------------------------------------

@dataclass
class Running:
    """A server under test, started, and what the load generator needs to reach it."""

    name: str
    process: subprocess.Popen[bytes]
    #: The load generator's transport settings (transport, url, tokens or room).
    link: dict[str, Any]
    detail: str
    database: str | None = None
    #: The text as stored (Plenary, through its API); None for servers that keep nothing.
    stored_text: Callable[[], str] | None = None
    #: Further processes of the same server (Plenary on several processes).
    others: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def pids(self) -> list[int]:
        return [self.process.pid, *(other.pid for other in self.others)]


def database_label(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgres") else "SQLite"


@contextmanager
def plenary_server(room: plenary.Room, workdir: Path, kind: str, threads: int,
                   processes: int = 1, redis_url: str | None = None) -> Iterator[Running]:
    """Plenary, as ``processes`` server processes (more than one: joined by Redis, each
    editor on one of them in turn)."""
    env = plenary.server_env(room.database_url, workdir, kind)
    if processes > 1:
        if not redis_url:
            raise SystemExit("--processes above 1 needs --redis")
        env["REDIS_URL"] = redis_url
    started: list[subprocess.Popen[bytes]] = []
    urls = []
    try:
        for _ in range(processes):
            port = plenary.free_port()
            process = plenary.start_server(kind, port, env, threads)
            started.append(process)
            url = f"http://127.0.0.1:{port}"
            plenary.wait_until_ready(process, lambda url=url: requests.get(url + "/login", timeout=1), url)
            urls.append(url)
        detail = f"{kind}, 1 worker" + (f", {threads} threads" if kind == "gunicorn" else "")
        if processes > 1:
            detail = f"{processes} × {detail}, Redis"
        yield Running("plenary" if processes == 1 else f"plenary ×{processes}", started[0],
                      {"transport": "socketio", "url": urls[0], "urls": urls, "tokens": room.tokens,
                       "recommendation": room.recommendation_id},
                      detail, database_label(room.database_url), lambda: plenary.stored_text(urls[0], room),
                      others=started[1:])
    finally:
        for process in started:
            plenary.stop(process)


@contextmanager
def peer_server(name: str) -> Iterator[Running]:
    peer = peers.PEERS[name]
    port = plenary.free_port()
    process = peers.start(peer, port)
    try:
        plenary.wait_until_ready(
            process, lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close(),
            f"port {port}")
        versions = ", ".join(f"{package} {version}" for package, version in peer.packages.items())
        yield Running(name, process, {"transport": peer.transport, "url": peer.url(port),
                                      "room": f"bench-{time.time_ns()}"}, versions)
    finally:
        plenary.stop(process)


def scratch_database(workdir: Path, database: str) -> str:
    return f"sqlite:///{workdir / 'bench.sqlite'}" if database == "sqlite" else database


# --- fan-out --------------------------------------------------------------------------------

def measure_fanout(server: Running, config: dict[str, Any], quiet_wait: float) -> dict[str, Any]:
    if quiet_wait:
        proc.wait_for_quiet(quiet_wait)
    loadgen = Loadgen({"mode": "fanout", **server.link, **config})
    marks: dict[str, float] = {}
    result: dict[str, Any] = {}
    try:
        for event in loadgen.events():
            if event["event"] in ("window_start", "window_end"):
                edge = event["event"].removeprefix("window_")
                marks[f"server_{edge}"] = sum(proc.cpu_seconds(pid) for pid in server.pids)
                marks[f"loadgen_{edge}"] = proc.cpu_seconds(loadgen.pid)
                marks[f"machine_{edge}"] = proc.machine_busy_seconds()
                marks[f"wall_{edge}"] = time.monotonic()
            elif event["event"] == "not_converged":
                log(f"{server.name}: not converged after the drain: {json.dumps(event)[:2000]}")
            elif event["event"] == "synced":
                log(f"{server.name}: {event['editors']} editors synced")
            elif event["event"] == "result":
                result = event
    finally:
        loadgen.stop()
    memory = max((proc.peak_rss(pid) for pid in server.pids), key=lambda found: found.peak_mib)
    stored = server.stored_text() if server.stored_text is not None else None
    wall = marks["wall_end"] - marks["wall_start"]
    server_cpu = marks["server_end"] - marks["server_start"]
    loadgen_cpu = marks["loadgen_end"] - marks["loadgen_start"]
    # Anything else on the machine (a test suite, a build) competes for the same cores.
    other_cpu = marks["machine_end"] - marks["machine_start"] - server_cpu - loadgen_cpu
    messages = result["messages_received"]
    deliveries = result["deliveries"] + result["awareness_deliveries"]
    converged = (result["replicas_equal"] and result["server_equal"]
                 and (stored is None or stored == result["text"]))
    latency = result["latency_ms"]
    return {
        "bench": "fanout", "server": server.name, "server_detail": server.detail, "database": server.database,
        "editors": result["editors"], "awareness": result["awareness"], "rate": result["rate"],
        "timing": result["timing"],
        "seconds": result["seconds"],
        "p50_ms": latency["p50"], "p90_ms": latency["p90"], "p99_ms": latency["p99"], "max_ms": latency["max"],
        "mean_ms": latency["mean"],
        # With --timing applied: the same edits timed on arrival, for comparison.
        "arrival_latency_ms": result["arrival_latency_ms"],
        # Keystroke to durable acknowledgement at its sender (Plenary only).
        "ack_p50_ms": (result.get("ack_latency_ms") or {}).get("p50"),
        "ack_p99_ms": (result.get("ack_latency_ms") or {}).get("p99"),
        "awareness_p50_ms": (result["awareness_latency_ms"] or {}).get("p50"),
        "awareness_p99_ms": (result["awareness_latency_ms"] or {}).get("p99"),
        "awareness_delivered_share": result["awareness_delivered_share"],
        "edits_sent": result["edits_sent"], "inserts_sent": result["inserts_sent"],
        "deletes_sent": result["deletes_sent"], "edits_per_s": result["edits_per_s"],
        "deliveries": result["deliveries"], "delivered_share": result["delivered_share"],
        "messages_per_s": result["messages_per_s"], "update_messages_per_s": result["update_messages_per_s"],
        "awareness_messages_per_s": result["awareness_messages_per_s"],
        "server_cpu_s": round(server_cpu, 3), "server_cpu_share": round(server_cpu / wall, 3),
        "server_cpu_us_per_message": round(server_cpu / messages * 1e6, 1) if messages else None,
        # Per edit (or cursor move) delivered to one replica: fair to a server that merges.
        "server_cpu_us_per_delivery": round(server_cpu / deliveries * 1e6, 1) if deliveries else None,
        "server_peak_rss_mib": memory.peak_mib, "server_peak_rss_total_mib": memory.peak_total_mib,
        "loadgen_cpu_share": result["loadgen_cpu_share"],
        "loadgen_cpu_share_proc": round(loadgen_cpu / wall, 3),
        "other_cpu_share": round(max(other_cpu, 0) / wall, 3),
        "loadgen_loop_delay_ms": result["loadgen_loop_delay_ms"],
        "refused": result["refused"], "refusals": result["refusals"][:5],
        "malformed": result["malformed"], "malformed_examples": result["malformed_examples"][:2],
        "drain_s": result["drain_s"], "replicas_equal": result["replicas_equal"],
        "server_equal": result["server_equal"],
        "stored_equal": None if stored is None else stored == result["text"],
        "text_length": result["text_length"], "converged": converged,
    }


def fanout(options: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    for editors in options.editors:
        for awareness in options.variants:
            config = {
                "editors": editors, "rate": options.rate, "warmup_s": options.warmup, "seconds": options.seconds,
                "drain_s": options.drain, "awareness": awareness, "seed": options.seed,
                "initial_text": INITIAL_TEXT, "fault_drop_every": options.fault_drop_every,
                "fault_delay_ms": options.fault_delay_ms, "timing": options.timing,
            }
            for name in options.servers:
                log(f"fan-out: {name}, {editors} editors{', cursors' if awareness else ''}")
                if name == "plenary":
                    for database in options.database:
                        with tempfile.TemporaryDirectory(prefix="plenary-bench-") as scratch:
                            workdir = Path(scratch)
                            room = plenary.prepare_room(scratch_database(workdir, database), workdir, editors)
                            with plenary_server(room, workdir, options.plenary_server, 2 * editors + 20,
                                                options.processes, options.redis) as server:
                                rows.append(emit(measure_fanout(server, config, options.wait_quiet)))
                else:
                    with peer_server(name) as server:
                        rows.append(emit(measure_fanout(server, config, options.wait_quiet)))
    return rows


def emit(row: dict[str, Any]) -> dict[str, Any]:
    row = {"server_version": server_version(), **row}  # a row of another checkout names its own
    print(json.dumps(row), flush=True)
    return row


# --- late join ------------------------------------------------------------------------------

def make_history(edits: int, workdir: Path, cap: int, seed: int) -> tuple[Path, dict[str, Any]]:
    path = workdir / f"history-{edits}.bin"
    started = time.perf_counter()
    result = run_loadgen({"mode": "history", "edits": edits, "out": str(path), "cap": cap, "seed": seed,
                          "authors": 8})
    log(f"history of {edits} edits made in {time.perf_counter() - started:.1f} s "
        f"({result['state_bytes']} bytes as one update, text {len(result['text'])} characters)")
    return path, result


def join_trials(server: Running, history: dict[str, Any], trials: int) -> list[dict[str, Any]]:
    config = {"mode": "latejoin", **server.link, "trials": trials, "expected_sha256": history["text_sha256"]}
    result = run_loadgen(config)
    if not result["correct"]:
        raise RuntimeError(f"a late joiner on {server.name} did not get the expected text")
    return list(result["trials"])


def summarise_joins(trials: list[dict[str, Any]]) -> dict[str, Any] | None:
    if not trials:
        return None
    return {
        "trials": len(trials),
        "connect_ms": round(statistics.median(t["connect_ms"] for t in trials), 2),
        "join_ms": round(statistics.median(t["join_ms"] for t in trials), 2),
        "server_ms": round(statistics.median(t["server_ms"] for t in trials), 2),
        "total_ms": round(statistics.median(t["total_ms"] for t in trials), 2),
        "total_max_ms": max(t["total_ms"] for t in trials),
        "apply_ms": round(statistics.median(t["apply_ms"] for t in trials), 2),
        "step2_bytes": trials[0]["step2_bytes"], "bytes_received": trials[0]["bytes_received"],
    }


def latejoin_row(server: Running, edits: int, cold: list[dict[str, Any]], warm: list[dict[str, Any]],
                 extra: dict[str, Any]) -> dict[str, Any]:
    return {"bench": "latejoin", "server": server.name, "server_detail": server.detail,
            "database": server.database, "edits": edits, "cold": summarise_joins(cold),
            "warm": summarise_joins(warm), "server_peak_rss_mib": proc.peak_rss(server.process.pid).peak_mib,
            "converged": True, **extra}


def latejoin(options: argparse.Namespace) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="plenary-bench-") as scratch:
        workdir = Path(scratch)
        for edits in options.edits:
            history_path, history = make_history(edits, workdir, options.history_cap, options.seed)
            for name in options.servers:
                log(f"late join: {name}, {edits} past edits")
                if name == "plenary":
                    for database in options.database:
                        instance = workdir / f"instance-{edits}-{len(rows)}"
                        instance.mkdir()
                        room = plenary.prepare_room(scratch_database(instance, database), instance, 8)
                        seeded = plenary.seed_history(room, instance, history_path, history["text"])
                        log(f"seeded {seeded}")
                        cold: list[dict[str, Any]] = []
                        warm: list[dict[str, Any]] = []
                        for restart in range(options.restarts):
                            with plenary_server(room, instance, options.plenary_server, 20) as server:
                                trials = join_trials(server, history, 1 + (options.warm_trials if restart == 0 else 0))
                                cold.append(trials[0])
                                warm.extend(trials[1:])
                                if restart == options.restarts - 1:
                                    stored = server.stored_text()
                                    if stored != history["text"]:
                                        raise RuntimeError("the stored text is not the history's text")
                                    rows.append(emit(latejoin_row(server, edits, cold, warm,
                                                                  {"seeded": seeded})))
                else:
                    with peer_server(name) as server:
                        # The peers keep nothing: the history is given to them as one update
                        # (the same document state), by a client that stays connected.
                        feeder = Loadgen({"mode": "feed", **server.link, "state": f"{history_path}.state"})
                        try:
                            feeder.result()
                            warm = join_trials(server, history, options.warm_trials)
                            rows.append(emit(latejoin_row(server, edits, [], warm, {})))
                        finally:
                            feeder.stop(grace=0)
    return rows


# --- output ---------------------------------------------------------------------------------

def ratio(ours: float | None, theirs: float | None) -> str:
    if ours is None or theirs is None or theirs == 0:
        return "–"
    return f"×{ours / theirs:.1f}"


def number(value: float | None, digits: int = 1) -> str:
    if value is None:
        return "–"
    return f"{value:,.{digits}f}".replace(",", " ")


def percent(share: float | None) -> str:
    return "–" if share is None else f"{share * 100:.0f} %"


def fanout_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| server | editors | cursors | p50 ms | p90 ms | p99 ms | max ms | cursor p50 / p99 ms "
        "| ack p50 / p99 ms | edits/s "
        "| messages delivered/s | delivered | server CPU | server CPU µs per message / per delivery "
        "| peak RSS MiB | load gen CPU, loop delay p99 | other CPU | converged "
        "| Plenary (its first row) ÷ this: p50, p99, CPU per delivery |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
        "| --- |",
    ]
    for row in rows:
        reference = next((r for r in rows if r["server"] == "plenary" and r["editors"] == row["editors"]
                          and r["awareness"] == row["awareness"]), None)
        ratios = "–"
        if reference is not None and row["server"] != "plenary":
            ratios = ", ".join(ratio(reference[k], row[k]) for k in ("p50_ms", "p99_ms", "server_cpu_us_per_delivery"))
        name = row["server"] + (f" ({row['database']})" if row["database"] else "")
        share = row["delivered_share"]
        loop_delay = number((row.get("loadgen_loop_delay_ms") or {}).get("p99"))
        cursors = (f"{number(row['awareness_p50_ms'])} / {number(row['awareness_p99_ms'])}"
                   if row["awareness"] else "–")
        acks = (f"{number(row['ack_p50_ms'])} / {number(row['ack_p99_ms'])}"
                if row.get("ack_p50_ms") is not None else "–")
        lines.append(
            f"| {name} | {row['editors']} | {'yes' if row['awareness'] else 'no'} | {number(row['p50_ms'])} "
            f"| {number(row['p90_ms'])} | {number(row['p99_ms'])} | {number(row['max_ms'], 0)} | {cursors} "
            f"| {acks} "
            f"| {number(row['edits_per_s'], 0)} | {number(row['messages_per_s'], 0)} "
            f"| {'–' if share is None else f'{share * 100:.1f} %'} | {percent(row['server_cpu_share'])} "
            f"| {number(row['server_cpu_us_per_message'], 0)} / {number(row['server_cpu_us_per_delivery'], 0)} "
            f"| {number(row['server_peak_rss_mib'], 0)} | {percent(row['loadgen_cpu_share'])}, {loop_delay} ms "
            f"| {percent(row.get('other_cpu_share'))} | {'yes' if row['converged'] else '**no**'} | {ratios} |")
    return "\n".join(lines)


def latejoin_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| server | past edits | warm: server ms | warm: total ms | cold: server ms | cold: total ms "
        "| sync step 2 bytes | Plenary (its first row) warm total ÷ this |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        warm, cold = row["warm"] or {}, row["cold"] or {}
        reference = next((r for r in rows if r["server"] == "plenary" and r["edits"] == row["edits"]), None)
        relative = "–"
        if reference is not None and row["server"] != "plenary":
            relative = ratio((reference["warm"] or {}).get("total_ms"), warm.get("total_ms"))
        name = row["server"] + (f" ({row['database']})" if row["database"] else "")
        lines.append(
            f"| {name} | {row['edits']:,} | {number(warm.get('server_ms'))} | {number(warm.get('total_ms'))} "
            f"| {number(cold.get('server_ms'))} | {number(cold.get('total_ms'))} "
            f"| {number(warm.get('step2_bytes') or cold.get('step2_bytes'), 0)} | {relative} |")
    return "\n".join(lines)


# --- the command line -----------------------------------------------------------------------

def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


def servers(text: str) -> list[str]:
    names = SERVERS if text == "all" else text.split(",")
    unknown = set(names) - set(SERVERS)
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown servers: {', '.join(sorted(unknown))}")
    return names


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--servers", type=servers, default=["plenary"],
                        help=f"comma-separated, or all: {', '.join(SERVERS)} (default plenary)")
    common.add_argument("--database", type=lambda text: text.split(","), default=["sqlite"],
                        help="Plenary's databases, comma-separated: sqlite (a new file) and/or the "
                             "DATABASE_URL of a scratch PostgreSQL database (it writes rows)")
    common.add_argument("--plenary-server", choices=["gunicorn-gevent", "gunicorn", "werkzeug"],
                        default="gunicorn-gevent",
                        help="how Plenary is served: as docs/deployment.md deploys it (gevent, the "
                             "default), gunicorn with threads, or the development server")
    common.add_argument("--seed", type=int, default=1)
    common.add_argument("--markdown", action="store_true", help="also print a Markdown table")

    run = commands.add_parser("fanout", parents=[common], help="fan-out latency with N editors")
    run.add_argument("--editors", type=numbers, default=[10], help="comma-separated, e.g. 10,50,100")
    run.add_argument("--awareness", dest="variants", action="store_const", const=[True], default=[False],
                     help="a cursor (awareness) update with every keystroke")
    run.add_argument("--both", dest="variants", action="store_const", const=[False, True],
                     help="each configuration without and with cursors")
    run.add_argument("--rate", type=float, default=5, help="keystrokes a second per editor")
    run.add_argument("--processes", type=int, default=1,
                     help="Plenary server processes, joined by Redis (--redis); editors split between them")
    run.add_argument("--redis", help="Redis URL for --processes above 1, e.g. redis://127.0.0.1:6379/0")
    run.add_argument("--warmup", type=float, default=3)
    run.add_argument("--seconds", type=float, default=20)
    run.add_argument("--timing", choices=["arrival", "applied"], default="arrival",
                     help="when an edit counts as delivered to a replica: when its update arrives "
                          "(cheap), or when a transaction applies it (exact; N² Yjs work), see loadgen.mjs")
    run.add_argument("--drain", type=float, default=30, help="seconds allowed to converge after typing")
    run.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                     help="before each run, wait up to this long for the machine to be nearly idle")
    run.add_argument("--fault-drop-every", type=int, default=0,
                     help="self-test: editor 1 ignores every K-th message (the run must not converge)")
    run.add_argument("--fault-delay-ms", type=float, default=0,
                     help="self-test: every editor applies what it receives this much later")

    join = commands.add_parser("latejoin", parents=[common], help="a fresh client joins a long history")
    join.add_argument("--edits", type=numbers, default=[10000], help="comma-separated, e.g. 10000,100000")
    join.add_argument("--warm-trials", type=int, default=5)
    join.add_argument("--restarts", type=int, default=3, help="cold joins, each after a server start")
    join.add_argument("--history-cap", type=int, default=2000,
                      help="the text grows to about this many characters, then stays about that long")

    lowest = commands.add_parser("floor", parents=[common],
                                 help="what one durable commit costs alone (the latency floor)")
    lowest.add_argument("--commits", type=int, default=1000)
    lowest.add_argument("--rate", type=float, default=50, help="commits a second (10 editors x 5)")

    voting = commands.add_parser("ballots", parents=[common],
                                 help="N voters cast at once from their pages: acknowledgement times, all counted once")
    voting.add_argument("--people", type=numbers, default=[100], help="comma-separated")
    voting.add_argument("--no-pages", dest="pages", action="store_false",
                        help="the voters' pages without their live connection (no ballot_counted heard)")
    voting.add_argument("--against", type=Path, action="append", default=[], metavar="CHECKOUT",
                        help="also measure the server of another checkout (e.g. /work/main), turn about")
    voting.add_argument("--rounds", type=int, default=1, help="times each checkout is measured")
    voting.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                        help="before each burst, wait up to this long for the machine to be nearly idle")
    busy = commands.add_parser("comments", parents=[common], help="comments reaching N people with the page open")
    busy.add_argument("--people", type=numbers, default=[100], help="comma-separated")
    busy.add_argument("--count", type=int, default=20, help="comments posted")
    busy.add_argument("--interval", type=float, default=0.5, help="seconds between comments")

    commands.add_parser("install-peers", help=f"install {', '.join(peers.PEERS)} into bench/.peers/")
    table = commands.add_parser("table", help="the Markdown tables of saved JSON lines")
    table.add_argument("results", type=Path, nargs="+", help="files of this command's JSON lines")
    options = parser.parse_args()

    if options.command == "install-peers":
        for peer in peers.PEERS.values():
            peers.install(peer)
        return 0
    if options.command == "table":
        saved = [json.loads(line) for path in options.results for line in path.read_text().splitlines()
                 if line.startswith("{")]
        for kind, render in (("fanout", fanout_table), ("latejoin", latejoin_table), ("floor", floor.table),
                             ("ballots", ballots.table), ("comments", moments.table)):
            if chosen := [row for row in saved if row["bench"] == kind]:
                print(render(chosen) + "\n")
        return 0
    if options.command == "floor":
        with tempfile.TemporaryDirectory(prefix="plenary-bench-") as scratch:
            rows = [emit(row) for database in options.database
                    for row in floor.measure(database, Path(scratch), options.commits, options.rate)]
        print(floor.table(rows), file=sys.stderr)
        if options.markdown:
            print(floor.table(rows))
        return 0
    if options.command == "ballots":
        rows = []
        for database in options.database:
            for people in options.people:
                with tempfile.TemporaryDirectory(prefix="plenary-bench-") as scratch:
                    log(f"ballots: {people} voters, {database_label(database)}")
                    rows += [emit(row) for row in ballots.run(
                        people, database, Path(scratch), options.plenary_server, options.pages,
                        [ROOT, *(root.resolve() for root in options.against)], options.rounds,
                        options.wait_quiet)]
        print(ballots.table(rows), file=sys.stderr)
        if options.markdown:
            print(ballots.table(rows))
        for row in rows:
            if not row["accounted"]:
                log(f"NOT ALL COUNTED ONCE: {row['ballot']} vote, {row['database']}, {row['server_version']}: "
                    + "; ".join(row["problems"] or [f"{row['acknowledged']} of {row['voters']} acknowledged"]))
        return 0 if all(row["accounted"] for row in rows) else 1
    if options.command == "comments":
        rows = []
        for database in options.database:
            for people in options.people:
                with tempfile.TemporaryDirectory(prefix="plenary-bench-") as scratch:
                    log(f"comments: {people} people, {database_label(database)}")
                    rows.append(emit(moments.run(people, scratch_database(Path(scratch), database),
                                                 Path(scratch), options.plenary_server, options.count,
                                                 options.interval)))
        print(moments.table(rows), file=sys.stderr)
        if options.markdown:
            print(moments.table(rows))
        return 0 if all(row["accounted"] for row in rows) else 1
    if shutil.which("node") is None:
        log("node is not on PATH")
        return 2
    rows = fanout(options) if options.command == "fanout" else latejoin(options)
    table = fanout_table(rows) if options.command == "fanout" else latejoin_table(rows)
    print(table, file=sys.stderr)
    if options.markdown:
        print(table)
    failed = [row for row in rows if not row["converged"]]
    for row in failed:
        log(f"NOT CONVERGED: {row['server']} with {row.get('editors')} editors")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
