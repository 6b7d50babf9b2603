"""Every service refuses an oversize body with a 413 problem before authenticating the caller and before
reading the body whole, and answers malformed JSON with a 400 problem."""

import json
import socket
from urllib.parse import urlsplit

import httpx
import pytest

# a POST route of each service, and its body limit in the test stack (the defaults)
ROUTES = {
    "intake": ("/v1/territories", 8 * 1024 * 1024),
    "moderation": ("/v1/moderators", 1024 * 1024),
    "synthesis": ("/v1/syntheses/recompute", 1024 * 1024),
    "notifications": ("/v1/partners", 1024 * 1024),
}
TAKING_JSON = ("intake", "moderation", "notifications")  # synthesis's only POST route takes no body


def raw_request(url: str, head: str, body_parts) -> tuple[int, dict, bytes]:
    """Send `head` then each part of `body_parts` until the server answers; returns its status, headers and
    body. A server that waits for the whole body before answering would make this block on the last part."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(head.encode())
        for part in body_parts:
            try:
                sock.sendall(part)
            except (BrokenPipeError, ConnectionResetError):
                break
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        head_bytes, _, rest = answer.partition(b"\r\n\r\n")
        lines = head_bytes.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers.get("content-length", "0"))
        while len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
        return int(lines[0].split()[1]), headers, rest


@pytest.mark.parametrize("service", list(ROUTES))
def test_a_body_announced_too_large_is_refused_before_it_is_sent_or_the_caller_known(stack, service):
    path, limit = ROUTES[service]
    url = stack.url(service)
    # 10 GB announced, only a few bytes sent, no credentials: the answer comes without the rest of the body
    head = (f"POST {path} HTTP/1.1\r\nHost: {urlsplit(url).netloc}\r\ncontent-type: application/json\r\n"
            f"content-length: {10 * 1024 ** 3}\r\n\r\n")
    status, headers, body = raw_request(url, head, [b'{"a": "'])
    assert status == 413, body
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == 413 and str(limit) in problem["detail"]


@pytest.mark.parametrize("service", TAKING_JSON)  # a route that reads no body answers before any is read
def test_a_chunked_body_is_refused_once_it_passes_the_limit(stack, service):
    path, limit = ROUTES[service]
    url = stack.url(service)
    head = (f"POST {path} HTTP/1.1\r\nHost: {urlsplit(url).netloc}\r\ncontent-type: application/json\r\n"
            "transfer-encoding: chunked\r\n\r\n")
    chunk = b"a" * 65536
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    # twice the limit, never terminated: a server reading the body whole would wait for its end forever
    parts = [framed] * (2 * limit // len(chunk))
    status, headers, body = raw_request(url, head, parts)
    assert status == 413, body
    assert headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("service", TAKING_JSON)
def test_malformed_json_is_a_400_problem(stack, service):
    path, _ = ROUTES[service]
    response = httpx.post(f"{stack.url(service)}{path}", content=b'{"id": "x", "name": ',
                          headers={**stack.admin_headers, "content-type": "application/json"}, timeout=30)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["title"] == "Malformed JSON"
