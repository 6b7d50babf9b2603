"""What a use case refuses reaches an HTTP client as an RFC 9457 problem, through one mapping; the routes
only the network admin may call share one check of its key."""

from types import SimpleNamespace
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from shared.errors import Conflict, Invalid, InvalidContent, NotFound
from shared.http import install_problem_handlers, network_admin

ADMIN_KEY = "adm_test-key"


def _client() -> TestClient:
    app = FastAPI()
    app.state.runtime = SimpleNamespace(settings=SimpleNamespace(admin_key=ADMIN_KEY))
    install_problem_handlers(app)
    refusals = {
        "missing": NotFound("Unknown territory", "no territory 'x'"),
        "exists": Conflict("Territory exists", "territory 'x' is already registered"),
        "outside": Invalid("Not an axis of this framework", "'z' is not an axis", allowed=["a", "b"]),
        "items": InvalidContent("Invalid contribution", "/axis: unknown", errors=[{"pointer": "/axis"}]),
    }

    @app.get("/refuse/{what}")
    async def refuse(what: str):
        raise refusals[what]

    @app.get("/admin")
    async def admin(who: Annotated[str, Depends(network_admin)]):
        return {"who": who}

    return TestClient(app)


@pytest.mark.parametrize(("what", "status", "problem_type"), [
    ("missing", 404, "about:blank"),
    ("exists", 409, "about:blank"),
    ("outside", 422, "about:blank"),
    ("items", 422, "https://palabre.org/problems/validation"),
])
def test_each_refusal_is_answered_as_its_problem(what: str, status: int, problem_type: str):
    response = _client().get(f"/refuse/{what}")
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status and body["type"] == problem_type
    assert body["instance"] == f"/refuse/{what}" and body["detail"]


def test_what_a_refusal_carries_for_the_caller_is_in_the_problem():
    assert _client().get("/refuse/outside").json()["allowed"] == ["a", "b"]
    assert _client().get("/refuse/items").json()["errors"] == [{"pointer": "/axis"}]


@pytest.mark.parametrize("authorization", [None, "Bearer wrong", f"Basic {ADMIN_KEY}", "Bearer "])
def test_an_admin_route_refuses_anything_but_the_admin_key(authorization: str | None):
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = _client().get("/admin", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_an_admin_route_takes_the_admin_key():
    response = _client().get("/admin", headers={"Authorization": f"Bearer {ADMIN_KEY}"})
    assert response.status_code == 200 and response.json() == {"who": "network-admin"}
