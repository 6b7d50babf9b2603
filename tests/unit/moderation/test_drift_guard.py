"""The drift guard: every labelled case keeps the outcome a person reviewed (data/eval/expected_outcomes.jsonl).

When a change of the checks moves an outcome on purpose, run `palabre moderation snapshot`, review the
list of changed cases, then `palabre moderation snapshot --write` and commit the snapshot with the change.
"""

import pytest

from services.moderation import hatecheck
from services.moderation.evaluation import (
    UNSEEN_PATH,
    Drift,
    ExpectedOutcome,
    compare_outcomes,
    current_outcomes,
    load_cases,
    load_snapshot,
)

HOW_TO = ("Outcomes of labelled cases changed without their labels changing. If that is intended, review them with "
          "`palabre moderation snapshot` and record them with `palabre moderation snapshot --write`.")


def _message(drift: Drift) -> str:
    lines = [HOW_TO]
    for label, values in (("changed", drift.changed), ("relabelled", drift.relabelled),
                          ("not in the snapshot", drift.added), ("gone from the labelled sets", drift.removed)):
        if values:
            lines.append(f"{label} ({len(values)}):")
            lines += [f"  {value}" for value in values[:100]]
    return "\n".join(lines)


def test_charter_cases_keep_their_reviewed_outcomes():
    drift = compare_outcomes(load_snapshot(), current_outcomes(load_cases()), {"cases"})
    assert drift.clean, _message(drift)


def test_unseen_cases_keep_their_reviewed_outcomes():
    drift = compare_outcomes(load_snapshot(), current_outcomes([], unseen=load_cases(UNSEEN_PATH)), {"unseen"})
    assert drift.clean, _message(drift)


@pytest.mark.skipif(not hatecheck.available(), reason=f"Multilingual HateCheck not found at {hatecheck.default_dir()} "
                    "(../shared is absent in a user's own clone): its outcomes are not checked")
def test_hatecheck_cases_keep_their_reviewed_outcomes():
    current = current_outcomes([], hatecheck.load())
    drift = compare_outcomes(load_snapshot(), current, {"hatecheck"})
    assert drift.clean, _message(drift)


def _outcome(id_, label, outcome, grounds=()):
    return ExpectedOutcome(id=id_, source="cases", label=label, outcome=outcome, grounds=list(grounds))


def test_the_guard_names_each_case_whose_outcome_moved_under_the_same_label():
    before = [_outcome("a", "clean", "published"), _outcome("b", "violation:threat", "held", ["threat"]),
              _outcome("c", "clean", "published"), _outcome("d", "clean", "published")]
    now = [_outcome("a", "clean", "held", ["hate"]), _outcome("b", "violation:threat", "held", ["threat"]),
           _outcome("c", "violation:hate", "held", ["hate"]), _outcome("e", "clean", "published")]
    drift = compare_outcomes(before, now)
    assert drift.changed == ["cases/a [clean]: published [] -> held ['hate']"]
    assert drift.relabelled == ["cases/c: label 'clean' -> 'violation:hate'"]
    assert (drift.added, drift.removed) == (["cases/e"], ["cases/d"])
    assert "cases/a" in _message(drift) and not drift.clean
    assert compare_outcomes(before, before).clean
