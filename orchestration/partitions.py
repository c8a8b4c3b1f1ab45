"""Units as dynamic partitions, kept in sync with the registry by `registry_sync_sensor`."""

from dagster import DynamicPartitionsDefinition

unit_partitions = DynamicPartitionsDefinition(name="units")
