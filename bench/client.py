"""A small HTTP/1.1 client on asyncio streams: one connection per request (gunicorn's sync workers close
it after each response), a cookie jar per client, an address header per client, as a proxy would send it."""

import asyncio
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode


@dataclass
class Response:
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    seconds: float

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name.lower()), None)

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


@dataclass
class Client:
    """One browser: its cookies and its address (sent in ``address_header``, read by CLIENT_IP_META_KEY)."""

    port: int
    address: str
    address_header: str = "X-Bench-Client"
    cookies: dict[str, str] = field(default_factory=dict)
    host: str = "127.0.0.1"

    @property
    def origin(self) -> str:
        return f"https://{self.host}:{self.port}"

    async def request(self, method: str, path: str, form: dict | None = None, headers: dict | None = None) -> Response:
        body = urlencode(form, doseq=True).encode() if form is not None else b""
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Connection: close",
            "User-Agent: portal-bench",
            "Accept-Language: en",
            # The reverse proxy terminates TLS: production settings trust this header (SECURE_PROXY_SSL_HEADER).
            "X-Forwarded-Proto: https",
            f"{self.address_header}: {self.address}",
        ]
        if self.cookies:
            lines.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if form is not None:
            lines += [
                "Content-Type: application/x-www-form-urlencoded",
                f"Content-Length: {len(body)}",
                f"Origin: {self.origin}",
                f"Referer: {self.origin}{path}",
            ]
        for name, value in (headers or {}).items():
            lines.append(f"{name}: {value}")
        start = time.perf_counter()
        reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
            await writer.drain()
            raw = await reader.read()
        finally:
            writer.close()
        seconds = time.perf_counter() - start
        head, _, payload = raw.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers_ = [(k.strip().lower(), v.strip()) for k, v in (h.split(":", 1) for h in header_lines)]
        for name, value in headers_:
            if name == "set-cookie":
                key, _, rest = value.partition("=")
                cookie_value = rest.split(";", 1)[0]
                if cookie_value in ("", '""'):
                    self.cookies.pop(key, None)
                else:
                    self.cookies[key] = cookie_value
        if any(k == "transfer-encoding" and "chunked" in v for k, v in headers_):
            payload = _unchunk(payload)
        return Response(int(status_line.split()[1]), headers_, payload, seconds)

    async def get(self, path: str, **kwargs) -> Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, form: dict, **kwargs) -> Response:
        return await self.request("POST", path, form=form, **kwargs)


def _unchunk(payload: bytes) -> bytes:
    out, rest = b"", payload
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out, rest = out + rest[:size], rest[size + 2 :]
    return out
