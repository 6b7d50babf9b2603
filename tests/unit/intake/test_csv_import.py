from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.contribution import normalize_text
from services.intake.domain.csv_import import parse_csv
from services.intake.domain.parsing import author_token
from shared.csv_safety import safe_cell, write_csv
from shared.vocabulary import AuthorRole, Channel, Kind

COLUMNS = {
    "external_id": "ID",
    "body": "Texte",
    "title": "Titre",
    "kind": "Type",
    "author_role": "Rôle",
    "channel": "Canal",
    "submitted_at": "Date",
}
HEADER = "ID;Texte;Titre;Type;Rôle;Canal;Date\n"
SIMPLE = {"external_id": "ID", "body": "Texte"}


def parse(text, **kwargs):
    data = text.encode() if isinstance(text, str) else text
    return parse_csv(data, columns=kwargs.pop("columns", COLUMNS), detect_language=kwargs.pop("detect", False), **kwargs)


def test_mapped_columns_and_french_labels():
    text = HEADER + (
        "a1;Garder un humain dans la boucle;Contrôle;Point de vigilance;Élu·e;Atelier;2024-09-18T10:00:00+02:00\n"
        "a2;Former les agents;;PROPOSITION;agente publique;Réunion publique;2024-09-18T10:00:00Z\n"
        "a3;Des attentes;;attentes;Société civile;en-ligne;\n"
        "a4;Rien de plus;;;;;\n"
    )
    result = parse(text)
    assert result.errors == [] and result.file_error is None
    a1, a2, a3, a4 = result.contributions
    assert (a1.kind, a1.author_role, a1.channel) == (Kind.VIGILANCE, AuthorRole.ELU, Channel.ATELIER)
    assert (a2.kind, a2.author_role, a2.channel) == (Kind.PROPOSITION, AuthorRole.AGENT, Channel.REUNION_PUBLIQUE)
    assert (a3.kind, a3.author_role, a3.channel) == (Kind.ATTENTE, AuthorRole.SOCIETE_CIVILE, Channel.EN_LIGNE)
    assert (a4.kind, a4.author_role, a4.channel, a4.submitted_at) == (None, None, None, None)
    assert a1.title == "Contrôle" and a2.title is None
    assert a1.submitted_at == datetime(2024, 9, 18, 8, tzinfo=UTC)


def test_header_names_match_regardless_of_case_and_accents():
    result = parse("id;TEXTE\n1;corps\n", columns={"external_id": "Id", "body": "texte"})
    assert result.contributions[0].body == "corps"


def test_unknown_label_is_a_row_error_naming_the_column():
    result = parse(HEADER + "a1;texte;;Idée;;;\n")
    assert result.errors == [(2, "kind (column 'Type'): 'Idée' is not a known value (attente, vigilance, proposition)")]


def test_value_maps_extend_the_labels():
    result = parse(HEADER + "a1;texte;;Idée;;;\n", value_maps={"kind": {"idée": "proposition"}})
    assert result.contributions[0].kind is Kind.PROPOSITION


def test_defaults_fill_fields_the_file_lacks():
    result = parse("ID;Texte\n1;x\n", columns={"external_id": "ID", "body": "Texte"},
                   defaults={"channel": "atelier", "consultation": "nantes-2024"})
    c = result.contributions[0]
    assert c.channel is Channel.ATELIER and c.consultation == "nantes-2024"


def test_naive_dates_need_the_territory_time_zone():
    text = HEADER + "a1;x;;;;;18/09/2024 14:30\na2;y;;;;;2024-09-18 14:30\n"
    refused = parse(text)
    assert [e[0] for e in refused.errors] == [2, 3]
    assert "no time zone offset" in refused.errors[0][1]
    montreal = parse(text, default_timezone="America/Montreal").contributions
    assert [c.submitted_at for c in montreal] == [datetime(2024, 9, 18, 18, 30, tzinfo=UTC)] * 2
    with pytest.raises(ValueError, match="unknown time zone"):
        parse(text, default_timezone="Mars/Olympus")


def test_formula_in_input_is_kept_as_plain_text_and_escaped_on_export():
    payload = "=cmd|' /C calc'!A0"
    result = parse(f"ID;Texte\n1;{payload}\n2;\"@SUM(1+1)*cmd|' /C calc'!A0\"\n",
                   columns={"external_id": "ID", "body": "Texte"})
    first, second = result.contributions
    assert first.body == payload
    assert second.body.startswith("@SUM")
    assert safe_cell(first.body) == "'" + payload


def test_our_own_escaped_export_reads_back_unescaped():
    exported = write_csv([{"ID": "1", "Texte": "-moins de voitures"}], ["ID", "Texte"])
    assert "'-moins" in exported
    result = parse(exported, columns={"external_id": "ID", "body": "Texte"})
    assert result.contributions[0].body == "-moins de voitures"


def test_broken_quoting_is_reported_per_row():
    text = "ID;Texte\n1;\"ok\"\n2;\"fermé\" trop tôt\n3;\"ok \"\"cité\"\"\"\n4;\"jamais fermé\n5;suite\n"
    result = parse(text, columns={"external_id": "ID", "body": "Texte"})
    assert [r.row_number for r in result.rows] == [2, 3, 4, 5, 6]
    assert [c.body for c in result.contributions] == ["ok", 'ok "cité"', "suite"]
    assert "broken quoting" in result.rows[1].error and "';'" in result.rows[1].error
    assert "never closed" in result.rows[3].error


def test_author_column_is_hashed_when_a_key_is_given():
    key = b"csv-key-that-is-long-enough-32b!"
    columns = {"external_id": "ID", "body": "Texte", "author_ref": "Auteur"}
    result = parse("ID;Texte;Auteur\n1;x;Marie Curie\n2;y;\n", columns=columns, author_key=key)
    first, second = result.contributions
    assert first.author_ref == author_token(key, "csv", "Marie Curie") and "Marie" not in first.author_ref
    assert second.author_ref is None
    raw = parse("ID;Texte;Auteur\n1;x;ref-42\n", columns=columns)
    assert raw.contributions[0].author_ref == "ref-42"


def test_missing_column_is_a_file_error_listing_the_header():
    result = parse("ID;Body\n1;x\n")
    assert result.rows == []
    assert result.file_error.startswith("row 1: column 'Texte' (for body) is not in the header; the header has: ID, Body")


def test_ambiguous_column_is_a_file_error():
    result = parse("ID;Texte;texte\n1;x;y\n", columns={"external_id": "ID", "body": "TEXTE"})
    assert "matches several columns" in result.file_error


def test_argument_mistakes_raise():
    with pytest.raises(ValueError, match="unknown contribution field"):
        parse("a\n", columns={"external_id": "a", "body": "b", "texte": "c"})
    with pytest.raises(ValueError, match="which column holds 'body'"):
        parse("a\n", columns={"external_id": "a"})
    with pytest.raises(ValueError, match="not one of"):
        parse("a\n", value_maps={"kind": {"idée": "idea"}})
    with pytest.raises(ValueError, match="only kind, author_role, channel"):
        parse("a\n", value_maps={"axis": {"x": "y"}})


def test_tab_separated_and_explicit_delimiter():
    columns = {"external_id": "ID", "body": "Texte"}
    assert parse("ID\tTexte\n1\tun; deux, trois\n", columns=columns).contributions[0].body == "un; deux, trois"
    assert parse("ID|Texte\n1|x\n", columns=columns, delimiter="|").contributions[0].body == "x"


def test_oversize_and_empty_bodies_with_row_numbers():
    text = "ID;Texte\n1;\"multi\nligne\"\n2;" + "x" * 20_001 + "\n3;   \n"
    result = parse(text, columns={"external_id": "ID", "body": "Texte"})
    assert result.errors == [
        (3, "body (column 'Texte'): String should have at most 20000 characters [record starts on line 4 of the file]"),
        (4, "body (column 'Texte'): must not be empty (once whitespace and control characters are removed)"
            " [record starts on line 5 of the file]"),
    ]


def test_stray_nul_is_removed_dense_nul_refused():
    text = "ID;Texte\n1;" + "un texte assez long " * 10 + "\x00fin\n"
    result = parse(text, columns=SIMPLE)
    assert result.contributions[0].body.endswith("long fin")
    assert "1 NUL characters removed" in result.notes
    assert "NUL" in parse("ID;Texte\n1;\x00\x00\n", columns=SIMPLE).file_error
    assert "NUL" in parse("ID\x00;Texte\n1;" + "x" * 500 + "\n", columns=SIMPLE).file_error


def test_language_is_detected_only_when_absent():
    columns = {"external_id": "ID", "body": "Texte", "language": "Langue"}
    text = ("ID;Texte;Langue\n1;We need clear rules on how algorithms are used in public services.;\n"
            "2;Texte court;fr-CA\n")
    result = parse(text, columns=columns, detect=True)
    assert [c.language for c in result.contributions] == ["en", "fr-CA"]
    assert "language detected for 1 rows" in result.notes


# --- properties ----------------------------------------------------------------------------------------


@given(st.binary(max_size=400))
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_never_raises_on_arbitrary_bytes(data):
    result = parse_csv(data, columns=SIMPLE, detect_language=False)
    for row in result.rows:
        assert (row.contribution is None) != (row.error is None)


@given(st.text(alphabet=st.sampled_from(list(';,"\n\r\'=+-@ ab1é\t')), max_size=300))
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_never_raises_on_csv_like_text(text):
    result = parse_csv(("ID;Texte\n" + text).encode(), columns=SIMPLE, detect_language=False)
    assert result.file_error is None
    numbers = [r.row_number for r in result.rows]
    assert numbers == sorted(set(numbers))
    for row in result.rows:
        assert (row.contribution is None) != (row.error is None)


# NUL aside: a file dense in NULs is refused as binary (see test_stray_nul_is_removed_dense_nul_refused)
TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=80)
KINDS = st.sampled_from([None, *Kind])
ROLES = st.sampled_from([None, *AuthorRole])
CHANNELS = st.sampled_from([None, *Channel])
DATES = st.none() | st.datetimes(timezones=st.just(UTC))


@given(
    st.lists(st.tuples(TEXT, TEXT, KINDS, ROLES, CHANNELS, DATES), min_size=1, max_size=10),
    st.sampled_from([",", ";", "\t"]),
)
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
def test_round_trip_of_generated_rows(rows, delimiter):
    """Valid rows exported with write_csv import back as the same contributions."""
    records = [
        {"ID": f"r{i}", "Texte": body, "Titre": title, "Type": kind, "Rôle": role, "Canal": channel, "Date": when}
        for i, (body, title, kind, role, channel, when) in enumerate(rows)
    ]
    text = write_csv(records, ["ID", "Texte", "Titre", "Type", "Rôle", "Canal", "Date"], delimiter=delimiter)
    result = parse(text.encode(), delimiter=delimiter)
    assert result.file_error is None
    got = {r.contribution.external_id: r for r in result.rows if r.contribution}
    for i, (body, title, kind, role, channel, when) in enumerate(rows):
        if not normalize_text(body) or len(normalize_text(title)) > 300:
            continue
        c = got[f"r{i}"].contribution
        assert c.body == normalize_text(body)
        assert c.title == (normalize_text(title) or None)
        assert (c.kind, c.author_role, c.channel, c.submitted_at) == (kind, role, channel, when)
