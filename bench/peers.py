"""The peer servers of the comparison, installed by the harness into a scratch folder (never
committed) at exact versions from the npm registry and PyPI, and started on a free port."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
SCRATCH = BENCH / ".peers"


@dataclass(frozen=True)
class Peer:
    name: str
    #: How the load generator speaks to it (loadgen.mjs transports).
    transport: str
    #: npm packages at exact versions, or PyPI requirements pinned with ==.
    packages: dict[str, str] = field(default_factory=dict)
    python: bool = False

    @property
    def home(self) -> Path:
        return SCRATCH / self.name

    def url(self, port: int) -> str:
        return f"ws://127.0.0.1:{port}"


PEERS = {
    peer.name: peer
    for peer in [
        # 0.1.5 needs yjs 14 and does not install on Node 20.
        Peer("y-websocket", "ws", {"@y/websocket-server": "0.1.1", "yjs": "13.6.33"}),
        # 4.x needs Node 22.
        Peer("hocuspocus", "hocuspocus", {"@hocuspocus/server": "3.4.4", "yjs": "13.6.33"}),
        Peer("pycrdt-websocket", "ws",
             {"pycrdt-websocket": "0.16.5", "uvicorn": "0.54.0", "websockets": "17.4"}, python=True),
    ]
}


def _log(message: str) -> None:
    print(f"[peers] {message}", file=sys.stderr, flush=True)


def install(peer: Peer) -> None:
    """Install the peer into bench/.peers/<name>/ unless the same versions are there already."""
    marker = peer.home / ".installed"
    wanted = json.dumps(peer.packages, sort_keys=True)
    if marker.exists() and marker.read_text() == wanted:
        return
    shutil.rmtree(peer.home, ignore_errors=True)
    peer.home.mkdir(parents=True)
    _log(f"installing {peer.name}: {wanted}")
    if peer.python:
        subprocess.run([sys.executable, "-m", "venv", str(peer.home / "venv")], check=True,  # noqa: S603
                       stdout=sys.stderr)
        requirements = [f"{name}=={version}" for name, version in peer.packages.items()]
        subprocess.run([str(peer.home / "venv" / "bin" / "python"), "-m", "pip", "install",  # noqa: S603
                        "--quiet", "--disable-pip-version-check", *requirements], check=True, stdout=sys.stderr)
    else:
        (peer.home / "package.json").write_text(json.dumps(
            {"private": True, "type": "module", "dependencies": peer.packages}, indent=2))
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"],  # noqa: S607
                       cwd=peer.home, check=True, stdout=sys.stderr)
    marker.write_text(wanted)


def command(peer: Peer) -> list[str]:
    if peer.name == "y-websocket":
        # The package's own server, unchanged (HOST and PORT from the environment).
        return ["node", str(peer.home / "node_modules/@y/websocket-server/src/server.js")]
    if peer.name == "hocuspocus":
        # Copied beside its node_modules, where Node resolves the package from.
        shutil.copy(BENCH / "peers" / "hocuspocus.mjs", peer.home / "server.mjs")
        return ["node", str(peer.home / "server.mjs")]
    return [str(peer.home / "venv" / "bin" / "python"), str(BENCH / "peers" / "pycrdt_websocket_server.py")]


def start(peer: Peer, port: int) -> subprocess.Popen[bytes]:
    install(peer)
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port)}
    return subprocess.Popen(command(peer), cwd=peer.home, env=env,  # noqa: S603
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
