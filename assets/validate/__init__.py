"""Validation stage: checks C01–C22 per unit, scores, and the supervisors' report (no Dagster here)."""

from .results import ValidationSummary, validate_unit, validate_warehouse

__all__ = ["ValidationSummary", "validate_unit", "validate_warehouse"]
