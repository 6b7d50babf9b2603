"""A whole Palabre on this machine for the tests: a real nats-server with JetStream, a real PostgreSQL,
and the four services as separate processes (so they can be killed and restarted)."""

import asyncio
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from bench.stack import Stack as BenchStack
from palabre.embedded import NatsServer, ServiceProcess, free_port


class Stack(BenchStack):
    """The benchmark's stack (one nats-server, PostgreSQL, the four services as processes), with what the
    tests add: bus credentials for territories, a short synthesis debounce, and client helpers."""

    def __init__(self, root: Path, *, batch_size: int = 200, ack_wait_s: float | None = None) -> None:
        super().__init__(root, batch_size=batch_size, ack_wait_s=ack_wait_s)

    @property
    def nats(self) -> NatsServer:
        return self.nats_nodes[0]

    @property
    def services(self) -> dict[str, ServiceProcess]:
        """The first process of each service, by name."""
        return {name: process for (name, replica), process in self.processes.items() if replica == 0}

    def env(self, **extra: str) -> dict[str, str]:
        return super().env(**{
            "PALABRE_SECRET_KEY": "test-secret",
            "PALABRE_SYNTHESIS_DEBOUNCE_S": "1",
            # a cold first recompute on a busy machine would otherwise rest three times its length
            "PALABRE_SYNTHESIS_RECOMPUTE_SHARE": "0.75",
            "PALABRE_NATS_AUTH_FILE": str(self.nats.auth_file),
            "PALABRE_NATS_PID_FILE": str(self.nats.pid_file),
            **extra,
        })

    def stop_service(self, name: str, *, kill: bool = False) -> None:
        self.processes[(name, 0)].stop(kill=kill)

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


MODERATOR_PASSWORD = "une-phrase-de-passe-assez-longue"


def create_moderator(stack, login: str, territory: str | None = None) -> str:
    """A moderator of `territory` (of the whole network without one), with `MODERATOR_PASSWORD`."""
    body = {"login": login, "password": MODERATOR_PASSWORD, "role": "territory" if territory else "network"}
    if territory:
        body["territory"] = territory
    response = httpx.post(f"{stack.url('moderation')}/v1/moderators", json=body, headers=stack.admin_headers,
                          timeout=30)
    assert response.status_code == 201, response.text
    return login
