"""plait-duckdb: the DuckDB query task type for plait (`plait.duckdb.Query`)."""
