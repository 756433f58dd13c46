"""benchmarks/gpu_check.sh runs end to end, here on the CPU."""

import json
import os
import subprocess

import pytest

from tests.testing.paths import REPO_ROOT


@pytest.mark.slow
def test_the_gpu_check_runs_on_the_cpu_and_reports_both_precisions(tmp_path):
  import sys  # pylint: disable=import-outside-toplevel
  env = {**os.environ, "PYTHON": sys.executable}
  result = subprocess.run(
      [str(REPO_ROOT / "benchmarks" / "gpu_check.sh"), "--cpu",
       "--space=tiny32", f"--work_dir={tmp_path}"], cwd=REPO_ROOT, env=env,
      capture_output=True, text=True, timeout=1800, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads((tmp_path / "gpu_check.json").read_text())
  assert report["batch_size"] == 4
  assert set(report["precisions"]) == {"float32", "mixed_bfloat16"}
  for row in report["precisions"].values():
    assert row["step_seconds"] > 0
    assert row["images_per_second"] == pytest.approx(
        2 * 4 / row["step_seconds"])
    assert row["peak_memory_mb"] > 100
    assert 0 <= row["child_test_accuracy"] <= 1
  assert "mixed_bfloat16" in result.stdout


def test_an_unknown_argument_is_one_line():
  result = subprocess.run(
      [str(REPO_ROOT / "benchmarks" / "gpu_check.sh"), "--gpus=2"],
      cwd=REPO_ROOT, capture_output=True, text=True, timeout=60, check=False)
  assert result.returncode == 2
  assert result.stderr.strip().splitlines() == [
      "error: unknown argument --gpus=2 (use --cpu, --work_dir=DIR, "
      "--space=NAME)"]
