"""`chipwar dashboard [--port N] [--host 127.0.0.1]`: serve the live Solara page.

Runs the Solara server (uvicorn) in this process on the given address and prints the URL.
The page itself is ``experiments/dashboard.py``; the market kernels are loaded before the server
starts, so the page's first run is as fast as the others. Solara's telemetry and its PyPI version check
are off: the dashboard talks to nobody but the browser that opens it.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys

from model.errors import InputError

APP = "experiments.dashboard"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", type=int, default=8765, help="TCP port (default 8765; 0 = any free port)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1, this machine only)")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port), or InputError naming the address and why."""
    if not 0 <= port <= 65535:
        raise InputError(f"--port {port}: expected an integer in [0, 65535]")
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise InputError(f"--host {host!r}: cannot resolve ({exc.strerror})") from None
    family, _type, _proto, _name, addr = infos[0]
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(addr)
    except OSError as exc:
        sock.close()
        raise InputError(f"--host {host} --port {port}: cannot listen there ({exc.strerror})") from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def run(args: argparse.Namespace) -> int:
    sock = bind(args.host, args.port)
    port = sock.getsockname()[1]
    # Solara reads its settings from the environment when first imported.
    os.environ["SOLARA_APP"] = APP
    os.environ["SERVER_NAME"] = args.host
    os.environ["SERVER_PORT"] = str(port)
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "false")
    os.environ.setdefault("SOLARA_MODE", "production")  # no solara.dev check frame, terse errors
    os.environ.setdefault("SOLARA_THEME_TITLE", "chipwar dashboard")
    import importlib
    import warnings

    import uvicorn

    # Solara warns on every page load over plain http that it falls back to samesite=lax
    # cookies; that fallback is right for a local dashboard.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none", category=UserWarning)

    importlib.import_module(APP)  # fail here, not on the first page load, if the page is broken
    importlib.import_module("model._warm")  # compiled kernels loaded (or compiled) now
    problem = offline_assets_problem()
    if problem:
        print(f"chipwar dashboard: warning: {problem}", file=sys.stderr, flush=True)
    config = uvicorn.Config("solara.server.starlette:app", host=args.host, port=port,
                            log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    host = f"[{args.host}]" if ":" in args.host else args.host
    print(f"chipwar dashboard: serving http://{host}:{port}/ (Ctrl-C to stop)", flush=True)
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0


def offline_assets_problem() -> str | None:
    """Why the page would need a CDN (assets missing or a Vue-3 ipyvue), or None if it is offline."""
    import ipyvue
    from solara.server import settings

    bundles = settings.assets.proxy_cache_dir / "@widgetti"
    if not bundles.is_dir():
        return (f"no local Solara assets in {settings.assets.proxy_cache_dir}; the browser will load "
                "them from a CDN. Install the viz extra: pip install -e '.[viz]'")
    if int(ipyvue.__version__.split(".")[0]) >= 3:
        return (f"ipyvue {ipyvue.__version__} needs a Vue-3 bundle that solara-assets lacks; "
                "install the viz extra (pins ipyvue<2): pip install -e '.[viz]'")
    return None
