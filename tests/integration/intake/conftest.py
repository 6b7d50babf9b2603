from pathlib import Path

import httpx
import pytest

from tests.harness import Stack

REPO = Path(__file__).resolve().parents[3]
LILLE = REPO.parent / "shared" / "data" / "decidim-lille-grand-debat"


@pytest.fixture(scope="package")
def intake_stack(tmp_path_factory) -> Stack:
    """Real NATS, real PostgreSQL and intake alone: imports and attacks here leave the shared stack's
    moderation and synthesis (and their counts) untouched."""
    stack = Stack(tmp_path_factory.mktemp("intake")).start_infra()
    stack.start_service("intake")
    yield stack
    stack.stop()


@pytest.fixture(scope="package")
def lille() -> Path:
    if not (LILLE / "propositions-libres.csv").is_file():
        pytest.skip(f"the Lille Decidim exports are not here ({LILLE}): the optional ../shared kit is absent")
    return LILLE


def post_import(stack: Stack, key: str, content: bytes, fmt: str, name: str = "export.csv",
                **form: str) -> httpx.Response:
    return httpx.post(f"{stack.url('intake')}/v1/imports", headers={"Authorization": f"Bearer {key}"},
                      files={"file": (name, content, "text/csv")}, data={"format": fmt, **form}, timeout=300)


async def count_rows(stack: Stack, territory: str) -> int:
    rows = await stack.sql("SELECT count(*) AS n FROM intake.contributions WHERE territory = $1", territory)
    return rows[0]["n"]

