"""The playground: the TensorFlow Playground's experience on chainrule's own engine.

``chainrule playground`` (or ``serve()``) starts a local web server; the page (``static/``)
talks to it over a WebSocket (docs/playground-protocol.md). Needs the ``playground`` extra.
"""

from __future__ import annotations

import sys

from ..errors import OptionalDependencyError

INSTALL = 'pip install "chainrule[playground]"'


def require_extra():
    """OptionalDependencyError naming the extra unless starlette, uvicorn and websockets import."""
    for name in ("starlette", "uvicorn", "websockets"):
        try:
            __import__(name)
        except ImportError:
            raise OptionalDependencyError(f"the playground needs the {name} package, which is not installed: "
                                          f"{INSTALL}") from None


def is_loopback(host):
    return host in ("127.0.0.1", "localhost", "::1") or host.startswith("127.")


def serve(host="127.0.0.1", port=0, open_browser=True, out=None):
    """Serve the playground until interrupted: prints the URL, opens the browser unless told not to.

    host: loopback by default; any other interface is opt-in, with a printed warning.
    port: 0 picks a free port."""
    require_extra()
    import socket

    import uvicorn

    from .server import LOOPBACK_HOSTS, WS_MAX_SIZE, create_app

    out = out or sys.stdout
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, int(port)))
    sock.listen(128)  # connections wait in the queue from now on, so the URL works as soon as it is printed
    actual = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{actual}/"
    if not is_loopback(host):
        print(f"chainrule: warning: serving on {host}, reachable from other machines; anyone who can reach it "
              "can run training on this computer", file=sys.stderr)
    print(f"chainrule playground: {url}  (Ctrl-C to stop)", file=out, flush=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url)
    app = create_app(allowed_hosts=(*LOOPBACK_HOSTS, host) if is_loopback(host) else None)
    config = uvicorn.Config(app, log_level="warning", ws_max_size=WS_MAX_SIZE, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])
    return 0
