"""The library does not know its users: nothing in shared/ imports a service, the bench, the tests or the
composition root (palabre/); no service imports the composition root or the bench. Read from the source
(every `import` and `from ... import`, nested ones included), not from what happens to be loaded."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def forbidden_imports(package: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    offending = {}
    for path in sorted((REPO / package).rglob("*.py")):
        bad = sorted(name for name in imported_modules(path)
                     if name.split(".")[0] in forbidden)
        if bad:
            offending[str(path.relative_to(REPO))] = bad
    return offending


def test_the_analysis_sees_nested_imports(tmp_path):
    source = tmp_path / "module.py"
    source.write_text("import os\n\ndef later():\n    from services.intake import store\n    import bench.cli\n")
    assert imported_modules(source) == {"os", "services.intake", "bench.cli"}


def test_shared_imports_no_service_bench_or_composition_root():
    assert forbidden_imports("shared", ("services", "bench", "palabre", "tests")) == {}


def test_services_import_neither_the_composition_root_nor_the_bench():
    assert forbidden_imports("services", ("bench", "palabre", "tests")) == {}
