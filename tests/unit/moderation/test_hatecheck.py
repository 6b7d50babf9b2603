from collections import defaultdict

import pytest
from typer.testing import CliRunner

from services.moderation import hatecheck
from services.moderation.cli import app
from services.moderation.evaluation import evaluate_hatecheck
from services.moderation.hatecheck import HateCheckCase, split_part

needs_hatecheck = pytest.mark.skipif(
    not hatecheck.available(),
    reason=f"Multilingual HateCheck not found at {hatecheck.default_dir()} (../shared is absent in a user's own clone)",
)


def test_the_split_depends_on_language_and_template_root_only():
    assert split_part("fr", "12") == split_part("fr", "12")
    sides = {split_part("fr", str(root)) for root in range(40)}
    assert sides == {"tuning", "report"}


@needs_hatecheck
def test_every_template_lies_on_one_side_and_both_sides_test_every_functionality():
    cases = hatecheck.load()
    sides_of_root = defaultdict(set)
    for case in cases:
        sides_of_root[(case.language, case.template_root)].add(case.part)
    assert all(len(sides) == 1 for sides in sides_of_root.values())
    for part in ("tuning", "report"):
        assert len({c.functionality for c in cases if c.part == part}) == 27, part
    report = hatecheck.load(part="report")
    assert 0.4 < len(report) / len(cases) < 0.6
    assert {c.part for c in report} == {"report"}


def _case(id_, text, functionality, hateful):
    return HateCheckCase(id=id_, language="fr", functionality=functionality, text=text, hateful=hateful,
                         target="x", template_root="1", part="report")


def test_hatecheck_figures_count_hateful_published_and_non_hateful_published_as_written():
    cases = [
        _case("1", "Espèce de connard.", "slur_h", True),
        _case("2", "Le marché du samedi est très agréable.", "threat_dir_h", True),
        _case("3", "Le marché du samedi est très agréable.", "ident_neutral_nh", False),
        _case("4", "Écrivez à jean.dupont@example.org pour le marché.", "ident_neutral_nh", False),
    ]
    report = evaluate_hatecheck(cases)
    (french,) = report.by_language
    assert (french.hateful, french.hateful_published) == (2, 1)
    assert (french.direct_threats, french.direct_threats_published) == (1, 1)
    # A redacted text is not published as written.
    assert (french.non_hateful, french.non_hateful_published) == (2, 1)


@needs_hatecheck
def test_cli_evaluate_reports_the_held_out_part_per_functionality():
    result = CliRunner().invoke(app, ["evaluate", "--cases", "/dev/null"])
    assert result.exit_code == 0, result.output
    assert "report part" in result.output
    assert "threat_dir_h" in result.output and "counter_quote_nh" in result.output
