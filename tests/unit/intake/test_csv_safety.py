import csv
import io
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from shared.csv_safety import needs_escape, safe_cell, unescape_cell, write_csv
from shared.vocabulary import Kind


@pytest.mark.parametrize(
    "payload",
    [
        "=cmd|' /C calc'!A0",
        "=HYPERLINK(\"http://evil.example\",\"clic\")",
        "+1+1",
        "-2+3",
        "@SUM(A1:A2)",
        "\t=1",
        "\r=1",
        "   =1+1",
        " @x",
    ],
)
def test_formula_starts_are_prefixed(payload):
    assert safe_cell(payload) == "'" + payload


@pytest.mark.parametrize("text", ["Bonjour", "a=b", "mail@example.org", "5-3", "", "' déjà", "l'État"])
def test_ordinary_text_is_unchanged(text):
    assert safe_cell(text) == text


def test_already_escaped_value_is_escaped_again_so_the_escape_stays_reversible():
    assert safe_cell("'=1") == "''=1"
    assert unescape_cell(safe_cell("'=1")) == "'=1"


def test_non_strings():
    assert safe_cell(None) == ""
    assert safe_cell(-5) == "-5"  # a number is not a formula
    assert safe_cell(-1.5) == "-1.5"
    assert safe_cell(True) == "true"
    assert safe_cell(Kind.VIGILANCE) == "vigilance"
    assert safe_cell(datetime(2024, 9, 18, 12, 0, tzinfo=UTC)) == "2024-09-18T12:00:00+00:00"


@given(st.text())
@settings(max_examples=300)
def test_escape_round_trip_and_no_formula_survives(value):
    cell = safe_cell(value)
    assert unescape_cell(cell) == value
    assert not cell.lstrip(" ").startswith(("=", "+", "-", "@", "\t", "\r"))


def test_write_csv_quotes_and_escapes():
    rows = [
        {"id": "1", "body": "=cmd|' /C calc'!A0", "title": 'dit "oui"; puis, non'},
        {"id": "2", "body": "ligne 1\nligne 2", "extra": "ignored"},
    ]
    text = write_csv(rows, ["id", "body", "title"])
    assert text.startswith("id,body,title\r\n")
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert parsed == [
        ["id", "body", "title"],
        ["1", "'=cmd|' /C calc'!A0", 'dit "oui"; puis, non'],
        ["2", "ligne 1\nligne 2", ""],
    ]


def test_write_csv_escapes_the_header_and_takes_a_separator():
    text = write_csv([{"-x": "a;b"}], ["-x"], delimiter=";")
    assert text == "'-x\r\n\"a;b\"\r\n"


@given(st.lists(st.dictionaries(st.sampled_from(["a", "b"]), st.text(), max_size=2), max_size=5))
@settings(max_examples=100)
def test_write_csv_reads_back(rows):
    text = write_csv(rows, ["a", "b"])
    parsed = list(csv.reader(io.StringIO(text, newline="")))
    assert len(parsed) == len(rows) + 1
    for row, cells in zip(rows, parsed[1:]):
        assert [unescape_cell(c) for c in cells] == [row.get("a", ""), row.get("b", "")]
        assert not any(needs_escape(c) and not c.startswith("'") for c in cells)
