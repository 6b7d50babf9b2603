"""Pull feeds of published contributions: JSON Feed 1.1 and Atom (RFC 4287), paginated newest first.

Items come from the feed table (published content only). `framework` and `axis` are where synthesis placed
the contribution; until it has, `framework` is null and `axis` is the one the source gave. Text is carried
as text, never as HTML: JSON escapes it by construction and the Atom document is built with an XML
serializer, so `<`, `&` and quotes in a contribution cannot become markup. Pages link to the next, older,
page (`next_url` in JSON Feed, `<link rel="next">` in Atom). The validators (ETag, Last-Modified) depend on
what the page shows.
"""

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from xml.etree import ElementTree as ET  # nosec B405 # builds XML, never parses it

ATOM_NS = "http://www.w3.org/2005/Atom"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_XML_INVALID = dict.fromkeys([c for c in range(32) if c not in (9, 10, 13)] + [0xFFFE, 0xFFFF])


@dataclass(frozen=True)
class FeedPage:
    title: str
    home_url: str
    self_url: str
    next_url: str | None
    items: Sequence[dict[str, Any]]
    item_url: str  # with `{id}`


def xml_text(text: str | None) -> str:
    """Text an XML 1.0 document can hold (control characters other than tab and newlines dropped)."""
    return (text or "").translate(_XML_INVALID)


def item_title(item: dict[str, Any]) -> str:
    if item.get("title"):
        return item["title"]
    words = " ".join((item.get("text") or "").split())
    return words if len(words) <= 80 else words[:79].rstrip() + "…"


def tags_of(item: dict[str, Any]) -> list[str]:
    return [tag for tag in (item.get("territory"), (item.get("country") or "").strip() or None, item.get("framework"),
                            item.get("axis"), item.get("kind")) if tag]


def json_feed(page: FeedPage) -> dict[str, Any]:
    feed: dict[str, Any] = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": page.title,
        "home_page_url": page.home_url,
        "feed_url": page.self_url,
        "language": "fr",
        "items": [
            {
                "id": str(item["contribution_id"]),
                "url": page.item_url.format(id=item["contribution_id"]),
                "title": item_title(item),
                "content_text": item["text"],
                "date_published": item["occurred_at"].isoformat(),
                "tags": tags_of(item),
                "_palabre": {"territory": item["territory"], "country": (item["country"] or "").strip(),
                             "framework": item.get("framework"), "axis": item["axis"], "kind": item.get("kind"),
                             "consultation": item.get("consultation")},
            }
            for item in page.items
        ],
    }
    if page.next_url:
        feed["next_url"] = page.next_url
    return feed


def atom_feed(page: FeedPage) -> bytes:
    ET.register_namespace("", ATOM_NS)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
        if text is not None:
            element.text = xml_text(text)
        return element

    feed = ET.Element(f"{{{ATOM_NS}}}feed", {"xml:lang": "fr"})
    sub(feed, "id", page.self_url.split("?")[0])
    sub(feed, "title", page.title)
    sub(feed, "updated", last_modified(page.items).isoformat())
    sub(feed, "link", rel="self", href=page.self_url)
    sub(feed, "link", rel="alternate", href=page.home_url)
    if page.next_url:
        sub(feed, "link", rel="next", href=page.next_url)
    author = sub(feed, "author")
    sub(author, "name", "Palabre")
    for item in page.items:
        entry = sub(feed, "entry")
        url = page.item_url.format(id=item["contribution_id"])
        sub(entry, "id", f"urn:uuid:{item['contribution_id']}")
        sub(entry, "title", item_title(item), type="text")
        sub(entry, "link", rel="alternate", href=url)
        sub(entry, "published", item["occurred_at"].isoformat())
        sub(entry, "updated", item["occurred_at"].isoformat())
        sub(entry, "content", item["text"], type="text")
        for tag in tags_of(item):
            sub(entry, "category", term=xml_text(tag))
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def last_modified(items: Sequence[dict[str, Any]]) -> datetime:
    return max((item["occurred_at"] for item in items), default=EPOCH)


def etag(kind: str, page: FeedPage) -> str:
    """A strong validator of what the page shows: its items (by feed sequence) and its links."""
    digest = hashlib.sha256(json.dumps(
        [kind, page.self_url, page.next_url, [item["seq"] for item in page.items]]).encode()).hexdigest()
    return f'"{digest[:32]}"'


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def not_modified(page_etag: str, modified: datetime, if_none_match: str | None,
                 if_modified_since: datetime | None) -> bool:
    """RFC 9110 §13.1: If-None-Match wins when present; If-Modified-Since compares whole seconds."""
    if if_none_match is not None:
        candidates = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in candidates or page_etag in candidates
    if if_modified_since is not None:
        return modified.replace(microsecond=0) <= if_modified_since
    return False
