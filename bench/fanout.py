"""Fan-out latency of live editing against a real Plenary process, with Python load clients
(the first harness; ``python -m bench.run`` is the one with Node clients and the peers).

N editors (Python clients: python-socketio + pycrdt, tests/yclient.py) join one clause and
each types ``--rate`` one-character inserts a second, with jitter, for ``--seconds``; every
insert carries a marker, and each receiver notes when each marker arrives. Prints one JSON
line: latency percentiles, edits sent, deliveries and the delivered share, and whether every
replica and the stored text converged (a run that does not converge is a failure, not a
number). Persistence is on: every acknowledged edit is committed before it is relayed.

    .venv/bin/python bench/fanout.py --editors 10 --seconds 10 --server gunicorn
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.plenary import free_port, prepare, start_server  # noqa: E402 - after the path is set

MARK = re.compile(r"\[(\d+):(\d+)\]")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--editors", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=2)
    parser.add_argument("--rate", type=float, default=5)
    parser.add_argument("--server", choices=["gunicorn", "gunicorn-gevent", "werkzeug"],
                        default="gunicorn")
    parser.add_argument("--database", default=None,
                        help="DATABASE_URL of a scratch database (default: a new SQLite file)")
    options = parser.parse_args()

    import requests

    from tests.yclient import EditorClient

    workdir = Path(tempfile.mkdtemp(prefix="plenary-bench-"))
    database = options.database or f"sqlite:///{workdir / 'bench.sqlite'}"
    recommendation_id, tokens = prepare(database, workdir, options.editors)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database, "PLENARY_INSTANCE_PATH": str(workdir),
           "YJS_RATE": "1000", "YJS_BURST": "1000"}
    server = start_server(options.server, port, env, threads=2 * options.editors + 20)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(url + "/login", timeout=1)
                break
            except requests.RequestException:  # not listening yet, or still importing
                time.sleep(0.1)
        clients = [EditorClient(url, token=token).connect() for token in tokens]
        doc = clients[0].join(recommendation_id)["clauses"][0]["doc"]
        for client in clients[1:]:
            client.join(recommendation_id)
        sent: dict[tuple[int, int], float] = {}
        #: Markers typed inside the measured window: only their deliveries count.
        measured: set[tuple[int, int]] = set()
        latencies: list[float] = []
        measuring = threading.Event()
        lock = threading.Lock()

        def watch(index: int, client: EditorClient) -> None:
            def on_change(event) -> None:
                now = time.perf_counter()
                for part in event.delta:
                    inserted = part.get("insert")
                    for author, sequence in MARK.findall(inserted if isinstance(inserted, str) else ""):
                        key = (int(author), int(sequence))
                        if key[0] != index and key in measured:
                            with lock:
                                latencies.append((now - sent[key]) * 1000)
            client.open(doc).observe(on_change)

        for index, client in enumerate(clients):
            watch(index, client)

        stop = threading.Event()

        def type_(index: int, client: EditorClient) -> None:
            rng = random.Random(index)  # noqa: S311 - jitter, not secrets
            sequence = 0
            while not stop.is_set():
                time.sleep(rng.uniform(0.5, 1.5) / options.rate)
                sequence += 1
                marker = f"[{index}:{sequence}]"
                with lock:
                    sent[(index, sequence)] = time.perf_counter()
                    if measuring.is_set():
                        measured.add((index, sequence))
                client.insert(doc, len(client.text(doc)), marker)

        typists = [threading.Thread(target=type_, args=(i, c), daemon=True) for i, c in enumerate(clients)]
        for typist in typists:
            typist.start()
        time.sleep(options.warmup)
        measuring.set()
        time.sleep(options.seconds)
        measuring.clear()
        sent_during = len(measured)
        stop.set()
        for typist in typists:
            typist.join()
        end = time.monotonic() + 30
        while time.monotonic() < end and len({c.text(doc) for c in clients}) != 1:
            time.sleep(0.05)
        texts = {c.text(doc) for c in clients}
        stored = requests.get(f"{url}/api/v1/recommendations/{recommendation_id}",
                              headers={"Authorization": f"Bearer {tokens[0]}"}, timeout=10).json()
        converged = len(texts) == 1 and stored["clauses"][0]["text"] == next(iter(texts))
        for client in clients:
            client.disconnect()
        latencies.sort()

        def percentile(p: float) -> float | None:
            return round(latencies[min(len(latencies) - 1, int(p * len(latencies)))], 2) if latencies else None

        expected = sent_during * (options.editors - 1)
        print(json.dumps({
            "server": options.server, "database": database.split(":", 1)[0],
            "editors": options.editors, "rate": options.rate, "seconds": options.seconds,
            "edits_sent": sent_during, "deliveries": len(latencies),
            "delivered_share": round(len(latencies) / expected, 3) if expected else None,
            "p50_ms": percentile(0.5), "p90_ms": percentile(0.9), "p99_ms": percentile(0.99),
            "max_ms": round(latencies[-1], 2) if latencies else None,
            "mean_ms": round(statistics.fmean(latencies), 2) if latencies else None,
            "converged": converged,
        }))
        return 0 if converged else 1
    finally:
        server.terminate()
        server.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
