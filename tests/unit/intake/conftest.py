from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
LILLE = REPO_ROOT.parent / "shared" / "data" / "decidim-lille-grand-debat"


@pytest.fixture(scope="session")
def lille() -> Path:
    """The real Decidim exports, read in place (never copied into the repository)."""
    if not (LILLE / "propositions-libres.csv").is_file():
        pytest.skip(f"real Decidim data not found at {LILLE} (needs the shared data folder beside the repo)")
    return LILLE


@pytest.fixture(scope="session")
def author_key() -> bytes:
    return b"test-key-for-author-tokens-32by"
