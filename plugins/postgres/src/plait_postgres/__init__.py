"""plait-postgres: plait's execution state and work queue on PostgreSQL, so that several
servers and workers on different machines share one database."""
