"""The contract fuzzer over moderation, synthesis and notifications (intake has its own, on a stack of its
own: tests/integration/intake/test_schemathesis.py): every operation of each service's OpenAPI document,
with the credentials that open it, and without any. Never a 5xx; every JSON API error a problem."""

import base64
import secrets

import pytest

from tests.fuzzing import fuzz, operations_of
from tests.security.support import PASSWORD, create_moderator

SERVICES = ["moderation", "synthesis", "notifications"]


@pytest.fixture(scope="module")
def credentials(stack) -> dict[str, dict[str, str]]:
    suffix = secrets.token_hex(3)
    territory = f"fuzz-{suffix}"
    stack.create_territory(territory)
    login = create_moderator(stack, f"fuzz-{suffix}", territory)
    partner_key = stack.create_partner(f"fuzz-{suffix}")
    basic = base64.b64encode(f"{login}:{PASSWORD}".encode()).decode()
    return {
        "admin": stack.admin_headers,
        "anonymous": {},
        "moderator": {"Authorization": f"Basic {basic}"},
        "partner": {"Authorization": f"Bearer {partner_key}"},
    }


ROLES = {"moderation": ["admin", "moderator"], "synthesis": ["admin", "anonymous"],
         "notifications": ["admin", "partner", "anonymous"]}


@pytest.mark.parametrize(("service", "role"), [(s, r) for s in SERVICES for r in ROLES[s]])
def test_no_5xx_and_every_error_a_problem_document(stack, credentials, service, role):
    operations = operations_of(stack.url(service))
    assert operations, f"{service} documents no operation"
    examples = 6 if role == "anonymous" else 12
    calls = {label: fuzz(operation, credentials[role], examples) for label, operation in sorted(operations.items())}
    assert all(count > 0 for count in calls.values()), calls
