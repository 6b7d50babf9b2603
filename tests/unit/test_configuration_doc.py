"""docs/configuration.md is the settings classes written out: it changes when they do."""

import re
from pathlib import Path

from palabre.configuration import DOCUMENT, render
from palabre.registry import SERVICES
from shared.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def test_the_document_matches_the_settings_classes():
    assert DOCUMENT.read_text() == render(), "run `palabre docs configuration` and commit docs/configuration.md"


def test_every_service_settings_module_is_in_the_registry():
    registered = {service.name for service in SERVICES if service.settings_class}
    with_settings = {path.parent.name for path in (REPO / "services").glob("*/settings.py")}
    assert with_settings <= registered, "add the settings class to palabre/registry.py"


def test_every_variable_is_documented():
    documented = set(re.findall(r"`(PALABRE_[A-Z0-9_]+)`", DOCUMENT.read_text()))
    expected = {f"PALABRE_{name.upper()}" for name in Settings.model_fields}
    for service in SERVICES:
        if settings_class := service.load_settings_class():
            prefix = settings_class.model_config["env_prefix"]
            expected |= {(prefix + name).upper() for name in settings_class.model_fields}
    assert expected <= documented
