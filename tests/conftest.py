from pathlib import Path

import pytest

from tests.harness import Stack, WebhookReceiver

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def stack(tmp_path_factory) -> Stack:
    """One whole system for the flow tests (real NATS, real PostgreSQL, four service processes)."""
    stack = Stack(tmp_path_factory.mktemp("stack")).start_infra().start_all()
    yield stack
    stack.stop()


@pytest.fixture
def receiver() -> WebhookReceiver:
    receiver = WebhookReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture
def lille_data() -> Path:
    folder = SHARED_DATA / "decidim-lille-grand-debat"
    if not folder.exists():
        pytest.skip(f"the Lille Decidim exports are not here ({folder}): the optional ../shared kit is absent")
    return folder
