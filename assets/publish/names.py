"""Deterministic CKAN names: the same unit always maps to the same organization and dataset.

Create-or-update by name is what makes a rerun after an interruption converge without
duplicates. Per-unit directories end in `-zfxxgk-ml` (政府信息公开目录); the shared datasets
never do, so no unit id can collide with them. A prefix namespaces a whole catalog (tests and
benchmarks publish side by side with the real one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_SOLR_SPECIAL = re.compile(r'([+\-&|!(){}\[\]^"~*?:\\/ ])')


@dataclass(frozen=True)
class Names:
    prefix: str = ""

    @property
    def platform_org(self) -> str:
        return f"{self.prefix}zwgk"

    def unit_org(self, unit_id: str) -> str:
        return f"{self.prefix}zwgk-{unit_id}"

    def directory(self, unit_id: str) -> str:
        return f"{self.prefix}{unit_id}-zfxxgk-ml"

    @property
    def catalogue(self) -> str:
        return f"{self.prefix}zwgk-catalogue"

    @property
    def scorecard(self) -> str:
        return f"{self.prefix}zwgk-scorecard"

    @property
    def document_changes(self) -> str:
        return f"{self.prefix}zwgk-document-changes"

    @property
    def dictionary(self) -> str:
        return f"{self.prefix}zwgk-data-dictionary"

    @property
    def search_filter(self) -> str:
        """Solr filter matching every dataset of this catalog: those owned by its organizations."""
        org = _SOLR_SPECIAL.sub(r"\\\1", self.platform_org)
        return f"organization:({org} OR {org}\\-*)"
