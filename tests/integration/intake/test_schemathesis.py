"""Intake attacked on purpose with the contract fuzzer (`tests/fuzzing.py`), with a territory's key and
the network-admin key: whatever it sends, never a 5xx, and every error a problem document."""

import pytest

from tests.fuzzing import fuzz, operations_of


@pytest.fixture(scope="module")
def operations(intake_stack) -> dict:
    found = operations_of(intake_stack.url("intake"))
    assert "POST /v1/contributions" in found and "POST /v1/imports" in found
    return found


@pytest.fixture(scope="module")
def fuzz_key(intake_stack) -> str:
    return intake_stack.create_territory("fuzz-territory")


@pytest.mark.parametrize("role", ["territory", "admin"])
def test_no_5xx_and_every_error_a_problem_document(intake_stack, operations, fuzz_key, role):
    headers = {"Authorization": f"Bearer {fuzz_key}"} if role == "territory" else intake_stack.admin_headers
    calls = {label: fuzz(operation, headers) for label, operation in sorted(operations.items())}
    assert all(count > 0 for count in calls.values()), calls
