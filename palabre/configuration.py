"""docs/configuration.md, written from the settings classes themselves (`palabre docs configuration`);
a test fails when the file and the classes disagree."""

import json
from pathlib import Path

from pydantic_settings import BaseSettings

from palabre.registry import SERVICES
from shared.settings import Settings

DOCUMENT = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"

HEADER = """# Configuration

<!-- Generated from the settings classes by `palabre docs configuration`: edit the classes, not this file. -->

Every setting is read from an environment variable. `palabre up` sets the addresses of the embedded NATS
and PostgreSQL itself when `PALABRE_NATS_URL` and `PALABRE_DATABASE_URL` are unset; on a cluster they come
from the Deployment (`deploy/kubernetes/config.yaml` and the Secrets).
"""


def _default(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, (list, dict)):
        return f"`{json.dumps(value)}`"
    return f"`{value}`"


def _table(settings_class: type[BaseSettings]) -> list[str]:
    prefix = settings_class.model_config.get("env_prefix", "")
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    inherited = Settings.model_fields if settings_class is not Settings and issubclass(settings_class, Settings) else {}
    for name, field in settings_class.model_fields.items():
        if name in inherited:  # a service's settings extending the shared ones: listed once, above
            continue
        description = (field.description or "").replace("|", "\\|")
        default = field.default_factory() if field.default_factory else field.default
        rows.append(f"| `{(prefix + name).upper()}` | {_default(default)} | {description} |")
    return rows


def render() -> str:
    lines = [HEADER, "## Every service", "", f"From `{Settings.__module__}.{Settings.__name__}`.", "",
             *_table(Settings)]
    for service in SERVICES:
        settings_class = service.load_settings_class()
        if settings_class is None:
            continue
        lines += ["", f"## {service.name.capitalize()}", "",
                  f"From `{settings_class.__module__}.{settings_class.__name__}`.", "", *_table(settings_class)]
    return "\n".join(lines) + "\n"


def write(path: Path = DOCUMENT) -> Path:
    path.write_text(render())
    return path
