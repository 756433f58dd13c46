"""The ``host`` runner: LiteRT in this process, measured the careful way.

What mattered more than anything else for stable figures on a shared
machine: batch 1, fixed shapes, a fixed thread count; every model loaded in
one process and warmed up; then interleaved trials (``runner``), each
timing a run of back-to-back invokes; optionally pinned to one CPU core.
"""

from __future__ import annotations

import contextlib
import os
import platform
import time
from typing import Mapping

from ai_edge_litert.interpreter import Interpreter
import numpy as np

from fbnetv2_tf.errors import RunnerError
from fbnetv2_tf.lut.runner import (LatencyStats, MeasureSettings,
                                   interleaved_trials)


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


def _ready(flatbuffer: bytes, settings: MeasureSettings, rng) -> Interpreter:
  """An interpreter with random inputs (latency does not depend on the
  values), warmed up."""
  interpreter = Interpreter(model_content=flatbuffer,
                            num_threads=settings.threads)
  interpreter.allocate_tensors()
  for detail in interpreter.get_input_details():
    dtype = detail["dtype"]
    if np.issubdtype(dtype, np.integer):
      info = np.iinfo(dtype)
      value = rng.integers(info.min, info.max, detail["shape"], endpoint=True)
    else:
      value = rng.uniform(-1, 1, detail["shape"])
    interpreter.set_tensor(detail["index"], value.astype(dtype))
  for _ in range(settings.warmup):
    interpreter.invoke()
  return interpreter


def measure_flatbuffers(flatbuffers: Mapping[str, bytes],
                        settings: MeasureSettings) -> dict[str, LatencyStats]:
  """Latency of each ``{name: flatbuffer}``: all loaded and warmed up
  first, then timed interleaved, on ``settings.cpu`` if given. No probes:
  every trial counts (``probes.measure_files`` selects fast ones)."""
  with _pinned(settings.cpu):
    rng = np.random.default_rng(settings.seed)
    interpreters = {name: _ready(fb, settings, rng)
                    for name, fb in flatbuffers.items()}

    def visit(name: str, trial: int) -> float:
      del trial  # every model was warmed up before the first
      invoke = interpreters[name].invoke
      start = time.perf_counter()
      for _ in range(settings.runs):
        invoke()
      return (time.perf_counter() - start) * 1e6 / settings.runs

    return interleaved_trials(list(interpreters), settings, visit)


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
    return measure_flatbuffers(flatbuffers, settings)

  def close(self) -> None:
    pass
