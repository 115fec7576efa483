"""The kernel's own features, each a plugin module registered through the SDK hooks."""
