"""Typed resources, configured per deployment in definitions.py.

Every path and setting comes from the environment so that the same definitions serve the
local demo and a production deployment: `ZWGK_REGISTRY` (unit registry YAML), `ZWGK_DATA_DIR`
(harvest store, warehouse, reports), `ZWGK_POLITE` (0 lifts crawl limits; only for our own
sample portal).
"""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource

from core.registry import Registry, load_registry


class RegistryResource(ConfigurableResource):
    """The unit registry: which units exist and where their columns live."""

    path: str

    def load(self) -> Registry:
        return load_registry(self.path)


class StorageResource(ConfigurableResource):
    """Where each stage keeps its data, all under one directory."""

    data_dir: str

    @property
    def root(self) -> Path:
        return Path(self.data_dir)

    @property
    def harvest_dir(self) -> Path:
        return self.root / "harvest"

    @property
    def warehouse_path(self) -> Path:
        return self.root / "zwgk.duckdb"

    @property
    def report_dir(self) -> Path:
        return self.root / "report"


class CrawlPolicyResource(ConfigurableResource):
    """Crawl politeness: on for real sites; off only against our own sample portal."""

    polite: bool = True


class ValidationResource(ConfigurableResource):
    """The day the rules are applied for: empty means today (the sample portal uses 2021-03-01)."""

    as_of: str = ""

    def as_of_date(self):
        from datetime import date

        return date.fromisoformat(self.as_of) if self.as_of else date.today()


class CkanResource(ConfigurableResource):
    """The CKAN catalog to publish to; the token comes from the environment or a file, never code."""

    url: str
    token: str = ""
    token_file: str = ""
    name_prefix: str = ""

    def api_token(self) -> str:
        if self.token:
            return self.token
        if self.token_file:
            return Path(self.token_file).expanduser().read_text(encoding="utf-8").strip()
        raise ValueError(f"no CKAN token for {self.url}: set ZWGK_CKAN_TOKEN or ZWGK_CKAN_TOKEN_FILE")
