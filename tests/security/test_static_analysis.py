"""Static analysis stays clean: bandit over the code that runs (services, shared, bench) finds nothing of
medium or high severity that is not marked, on its line, with the id of the check it answers and why
(`# nosec B608 # ...`). A bare `# nosec` would silence every check on its line, so none is allowed.
The findings and their justifications are listed in docs/security.md."""

import importlib.util
import json
import re
import subprocess  # nosec B404 # fixed argv, no shell
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TARGETS = ("palabre", "services", "shared", "bench")
BARE_NOSEC = re.compile(r"#\s*nosec\b(?!:?\s*B\d{3})")


def bandit(*options: str) -> dict:
    if importlib.util.find_spec("bandit") is None:
        pytest.fail("bandit is not installed: `pip install -e '.[security]'` (make install does it)")
    run = subprocess.run(  # nosec B603 # fixed argv, no shell
        [sys.executable, "-m", "bandit", "-r", *TARGETS, "-f", "json", "-q", *options],
        check=False, cwd=REPO, capture_output=True, text=True, timeout=120,
    )
    assert run.returncode in (0, 1), run.stderr  # 1: findings were reported
    return json.loads(run.stdout)


def test_bandit_finds_nothing_of_medium_or_high_severity():
    report = bandit("--severity-level", "medium")
    assert report["errors"] == [], f"bandit could not read some files: {report['errors']}"
    findings = [f"{r['filename']}:{r['line_number']} {r['test_id']} ({r['issue_severity'].lower()}): "
                f"{r['issue_text']}" for r in report["results"]]
    assert not findings, "fix these, or mark the line `# nosec BXXX # why` when it is not a problem:\n" + \
        "\n".join(findings)


def test_every_nosec_names_the_check_it_answers():
    bare = [f"{path.relative_to(REPO)}:{number}: {line.strip()}"
            for target in TARGETS for path in sorted((REPO / target).rglob("*.py"))
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if BARE_NOSEC.search(line)]
    assert not bare, "a bare `# nosec` silences every check on its line; name the check:\n" + "\n".join(bare)
