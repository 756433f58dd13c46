"""fbnetv2-export's latency check times a file as fbnetv2-benchmark does:
the same settings type and defaults, the same runner and the same probed
measurement, so both report one file's same latency. The measurement is
replaced by a recorder: nothing here is timed.
"""

import dataclasses
import json
import os
import subprocess
import sys

import keras
import pytest

from fbnetv2_tf.export import pipeline
from fbnetv2_tf.lut import probes
from fbnetv2_tf.lut.host import HostRunner
from fbnetv2_tf.lut.runner import LatencyStats, MeasureSettings
from tests.testing.paths import REPO_ROOT

# The stand-in measurement: every file takes this long.
MEDIAN_US, P90_US, STD_US = 1234.0, 1300.0, 20.0

# Runs one binary's code up to its measurement, in a process of its own
# (the binaries' flags share names), and prints what the measurement got.
_RECORD = """
import dataclasses, json, sys
from absl import flags
from fbnetv2_tf import cli
from fbnetv2_tf.lut import probes
from fbnetv2_tf.lut.runner import LatencyStats
binary, *args = sys.argv[1:]
getattr(cli.flag_definitions(binary), f"define_{binary}_flags")()
flags.FLAGS([binary, *args])
seen = {}

def measure_files(runner, paths, settings, cache, dtype="fp32"):
  seen.update(runner=type(runner).__name__, dtype=dtype,
              settings=dataclasses.asdict(settings))
  stats = {name: LatencyStats(1.0, 1.0, 0.0) for name in paths}
  return probes.Probed(stats, stats, 0.5, 1.0, 7, 21)

probes.measure_files = measure_files
if binary == "benchmark":
  import tools.benchmark as tool
  tool._tflite_files = lambda work: {"model.tflite": args[0].split("=")[1]}
  tool.main([])
else:
  import tools.export as tool
  seen["settings"] = dataclasses.asdict(tool._latency_settings())
print(json.dumps(seen))
"""


def _recorded(binary, *args):
  result = subprocess.run([sys.executable, "-c", _RECORD, binary, *args],
                          cwd=REPO_ROOT, capture_output=True, text=True,
                          timeout=300, check=False)
  assert result.returncode == 0, result.stderr[-3000:]
  return json.loads(result.stdout.splitlines()[-1])


@pytest.fixture
def recorder(monkeypatch):
  """Replaces the probed measurement; what it was called with."""
  calls = []

  def measure_files(runner, paths, settings, cache, dtype="fp32"):
    calls.append({"runner": type(runner).__name__, "paths": dict(paths),
                  "settings": dataclasses.asdict(settings), "dtype": dtype})
    stats = {name: LatencyStats(MEDIAN_US, P90_US, STD_US, (MEDIAN_US,))
             for name in paths}
    return probes.Probed(stats, stats, 0.5, 10.0, 7, 21)

  monkeypatch.setattr(probes, "measure_files", measure_files)
  return calls


def test_export_and_benchmark_default_to_the_one_settings_type():
  default = dataclasses.asdict(MeasureSettings())
  assert isinstance(pipeline.ExportJob("out").latency, MeasureSettings)
  assert dataclasses.asdict(pipeline.ExportJob("out").latency) == default
  exported = _recorded("export", "--arch=FBNetV2_F1", "--output_dir=out")
  assert exported["settings"] == default


def test_export_times_through_the_benchmarks_runner_and_probes(recorder,
                                                               tmp_path):
  model_file = tmp_path / "model.tflite"
  model_file.write_bytes(b"")  # the benchmark checks that it exists
  benchmarked = _recorded("benchmark", f"--model={model_file}")
  probed = pipeline.measure_latency({"fp32": str(model_file)},
                                    pipeline.ExportJob("out").latency)
  (exported,) = recorder
  assert exported["runner"] == benchmarked["runner"] == HostRunner.__name__
  assert exported["settings"] == benchmarked["settings"]
  assert exported["dtype"] == benchmarked["dtype"]
  assert exported["paths"] == {"fp32": str(model_file)}
  assert probed.stats["fp32"].median_us == MEDIAN_US


def test_an_export_report_holds_the_latency_in_microseconds(recorder,
                                                            tmp_path):
  inputs = keras.Input((8, 8, 3))
  model = keras.Model(inputs, keras.layers.Conv2D(4, 3)(inputs), name="conv")
  settings = MeasureSettings(threads=2)
  (report,) = pipeline.export_model(model, pipeline.ExportJob(
      str(tmp_path), latency=settings))
  # A model without h-swish is converted once; the kept file is timed
  # under its mode and form before it goes into place.
  (timed,) = recorder[0]["paths"].items()
  assert timed[0] == "fp32.fused"
  assert os.path.basename(timed[1]) == "conv.fp32.fused.tflite"
  assert report.latency == {
      "median_us": MEDIAN_US, "p90_us": P90_US, "std_us": STD_US,
      "fast_trials": 7, "trials": 21,
      "settings": dataclasses.asdict(settings)}
  saved = json.loads((tmp_path / "conv.fp32.json").read_text())
  assert saved["latency"] == report.latency
  assert "1.234 ms (2 thread(s))" in report.summary()
