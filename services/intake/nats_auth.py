"""Territory NATS users for bus intake, on the embedded nats-server.

Each territory gets a user that may publish on `palabre.intake.<territory>` and nothing else, and may
only receive replies (JetStream acks) on its own inbox prefix `_INBOX.intake-<territory>` (so it cannot
read the replies meant for anyone else). Intake keeps the users in its table (bcrypt hashes only),
regenerates nats-server's users file from it (`PALABRE_NATS_AUTH_FILE`) and asks the server to reload
(SIGHUP to the pid in `PALABRE_NATS_PID_FILE`). On an external cluster these settings stay unset and this
is off: there, give territories NATS accounts or JWT users through the cluster's own tooling.
"""

import asyncio
import json
import os
import secrets
import signal
from pathlib import Path

from services.intake import store
from shared.bus import NatsAddress
from shared.events import ContributionProposed
from shared.logging import get_logger
from shared.settings import Settings

log = get_logger(__name__)


def enabled(settings: Settings) -> bool:
    return settings.nats_auth_file is not None and settings.nats_pid_file is not None


def territory_username(territory: str) -> str:
    return f"territory-{territory}"


def inbox_prefix(territory: str) -> str:
    """A hyphen never appears in the random inboxes NATS clients make, so no one else's falls under it."""
    return f"_INBOX.intake-{territory}"


def territory_user_entry(territory: str, password_hash: str) -> dict:
    return {
        "user": territory_username(territory),
        "password": password_hash,
        "permissions": {
            "publish": {"allow": [ContributionProposed.subject_for(territory)]},
            "subscribe": {"allow": [f"{inbox_prefix(territory)}.>"]},
        },
    }


def public_servers(settings: Settings) -> list[str]:
    """The servers a territory system connects to, without the service user's credentials."""
    return NatsAddress.parse(settings.nats_url).servers


def new_password() -> str:
    return secrets.token_urlsafe(32)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(hash_nats_password, password)


def credentials_answer(settings: Settings, territory: str, password: str) -> dict:
    """What a territory system needs to publish, shown once."""
    return {
        "user": territory_username(territory),
        "password": password,
        "subject": ContributionProposed.subject_for(territory),
        "inbox_prefix": inbox_prefix(territory),
        "servers": public_servers(settings),
        "event_type": ContributionProposed.event_type,
    }


def _service_user(settings: Settings) -> tuple[str, str]:
    address = NatsAddress.parse(settings.nats_url)
    if not address.user or not address.password:
        raise RuntimeError("PALABRE_NATS_URL carries no service user; cannot write the NATS users file")
    return address.user, address.password


async def _service_entry(settings: Settings) -> dict:
    """The service user's entry, keeping the hash already in the file when it still matches: a new salt
    would make the file differ, and the server reload for nothing."""
    user, password = _service_user(settings)
    for entry in read_nats_auth_file(settings.nats_auth_file) or []:
        if entry.get("user") == user and isinstance(entry.get("password"), str) and \
                await asyncio.to_thread(nats_password_matches, password, entry["password"]):
            return {"user": user, "password": entry["password"]}
    return {"user": user, "password": await hash_password(password)}


async def sync_users_file(pool, settings: Settings) -> bool:
    """Write the users file from intake's table and ask nats-server to reload it; False when off.

    Nothing is written, and the server is not asked to reload, when the file already holds these users:
    while nats-server reloads, it refuses the connections it is authenticating, so each start of intake
    reloading it would refuse the other services starting with it. Under an advisory lock, so replicas
    writing at the same time each write the whole, current set.
    """
    if not enabled(settings):
        return False
    service_entry = await _service_entry(settings)
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('intake-nats-users'))")
        users = [service_entry, *(territory_user_entry(row["territory"], row["password_hash"])
                                  for row in await store.active_nats_users(conn))]
        if users == read_nats_auth_file(settings.nats_auth_file):
            log.info("nats users file already current", territory_users=len(users) - 1)
            return True
        write_nats_auth_file(settings.nats_auth_file, users)
        reloaded = signal_nats_reload(settings.nats_pid_file)
    if not reloaded:
        log.warning("nats-server not signalled: no live pid in the pid file", pid_file=str(settings.nats_pid_file))
    log.info("nats users file written", territory_users=len(users) - 1, reloaded=reloaded)
    return reloaded


# nats-server's users file: written here, and first by the embedded server (palabre.embedded).


def hash_nats_password(password: str) -> str:
    """bcrypt, which nats-server checks itself: the users file never holds a password in clear."""
    import bcrypt

    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=10)).decode()


def nats_password_matches(password: str, password_hash: str) -> bool:
    import bcrypt

    try:
        return bcrypt.checkpw(password.encode(), password_hash.encode())
    except ValueError:  # not a bcrypt hash
        return False


_AUTH_FILE_START, _AUTH_FILE_END = "authorization { users = ", " }\n"


def read_nats_auth_file(path: Path) -> list[dict] | None:
    """The users in a file `write_nats_auth_file` wrote; None when there is none or it is not one of ours."""
    try:
        text = path.read_text()
    except OSError:
        return None
    if not (text.startswith(_AUTH_FILE_START) and text.endswith(_AUTH_FILE_END)):
        return None
    try:
        users = json.loads(text[len(_AUTH_FILE_START):-len(_AUTH_FILE_END)])
    except ValueError:
        return None
    return users if isinstance(users, list) else None


def write_nats_auth_file(path: Path, users: list[dict]) -> None:
    """Write nats-server's `authorization` block atomically (readers never see half a file), mode 0600."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(f"{_AUTH_FILE_START}{json.dumps(users, indent=1)}{_AUTH_FILE_END}")
    temporary.chmod(0o600)
    os.replace(temporary, path)


def signal_nats_reload(pid_file: Path) -> bool:
    """Ask the nats-server whose pid is in `pid_file` to reload its configuration (SIGHUP)."""
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGHUP)
    except (OSError, ValueError):
        return False
    return True
