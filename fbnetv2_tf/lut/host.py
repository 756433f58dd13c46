"""The ``host`` runner: LiteRT in this process, every model interleaved
(``fbnetv2_tf.export.latency``), optionally pinned to one CPU core."""

from __future__ import annotations

import contextlib
import os
import platform
from typing import Mapping

import numpy as np

from fbnetv2_tf.export import latency
from fbnetv2_tf.lut.runner import LatencyStats, MeasureSettings, RunnerError


def _cpu_model() -> str:
  try:
    with open("/proc/cpuinfo", encoding="utf-8") as f:
      for line in f:
        if line.startswith("model name"):
          return line.split(":", 1)[1].strip()
  except OSError:
    pass
  return platform.processor() or "unknown"


@contextlib.contextmanager
def _pinned(cpu: int | None):
  """Runs the block on core ``cpu`` alone, then restores the affinity."""
  if cpu is None:
    yield
    return
  before = os.sched_getaffinity(0)
  try:
    os.sched_setaffinity(0, {cpu})
  except OSError as e:
    raise RunnerError(f"cannot pin to CPU {cpu} (this machine has "
                      f"{sorted(before)}): {e.strerror}") from None
  try:
    yield
  finally:
    os.sched_setaffinity(0, before)


class HostRunner:
  """Times .tflite files with LiteRT's interpreter on this machine."""

  def describe(self) -> dict:
    import ai_edge_litert  # pylint: disable=g-import-not-at-top
    version = getattr(ai_edge_litert, "__version__", None)
    if version is None:
      from importlib import metadata  # pylint: disable=g-import-not-at-top
      version = metadata.version("ai-edge-litert")
    return {"runner": "host", "runtime": "ai-edge-litert", "version": version,
            "machine": platform.machine(), "cpu_model": _cpu_model()}

  def measure(self, models: Mapping[str, str], settings: MeasureSettings
              ) -> dict[str, LatencyStats]:
    flatbuffers = {}
    for name, path in models.items():
      with open(path, "rb") as f:
        flatbuffers[name] = f.read()
    protocol = latency.Protocol(threads=settings.threads,
                                warmup=settings.warmup,
                                trials=settings.trials, invokes=settings.runs,
                                seed=settings.seed)
    with _pinned(settings.cpu):
      trials = latency.measure_trials(flatbuffers, protocol)
    return {name: LatencyStats.of(np.asarray(ms) * 1e3)
            for name, ms in trials.items()}

  def close(self) -> None:
    pass
