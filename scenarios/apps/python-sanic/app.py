"""The study's other framework: a sanic app on a Unix socket, eager imports.

Same routes and answers as python-aiohttp: GET / -> 200 {"status": "ok"};
GET /work?n=N or POST /work {"n": N} -> 200 JSON with "work-done" (sanic's
request parsing, routing, query or JSON decoding, JSON answer). One process
(single_process: no worker manager forking a second interpreter), no access
log, no banner. sanic binds $SOCKET (default /run/app/app.sock) mode 0666
itself (it binds a temporary name and renames it into place).

Not runnable on a machine without a Python package index: sanic is not
packaged in Debian (see README.md).
"""
import os

from sanic import Sanic
from sanic.response import json

SOCKET = os.environ.get("SOCKET", "/run/app/app.sock")

app = Sanic("python_sanic")


@app.get("/")
async def health(request):
    return json({"status": "ok"})


@app.route("/work", methods=["GET", "POST"])
async def work(request):
    try:
        if request.method == "POST":
            n = int((request.json or {}).get("n", 100))
        else:
            n = int(request.args.get("n", "100"))
    except (ValueError, TypeError, AttributeError):
        return json({"error": "n must be an integer"}, status=400)
    if not 0 <= n <= 10000:
        return json({"error": "n must be in 0..10000"}, status=400)
    return json({"status": "work-done", "app": "python-sanic", "n": n,
                 "sum_squares": sum(i * i for i in range(n)), "path": request.path})


if __name__ == "__main__":
    app.run(unix=SOCKET, single_process=True, access_log=False, motd=False, debug=False)
