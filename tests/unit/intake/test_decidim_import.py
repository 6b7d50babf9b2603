import csv
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.contribution import normalize_text
from services.intake.domain.decidim import parse_decidim
from services.intake.domain.parsing import author_token
from shared.csv_safety import write_csv
from shared.vocabulary import Channel, Kind

LILLE_AXES = {
    "Impôts, dépenses, action publique": "fiscalite",
    "Transition écologique": "transition-ecologique",
    # the file writes l’Etat with a typographic apostrophe: matching must not care
    "Organisation de l'Etat et des collectivités publiques": "organisation-etat",
    "Démocratie et citoyenneté": "democratie",
    "Autre sujet": "autre",
}


def parse(text, key, **kwargs):
    """Small exports here have no url column: they name their instance, as an import must for them."""
    data = text.encode() if isinstance(text, str) else text
    kwargs.setdefault("source", "decidim.test")
    return parse_decidim(data, category_to_axis=kwargs.pop("category_to_axis", None), author_key=key, **kwargs)


def only_rows(result):
    assert result.file_error is None, result.file_error
    return result.rows


def read_source(path):
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter=";"))


# --- the real Lille exports -----------------------------------------------------------------------------


def test_real_proposals_all_rows_with_their_categories(lille, author_key):
    result = parse((lille / "propositions-libres.csv").read_bytes(), author_key, category_to_axis=LILLE_AXES)
    rows = only_rows(result)
    source = read_source(lille / "propositions-libres.csv")
    assert len(rows) == 196 and result.errors == [] and result.skipped == []
    assert [r.row_number for r in rows] == list(range(2, 198))
    contributions = result.contributions
    assert [c.external_id for c in contributions] == [s["url"].removeprefix("http://") for s in source]
    assert all(c.external_id.endswith(f"/proposals/{s['id']}") for c, s in zip(contributions, source))
    assert sum(c.axis is not None for c in contributions) == 162
    for c, s in zip(contributions, source):
        expected = LILLE_AXES.get(s["category/name/fr"].replace("’", "'"))
        assert c.axis == expected
        assert c.kind is Kind.PROPOSITION and c.channel is Channel.EN_LIGNE
        assert c.title == normalize_text(s["title"])
        assert c.body == normalize_text(s["body"])
        assert c.submitted_at.utcoffset() == timedelta(hours=1)
        assert c.language == "fr"


def test_real_proposals_without_mapping_have_no_axis_and_say_so(lille, author_key):
    result = parse((lille / "propositions-libres.csv").read_bytes(), author_key)
    assert all(c.axis is None for c in result.contributions)
    note = next(n for n in result.notes if n.startswith("categories with no axis"))
    assert "'Impôts, dépenses, action publique' (67)" in note


def test_real_comments_never_carry_author_names(lille, author_key):
    result = parse((lille / "commentaires_debats.csv").read_bytes(), author_key)
    rows = only_rows(result)
    source = read_source(lille / "commentaires_debats.csv")
    assert len(rows) == 693 and result.errors == []
    names = {s["author/name"].strip() for s in source if s["author/name"].strip()}
    assert len(names) > 100
    for c, s in zip(result.contributions, source):
        assert c.external_id == f"participation.lillemetropole.fr/comments/{s['id']}"
        assert c.kind is None
        assert c.author_ref == author_token(author_key, "decidim", s["author/id"])
        assert re.fullmatch(r"[0-9a-f]{32}", c.author_ref)
        # the text is the author's own, unchanged: nothing of the author columns is added to it
        assert c.body == normalize_text(s["body"])
        for field, value in c.model_dump(mode="json", exclude={"body", "author_ref"}).items():
            if isinstance(value, str):
                assert value not in names, (field, value)
                assert not any(name in value for name in names if len(name) >= 4), (field, value)
        assert not any(f" {name} " in f" {c.body} " for name in names if name not in s["body"])


def test_same_author_same_token_other_key_other_token(lille, author_key):
    data = (lille / "commentaires_debats.csv").read_bytes()
    first = parse(data, author_key).contributions
    other = parse(data, b"another-secret-key-of-32-bytes!!", detect_language=False).contributions
    assert [c.author_ref for c in first] == [c.author_ref for c in parse(data, author_key).contributions]
    assert not {c.author_ref for c in first} & {c.author_ref for c in other}


# --- other Decidim versions ------------------------------------------------------------------------------

V027_PROPOSALS = (
    "id,category/id,category/name/fr,category/name/en,title/fr,title/en,body/fr,body/en,"
    "published_at,author/id,author/name,hidden,withdrawn\n"
    '12,7,Transition écologique,Ecological transition,Des arbres,Trees,'
    '"<p>Planter des arbres <strong>partout</strong>.</p><p>Et les arroser &amp; les soigner.</p>",,'
    "2023-03-01T10:00:00+01:00,55,Jeanne Martin,false,false\n"
    "13,,,,,Bus,,\"<p>More buses</p><ul><li>at night</li><li>on Sundays</li></ul>\","
    "2023-03-02T10:00:00+01:00,56,John Smith,false,false\n"
    "14,7,Transition écologique,,Caché,,Contenu modéré,,2023-03-03T10:00:00+01:00,57,X,true,false\n"
    "15,,,,'=1+1,,'-Moins de voitures,,2023-03-04T10:00:00+01:00,58,Y,false,true\n"
    "16,,,,'@titre,,'+ plus de vélos,,2023-03-05T10:00:00+01:00,59,Z,false,false\n"
)


def test_decidim_027_proposals_comma_locales_html_hidden(author_key):
    result = parse(V027_PROPOSALS, author_key, category_to_axis={"transition ecologique": "sobriete"})
    rows = only_rows(result)
    assert [r.row_number for r in rows] == [2, 3, 6]
    assert result.skipped == [(4, "hidden in Decidim (moderated)"), (5, "withdrawn by its author in Decidim")]
    trees, buses, bikes = result.contributions
    assert trees.external_id == "decidim.test/proposals/12" and trees.axis == "sobriete" and trees.language == "fr"
    assert trees.title == "Des arbres"
    assert trees.body == "Planter des arbres partout.\n\nEt les arroser & les soigner."
    assert trees.submitted_at == datetime(2023, 3, 1, 9, tzinfo=UTC)
    assert buses.language == "en" and buses.title == "Bus"
    assert buses.body == "More buses\n\n- at night\n- on Sundays"
    assert bikes.title == "@titre" and bikes.body == "+ plus de vélos"  # Decidim's formula escape undone
    assert "Jeanne" not in repr(result) and "Smith" not in repr(result)


V028_COMMENTS = (
    "id,created_at,body/fr,body/machine_translations/en,locale,author_id,author/name,alignment,depth,"
    "commentable_id,commentable_type,hidden\n"
    "515,2024-05-02 09:00:00 +0200,D'accord avec la proposition,Agree,fr,9,Alice Dupont,1,0,12,"
    "Decidim::Proposals::Proposal,false\n"
    '516,2024-05-02 10:00:00 UTC,"Ligne un\nLigne deux",,fr,,Anonyme,0,1,515,Decidim::Comments::Comment,false\n'
    "517,2024-05-02 11:00:00 +0200,Message masqué,,fr,10,Bob,0,0,12,Decidim::Proposals::Proposal,true\n"
    "518,2024-05-02 11:00:00 +0200,,,fr,10,Bob,0,0,12,Decidim::Proposals::Proposal,false\n"
)


def test_decidim_028_comments(author_key):
    result = parse(V028_COMMENTS, author_key)
    rows = only_rows(result)
    first, second, empty = rows
    assert result.skipped == [(4, "hidden in Decidim (moderated)")]
    assert first.contribution.external_id == "decidim.test/comments/515" and first.contribution.kind is None
    assert first.contribution.body == "D'accord avec la proposition"  # never the machine translation
    assert first.contribution.author_ref == author_token(author_key, "decidim", "9")
    assert first.contribution.question == "Decidim::Proposals::Proposal#12"  # what the comment answers
    assert first.contribution.submitted_at == datetime(2024, 5, 2, 7, tzinfo=UTC)
    assert second.contribution.author_ref is None
    assert second.contribution.submitted_at == datetime(2024, 5, 2, 10, tzinfo=UTC)
    assert second.contribution.body == "Ligne un\nLigne deux"
    # row 5 of the sheet starts on line 6 of the file (the body of row 3 spans two lines)
    assert empty.row_number == 5
    assert empty.error == (
        "body (column 'body/fr'): must not be empty (once whitespace and control characters are removed)"
        " [record starts on line 6 of the file]"
    )


V030_TAXONOMIES = (
    "id;taxonomies/id;taxonomies/name/fr;title/fr;body/fr;published_at;created_at;author_id\n"
    "1;4, 9;Impôts, dépenses, action publique, Santé;Titre;Texte un;;2025-01-10T08:00:00Z;3\n"
    "2;9;Santé;Titre;Texte deux;2025-01-11T08:00:00Z;2025-01-10T08:00:00Z;3\n"
    "3;;;Titre;Texte trois;2025-01-11T08:00:00;;3\n"
)


def test_decidim_030_taxonomies_and_published_at(author_key):
    mapping = {"Impôts, dépenses, action publique": "fiscalite", "santé": "services-publics"}
    result = parse(V030_TAXONOMIES, author_key, category_to_axis=mapping)
    one, two, three = only_rows(result)
    assert one.contribution.axis == "fiscalite"
    assert one.contribution.submitted_at == datetime(2025, 1, 10, 8, tzinfo=UTC)  # created_at when not published
    assert two.contribution.axis == "services-publics"
    assert two.contribution.submitted_at == datetime(2025, 1, 11, 8, tzinfo=UTC)
    assert three.contribution is None and "submitted_at (column 'published_at')" in three.error
    assert "no time zone offset" in three.error
    paris = parse(V030_TAXONOMIES, author_key, default_timezone="Europe/Paris").rows[2].contribution
    assert paris.submitted_at == datetime(2025, 1, 11, 7, tzinfo=UTC)


def test_plain_taxonomies_column_and_category_id_mapping(author_key):
    text = "id;taxonomies;category/id;title;body\n1;Santé, Transport;;t;b\n2;;42;t;b\n3;Inconnu;;t;b\n"
    rows = only_rows(parse(text, author_key, category_to_axis={"Transport": "mobilite", "42": "travail"}))
    assert [r.contribution.axis for r in rows] == ["mobilite", "travail", None]


def test_proposal_and_comment_with_the_same_number_do_not_collide(author_key):
    proposals = parse("id;title;body\n515;t;Une proposition\n", author_key).contributions
    comments = parse("id;body;commentable_id;depth\n515;Un commentaire;1;0\n", author_key).contributions
    assert proposals[0].external_id != comments[0].external_id == "decidim.test/comments/515"


def test_a_comment_answers_its_threads_root(author_key):
    url = "http://participation.example.org/processes/gd/f/112/debates/30"
    text = ("id;body;commentable_id;commentable_type;root_commentable_url\n"
            f"1;Oui au vote blanc;30;Decidim::Debates::Debate;{url}\n2;Moi aussi;1;Decidim::Comments::Comment;{url}\n")
    assert [c.question for c in parse(text, author_key).contributions] == [url, url]
    assert parse("id;title;body\n1;t;Une proposition\n", author_key).contributions[0].question is None


def test_explicit_resource_overrides_detection(author_key):
    result = parse("id;body\n7;texte\n", author_key, resource="comments")
    assert result.contributions[0].external_id == "decidim.test/comments/7"


# --- bad files -----------------------------------------------------------------------------------------


def test_a_file_not_in_utf8_is_refused_naming_the_byte_never_guessed(author_key):
    data = "id;title;body\n1;Électricité;Dépenses énergétiques à réduire\n".encode("cp1252")
    result = parse(data, author_key)
    assert result.rows == []
    assert result.file_error.startswith("file is not valid UTF-8: byte 0xC9 at offset 16 (line 2)")


def test_one_stray_byte_refuses_the_file_rather_than_altering_its_text(author_key):
    data = "id;title;body\n1;ok;Déjà vu\n2;bad;".encode() + b"\x81\x8d\xe9\n"
    result = parse(data, author_key)
    assert result.rows == []
    assert "byte 0x81 at offset 35 (line 3)" in result.file_error


def test_utf8_bom_and_crlf(author_key):
    data = "\ufeffid;title;body\r\n1;t;Texte\r\n".encode()
    assert parse(data, author_key).contributions[0].body == "Texte"


def test_utf16_with_bom(author_key):
    data = "id;title;body\r\n1;t;Texte accentué\r\n".encode("utf-16")
    assert parse(data, author_key).contributions[0].body == "Texte accentué"


def test_nul_bytes_are_refused(author_key):
    data = "id;body\n1;x\n".encode("utf-16-le")
    assert "NUL" in parse(data, author_key).file_error


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "no header"), ("title;body\nt;b\n", "no 'id' column"), ("id;title\n1;t\n", "no 'body' column")],
)
def test_unusable_header(author_key, text, message):
    result = parse(text, author_key)
    assert result.rows == [] and message in result.file_error


def test_bad_rows_are_reported_and_good_rows_go_through(author_key):
    text = (
        "id;title;body;created_at\n"
        '1;t;"bon ""texte""";2024-01-01T00:00:00Z\n'
        '2;t;"mal" fermé;2024-01-01T00:00:00Z\n'
        ";t;sans id;2024-01-01T00:00:00Z\n"
        "4;t;date;hier\n"
        "5;t;trop;de;cellules\n"
        "6;t;" + "x" * 20_001 + ";2024-01-01T00:00:00Z\n"
        '7;t;"jamais fermé;2024-01-01T00:00:00Z\n'
        "8;t;bon aussi;2024-01-01T00:00:00Z\n"
    )
    result = parse(text, author_key)
    by_row = {r.row_number: r for r in only_rows(result)}
    assert by_row[2].contribution.body == 'bon "texte"'
    assert "broken quoting" in by_row[3].error
    assert by_row[4].error == "external_id (column 'id'): empty"
    assert by_row[5].error.startswith("submitted_at (column 'created_at'): 'hier' is not a date")
    assert by_row[6].error.startswith("has 5 cells where the header has 4")
    assert by_row[7].error == "body (column 'body'): String should have at most 20000 characters"
    assert by_row[8].error.startswith("broken quoting: a quoted value opened on this row is never closed")
    # reading resumes on the next line
    assert by_row[9].contribution.body == "bon aussi"


def test_arguments_are_checked(author_key):
    with pytest.raises(ValueError, match="at least 16 bytes"):
        parse_decidim(b"id;body\n1;x\n", author_key=b"short")
    with pytest.raises(ValueError, match="is not an axis id"):
        parse_decidim(b"id;body\n1;x\n", author_key=author_key, category_to_axis={"A": "Not A Slug"})


# --- properties ----------------------------------------------------------------------------------------

KEY = b"property-test-key-of-32-bytes!!!"


def check_shape(result):
    if result.file_error is not None:
        assert result.rows == [] and result.skipped == []
        return
    numbers = [r.row_number for r in result.rows] + [s.row_number for s in result.skipped]
    assert len(numbers) == len(set(numbers)) and all(n >= 2 for n in numbers)
    assert [r.row_number for r in result.rows] == sorted(r.row_number for r in result.rows)
    for row in result.rows:
        assert (row.contribution is None) != (row.error is None)
        assert row.error is None or row.error.strip()


@given(st.binary(max_size=400))
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
def test_never_raises_on_arbitrary_bytes(data):
    check_shape(parse_decidim(data, author_key=KEY, detect_language=False, source="decidim.test"))


CSVISH = st.text(alphabet=st.sampled_from(list(';,"\n\r\'=+-@ ab1é<>/p\t\x00')), max_size=300)


@given(st.sampled_from(["id;title;body\n", "id,body,hidden\n", "id;body;commentable_id\n", ""]), CSVISH)
@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
def test_never_raises_on_csv_like_text(header, text):
    check_shape(parse_decidim((header + text).encode(), author_key=KEY, detect_language=False, source="decidim.test"))


CELL = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="<") | st.sampled_from("\n\t;,\"'=+-@"),
    max_size=60,
)


@given(
    st.lists(st.tuples(st.integers(1, 10**9), CELL, CELL), min_size=1, max_size=12, unique_by=lambda r: r[0]),
    st.sampled_from([",", ";"]),
)
@settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
def test_round_trip_of_generated_rows(rows, delimiter):
    """Rows written as a Decidim export (with our formula escaping) read back as the same contributions."""
    records = [
        {"id": str(i), "title/fr": title, "body/fr": body, "published_at": "2024-09-18T12:00:00+02:00"}
        for i, title, body in rows
    ]
    text = write_csv(records, ["id", "title/fr", "body/fr", "published_at"], delimiter=delimiter)
    result = parse_decidim(text.encode(), author_key=KEY, detect_language=False, source="decidim.test")
    check_shape(result)
    parsed = {r.contribution.external_id.removeprefix("decidim.test/proposals/"): r.contribution
              for r in result.rows if r.contribution}
    for i, title, body in rows:
        if not normalize_text(body):
            continue  # an empty body is an error row, checked elsewhere
        c = parsed[str(i)]
        assert c.body == normalize_text(body)
        assert c.title == (normalize_text(title) or None)
        assert c.language == "fr"
        assert c.submitted_at == datetime(2024, 9, 18, 12, tzinfo=timezone(timedelta(hours=2)))
    assert len(result.rows) == len(rows)


# --- identity across instances ------------------------------------------------------------------------

# Two instances' exports, of two Decidim versions, whose proposal ids overlap (12 and 13 in both)
V027_OTHER_INSTANCE = (
    "id,category/id,category/name/fr,title/fr,body/fr,published_at,author/id,url,component/id\n"
    "12,7,Mobilité,Des bus,Plus de bus le soir.,2023-03-01T10:00:00+01:00,3,"
    "https://jeparticipe.ville-exemple.fr/processes/ia/f/4/proposals/12,4\n"
    "13,7,Mobilité,Des vélos,Des pistes cyclables sûres.,2023-03-02T10:00:00+01:00,4,"
    "https://jeparticipe.ville-exemple.fr/processes/ia/f/4/proposals/13,4\n"
)
V028_COMPONENT_ONLY = (
    "id;title;body;created_at;author/id;component/id\n"
    "12;Un registre;Publier la liste des algorithmes.;2024-05-02 09:00:00 +0200;5;9\n"
    "13;Un recours;Garantir un recours humain.;2024-05-02 10:00:00 +0200;6;9\n"
)


def test_exports_of_two_instances_with_overlapping_ids_get_distinct_identities(author_key):
    with_url = parse(V027_OTHER_INSTANCE, author_key, source=None).contributions
    assert [c.external_id for c in with_url] == ["jeparticipe.ville-exemple.fr/processes/ia/f/4/proposals/12",
                                                 "jeparticipe.ville-exemple.fr/processes/ia/f/4/proposals/13"]
    by_component = parse(V028_COMPONENT_ONLY, author_key, source="autre.example").contributions
    assert [c.external_id for c in by_component] == ["autre.example/components/9/proposals/12",
                                                     "autre.example/components/9/proposals/13"]
    named = parse("id;body\n12;Un texte.\n", author_key, source="troisieme.example").contributions
    assert [c.external_id for c in named] == ["troisieme.example/proposals/12"]
    assert not {c.external_id for c in with_url} & {c.external_id for c in by_component}


def test_an_export_naming_no_instance_needs_a_source(author_key):
    result = parse("id;body\n12;Un texte.\n", author_key, source=None)
    assert result.rows == [] and "name its source" in result.file_error
    with pytest.raises(ValueError, match="source"):
        parse("id;body\n12;Un texte.\n", author_key, source="pas une source !")
