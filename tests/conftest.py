"""Shared fixtures: the generated sample portal (once per test session)."""

from __future__ import annotations

import pytest

from sample_portal.generator import generate_portal


@pytest.fixture(scope="session")
def sample_portal_dir(tmp_path_factory):
    """The default sample portal, generated once; tests must not modify it."""
    out = tmp_path_factory.mktemp("portal")
    generate_portal(out)
    return out
