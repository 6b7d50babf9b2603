"""E-mail to partners over SMTP: queued notices (a subscription disabled) and periodic digests.

Both are driven by tables, so a restart loses nothing, and both are claimed in a committed transaction
before they are sent, so a crash (or a second replica) never sends one twice: a notice is sent once, a
digest covers the feed items its partner's previous digest could not see (a snapshot of transaction ids:
rows committed out of order by two replicas are not skipped). What the SMTP server refuses is given back
and tried again; what a crash interrupted while it was being sent stays claimed (`claimed_at` of a notice
without `sent_at`, a digest `sending`), for a person to look at, rather than being sent twice.
"""

import asyncio
import smtplib
from email.message import EmailMessage

import asyncpg

from services.notifications import store
from services.notifications.domain.mail import digest_message, digest_period, notice_message
from shared.bus import crash_point
from shared.logging import get_logger

log = get_logger(__name__)

NOTICE_MAX_ATTEMPTS = 20
DIGEST_ITEMS_PER_MAIL = 500  # a longer digest goes out as several e-mails


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
            for partner_id, period_s in await self.digest_partners():
                try:
                    await self.send_digest(partner_id, period_s=period_s)
                except (OSError, smtplib.SMTPException) as exc:
                    log.warning("digest not sent, will retry", partner=partner_id, error=str(exc))
            await asyncio.sleep(self.settings.mail_check_interval_s)

    async def send_notices(self) -> int:
        sent, tried = 0, []
        while (notice := await store.claim_notice(self.runtime.db, NOTICE_MAX_ATTEMPTS, tried)) is not None:
            tried.append(notice["id"])
            message = notice_message(notice, notice["subject"], notice["body"], sender=self.settings.smtp_from)
            try:
                await self.send(message)
            except (OSError, smtplib.SMTPException) as exc:
                await store.notice_not_sent(self.runtime.db, notice["id"], str(exc))
                log.warning("notice not sent, will retry", partner=notice["partner"], error=str(exc))
                continue
            crash_point(self.settings, "mailer.after_notice_sent")
            await store.notice_sent(self.runtime.db, notice["id"])
            sent += 1
        return sent

    async def digest_partners(self) -> list[tuple[str, float]]:
        """Partners with a digest, and its period (whether it is due is decided when it is claimed)."""
        rows = await self.runtime.db.fetch(
            "SELECT id, digest FROM partners WHERE digest <> 'none' AND email IS NOT NULL")
        periods = [(row["id"], digest_period(row["digest"], self.settings.digest_daily_s,
                                             self.settings.digest_weekly_s)) for row in rows]
        return [(partner_id, period.total_seconds()) for partner_id, period in periods if period is not None]

    async def send_digest(self, partner_id: str, *, period_s: float | None = None) -> dict[str, int | bool]:
        """Send the partner's digest of what was published since the last one (nothing when empty); with
        `period_s`, only when that long has passed since the last one."""
        try:
            claimed = await store.claim_digest(self.runtime.db, partner_id, period_s)
        except asyncpg.SerializationError:  # another replica took it at the same moment
            return {"items": 0, "sent": False}
        if claimed is None or not claimed["items"]:
            return {"items": 0, "sent": False}
        partner, items = claimed["partner"], claimed["items"]
        item_url = self.settings.base_url_of("notifications") + "/v1/items/{id}"
        try:
            for start in range(0, len(items), DIGEST_ITEMS_PER_MAIL):
                await self.send(digest_message(partner, items[start:start + DIGEST_ITEMS_PER_MAIL],
                                               sender=self.settings.smtp_from, item_url=item_url))
        except (OSError, smtplib.SMTPException):
            await store.digest_not_sent(self.runtime.db, claimed)
            raise
        crash_point(self.settings, "mailer.after_digest_sent")
        await store.digest_sent(self.runtime.db, claimed["digest_id"])
        log.info("digest sent", partner=partner_id, items=len(items))
        return {"items": len(items), "sent": True}
