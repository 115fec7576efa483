"""Runs flows: renders task properties, calls task types, records state, logs and outputs."""
