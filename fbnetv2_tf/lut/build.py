"""Builds a latency table: enumerate candidates, convert each to TFLite
(cached, in parallel worker processes), time them in batches with a runner,
and add each batch to the LUT file atomically.

Conversion, not timing, dominates a build (about half a second per
candidate against a few milliseconds of timing), so converted files are
cached by key, dtype, padding and h-swish form under ``cache_dir`` and
converted by a pool of processes before any timing starts: timing then has
the machine to itself. The candidates pad as the space does and take the
job's h-swish form, both recorded in the table's header.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import multiprocessing
import os
from typing import Callable


from fbnetv2_tf import cli
from fbnetv2_tf.export import hswish as hswish_forms
from fbnetv2_tf.lut import candidates, convert, probes
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
    hswish: the form the candidates' h-swish is converted in
      (``export.hswish.FORMS``; None: ``hswish.default_form(dtype)``).
  """
  output: str
  dtype: str = "fp32"
  input_channels: int = 3
  num_classes: int = 1000
  max_grid: int | None = None
  cache_dir: str | None = None
  workers: int = 2
  limit: int | None = None
  hswish: str | None = None

  @property
  def hswish_form(self) -> str:
    return self.hswish or hswish_forms.default_form(self.dtype)

  @property
  def cache(self) -> str:
    return self.cache_dir or f"{os.path.splitext(self.output)[0]}.cache"


def _own_time(stats: LatencyStats, overhead_us: float) -> LatencyStats:
  """A block's own time: the runner's fixed cost per invoke taken off."""
  return LatencyStats(max(stats.median_us - overhead_us, 0.0),
                      max(stats.p90_us - overhead_us, 0.0), stats.std_us)


def _path(key, header: LutHeader, cache: str) -> str:
  return convert.candidate_path(cache, key, header.dtype, header.padding,
                                header.hswish)


def _convert_all(keys, header: LutHeader, job: BuildJob, progress) -> None:
  todo = [k for k in keys if not os.path.exists(_path(k, header, job.cache))]
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
      futures = [pool.submit(convert.convert_candidate, k,
                             header.width_divisor, header.num_classes,
                             header.dtype, _path(k, header, job.cache),
                             header.padding, header.hswish)
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
  hswish_forms.check_form(job.hswish_form)
  header = LutHeader(
      space=space.name, input_channels=job.input_channels,
      num_classes=job.num_classes, width_divisor=space.width_divisor,
      dtype=job.dtype, max_grid=job.max_grid, runner=runner.describe(),
      settings=dataclasses.asdict(settings), padding=space.padding,
      hswish=job.hswish_form)
  lut = LutFile.open_for_build(job.output, header)
  keys = candidates.enumerate_candidates(space, job.input_channels,
                                         job.max_grid)
  todo = [k for k in keys[:job.limit] if k not in lut.rows]
  progress = progress or _silent
  _convert_all(todo, header, job, progress)
  if todo:
    probe_files = probes.probe_paths(job.cache, job.dtype)
    speed = probes.settle(runner, probe_files, settings, lut.reference_us)
  bar = progress(len(todo), "measuring")
  try:  # closed first, so an error prints on a line of its own
    for start in range(0, len(todo), BATCH):
      batch = todo[start:start + BATCH]
      paths = {candidates.key_name(k): _path(k, header, job.cache)
               for k in batch}
      probed = probes.measure_with_probes(runner, paths, settings, probe_files,
                                          speed)
      lut.reference_us = speed.units_us  # the first batch's
      # Rows hold the block's own time; the table adds the fixed cost once
      # per network (counted once per block it overstated 32 px nets by 30 %).
      lut.add({k: _own_time(probed.stats[candidates.key_name(k)],
                          probed.overhead_us) for k in batch},
              probed.overhead_us)
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
