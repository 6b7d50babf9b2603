"""E-mail to partners over SMTP: queued notices (a subscription disabled) and periodic digests.

Both are driven by tables, so a restart loses nothing: a notice stays queued until the SMTP server has
taken it; a digest covers the feed items after the partner's `last_digest_seq`, which moves only in the
transaction that follows a successful send (a crash in between can send one digest twice, never skip one).
"""

import asyncio
import smtplib
from datetime import UTC, datetime
from email.message import EmailMessage

from services.notifications import store
from services.notifications.domain.mail import (
    digest_is_due,
    digest_message,
    notice_message,
)
from shared.logging import get_logger

log = get_logger(__name__)

NOTICE_MAX_ATTEMPTS = 20


def _smtp_send(host: str, port: int, message: EmailMessage) -> None:
    with smtplib.SMTP(host, port, timeout=30) as smtp:
        smtp.send_message(message)


class Mailer:
    def __init__(self, runtime) -> None:
        self.runtime = runtime
        self.settings = runtime.settings

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(_smtp_send, self.settings.smtp_host, self.settings.smtp_port, message)

    async def run(self) -> None:
        while True:
            await self.send_notices()
            for partner_id in await self.due_digests():
                try:
                    await self.send_digest(partner_id)
                except (OSError, smtplib.SMTPException) as exc:
                    log.warning("digest not sent, will retry", partner=partner_id, error=str(exc))
            await asyncio.sleep(self.settings.mail_check_interval_s)

    async def send_notices(self) -> int:
        sent = 0
        async with self.runtime.db.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                """
                SELECT n.id, n.subject, n.body, p.id AS partner, p.name, p.email FROM partner_notices n
                JOIN partners p ON p.id = n.partner
                WHERE n.sent_at IS NULL AND n.attempts < $1 AND p.email IS NOT NULL
                ORDER BY n.id LIMIT 50 FOR UPDATE OF n SKIP LOCKED
                """,
                NOTICE_MAX_ATTEMPTS,
            )
            for row in rows:
                message = notice_message(dict(row), row["subject"], row["body"], sender=self.settings.smtp_from)
                try:
                    await self.send(message)
                except (OSError, smtplib.SMTPException) as exc:
                    await conn.execute("UPDATE partner_notices SET attempts = attempts + 1, last_error = $2 "
                                       "WHERE id = $1", row["id"], str(exc)[:500])
                    log.warning("notice not sent, will retry", partner=row["partner"], error=str(exc))
                    continue
                await conn.execute("UPDATE partner_notices SET attempts = attempts + 1, sent_at = now() "
                                   "WHERE id = $1", row["id"])
                sent += 1
        return sent

    async def due_digests(self) -> list[str]:
        rows = await self.runtime.db.fetch(
            "SELECT id, digest, last_digest_at FROM partners WHERE digest <> 'none' AND email IS NOT NULL")
        now = datetime.now(UTC)
        return [row["id"] for row in rows
                if digest_is_due(row["digest"], row["last_digest_at"], now, self.settings.digest_daily_s,
                                 self.settings.digest_weekly_s)]

    async def send_digest(self, partner_id: str) -> dict[str, int | bool]:
        """Send the partner's digest of what was published since the last one (nothing when empty)."""
        async with self.runtime.db.acquire() as conn, conn.transaction():
            partner = await conn.fetchrow("SELECT * FROM partners WHERE id = $1 FOR UPDATE SKIP LOCKED", partner_id)
            if partner is None or not partner["email"]:
                return {"items": 0, "sent": False}
            partner = dict(partner)
            items = await store.digest_items(conn, partner, partner["last_digest_seq"])
            if items:
                message = digest_message(partner, items, sender=self.settings.smtp_from,
                                         item_url=self.settings.base_url_of("notifications") + "/v1/items/{id}")
                await self.send(message)
                await conn.execute("INSERT INTO digests (partner, from_seq, to_seq, items) VALUES ($1, $2, $3, $4)",
                                   partner_id, partner["last_digest_seq"], items[-1]["seq"], len(items))
            await conn.execute("UPDATE partners SET last_digest_at = now(), last_digest_seq = $2 WHERE id = $1",
                               partner_id, items[-1]["seq"] if items else partner["last_digest_seq"])
        if items:
            log.info("digest sent", partner=partner_id, items=len(items))
        return {"items": len(items), "sent": bool(items)}
