"""What every latency runner shares: how to measure, what comes back, and
the interleaved trials they all run.

A runner times a set of ``.tflite`` files with the same settings and returns
per-model statistics in microseconds. ``host`` runs LiteRT in this process;
``adb`` runs TFLite's ``benchmark_model`` on an Android device;
``runners.make_runner`` picks one by name. This is the one timing protocol
of the package: LUT builds, their validation, ``fbnetv2-benchmark`` and the
export checks all time through a runner with these settings.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Mapping, Protocol, Sequence

import numpy as np

from fbnetv2_tf.errors import UserError


@dataclasses.dataclass(frozen=True)
class MeasureSettings:
  """How each model is timed; part of a LUT's header, so tables measured
  differently are never mixed.

  Attributes:
    threads: interpreter threads.
    warmup: untimed invokes per model first.
    trials: timed visits to every model, each in a new random order; a
      model's latency is the median over trials.
    runs: back-to-back timed invokes per visit (their mean is one trial).
    cpu: pin the measuring process to this CPU core (None: no pinning).
    seed: seeds the visiting orders (and the host runner's random inputs).
    fast_within: a LUT build, validation, benchmark or export check keeps
      only the trials whose reference block is within this factor of the
      fastest seen (the machine's fast state, ``lut/probes.py``); None keeps
      every trial.
  """
  threads: int = 1
  warmup: int = 20
  trials: int = 21
  runs: int = 100
  cpu: int | None = None
  seed: int = 0
  fast_within: float | None = 1.15

  def __post_init__(self):
    for name in ("threads", "trials", "runs"):
      if getattr(self, name) < 1:
        raise UserError(f"{name} must be at least 1, got "
                        f"{getattr(self, name)}")
    if self.warmup < 0:
      raise UserError(f"warmup must not be negative, got {self.warmup}")
    if self.fast_within is not None and self.fast_within < 1:
      raise UserError("fast_within must be at least 1 (or None for every "
                      f"trial), got {self.fast_within}")


@dataclasses.dataclass(frozen=True)
class LatencyStats:
  """Microseconds per invoke over the trials of one model; ``trials_us``
  holds each trial's mean in trial order (the t-th values of all models of
  one call come from the same sweep), empty where only the summary is
  known (a table row)."""
  median_us: float
  p90_us: float
  std_us: float
  trials_us: tuple[float, ...] = ()

  @classmethod
  def of(cls, trials_us) -> "LatencyStats":
    """Median, 90th percentile and standard deviation of per-trial means."""
    values = np.asarray(trials_us, dtype=float)
    return cls(float(np.median(values)), float(np.percentile(values, 90)),
               float(np.std(values)), tuple(float(v) for v in values))


def device_name(description: dict) -> str:
  """``"host: CPU MODEL"`` or ``"adb: PHONE SOC"``: a runner's
  ``describe()`` in a few words, for table headers and model cards."""
  where = (description.get("cpu_model") or " ".join(
      str(description.get(k, "")) for k in ("model", "soc")))
  return f"{description.get('runner')}: {where.strip()}"


class Runner(Protocol):
  """Times .tflite files; ``describe`` says where (it goes into LUT headers)."""

  def describe(self) -> dict:
    """Device, runtime and version: what makes two measurements comparable."""

  def measure(self, models: Mapping[str, str], settings: MeasureSettings
              ) -> dict[str, LatencyStats]:
    """Latency of each ``{name: path to .tflite}``."""

  def close(self) -> None:
    """Releases the device (removes pushed files)."""


def interleaved_trials(names: Sequence[str], settings: MeasureSettings,
                       visit: Callable[[str, int], float]
                       ) -> dict[str, LatencyStats]:
  """``settings.trials`` sweeps, each visiting every name once in a fresh
  random order (seeded by ``settings.seed``); ``visit(name, trial)`` times
  one visit and returns its mean microseconds per invoke. Interleaving
  spreads a neighbour's load (or a thermal dip) over all models alike, so
  ratios between models of one call are fair."""
  names = list(names)
  rng = np.random.default_rng(settings.seed)
  means = {name: [] for name in names}
  for trial in range(settings.trials):
    for index in rng.permutation(len(names)):
      means[names[index]].append(visit(names[index], trial))
  return {name: LatencyStats.of(v) for name, v in means.items()}
