"""Timing in the machine's fast state, on a machine whose speed changes.

Two probes ride along in every runner call, of a build, a validation, a
benchmark and an export check alike: OVERHEAD, one elementwise op on 4
numbers, is the runner's fixed cost per invoke; REFERENCE, a fixed small
block, tracks the machine's speed. On a shared host the speed of
everything switched every few seconds between two states about 1.7x apart,
and not uniformly (the fixed cost per invoke slowed about 2x, a
compute-bound block about 1.65x), so no single factor converts one state
into the other. A result is therefore taken only from the trials run in
the fast state: those whose reference is within
``MeasureSettings.fast_within`` (1.15 by default: the two states here were
1.7x apart, the spread within the fast state under 10 %) of the fastest
reference trial of the session. A session first times the probes alone for
a few seconds (``settle``) to learn that speed; a call that caught too few
fast trials is timed again after a pause. The fast state itself drifted by
up to 13 % between sessions, uniformly enough to correct: each call's fast
trials are scaled by the reference's fast median to the speed of the
table's first batch. On a phone with a fixed governor every trial passes
and the factor stays near 1; ``fast_within=None`` keeps every trial and
skips the settling.

Measured on this host (``benchmarks/latency_tables.py``): scaling each
trial by its own reference, instead of selecting, left 2.5-8 % MAPE on a
64 px fp32 table where selection gave 1.0-2.5 %; selection without any
scaling left the 32 px table 8-9 % under sessions whose fast state ran
9-13 % slower than the build's.
"""

from __future__ import annotations

import dataclasses
import os
import time

import numpy as np

from fbnetv2_tf.cost.latency_table import LatencyKey
from fbnetv2_tf.errors import RunnerError
from fbnetv2_tf.lut.convert import (candidate_path, convert_candidate,
                                    convert_model)
from fbnetv2_tf.lut.runner import LatencyStats, MeasureSettings, Runner

OVERHEAD = "_invoke_overhead"
REFERENCE = "_reference_block"
REFERENCE_KEY = LatencyKey("ir_k3", 16, 1, 16, 48, 16)
# Runner calls per measurement at most, when too few trials were fast,
# each after a pause (a slow spell lasted seconds).
MAX_ROUNDS = 8
PAUSE_SECONDS = 0.5
# How long a session times the probes alone before measuring.
SETTLE_SECONDS = 3.0


def _overhead_model():
  import keras  # pylint: disable=g-import-not-at-top
  inputs = keras.Input((1, 1, 4), name="x")  # image-shaped, as export wants
  return keras.Model(inputs, keras.layers.Add()([inputs, inputs]),
                     name="invoke_overhead")


def probe_paths(cache: str, dtype: str) -> dict[str, str]:
  """The probes' .tflite files in ``cache`` (converted once)."""
  os.makedirs(cache, exist_ok=True)
  paths = {OVERHEAD: os.path.join(cache, f"{OVERHEAD}.{dtype}.tflite"),
           REFERENCE: candidate_path(cache, REFERENCE_KEY, dtype)}
  if not os.path.exists(paths[OVERHEAD]):
    convert_model(_overhead_model(), dtype, paths[OVERHEAD])
  convert_candidate(REFERENCE_KEY, 4, 10, dtype, paths[REFERENCE])
  return paths


@dataclasses.dataclass
class Speed:
  """What a session knows of the machine's speed, in microseconds of the
  reference block.

  Attributes:
    within: how much slower than the fastest a trial may be to count as
      fast (None: any).
    units_us: the speed results are expressed at: a table's reference time
      (None: the first measurement's, which sets it).
    fastest_us: the fastest reference trial seen in this session.
  """
  within: float | None
  units_us: float | None = None
  fastest_us: float = float("inf")

  def fast(self, reference_us: np.ndarray) -> np.ndarray:
    """Which trials ran in the fast state (after taking these in)."""
    self.fastest_us = min(self.fastest_us, float(reference_us.min()))
    if self.within is None:
      return np.ones(len(reference_us), bool)
    return reference_us <= self.within * self.fastest_us


@dataclasses.dataclass(frozen=True)
class Probed:
  """One measurement: ``stats`` and ``overhead_us`` over the fast trials,
  at ``Speed.units_us``; ``raw`` over all trials as timed;
  ``reference_us`` the reference's fast median as timed. Timed without
  probes (``measure_files`` keeping every trial), ``stats`` is ``raw`` and
  the two probe times are None."""
  stats: dict[str, LatencyStats]
  raw: dict[str, LatencyStats]
  overhead_us: float | None
  reference_us: float | None
  fast_trials: int
  trials: int


def _trials(stats: LatencyStats) -> tuple[float, ...]:
  return stats.trials_us or (stats.median_us,)


def settle(runner: Runner, probes: dict[str, str], settings: MeasureSettings,
           units_us: float | None = None) -> Speed:
  """Times the probes alone for ``SETTLE_SECONDS`` (at least once; not at
  all when every trial counts); results will be at ``units_us``."""
  speed = Speed(settings.fast_within, units_us)
  if speed.within is None:
    return speed
  start, round_ = time.monotonic(), 0
  while round_ == 0 or time.monotonic() - start < SETTLE_SECONDS:
    timed = runner.measure(probes, dataclasses.replace(
        settings, seed=settings.seed + round_))
    speed.fast(np.array(_trials(timed[REFERENCE])))
    round_ += 1
  return speed


def _min_fast_trials(settings: MeasureSettings) -> int:
  """A third of the trials (rounded up) must be fast."""
  return -(-settings.trials // 3)


def measure_with_probes(runner: Runner, paths: dict[str, str],
                        settings: MeasureSettings, probes: dict[str, str],
                        speed: Speed) -> Probed:
  """Times ``paths`` with the probes; see the module doc."""
  sweeps: dict[str, list[float]] = {}
  needed = _min_fast_trials(settings)
  for round_ in range(MAX_ROUNDS):
    if round_:
      time.sleep(PAUSE_SECONDS)
    timed = runner.measure({**paths, **probes}, dataclasses.replace(
        settings, seed=settings.seed + round_))
    for name, stats in timed.items():
      sweeps.setdefault(name, []).extend(_trials(stats))
    reference = np.array(sweeps[REFERENCE])
    fast = speed.fast(reference)
    if fast.sum() >= needed:
      break
  else:  # the fast state never came back: the fastest trials there are
    fast = np.zeros(len(reference), bool)
    fast[np.argsort(reference, kind="stable")[:needed]] = True
  reference_us = float(np.median(reference[fast]))
  if not reference_us > 0:
    # A timer coarser than the reference block: no speed to scale by.
    raise RunnerError(f"the reference block timed {reference_us} us on this "
                      "runner: its timer is too coarse to measure with probes")
  if speed.units_us is None:
    speed.units_us = reference_us
  factor = speed.units_us / reference_us
  stats = {name: LatencyStats.of(np.array(v)[fast] * factor)
           for name, v in sweeps.items()}
  raw = {name: LatencyStats.of(v) for name, v in sweeps.items()}
  overhead = stats.pop(OVERHEAD).median_us
  stats.pop(REFERENCE)
  for name in (OVERHEAD, REFERENCE):
    raw.pop(name)
  return Probed(stats, raw, overhead, reference_us, int(fast.sum()),
                len(fast))


def measure_settled(runner: Runner, paths: dict[str, str],
                    settings: MeasureSettings, cache: str, dtype: str,
                    units_us: float | None = None) -> Probed:
  """One measurement on its own (a validation, a benchmark): the probes
  from ``cache`` (converted once), ``settle``, ``measure_with_probes``;
  results at ``units_us`` (None: at this call's speed)."""
  probe_files = probe_paths(cache, dtype)
  return measure_with_probes(runner, paths, settings, probe_files,
                             settle(runner, probe_files, settings, units_us))


def measure_files(runner: Runner, paths: dict[str, str],
                  settings: MeasureSettings, cache: str, dtype: str = "fp32"
                  ) -> Probed:
  """What ``fbnetv2-benchmark`` and ``fbnetv2-export``'s latency check
  report for ``paths``, so that both give one file the same latency: with
  ``settings.fast_within``, ``measure_settled`` at this call's speed (the
  probes in ``dtype``, converted into ``cache``); without, one plain runner
  call that keeps every trial and times no probes."""
  if settings.fast_within is None:
    timed = runner.measure(paths, settings)
    return Probed(timed, timed, None, None, settings.trials, settings.trials)
  return measure_settled(runner, paths, settings, cache, dtype)
