"""Host latency of TFLite models in LiteRT, measured the careful way.

The protocol, which mattered more than anything else for stable figures on
a shared machine: batch 1, fixed shapes, a fixed thread count; every model
loaded in one process and warmed up; then several trials, each visiting
every model in a fresh random order and timing a run of back-to-back
invokes; a model's latency is the median over trials of its per-invoke mean.
Interleaving spreads a neighbour's load over all models alike, so ratios
between models measured in one call are fair.
"""

from __future__ import annotations

import dataclasses
import time
from typing import Mapping

import numpy as np
from ai_edge_litert.interpreter import Interpreter


@dataclasses.dataclass(frozen=True)
class Protocol:
  """How latency is measured.

  Attributes:
    threads: interpreter threads.
    warmup: untimed invokes per model before the trials.
    trials: timed visits to every model, each in a new random order.
    invokes: back-to-back invokes timed per visit.
    seed: seeds the visiting orders and the random inputs.
  """
  threads: int = 1
  warmup: int = 20
  trials: int = 11
  invokes: int = 20
  seed: int = 0

  def __post_init__(self):
    for name in ("threads", "warmup", "trials", "invokes"):
      if getattr(self, name) < (0 if name == "warmup" else 1):
        raise ValueError(f"latency protocol: {name} must be positive, got "
                         f"{getattr(self, name)}")


@dataclasses.dataclass(frozen=True)
class Latency:
  """Milliseconds per invoke over the trials of one model."""
  median_ms: float
  p90_ms: float
  std_ms: float


def _ready(flatbuffer: bytes, protocol: Protocol, rng) -> Interpreter:
  interpreter = Interpreter(model_content=flatbuffer,
                            num_threads=protocol.threads)
  interpreter.allocate_tensors()
  for detail in interpreter.get_input_details():
    dtype = detail["dtype"]
    if np.issubdtype(dtype, np.integer):
      info = np.iinfo(dtype)
      value = rng.integers(info.min, info.max, detail["shape"], endpoint=True)
    else:
      value = rng.uniform(-1, 1, detail["shape"])
    interpreter.set_tensor(detail["index"], value.astype(dtype))
  for _ in range(protocol.warmup):
    interpreter.invoke()
  return interpreter


def measure_trials(models: Mapping[str, bytes], protocol: Protocol = Protocol()
                   ) -> dict[str, list[float]]:
  """Each model's per-invoke mean in every trial, in milliseconds and trial
  order (the t-th values of all models come from the same sweep)."""
  rng = np.random.default_rng(protocol.seed)
  interpreters = {name: _ready(fb, protocol, rng) for name, fb in models.items()}
  names = list(interpreters)
  means = {name: [] for name in names}
  for _ in range(protocol.trials):
    for index in rng.permutation(len(names)):
      name = names[index]
      invoke = interpreters[name].invoke
      start = time.perf_counter()
      for _ in range(protocol.invokes):
        invoke()
      means[name].append((time.perf_counter() - start) * 1e3 / protocol.invokes)
  return means


def measure(models: Mapping[str, bytes], protocol: Protocol = Protocol()
            ) -> dict[str, Latency]:
  """Latency of each flatbuffer in ``models`` (name to bytes), interleaved."""
  return {name: Latency(float(np.median(v)), float(np.percentile(v, 90)),
                        float(np.std(v)))
          for name, v in measure_trials(models, protocol).items()}
