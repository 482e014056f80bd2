"""Choosing the engine: config or --engine, and a clear message when PySpark is not installed."""

from __future__ import annotations

import subprocess
import sys

from conftest import run_cli


def test_unknown_engine_is_a_usage_error(tmp_path):
    result = run_cli(tmp_path / "lake", "--engine", "sparky", "batches", "--json")
    assert result.code == 2
    assert "unknown engine 'sparky'" in result.stderr


def test_missing_pyspark_names_the_extra_to_install():
    code = ("import sys; sys.modules['pyspark'] = None\n"  # as if the extra were not installed
            "from campuslake.engines import get_engine\n"
            "from campuslake.errors import ConfigError\n"
            "try:\n    get_engine('spark')\nexcept ConfigError as exc:\n    print(exc)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'campuslake[spark]'" in result.stdout
