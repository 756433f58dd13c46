"""The examples run as documented and print what they promise."""

import json
import re
import subprocess
import sys

import pytest

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


@pytest.mark.slow
def test_search_tour_derives_a_child_within_its_budget(tmp_path):
  result = subprocess.run(
      [sys.executable, str(REPO_ROOT / "examples" / "search_tour.py")],
      cwd=tmp_path, capture_output=True, text=True, check=False, timeout=900,
      env={"PYTHONPATH": str(REPO_ROOT), "TF_CPP_MIN_LOG_LEVEL": "3",
           "PATH": "/usr/bin:/bin"})
  assert result.returncode == 0, result.stderr[-3000:]
  counted, target = re.search(r"counted ([\d.]+) MFLOPs, target ([\d.]+)",
                              result.stdout).groups()
  assert float(counted) <= float(target)
  log = (tmp_path / "search_tour" / "search_log.jsonl").read_text().splitlines()
  assert [json.loads(line)["epoch"] for line in log] == [1, 2, 3, 4]
  assert (tmp_path / "search_tour" / "probabilities.png").stat().st_size > 1000
