"""Fn's http-stream contract on the Python standard library (asyncio).

A stand-in for fdk-python, written to the same contract (no Python package
index is reachable where coldstart is developed, so the real FDK cannot be
installed; README.md says how to use it instead). Usage, as fdk's entrypoint:

    python3 fnserver.py /function/func.py handler

What the platform gives (Fn's agent sets these): FN_FORMAT=http-stream,
FN_LISTENER=unix:/tmp/iofs/lsnr.sock (a host directory bind-mounted at
/tmp/iofs), FN_MEMORY (MB), FN_TMPSIZE. What this does, in the FDKs' order:

 1. bind a private socket "phony" + the listener's name in that directory,
    make it mode 0666 (the agent need not be the function's user), listen;
 2. only then create the listener's name as a RELATIVE symlink to it: the
    link appearing is the readiness signal; the agent rejects a link that is
    absolute, leaves the directory or does not resolve to a socket;
 3. answer POST /call (headers Fn-Call-Id, Fn-Deadline in RFC 3339; the body
    may come chunked from the agent) by calling handler(ctx, data) and sending
    its result with status 200; 502 if the handler raised; 504 if the deadline
    had passed. The agent shuts the container down on any other status.

GET / answers "ok" as well: not in the contract, it lets a plain health probe
tell "listening" from "serving calls". Nothing is written to stdout.
"""
import asyncio
import datetime
import importlib
import io
import os
import signal
import sys

MAX_HEAD = 16 * 1024
MAX_BODY = 6 << 20
REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 413: "Payload Too Large",
           502: "Bad Gateway", 504: "Gateway Timeout"}


class Context:
    """What a handler gets besides its input (a subset of fdk's InvokeContext)."""

    def __init__(self, headers: dict[str, str], deadline: datetime.datetime | None) -> None:
        self.headers = headers
        self.call_id = headers.get("fn-call-id", "")
        self.deadline = deadline
        self.config = os.environ  # Fn passes app and function config as environment


class BadRequest(Exception):
    pass


def response(status: int, body: bytes, ctype: str = "text/plain", close: bool = False) -> bytes:
    head = (f"HTTP/1.1 {status} {REASONS.get(status, 'Unknown')}\r\n"
            f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            f"Fn-Fdk-Version: coldstart-fn-python/1\r\n"
            f"Connection: {'close' if close else 'keep-alive'}\r\n\r\n")
    return head.encode("latin-1") + body


async def read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> bytes:
    """Content-Length or chunked (Go's client, hence the agent, chunks a body of unknown length)."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks, total = [], 0
        while True:
            line = await reader.readuntil(b"\r\n")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise BadRequest("bad chunk size")
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                    pass
                return b"".join(chunks)
            total += size
            if total > MAX_BODY:
                raise BadRequest("body too large")
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    try:
        length = int(headers.get("content-length", "0"))
    except ValueError:
        raise BadRequest("bad content-length")
    if not 0 <= length <= MAX_BODY:
        raise BadRequest("bad content-length")
    return await reader.readexactly(length) if length else b""


def parse_deadline(value: str) -> datetime.datetime | None:
    """Fn-Deadline is RFC 3339; a missing or malformed one means no deadline (as in fdk-go)."""
    if not value:
        return None
    try:
        d = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    return d if d.tzinfo else d.replace(tzinfo=datetime.timezone.utc)


class Server:
    def __init__(self, handler) -> None:
        self.handler = handler

    async def call(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes, str]:
        deadline = parse_deadline(headers.get("fn-deadline", ""))
        if deadline is not None and deadline <= datetime.datetime.now(datetime.timezone.utc):
            return 504, b"deadline exceeded\n", "text/plain"
        try:
            out = self.handler(Context(headers, deadline), io.BytesIO(body))
            if asyncio.iscoroutine(out):
                out = await out
        except Exception as e:  # the function failed; the container may go on
            print(f"fn-python: handler: {e!r}", file=sys.stderr)
            return 502, b"function failed\n", "text/plain"
        if isinstance(out, str):
            out = out.encode()
        return 200, out or b"", "text/plain"

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return  # the caller closed between requests
                except asyncio.LimitOverrunError:
                    writer.write(response(400, b"header too large\n", close=True))
                    return
                lines = head.decode("latin-1").split("\r\n")
                parts = lines[0].split(" ")
                if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                    writer.write(response(400, b"bad request line\n", close=True))
                    return
                method, target, version = parts
                headers = {}
                for line in lines[1:]:
                    name, sep, value = line.partition(":")
                    if sep:
                        headers[name.strip().lower()] = value.strip()
                try:
                    body = await read_body(reader, headers)
                except BadRequest as e:
                    writer.write(response(400, f"{e}\n".encode(), close=True))
                    return
                conn = headers.get("connection", "").lower()
                close = conn == "close" or (version == "HTTP/1.0" and conn != "keep-alive")
                path = target.split("?", 1)[0]
                if path == "/call" and method == "POST":
                    status, payload, ctype = await self.call(headers, body)
                elif path == "/" and method in ("GET", "HEAD"):
                    status, payload, ctype = 200, b"ok\n", "text/plain"
                else:
                    status, payload, ctype = 404, b"not found\n", "text/plain"
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


def load_handler(argv: list[str]):
    """fdk's entrypoint convention: a file and the name of a function in it."""
    path = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "func.py")
    name = argv[2] if len(argv) > 2 else "handler"
    sys.path.insert(0, os.path.dirname(os.path.abspath(path)))
    module = importlib.import_module(os.path.splitext(os.path.basename(path))[0])
    return getattr(module, name)


async def main() -> None:
    fmt = os.environ.get("FN_FORMAT", "")
    if fmt not in ("", "http-stream"):
        sys.exit(f"fn-python: FN_FORMAT={fmt!r}: only http-stream is supported")
    lsnr = os.environ.get("FN_LISTENER", "")
    if not lsnr.startswith("unix:") or not os.path.isabs(lsnr[5:]):
        sys.exit(f"fn-python: FN_LISTENER={lsnr!r}: want unix:/absolute/path")
    link = lsnr[5:]
    directory, name = os.path.split(link)
    if not name:
        sys.exit(f"fn-python: FN_LISTENER={lsnr!r}: no socket file name")
    sock = os.path.join(directory, "phony" + name)
    # The user's code is loaded before the socket appears: the first call must find it ready.
    server = Server(load_handler(sys.argv))
    for stale in (link, sock):
        try:
            os.remove(stale)
        except FileNotFoundError:
            pass
    srv = await asyncio.start_unix_server(server.serve, path=sock, limit=MAX_HEAD)
    os.chmod(sock, 0o666)
    # Listening (start_unix_server listens before it returns): now the signal.
    os.symlink(os.path.basename(sock), link)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with srv:
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
