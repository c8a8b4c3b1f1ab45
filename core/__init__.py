"""The shared bottom floor: the warehouse (DuckLake), the unit registry and the record types.

Every stage (assets/), the orchestration and the CLI (zwgk/) import from here; nothing here
imports a stage or the CLI, so imports run one way only.
"""
