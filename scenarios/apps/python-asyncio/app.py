"""Homegrown HTTP/1.1 server on stdlib asyncio only (the study's baseline).

Listens on the Unix socket $SOCKET (default /run/app/app.sock) and answers
GET / with 200 {"status": "ok"}. Keep-alive, Content-Length bodies, 400 on
malformed requests, 404 on unknown paths. GET /work?n=N (or POST /work with
a JSON body {"n": N}) is the first real call through this homegrown framework
(request parsing, routing, query or JSON decoding, JSON answer with
"work-done" in the body). Nothing on stdout.
"""
import asyncio
import json
import os
import signal
import sys

SOCKET = os.environ.get("SOCKET", "/run/app/app.sock")
MAX_HEAD = 16 * 1024
MAX_BODY = 1 << 20
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
           413: "Payload Too Large"}


def response(status: int, body: bytes, ctype: str = "application/json", close: bool = False) -> bytes:
    head = (
        f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}\r\n"
        f"Content-Type: {ctype}\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n"
    )
    return head.encode("latin-1") + body


def work(method: str, query: str, body: bytes) -> tuple[int, bytes, str]:
    """The same small job as the aiohttp app's /work, on this framework."""
    # Imported here, not at the top: asyncio does not pull it in, and the
    # start-up (health) path must stay exactly what it was.
    import urllib.parse

    try:
        if method == "POST":
            n = int(json.loads(body or b"{}").get("n", 100))
        else:
            n = int(urllib.parse.parse_qs(query).get("n", ["100"])[0])
    except (ValueError, TypeError, AttributeError):
        return 400, b'{"error": "n must be an integer"}', "application/json"
    if not 0 <= n <= 10000:
        return 400, b'{"error": "n must be in 0..10000"}', "application/json"
    out = {"status": "work-done", "app": "python-asyncio", "n": n,
           "sum_squares": sum(i * i for i in range(n)), "path": "/work"}
    return 200, json.dumps(out).encode(), "application/json"


def route(method: str, target: str, body: bytes) -> tuple[int, bytes, str]:
    path, _, query = target.partition("?")
    if path == "/":
        if method not in ("GET", "HEAD"):
            return 405, b'{"error": "method not allowed"}', "application/json"
        return 200, json.dumps({"status": "ok"}).encode(), "application/json"
    if path == "/info" and method == "GET":
        return 200, json.dumps({"status": "ok", "app": "python-asyncio",
                                "python": sys.version.split()[0]}).encode(), "application/json"
    if path == "/echo" and method == "POST":
        return 200, body, "application/octet-stream"
    if path == "/work" and method in ("GET", "HEAD", "POST"):
        return work(method, query, body)
    return 404, b'{"error": "not found"}', "application/json"


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except asyncio.IncompleteReadError:
                return  # client closed between requests
            except asyncio.LimitOverrunError:
                writer.write(response(400, b'{"error": "header too large"}', close=True))
                return
            lines = head.decode("latin-1").split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                writer.write(response(400, b'{"error": "bad request line"}', close=True))
                return
            method, path, version = parts
            headers = {}
            for line in lines[1:]:
                if not line:
                    continue
                name, sep, value = line.partition(":")
                if not sep:
                    writer.write(response(400, b'{"error": "bad header"}', close=True))
                    return
                headers[name.strip().lower()] = value.strip()
            if "chunked" in headers.get("transfer-encoding", "").lower():
                writer.write(response(400, b'{"error": "chunked bodies not supported"}', close=True))
                return
            try:
                length = int(headers.get("content-length", "0"))
            except ValueError:
                length = -1
            if length < 0:
                writer.write(response(400, b'{"error": "bad content-length"}', close=True))
                return
            if length > MAX_BODY:
                writer.write(response(413, b'{"error": "body too large"}', close=True))
                return
            body = await reader.readexactly(length) if length else b""
            conn = headers.get("connection", "").lower()
            close = conn == "close" or (version == "HTTP/1.0" and conn != "keep-alive")
            status, payload, ctype = route(method, path, body)
            out = response(status, payload, ctype, close)
            if method == "HEAD":
                out = out[: out.index(b"\r\n\r\n") + 4]
            writer.write(out)
            await writer.drain()
            if close:
                return
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def main() -> None:
    try:
        os.unlink(SOCKET)
    except FileNotFoundError:
        pass
    server = await asyncio.start_unix_server(handle, path=SOCKET, limit=MAX_HEAD)
    os.chmod(SOCKET, 0o666)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
