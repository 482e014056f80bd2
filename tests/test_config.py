"""A configuration file's mistakes are reported at their line and column, with what to change."""

from __future__ import annotations

from pathlib import Path

import pytest

from campuslake.config import load_settings
from campuslake.errors import ConfigError
from conftest import run_cli

DATASET = """datasets:
  alumni:
    key: [employee_id]
    columns:
      - name: employee_id
        type: integer
"""


@pytest.mark.parametrize(("text", "message", "line", "column"), [
    ("excellent_threshold: five\n" + DATASET, "invalid config at excellent_threshold: Input should be a valid integer",
     1, 22),
    ("excellent_thresold: 4\n" + DATASET, "unknown key 'excellent_thresold'; did you mean 'excellent_threshold'?",
     1, 1),
    ("normalization:\n  honorific: [mr]\n" + DATASET, "unknown key 'normalization.honorific'; did you mean 'honorifics'?",
     2, 3),
    (DATASET + "        requird: true\n", "unknown key 'datasets.alumni.columns.0.requird'; did you mean 'required'?",
     7, 9),
    (DATASET.replace("type: integer", "type: integr"), "invalid config at datasets.alumni.columns.0.type", 6, 15),
    (DATASET.replace("key: [employee_id]", "key: [employee_no]"),
     "invalid config at datasets.alumni: Value error, contract refers to unknown column 'employee_no'", 3, 5),
    ("lake: ./lake\n", "missing key 'datasets': add it", 1, 1),
])
def test_a_config_mistake_is_named_at_its_line_and_column(tmp_path: Path, text: str, message: str, line: int,
                                                          column: int) -> None:
    path = tmp_path / "campuslake.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    assert raised.value.message.startswith(message), raised.value.message
    assert raised.value.context == {"file": str(path), "line": line, "column": column}


def test_the_cli_reports_a_config_mistake_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "campuslake.yaml"
    path.write_text("normalisation: {}\n" + DATASET)
    result = run_cli(tmp_path / "lake", "--config", str(path), "batches")
    assert result.code == 1
    assert "did you mean 'normalization'?" in result.stderr
    assert f"file={path}, line=1, column=1" in result.stderr
