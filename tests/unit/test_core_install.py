"""What the extras hold is not needed to run a service: with the packages of `embedded`, `pdf` and `test`
(and those no longer depended on) made unimportable, the `palabre` command and every service's app still
load (a container installs palabre[pdf] only, and no embedded server)."""

import subprocess
import sys

from palabre.registry import SERVICES

EXTRAS_ONLY = ("pgserver", "psutil", "weasyprint", "feedparser", "aiosmtpd", "pytest",
               "alembic", "sqlalchemy", "psycopg", "itsdangerous")


def test_the_command_and_every_service_load_without_the_extras():
    blocked = "; ".join(f"sys.modules[{name!r}] = None" for name in EXTRAS_ONLY)
    apps = "; ".join(f"importlib.import_module({s.app_module!r})" for s in SERVICES)
    probe = f"import importlib, sys; {blocked}; import palabre.cli; {apps}; print('loaded')"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=240,
                            env={"PALABRE_NATS_URL": "nats://127.0.0.1:4222", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("loaded")


def test_blocking_a_package_does_make_it_unimportable():
    probe = "import sys; sys.modules['psutil'] = None; import psutil"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "ModuleNotFoundError" in result.stderr
