"""Access control and security headers, for every HTTP request and WebSocket handshake.

- With a token configured (required off loopback), each request must carry it: ``Authorization: Bearer``,
  the ``poseit_token`` cookie, or ``?token=`` (which sets the cookie, so the page's own requests carry it).
  Compared in constant time. HTTP requests without it get 401; WebSocket handshakes are refused (403).
- Without a token (loopback only), the Host header must name this machine (no DNS rebinding).
- A WebSocket (and a POST) whose Origin is not the page's own (or an allowed one) is refused.
- Every HTTP response gets a strict Content-Security-Policy and friends.
"""

from __future__ import annotations

import hmac
import json
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from poseit.serve.settings import Settings

COOKIE = "poseit_token"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; media-src 'self' blob:; "
    "connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
HEADERS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(self), microphone=(), geolocation=()",
}


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def presented_token(scope: Scope, headers: dict[str, str]) -> tuple[str | None, bool]:
    """The token a request carries, and whether it came in the query string."""
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip(), False
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0], True
    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:
        return None, False
    return (cookie[COOKIE].value, False) if COOKIE in cookie else (None, False)


def hostname(host: str) -> str:
    """The name part of a Host header (``[::1]:8000`` -> ``[::1]``, ``localhost:8000`` -> ``localhost``)."""
    if host.startswith("["):
        return host.split("]")[0].lower() + "]"
    return (host.rsplit(":", 1)[0] if host.count(":") == 1 else host).lower()


def token_ok(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def origin_ok(settings: Settings, headers: dict[str, str], scheme: str) -> bool:
    """No Origin (not a browser) or the page's own origin, or one allowed by the settings."""
    origin = headers.get("origin")
    if origin is None:
        return True
    host = headers.get("host", "")
    own = {f"http://{host}", f"https://{host}"} if scheme in ("ws", "http") else {f"https://{host}"}
    return origin in own or origin in settings.allowed_origins


class SecurityMiddleware:
    """Pure ASGI middleware (covers static files, API, pages and the WebSocket alike)."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app, self.settings = app, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        problem, set_cookie = self.check(scope, headers)
        if problem is not None:
            await self._refuse(scope, receive, send, *problem)
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k.encode(), v.encode()) for k, v in HEADERS.items() if k.encode() not in present]
                if b"content-security-policy" not in present:
                    extra.append((b"content-security-policy", CSP.encode()))
                if set_cookie:
                    value = f"{COOKIE}={set_cookie}; Path=/; HttpOnly; SameSite=Strict"
                    extra.append((b"set-cookie", value.encode()))
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def check(self, scope: Scope, headers: dict[str, str]) -> tuple[tuple[int, str] | None, str | None]:
        """(status and reason to refuse with, or None; a token to set as cookie, or None)."""
        s = self.settings
        is_ws = scope["type"] == "websocket"
        set_cookie = None
        if s.token:
            given, from_query = presented_token(scope, headers)
            if not token_ok(s.token, given):
                return (401, "missing or wrong token"), None
            if from_query and not is_ws:
                set_cookie = given
        else:
            if hostname(headers.get("host", "")) not in LOCAL_HOSTS:
                return (403, "this server answers to localhost only"), None
        if (is_ws or scope.get("method") not in ("GET", "HEAD")) and not origin_ok(s, headers, scope["scheme"]):
            return (403, "origin not allowed"), None
        return None, set_cookie

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, status: int, reason: str) -> None:
        if scope["type"] == "websocket":
            # closing before accepting makes the server answer the handshake with HTTP 403
            await send({"type": "websocket.close", "code": 1008, "reason": reason})
            return
        body = json.dumps({"detail": reason}).encode()
        head: list[Any] = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        if status == 401:
            head.append((b"www-authenticate", b"Bearer"))
        head += [(k.encode(), v.encode()) for k, v in HEADERS.items()]
        await send({"type": "http.response.start", "status": status, "headers": head})
        await send({"type": "http.response.body", "body": body})
