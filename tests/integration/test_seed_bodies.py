"""The example bodies in seed_bodies.py are the seed's, whitespace aside."""

import os
import re
from pathlib import Path

import pytest

import seed_bodies
from kraken import REPO

# The project's shared documents sit beside the repository in CI, not in
# someone's own clone. MAKARA_SEEDS_DIR moves (or, pointed at nothing, hides)
# that directory; MAKARA_SEED_FILE names the document itself.
SEEDS_DIR = Path(os.environ.get("MAKARA_SEEDS_DIR") or REPO.parent / "shared" / "seeds")
SEED_FILE = os.environ.get("MAKARA_SEED_FILE")
SEED = Path(SEED_FILE) if SEED_FILE else SEEDS_DIR / "000_23d40663e8688b3f.txt"


def squeeze(s):
    return re.sub(r"\s+", "", s)


@pytest.fixture(scope="module")
def seed_text():
    if not SEED_FILE and not SEEDS_DIR.is_dir():
        pytest.skip(f"no seed documents at {SEEDS_DIR} (a clone without the project's "
                    "shared directory): set MAKARA_SEED_FILE to check the bodies")
    # Where the documents are, or one was named, the file must be there.
    assert SEED.is_file(), f"the seed document is not at {SEED} (set MAKARA_SEED_FILE)"
    return squeeze(SEED.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(seed_bodies.ALL))
def test_body_is_verbatim_from_the_seed(seed_text, name):
    assert squeeze(seed_bodies.ALL[name]) in seed_text


def test_every_seed_request_body_is_here():
    assert len(seed_bodies.ALL) == 18
