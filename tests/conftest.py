"""Shared fixtures: the generated sample portal, the same portal harvested and normalized, and the
lake catalogs the storage tests run on (tests/lake_catalogs.py)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from lake_catalogs import CATALOGS, LakeCatalog, catalog_in_env
from sample_portal.generator import generate_portal
from sample_portal.server import PortalServer


@pytest.fixture(params=CATALOGS)
def lake_catalog(request, tmp_path) -> LakeCatalog:
    """Each catalog in turn, new for the test: the embedded one, or a fresh PostgreSQL database
    (set in ZWGK_LAKE_CATALOG / ZWGK_LAKE_DATA; pass `.env` on to child processes)."""
    with catalog_in_env(request.param, tmp_path / "lake-data") as catalog:
        yield catalog


@pytest.fixture(scope="module", params=CATALOGS)
def module_lake_catalog(request, tmp_path_factory) -> LakeCatalog:
    """Each catalog in turn, shared by a module's tests (for module fixtures that build a lake)."""
    with catalog_in_env(request.param, tmp_path_factory.mktemp("lake-data")) as catalog:
        yield catalog


@pytest.fixture(scope="session")
def sample_portal_dir(tmp_path_factory):
    """The default sample portal, generated once; tests must not modify it."""
    out = tmp_path_factory.mktemp("portal")
    generate_portal(out)
    return out


@dataclass(frozen=True)
class PipelineData:
    portal_dir: Path
    store_dir: Path
    warehouse: Path
    registry: object
    harvest: list
    normalize: list


@pytest.fixture(scope="session")
def pipeline_data(sample_portal_dir, tmp_path_factory) -> PipelineData:
    """The sample portal served for real, harvested and normalized once for the session."""
    from assets.harvest import HarvestSettings, harvest_units
    from assets.normalize.build import normalize_units

    work = tmp_path_factory.mktemp("pipeline")
    with PortalServer(sample_portal_dir, registry_path=work / "registry.yaml") as server:
        registry = server.registry
        harvest = harvest_units(registry, None, work / "harvest", HarvestSettings(polite=False))
    normalize = normalize_units(list(registry.units), work / "harvest", work / "zwgk.duckdb")
    return PipelineData(sample_portal_dir, work / "harvest", work / "zwgk.duckdb", registry, harvest, normalize)


@dataclass(frozen=True)
class SmallHarvest:
    portal_dir: Path
    store_dir: Path
    registry: object


@pytest.fixture(scope="session")
def small_harvest(tmp_path_factory) -> SmallHarvest:
    """Five units of a small portal (25 documents each), served and harvested once for the session."""
    from assets.harvest import HarvestSettings, harvest_units

    out = tmp_path_factory.mktemp("small-harvest")
    generate_portal(out, units=5, docs_per_unit=25)
    with PortalServer(out, registry_path=out / "registry.yaml") as server:
        harvest_units(server.registry, None, out / "harvest", HarvestSettings(polite=False))
    return SmallHarvest(out, out / "harvest", server.registry)
