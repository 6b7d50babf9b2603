"""File imports against the real intake, NATS and PostgreSQL: through the API and through `palabre import`."""

import csv
import io
import json
import subprocess
import sys

import pytest

from services.intake.domain import parse_decidim
from shared.bus import EVENTS_STREAM
from tests.harness import async_wait_for
from tests.integration.intake.conftest import REPO, count_rows, post_import

GRAND_DEBAT = REPO / "services" / "synthesis" / "data" / "frameworks" / "grand-debat.json"


def records_in(path) -> list[dict[str, str]]:
    """The file's records as Python's csv module reads them (an independent count)."""
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"), newline=""), delimiter=";"))


async def submitted_events(stack, territory: str) -> int:
    nc = await stack.nats_connect()
    try:
        info = await nc.jetstream().stream_info(EVENTS_STREAM.name,
                                                subjects_filter=f"palabre.contribution.submitted.fr.{territory}")
        return sum((info.state.subjects or {}).values())
    finally:
        await nc.close()


async def test_lille_exports_import_through_the_api_and_a_second_import_adds_nothing(intake_stack, lille):
    key = intake_stack.create_territory("lille-api", kind="metropole")
    proposals, comments = lille / "propositions-libres.csv", lille / "commentaires_debats.csv"
    expected = {proposals: len(records_in(proposals)), comments: len(records_in(comments))}
    assert expected == {proposals: 196, comments: 693}

    for path, count in expected.items():
        response = post_import(intake_stack, key, path.read_bytes(), "decidim", path.name)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert (answer["accepted"], answer["duplicates"], answer["errors"], answer["skipped"]) == (count, 0, [], [])
    assert await count_rows(intake_stack, "lille-api") == 889

    for path, count in expected.items():
        again = post_import(intake_stack, key, path.read_bytes(), "decidim", path.name).json()
        assert (again["accepted"], again["duplicates"], again["errors"]) == (0, count, [])
    assert await count_rows(intake_stack, "lille-api") == 889
    # every contribution announced once on the bus, none twice
    await async_wait_for(lambda: _equals(submitted_events(intake_stack, "lille-api"), 889), 60,
                         what="889 contribution.submitted events")


async def _equals(value, expected) -> bool:
    return await value == expected


async def test_lille_exports_import_through_the_cli_with_a_progress_bar(intake_stack, lille):
    key = intake_stack.create_territory("lille-cli", kind="metropole")
    proposals, comments = lille / "propositions-libres.csv", lille / "commentaires_debats.csv"

    def palabre_import(path, chunk_rows: int) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "palabre.cli", "import", str(path), "--territory", "lille-cli", "--format",
             "decidim", "--chunk-rows", str(chunk_rows), "--key", key, "--intake-url", intake_stack.url("intake")],
            capture_output=True, text=True, timeout=600, cwd=REPO, env={**_env(), "COLUMNS": "200"},
        )

    # small chunks, so that multi-line bodies straddle chunk boundaries
    first = palabre_import(proposals, 37)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "196 rows, 196 accepted, 0 duplicates, 0 skipped, 0 errors" in first.stdout
    second = palabre_import(comments, 100)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "693 rows, 693 accepted" in second.stdout
    assert await count_rows(intake_stack, "lille-cli") == 889

    again = palabre_import(comments, 100)
    assert again.returncode == 0 and "693 rows, 0 accepted, 693 duplicates" in again.stdout
    assert await count_rows(intake_stack, "lille-cli") == 889

    # chunks cut at record boundaries: every body arrives whole, as the importer reads the whole file
    expected = {}
    for path in (proposals, comments):
        parsed = parse_decidim(path.read_bytes(), author_key=b"k" * 16, detect_language=False)
        expected |= {c.external_id: (c.title, c.body) for c in parsed.contributions}
    stored = await intake_stack.sql("SELECT external_id, title, body FROM intake.contributions "
                                    "WHERE territory = 'lille-cli'")
    assert {r["external_id"]: (r["title"], r["body"]) for r in stored} == expected


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("PALABRE_")}


BAD_CSV = (
    "external_id;body;axis;kind\n"
    "r2;Un registre public des algorithmes de la métropole.;maitrise;proposition\n"
    "r3;Former les agents avant tout déploiement.;;avis\n"
    "r4;;;attente\n"
    "r5;Mesurer l'empreinte carbone de chaque projet.;climat;vigilance\n"
    'r6;"Texte mal cité" fin;;\n'
    "r7;Garantir un recours humain pour chaque décision.;conditions;attente\n"
).encode()


async def test_bad_rows_are_reported_one_by_one_while_good_rows_go_in(intake_stack):
    key = intake_stack.create_territory("import-bad-rows")
    response = post_import(intake_stack, key, BAD_CSV, "csv")
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer["accepted"] == 2 and answer["duplicates"] == 0
    errors = {error["row"]: error["detail"] for error in answer["errors"]}
    assert sorted(errors) == [3, 4, 5, 6]
    assert "kind" in errors[3] and "'avis'" in errors[3]
    assert "body" in errors[4]
    assert "axis" in errors[5] and "'climat'" in errors[5]
    assert "quot" in errors[6]
    stored = await intake_stack.sql("SELECT external_id FROM intake.contributions WHERE territory = $1 "
                                    "ORDER BY external_id", "import-bad-rows")
    assert [r["external_id"] for r in stored] == ["r2", "r7"]

    again = post_import(intake_stack, key, BAD_CSV, "csv").json()
    assert (again["accepted"], again["duplicates"], len(again["errors"])) == (0, 2, 4)


@pytest.fixture(scope="module")
def unreadable_key(intake_stack) -> str:
    return intake_stack.create_territory("import-unreadable")


@pytest.mark.parametrize(("name", "content", "fmt", "words"), [
    ("binary", bytes(range(256)) * 40, "csv", "not valid UTF-8: byte 0x80 at offset 128"),
    ("nul bytes", b"external_id;body\x00\x00\x00\n1;\x00\x00x\n", "csv", "NUL"),
    ("empty", b"", "decidim", "no header"),
    ("no id column", "title;body\nUn titre;Un texte\n".encode(), "decidim", "'id'"),
    ("missing column", "ID;Texte\n1;Un texte\n".encode(), "csv", "external_id"),
])
async def test_an_unreadable_file_is_a_problem_and_writes_nothing(intake_stack, unreadable_key, name, content,
                                                                 fmt, words):
    response = post_import(intake_stack, unreadable_key, content, fmt)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert words in response.json()["detail"]
    assert await count_rows(intake_stack, "import-unreadable") == 0


async def test_a_consultation_on_another_framework_takes_a_decidim_import_with_a_category_mapping(
        intake_stack, lille):
    import httpx

    key = intake_stack.create_territory("lille-gd", kind="metropole")
    framework = json.loads(GRAND_DEBAT.read_text(encoding="utf-8"))
    response = httpx.post(f"{intake_stack.url('intake')}/v1/consultations", headers=intake_stack.admin_headers,
                          json={"id": "lille-grand-debat", "territory": "lille-gd", "title": "Grand Débat",
                                "framework": framework}, timeout=30)
    assert response.status_code == 201, response.text
    assert [a["id"] for a in response.json()["framework"]["axes"]] == [a["id"] for a in framework["axes"]]

    mapping = {"Transition écologique": "transition-ecologique", "Démocratie et citoyenneté":
               "democratie-citoyennete"}
    unknown = [axis for axis in mapping.values() if axis not in {a["id"] for a in framework["axes"]}]
    assert not unknown, f"the test's mapping names axes the framework lacks: {unknown}"
    path = lille / "propositions-libres.csv"
    answer = post_import(intake_stack, key, path.read_bytes(), "decidim", path.name,
                         mapping=json.dumps(mapping), consultation="lille-grand-debat").json()
    assert answer["accepted"] == 196 and answer["errors"] == []
    by_category = {}
    for record in records_in(path):
        by_category[record["category/name/fr"]] = by_category.get(record["category/name/fr"], 0) + 1
    stored = await intake_stack.sql("SELECT axis, consultation, count(*) AS n FROM intake.contributions "
                                    "WHERE territory = 'lille-gd' GROUP BY axis, consultation")
    counts = {(r["axis"], r["consultation"]): r["n"] for r in stored}
    assert counts[("transition-ecologique", "lille-grand-debat")] == by_category["Transition écologique"]
    assert counts[("democratie-citoyennete", "lille-grand-debat")] == by_category["Démocratie et citoyenneté"]

    wrong = post_import(intake_stack, key, path.read_bytes(), "decidim", path.name,
                        mapping=json.dumps({"Transition écologique": "Pas Un Axe"}))
    assert wrong.status_code == 422 and wrong.json()["title"] == "Invalid mapping"


# Two Decidim instances, two Decidim versions, overlapping proposal ids (12 and 13 in both)
DECIDIM_027_WITH_URL = (
    "id,category/id,category/name/fr,title/fr,body/fr,published_at,author/id,url,component/id\n"
    "12,7,Mobilité,Des bus,Plus de bus le soir.,2023-03-01T10:00:00+01:00,3,"
    "https://jeparticipe.ville-a.fr/processes/ia/f/4/proposals/12,4\n"
    "13,7,Mobilité,Des vélos,Des pistes cyclables sûres.,2023-03-02T10:00:00+01:00,4,"
    "https://jeparticipe.ville-a.fr/processes/ia/f/4/proposals/13,4\n"
).encode()
DECIDIM_028_BARE = (
    "id;title;body;created_at;author/id\n"
    "12;Un registre;Publier la liste des algorithmes.;2024-05-02 09:00:00 +0200;5\n"
    "13;Un recours;Garantir un recours humain.;2024-05-02 10:00:00 +0200;6\n"
    "14;Former;Former les agents avant tout déploiement.;2024-05-02 11:00:00 +0200;7\n"
).encode()


async def test_two_decidim_instances_with_overlapping_ids_import_side_by_side(intake_stack):
    key = intake_stack.create_territory("decidim-deux")
    first = post_import(intake_stack, key, DECIDIM_027_WITH_URL, "decidim").json()
    assert (first["accepted"], first["duplicates"], first["errors"]) == (2, 0, [])

    unnamed = post_import(intake_stack, key, DECIDIM_028_BARE, "decidim")
    assert unnamed.status_code == 422 and "name its source" in unnamed.json()["detail"]
    second = post_import(intake_stack, key, DECIDIM_028_BARE, "decidim", source="concertation.ville-b.be").json()
    assert (second["accepted"], second["duplicates"], second["errors"]) == (3, 0, [])
    stored = await intake_stack.sql("SELECT external_id, body FROM intake.contributions WHERE territory = $1 "
                                    "ORDER BY external_id", "decidim-deux")
    assert {r["external_id"]: r["body"] for r in stored} == {
        "concertation.ville-b.be/proposals/12": "Publier la liste des algorithmes.",
        "concertation.ville-b.be/proposals/13": "Garantir un recours humain.",
        "concertation.ville-b.be/proposals/14": "Former les agents avant tout déploiement.",
        "jeparticipe.ville-a.fr/processes/ia/f/4/proposals/12": "Plus de bus le soir.",
        "jeparticipe.ville-a.fr/processes/ia/f/4/proposals/13": "Des pistes cyclables sûres.",
    }

    # a second export from the same sources re-imports as duplicates
    again = post_import(intake_stack, key, DECIDIM_027_WITH_URL, "decidim").json()
    assert (again["accepted"], again["duplicates"], again["errors"]) == (0, 2, [])
    again = post_import(intake_stack, key, DECIDIM_028_BARE, "decidim", source="concertation.ville-b.be").json()
    assert (again["accepted"], again["duplicates"], again["errors"]) == (0, 3, [])


def test_the_cli_passes_the_source_of_a_decidim_export(intake_stack, tmp_path):
    key = intake_stack.create_territory("decidim-cli-source")
    path = tmp_path / "export.csv"
    path.write_bytes(DECIDIM_028_BARE)

    def palabre_import(*extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "palabre.cli", "import", str(path), "--territory", "decidim-cli-source",
             "--format", "decidim", "--key", key, "--intake-url", intake_stack.url("intake"), *extra],
            capture_output=True, text=True, timeout=300, cwd=REPO, env={**_env(), "COLUMNS": "200"})

    refused = palabre_import()
    assert refused.returncode != 0 and "name its source" in refused.stdout + refused.stderr
    done = palabre_import("--source", "concertation.ville-b.be")
    assert done.returncode == 0 and "3 rows, 3 accepted" in done.stdout, done.stdout + done.stderr


async def test_an_import_above_the_row_cap_is_a_problem_and_writes_nothing(intake_stack):
    key = intake_stack.create_territory("import-cap")
    cap = 50_000  # PALABRE_INTAKE_MAX_IMPORT_ROWS's default
    rows = "".join(f'cap-{i};"Proposition {i},\nsur deux lignes."\n' for i in range(cap + 1))
    response = post_import(intake_stack, key, ("external_id;body\n" + rows).encode(), "csv")
    assert response.status_code == 413, response.text[:500]
    assert response.headers["content-type"] == "application/problem+json"
    assert str(cap) in response.json()["detail"]
    assert await count_rows(intake_stack, "import-cap") == 0

    few = "".join(f"cap-{i};Proposition {i}.\n" for i in range(3))
    assert post_import(intake_stack, key, ("external_id;body\n" + few).encode(), "csv").json()["accepted"] == 3


async def test_the_bench_import_path_is_taken_by_intake(intake_stack):
    """`make bench` measures imports through this path: a refused import would leave the figure empty."""
    from bench.measure import import_rows

    key = intake_stack.create_territory("bench-import", kind="commune")
    rows = [{"external_id": f"bench-{i}", "body": f"Publier le registre des algorithmes, proposition {i}."}
            for i in range(30)]
    assert await import_rows(intake_stack, key, rows, chunk=20) == "POST /v1/imports (Decidim CSV)"
    assert await count_rows(intake_stack, "bench-import") == 30
