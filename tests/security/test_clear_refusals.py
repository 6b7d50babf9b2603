"""Mistakes get a precise 4xx problem, never a 500 nor an empty 200 that hides them."""

import secrets

import httpx

from tests.harness import wait_for

PROBLEM = "application/problem+json"


def test_an_unknown_moderation_ground_is_a_422_naming_it(stack):
    response = httpx.post(f"{stack.url('moderation')}/v1/contributions/8c5f2b0e-3d59-4f0a-9b7e-2c1d4e5f6a70/decision",
                          json={"outcome": "rejected", "grounds": ["insult", "pas-un-motif"]},
                          headers=stack.admin_headers, timeout=30)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert [e["pointer"] for e in response.json()["errors"]] == ["/grounds/1"]


def test_an_unknown_territory_or_country_has_no_feed_and_no_open_data(stack):
    notifications = stack.url("notifications")
    place = f"inconnu-{secrets.token_hex(3)}"
    for path in (f"/feeds/territories/{place}.json", f"/feeds/territories/{place}.atom", "/feeds/countries/zz.json",
                 f"/v1/open-data/territories/{place}/contributions.csv",
                 f"/v1/open-data/territories/{place}/syntheses.json", "/v1/open-data/countries/zz/contributions.json"):
        response = httpx.get(notifications + path, timeout=30)
        assert response.status_code == 404, (path, response.text)
        assert response.headers["content-type"] == PROBLEM

    # a territory registered a moment ago, with nothing published yet, has an empty feed
    registered = f"neuve-{secrets.token_hex(3)}"
    stack.create_territory(registered, "CI")
    feed = wait_for(lambda: (r := httpx.get(f"{notifications}/feeds/territories/{registered}.json", timeout=30))
                    .status_code == 200 and r, 60, what="the new territory known to notifications")
    assert feed.json()["items"] == []
    assert httpx.get(f"{notifications}/feeds/countries/ci.json", timeout=30).status_code == 200
