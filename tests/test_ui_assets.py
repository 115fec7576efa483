"""The UI's checked-in bundle is what tools/ui builds: rebuilt from the lockfile into a
temporary directory and compared file by file (run scripts/build-ui.sh after changing tools/ui)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "core/src/plait/server/ui/static/bundle"


def test_checked_in_bundle_matches_a_fresh_build(tmp_path: Path) -> None:
    subprocess.run(
        ["bash", str(ROOT / "scripts/build-ui.sh"), str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    built = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    checked_in = {p.name: p.read_bytes() for p in BUNDLE.iterdir()}
    assert sorted(built) == sorted(checked_in), "run scripts/build-ui.sh and commit the bundle"
    stale = [name for name in built if built[name] != checked_in[name]]
    assert not stale, f"stale bundle files {stale}: run scripts/build-ui.sh and commit them"
