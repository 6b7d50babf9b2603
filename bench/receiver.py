"""A webhook receiver on loopback, in its own process (so that it takes no CPU from the process that
measures): it answers 204 at once and records, for each request, the `webhook-id`, the contribution it is
about and when it arrived. `GET /stats` gives the counts, `GET /records` every record.

Run: python -m bench.receiver PORT
"""

from __future__ import annotations

import subprocess  # nosec B404 # fixed argv only, never a shell
import sys
import time
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import orjson

from palabre.embedded import free_port, wait_for_port

records: list[tuple[str, str | None, str | None, float]] = []


async def app(scope, receive, send) -> None:
    if scope["type"] != "http":
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["method"] == "POST":
        headers = dict(scope["headers"])
        contribution_id = external_id = None
        try:
            data = orjson.loads(body).get("data") or {}
            contribution_id, external_id = data.get("contribution_id"), data.get("external_id")
        except (orjson.JSONDecodeError, AttributeError):
            pass
        records.append((headers.get(b"webhook-id", b"").decode(), contribution_id, external_id, time.time()))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})
        return
    if scope["path"] == "/records":
        payload = orjson.dumps(records)
    else:
        prefix = parse_qs(scope.get("query_string", b"").decode()).get("prefix", [""])[0]
        chosen = [r for r in records if (r[2] or "").startswith(prefix)] if prefix else records
        payload = orjson.dumps({"requests": len(chosen), "webhook_ids": len({r[0] for r in chosen}),
                                "contributions": len({r[1] for r in chosen})})
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": payload})


class ReceiverProcess:
    """The receiver as a child process, and a client for what it recorded."""

    def __init__(self, log_dir: Path) -> None:
        self.port = free_port()
        self.log_path = log_dir / "receiver.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ReceiverProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115 - lives as long as the receiver
        self.process = subprocess.Popen([sys.executable, "-m", "bench.receiver", str(self.port)],
                                        stdout=log, stderr=log)  # nosec B603 # fixed argv, no shell
        wait_for_port(self.port)
        return self

    def stats(self) -> dict[str, int]:
        return httpx.get(f"{self.url}/stats", timeout=30).json()

    def records(self) -> list[tuple[str, str | None, str | None, float]]:
        return [tuple(r) for r in httpx.get(f"{self.url}/records", timeout=120).json()]

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


if __name__ == "__main__":
    import uvicorn

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False,
                backlog=4096)
