"""The package's shape: the dependency rule in pyproject.toml's import-linter contracts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_each_layer_imports_only_the_layers_below_it():
    """lint-imports reads the contracts in pyproject.toml: the layers (nothing under the
    composition root imports the API, the page or the daemon; the store and the models do not
    know each other) and SQL in the store only."""
    pytest.importorskip("importlinter", reason="import-linter is in the dev extras: pip install -e '.[dev]'")
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_a_command_the_daemon_serves_loads_the_declarations_only():
    """The CLI takes an operation and its result type from the controllers' declarations without
    importing what runs them (the database, the vector index, clustering, the models)."""
    code = ("import sys, clusterids.cli, clusterids.core.operations as o\n"
            "for name in ('people.persons', 'photos.showing', 'library.status'): o.get(name).result_type\n"
            "print(sorted(m for m in sys.modules if m.startswith(('clusterids.indexer', 'clusterids.clustering', "
            "'clusterids.upkeep', 'clusterids.store.', 'sqlalchemy', 'numpy')) and m != 'clusterids.store.rows'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "[]"
