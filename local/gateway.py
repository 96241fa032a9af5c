"""The local gateway: every function of ``functions/`` served in one process.

``http://127.0.0.1:8000/<function-name>/...`` reaches that function exactly as Cloud
Functions would: each is built by functions-framework's own ``create_app`` from its
``main.py`` (HTTP and CloudEvent functions alike), then mounted under its name.
``/openapi.json`` serves the API document; ``/_functions`` lists the functions.

``/`` is the reference web app (``web/dist``, built by ``make install``), with ``/config.json``
telling it where the API and the Auth emulator are. The API base it is given is
``http://127.0.0.1:<port>``; open the app at ``http://localhost:<port>/`` and every API call is
cross-origin, as in production (static files on their own host, functions on theirs), so the
browser's CORS preflights are exercised locally too (the stack allows that origin).

It is served the way Cloud Functions gen2 serves a Python function: functions-framework's
production server is gunicorn with one worker of ``gthread`` threads (``THREADS``, which the
deploy sets to the function's declared ``concurrency``). The gateway runs the same server with
as many threads as the largest concurrency in the manifest, so the local stack exercises the
same threading as production (shared clients and caches are used by concurrent requests).

Run: ``.venv/bin/python local/gateway.py [--host 127.0.0.1] [--port 8000] [--threads N]``
(the stack starts it; ``lib/`` must be importable, the script arranges that itself).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lib"))

WEB = ROOT / "web" / "dist"
STATIC_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}
SIGNATURES = {"http": "http", "tasks": "http", "scheduler": "http", "storage_finalized": "cloudevent"}


def build_app(url: str = "http://127.0.0.1:8000"):  # type: ignore[no-untyped-def]
    import functions_framework
    from werkzeug.wrappers import Request, Response

    from aksio import openapi

    manifest = openapi.manifest(ROOT)
    mounts = {}
    for name, spec in manifest.items():
        source = ROOT / "functions" / name / "main.py"
        mounts[f"/{name}"] = functions_framework.create_app(
            target=name.replace("-", "_"),
            source=str(source),
            signature_type=SIGNATURES[spec["trigger"]],
        )
    document = json.dumps(openapi.build(openapi.function_apis(ROOT), server_url=url), indent=2)
    index = json.dumps({"functions": {n: f"/{n}" for n in manifest}, "openapi": "/openapi.json", "web": "/"}, indent=2)
    settings = web_settings(url)
    web_config = json.dumps(settings)
    policy = content_security_policy(settings)

    @Request.application  # type: ignore[arg-type]
    def root(request: Request) -> Response:
        if request.path == "/openapi.json":
            return Response(document, mimetype="application/json")
        if request.path == "/_functions":
            return Response(index, mimetype="application/json")
        if request.path == "/config.json":
            return Response(web_config, mimetype="application/json", headers={"Cache-Control": "no-cache"})
        static = web_file(request.path)
        if static is not None and request.method in ("GET", "HEAD"):
            headers = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
            if static.suffix == ".html":
                headers |= {"Content-Security-Policy": policy, "Referrer-Policy": "no-referrer"}
            return Response(static.read_bytes(), content_type=STATIC_TYPES[static.suffix], headers=headers)
        if request.path == "/":  # the app is not built: say how, and list the functions
            body = {"web": "not built: run `make install` (it builds web/dist)", **json.loads(index)}
            return Response(json.dumps(body, indent=2), mimetype="application/json")
        request_id = uuid.uuid4().hex  # the error shape every function answers
        body = {
            "error": {"code": "not_found", "message": f"No function serves {request.path}", "requestId": request_id}
        }
        return Response(json.dumps(body), status=404, mimetype="application/json", headers={"X-Request-Id": request_id})

    def dispatch(environ, start_response):  # type: ignore[no-untyped-def]
        # Like Cloud Functions: /<name>/rest reaches function <name> with path /rest
        # (and /<name> with path /), with no redirect in between.
        path = environ.get("PATH_INFO", "") or "/"
        head, _, rest = path[1:].partition("/")
        app = mounts.get(f"/{head}")
        if app is None:
            return root(environ, start_response)
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + f"/{head}"
        environ["PATH_INFO"] = "/" + rest
        return app(environ, start_response)

    return dispatch


def web_file(path: str) -> Path | None:
    """The built web app's file for ``path`` (``/`` is its index.html), or None."""
    name = "index.html" if path == "/" else path.lstrip("/")
    if "/" in name or name.startswith(".") or Path(name).suffix not in STATIC_TYPES:
        return None
    candidate = WEB / name
    return candidate if candidate.is_file() else None


def web_settings(url: str) -> dict[str, object]:
    """What the web app reads from ``/config.json``: the API base and Firebase Auth's settings
    (the Auth emulator's URL locally; in production terraform writes this file, without it)."""
    project = os.environ.get("GOOGLE_CLOUD_PROJECT", "demo-aksio")
    emulator = os.environ.get("FIREBASE_AUTH_EMULATOR_HOST")
    return {
        "apiBase": url,
        "firebase": {"apiKey": "local-emulator-key", "authDomain": f"{project}.firebaseapp.com", "projectId": project},
        "authEmulator": f"http://{emulator}" if emulator else None,
    }


def content_security_policy(settings: dict[str, Any]) -> str:
    """The app's CSP, as production's load balancer sends it (terraform/modules/web): scripts
    and styles of its own origin only (no inline code or style attributes), connections to the
    API, the upload storage and Firebase Auth (here the Auth emulator), no framing."""
    storage = os.environ.get("STORAGE_EMULATOR_HOST", "")
    connect = ["'self'", str(settings["apiBase"]), storage, str(settings.get("authEmulator") or "")]
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "font-src 'self'",
            "manifest-src 'self'",
            "connect-src " + " ".join(c for c in connect if c),
            "form-action 'self'",
            "base-uri 'none'",
            "object-src 'none'",
            "frame-ancestors 'none'",
        ]
    )


def production_threads() -> int:
    """The threads of one instance of the most concurrent function (its declared concurrency)."""
    from aksio import openapi

    return max(int(spec.get("concurrency", 1)) for spec in openapi.manifest(ROOT).values())


def serve(app, host: str, port: int, threads: int) -> None:  # type: ignore[no-untyped-def]
    """gunicorn, one worker of ``threads`` gthread threads: functions-framework's production
    settings (``functions_framework._http.gunicorn.GunicornApplication``)."""
    import gunicorn.app.base

    class Server(gunicorn.app.base.BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            options = {
                "bind": f"{host}:{port}",
                "workers": 1,
                "threads": threads,
                "worker_class": "gthread",
                "timeout": 0,
                "loglevel": "error",
                "limit_request_line": 0,
                # one line per request on stdout (the stack's gateway.log), as werkzeug printed them
                "accesslog": "-",
                "access_log_format": '%(h)s "%(r)s" %(s)s %(b)s %(M)sms',
            }
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):  # type: ignore[no-untyped-def]
            return app

    Server().run()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--threads", type=int, default=0, help="default: the manifest's largest concurrency")
    args = parser.parse_args()

    app = build_app(f"http://{args.host}:{args.port}")
    threads = args.threads or production_threads()
    print(f"gateway listening on http://{args.host}:{args.port} ({threads} threads)", flush=True)
    serve(app, args.host, args.port, threads)


if __name__ == "__main__":
    main()
