"""The agreement registry is complete and every entry is asserted by some test."""

from __future__ import annotations

import re

from .agreement import REGISTRY
from .conftest import REPO

REQUIRED = {"procedure", "reference", "fixture", "quantity", "metric", "tolerance"}


def test_every_entry_is_complete():
    for key, entry in REGISTRY.items():
        assert REQUIRED <= set(entry), (key, REQUIRED - set(entry))
        assert entry["metric"] in ("max_abs", "max_rel"), key
        assert (REPO / entry["fixture"]).exists(), (key, entry["fixture"])


def test_every_entry_is_used_by_a_test():
    source = "\n".join(p.read_text() for p in (REPO / "tests").rglob("test_*.py"))
    used = set(re.findall(r"[\"']([\w.]+)[\"']", source))
    assert set(REGISTRY) <= used, sorted(set(REGISTRY) - used)
