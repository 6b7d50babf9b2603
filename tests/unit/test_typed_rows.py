"""The rows intake, moderation and synthesis hand to their stores are dataclasses named after the columns
they fill: a field the table does not have, or a column the row does not fill, is caught here instead of by
a misplaced value."""

import dataclasses

import pytest

from services.intake import store as intake_store
from services.moderation import store as moderation_store
from services.synthesis import store as synthesis_store

ROWS = [
    (intake_store.ContributionRow, intake_store.CONTRIBUTION_COLUMNS),
    (moderation_store.ContributionRow, moderation_store.CONTRIBUTION_COLUMNS),
    (moderation_store.DecisionRow, moderation_store.DECISION_COLUMNS),
    (synthesis_store.PublishedRow, synthesis_store.PUBLISHED_COLUMNS),
]


@pytest.mark.parametrize(("row", "columns"), ROWS, ids=[row.__qualname__ for row, _ in ROWS])
def test_a_row_fills_exactly_the_columns_of_its_table(row, columns):
    assert [field.name for field in dataclasses.fields(row)] == [name for name, _ in columns]
