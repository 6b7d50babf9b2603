"""A whole Palabre on this machine, for the benchmark and the fault tests: nats-server (one, or a three-node
JetStream cluster), PostgreSQL, and the four services as processes — several replicas of a service if asked
— that can be killed (`kill -9`) and restarted, as can NATS and PostgreSQL."""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats
import psutil

from palabre.embedded import NatsServer, Postgres, ServiceProcess, free_port
from palabre.registry import SERVICE_NAMES, service
from shared.bus import NatsAddress
from shared.settings import port_variable

if "XDG_RUNTIME_DIR" not in os.environ:  # pgserver's platformdirs wants a private runtime dir
    _runtime_dir = Path(tempfile.gettempdir()) / f"palabre-runtime-{os.getuid()}"
    _runtime_dir.mkdir(mode=0o700, exist_ok=True)
    _owned = os.lstat(_runtime_dir)  # an existing directory is used only if it is ours and private
    if _runtime_dir.is_symlink() or _owned.st_uid != os.getuid() or _owned.st_mode & 0o077:
        raise RuntimeError(f"{_runtime_dir} is not a private directory of this user: set XDG_RUNTIME_DIR")
    os.environ["XDG_RUNTIME_DIR"] = str(_runtime_dir)


@dataclass(frozen=True)
class Durability:
    """What an acknowledged write survives, chosen on purpose (see docs/durability.md)."""

    name: str
    nats_sync_interval: str = "1s"  # JetStream fsync interval; "always" syncs every write before the ack
    stream_replicas: int = 1  # 3 needs a three-node cluster
    pg_synchronous_commit: str = "on"  # "off": a commit returns before its WAL is flushed

    @property
    def nodes(self) -> int:
        return 3 if self.stream_replicas > 1 else 1


DURABILITY_PROFILES = {
    profile.name: profile
    for profile in (
        Durability("default"),
        Durability("nats-fsync-always", nats_sync_interval="always"),
        Durability("pg-async-commit", pg_synchronous_commit="off"),
        Durability("r3-cluster", stream_replicas=3),
    )
}


INFRA_PARTS = ("nats", "postgresql")  # the parts of `Stack.pids_by_part` that are not services

class Stack:
    def __init__(self, root: Path, *, batch_size: int = 500, durability: Durability = DURABILITY_PROFILES["default"],
                 log_level: str = "INFO", ack_wait_s: float | None = None) -> None:
        self.root = root
        self.ack_wait_s = ack_wait_s  # the services' default (30 s) unless set: crash tests wait less
        self.admin_key = "adm_" + secrets.token_urlsafe(24)
        self.durability = durability
        self.batch_size = batch_size
        self.log_level = log_level
        if durability.nodes > 1:
            self.nats_nodes = NatsServer.make_cluster(root / "nats", durability.nodes,
                                                 sync_interval=durability.nats_sync_interval)
        else:
            self.nats_nodes = [NatsServer(root / "nats", port=free_port(), monitor_port=None,
                                          server_name=f"bench{free_port()}",
                                          sync_interval=durability.nats_sync_interval)]
        self.postgres: Postgres | None = None
        self.processes: dict[tuple[str, int], ServiceProcess] = {}
        self.ports = {name: free_port() for name in SERVICE_NAMES}

    # --- infrastructure -----------------------------------------------------------------------

    def start_infra(self) -> Stack:
        for node in self.nats_nodes:
            node.start()
        if len(self.nats_nodes) > 1:
            self._wait_for_jetstream_cluster()
        self.postgres = Postgres(self.root / "pg")
        if self.durability.pg_synchronous_commit != "on":
            self._pg_system("synchronous_commit", self.durability.pg_synchronous_commit)
        return self

    def _wait_for_jetstream_cluster(self, timeout: float = 90.0) -> None:
        """Until the servers have elected a meta leader, a replicated stream cannot be created: services
        started before would fail to declare theirs."""
        import asyncio

        from nats.js.api import StreamConfig

        async def probe() -> None:
            nc = await self.nats_connect()
            try:
                js = nc.jetstream(timeout=5)
                deadline = time.monotonic() + timeout
                while True:
                    try:
                        await js.add_stream(StreamConfig(name="CLUSTER_PROBE", subjects=["cluster.probe"],
                                                         num_replicas=len(self.nats_nodes)))
                        await js.delete_stream("CLUSTER_PROBE")
                        return
                    except Exception:  # noqa: BLE001 - no meta leader yet, or peers not known yet
                        if time.monotonic() > deadline:
                            raise
                        await asyncio.sleep(0.5)
            finally:
                await nc.close()

        asyncio.run(probe())

    def _pg_system(self, name: str, value: str) -> None:
        import asyncio

        async def apply() -> None:
            conn = await asyncpg.connect(self.database_url)
            try:
                await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
                await conn.execute("SELECT pg_reload_conf()")
            finally:
                await conn.close()

        asyncio.run(apply())

    @property
    def nats_url(self) -> str:
        return ",".join(node.url for node in self.nats_nodes)

    @property
    def database_url(self) -> str:
        assert self.postgres  # nosec B101 # bench/test helper, never run with -O
        return self.postgres.url

    def env(self, **extra: str) -> dict[str, str]:
        return {
            "PALABRE_NATS_URL": self.nats_url,
            "PALABRE_DATABASE_URL": self.database_url,
            "PALABRE_ADMIN_KEY": self.admin_key,
            "PALABRE_ALLOW_PRIVATE_WEBHOOKS": "true",
            "PALABRE_SECRET_KEY": "bench-secret-" + self.admin_key[-8:],
            "PALABRE_BATCH_SIZE": str(self.batch_size),
            "PALABRE_STREAM_REPLICAS": str(self.durability.stream_replicas),
            "PALABRE_VAR_DIR": str(self.root),
            "PALABRE_LOG_LEVEL": self.log_level,
            **({"PALABRE_ACK_WAIT_S": str(self.ack_wait_s)} if self.ack_wait_s else {}),
            **{port_variable(name): str(port) for name, port in self.ports.items()},
            **extra,
        }

    def start_service(self, name: str, replica: int = 0, *, wait: bool = True, **env: str) -> ServiceProcess:
        """Start (or restart) one process of a service; replica 0 serves the service's main port."""
        existing = self.processes.get((name, replica))
        port = existing.port if existing else (self.ports[name] if replica == 0 else free_port())
        suffix = "" if replica == 0 else f"-{replica}"
        process = ServiceProcess(name, port, self.env(**env), self.root / "logs" / f"{name}{suffix}.log",
                                 niceness=service(name).niceness)
        self.processes[(name, replica)] = process.start()
        if wait:
            process.wait_ready(timeout=180)  # start-up loads models and applies migrations: slow on a busy machine
        return process

    def start_all(self, replicas: dict[str, int] | None = None) -> Stack:
        started = [self.start_service(name, replica, wait=False)
                   for name in SERVICE_NAMES for replica in range((replicas or {}).get(name, 1))]
        for process in started:
            process.wait_ready(timeout=120)
        return self

    def kill(self, name: str, replica: int = 0) -> None:
        """`kill -9` one process of a service."""
        self.processes[(name, replica)].stop(kill=True)

    def restart_nats(self, node: int = 0, *, kill: bool = False) -> None:
        server = self.nats_nodes[node]
        server.stop(kill=kill)
        server.start()

    def restart_postgres(self, *, immediate: bool = True) -> None:
        assert self.postgres  # nosec B101 # bench/test helper, never run with -O
        url = self.postgres.url
        self.postgres.restart(immediate=immediate)
        assert self.postgres.url == url, "PostgreSQL came back on another socket"  # nosec B101 # bench/test helper, never run with -O

    def stop_postgres(self) -> None:
        """Stop PostgreSQL as a crash would and leave it down (`start_postgres` brings it back)."""
        assert self.postgres  # nosec B101 # bench/test helper, never run with -O
        from pgserver._commands import pg_ctl

        pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=self.postgres.directory,
               user=self.postgres.server.system_user)

    def start_postgres(self) -> None:
        """Start again a PostgreSQL that `stop_postgres` stopped, on the same socket."""
        self.restart_postgres(immediate=False)

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop()
        for node in self.nats_nodes:
            node.stop()
        if self.postgres:
            self.postgres.stop()

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def log(self, service: str, replica: int = 0) -> str:
        return self.processes[(service, replica)].log_path.read_text(errors="replace")

    def logs_text(self) -> str:
        return "\n".join(path.read_text(errors="replace") for path in sorted((self.root / "logs").glob("*.log")))

    # --- CPU accounting -----------------------------------------------------------------------

    def pids_by_part(self) -> dict[str, list[int]]:
        """Live pids grouped by what they run: each service (its replicas together), the processes a service
        started (`<service> workers`: moderation's name recognisers), NATS, PostgreSQL.

        Call it again at the end of a measurement: a worker started meanwhile is counted from its start."""
        parts: dict[str, list[int]] = {}
        for (service, _replica), p in self.processes.items():
            if p.process and p.process.poll() is None:
                parts.setdefault(service, []).append(p.process.pid)
                workers = _descendants(p.process.pid)
                if workers:
                    parts.setdefault(f"{service} workers", []).extend(workers)
        parts["nats"] = [node.process.pid for node in self.nats_nodes if node.process and node.process.poll() is None]
        parts["postgresql"] = self.postgres.pids() if self.postgres else []
        return parts

    # --- clients ------------------------------------------------------------------------------

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}

    def create_territory(self, slug: str, country: str = "FR", **fields: Any) -> str:
        body = {"id": slug, "name": slug.replace("-", " ").title(), "kind": "commune", "country": country, **fields}
        response = httpx.post(f"{self.url('intake')}/v1/territories", json=body, headers=self.admin_headers,
                              timeout=60)
        assert response.status_code == 201, response.text  # nosec B101 # bench/test helper, never run with -O
        return response.json()["api_key"]

    def create_partner(self, partner_id: str) -> str:
        response = httpx.post(f"{self.url('notifications')}/v1/partners", headers=self.admin_headers, timeout=60,
                              json={"id": partner_id, "name": partner_id.title()})
        assert response.status_code == 201, response.text  # nosec B101 # bench/test helper, never run with -O
        return response.json()["api_key"]

    def subscribe(self, partner_key: str, url: str, limits: dict[str, Any] | None = None,
                  **filters: list[str]) -> dict[str, Any]:
        response = httpx.post(f"{self.url('notifications')}/v1/subscriptions", timeout=60,
                              headers={"Authorization": f"Bearer {partner_key}"},
                              json={"url": url, "filters": filters, "limits": limits or {}})
        assert response.status_code == 201, response.text  # nosec B101 # bench/test helper, never run with -O
        return response.json()

    async def sql(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.database_url)
        try:
            return await conn.fetch(query, *args)
        finally:
            await conn.close()

    async def nats_connect(self, **options: Any) -> nats.NATS:
        options = {"connect_timeout": 10, "max_reconnect_attempts": -1, "reconnect_time_wait": 0.5, **options}
        return await nats.connect(**NatsAddress.parse(self.nats_url).connect_options(), **options)


def _descendants(pid: int) -> list[int]:
    try:
        return [child.pid for child in psutil.Process(pid).children(recursive=True)]
    except psutil.Error:  # the service ended meanwhile
        return []


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds of every live process of each part, at one moment."""

    own: dict[int, float]  # what the process spent itself (user + system)
    reaped: dict[int, float]  # what its children spent, once they ended and it waited for them
    part_of: dict[int, str]


def cpu_sample(parts: dict[str, list[int]]) -> CpuSample:
    own, reaped, part_of = {}, {}, {}
    for part, pids in parts.items():
        for pid in pids:
            try:
                times = psutil.Process(pid).cpu_times()
            except psutil.Error:  # ended meanwhile: counted through its parent (see `cpu_by_part`)
                continue
            own[pid] = times.user + times.system
            reaped[pid] = times.children_user + times.children_system
            part_of[pid] = part
    return CpuSample(own, reaped, part_of)


def cpu_by_part(before: CpuSample, after: CpuSample) -> dict[str, float]:
    """CPU seconds each part spent between two samples, processes that ended in between included.

    When a process ends, the kernel adds all it spent to its parent's `reaped` time once the parent waits
    for it: that growth is counted (to `<service> workers` for a service's children), and what the ended
    process had spent before the first sample is taken off, so only the window is counted. A process that
    both started and ended in the window is counted the same way, through its parent."""
    spent: dict[str, float] = {}
    for pid, seconds in after.own.items():
        part = after.part_of[pid]
        spent[part] = spent.get(part, 0.0) + seconds - before.own.get(pid, 0.0)
        children = f"{part} workers" if part in SERVICE_NAMES else part
        spent[children] = spent.get(children, 0.0) + after.reaped[pid] - before.reaped.get(pid, 0.0)
    for pid in before.own.keys() - after.own.keys():
        part = before.part_of[pid]
        spent[part] = spent.get(part, 0.0) - before.own[pid] - before.reaped[pid]
    return spent


def wait_until(probe, timeout: float, *, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")

