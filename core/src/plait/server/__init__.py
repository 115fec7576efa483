"""``plait server``: Kestra's REST API over the engine, for scripts, Kestra's clients and the
web UI. Imported only by the ``server`` command, so the command line starts fast."""
