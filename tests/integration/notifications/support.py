"""What the notifications tests share: events published on the real bus, a scriptable webhook receiver
that verifies signatures as a partner would, and a real SMTP server."""

import json
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from aiosmtpd.controller import Controller
from standardwebhooks.webhooks import Webhook

from shared.bus import event_headers
from palabre.embedded import free_port
from shared.events import (
    ContributionPublished,
    Decision,
    EventData,
    StatementOfReasons,
    envelope,
)
from shared.events import Redress as RedressModel
from shared.vocabulary import Outcome


async def publish(stack, *events: EventData) -> list[str]:
    """Publish events on the real JetStream, as the other services would; returns their ids."""
    nc = await stack.nats_connect()
    js = nc.jetstream()
    ids = []
    for data in events:
        event = envelope(data, source="/tests/notifications")
        await js.publish(data.bus_subject(), event.model_dump_json().encode(), headers=event_headers(event))
        ids.append(event.id)
    await nc.close()
    return ids


def decision(contribution_id: str, outcome: Outcome = Outcome.PUBLISHED, grounds: list[str] | None = None) -> Decision:
    statement = StatementOfReasons(
        language="fr", contribution_id=contribution_id, charter_version="test", outcome=outcome,
        measure=f"measure {outcome.value}", facts_and_circumstances="Aucun élément relevé.",
        grounds=[], automated_detection=True, automated_decision=True, automated_means="règles de la charte",
        redress=RedressModel(endpoint=f"/v1/contributions/{contribution_id}/appeal", description="appel"),
    )
    return Decision(id=str(uuid.uuid4()), outcome=outcome, grounds=grounds or [], decided_at=datetime.now(UTC),
                    statement=statement)


def published(territory: str, text: str, *, country: str = "FR", axis: str | None = "maitrise",
              title: str | None = None, external_id: str | None = None) -> ContributionPublished:
    contribution_id = str(uuid.uuid4())
    now = datetime.now(UTC)
    return ContributionPublished(
        territory=territory, country=country, contribution_id=contribution_id,
        external_id=external_id or f"ext-{contribution_id[:8]}", consultation=f"{territory}-ia", axis=axis,
        kind="proposition", language="fr", submitted_at=now, title=title, text=text, published_at=now,
        decision=decision(contribution_id),
    )


class Receiver:
    """A real HTTP server on loopback. `respond(request) -> (status, headers)` decides each answer (it may
    sleep); every request is kept, with whether it was answered 2xx."""

    def __init__(self, respond: Callable[[dict[str, Any]], tuple[int, dict[str, str]]] | None = None) -> None:
        self.respond = respond or (lambda request: (204, {}))
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.port = free_port()
        self.server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Receiver":
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                request = {"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                           "body": body, "at": time.monotonic()}
                status, headers = receiver.respond(request)
                request["status"] = status
                with receiver.lock:
                    receiver.requests.append(request)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def accepted(self, path: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if 200 <= r["status"] < 300 and (path is None or r["path"] == path)]

    def accepted_events(self, path: str | None = None) -> list[dict[str, Any]]:
        return [json.loads(r["body"]) for r in self.accepted(path)]


def verify(request: dict[str, Any], secret: str) -> dict[str, Any]:
    """Check a delivery's signature as a partner's receiver does (raises when it does not verify)."""
    headers = {name: request["headers"][name] for name in ("webhook-id", "webhook-timestamp", "webhook-signature")}
    return Webhook(secret).verify(request["body"], headers)


class Mailbox:
    """A real SMTP server (aiosmtpd) on loopback that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        mailbox = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                message = message_from_bytes(envelope.content, policy=default_policy)
                mailbox.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                         "subject": str(message["subject"]),
                                         "content": f"{message['subject']}\n{message.get_content()}"})
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def start(self) -> "Mailbox":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()


def create_partner(stack, partner_id: str, **fields: Any) -> str:
    response = httpx.post(f"{stack.url('notifications')}/v1/partners", headers=stack.admin_headers,
                          json={"id": partner_id, "name": partner_id.replace("-", " ").title(), **fields}, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()["api_key"]


def subscribe(stack, partner_key: str, url: str, limits: dict[str, Any] | None = None, **filters: Any) -> dict[str, Any]:
    response = httpx.post(f"{stack.url('notifications')}/v1/subscriptions",
                          headers={"Authorization": f"Bearer {partner_key}"},
                          json={"url": url, "filters": filters, "limits": limits or {}}, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def partner_get(stack, partner_key: str, path: str) -> Any:
    response = httpx.get(f"{stack.url('notifications')}{path}", headers={"Authorization": f"Bearer {partner_key}"},
                         timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def partner_post(stack, partner_key: str, path: str, body: Any = None) -> httpx.Response:
    return httpx.post(f"{stack.url('notifications')}{path}", headers={"Authorization": f"Bearer {partner_key}"},
                      json=body, timeout=30)


def territory(prefix: str = "t") -> str:
    """A territory of its own for one test."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def webhook_ids(requests: list[dict[str, Any]]) -> list[str]:
    return [r["headers"]["webhook-id"] for r in requests]


def notifications_env(mailbox: Mailbox, retry_schedule_s: list[float], **extra: str) -> dict[str, str]:
    """A notifications process for the tests: this retry schedule, short leases and timeouts, the mailbox
    as its SMTP server, a one-second 'day' for digests."""
    return {
        "PALABRE_WEBHOOK_RETRY_SCHEDULE_S": json.dumps(retry_schedule_s),
        "PALABRE_WEBHOOK_TIMEOUT_S": "2",
        "PALABRE_WEBHOOK_LEASE_S": "5",
        "PALABRE_SMTP_HOST": "127.0.0.1",
        "PALABRE_SMTP_PORT": str(mailbox.port),
        "PALABRE_SMTP_FROM": "palabre@test.local",
        "PALABRE_MAIL_CHECK_INTERVAL_S": "0.3",
        "PALABRE_DIGEST_DAILY_S": "1",
        **extra,
    }
