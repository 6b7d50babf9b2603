import pytest

from tests.integration.notifications.support import Mailbox


@pytest.fixture(scope="module")
def mailbox():
    """A real SMTP server (aiosmtpd) for the module's notifications processes."""
    mailbox = Mailbox().start()
    yield mailbox
    mailbox.stop()
