"""Who may do what: the login gate (nothing but the login page answers without a session), the browser
store's key, page sessions, and who may reindex from the page.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import re
import threading
import time

from advisor.apps.keys import kept_key
from advisor.apps.throttle import LoginThrottle
from advisor.settings import Settings

log = logging.getLogger(__name__)


def _secret(settings: Settings) -> str:
    """The key of the browser store, kept in `<data dir>/ui-secret` so conversations survive a restart.

    An empty or unreadable file is replaced once, with a warning (conversations stored under the lost key
    cannot be read back); a key that cannot be kept is logged as an error, as every restart then loses them.
    """
    return kept_key(
        settings.data_dir / "ui-secret",
        "conversations stored before cannot be read",
        "conversations are lost at every restart",
        logging.ERROR,
    )


def _user(request: object) -> str:
    """The logged-in user of a page's request (a `gr.Request`); "" without login."""
    return str(getattr(request, "username", None) or "")


def _session(request: object) -> str:
    """The page session of a request (a `gr.Request`): its `session_hash`."""
    return str(getattr(request, "session_hash", None) or "")


class Sessions:
    """A bounded set of page sessions (the oldest forgotten first), shared by the handlers' threads."""

    def __init__(self, limit: int = 10_000) -> None:
        self._seen: dict[str, None] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def add(self, session: str) -> None:
        with self._lock:
            self._seen[session] = None
            while len(self._seen) > self._limit:
                del self._seen[next(iter(self._seen))]

    def seen(self, session: str) -> bool:
        with self._lock:
            return session in self._seen


def may_reindex(host: str, user: str, operators: str | None) -> bool:
    """May this page's user reindex? An operator named in `ADVISOR_OPERATORS` (login on) may; without any
    named, only a server listening on loopback lets its page reindex (its users are on the machine) (pure)."""
    if operators:
        return bool(user) and user in {name.strip() for name in operators.split(",")}
    try:
        return ipaddress.ip_address("127.0.0.1" if host == "localhost" else host).is_loopback
    except ValueError:
        return False


REINDEX_REFUSED = (
    "Updating from the corpus folder is for an operator: run `advisor index` on the server"
    " (or log in as a user named in ADVISOR_OPERATORS)."
)


_OPEN_PATHS = re.compile(
    r"^/(login/?|logout/?|assets/.*|static/.*|svelte/.*|theme\.css|favicon\.ico|manifest\.json|robots\.txt|"
    r"pwa_icon.*|gradio_api/login_check/?|login_check/?|config/?|gradio_api/config/?|gradio_api/startup-events)$"
)


class LoginGate:
    """ASGI middleware for Gradio's login: without a session only the login page and its assets answer.

    Gradio checks the login on its API routes but not on `/gradio_api/cancel`, `/reset`, and `/` embeds the
    API description for anyone. Here every other request gets 401, and `/` is served without that description.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.throttle = LoginThrottle()

    async def __call__(self, scope, receive, send) -> None:
        gradio_app = scope.get("app")
        if scope["type"] not in ("http", "websocket") or getattr(gradio_app, "auth", None) is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http" and scope.get("method") == "POST" and scope.get("path", "").endswith("/login"):
            await self._login(scope, receive, send)
            return
        cookies = _cookies(scope)
        cookie_id = getattr(gradio_app, "cookie_id", "")
        token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
        path = scope.get("path", "/")
        root = scope.get("root_path", "") or ""
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        signed_in = bool(token) and gradio_app.tokens.get(token) is not None
        if signed_in or _OPEN_PATHS.match(path):
            await self.app(scope, receive, send)
        elif path == "/" and scope["type"] == "http" and scope.get("method") in ("GET", "HEAD"):
            await self.app(scope, receive, _without_api_info(send))
        else:
            await _refuse(scope, send)

    async def _login(self, scope, receive, send) -> None:
        """A login attempt, refused with 429 while its client or user must wait (see `throttle`); its outcome
        is counted and a lock-out logged."""
        body = bytearray()
        while True:
            message = await receive()
            body.extend(message.get("body", b""))
            if not message.get("more_body") or len(body) > 65_536:
                break
        client = str((scope.get("client") or ("?",))[0])
        user = _login_user(bytes(body))
        wait = self.throttle.wait(client, user, time.monotonic())
        if wait > 0:
            await _answer(send, 429, f"Too many failed logins: try again in {wait:.0f} s.", wait)
            return
        status: list[int] = []

        async def replay():
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        async def watch(message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, replay, watch)
        if status and status[0] in (400, 401, 403):
            for key in self.throttle.failed(client, user, time.monotonic()):
                log.warning("login locked out for %s after repeated failures", key)
        elif status and status[0] < 400:
            self.throttle.succeeded(client, user)


def _login_user(body: bytes) -> str:
    """The user name of a login form, urlencoded or multipart ("" when there is none)."""
    from urllib.parse import parse_qs

    m = re.search(rb'name="username"\r\n\r\n(.*?)\r\n', body, re.S)
    if m:
        return m.group(1).decode("utf-8", "replace")[:200]
    return (parse_qs(body.decode("latin-1")).get("username") or [""])[0][:200]


async def _answer(send, status: int, detail: str, retry_after: float) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers.append((b"retry-after", str(int(retry_after) + 1).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _cookies(scope) -> dict[str, str]:
    from http.cookies import SimpleCookie

    raw = "; ".join(v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"cookie")
    jar = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:
        return {}
    return {k: m.value for k, m in jar.items()}


def _without_api_info(send):
    """Wrap `send` so the page's embedded `window.gradio_api_info` is emptied (and Content-Length fixed)."""
    start: dict = {}
    body = bytearray()

    async def wrapped(message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] == "http.response.body":
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            page = re.sub(
                rb"window\.gradio_api_info = .*?;</script>", b"window.gradio_api_info = null;</script>", bytes(body)
            )
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(page)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": page})
            return
        await send(message)

    return wrapped


async def _refuse(scope, send) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = b'{"detail":"Not authenticated: log in first"}'
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """`ADVISOR_AUTH=user:password` as Gradio's `auth` pair; None when unset; a clear error when malformed."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("ADVISOR_AUTH must look like user:password")
    return user, password
