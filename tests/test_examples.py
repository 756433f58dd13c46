"""The examples run as documented and print what they promise."""

import json
import re
import subprocess
import sys

from tests.testing.paths import REPO_ROOT


def test_supernet_tour_prints_matching_costs_and_writes_the_child(tmp_path):
  result = subprocess.run(
      [sys.executable, str(REPO_ROOT / "examples" / "supernet_tour.py")],
      cwd=tmp_path, capture_output=True, text=True, check=False,
      env={"PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3",
           "PATH": "/usr/bin:/bin"})
  assert result.returncode == 0, result.stderr
  assert "tiny32: 437,400 architectures, 12 decisions" in result.stdout
  expected, counted = re.search(
      r"one-hot weights ([\d.]+) MFLOPs, counted ([\d.]+) MFLOPs",
      result.stdout).groups()
  assert expected == counted
  written = json.loads((tmp_path / "tiny32_argmax.json").read_text())
  assert list(written) == ["tiny32_argmax"]
