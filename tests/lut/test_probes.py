"""Fast-state selection: trials timed in a slow spell never reach a row."""

import numpy as np
import pytest

from fbnetv2_tf.errors import UserError
from fbnetv2_tf.lut import probes
from fbnetv2_tf.lut.runner import LatencyStats, MeasureSettings

FAST, SLOW = 10.0, 17.0  # the reference block's time in the two states
PROBES = {probes.OVERHEAD: "overhead.tflite",
          probes.REFERENCE: "reference.tflite"}


class TwoStateMachine:
  """A runner whose machine is in the state ``states[call][trial]``: every
  model then takes its base time times 1 (fast) or 1.7 (slow), the fixed
  cost per invoke 2 (the slowdown is not uniform, as measured here)."""

  def __init__(self, states):
    self.states = list(states)
    self.calls = 0
    self.timed = []  # the models of each call

  def measure(self, models, settings):
    state = self.states[min(self.calls, len(self.states) - 1)]
    self.calls += 1
    self.timed.append(sorted(models))
    assert len(state) == settings.trials
    base = {probes.OVERHEAD: 0.5, probes.REFERENCE: FAST, "block": 3.0}
    out = {}
    for name in models:
      slow = 2.0 if name == probes.OVERHEAD else SLOW / FAST
      out[name] = LatencyStats.of([base[name] * (slow if s == "s" else 1.0)
                                   for s in state])
    return out


@pytest.fixture(autouse=True)
def _no_waiting(monkeypatch):
  monkeypatch.setattr(probes, "PAUSE_SECONDS", 0.0)
  monkeypatch.setattr(probes, "SETTLE_SECONDS", 0.0)


def _measure(machine, trials, **settings):
  settings = MeasureSettings(trials=trials, **settings)
  speed = probes.settle(machine, PROBES, settings)
  return probes.measure_with_probes(machine, {"block": "block.tflite"},
                                    settings, PROBES, speed)


def test_only_the_fast_trials_count():
  # settle sees the fast state; the batch is slow in 4 of its 6 trials.
  machine = TwoStateMachine(["ffffff", "sfssfs"])
  probed = _measure(machine, 6)
  assert probed.stats["block"].median_us == pytest.approx(3.0)
  assert probed.overhead_us == pytest.approx(0.5)
  assert probed.reference_us == pytest.approx(FAST)
  assert (probed.fast_trials, probed.trials) == (2, 6)
  assert probed.raw["block"].median_us == pytest.approx(3.0 * SLOW / FAST)


def test_a_batch_caught_in_a_slow_spell_is_timed_again():
  machine = TwoStateMachine(["fff", "sss", "sss", "ffs"])
  probed = _measure(machine, 3)
  assert machine.calls == 4  # settle, two slow rounds, one with fast trials
  assert probed.stats["block"].median_us == pytest.approx(3.0)
  assert (probed.fast_trials, probed.trials) == (2, 9)


def test_when_the_fast_state_never_returns_the_fastest_trials_are_used():
  machine = TwoStateMachine(["fff"] + ["sss"] * probes.MAX_ROUNDS)
  probed = _measure(machine, 3)
  assert machine.calls == 1 + probes.MAX_ROUNDS
  assert probed.fast_trials == 1  # a third of the trials, rounded up
  assert probed.stats["block"].median_us == pytest.approx(3.0 * SLOW / FAST)


def test_every_trial_counts_without_selection():
  machine = TwoStateMachine(["sfsfs"])
  probed = _measure(machine, 5, fast_within=None)
  assert machine.calls == 1  # no settling, no second round
  assert probed.fast_trials == 5
  assert probed.stats["block"].median_us == pytest.approx(3.0 * SLOW / FAST)


def test_a_fast_within_below_one_is_refused():
  with pytest.raises(UserError, match="fast_within"):
    MeasureSettings(fast_within=0.9)


def test_stats_of_trials():
  stats = LatencyStats.of([1.0, 2.0, 3.0, 4.0, 100.0])
  assert stats.median_us == 3.0
  assert stats.p90_us == pytest.approx(float(np.percentile(
      [1, 2, 3, 4, 100], 90)))
  assert stats.trials_us == (1.0, 2.0, 3.0, 4.0, 100.0)


def test_a_session_at_another_speed_is_scaled_to_the_tables():
  machine = TwoStateMachine(["fff", "fsf"])
  settings = MeasureSettings(trials=3)
  # The table was built when the reference block took 8 (the machine's
  # fast state has since slowed by 10/8).
  speed = probes.settle(machine, PROBES, settings, units_us=8.0)
  probed = probes.measure_with_probes(machine, {"block": "block.tflite"},
                                      settings, PROBES, speed)
  assert probed.reference_us == pytest.approx(FAST)  # as timed
  assert probed.stats["block"].median_us == pytest.approx(3.0 * 8 / FAST)
  assert probed.raw["block"].median_us == pytest.approx(3.0)


def test_measure_files_without_selection_times_no_probes():
  machine = TwoStateMachine(["sfs"])
  probed = probes.measure_files(machine, {"block": "block.tflite"},
                                MeasureSettings(trials=3, fast_within=None),
                                "unused-cache")
  assert machine.timed == [["block"]]
  assert probed.stats == probed.raw
  assert probed.stats["block"].median_us == pytest.approx(3.0 * SLOW / FAST)
  assert (probed.overhead_us, probed.reference_us) == (None, None)
  assert (probed.fast_trials, probed.trials) == (3, 3)


def test_measure_files_selects_the_fast_trials_with_the_probes(monkeypatch):
  made = []
  monkeypatch.setattr(probes, "probe_paths",
                      lambda cache, dtype: made.append((cache, dtype))
                      or PROBES)
  machine = TwoStateMachine(["fff", "sfs"])
  probed = probes.measure_files(machine, {"block": "block.tflite"},
                                MeasureSettings(trials=3), "cache", "int8")
  assert made == [("cache", "int8")]
  assert machine.timed == [sorted(PROBES), sorted(["block", *PROBES])]
  assert probed.stats["block"].median_us == pytest.approx(3.0)
  assert probed.overhead_us == pytest.approx(0.5)
  assert (probed.fast_trials, probed.trials) == (1, 3)
