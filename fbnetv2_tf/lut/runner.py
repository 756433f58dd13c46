"""What every latency runner shares: how to measure, what comes back, and
the errors a user can fix.

A runner times a set of ``.tflite`` files with the same settings and returns
per-model statistics in microseconds. ``host`` runs LiteRT in this process;
``adb`` runs TFLite's ``benchmark_model`` on an Android device.
"""

from __future__ import annotations

import dataclasses
from typing import Mapping, Protocol

import numpy as np

from fbnetv2_tf.cli import UserError


class RunnerError(UserError):
  """A problem the user can fix (no device, missing binary, ...): one line."""


class DeviceLost(RunnerError):
  """The device went away mid-run; what was measured before is kept."""


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
    seed: seeds the visiting orders.
    fast_within: a LUT build, validation or benchmark keeps only the trials
      whose reference block is within this factor of the fastest seen (the
      machine's fast state, ``lut/probes.py``); None keeps every trial.
  """
  threads: int = 1
  warmup: int = 20
  trials: int = 21
  runs: int = 100
  cpu: int | None = None
  seed: int = 0
  fast_within: float | None = 1.15

  @classmethod
  def from_flags(cls, values) -> "MeasureSettings":
    """From the binaries' --threads, --warmup, --trials, --runs, --cpu and
    --fast_within (0: None; ``flags/common.py``); ``values`` is absl's
    FLAGS."""
    return cls(threads=values.threads, warmup=values.warmup,
               trials=values.trials, runs=values.runs, cpu=values.cpu,
               fast_within=values.fast_within or None)

  def __post_init__(self):
    for name in ("threads", "trials", "runs"):
      if getattr(self, name) < 1:
        raise UserError(f"--{name} must be at least 1, got "
                        f"{getattr(self, name)}")
    if self.warmup < 0:
      raise UserError(f"--warmup must not be negative, got {self.warmup}")
    if self.fast_within is not None and self.fast_within < 1:
      raise UserError("--fast_within must be at least 1 (or 0 for every "
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


class Runner(Protocol):
  """Times .tflite files; ``describe`` says where (it goes into LUT headers)."""

  def describe(self) -> dict:
    """Device, runtime and version: what makes two measurements comparable."""

  def measure(self, models: Mapping[str, str], settings: MeasureSettings
              ) -> dict[str, LatencyStats]:
    """Latency of each ``{name: path to .tflite}``."""

  def close(self) -> None:
    """Releases the device (removes pushed files)."""


def make_runner(name: str, serial: str | None = None, adb: str = "adb",
                benchmark_binary: str | None = None) -> Runner:
  """The runner a binary's ``--runner`` names."""
  if name == "host":
    from fbnetv2_tf.lut.host import HostRunner  # pylint: disable=g-import-not-at-top
    return HostRunner()
  if name == "adb":
    if not benchmark_binary:
      raise RunnerError("--runner=adb needs --benchmark_binary (TFLite's "
                        "benchmark_model built for the device)")
    from fbnetv2_tf.lut.adb import AdbRunner  # pylint: disable=g-import-not-at-top
    return AdbRunner(benchmark_binary, serial=serial, adb=adb)
  raise RunnerError(f"unknown runner {name!r}; known: host, adb")


def runner_from_flags(values) -> Runner:
  """The runner --runner, --serial, --adb, --benchmark_binary name."""
  return make_runner(values.runner, values.serial, values.adb,
                     values.benchmark_binary)
