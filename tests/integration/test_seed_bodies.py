"""The example bodies in seed_bodies.py are the seed's, whitespace aside."""

import os
import re
from pathlib import Path

import pytest

import seed_bodies
from kraken import REPO

SEED = Path(os.environ.get("MAKARA_SEED_FILE")
            or REPO.parent / "shared" / "seeds" / "000_23d40663e8688b3f.txt")


def squeeze(s):
    return re.sub(r"\s+", "", s)


@pytest.fixture(scope="module")
def seed_text():
    assert SEED.is_file(), f"the seed document is not at {SEED} (set MAKARA_SEED_FILE)"
    return squeeze(SEED.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(seed_bodies.ALL))
def test_body_is_verbatim_from_the_seed(seed_text, name):
    assert squeeze(seed_bodies.ALL[name]) in seed_text


def test_every_seed_request_body_is_here():
    assert len(seed_bodies.ALL) == 18
