"""Fixtures: the project root and a scratch repository. Helpers live in tests/helpers.py.

Tests that run DVC, a stage as a subprocess or a server are marked ``slow``; a test that
takes ``scratch_repo`` is marked here, so ``pytest -m "not slow"`` stays the fast tier.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.helpers import ROOT, make_scratch_repo


@pytest.fixture(scope="session")
def root() -> Path:
    return ROOT


@pytest.fixture
def scratch_repo(tmp_path: Path) -> Path:
    return make_scratch_repo(tmp_path / "repo")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "scratch_repo" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
