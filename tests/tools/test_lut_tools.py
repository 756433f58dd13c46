"""build_lut, validate_lut and benchmark as a user runs them: killed and
resumed, on a (fake) Android device, and their one-line errors."""

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from fbnetv2_tf.lut import build
from tests.testing import fake_adb
from tests.testing.cli import assert_one_line_error, run_tool
from tests.testing.models import MICRO_SPACE
from tests.testing.paths import REPO_ROOT
from tests.testing.processes import ProcessGroup, kill_when


@pytest.fixture(scope="module")
def space_file(tmp_path_factory):
  path = tmp_path_factory.mktemp("space") / "micro.json"
  path.write_text(json.dumps(MICRO_SPACE))
  return path


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
  return tmp_path_factory.mktemp("cache")


def _rows(path):
  entries = json.loads(path.read_text())["entries"]
  return [tuple(e[f] for f in ("op", "input_size", "stride", "cin", "mid",
                               "cout")) for e in entries]


def _build_args(space_file, cache, out, *extra):
  # Every trial counts: these tests are about files and processes, and a
  # busy test machine would otherwise retime batches waiting for its fast
  # state (selection: tests/lut/test_probes.py and the LUT tour).
  return (f"--space={space_file}", "--input_channels=1", "--num_classes=4",
          f"--output={out}", f"--cache_dir={cache}", "--warmup=2",
          "--fast_within=0", *extra)


@pytest.mark.slow
def test_build_lut_killed_mid_way_and_rerun_has_one_row_per_candidate(
    space_file, cache, tmp_path):
  out = tmp_path / "micro.json"
  # Long visits (2000 runs) so the kill lands inside the second batch.
  args = _build_args(space_file, cache, out, "--trials=3", "--runs=2000")
  with ProcessGroup() as group:
    proc = group.start([sys.executable, "-m", "tools.build_lut", *args],
                       cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL,
                       env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    # The table is written whole and renamed into place after each batch:
    # the moment it exists, it holds the first batch and the second runs.
    kill_when(proc, out.exists, timeout_s=600)
  partial = _rows(out)
  assert len(partial) == len(set(partial)) == build.BATCH < 26
  result = run_tool("build_lut", *args, timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]
  rows = _rows(out)
  assert len(rows) == len(set(rows)) == 26
  assert set(partial) <= set(rows)


@pytest.fixture
def device(tmp_path):
  """A fake adb on PATH with one authorized device; env for run_tool."""
  bin_dir, root = tmp_path / "bin", tmp_path / "devices"
  bin_dir.mkdir()
  root.mkdir()
  fake_adb.install(bin_dir)
  binary = tmp_path / "benchmark_model"
  binary.write_bytes(b"\x7fELF stand-in")
  env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
         "FAKE_ADB_ROOT": str(root), "FAKE_ADB_DEVICES": "SER1:device"}
  return env, binary


def _with_env(env):
  saved = {k: os.environ.get(k) for k in env}
  os.environ.update(env)
  return saved


def _restore(saved):
  for k, v in saved.items():
    if v is None:
      os.environ.pop(k, None)
    else:
      os.environ[k] = v


@pytest.mark.slow
def test_adb_build_survives_a_lost_device_and_resumes(space_file, cache,
                                                      tmp_path, device):
  env, binary = device
  out = tmp_path / "phone.json"
  args = _build_args(space_file, cache, out, "--runner=adb",
                     f"--benchmark_binary={binary}", "--trials=1", "--runs=3")
  # A batch is 24 candidates and 2 probes, and every trial counts (no
  # settling, no retimed batch): the device goes in the second batch.
  saved = _with_env({**env, "FAKE_ADB_LOSE_AFTER": "28"})
  try:
    lost = run_tool("build_lut", *args, timeout=900)
  finally:
    _restore(saved)
  assert_one_line_error(lost, "SER1")
  assert len(_rows(out)) == 24  # the first batch, kept
  header = json.loads(out.read_text())["header"]
  assert header["runner"]["runner"] == "adb" and header["runner"]["serial"] == "SER1"
  saved = _with_env(env)
  try:
    resumed = run_tool("build_lut", *args, timeout=900)
  finally:
    _restore(saved)
  assert resumed.returncode == 0, resumed.stderr[-3000:]
  assert len(set(_rows(out))) == len(_rows(out)) == 26


# Every adb mistake is a one-line RunnerError in tests/lut/test_adb_runner.py;
# here, that the binary turns them into one error line and no table.
@pytest.mark.parametrize("case, extra, env_change, fragments", [
    ("binary missing", ("--runner=adb", "--benchmark_binary=/nonexistent/bm"),
     {}, ("/nonexistent/bm",)),
    ("two devices", ("--runner=adb",),
     {"FAKE_ADB_DEVICES": "SER1:device,SER2:device"},
     ("by its serial", "SER2")),
])
def test_adb_mistakes_are_one_line_errors(case, extra, env_change, fragments,
                                          space_file, cache, tmp_path, device):
  env, binary = device
  out = tmp_path / "phone.json"
  if case != "binary missing":
    extra = (*extra, f"--benchmark_binary={binary}")
  saved = _with_env({**env, **env_change})
  try:
    result = run_tool("build_lut", *_build_args(space_file, cache, out),
                      *extra)
  finally:
    _restore(saved)
  assert_one_line_error(result, *fragments)
  assert not out.exists()


@pytest.mark.slow
def test_validate_lut_reports_and_calibrates(space_file, cache, tmp_path):
  out = tmp_path / "micro.json"
  built = run_tool("build_lut", *_build_args(space_file, cache, out,
                                             "--trials=5", "--runs=20"),
                   timeout=900)
  assert built.returncode == 0, built.stderr[-3000:]
  unknown = run_tool("validate_lut", f"--lut={out}")
  assert_one_line_error(unknown, "'micro'", "--space")
  padded = tmp_path / "micro_same.json"
  padded.write_text(json.dumps({**MICRO_SPACE, "padding": "same"}))
  other_padding = run_tool("validate_lut", f"--lut={out}", f"--space={padded}")
  assert_one_line_error(other_padding, "pads strided convs same",
                        "built symmetric")
  result = run_tool("validate_lut", f"--lut={out}", f"--space={space_file}",
                    "--archs=4", "--calibrate", f"--work_dir={tmp_path}/nets",
                    timeout=900)
  assert result.returncode == 0, result.stderr[-3000:]
  report = json.loads((tmp_path / "micro.validation_16px.json").read_text())
  p, m = (np.array(report[k]) for k in ("predicted_us", "measured_us"))
  assert len(m) == 4 and len(set(report["archs"])) == 4
  # The figures it prints are those of the pairs it wrote.
  assert report["mape"] == pytest.approx(np.mean(np.abs(p - m) / m))
  assert report["spearman"] == pytest.approx(
      np.corrcoef(np.argsort(np.argsort(p)), np.argsort(np.argsort(m)))[0, 1])
  assert f"MAPE {100 * report['mape']:.2f} %" in result.stdout
  fitted = json.loads((tmp_path / "micro.calibration.json").read_text())
  # Least squares: no worse than no correction in squared error (MAPE, a
  # different loss, can go either way).
  fitted_error = np.sum((fitted["scale"] * p + fitted["offset_ms"] * 1e3 - m)**2)
  assert fitted_error <= np.sum((p - m)**2) * (1 + 1e-9)
  with Image.open(tmp_path / "micro.validation_16px.png") as plot:
    assert plot.format == "PNG" and min(plot.size) >= 300
  again = run_tool("validate_lut", f"--lut={out}", f"--space={space_file}",
                   "--archs=4",
                   f"--work_dir={tmp_path}/nets", timeout=900)
  assert again.returncode == 0, again.stderr[-3000:]
  # The second run applies the stored correction to its own measurements.
  second = json.loads((tmp_path / "micro.validation_16px.json").read_text())
  p2, m2 = (np.array(second[k]) for k in ("predicted_us", "measured_us"))
  corrected = fitted["scale"] * p2 + fitted["offset_ms"] * 1e3
  assert second["corrected"]["mape"] == pytest.approx(
      np.mean(np.abs(corrected - m2) / m2))
  assert "With the stored correction" in again.stdout


def test_benchmark_times_a_tflite_file(tmp_path):
  import keras  # pylint: disable=import-outside-toplevel
  from fbnetv2_tf.export import tflite  # pylint: disable=import-outside-toplevel
  inputs = keras.Input((16, 16, 3))
  model = keras.Model(inputs, keras.layers.Conv2D(8, 3)(inputs))
  path = tmp_path / "conv.tflite"
  path.write_bytes(tflite.convert_to_tflite(model))
  for selection, note in (([], r"\((\d) of (\d+) trials in the fast state\)"),
                          (["--fast_within=0"], r"runs\n")):
    result = run_tool("benchmark", f"--model={path}", "--trials=3",
                      "--runs=5", "--warmup=2", *selection)
    assert result.returncode == 0, result.stderr
    median = float(re.search(r"conv.tflite\s+median\s+([\d.]+) ms",
                             result.stdout).group(1))
    assert 0 < median < 50
    counted = re.search(note, result.stdout)
    assert counted, result.stdout
    if not selection:  # a third of the trials at least, all of one call
      fast, timed = map(int, counted.groups())
      assert 1 <= fast <= timed and timed % 3 == 0
  assert_one_line_error(run_tool("benchmark", f"--model={tmp_path}/gone.tflite"),
                        "gone.tflite")
