"""LUT files as ``build_lut`` writes them: a header that says how the table
was measured, and one row per candidate with its latency statistics.

Format (version 2; version-1 files, without ``header``, still load as a
``LatencyTable`` for searching, but a build never extends them)::

  {"format": "fbnetv2_tf.lut", "version": 2, "units": "us",
   "device": "<one-line description>",
   "header": {"space": ..., "input_channels": ..., "num_classes": ...,
              "width_divisor": ..., "dtype": "fp32" | "int8",
              "max_grid": null | int, "runner": {...}, "settings": {...},
              "padding": "symmetric" | "same",
              "hswish": "fused" | "delegable"},
   "invoke_overhead_us": float, "overheads_us": [one per batch],
   "reference_us": float,
   "entries": [{"op", "input_size", "stride", "cin", "mid", "cout",
                "latency_us" (the median), "p90_us", "std_us"}, ...]}

``padding`` is how the candidates' strided convs pad (the space's) and
``hswish`` the form their h-swish was converted in (``export/hswish.py``);
a header written before either field existed reads as ``symmetric`` and
``fused``, which its candidates were.

Rows hold a block's own time in the machine's fast state: every batch also
times a one-op model (the runner's fixed cost per invoke, subtracted from
each row and added once per network) and a fixed reference block that
tells fast trials from slow ones (``lut/probes.py``); ``reference_us`` is
its time in the first batch, which a validation compares with its own.

The whole file is rewritten atomically after every measured batch, so a run
killed at any point leaves the last complete table: a rerun measures only
the rows it lacks, and no row appears twice.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Mapping

import numpy as np

from fbnetv2_tf.errors import UserError
from fbnetv2_tf.cost.latency_table import LatencyKey, LatencyTable
from fbnetv2_tf.export import hswish as hswish_forms
from fbnetv2_tf.lut.runner import LatencyStats, device_name
from fbnetv2_tf.specs import files
from fbnetv2_tf.specs.arch_spec import PADDINGS, SYMMETRIC

FORMAT = "fbnetv2_tf.lut"
VERSION = 2


@dataclasses.dataclass(frozen=True)
class LutHeader:
  """What makes two measurements comparable; a table holds one header."""
  space: str
  input_channels: int
  num_classes: int
  width_divisor: int
  dtype: str
  max_grid: int | None
  runner: dict
  settings: dict
  padding: str = SYMMETRIC
  hswish: str = hswish_forms.FUSED

  def device(self) -> str:
    return (f"{device_name(self.runner)}, "
            f"{self.settings.get('threads')} thread(s), {self.dtype}")


class LutFile:
  """A latency table under construction or finished."""

  def __init__(self, path: str, header: LutHeader,
               rows: Mapping[LatencyKey, LatencyStats] | None = None,
               overheads: list[float] | None = None,
               reference_us: float | None = None):
    self.path = str(path)
    self.header = header
    self.rows: dict[LatencyKey, LatencyStats] = dict(rows or {})
    # The runner's fixed cost per invoke, one measurement per batch.
    self.overheads: list[float] = list(overheads or [])
    # The reference probe's time in the first batch (lut.probes): a later
    # validation compares its own with it.
    self.reference_us: float | None = reference_us

  @property
  def overhead_us(self) -> float:
    return float(np.median(self.overheads)) if self.overheads else 0.0

  @classmethod
  def open_for_build(cls, path: str, header: LutHeader) -> "LutFile":
    """The table at ``path`` to extend, or a new one; a table measured with
    other settings is refused rather than mixed."""
    if not os.path.exists(path):
      return cls(path, header)
    existing = cls.load(path)
    if existing.header != header:
      differing = [f.name for f in dataclasses.fields(LutHeader)
                   if getattr(existing.header, f.name) != getattr(header,
                                                                   f.name)]
      # Plain values are named with both sides (an int8 table begun before
      # delegable h-swish became the int8 default resumes with
      # --hswish=fused); dicts only by name.
      said = [f"{name} {getattr(existing.header, name)!r} there, "
              f"{getattr(header, name)!r} now"
              if not isinstance(getattr(header, name), dict) else name
              for name in differing]
      raise UserError(
          f"{path} was measured with other settings ({'; '.join(said)}); "
          "resume with its settings, write to another path, or delete it to "
          "rebuild")
    return existing

  @classmethod
  def load(cls, path: str) -> "LutFile":
    """Reads a version-2 table; one-line errors for anything else."""
    data = files.read_json(path)
    if not isinstance(data, dict) or "header" not in data:
      raise UserError(f"{path} is a latency table without a measurement "
                      "header (version 1); build a new one for its space")
    if data.get("format") != FORMAT or data.get("version") != VERSION:
      raise UserError(f"{path}: not a {FORMAT} version {VERSION} file")
    try:
      header = LutHeader(**data["header"])
    except TypeError as e:
      raise UserError(f"{path}: bad header ({e})") from None
    if (header.padding not in PADDINGS
        or header.hswish not in hswish_forms.FORMS):
      raise UserError(f"{path}: bad header (padding {header.padding!r}, "
                      f"h-swish form {header.hswish!r})")
    rows = {}
    for i, entry in enumerate(data.get("entries", [])):
      try:
        key = LatencyKey(str(entry["op"]), int(entry["input_size"]),
                         int(entry["stride"]), int(entry["cin"]),
                         int(entry["mid"]), int(entry["cout"]))
        rows[key] = LatencyStats(float(entry["latency_us"]),
                                 float(entry["p90_us"]),
                                 float(entry["std_us"]))
      except (KeyError, TypeError, ValueError) as e:
        raise UserError(f"{path}: entry {i}: bad or missing field ({e})"
                        ) from None
    return cls(path, header, rows, data.get("overheads_us", []),
               data.get("reference_us"))

  def add(self, measured: Mapping[LatencyKey, LatencyStats],
          overhead_us: float = 0.0) -> None:
    """Adds rows (and the fixed cost measured with them) and rewrites the
    file atomically."""
    self.rows.update(measured)
    self.overheads.append(overhead_us)
    files.write_atomically(self.path,
                           json.dumps(self.to_dict(), indent=1) + "\n")

  def to_dict(self) -> dict:
    return {"format": FORMAT, "version": VERSION, "units": "us",
            "device": self.header.device(),
            "header": dataclasses.asdict(self.header),
            "invoke_overhead_us": self.overhead_us,
            "reference_us": self.reference_us,
            "overheads_us": self.overheads,
            "entries": [{**dataclasses.asdict(key), "latency_us": s.median_us,
                         "p90_us": s.p90_us, "std_us": s.std_us}
                        for key, s in sorted(self.rows.items())]}

  def table(self) -> LatencyTable:
    """The rows as the ``LatencyTable`` the search's cost model uses."""
    return LatencyTable({k: s.median_us for k, s in self.rows.items()},
                        self.header.device(), overhead_us=self.overhead_us)


def load_for_search(path: str, space, input_channels: int, num_classes: int
                    ) -> LatencyTable:
  """The table a search with ``--lut`` uses, checked before any training:
  a version-2 table must be measured for the data's channels and classes,
  any table with the space's padding (a version-1 table's was symmetric),
  and every key the space's expected latency needs must be in it or between
  its grid points; the first missing one is named. A fitted
  correction beside the file (``fbnetv2-validate-lut --calibrate``) is
  applied."""
  from fbnetv2_tf.cost.latency_table import required_keys  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.specs.space_plan import plan_space  # pylint: disable=g-import-not-at-top
  data = files.read_json(path)
  padding = SYMMETRIC
  if isinstance(data, dict) and "header" in data:
    header = LutFile.load(path).header
    padding = header.padding
    if (header.input_channels, header.num_classes) != (input_channels,
                                                       num_classes):
      raise UserError(
          f"{path} was measured for {header.input_channels}-channel images "
          f"and {header.num_classes} classes, this search has "
          f"{input_channels} and {num_classes}: rebuild it for "
          f"{input_channels}-channel images and {num_classes} classes")
  if padding != space.padding:
    raise UserError(f"{path} was measured with {padding} padding, space "
                    f"{space.name} pads as {space.padding}: rebuild it")
  table = LatencyTable.from_dict(data, path)
  for key in sorted(required_keys(plan_space(space, input_channels))):
    try:
      table.lookup(key.op, key.input_size, key.stride, key.cin, key.mid,
                   key.cout)
    except KeyError:
      raise UserError(
          f"{path} has no entry for {key.op} at {key.input_size} px, stride "
          f"{key.stride}, {key.cin}->{key.mid}->{key.cout} channels, which "
          f"space {space.name} needs: build the table for space "
          f"{space.name}") from None
  correction = calibration_path(path)
  if os.path.exists(correction):
    fitted = files.read_json(correction)
    if not isinstance(fitted, dict) or not float(fitted.get("scale", 0)) > 0:
      # A non-positive scale would turn the cheapest child into the dearest.
      raise UserError(f"{correction}: the correction's scale must be a "
                      "positive number; refit the correction")
    table.scale, table.offset_ms = fitted["scale"], fitted["offset_ms"]
  return table


def calibration_path(lut_path: str) -> str:
  """Where a table's fitted correction lives: beside it."""
  return f"{os.path.splitext(lut_path)[0]}.calibration.json"
