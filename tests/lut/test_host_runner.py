"""The host runner: LiteRT in this process, timed in interleaved trials.

Nothing here compares times on the wall clock, which depends on the machine
and its load; benchmarks/latency_scaling.py makes that claim (a model with
more work measures slower). The runner runs here against a fake clock
whose interpreters each cost a known time per invoke.
"""

import dataclasses
import math

import keras
import numpy as np
import pytest

from fbnetv2_tf.errors import UserError
from fbnetv2_tf.export import tflite
from fbnetv2_tf.lut import host
from fbnetv2_tf.lut.runner import MeasureSettings


class _FakeLiteRT:
  """Stands in for LiteRT and the clock in ``host``.

  A model's content is its cost per invoke in microseconds (``b"250"``):
  each invoke advances the clock by that cost and logs the content, so
  the runner's figures are known exactly, whatever the machine.
  """

  def __init__(self):
    self.now = 0.0
    self.invoked = []  # model contents, in invoke order
    self.interpreters = []

  def perf_counter(self):
    return self.now

  def Interpreter(self, model_content, num_threads):  # pylint: disable=invalid-name
    self.interpreters.append(_FakeInterpreter(self, model_content,
                                              num_threads))
    return self.interpreters[-1]


class _FakeInterpreter:
  """One model's interpreter: a float and an int8 input, a known cost."""

  def __init__(self, lite_rt, model_content, num_threads):
    self.lite_rt, self.content, self.num_threads = (lite_rt, model_content,
                                                    num_threads)
    self.inputs = {}

  def allocate_tensors(self):
    pass

  def get_input_details(self):
    return [{"index": 0, "dtype": np.float32, "shape": (1, 4)},
            {"index": 1, "dtype": np.int8, "shape": (1, 2)}]

  def set_tensor(self, index, value):
    self.inputs[index] = value

  def invoke(self):
    self.lite_rt.now += float(self.content) / 1e6
    self.lite_rt.invoked.append(self.content)


# Three models of known, distinct costs per invoke, in microseconds.
COSTS_US = {"a": 250.0, "b": 2000.0, "c": 750.0}
MODELS = {name: str(us).encode() for name, us in COSTS_US.items()}


@pytest.fixture
def lite_rt(monkeypatch):
  fake = _FakeLiteRT()
  monkeypatch.setattr(host, "time", fake)
  monkeypatch.setattr(host, "Interpreter", fake.Interpreter)
  return fake


def _orders(invoked, settings):
  """The order of the models in each trial, from the log of invokes."""
  timed = invoked[settings.warmup * len(MODELS):]
  assert len(timed) == settings.trials * len(MODELS) * settings.runs
  visits = [timed[i:i + settings.runs]
            for i in range(0, len(timed), settings.runs)]
  assert all(len(set(v)) == 1 for v in visits), "a visit mixed models"
  return [tuple(v[0] for v in visits[t * len(MODELS):(t + 1) * len(MODELS)])
          for t in range(settings.trials)]


def test_each_trial_is_the_mean_microseconds_per_invoke(lite_rt):
  settings = MeasureSettings(warmup=3, trials=5, runs=4)
  stats = host.measure_flatbuffers(MODELS, settings)
  assert set(stats) == set(COSTS_US)
  for name, us in COSTS_US.items():
    assert stats[name].trials_us == pytest.approx([us] * settings.trials,
                                                  rel=1e-9)
    assert stats[name].median_us == pytest.approx(us, rel=1e-9)
    assert stats[name].std_us == pytest.approx(0.0, abs=1e-6)
  assert len(lite_rt.invoked) == len(MODELS) * (
      settings.warmup + settings.trials * settings.runs)


def test_every_model_warms_up_before_any_timed_invoke(lite_rt):
  settings = MeasureSettings(warmup=3, trials=2, runs=2)
  host.measure_flatbuffers(MODELS, settings)
  assert lite_rt.invoked[:settings.warmup * len(MODELS)] == [
      content for content in MODELS.values() for _ in range(settings.warmup)]


def test_every_trial_visits_every_model_once_in_a_seeded_random_order(
    lite_rt):
  settings = MeasureSettings(warmup=0, trials=11, runs=2, seed=0)

  def orders(seed):
    lite_rt.invoked.clear()
    host.measure_flatbuffers(MODELS, dataclasses.replace(settings, seed=seed))
    return _orders(lite_rt.invoked, settings)

  first = orders(0)
  assert all(sorted(order) == sorted(MODELS.values()) for order in first)
  assert len(set(first)) > 1  # a fresh order per trial, not one for all
  assert orders(0) == first  # the seed fixes the orders
  assert orders(1) != first


def test_interpreters_get_the_thread_count_and_inputs_of_every_dtype(
    lite_rt):
  host.measure_flatbuffers({"a": b"1"},
                           MeasureSettings(threads=3, trials=1, runs=1))
  (interpreter,) = lite_rt.interpreters
  assert interpreter.num_threads == 3
  floats, ints = interpreter.inputs[0], interpreter.inputs[1]
  assert floats.dtype == np.float32 and floats.shape == (1, 4)
  assert np.all(np.abs(floats) <= 1) and np.any(floats != 0)
  assert ints.dtype == np.int8 and ints.shape == (1, 2)


def test_the_runner_reads_each_file_and_times_its_flatbuffer(lite_rt,
                                                             tmp_path):
  paths = {}
  for name, content in MODELS.items():
    paths[name] = str(tmp_path / f"{name}.tflite")
    (tmp_path / f"{name}.tflite").write_bytes(content)
  stats = host.HostRunner().measure(paths, MeasureSettings(warmup=1,
                                                           trials=3, runs=2))
  assert {n: s.median_us for n, s in stats.items()} == pytest.approx(COSTS_US)


def test_a_real_model_gives_one_positive_time_per_trial(tmp_path):
  keras.utils.set_random_seed(0)
  inputs = keras.Input((8, 8, 3))
  outputs = keras.layers.Conv2D(4, 3, padding="same")(inputs)
  path = tmp_path / "conv.tflite"
  path.write_bytes(tflite.convert_to_tflite(keras.Model(inputs, outputs)))
  settings = MeasureSettings(warmup=1, trials=3, runs=2)
  (stats,) = host.HostRunner().measure({"conv": str(path)}, settings).values()
  assert len(stats.trials_us) == settings.trials
  assert all(0 < t < math.inf for t in stats.trials_us)


@pytest.mark.parametrize("field", ["threads", "trials", "runs"])
def test_settings_need_positive_counts_and_name_the_argument(field):
  with pytest.raises(UserError, match=f"^{field} must be at least 1"):
    MeasureSettings(**{field: 0})


def test_settings_refuse_a_negative_warmup():
  with pytest.raises(UserError, match="^warmup must not be negative"):
    MeasureSettings(warmup=-1)
