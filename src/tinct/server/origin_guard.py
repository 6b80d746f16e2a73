"""Who may talk to the server: requests for other hosts, and state-changing requests sent by
pages of other origins, are refused before any endpoint runs.

- **Host**: a request whose ``Host`` header names a host the server was not started for is
  refused with 421. That stops DNS rebinding, where a hostile page makes ``attacker.example``
  resolve to 127.0.0.1 and then reads the API as if it were its own origin.
- **Origin**: a ``POST``, ``PUT``, ``PATCH`` or ``DELETE`` that a browser marks as coming from
  another origin (``Origin`` naming another scheme, host or port, ``Origin: null``, or
  ``Sec-Fetch-Site: cross-site`` / ``same-site``) is refused with 403. A "simple" multipart form
  POST needs no CORS preflight, so without this check any web page the user visits could make
  the user's browser colorize with, upload to or delete from a local server. Clients that are
  not browsers (curl, scripts) send no ``Origin`` and are not affected.
"""

from __future__ import annotations

import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from tinct.server.body_limit import send_json_error

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
WILDCARD_ADDRESSES = ("0.0.0.0", "::", "")
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


def default_allowed_hosts(bind_host: str) -> list[str]:
    """The host names a server listening on ``bind_host`` answers to: the loopback names and the
    address itself, or for a wildcard address this machine's names and addresses."""
    own = _this_machine() if bind_host in WILDCARD_ADDRESSES else [bind_host]
    return list(dict.fromkeys(host.lower() for host in (*LOOPBACK_HOSTS, *own) if host))


def _this_machine() -> list[str]:
    names = [socket.gethostname(), socket.getfqdn()]
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None)
    except OSError:
        infos = []
    return names + [str(info[4][0]) for info in infos]


def host_name(header: str) -> str:
    """``example.org:8000`` -> ``example.org``; ``[::1]:8000`` -> ``::1`` (lower case)."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1 : header.find("]")] if "]" in header else header
    return header.rsplit(":", 1)[0] if header.count(":") == 1 else header


class OriginGuard:
    """ASGI middleware: the Host and Origin checks of this module (answers JSON errors)."""

    def __init__(self, app: ASGIApp, allowed_hosts: Iterable[str]) -> None:
        self.app = app
        self.allowed = {host.lower() for host in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        problem = self.problem(scope["method"], headers, scope.get("scheme", "http"))
        if problem is None:
            await self.app(scope, receive, send)
            return
        await send_json_error(send, *problem)

    def problem(self, method: str, headers: dict[str, str], scheme: str) -> tuple[int, str] | None:
        """(status, message) for a request to refuse, None for one to serve."""
        host = headers.get("host", "")
        if "*" not in self.allowed and host_name(host) not in self.allowed:
            return 421, (
                f"this server does not answer to the host {host!r}; start tinct serve with "
                f"--allowed-host {host_name(host) or 'NAME'} to accept it"
            )
        if method.upper() in UNSAFE_METHODS and _cross_origin(headers, host, scheme):
            return 403, "cross-origin requests that change anything are refused"
        return None


def _cross_origin(headers: dict[str, str], host: str, scheme: str) -> bool:
    if headers.get("sec-fetch-site", "").lower() in ("cross-site", "same-site"):
        return True
    origin = headers.get("origin")
    if origin is None:
        return False  # not sent by a browser's cross-origin request
    parts = urlsplit(origin.strip().lower())
    return origin.strip() == "null" or (parts.scheme, parts.netloc) != (scheme, host.lower())
