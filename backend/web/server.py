"""Running the app: one process, or several sharing the port (SO_REUSEPORT)."""
from __future__ import annotations

import logging
import multiprocessing
import signal

from aiohttp import web

from ..config import Settings
from .app import create_app


def serve_one(settings: Settings, host: str, port: int, quiet: bool = False, reuse_port: bool = False) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s")
    web.run_app(create_app(settings), host=host, port=port, reuse_port=reuse_port or None,
                access_log=None if quiet else logging.getLogger("aiohttp.access"))


def serve(settings: Settings, host: str, port: int, workers: int = 1, quiet: bool = False) -> None:
    if workers <= 1:
        serve_one(settings, host, port, quiet)
        return
    # The kernel spreads incoming connections over the worker processes.
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=serve_one, args=(settings, host, port, quiet, True), daemon=True)
                 for _ in range(workers)]
    for process in processes:
        process.start()

    def stop(*_: object) -> None:
        for process in processes:
            process.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for process in processes:
        process.join()
