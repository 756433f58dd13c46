"""The examples run as documented and print what they promise."""

import json
import re

import pytest

from tests.testing.cli import run_example


def test_supernet_tour_prints_matching_costs_and_writes_the_child(tmp_path):
  result = run_example("supernet_tour.py", tmp_path)
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
  result = run_example("search_tour.py", tmp_path)
  assert result.returncode == 0, result.stderr[-3000:]
  counted, target = re.search(r"counted ([\d.]+) MFLOPs, target ([\d.]+)",
                              result.stdout).groups()
  assert float(counted) <= float(target)
  log = (tmp_path / "search_tour" / "search_log.jsonl").read_text().splitlines()
  assert [json.loads(line)["epoch"] for line in log] == [1, 2, 3, 4]
  assert (tmp_path / "search_tour" / "probabilities.png").stat().st_size > 1000


@pytest.mark.slow
def test_export_tour_exports_int8_that_agrees_with_keras(tmp_path):
  result = run_example("export_tour.py", tmp_path)
  assert result.returncode == 0, result.stderr[-3000:]
  keras_accuracy = float(re.search(r"Keras test accuracy: ([\d.]+)",
                                   result.stdout).group(1))
  int8 = json.loads((tmp_path / "export_tour" / "tflite" / "tour.int8.json"
                     ).read_text())
  assert int8["accuracy"]["keras"] == pytest.approx(keras_accuracy, abs=1e-4)
  assert int8["accuracy"]["top1_agreement"] > 0.9
  assert int8["float_ops"] == []
  assert "ops left in float: none" in result.stdout
  kept = re.search(r"int8: kept h-swish (\w+) \(fused ([\d.]+) us, "
                   r"delegable ([\d.]+) us\)", result.stdout)
  assert kept, result.stdout
  form = kept.group(1)
  fused, delegable = float(kept.group(2)), float(kept.group(3))
  assert (fused <= delegable) if form == "fused" else (delegable <= fused)
  assert ("metadata: input 'image' normalized by mean (127.5,) and std "
          "(127.5,), output 'logits' with 10 labels") in result.stdout


@pytest.mark.slow
def test_lut_tour_builds_a_full_table_and_searches_within_its_budget(
    tmp_path):
  result = run_example("lut_tour.py", tmp_path)
  assert result.returncode == 0, result.stderr[-3000:]
  rows, keys = map(int, re.search(r"(\d+) rows for (\d+) candidates",
                                  result.stdout).groups())
  assert rows == keys == 24
  mape = float(re.search(r"MAPE ([\d.]+) %", result.stdout).group(1))
  assert 0 < mape < 50  # timed whole networks, not a copy of the prediction
  predicted, target = map(float, re.search(
      r"predicted ([\d.]+) ms, target ([\d.]+) ms", result.stdout).groups())
  assert predicted <= target
  table = json.loads((tmp_path / "lut_tour" / "lut_tour.lut.json"
                      ).read_text())
  assert len({tuple(e[k] for k in ("op", "input_size", "stride", "cin",
                                   "mid", "cout"))
              for e in table["entries"]}) == 24
