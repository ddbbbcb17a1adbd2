"""python-aiohttp's app.py with function-local imports (the study's "delay
them", by hand): every import sits in the function that needs it, so the
module itself imports nothing but os.

Same routes, same handlers, same answers as ../python-aiohttp/app.py (keep
them in step). What this can defer for this app: nothing that matters.
main() needs aiohttp.web to build and serve the app, and aiohttp brings in
asyncio, json, logging, sys and time itself, so by the first answer every
module the handlers import is loaded already; the handlers' own import
statements then cost a sys.modules lookup per call. The suite measures
this rather than assuming it.
"""
import os

SOCKET = os.environ.get("SOCKET", "/run/app/app.sock")


async def health(request):
    from aiohttp import web

    return web.json_response({"status": "ok"})


async def info(request):
    import asyncio
    import json
    import sys

    import aiohttp
    from aiohttp import web

    return web.json_response(
        {
            "status": "ok",
            "app": "python-aiohttp",
            "python": sys.version.split()[0],
            "aiohttp": aiohttp.__version__,
            "uptime_s": round(_uptime(), 3),
            "loop": type(asyncio.get_running_loop()).__name__,
        },
        dumps=json.dumps,
    )


async def echo(request):
    from aiohttp import web

    body = await request.read()
    return web.Response(body=body, content_type=request.content_type or "application/octet-stream")


async def work(request):
    """A small real request through aiohttp: parse, route, decode, answer JSON."""
    from aiohttp import web

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


_started = None


def _uptime() -> float:
    import time

    return time.monotonic() - _started


def make_app():
    from aiohttp import web

    app = web.Application()
    app.router.add_get("/", health)
    app.router.add_get("/info", info)
    app.router.add_post("/echo", echo)
    app.router.add_get("/work", work)
    app.router.add_post("/work", work)
    return app


def main() -> None:
    global _started
    import logging
    import sys
    import time

    from aiohttp import web

    _started = time.monotonic()
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
