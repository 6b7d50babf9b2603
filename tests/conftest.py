import shutil
import tempfile
from pathlib import Path

import pytest

from tests.harness import Stack, WebhookReceiver

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


def pytest_configure(config) -> None:
    """Each session in a temporary root of its own. Under pytest's shared `pytest-of-<user>`, which every new
    session closes to everyone but its owner, the embedded PostgreSQL (run by its own system user when the
    tests run as root) lost access to its data directory whenever a second session started: initdb and
    crash recovery stopped on "pg_control: Permission denied"."""
    if config.option.basetemp is None and not hasattr(config, "workerinput"):
        config.option.basetemp = tempfile.mkdtemp(prefix="palabre-tests-")
        config.palabre_own_basetemp = True


def pytest_unconfigure(config) -> None:
    """The session's files are kept when something failed (the services' logs are there), else removed."""
    if getattr(config, "palabre_own_basetemp", False) and getattr(config, "palabre_passed", False):
        shutil.rmtree(config.option.basetemp, ignore_errors=True)


def pytest_sessionfinish(session, exitstatus) -> None:
    session.config.palabre_passed = exitstatus == 0


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
