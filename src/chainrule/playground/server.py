"""The playground's web server: the page, its options, a WebSocket per session, and exports.

``create_app()`` is the Starlette application; ``start_in_thread()`` runs it on a free loopback
port in a background thread (for tests and the benchmark). Each WebSocket is one session; its
training runs as an asyncio task in short slices, so the socket keeps answering while it plays.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from importlib import resources
from urllib.parse import urlsplit

from ..errors import ChainruleError, OptionalDependencyError
from . import messages
from .registry import Registry
from .session import Session
from .settings import LIMITS, options

FRAME_INTERVAL = 0.04  # seconds between frames while playing: 25 frames/s at most (the issue asks ≥ 20)
SLICE = 0.01  # seconds of training before the loop lets other work (this socket's messages, other tabs) run
# Frames up to this size reach the message check (and get an `error` above max_message_bytes); bigger
# ones make uvicorn close the socket (1009) before reading them into memory.
WS_MAX_SIZE = 4 * LIMITS["max_message_bytes"]
MAX_OPEN = 32  # sessions (tabs) served at once; each trains on this machine's CPU
YIELD = 0.001  # seconds the play loop sleeps between slices
WARNINGS_EVERY = 10  # frames between two looks at the recorder's warnings while playing
IDLE_SECONDS = 30 * 60  # a socket silent this long, not playing, is closed and its session freed


def static_root():
    return resources.files("chainrule.playground") / "static"


LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def create_app(registry=None, allowed_hosts=None):
    """The application. allowed_hosts: the Host names requests may carry (None: any). Serving on
    loopback, only loopback names pass, so a web page whose name was re-pointed at 127.0.0.1 (DNS
    rebinding) is refused; a WebSocket must come from the page's own origin (or from no browser)."""
    from starlette.applications import Starlette
    from starlette.responses import FileResponse, JSONResponse, PlainTextResponse, Response
    from starlette.routing import Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles

    registry = registry or Registry()
    root = static_root()

    async def index(request):
        page = root / "index.html"
        if not page.is_file():
            return PlainTextResponse("the playground's page is not installed (static/index.html missing)", 500)
        return FileResponse(str(page), headers={"Cache-Control": "no-store"})

    async def api_options(request):
        return JSONResponse(options())

    async def api_export(request):
        from .exports import EXPORTS, export

        session = registry.get(request.path_params["session"])
        fmt = request.path_params["format"]
        if session is None:
            return PlainTextResponse("unknown or expired session", 404)
        if fmt not in EXPORTS:
            return PlainTextResponse(f"unknown export format {fmt[:40]!r}; valid: {', '.join(EXPORTS)}", 400)
        try:
            body, media, filename = await asyncio.to_thread(export, session.frozen(), fmt)
        except OptionalDependencyError as e:  # (an exporter names the extra to install)
            return PlainTextResponse(_one_line(e), 501)
        except ChainruleError as e:
            return PlainTextResponse(_one_line(e), 400)
        except ImportError as e:  # the exporter's package (torch writes no file, but onnx is needed for ONNX)
            return PlainTextResponse(f"the {fmt} export needs the {e.name or 'missing'} package, which is not "
                                     "installed", 501)
        return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})

    async def socket(websocket):
        origin = websocket.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != websocket.headers.get("host"):
            await websocket.close(code=1008, reason="cross-origin WebSocket refused")
            return
        await websocket.accept()
        if len(registry.open) >= MAX_OPEN:
            await websocket.send_text(json.dumps({"type": "error", "request": None, "message": f"the server already "
                                                  f"serves {MAX_OPEN} tabs; close one and reload"}))
            await websocket.close(code=1013, reason="too many sessions")
            return
        session = Session()
        registry.add(session)
        try:
            await Connection(websocket, session).run()
        finally:
            registry.closed(session)

    routes = [Route("/", index), Route("/api/options", api_options),
              Route("/api/export/{session}/{format}", api_export), WebSocketRoute("/ws", socket)]
    if root.is_dir():
        routes.append(Mount("/static", app=StaticFiles(directory=str(root)), name="static"))
    middleware = []
    if allowed_hosts is not None:
        from starlette.middleware import Middleware
        from starlette.middleware.trustedhost import TrustedHostMiddleware

        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)))
    return Starlette(routes=routes, middleware=middleware)


def _one_line(e):
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= 500 else text[:497] + "..."


class Closed(Exception):
    """The page closed its socket."""


class Connection:
    """One socket: receive, check and answer messages; play in slices as a task beside it."""

    def __init__(self, websocket, session):
        self.ws, self.session, self.player = websocket, session, None

    async def send(self, items):
        """Send the answers; a socket the page closed meanwhile ends the connection (``Closed``)."""
        from starlette.websockets import WebSocketState

        for item in items:
            if self.ws.application_state != WebSocketState.CONNECTED or \
                    self.ws.client_state != WebSocketState.CONNECTED:
                raise Closed()
            try:
                if isinstance(item, bytes | bytearray):
                    await self.ws.send_bytes(bytes(item))
                else:
                    await self.ws.send_text(json.dumps(item, allow_nan=False))
            except (RuntimeError, OSError) as e:  # (starlette's WebSocketDisconnected is a RuntimeError)
                raise Closed() from e

    async def run(self):
        from starlette.websockets import WebSocketDisconnect

        s = self.session
        await self.send([s.hello(), s.network_message(), s.data_frame(), s.frame(), s.timeline.message(),
                         *s.warnings()])
        try:
            while True:
                try:
                    event = await asyncio.wait_for(self.ws.receive(), IDLE_SECONDS)
                except TimeoutError:
                    if self.player is None:
                        await self.ws.close(code=1000, reason="idle")
                        return
                    continue
                if event["type"] == "websocket.disconnect":
                    return
                await self.on_message(event)
        except (WebSocketDisconnect, Closed):
            return
        finally:
            self.stop()

    async def on_message(self, event):
        kind, ident = None, None
        try:
            if event.get("text") is None:
                raise ChainruleError("binary messages are not accepted; send JSON text")
            message = messages.parse(event["text"])
            kind, ident = message["type"], message.get("id")
            if kind == "play":
                self.play()
                answers = []
            elif kind == "pause":
                self.stop()
                self.session.record_losses()
                answers = [self.session.frame(), self.session.timeline.message()]
            elif kind == "step":  # in slices, as play does: up to 1,000 steps of a wide network take seconds
                left = message.get("n", 1)
                while left > 0:
                    start = time.perf_counter()
                    while left > 0 and time.perf_counter() - start < SLICE:
                        chunk = min(left, 10)
                        self.session.train(chunk)
                        left -= chunk
                    if left > 0:
                        await asyncio.sleep(YIELD)
                answers = self.session.handle({**message, "n": 0})
            else:
                answers = self.session.handle(message)
        except ChainruleError as e:
            error = {"type": "error", "message": _one_line(e), "request": getattr(e, "request", kind)}
            ident = getattr(e, "ident", ident)
            if ident is not None:
                error["id"] = ident
            await self.send([error])
            return
        if ident is not None:
            answers = [{**a, "id": ident} if isinstance(a, dict) else a for a in answers]
        await self.send(answers)

    def play(self):
        if self.player is None or self.player.done():
            self.player = asyncio.create_task(self.playing())

    def stop(self):
        if self.player is not None:
            self.player.cancel()
            self.player = None

    async def playing(self):
        s, last_frame, count, interval = self.session, 0.0, 0, FRAME_INTERVAL
        try:
            while True:
                start = time.perf_counter()
                end = min(start + SLICE, last_frame + interval)
                while True:
                    s.train(10)
                    if time.perf_counter() >= end:
                        break
                now = time.perf_counter()
                if now - last_frame >= interval:
                    cpu = time.thread_time()
                    s.record_losses()
                    count += 1
                    await self.send([s.frame(), *(s.warnings() if count % WARNINGS_EVERY == 0 else [])])
                    # a frame that takes long (a wide network on many points) comes less often, so that
                    # training keeps at least half the time (CPU time: a busy machine's waits do not count)
                    interval = max(FRAME_INTERVAL, 2 * (time.thread_time() - cpu))
                    last_frame = now
                # a short sleep, not sleep(0): the socket's bytes take a few loop turns to become a
                # message and its answer a few more; a bare yield would give each turn a whole slice
                await asyncio.sleep(YIELD)
        except ChainruleError as e:  # diverged, non-finite: say so and stop playing
            self.player = None
            try:
                await self.send([{"type": "error", "message": _one_line(e), "request": "play"}])
            except Closed:
                return
        except Closed:  # the page went away: the receiving side ends the session
            self.player = None


def start_in_thread(host="127.0.0.1", port=0):
    """Run the server in a daemon thread: returns (url, stop). For tests and the benchmark."""
    import uvicorn

    app = create_app(allowed_hosts=(*LOOPBACK_HOSTS, host))
    config = uvicorn.Config(app, host=host, port=port, log_level="warning",
                            ws_max_size=WS_MAX_SIZE, lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the playground server did not start")
        time.sleep(0.02)
    sock = server.servers[0].sockets[0]
    actual = sock.getsockname()[1]

    def stop():
        server.should_exit = True
        thread.join(timeout=10)

    return f"http://{host}:{actual}/", stop
