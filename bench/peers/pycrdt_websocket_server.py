"""pycrdt-websocket under uvicorn, as the benchmark runs it: rooms in memory, one per path.

Run by bench/peers.py with the Python of its scratch install (bench/.peers/pycrdt-websocket/),
which has pycrdt-websocket, uvicorn and websockets; not importable from the project's own.
"""
from __future__ import annotations

import asyncio
import os

import uvicorn
from pycrdt.websocket import ASGIServer, WebsocketServer, exception_logger


async def main() -> None:
    # Without an exception handler, one client's disconnect can stop the whole server.
    websocket_server = WebsocketServer(exception_handler=exception_logger)
    app = ASGIServer(websocket_server)
    config = uvicorn.Config(app, host="127.0.0.1", port=int(os.environ["PORT"]), log_level="warning")
    async with websocket_server:
        await uvicorn.Server(config).serve()


if __name__ == "__main__":
    asyncio.run(main())
