"""A whole Palabre on this machine for the tests: a real nats-server with JetStream, a real PostgreSQL,
and the four services as separate processes (so they can be killed and restarted)."""

import asyncio
import json
import secrets
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats

from shared.embedded import SERVICES, NatsServer, Postgres, ServiceProcess, free_port


class Stack:
    def __init__(self, root: Path, *, batch_size: int = 200) -> None:
        self.root = root
        self.admin_key = "adm_" + secrets.token_urlsafe(24)
        self.nats = NatsServer(root / "nats", port=free_port(), monitor_port=None, server_name=f"t{free_port()}")
        self.postgres: Postgres | None = None
        self.services: dict[str, ServiceProcess] = {}
        self.ports = {name: free_port() for name in SERVICES}
        self.batch_size = batch_size

    # --- infrastructure -----------------------------------------------------------------------

    def start_infra(self) -> "Stack":
        self.nats.start()
        self.postgres = Postgres(self.root / "pg")
        return self

    @property
    def nats_url(self) -> str:
        return self.nats.url

    @property
    def database_url(self) -> str:
        assert self.postgres
        return self.postgres.url

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "PALABRE_NATS_URL": self.nats_url,
            "PALABRE_DATABASE_URL": self.database_url,
            "PALABRE_ADMIN_KEY": self.admin_key,
            "PALABRE_ALLOW_PRIVATE_WEBHOOKS": "true",
            "PALABRE_SECRET_KEY": "test-secret",
            "PALABRE_BATCH_SIZE": str(self.batch_size),
            "PALABRE_VAR_DIR": str(self.root),
            "PALABRE_LOG_LEVEL": "INFO",
            "PALABRE_SYNTHESIS_DEBOUNCE_S": "1",
            "PALABRE_NATS_AUTH_FILE": str(self.nats.auth_file),
            "PALABRE_NATS_PID_FILE": str(self.nats.pid_file),
            **{f"PALABRE_{name.upper()}_PORT": str(port) for name, port in self.ports.items()},
            **extra,
        }

    def start_service(self, name: str, *, wait: bool = True, **env: str) -> ServiceProcess:
        process = ServiceProcess(name, self.ports[name], self.env(**env), self.root / "logs" / f"{name}.log")
        self.services[name] = process.start()
        if wait:
            process.wait_ready()
        return process

    def start_all(self) -> "Stack":
        for name in SERVICES:
            self.start_service(name, wait=False)
        for name in SERVICES:
            self.services[name].wait_ready()
        return self

    def stop_service(self, name: str, *, kill: bool = False) -> None:
        self.services[name].stop(kill=kill)

    def stop(self) -> None:
        for process in self.services.values():
            process.stop()
        self.nats.stop()
        if self.postgres:
            self.postgres.stop()

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def log(self, service: str) -> str:
        return (self.root / "logs" / f"{service}.log").read_text(errors="replace")

    # --- clients ------------------------------------------------------------------------------

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}

    def create_territory(self, slug: str, country: str = "FR", **fields: Any) -> str:
        body = {"id": slug, "name": slug.replace("-", " ").title(), "kind": "commune", "country": country, **fields}
        response = httpx.post(f"{self.url('intake')}/v1/territories", json=body, headers=self.admin_headers,
                              timeout=30)
        assert response.status_code == 201, response.text
        return response.json()["api_key"]

    def submit(self, key: str, payload: Any) -> httpx.Response:
        return httpx.post(f"{self.url('intake')}/v1/contributions", json=payload,
                          headers={"Authorization": f"Bearer {key}"}, timeout=60)

    def status(self, key: str, contribution_id: str) -> dict[str, Any]:
        response = httpx.get(f"{self.url('intake')}/v1/contributions/{contribution_id}",
                             headers={"Authorization": f"Bearer {key}"}, timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def wait_final(self, key: str, ids: list[str], timeout: float = 60.0) -> dict[str, dict]:
        """Wait until every contribution has left `submitted`; returns their statuses."""
        return wait_for(lambda: _all_decided([self.status(key, cid) for cid in ids]), timeout,
                        what=f"{len(ids)} contributions decided")

    async def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.database_url)
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()

    async def nats_connect(self) -> nats.NATS:
        return await nats.connect(self.nats_url)


def _all_decided(statuses: list[dict]) -> dict[str, dict] | None:
    if all(s["status"] != "submitted" for s in statuses):
        return {s["id"]: s for s in statuses}
    return None


def wait_for(probe: Callable[[], Any], timeout: float = 30.0, *, what: str = "condition", interval: float = 0.1):
    """Poll `probe` until it returns something truthy (no timing is asserted: only a generous bound)."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = probe()
            if value:
                return value
        except (AssertionError, httpx.HTTPError) as exc:
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}" + (f" (last error: {last_error})" if last_error else ""))


async def async_wait_for(probe, timeout: float = 30.0, *, what: str = "condition", interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await probe()
        if value:
            return value
        await asyncio.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


class WebhookReceiver:
    """A real HTTP server on loopback that records what it receives; it can be told to fail."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_with: int | None = None
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                if receiver.fail_with:
                    self.send_response(receiver.fail_with)
                    self.end_headers()
                    return
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "headers": dict(self.headers.items()),
                                              "body": body.decode()})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "WebhookReceiver":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()

    def events(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests]
