"""The contract fuzzer's shared part: schemathesis generates requests (valid and invalid) from a service's
own OpenAPI document and sends them to the running service; no answer may be a 5xx, and every error of
the JSON API is an RFC 9457 problem document."""

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

PROBLEM = "application/problem+json"


def operations_of(base_url: str) -> dict:
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    return {operation.label: operation for operation in (result.ok() for result in schema.get_all_operations())}


def check(response) -> None:
    assert response.status_code < 500, f"{response.status_code}: {response.text[:500]}"
    if response.status_code >= 400 and response.request.path_url.startswith("/v1/"):
        content_type = response.headers.get("content-type") or [""]  # schemathesis: a list per header
        assert content_type[0].startswith(PROBLEM), (response.status_code, response.headers)
        problem = response.json()
        assert problem["status"] == response.status_code and problem["title"]


def fuzz(operation, headers: dict[str, str], max_examples: int = 25) -> int:
    """Sends `max_examples` generated requests (positive and negative) to one operation; returns how many."""
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
