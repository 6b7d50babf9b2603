"""The chaos accounting fails a run that lost something as surely as one that doubled something."""

from collections import Counter

from shared.events import contribution_id_for
from tests.chaos.accounting import Observed, judge

SENT = {0: "t-a", 1: "t-a", 2: "t-b", 3: "t-b"}
IDS = {seq: contribution_id_for(territory, str(seq)) for seq, territory in SENT.items()}


def healthy() -> Observed:
    """Seq 3 rejected, the rest published: each once everywhere."""
    published = [IDS[0], IDS[1], IDS[2]]
    return Observed(
        status={**{c: "published" for c in published}, IDS[3]: "rejected"},
        decisions={c: 1 for c in IDS.values()},
        announced={**{c: Counter(submitted=1, published=1) for c in published},
                   IDS[3]: Counter(submitted=1, rejected=1)},
        counted=set(published),
        synthesis_total=3,
        webhook_ids={c: {f"evt-{c}"} for c in published},
    )


def test_a_run_where_everything_is_there_once_passes():
    report = judge(SENT, healthy())
    assert report.problems == []
    assert report.outcomes == Counter(published=3, rejected=1)


def test_under_counting_is_caught_wherever_it_happens():
    cases = {
        "unknown to intake": lambda o: o.status.pop(IDS[1]),
        "without a final state": lambda o: o.status.update({IDS[1]: "submitted"}),
        "not decided": lambda o: o.decisions.pop(IDS[1]),
        "never submitted on the bus": lambda o: o.announced[IDS[1]].update(submitted=-1),
        "never announced on the bus": lambda o: o.announced[IDS[3]].update(rejected=-1),
        "published but not counted": lambda o: o.counted.discard(IDS[1]),
        "published but never delivered": lambda o: o.webhook_ids.pop(IDS[1]),
        "the synthesis counts 2 contributions for 3": lambda o: setattr(o, "synthesis_total", 2),
    }
    for expected, damage in cases.items():
        observed = healthy()
        damage(observed)
        report = judge(SENT, observed)
        assert any(expected in problem for problem in report.problems), (expected, report.problems)


def test_over_counting_is_caught_wherever_it_happens():
    cases = {
        "decided more than once": lambda o: o.decisions.update({IDS[1]: 2}),
        "submitted more than once": lambda o: o.announced[IDS[1]].update(submitted=1),
        "announced more than once": lambda o: o.announced[IDS[1]].update(published=1),
        "counted but not published": lambda o: o.counted.add(IDS[3]),
        "the synthesis counts 4 contributions for 3": lambda o: setattr(o, "synthesis_total", 4),
        "delivered under several webhook-ids": lambda o: o.webhook_ids[IDS[1]].add("another"),
        "delivered but not published": lambda o: o.webhook_ids.update({IDS[3]: {"evt-3"}}),
    }
    for expected, damage in cases.items():
        observed = healthy()
        damage(observed)
        report = judge(SENT, observed)
        assert any(expected in problem for problem in report.problems), (expected, report.problems)
