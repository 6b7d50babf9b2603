"""`palabre import` waits as long as a 429 answer's Retry-After asks, then sends the chunk again; it gives
up after 20 refusals."""

import httpx

from services.intake import cli


def _client(answers: list[httpx.Response], seen: list[httpx.Request]) -> httpx.Client:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answers.pop(0) if len(answers) > 1 else answers[0]
    return httpx.Client(base_url="http://intake.test", transport=httpx.MockTransport(handle))


def test_a_rate_limited_chunk_is_sent_again_after_the_wait_asked():
    seen: list[httpx.Request] = []
    limited = httpx.Response(429, headers={"retry-after": "0"}, json={"title": "Too many requests"})
    done = httpx.Response(200, json={"accepted": 3, "duplicates": 0, "errors": [], "skipped": []})
    with _client([limited, limited, done], seen) as client:
        assert cli._post_import(client, "f.csv", b"a\n1\n", {"format": "csv"})["accepted"] == 3
    assert len(seen) == 3


def test_a_chunk_still_rate_limited_after_20_tries_is_given_up():
    seen: list[httpx.Request] = []
    with _client([httpx.Response(429, headers={"retry-after": "0"})], seen) as client:
        assert cli._post_import(client, "f.csv", b"a\n1\n", {"format": "csv"}) is None
    assert len(seen) == 20


def test_a_refused_chunk_is_not_sent_again():
    seen: list[httpx.Request] = []
    refused = httpx.Response(422, json={"title": "Unreadable file", "detail": "no header"})
    with _client([refused], seen) as client:
        assert cli._post_import(client, "f.csv", b"", {"format": "csv"}) is None
    assert len(seen) == 1
