"""Publishing: the warehouse as open data in CKAN (no Dagster here; the asset wraps this).

`publish_catalog` is the entry point; `CkanClient` is the counted, retrying API client it uses.
"""

from .client import CkanClient, CkanRejected, CkanUnavailable, PublishError
from .metadata import Contact
from .publisher import PublishEvent, PublishSummary, publish_catalog

__all__ = ["CkanClient", "CkanRejected", "CkanUnavailable", "Contact", "PublishError", "PublishEvent",
           "PublishSummary", "publish_catalog"]
