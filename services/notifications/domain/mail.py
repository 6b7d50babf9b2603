"""E-mails to partners, composed from data: the notice of a disabled subscription, and the digest of
what was published since the last one. Plain text; only published content."""

from collections.abc import Sequence
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

DIGEST_EXCERPT_CHARS = 400


def subscription_disabled_notice(subscription: dict[str, Any]) -> tuple[str, str]:
    subject = "Palabre : votre abonnement webhook est désactivé / your webhook subscription is disabled"
    body = (
        f"Bonjour {subscription.get('partner_name') or subscription['partner']},\n\n"
        f"L'abonnement {subscription['id']} vers {subscription['url']} a été désactivé : "
        f"{subscription['disabled_reason']}.\n"
        "Réactivez-le avec POST /v1/subscriptions/{id}/enable, puis demandez la redistribution de ce que "
        "vous avez manqué avec POST /v1/subscriptions/{id}/replay.\n\n"
        f"The subscription {subscription['id']} to {subscription['url']} was disabled: "
        f"{subscription['disabled_reason']}.\n"
        "Enable it again with POST /v1/subscriptions/{id}/enable, then ask for what you missed with "
        "POST /v1/subscriptions/{id}/replay.\n"
    )
    return subject, body


def digest_period(frequency: str, daily_s: float, weekly_s: float) -> timedelta | None:
    return {"daily": timedelta(seconds=daily_s), "weekly": timedelta(seconds=weekly_s)}.get(frequency)


def excerpt(text: str, limit: int = DIGEST_EXCERPT_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def digest_message(partner: dict[str, Any], items: Sequence[dict[str, Any]], *, sender: str,
                   item_url: str) -> EmailMessage:
    """The digest of `items` (published feed items); `item_url` has a `{id}` for the contribution."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = partner["email"]
    frequency = {"daily": "quotidien", "weekly": "hebdomadaire"}.get(partner["digest"], partner["digest"])
    message["Subject"] = f"Palabre : {len(items)} contribution(s) publiée(s) — résumé {frequency}"
    lines = [f"Bonjour {partner['name']},", "",
             f"{len(items)} contribution(s) publiée(s) depuis le dernier résumé :", ""]
    for item in items:
        where = f"{item['territory']} ({item['country']})" + (f" · {item['axis']}" if item["axis"] else "")
        lines.append(f"— {item['title'] or 'Contribution'} · {where}")
        lines.append(f"  {excerpt(item['text'])}")
        lines.append(f"  {item_url.format(id=item['contribution_id'])}")
        lines.append("")
    lines.append("Palabre — concertations territoriales de l'IA")
    message.set_content("\n".join(lines))
    return message


def notice_message(partner: dict[str, Any], subject: str, body: str, *, sender: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = partner["email"]
    message["Subject"] = subject
    message.set_content(body)
    return message
