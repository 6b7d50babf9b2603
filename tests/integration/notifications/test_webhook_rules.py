"""The pure rules of notifications, without a broker: webhook targets, retry schedule, Retry-After,
responses, payload size, feed validators, digest periods."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from services.notifications.domain import feeds, mail
from services.notifications.domain.public_events import fit_payload
from services.notifications.domain.webhooks import (
    RETRY_SCHEDULE_S,
    Outcome,
    UnsafeTarget,
    check_target,
    classify_response,
    new_webhook_secret,
    next_retry_delay_s,
    parse_retry_after,
    signature_headers,
)


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]/hook", "http://10.1.2.3/hook",
    "http://192.168.0.10/hook", "http://172.16.5.4/hook", "http://169.254.169.254/latest/meta-data",
    "http://[::ffff:127.0.0.1]/hook", "http://0.0.0.0/hook", "http://100.64.0.1/hook", "http://[fe80::1]/hook",
    # IPv6 forms of private, loopback and link-local IPv4 addresses: NAT64, 6to4, IPv4-compatible, -mapped
    "http://[64:ff9b::7f00:1]/hook", "http://[64:ff9b::10.0.0.1]/hook", "http://[64:ff9b::169.254.169.254]/hook",
    "http://[64:ff9b:1::c0a8:1]/hook", "http://[2002:7f00:1::1]/hook", "http://[2002:a00:1::]/hook",
    "http://[2002:a9fe:a9fe::1]/hook", "http://[::127.0.0.1]/hook", "http://[::10.0.0.1]/hook",
    "http://[::ffff:192.168.1.1]/hook", "http://[::ffff:169.254.169.254]/hook", "http://[::]/hook",
])
def test_private_loopback_and_link_local_targets_are_refused(url):
    with pytest.raises(UnsafeTarget, match="non-public address"):
        check_target(url, allow_private=False)


@pytest.mark.parametrize("url", ["ftp://example.org/x", "http:///nohost", "http://user:pw@example.org/x",
                                 "javascript:alert(1)"])
def test_malformed_targets_are_refused_even_when_private_ones_are_allowed(url):
    with pytest.raises(UnsafeTarget):
        check_target(url, allow_private=True)


def test_public_addresses_pass_and_private_ones_pass_when_allowed():
    check_target("http://93.184.215.14/hook", allow_private=False)  # a literal public address: no DNS needed
    check_target("http://[64:ff9b::93.184.215.14]/hook", allow_private=False)  # NAT64 of a public address
    check_target("http://[2002:5db8:d70e::1]/hook", allow_private=False)  # 6to4 of the same
    check_target("http://[2606:4700::1111]/hook", allow_private=False)
    check_target("http://127.0.0.1:9/hook", allow_private=True)


def test_the_retry_schedule_has_jitter_and_ends():
    for attempt, base in enumerate(RETRY_SCHEDULE_S):
        delay = next_retry_delay_s(attempt, None)
        assert base * 0.8 <= delay <= base * 1.2
    assert next_retry_delay_s(len(RETRY_SCHEDULE_S)) is None
    delays = {next_retry_delay_s(2) for _ in range(20)}
    assert len(delays) > 1  # jittered, so that retries of many deliveries spread out
    assert next_retry_delay_s(1, schedule=[0, 0.5]) <= 0.6 and next_retry_delay_s(2, schedule=[0, 0.5]) is None


def test_retry_after_lengthens_never_shortens_and_is_capped():
    assert next_retry_delay_s(1, 120.0) == 120.0
    assert next_retry_delay_s(2, 1.0) >= 240  # the schedule's 5 min wins over a shorter Retry-After
    assert next_retry_delay_s(1, 10 ** 9, max_retry_after_s=3600) == 3600
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("30", now) == 30
    assert parse_retry_after("Sun, 01 Mar 2026 12:01:00 GMT", now) == 60
    assert parse_retry_after("soon", now) is None and parse_retry_after(None, now) is None


def test_responses_deliver_disable_or_retry():
    assert classify_response(204) is Outcome.DELIVERED and classify_response(200) is Outcome.DELIVERED
    assert classify_response(410) is Outcome.DISABLE
    for code in (None, 301, 400, 404, 429, 500, 503):
        assert classify_response(code) is Outcome.RETRY


def test_secrets_and_signatures_follow_standard_webhooks():
    from standardwebhooks.webhooks import Webhook

    old, new = new_webhook_secret(), new_webhook_secret()
    assert new.startswith("whsec_") and old != new
    now = datetime.now(UTC)
    headers = signature_headers(new, "msg_1", now, '{"a":1}', previous_secret=old)
    assert len(headers["webhook-signature"].split()) == 2
    for secret in (old, new):
        assert Webhook(secret).verify('{"a":1}', headers) == {"a": 1}


def test_a_payload_is_cut_to_fit_and_says_so():
    document = {"id": "e", "data": {"text": "é" * 30_000, "title": "t"}}
    body = fit_payload(document, 20_000, ("text", "title"))
    assert len(body) <= 20_000
    data = json.loads(body)["data"]
    assert data["text_truncated"] is True and data["text"].endswith("…") and data["text"].startswith("é")
    small = fit_payload({"id": "e", "data": {"text": "court"}}, 20_000)
    assert json.loads(small)["data"] == {"text": "court"}


def test_feed_validators():
    moment = datetime(2026, 3, 1, 12, 0, 30, 500_000, tzinfo=UTC)
    assert feeds.not_modified('"a"', moment, '"b", "a"', None)
    assert feeds.not_modified('"a"', moment, 'W/"a"', None)
    assert not feeds.not_modified('"a"', moment, '"b"', moment)  # If-None-Match wins when present
    assert feeds.not_modified('"a"', moment, None, moment.replace(microsecond=0))
    assert not feeds.not_modified('"a"', moment, None, moment - timedelta(seconds=1))
    assert feeds.xml_text("a\x00b\x1fc\td") == "abc\td"


def test_digest_periods():
    assert mail.digest_period("daily", 86400, 604800) == timedelta(days=1)
    assert mail.digest_period("weekly", 86400, 604800) == timedelta(days=7)
    assert mail.digest_period("none", 86400, 604800) is None
    assert mail.excerpt("mot " * 500, 50).endswith("…") and len(mail.excerpt("mot " * 500, 50)) == 50
