"""CPU time and peak memory of a process and its descendants, read from /proc (Linux)."""
from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone
        return None
    # The command name is in parentheses and may hold spaces; fields count from after it.
    return raw[raw.rindex(")") + 2:].split()


def tree(pid: int) -> list[int]:
    """``pid`` and every process descended from it (a gunicorn master and its worker)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat_fields(int(entry.name))) is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, pending = [], [pid]
    while pending:
        current = pending.pop()
        found.append(current)
        pending.extend(children.get(current, []))
    return found


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds of the process tree so far (all threads)."""
    total = 0
    for member in tree(pid):
        fields = _stat_fields(member)
        if fields is not None:
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


@dataclass(frozen=True)
class Memory:
    #: The largest single process's peak resident set (a gunicorn worker, a node server).
    peak_mib: float
    #: The tree's peak resident sets added up (an upper bound of its peak together).
    peak_total_mib: float


def peak_rss(pid: int) -> Memory:
    peaks = []
    for member in tree(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / 1024)
    return Memory(round(max(peaks, default=0), 1), round(sum(peaks), 1))


def machine_busy_seconds() -> float:
    """CPU seconds all cores have spent busy since boot (everything but idle and I/O wait):
    what else ran during a measurement, once the server's and load generator's are taken out."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    # guest time is already counted in user time
    return (sum(fields[:8]) - idle - iowait) / TICKS


def wait_for_quiet(limit: float, busy_share: float = 0.15, sample: float = 3) -> float:
    """Wait (at most ``limit`` seconds) until the machine is nearly idle — both cores are
    shared with whatever else runs here — and return how busy it was at the last look."""
    deadline = time.monotonic() + limit
    while True:
        before = machine_busy_seconds()
        time.sleep(sample)
        share = (machine_busy_seconds() - before) / sample
        if share <= busy_share or time.monotonic() >= deadline:
            if share > busy_share:
                _log(f"the machine is still busy ({share:.0%} of a core); measuring anyway")
            return share
        _log(f"waiting for a quiet machine ({share:.0%} of a core busy)")


def _log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)
