"""``python -m plait.cli`` runs the command line (used by tests and when no script is on PATH)."""

from plait.cli.main import main

main()
