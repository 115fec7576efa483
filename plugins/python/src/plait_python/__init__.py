"""plait-python: task types for plait."""
