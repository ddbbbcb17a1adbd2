"""aiohttp service: the study's "typical service" with eager imports.

Listens on the Unix socket $SOCKET (default /run/app/app.sock) and answers
GET / with 200 {"status": "ok"}. GET /work?n=N (or POST /work with a JSON body
{"n": N}) is the first real call: aiohttp's request parsing, routing, query or
JSON body decoding and JSON answer, with "work-done" in the body. Nothing is
written to stdout; logs go to stderr. python-aiohttp-lazy/service.py is a
verbatim copy of this file.
"""
import asyncio
import json
import logging
import os
import sys
import time

import aiohttp
from aiohttp import web

SOCKET = os.environ.get("SOCKET", "/run/app/app.sock")
STARTED = time.monotonic()

log = logging.getLogger("app")


async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def info(request: web.Request) -> web.Response:
    return web.json_response(
        {
            "status": "ok",
            "app": "python-aiohttp",
            "python": sys.version.split()[0],
            "aiohttp": aiohttp.__version__,
            "uptime_s": round(time.monotonic() - STARTED, 3),
            "loop": type(asyncio.get_running_loop()).__name__,
        },
        dumps=json.dumps,
    )


async def echo(request: web.Request) -> web.Response:
    body = await request.read()
    return web.Response(body=body, content_type=request.content_type or "application/octet-stream")


async def work(request: web.Request) -> web.Response:
    """A small real request through aiohttp: parse, route, decode, answer JSON."""
    try:
        if request.method == "POST":
            n = int((await request.json()).get("n", 100))
        else:
            n = int(request.query.get("n", "100"))
    except (ValueError, TypeError, AttributeError):
        return web.json_response({"error": "n must be an integer"}, status=400)
    if not 0 <= n <= 10000:
        return web.json_response({"error": "n must be in 0..10000"}, status=400)
    return web.json_response(
        {
            "status": "work-done",
            "app": "python-aiohttp",
            "n": n,
            "sum_squares": sum(i * i for i in range(n)),
            "path": request.path,
        }
    )


def make_app() -> web.Application:
    app = web.Application()
    app.router.add_get("/", health)
    app.router.add_get("/info", info)
    app.router.add_post("/echo", echo)
    app.router.add_get("/work", work)
    app.router.add_post("/work", work)
    return app


def main() -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    try:
        os.unlink(SOCKET)  # a stale socket file would make bind fail
    except FileNotFoundError:
        pass
    # The socket is created with mode 0777 & ~umask: clear the umask so a
    # non-root client on the host can connect (run_app has no chmod hook).
    os.umask(0)
    web.run_app(make_app(), path=SOCKET, print=None, access_log=None)


if __name__ == "__main__":
    main()
