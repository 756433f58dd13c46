"""Host latency measurement: the timing protocol and its statistics.

Nothing here compares times on the wall clock, which depends on the machine
and its load; benchmarks/latency_scaling.py makes that claim (a model with
more work measures slower). The protocol runs here against a fake clock
whose interpreters each cost a known time per invoke.
"""

import dataclasses
import math

import keras
import numpy as np
import pytest

from fbnetv2_tf.export import latency, tflite


class _FakeLiteRT:
  """Stands in for LiteRT and the clock in ``latency``.

  A model's content is its cost per invoke in milliseconds (``b"0.25"``):
  each invoke advances the clock by that cost and logs the content, so
  the protocol's figures are known exactly, whatever the machine.
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
    self.lite_rt.now += float(self.content) / 1e3
    self.lite_rt.invoked.append(self.content)


# Three models of known, distinct costs per invoke, in milliseconds.
COSTS_MS = {"a": 0.25, "b": 2.0, "c": 0.75}
MODELS = {name: str(ms).encode() for name, ms in COSTS_MS.items()}


@pytest.fixture
def lite_rt(monkeypatch):
  fake = _FakeLiteRT()
  monkeypatch.setattr(latency, "time", fake)
  monkeypatch.setattr(latency, "Interpreter", fake.Interpreter)
  return fake


def _orders(invoked, protocol):
  """The order of the models in each trial, from the log of invokes."""
  timed = invoked[protocol.warmup * len(MODELS):]
  assert len(timed) == protocol.trials * len(MODELS) * protocol.invokes
  visits = [timed[i:i + protocol.invokes]
            for i in range(0, len(timed), protocol.invokes)]
  assert all(len(set(v)) == 1 for v in visits), "a visit mixed models"
  return [tuple(v[0] for v in visits[t * len(MODELS):(t + 1) * len(MODELS)])
          for t in range(protocol.trials)]


def test_each_trial_is_the_mean_milliseconds_per_invoke(lite_rt):
  protocol = latency.Protocol(warmup=3, trials=5, invokes=4)
  trials = latency.measure_trials(MODELS, protocol)
  assert set(trials) == set(COSTS_MS)
  for name, ms in COSTS_MS.items():
    assert trials[name] == pytest.approx([ms] * protocol.trials, rel=1e-9)
  assert len(lite_rt.invoked) == len(MODELS) * (
      protocol.warmup + protocol.trials * protocol.invokes)


def test_every_model_warms_up_before_any_timed_invoke(lite_rt):
  protocol = latency.Protocol(warmup=3, trials=2, invokes=2)
  latency.measure_trials(MODELS, protocol)
  assert lite_rt.invoked[:protocol.warmup * len(MODELS)] == [
      content for content in MODELS.values() for _ in range(protocol.warmup)]


def test_every_trial_visits_every_model_once_in_a_seeded_random_order(
    lite_rt):
  protocol = latency.Protocol(warmup=0, trials=11, invokes=2, seed=0)

  def orders(seed):
    lite_rt.invoked.clear()
    latency.measure_trials(MODELS, dataclasses.replace(protocol, seed=seed))
    return _orders(lite_rt.invoked, protocol)

  first = orders(0)
  assert all(sorted(order) == sorted(MODELS.values()) for order in first)
  assert len(set(first)) > 1  # a fresh order per trial, not one for all
  assert orders(0) == first  # the seed fixes the orders
  assert orders(1) != first


def test_interpreters_get_the_thread_count_and_inputs_of_every_dtype(
    lite_rt):
  latency.measure_trials({"a": b"1"}, latency.Protocol(threads=3, trials=1,
                                                       invokes=1))
  (interpreter,) = lite_rt.interpreters
  assert interpreter.num_threads == 3
  floats, ints = interpreter.inputs[0], interpreter.inputs[1]
  assert floats.dtype == np.float32 and floats.shape == (1, 4)
  assert np.all(np.abs(floats) <= 1) and np.any(floats != 0)
  assert ints.dtype == np.int8 and ints.shape == (1, 2)


def test_the_latency_is_the_median_p90_and_std_of_the_trials(monkeypatch):
  trials = {"a": [4.0, 1.0, 10.0, 2.0, 3.0], "b": [5.0, 5.0, 5.0]}
  monkeypatch.setattr(latency, "measure_trials",
                      lambda models, protocol: trials)
  result = latency.measure({"a": b"", "b": b""})
  # Worked by hand: sorted 1 2 3 4 10; p90 interpolates 0.6 of the way from
  # 4 to 10; the mean is 4, the squared deviations sum to 50 over 5 trials.
  assert result["a"].median_ms == pytest.approx(3.0)
  assert result["a"].p90_ms == pytest.approx(7.6)
  assert result["a"].std_ms == pytest.approx(math.sqrt(10.0))
  assert result["b"] == latency.Latency(5.0, 5.0, 0.0)


def test_a_real_model_gives_one_positive_time_per_trial():
  keras.utils.set_random_seed(0)
  inputs = keras.Input((8, 8, 3))
  outputs = keras.layers.Conv2D(4, 3, padding="same")(inputs)
  flatbuffer = tflite.convert_to_tflite(keras.Model(inputs, outputs))
  protocol = latency.Protocol(warmup=1, trials=3, invokes=2)
  (times,) = latency.measure_trials({"conv": flatbuffer}, protocol).values()
  assert len(times) == protocol.trials
  assert all(0 < t < math.inf for t in times)


@pytest.mark.parametrize("field", ["threads", "trials", "invokes"])
def test_a_protocol_needs_positive_counts(field):
  with pytest.raises(ValueError, match=field):
    latency.Protocol(**{field: 0})
