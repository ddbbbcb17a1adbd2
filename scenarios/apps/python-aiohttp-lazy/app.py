"""python-aiohttp with the heavy import deferred (the study's remedy).

service.py is a verbatim copy of ../python-aiohttp/app.py: the same aiohttp
application. This front module imports only the stdlib, so it is listening
within a few tens of milliseconds of CPU:

 1. bind $SOCKET (default /run/app/app.sock) and serve it with a tiny
    asyncio.start_unix_server front that answers the health request
    (GET or HEAD /, no body) itself, with the status, content type and
    body that aiohttp's handler sends;
 2. right after it listens, import service (and so aiohttp) in a worker
    thread, so the event loop keeps answering health checks meanwhile
    (LAZY_PRELOAD=0 defers the import to the first non-health request);
 3. once aiohttp is loaded, aiohttp's own server takes over the listening
    socket and the front stops accepting: from then on every request,
    GET / included, is answered by the aiohttp app.

A non-health request that reaches the front before the switch waits for the
import, then its connection is relayed in-process to the aiohttp server
through a socketpair. So the work path (GET /work, POST /work: see service.py)
is always answered by aiohttp: the first work call made right after the
health answer waits for the deferred import, which is what issue 15's
"serving" time measures. Nothing is written to stdout.
"""
import asyncio
import importlib
import logging
import os
import signal
import socket
import sys

SOCKET = os.environ.get("SOCKET", "/run/app/app.sock")
PRELOAD = os.environ.get("LAZY_PRELOAD", "1") != "0"
MAX_HEAD = 16 * 1024

# Status, content type and body as service.health sends them via
# aiohttp's web.json_response (which adds Date and Server headers).
HEALTH_BODY = b'{"status": "ok"}'
HEALTH_HEAD = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: application/json; charset=utf-8\r\n"
    b"Content-Length: %d\r\n" % len(HEALTH_BODY)
)

log = logging.getLogger("app")


class Lazy:
    def __init__(self, lsock: socket.socket) -> None:
        self.lsock = lsock
        self.front: asyncio.base_events.Server | None = None
        self.runner = None  # aiohttp AppRunner once loaded
        self._task: asyncio.Task | None = None

    def load(self) -> "asyncio.Task":
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._load())
        return self._task

    async def _load(self) -> None:
        try:
            # The import is the expensive part: do it off the event loop.
            service = await asyncio.to_thread(importlib.import_module, "service")
            runner = service.web.AppRunner(service.make_app(), access_log=None)
            await runner.setup()
            # aiohttp accepts on a duplicate of the same listening socket...
            site = service.web.SockSite(runner, socket.socket(fileno=os.dup(self.lsock.fileno())))
            await site.start()
            self.runner = runner
            # ...and the front stops accepting (its connections finish normally).
            if self.front is not None:
                self.front.close()
        except BaseException:
            log.exception("loading the aiohttp service failed")
            os._exit(1)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    return
                if not is_health(head):
                    await self.relay(head, reader, writer)
                    return
                close = wants_close(head)
                out = HEALTH_HEAD + (b"Connection: close\r\n\r\n" if close else b"\r\n")
                if not head.startswith(b"HEAD "):
                    out += HEALTH_BODY
                writer.write(out)
                await writer.drain()
                if close:
                    return
        except ConnectionError:
            pass
        finally:
            writer.close()

    async def relay(self, head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Hand the rest of this connection to the aiohttp server."""
        await self.load()
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair()
        await loop.connect_accepted_socket(self.runner.server, sock=theirs)
        up_r, up_w = await asyncio.open_connection(sock=ours)
        up_w.write(head)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except ConnectionError:
                pass
            finally:
                if dst.can_write_eof():
                    try:
                        dst.write_eof()
                    except OSError:
                        pass

        try:
            await asyncio.gather(pump(reader, up_w), pump(up_r, writer))
        finally:
            up_w.close()


def is_health(head: bytes) -> bool:
    line, _, rest = head.partition(b"\r\n")
    parts = line.split(b" ")
    if len(parts) != 3 or parts[0] not in (b"GET", b"HEAD") or not parts[2].startswith(b"HTTP/1."):
        return False
    if parts[1].split(b"?", 1)[0] != b"/":
        return False
    for h in rest.lower().split(b"\r\n"):
        if h.startswith(b"transfer-encoding:") or (h.startswith(b"content-length:") and h[15:].strip() != b"0"):
            return False
    return True


def wants_close(head: bytes) -> bool:
    lower = head.lower()
    if b"\r\nconnection: close" in lower or b"\r\nconnection:close" in lower:
        return True
    return head.split(b"\r\n", 1)[0].endswith(b"HTTP/1.0") and b"\r\nconnection: keep-alive" not in lower


async def main() -> None:
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    try:
        os.unlink(SOCKET)
    except FileNotFoundError:
        pass
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(SOCKET)
    os.chmod(SOCKET, 0o666)
    lsock.listen(128)
    lazy = Lazy(lsock)
    kw = {"cleanup_socket": False} if sys.version_info >= (3, 13) else {}
    lazy.front = await asyncio.start_unix_server(lazy.handle, sock=lsock, limit=MAX_HEAD, **kw)
    if PRELOAD:
        lazy.load()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    if lazy.runner is not None:
        await lazy.runner.cleanup()


if __name__ == "__main__":
    asyncio.run(main())
