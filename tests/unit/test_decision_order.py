"""Decisions applied in any order, in batches of any size, end in the same state: the latest decision by its
time holds (an erasure above all), and a partner who follows the changes ends with the same copy."""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from shared.decision_order import Change, DecisionMark, resolve

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


@st.composite
def decision_histories(draw) -> list[tuple[DecisionMark, str | None]]:
    """A contribution's decisions (mark, published text or None), some at the same second, maybe an erasure."""
    count = draw(st.integers(1, 6))
    history = []
    for i in range(count):
        public = draw(st.booleans())
        at = T0 + timedelta(seconds=draw(st.integers(0, 4)))
        history.append((DecisionMark(f"d{i}", at, public), f"texte {i}" if public else None))
    if draw(st.booleans()):
        at = T0 + timedelta(seconds=draw(st.integers(0, 4)))
        history.append((DecisionMark("erasure", at, public=False, erased=True), None))
    return history


@st.composite
def arrivals(draw) -> tuple[list[tuple[DecisionMark, str | None]], list[list[tuple[DecisionMark, str | None]]]]:
    """A history and the same decisions shuffled and cut into consecutive batches."""
    history = draw(decision_histories())
    shuffled = draw(st.permutations(history))
    cuts = sorted(draw(st.sets(st.integers(1, max(1, len(shuffled) - 1)), max_size=len(shuffled))))
    batches, start = [], 0
    for cut in [*cuts, len(shuffled)]:
        if cut > start:
            batches.append(shuffled[start:cut])
            start = cut
    return history, batches


def expected_final(history):
    """Written out here, not taken from the code: erasure first, then the latest time, then the larger id."""
    erasures = [entry for entry in history if entry[0].erased]
    if erasures:
        return erasures[0]
    return sorted(history, key=lambda entry: (entry[0].decided_at, entry[0].decision_id))[-1]


@given(arrivals())
def test_any_order_and_batching_ends_in_the_latest_decision(case):
    history, batches = case
    texts = dict(history)
    current, partner_copy = None, None
    for batch in batches:
        current, change = resolve(current, [mark for mark, _ in batch])
        if change in (Change.PUBLISH, Change.UPDATE):
            partner_copy = texts[current]
        elif change is Change.WITHDRAW:
            partner_copy = None
    final_mark, final_text = expected_final(history)
    assert current == final_mark
    assert partner_copy == final_text  # what a partner keeps is what is public, nothing older


def test_a_rejection_before_its_publication_keeps_it_out():
    published = DecisionMark("p", T0, public=True)
    rejected = DecisionMark("r", T0 + timedelta(minutes=5), public=False)
    state, change = resolve(None, [rejected])
    assert (state, change) == (rejected, Change.NONE)
    state, change = resolve(state, [published])
    assert (state, change) == (rejected, Change.NONE)


def test_a_later_redaction_is_an_update_and_a_later_rejection_a_withdrawal():
    published = DecisionMark("p", T0, public=True)
    redacted = DecisionMark("p2", T0 + timedelta(minutes=1), public=True)
    rejected = DecisionMark("r", T0 + timedelta(minutes=2), public=False)
    state, change = resolve(None, [published])
    assert change is Change.PUBLISH
    state, change = resolve(state, [redacted])
    assert (state, change) == (redacted, Change.UPDATE)
    assert resolve(state, [rejected]) == (rejected, Change.WITHDRAW)


def test_nothing_decided_after_an_erasure_publishes_again():
    erased = DecisionMark("e", T0, public=False, erased=True)
    later = DecisionMark("p", T0 + timedelta(days=1), public=True)
    assert resolve(erased, [later]) == (erased, Change.NONE)
