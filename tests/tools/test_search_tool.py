"""tools/search.py and tools/train.py as a user runs them."""

import json
import os
import re
import subprocess
import sys
import sysconfig

import numpy as np
import pytest

from fbnetv2_tf.cost.keras_counting import count_keras_model
from fbnetv2_tf.export.sources import load_keras_model
from tests.testing.cli import assert_one_line_error, run_tool
from tests.testing.paths import REPO_ROOT
from tests.testing.processes import ProcessGroup, kill_when

# A short search on a subset of the built-in digits.
QUICK = ("--max_train_images=320", "--batch_size=32", "--verbose=0")


@pytest.mark.parametrize("args, fragments", [
    (("--dataset=mnist_typo", "--target_mflops=1"),
     ("unknown dataset 'mnist_typo'",)),
    (("--dataset=fashion_mnist", "--data_dir=/nonexistent/fm",
      "--target_mflops=1"),
     ("/nonexistent/fm",)),
    (("--loss=budget",), ("needs a target",)),
    (("--target_mflops=1", "--target_mparams=1"), ("one of",)),
    (("--target_ms=3",), ("--lut",)),
    (("--space=tiny99", "--target_mflops=1"), ("unknown search space 'tiny99'",)),
    (("--target_mflops=1", "stray"), ("unexpected arguments: stray",)),
    (("--jit_compile", "--nodeterministic", "--target_mflops=0.3"),
     ("XLA has no kernel", "tiny32")),
])
def test_bad_search_arguments_are_one_line_errors(tmp_path, args, fragments):
  result = run_tool("search", f"--output_dir={tmp_path}/out", *args)
  assert_one_line_error(result, *fragments)


def test_train_needs_a_known_arch(tmp_path):
  result = run_tool("train", "--arch=NoSuchNet", f"--output_dir={tmp_path}")
  assert_one_line_error(result, "NoSuchNet")


def test_resuming_under_other_flags_is_refused(tmp_path):
  out = tmp_path / "out"
  out.mkdir()
  (out / "flags.json").write_text(json.dumps({"seed": 1}))
  result = run_tool("search", f"--output_dir={out}", "--target_mflops=0.3",
                    "--seed=2")
  assert_one_line_error(result, "other settings")


@pytest.mark.slow
def test_search_then_train_end_to_end(tmp_path):
  out = tmp_path / "search"
  result = run_tool("search", f"--output_dir={out}", "--epochs=3",
                    "--warmup_epochs=1", "--target_mflops=0.2", *QUICK,
                    timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]
  summary = json.loads((out / "search_result.json").read_text())
  assert summary["counted_cost"] <= 0.2
  assert f"counted {summary['counted_cost']:.4g} MFLOPs" in result.stdout
  assert len(summary["history"]["loss"]) == 3
  for name in ("arch.json", "probabilities.png", "search_log.jsonl",
               "checkpoint.npz", "flags.json"):
    assert (out / name).stat().st_size > 0, name
  assert any(f.startswith("events") for f in os.listdir(out / "tensorboard"))
  trained = run_tool("train", f"--arch={out}/arch.json",
                     f"--output_dir={tmp_path}/child", "--epochs=8", *QUICK,
                     timeout=900)
  assert trained.returncode == 0, trained.stderr[-3000:]
  accuracy = json.loads((tmp_path / "child" / "train_result.json").read_text()
                        )["test_accuracy"]
  assert f"Test accuracy of tiny32_searched: {accuracy:.4f}" in trained.stdout
  assert accuracy > 0.3  # 10 classes: chance is 0.1
  # The digits have one channel: the cost both binaries print is that of the
  # Keras model the child trained as, not of a 3-channel stem.
  child = load_keras_model(str(tmp_path / "child" / "tiny32_searched.keras"))
  keras_mflops = count_keras_model(child).mflops
  assert summary["counted_cost"] == pytest.approx(keras_mflops, abs=1e-6)
  assert f"  {keras_mflops:.4g} MFLOPs," in trained.stdout


def _checkpoint_state(directory):
  with np.load(directory / "checkpoint.npz") as data:
    return [data[k] for k in sorted(data.files)]


def _finished_epochs(directory):
  """The epochs that ``directory``'s checkpoint holds, 0 before the first.

  The checkpoint is written whole and renamed into place
  (``training.checkpoint``), so a file that exists is complete.
  """
  path = directory / "checkpoint.npz"
  if not path.exists():
    return 0
  with np.load(path) as data:
    return int(data["finished_epochs"])


def _logged_epochs(directory):
  with open(directory / "search_log.jsonl", encoding="utf-8") as f:
    return [json.loads(line)["epoch"] for line in f]


@pytest.mark.slow
def test_a_search_killed_after_its_first_epoch_resumes_to_the_same_result(
    tmp_path):
  args = ("--epochs=2", "--warmup_epochs=1", "--target_mflops=0.25", *QUICK)
  whole = run_tool("search", f"--output_dir={tmp_path}/whole", *args,
                   timeout=900)
  assert whole.returncode == 0, whole.stderr[-3000:]
  killed = tmp_path / "killed"
  env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
  with ProcessGroup() as group:
    proc = group.start(
        [sys.executable, "-m", "tools.search", f"--output_dir={killed}",
         *args], cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    # Killed the moment epoch 1's checkpoint is in place, as epoch 2 (the
    # architecture epoch, the last) begins. Not on a timer: the log line of
    # an epoch comes before its heatmap and its checkpoint, and a fixed wait
    # after it could kill before the checkpoint or after epoch 2.
    kill_when(proc, lambda: _finished_epochs(killed) >= 1, timeout_s=600)
  # The state at the kill: epoch 1 done and checkpointed, epoch 2 cut short
  # (its log line, written before its checkpoint, is missing).
  assert _finished_epochs(killed) == 1
  assert _logged_epochs(killed) == [1]
  resumed = run_tool("search", f"--output_dir={killed}", *args, timeout=900)
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  assert "1 of 2 epochs done" in resumed.stdout
  assert _logged_epochs(killed) == [1, 2]
  assert ((killed / "arch.json").read_text()
          == (tmp_path / "whole" / "arch.json").read_text())
  # Bit for bit: with Grappler off (training.run_setup.make_deterministic)
  # the resumed run computes exactly what the uninterrupted one did.
  for a, b in zip(_checkpoint_state(killed), _checkpoint_state(tmp_path / "whole")):
    np.testing.assert_array_equal(a, b)


@pytest.mark.slow
def test_a_nan_loss_stops_with_a_message_and_an_intact_checkpoint(tmp_path):
  out = tmp_path / "nan"
  result = run_tool("search", f"--output_dir={out}", "--epochs=3",
                    "--warmup_epochs=3", "--target_mflops=0.3",
                    "--weight_lr=1e12", *QUICK, timeout=900)
  assert_one_line_error(result, "non-finite", "checkpoint")
  # It diverges in the first epoch, so no checkpoint was written (a NaN after
  # a good epoch keeps that epoch's: tests/training/test_checkpoint.py).
  assert not (out / "checkpoint.npz").exists()


def test_flags_come_from_a_flagfile_too(tmp_path):
  flagfile = tmp_path / "search.flags"
  flagfile.write_text("--dataset=mnist_typo\n--target_mflops=1\n")
  result = run_tool("search", f"--flagfile={flagfile}",
                    f"--output_dir={tmp_path}/out")
  assert_one_line_error(result, "unknown dataset 'mnist_typo'")


@pytest.mark.slow
def test_a_corrected_rerun_after_a_typo_runs_and_shows_no_tensorflow_logs(
    tmp_path):
  args = (f"--output_dir={tmp_path}/run", "--epochs=1", "--warmup_epochs=1",
          "--target_mflops=0.25", *QUICK)
  typo = run_tool("search", "--dataset=digitz", *args)
  assert_one_line_error(typo, "unknown dataset 'digitz'")
  assert not (tmp_path / "run" / "flags.json").exists()
  # As a user runs it: the console script, TensorFlow's logging untouched.
  env = {k: v for k, v in os.environ.items() if not k.startswith("TF_CPP")}
  script = os.path.join(sysconfig.get_path("scripts"), "fbnetv2-search")
  fixed = subprocess.run([script, "--dataset=digits", *args], cwd=tmp_path,
                         env=env,
                         capture_output=True, text=True, timeout=600,
                         check=False)
  assert fixed.returncode == 0, fixed.stderr[-3000:]
  assert "Derived architecture" in fixed.stdout
  cxx_log = re.compile(r"^[IWEF]\d{4} |absl::InitializeLog|cuInit")
  noise = [l for l in (fixed.stderr + fixed.stdout).splitlines()
           if cxx_log.search(l)]
  assert not noise, noise


def _folder_with_corrupt_files(root, per_class=12):
  """A 32 px image folder of three classes with two files that do not
  decode (one garbage, one cut short)."""
  from PIL import Image  # pylint: disable=import-outside-toplevel
  rng = np.random.default_rng(0)
  for name in ("a", "b", "c"):
    (root / name).mkdir(parents=True)
    for i in range(per_class):
      Image.fromarray(rng.integers(0, 256, (32, 32), np.uint8)).save(
          root / name / f"{i:02d}.png")
  (root / "a" / "garbage.png").write_bytes(b"\x89PNG not really")
  whole = (root / "b" / "00.png").read_bytes()
  (root / "b" / "cut.png").write_bytes(whole[:len(whole) // 3])
  return root


def test_a_folder_with_corrupt_files_stops_in_one_line_naming_them(tmp_path):
  root = _folder_with_corrupt_files(tmp_path / "images")
  result = run_tool("search", f"--output_dir={tmp_path}/out",
                    "--dataset=image_folder", f"--data_dir={root}",
                    "--input_pipeline=stream", "--target_mflops=0.3")
  assert_one_line_error(result, "2 of 38 files cannot be decoded",
                        "a/garbage.png", "b/cut.png", "--bad_files=skip")
  assert not (tmp_path / "out" / "flags.json").exists()


@pytest.mark.slow
@pytest.mark.parametrize("pipeline", ["stream", "memory"])
def test_a_folder_with_corrupt_files_is_searched_without_them(tmp_path,
                                                              pipeline):
  root = _folder_with_corrupt_files(tmp_path / "images")
  result = run_tool("search", f"--output_dir={tmp_path}/out",
                    "--dataset=image_folder", f"--data_dir={root}",
                    f"--input_pipeline={pipeline}", "--bad_files=skip",
                    "--epochs=2", "--warmup_epochs=1", "--steps_per_epoch=2",
                    "--batch_size=8", "--target_mflops=0.3", "--verbose=0",
                    timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]
  notes = [l for l in result.stdout.splitlines() if "cannot be decoded" in l]
  assert len(notes) == 1 and notes[0].startswith(
      "image_folder: 2 of 38 files cannot be decoded")
  assert ("(streamed)" in result.stdout) == (pipeline == "stream")
  # 36 files decode; 7 of them (20 %) are held out for the test split.
  assert "29 training images" in result.stdout
  assert _logged_epochs(tmp_path / "out") == [1, 2]
