"""The adb runner against a fake adb that keeps the real tool's contract."""

import hashlib
import json
import os
import types

import keras
import pytest

from fbnetv2_tf.export import tflite
from fbnetv2_tf.lut import adb
from fbnetv2_tf.errors import DeviceLost, RunnerError
from fbnetv2_tf.lut.runner import MeasureSettings
from tests.testing import fake_adb

REMOTE_DIR = "data/local/tmp/fbnetv2_tf_lut"  # under a fake device's root
FAST = MeasureSettings(threads=1, warmup=8, trials=3, runs=5)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
  """A tiny and a much larger .tflite; the larger does ~10^4 times the work."""
  folder = tmp_path_factory.mktemp("models")

  def write(name, filters, layers, kernel):
    inputs = keras.Input((16, 16, 3))
    x = inputs
    for _ in range(layers):
      x = keras.layers.Conv2D(filters, kernel, padding="same")(x)
    path = folder / f"{name}.tflite"
    path.write_bytes(tflite.convert_to_tflite(keras.Model(inputs, x)))
    return str(path)

  return {"small": write("small", 2, 1, 1), "large": write("large", 64, 3, 3)}


@pytest.fixture
def fake(tmp_path, monkeypatch):
  """``adb`` on PATH is the fake, with one authorized device SER1."""
  bin_dir, root = tmp_path / "bin", tmp_path / "devices"
  bin_dir.mkdir()
  root.mkdir()
  fake_adb.install(bin_dir)
  monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
  monkeypatch.setenv("FAKE_ADB_ROOT", str(root))
  monkeypatch.setenv("FAKE_ADB_DEVICES", "SER1:device")
  for name in ("FAKE_ADB_PROPS", "FAKE_ADB_GOVERNOR", "FAKE_ADB_LOSE_AFTER",
               "ANDROID_SERIAL"):
    monkeypatch.delenv(name, raising=False)
  binary = tmp_path / "benchmark_model"
  binary.write_bytes(b"\x7fELF not really an arm64 benchmark_model")

  def log(name):
    path = root / name
    return path.read_text().splitlines() if path.exists() else []

  return types.SimpleNamespace(root=root, binary=str(binary), log=log,
                               env=monkeypatch.setenv, tmp=tmp_path)


def _benchmark_calls(fake):
  return [line for line in fake.log("shell.log") if "--graph=" in line]


def test_measures_each_model_and_removes_what_it_pushed(fake, models):
  with adb.AdbRunner(fake.binary) as runner:
    stats = runner.measure(models, FAST)
    assert (fake.root / "SER1" / REMOTE_DIR / "large.tflite").is_file()
    assert os.access(fake.root / "SER1" / REMOTE_DIR / "benchmark_model",
                     os.X_OK)
    # A second call pushes nothing again.
    runner.measure(models, MeasureSettings(warmup=0, trials=1, runs=1))
  assert not (fake.root / "SER1" / REMOTE_DIR).exists()

  small, large = stats["small"], stats["large"]
  for s in (small, large):
    # benchmark_model times whole microseconds: the tiny model may read 0.
    assert 0 <= s.median_us <= s.p90_us
    assert s.std_us >= 0
  assert large.median_us > 0
  assert large.median_us > 5 * small.median_us

  pushes = [line for line in fake.log("adb.log") if " push " in line]
  assert len(pushes) == 3 and all(l.startswith("SER1 push ") for l in pushes)
  calls = _benchmark_calls(fake)
  assert len(calls) == 2 * FAST.trials + 2
  for name in models:
    visits = [c for c in calls[:2 * FAST.trials] if f"/{name}.tflite" in c]
    # Full warm-up on the first visit, a short one on later visits.
    assert [c.split("--warmup_runs=")[1].split()[0] for c in visits] == [
        "8", "5", "5"]
    assert all("--num_threads=1" in c and "--num_runs=5" in c
               and "--use_xnnpack=true" in c and "taskset" not in c
               for c in visits)


def test_describe_reads_the_device(fake):
  fake.env("FAKE_ADB_PROPS", json.dumps({
      "ro.product.model": "SM-S911B", "ro.soc.model": "",
      "ro.board.platform": "kalama", "ro.build.version.release": "13"}))
  fake.env("FAKE_ADB_GOVERNOR", "performance")
  description = adb.AdbRunner(fake.binary).describe()
  with open(fake.binary, "rb") as f:
    digest = hashlib.sha256(f.read()).hexdigest()
  assert description == {
      "runner": "adb", "serial": "SER1", "model": "SM-S911B",
      "soc": "kalama", "abi": "arm64-v8a", "android": "13",
      "governor": "performance", "runtime": "benchmark_model",
      "binary": "benchmark_model", "binary_sha256": digest}


def test_describe_defaults_and_an_unreadable_governor(fake):
  fake.env("FAKE_ADB_GOVERNOR", "")
  description = adb.AdbRunner(fake.binary).describe()
  assert (description["model"], description["soc"], description["governor"]
          ) == ("Pixel 7", "GS201", "unknown")


@pytest.mark.parametrize("devices,serial,fragments", [
    ("", None, ["no Android device", "USB debugging"]),
    ("SER1:device,SER2:device", None, ["SER1, SER2", "by its serial"]),
    ("SER1:device", "SER9", ["SER9", "not connected", "SER1"]),
    ("SER1:unauthorized", None, ["SER1", "unauthorized", "RSA"]),
    ("SER1:device,SER2:offline", "SER2", ["SER2", "offline", "reconnect"]),
])
def test_device_selection_errors_are_one_line(fake, devices, serial,
                                              fragments):
  fake.env("FAKE_ADB_DEVICES", devices)
  with pytest.raises(RunnerError) as error:
    adb.AdbRunner(fake.binary, serial=serial)
  assert "\n" not in str(error.value)
  for fragment in fragments:
    assert fragment in str(error.value)


def test_a_serial_picks_one_of_several_devices(fake):
  fake.env("FAKE_ADB_DEVICES", "SER1:device,SER2:device")
  fake.env("FAKE_ADB_PROPS", json.dumps({"ro.product.model": "Pixel 8"}))
  assert adb.AdbRunner(fake.binary, serial="SER2").describe()["serial"] == (
      "SER2")
  assert all(line.startswith("SER2 ") for line in fake.log("adb.log")
             if " devices" not in line)


def test_a_missing_benchmark_binary_says_how_to_get_one(fake):
  missing = str(fake.tmp / "nowhere" / "benchmark_model")
  with pytest.raises(RunnerError) as error:
    adb.AdbRunner(missing)
  message = str(error.value)
  assert "\n" not in message
  for fragment in (missing, "//tensorflow/lite/tools/benchmark:benchmark_model",
                   "--config=android_arm64", "download"):
    assert fragment in message


def test_adb_not_installed(fake):
  fake.env("PATH", str(fake.tmp / "empty"))
  with pytest.raises(RunnerError) as error:
    adb.AdbRunner(fake.binary)
  assert "\n" not in str(error.value)
  assert "Debian package `adb`" in str(error.value)
  with pytest.raises(RunnerError, match="path to adb"):
    adb.AdbRunner(fake.binary, adb=str(fake.tmp / "sdk" / "adb"))


def test_a_device_lost_mid_run(fake, models):
  fake.env("FAKE_ADB_LOSE_AFTER", "2")
  runner = adb.AdbRunner(fake.binary)
  twice = {"a": models["small"], "b": models["small"]}
  with pytest.raises(DeviceLost) as error:
    runner.measure(twice, FAST)
  message = str(error.value)
  assert "\n" not in message
  assert "SER1" in message and "kept" in message and "rerun" in message
  assert len(_benchmark_calls(fake)) == 2
  runner.close()  # The device is gone; closing still works.


@pytest.mark.parametrize("cpu,mask", [(0, "1"), (2, "4"), (5, "20")])
def test_a_cpu_pins_benchmark_model_with_taskset(fake, models, cpu, mask):
  with adb.AdbRunner(fake.binary) as runner:
    runner.measure({"small": models["small"]},
                   MeasureSettings(warmup=1, trials=1, runs=1, cpu=cpu))
  [call] = _benchmark_calls(fake)
  assert call.startswith(f"SER1 taskset {mask} /{REMOTE_DIR}/benchmark_model ")


def test_a_failing_benchmark_quotes_its_last_line(fake):
  garbage = fake.tmp / "garbage.tflite"
  garbage.write_bytes(b"not a flatbuffer")
  with adb.AdbRunner(fake.binary) as runner:
    with pytest.raises(RunnerError) as error:
      runner.measure({"garbage": str(garbage)}, FAST)
  assert not isinstance(error.value, DeviceLost)
  assert str(error.value).endswith("ERROR: Benchmarking failed.")


# benchmark_model's stdout (TFLITE_LOG(INFO) lines from benchmark_main.cc,
# benchmark_model.cc and benchmark_tflite_model.cc; statistics from
# tsl::Stat::OutputToStream, each followed by an empty line).
REAL_OUTPUT = """\
INFO: STARTING!
INFO: Log parameter values verbosely: [0]
INFO: Min num runs: [50]
INFO: Num threads: [1]
INFO: Graph: [/data/local/tmp/mobilenet_quant_v1_224.tflite]
INFO: #threads used for CPU inference: [1]
INFO: Loaded model /data/local/tmp/mobilenet_quant_v1_224.tflite
INFO: Initialized TensorFlow Lite runtime.
INFO: Created TensorFlow Lite XNNPACK delegate for CPU.
INFO: The input model file size (MB): 4.27635
INFO: Initialized session in 3.501ms.
INFO: Running benchmark for at least 1 iterations and at least 0.5 seconds \
but terminate if exceeding 150 seconds.
INFO: count=12 first=156677 curr=33205 min=32578 max=156677 avg=43268.1 \
std=34197

INFO: Running benchmark for at least 50 iterations and at least 1 seconds \
but terminate if exceeding 150 seconds.
INFO: count=50 first=33228 curr=33130 min=32687 max=33239 avg=33071.8 std=129

INFO: Inference timings in us: Init: 3501, First inference: 156677, \
Warmup (avg): 43268.1, Inference (avg): 33071.8
INFO: Memory footprint delta from the start of the tool (MB): init=4.58984 \
overall=7.82031
"""


def test_the_parser_reads_the_mean_of_the_timed_runs():
  assert adb.parse_benchmark_output(REAL_OUTPUT) == 33071.8
  # Older builds print no "INFO: " prefix; the C++ stream prints large
  # doubles in exponent form.
  assert adb.parse_benchmark_output(
      "Inference timings in us: Init: 25558, First inference: 9992420, "
      "Warmup (avg): 9.99242e+06, Inference (avg): 8.45969e+06\n") == 8459690


def test_the_parser_reads_a_model_faster_than_the_timer_as_zero():
  # Each run is timed in whole microseconds: a skip candidate on a fast
  # core reads 0, which is a measurement and must not stop a table build.
  line = ("INFO: Inference timings in us: Init: 750, First inference: 45, "
          "Warmup (avg): 23, Inference (avg): 0\n")
  assert adb.parse_benchmark_output(line) == 0.0
  for broken in ("-1", "nan"):
    with pytest.raises(RunnerError):
      adb.parse_benchmark_output(line.replace("(avg): 0", f"(avg): {broken}"))


def test_the_parser_quotes_the_last_line_of_output_it_cannot_read():
  with pytest.raises(RunnerError) as error:
    adb.parse_benchmark_output(REAL_OUTPUT.split("INFO: Inference")[0])
  message = str(error.value)
  assert "\n" not in message
  assert message.endswith("INFO: count=50 first=33228 curr=33130 min=32687 "
                          "max=33239 avg=33071.8 std=129")
