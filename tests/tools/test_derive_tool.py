"""tools/derive.py: many budgets from one finished search."""

import json

import numpy as np
import pytest

from fbnetv2_tf.cost.counting import count_arch
from fbnetv2_tf.specs import load_archs
from tests.testing.cli import assert_one_line_error, run_tool

QUICK = ("--max_train_images=320", "--batch_size=32", "--verbose=0")


@pytest.fixture(scope="module")
def search_dir(tmp_path_factory):
  out = tmp_path_factory.mktemp("derive") / "search"
  result = run_tool("search", f"--output_dir={out}", "--epochs=2",
                    "--warmup_epochs=1", "--target_mflops=0.3", *QUICK,
                    timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]
  return out


@pytest.mark.slow
def test_one_search_derives_every_target_inside_its_band(search_dir,
                                                         tmp_path):
  out = tmp_path / "derived"
  result = run_tool("derive", f"--search_dir={search_dir}",
                    "--targets=0.15,0.3", "--candidates=4",
                    "--calibration_images=64", f"--output_dir={out}",
                    timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]
  rows = json.loads((out / "derive_result.json").read_text())
  assert [r["target"] for r in rows] == [0.15, 0.3]
  for row in rows:
    (arch,) = load_archs(str(out / row["arch_file"])).values()
    counted = count_arch(arch, 10, 1).mflops
    assert counted == pytest.approx(row["counted_cost"], abs=1e-9)
    assert 0.9 * row["target"] <= counted <= row["target"]
    scores = [c["accuracy"] for c in row["candidates"]]
    assert row["predicted_accuracy"] == max(scores)
    assert 1 <= len(scores) <= 4
    assert f"{row['target']:g} MFLOPs: counted {counted:.4g}" in result.stdout
  assert (out / "pareto.png").stat().st_size > 1000


@pytest.mark.slow
def test_the_restored_supernet_is_the_searched_one(search_dir):
  from fbnetv2_tf.training import derive_job  # pylint: disable=g-import-not-at-top
  net = derive_job.load_supernet(str(search_dir))
  searched = json.loads((search_dir / "search_result.json").read_text())
  for name, p in net.probabilities().items():
    np.testing.assert_allclose(p, searched["probabilities"][name], atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("args, fragments", [
    (("--targets=0.001",), ("costs at most 0.001", "children cost")),
    (("--targets=abc",), ("--targets",)),
    (("--targets=-1",), ("positive",)),
])
def test_bad_targets_are_one_line_errors(search_dir, tmp_path, args,
                                         fragments):
  result = run_tool("derive", f"--search_dir={search_dir}",
                    f"--output_dir={tmp_path}/d", *args)
  assert_one_line_error(result, *fragments)
  assert not (tmp_path / "d").exists()


def test_a_directory_without_a_search_is_a_one_line_error(tmp_path):
  result = run_tool("derive", f"--search_dir={tmp_path}", "--targets=0.2",
                    f"--output_dir={tmp_path}/d")
  assert_one_line_error(result, str(tmp_path), "no search")
  assert not (tmp_path / "d").exists()
