"""Builds a latency table: enumerate candidates, convert each to TFLite
(cached, in parallel worker processes), time them in batches with a runner,
and add each batch to the LUT file atomically.

Conversion, not timing, dominates a build (about half a second per
candidate against a few milliseconds of timing), so converted files are
cached by key and dtype under ``cache_dir`` and converted by a pool of
processes before any timing starts: timing then has the machine to itself.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import os
from typing import Callable


from fbnetv2_tf import cli
from fbnetv2_tf.cost.latency_table import LatencyKey
from fbnetv2_tf.lut import candidates
from fbnetv2_tf.lut.runner import LatencyStats, MeasureSettings, Runner
from fbnetv2_tf.lut.table_file import LutFile, LutHeader

DTYPES = ("fp32", "int8")
# Candidates per runner call: all are interleaved within a batch, and a
# batch is the unit a crash or a lost device can cost.
BATCH = 24

@dataclasses.dataclass(frozen=True)
class BuildJob:
  """What to measure and where.

  Attributes:
    output: the LUT file (resumed if it exists with the same header).
    dtype: ``fp32`` or ``int8`` candidates.
    input_channels: image channels the space's stem sees.
    num_classes: classifier width of the head candidates.
    max_grid: channel values per axis and group (None: every value).
    cache_dir: converted candidates (default: OUTPUT.cache beside it).
    workers: conversion processes.
    limit: measure only the first ``limit`` candidates (a partial table, or
      a sample to time a build).
  """
  output: str
  dtype: str = "fp32"
  input_channels: int = 3
  num_classes: int = 1000
  max_grid: int | None = None
  cache_dir: str | None = None
  workers: int = 2
  limit: int | None = None

  @property
  def cache(self) -> str:
    return self.cache_dir or f"{os.path.splitext(self.output)[0]}.cache"


def candidate_path(cache: str, key: LatencyKey, dtype: str) -> str:
  return os.path.join(cache, f"{candidates.key_name(key)}.{dtype}.tflite")


def convert_candidate(key: LatencyKey, width_divisor: int, num_classes: int,
                      dtype: str, path: str) -> str:
  """Writes the candidate's .tflite (atomically) unless cached; its path."""
  if os.path.exists(path):
    return path
  return _convert(candidates.candidate_model(key, width_divisor, num_classes),
                  dtype, path)


# Two probes ride along in every batch (and in every validation):
# OVERHEAD, one elementwise op on 4 numbers, is the runner's fixed cost per
# invoke; REFERENCE, a fixed small block, tracks the machine's speed. On a
# shared host the speed of everything switched between two states (about
# 1.8x apart) for tens of seconds at a time; rows are scaled to the speed of
# the table's first batch, so batches measured in different states agree.
OVERHEAD = "_invoke_overhead"
REFERENCE = "_reference_block"
REFERENCE_KEY = LatencyKey("ir_k3", 16, 1, 16, 48, 16)


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
    _convert(_overhead_model(), dtype, paths[OVERHEAD])
  convert_candidate(REFERENCE_KEY, 4, 10, dtype, paths[REFERENCE])
  return paths


def measure_with_probes(runner: Runner, paths: dict[str, str],
                        settings: MeasureSettings, probes: dict[str, str]
                        ) -> tuple[dict[str, LatencyStats], float, float]:
  """``(stats of paths, overhead_us, reference_us)`` from one runner call."""
  timed = runner.measure({**paths, **probes}, settings)
  return (timed, timed.pop(OVERHEAD).median_us,
          timed.pop(REFERENCE).median_us)


def _scaled(stats: LatencyStats, factor: float, overhead_us: float
            ) -> LatencyStats:
  """A block's own time at the table's speed: scaled, the fixed cost off."""
  return LatencyStats(max(stats.median_us * factor - overhead_us, 0.0),
                      max(stats.p90_us * factor - overhead_us, 0.0),
                      stats.std_us * factor)


def _convert(model, dtype: str, path: str) -> str:
  from fbnetv2_tf.export import tflite  # pylint: disable=g-import-not-at-top
  calibration = tflite.random_calibration(model) if dtype == "int8" else None
  # int8 candidates take and give int8: a network quantizes once, at its
  # ends, not at every block.
  tflite.write_tflite(model, path, dtype, calibration,
                      int8_io=dtype == "int8")
  return path


def _convert_all(keys, header: LutHeader, job: BuildJob, progress) -> None:
  todo = [k for k in keys
          if not os.path.exists(candidate_path(job.cache, k, job.dtype))]
  if not todo:
    return
  os.makedirs(job.cache, exist_ok=True)
  bar = progress(len(todo), "converting")
  # Spawned workers: a forked TensorFlow runtime is not safe.
  context = multiprocessing.get_context("spawn")
  try:
    with concurrent.futures.ProcessPoolExecutor(
        job.workers, mp_context=context,
        initializer=cli.quiet_tensorflow_logs) as pool:
      futures = [pool.submit(convert_candidate, k, header.width_divisor,
                             header.num_classes, job.dtype,
                             candidate_path(job.cache, k, job.dtype))
                 for k in todo]
      for future in concurrent.futures.as_completed(futures):
        future.result()
        bar.update(1)
  finally:
    bar.close()


def build_lut(space, runner: Runner, settings: MeasureSettings,
              job: BuildJob, progress: Callable | None = None) -> LutFile:
  """Measures every candidate of ``space`` not yet in ``job.output``.

  ``progress(total, description)`` returns a tqdm-like bar (``update``,
  ``close``); None shows nothing.
  """
  if job.dtype not in DTYPES:
    raise ValueError(f"unknown dtype {job.dtype!r}; known: {', '.join(DTYPES)}")
  header = LutHeader(
      space=space.name, input_channels=job.input_channels,
      num_classes=job.num_classes, width_divisor=space.width_divisor,
      dtype=job.dtype, max_grid=job.max_grid, runner=runner.describe(),
      settings=dataclasses.asdict(settings))
  lut = LutFile.open_for_build(job.output, header)
  keys = candidates.enumerate_candidates(space, job.input_channels,
                                         job.max_grid)
  todo = [k for k in keys[:job.limit] if k not in lut.rows]
  progress = progress or _silent
  _convert_all(todo, header, job, progress)
  probes = probe_paths(job.cache, job.dtype) if todo else {}
  bar = progress(len(todo), "measuring")
  try:  # closed first, so an error prints on a line of its own
    for start in range(0, len(todo), BATCH):
      batch = todo[start:start + BATCH]
      paths = {candidates.key_name(k): candidate_path(job.cache, k, job.dtype)
               for k in batch}
      timed, overhead, reference = measure_with_probes(runner, paths,
                                                       settings, probes)
      if lut.reference_us is None:
        lut.reference_us = reference
      factor = lut.reference_us / reference
      # Rows hold the block's own time; the table adds the fixed cost once
      # per network (counted once per block it overstated 32 px nets by 30 %).
      lut.add({k: _scaled(timed[candidates.key_name(k)], factor,
                          overhead * factor) for k in batch},
              overhead * factor)
      bar.update(len(batch))
  finally:
    bar.close()
  return lut


class _Silent:
  def update(self, n):
    del n

  def close(self):
    pass


def _silent(total, description):
  del total, description
  return _Silent()
