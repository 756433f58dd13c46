"""Does a LUT predict real latency? Whole networks sampled from the space,
predicted by summing their blocks' table entries, measured end to end as
single TFLite models on the same runner with the same settings.

Reports mean absolute percentage error (MAPE) and Spearman rank correlation,
draws predicted against measured, and can fit a linear correction
``measured ~ scale * predicted + offset`` (least squares) that is stored
beside the table (``NAME.calibration.json``) and applied by the cost model.
The sum of isolated blocks misses what a whole graph adds or saves (cache
reuse between blocks, fused boundaries), which grows with feature size.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from typing import Mapping

import numpy as np

from fbnetv2_tf.cost.latency_table import LatencyTable
from fbnetv2_tf.export import hswish as hswish_forms
from fbnetv2_tf.lut import candidates, convert
from fbnetv2_tf.lut.table_file import LutFile
from fbnetv2_tf.specs import files
from fbnetv2_tf.specs.arch_spec import ArchSpec
from fbnetv2_tf.specs.arch_string import to_arch_string


@dataclasses.dataclass
class Validation:
  """Predicted and measured whole-network latencies, in microseconds;
  ``measured_us`` over the fast trials at the table's speed, ``raw_us``
  over all trials as timed (``lut/probes.py``)."""
  archs: list[str]
  predicted_us: list[float]
  measured_us: list[float]
  raw_us: list[float] | None = None
  fast_trials: tuple[int, int] | None = None  # used, timed (probes.py)
  # The reference probe now against when the table was built.
  speed_ratio: float | None = None

  @property
  def mape(self) -> float:
    p, m = np.array(self.predicted_us), np.array(self.measured_us)
    return float(np.mean(np.abs(p - m) / m))

  @property
  def spearman(self) -> float:
    return spearman(self.predicted_us, self.measured_us)

  def calibration(self) -> dict:
    """Least-squares ``scale`` and ``offset_ms`` mapping prediction to
    measurement, and the MAPE after it."""
    p, m = np.array(self.predicted_us), np.array(self.measured_us)
    scale, offset = np.polyfit(p, m, 1)
    fitted = scale * p + offset
    return {"scale": float(scale), "offset_ms": float(offset) / 1e3,
            "mape_after": float(np.mean(np.abs(fitted - m) / m)),
            "archs": len(p)}

  def corrected(self, scale: float, offset_ms: float) -> "Validation":
    """The same measurements against corrected predictions."""
    return dataclasses.replace(
        self, predicted_us=[scale * p + offset_ms * 1e3
                            for p in self.predicted_us])

  def summary(self) -> str:
    text = (f"{len(self.archs)} architectures: MAPE {100 * self.mape:.2f} %, "
            f"Spearman {self.spearman:.4f}")
    if self.fast_trials:
      text += (f" ({self.fast_trials[0]} of {self.fast_trials[1]} trials "
               "in the fast state)")
    if self.speed_ratio and abs(self.speed_ratio - 1) > 0.1:
      text += (f"; the reference block now takes {self.speed_ratio:.2f}x "
               "its time when the table was built (measurements scaled "
               "back)")
    return text


def spearman(a, b) -> float:
  """Spearman's rank correlation (average ranks for ties)."""
  def ranks(x):
    x = np.asarray(x, dtype=float)
    order = np.argsort(x, kind="stable")
    r = np.empty(len(x))
    r[order] = np.arange(len(x))
    for value in np.unique(x):  # ties share their mean rank
      tied = x == value
      r[tied] = r[tied].mean()
    return r
  ra, rb = ranks(a), ranks(b)
  return float(np.corrcoef(ra, rb)[0, 1])


def predicted_us(arch, table: LatencyTable, input_channels: int) -> float:
  """The table's latency of ``arch``: the sum of its blocks' entries
  (interpolated between grid points) plus the runner's fixed cost per
  invoke, without any calibration."""
  return table.overhead_us + float(sum(
      table.lookup(k.op, k.input_size, k.stride, k.cin, k.mid, k.cout)
      for k in candidates.arch_keys(arch, input_channels)))


def sample_archs(space, count: int, seed: int, input_size: int | None = None):
  """``count`` distinct random architectures of ``space`` (optionally at
  another input resolution, e.g. to validate at 128 px)."""
  from fbnetv2_tf.search import derive  # pylint: disable=g-import-not-at-top
  rng = np.random.default_rng(seed)
  archs, seen = [], set()
  while len(archs) < count:
    choices = derive.random_choices(space, rng)
    key = tuple(sorted(choices.items()))
    if key in seen:
      continue
    seen.add(key)
    arch = derive.derive_arch(space, choices, f"sample{len(archs)}")
    if input_size is not None:
      arch = arch.replace(input_size=input_size)
    archs.append(arch)
  return archs


def convert_arch(arch, path: str, dtype: str, num_classes: int,
                 input_channels: int = 3,
                 hswish: str = hswish_forms.FUSED) -> str:
  """The whole network, its h-swish in form ``hswish``, as a TFLite file in
  ``dtype`` (fp32, or int8 calibrated on random inputs: latency does not
  depend on the values); an existing file is reused."""
  if os.path.exists(path):
    return path
  from fbnetv2_tf.models.child_model import build_child_model  # pylint: disable=g-import-not-at-top
  # A whole network keeps float ends, as an exported file does.
  return convert.convert_model(
      build_child_model(arch, num_classes, input_channels=input_channels),
      dtype, path, hswish, int8_io=False)


def network_file(work_dir: str, arch, dtype: str,
                 hswish: str = hswish_forms.FUSED) -> str:
  """Where a whole network's .tflite is kept, named by its content: another
  sample's "sample0" is another network (a name-only cache once handed a
  second seed the first seed's networks)."""
  digest = hashlib.sha1(to_arch_string(arch).encode()).hexdigest()[:12]
  return os.path.join(work_dir, f"{arch.name}_{digest}"
                      f"{convert.variant(arch.padding, hswish)}.{dtype}.tflite")


def measure_networks(lut: LutFile, archs: Mapping[str, ArchSpec], runner,
                     settings, work_dir: str, cache_dir: str):
  """Times whole networks (``{label: ArchSpec}``) as the table's rows were
  timed: padded as its candidates were and converted in its dtype and
  h-swish form (kept in ``work_dir``, named by content), with its probes
  from ``cache_dir``, in the fast state and at the table's speed; a
  ``probes.Probed`` keyed by label."""
  from fbnetv2_tf.lut import probes  # pylint: disable=g-import-not-at-top
  os.makedirs(work_dir, exist_ok=True)
  header = lut.header
  paths = {}
  for label, arch in archs.items():
    arch = arch.replace(padding=header.padding)
    paths[label] = convert_arch(
        arch, network_file(work_dir, arch, header.dtype, header.hswish),
        header.dtype, header.num_classes, header.input_channels, header.hswish)
  return probes.measure_settled(runner, paths, settings, cache_dir,
                                header.dtype, lut.reference_us)


def validate(lut: LutFile, archs, runner, settings, work_dir: str,
             cache_dir: str) -> Validation:
  """Predicts and measures ``archs`` (``measure_networks``)."""
  table = lut.table()
  probed = measure_networks(lut, {a.name: a for a in archs}, runner,
                            settings, work_dir, cache_dir)
  return Validation(
      [a.name for a in archs],
      [predicted_us(a, table, lut.header.input_channels) for a in archs],
      [probed.stats[a.name].median_us for a in archs],
      [probed.raw[a.name].median_us for a in archs],
      fast_trials=(probed.fast_trials, probed.trials),
      speed_ratio=(probed.reference_us / lut.reference_us
                   if lut.reference_us else None))


def plot(validation: Validation, path: str, title: str) -> None:
  """Predicted against measured, with the identity line, as a PNG."""
  import matplotlib  # pylint: disable=g-import-not-at-top
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt  # pylint: disable=g-import-not-at-top
  p = np.array(validation.predicted_us) / 1e3
  m = np.array(validation.measured_us) / 1e3
  fig, ax = plt.subplots(figsize=(4.5, 4.5))
  ax.scatter(p, m, s=14)
  low, high = min(p.min(), m.min()), max(p.max(), m.max())
  ax.plot([low, high], [low, high], "k--", linewidth=0.8, label="measured = predicted")
  ax.set_xlabel("predicted by the LUT (ms)")
  ax.set_ylabel("measured whole network (ms)")
  ax.set_title(f"{title}\n{validation.summary()}", fontsize=9)
  ax.legend(fontsize=8)
  fig.tight_layout()
  with files.atomic_path(path) as tmp:
    fig.savefig(tmp, dpi=120)
  plt.close(fig)
