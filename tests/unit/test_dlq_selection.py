"""Which dead letters `palabre dlq replay` takes: NATS subject wildcards, `--since` as a duration or a
time, and the groups `palabre dlq list` shows."""

from datetime import UTC, datetime, timedelta

import pytest

from shared.dlq import DeadLetter, chosen, grouped, parse_since, subject_matches

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("pattern", "subject", "expected"), [
    ("palabre.intake.*", "palabre.intake.nantes", True),
    ("palabre.intake.*", "palabre.intake.nantes.x", False),
    ("palabre.contribution.>", "palabre.contribution.published.fr.nantes", True),
    ("palabre.contribution.>", "palabre.contribution", False),
    ("palabre.contribution.*.fr.>", "palabre.contribution.submitted.fr.nantes", True),
    ("palabre.contribution.*.fr.>", "palabre.contribution.submitted.be.namur", False),
    ("palabre.intake.nantes", "palabre.intake.nantes", True),
    ("palabre.intake.nantes", "palabre.intake.rennes", False),
])
def test_subjects_match_as_nats_wildcards_do(pattern, subject, expected):
    assert subject_matches(pattern, subject) is expected


def test_since_is_a_duration_or_a_time_with_its_zone():
    assert parse_since("90m", NOW) == NOW - timedelta(minutes=90)
    assert parse_since("2d", NOW) == NOW - timedelta(days=2)
    assert parse_since("2026-03-01T10:00:00+01:00", NOW) == datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match="time zone"):
        parse_since("2026-03-01T10:00:00", NOW)
    with pytest.raises(ValueError):
        parse_since("yesterday", NOW)


def letter(seq: int, subject: str, reason: str, minutes_ago: int, consumer: str = "intake-proposed") -> DeadLetter:
    return DeadLetter(seq=seq, consumer=consumer, subject=subject, reason=reason, deliveries=1, event_id=None,
                      contribution_id=None, dead_lettered_at=NOW - timedelta(minutes=minutes_ago), data=b"{}")


def test_replay_takes_only_the_chosen_subject_time_and_consumer_and_list_groups_by_reason():
    letters = [letter(1, "palabre.intake.nantes", "unknown territory", 120),
               letter(2, "palabre.intake.nantes", "unknown territory", 30),
               letter(3, "palabre.intake.rennes", "invalid event", 10),
               letter(4, "palabre.contribution.submitted.fr.nantes", "invalid event", 5, "moderation-submitted")]
    assert [d.seq for d in chosen(letters, subject="palabre.intake.nantes")] == [1, 2]
    assert [d.seq for d in chosen(letters, since=NOW - timedelta(hours=1))] == [2, 3, 4]
    assert [d.seq for d in chosen(letters, consumer="moderation-submitted")] == [4]
    groups = grouped(letters)
    assert (groups[0].subject, groups[0].count, groups[0].oldest) == (
        "palabre.intake.nantes", 2, NOW - timedelta(minutes=120))
    assert sum(g.count for g in groups) == 4 and len(groups) == 3
