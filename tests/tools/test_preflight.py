"""Pre-flight: every mistake that can be found before the first step is
found then, in one line that names the values, with nothing written that
would make the corrected rerun into the same directory refuse."""

import json

import numpy as np
import pytest

from fbnetv2_tf.cost.latency_table import HEAD_OP, LatencyTable, required_keys
from fbnetv2_tf.search import derive
from fbnetv2_tf.search.cost_range import cost_range
from fbnetv2_tf.specs import builtin_spaces
from fbnetv2_tf.specs.space_plan import plan_space
from tests.testing.cli import assert_one_line_error, run_tool

# A one-epoch search and a one-epoch training on a subset of the digits.
SEARCH = ("--epochs=1", "--warmup_epochs=1", "--max_train_images=320",
          "--verbose=0")
TRAIN = ("--arch=t@32: conv_k3-c8-s2 | ir_k3-c16-e2-s2 | ir_pool-c64-e4",
         "--epochs=1", "--max_train_images=320", "--verbose=0")


def _write_table(path, without_head=False):
  """A latency table for tiny32 on the digits (1 channel, 10 classes),
  every entry the search needs (or all but the classifier's, which nothing
  can be interpolated from), values drawn at random: what is checked here
  is coverage, not the figures."""
  keys = sorted(required_keys(plan_space(builtin_spaces.tiny32(), 1)))
  rng = np.random.default_rng(0)
  table = LatencyTable({k: float(rng.uniform(5, 50)) for k in keys
                        if not (without_head and k.op == HEAD_OP)})
  path.write_text(json.dumps(table.to_dict()))  # a version-1 table
  return table


def _feasible_ms(table):
  """A latency target halfway between tiny32's cheapest and dearest child."""
  space = builtin_spaces.tiny32()
  cost = derive.child_cost(space, "latency_ms", 10, 1, table)
  extremes = cost_range(space, "latency_ms", 10, 1, table)
  return 0.5 * (cost(extremes.cheapest) + cost(extremes.dearest))


# (binary, bad flags, fragments of the one-line error, corrected flags)
CASES = {
    "budget_below_the_cheapest_child": (
        "search", ("--target_mflops=0.001", "--batch_size=32"),
        ("no architecture of 'tiny32' costs at most 0.001 MFLOPs",
         "its children cost 0.03322 to 1.591 MFLOPs"),
        ("--target_mflops=0.3", "--batch_size=32")),
    "budget_band_above_the_dearest_child": (
        "search", ("--target_mflops=5", "--batch_size=32"),
        ("costs less than 0.9 x 5 MFLOPs", "0.03322 to 1.591 MFLOPs"),
        ("--target_mflops=1.5", "--batch_size=32")),
    "search_batch_larger_than_the_weight_split": (
        "search", ("--target_mflops=0.3", "--batch_size=100000"),
        ("batch size 100000 is larger than the weight split (256 images)",),
        ("--target_mflops=0.3", "--batch_size=32")),
    "train_batch_larger_than_the_training_set": (
        "train", ("--batch_size=100000",),
        ("batch size 100000 is larger than the training set (320 images)",),
        ("--batch_size=32",)),
}


def _run_case(tmp_path, case, flags):
  binary = CASES[case][0]
  common = SEARCH if binary == "search" else TRAIN
  return run_tool(binary, f"--output_dir={tmp_path}/run", *common, *flags,
                  timeout=900)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_mistake_is_one_line_and_writes_nothing(tmp_path, case):
  _, bad, fragments, _ = CASES[case]
  assert_one_line_error(_run_case(tmp_path, case, bad), *fragments)
  assert not (tmp_path / "run").exists()


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_the_corrected_rerun_into_the_same_directory_runs(tmp_path, case):
  _, bad, _, fixed = CASES[case]
  assert _run_case(tmp_path, case, bad).returncode == 1
  result = _run_case(tmp_path, case, fixed)
  assert result.returncode == 0, result.stderr[-3000:]
  assert (tmp_path / "run" / "flags.json").exists()


def test_an_impossible_budget_fails_before_the_data_is_trained(tmp_path):
  result = run_tool("search", f"--output_dir={tmp_path}/run",
                    "--target_mflops=0.001")
  assert_one_line_error(result, "0.03322 to 1.591 MFLOPs")
  assert "Searching" not in result.stdout


def test_an_output_directory_below_a_file_is_refused(tmp_path):
  (tmp_path / "taken").write_text("a file, not a directory")
  result = run_tool("search", f"--output_dir={tmp_path}/taken/run",
                    "--target_mflops=0.3", *SEARCH)
  assert_one_line_error(result, f"{tmp_path}/taken is a file")


@pytest.mark.slow
def test_a_table_missing_an_entry_fails_then_the_complete_one_runs(tmp_path):
  lut = tmp_path / "tiny32.json"
  table = _write_table(lut, without_head=True)
  target = f"--target_ms={_feasible_ms(_write_table(tmp_path / 'full.json'))}"
  result = run_tool("search", f"--output_dir={tmp_path}/run", f"--lut={lut}",
                    target, "--batch_size=32", *SEARCH)
  assert_one_line_error(result, f"{lut} has no entry for head")
  assert not (tmp_path / "run").exists() and len(table) > 0
  _write_table(lut)
  fixed = run_tool("search", f"--output_dir={tmp_path}/run", f"--lut={lut}",
                   target, "--batch_size=32", *SEARCH, timeout=900)
  assert fixed.returncode == 0, fixed.stderr[-3000:]
  assert "Derived architecture" in fixed.stdout
