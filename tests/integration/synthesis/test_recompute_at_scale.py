"""The bench's synthesis at scale goes through the real recompute path: contributions COPYed into a
PostgreSQL of its own, then one recompute by the worker's code stores every network, country, territory,
consultation and framework scope, each counting its share of the corpus. No timing is asserted."""

from collections import Counter

import pytest

from bench.measure import synthesis_at_scale
from bench.synthesis_scale import TERRITORIES, consultations, contributions

SIZE = 1_000


@pytest.mark.timeout(1200)  # a recompute of 56 scopes, on a machine that may be busy
def test_the_bench_recomputes_every_scope_from_postgresql(tmp_path):
    result = synthesis_at_scale(SIZE, tmp_path, timeout=1000)
    assert "error" not in result, result.get("error")
    generated = list(contributions(SIZE))
    expected = {
        "network": ["network"],
        "country": sorted({country for _, country in TERRITORIES}),
        "territory": sorted(slug for slug, _ in TERRITORIES),
        "consultation": sorted(consultations()),
        "framework": sorted({framework for _, framework in consultations().values()}),
    }
    assert result["scope_keys"] == dict(sorted(expected.items()))
    # each level splits the whole corpus between its scopes
    assert {scope: stored["contributions"] for scope, stored in result["stored"].items()} == {
        scope: SIZE for scope in expected}
    assert {scope: stored["versions"] for scope, stored in result["stored"].items()} == {
        scope: len(keys) for scope, keys in expected.items()}
    per_consultation = Counter(row[3] for row in generated)
    assert set(per_consultation) == set(consultations())  # the corpus reaches every consultation
    scopes = sum(len(keys) for keys in expected.values())
    assert result["outbox_events"] >= scopes  # a synthesis.updated per scope, beside the axes moved
    assert result["recorded_contributions"] == SIZE  # what the next recompute's rest is measured against
    assert result["seconds"] > 0 and result["peak_gib"] > 0
