"""Rollups and storage upkeep for PostgreSQL without TimescaleDB (docs/storage.md).

TimescaleDB keeps the same relations with continuous aggregates and its own policies; here
the stream folds each batch's new rows into the rollup tables inside the batch's
transaction, and a timer creates partitions ahead and drops expired ones.
"""
