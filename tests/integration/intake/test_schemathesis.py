"""Intake attacked on purpose: schemathesis generates requests (valid and invalid) from intake's own
OpenAPI document and sends them to the running service. Whatever it sends, the answer is never a 5xx, and
every error is an RFC 9457 problem document."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def operations(intake_stack) -> dict:
    schema = schemathesis.openapi.from_url(f"{intake_stack.url('intake')}/openapi.json")
    found = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        found[operation.label] = operation
    assert "POST /v1/contributions" in found and "POST /v1/imports" in found
    return found


@pytest.fixture(scope="module")
def fuzz_key(intake_stack) -> str:
    return intake_stack.create_territory("fuzz-territory")


def check(response) -> None:
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    if response.status_code >= 400:
        content_type = response.headers.get("content-type") or [""]  # schemathesis: a list per header
        assert content_type[0].startswith(PROBLEM), (response.status_code, response.headers)
        problem = response.json()
        assert problem["status"] == response.status_code and problem["title"]


def fuzz(operation, headers: dict[str, str], max_examples: int = 25) -> int:
    calls = 0
    strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE) | operation.as_strategy(
        generation_mode=GenerationMode.NEGATIVE)

    @given(case=strategy)
    @settings(max_examples=max_examples, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case) -> None:
        nonlocal calls
        calls += 1
        check(case.call(headers=headers, timeout=60))

    run()
    return calls


@pytest.mark.parametrize("role", ["territory", "admin"])
def test_no_5xx_and_every_error_a_problem_document(intake_stack, operations, fuzz_key, role):
    headers = {"Authorization": f"Bearer {fuzz_key}"} if role == "territory" else intake_stack.admin_headers
    calls = {label: fuzz(operation, headers) for label, operation in sorted(operations.items())}
    assert all(count > 0 for count in calls.values()), calls
