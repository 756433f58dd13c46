"""Latency lookup tables (LUTs) and the expected latency of a supernet.

A table maps a block, measured alone at batch 1 on a device, to its latency
in microseconds (FBNet, arXiv 1812.03443, section 3.2: network latency is
approximated by the sum of per-block latencies). A block is keyed by
``(op, input_size, stride, cin, mid, cout)``; ``mid`` is 0 for ops without an
expanded width and ``op`` is ``"head"`` for the pool + classifier.

JSON format::

  {"device": str, "units": "us",
   "entries": [{"op": str, "input_size": int, "stride": int, "cin": int,
                "mid": int, "cout": int, "latency_us": float}, ...]}

Lookup between measured widths interpolates multilinearly in (cin, mid, cout)
among the entries of the same ``(op, input_size, stride)``; outside the
measured range it extrapolates linearly from the two nearest grid values.
The expected latency of a supernet block is the expectation over the options
it mixes (docs/method.md, section 5): ``sum`` over every joint choice of resolution,
input width, expansion, output width and candidate of its probability times
the table's latency.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import os
from typing import Any, Mapping

import numpy as np
from keras import ops

from fbnetv2_tf.specs import files
from fbnetv2_tf.specs import ops as spec_ops
from fbnetv2_tf.errors import SpecError
from fbnetv2_tf.specs.space_plan import BlockPlan, SpacePlan

HEAD_OP = "head"


@dataclasses.dataclass(frozen=True, order=True)
class LatencyKey:
  op: str
  input_size: int
  stride: int
  cin: int
  mid: int
  cout: int


class LatencyTable:
  """Measured block latencies with interpolation between channel grid points."""

  def __init__(self, entries: Mapping[LatencyKey, float], device: str = "",
               scale: float = 1.0, offset_ms: float = 0.0,
               overhead_us: float = 0.0):
    """``overhead_us`` is the runner's fixed cost per invoke, added once per
    network; ``scale`` and ``offset_ms`` correct a network's latency
    (``scale * (sum + overhead) + offset``), as fitted by
    ``fbnetv2-validate-lut``."""
    self.entries = dict(entries)
    self.device = device
    self.scale = scale
    self.offset_ms = offset_ms
    self.overhead_us = overhead_us
    self._grids: dict[tuple, tuple[list[int], list[int], list[int]]] = {}
    for key in self.entries:
      group = (key.op, key.input_size, key.stride)
      cins, mids, couts = self._grids.setdefault(group, ([], [], []))
      for axis, v in zip((cins, mids, couts), (key.cin, key.mid, key.cout)):
        if v not in axis:
          bisect.insort(axis, v)

  def __len__(self) -> int:
    return len(self.entries)

  def lookup(self, op: str, input_size: int, stride: int, cin: float,
             mid: float, cout: float) -> float:
    """Latency in microseconds, exact or interpolated."""
    key = LatencyKey(op, input_size, stride, int(cin), int(mid), int(cout))
    if key in self.entries and key.cin == cin and key.mid == mid and key.cout == cout:
      return self.entries[key]
    group = (op, input_size, stride)
    if group not in self._grids:
      raise KeyError(f"latency table has no entry for op {op!r} at input "
                     f"{input_size}, stride {stride}")
    axes = [_bracket(grid, v) for grid, v in zip(self._grids[group],
                                                 (cin, mid, cout))]
    total = 0.0
    for corner in itertools.product(*axes):
      (c, wc), (m, wm), (o, wo) = corner
      weight = wc * wm * wo
      if weight == 0.0:
        continue
      k = LatencyKey(op, input_size, stride, c, m, o)
      if k not in self.entries:
        raise KeyError(f"latency table lacks {k} to interpolate "
                       f"(cin {cin}, mid {mid}, cout {cout})")
      total += weight * self.entries[k]
    return total

  def to_dict(self) -> dict[str, Any]:
    return {"device": self.device, "units": "us",
            "invoke_overhead_us": self.overhead_us, "entries": [
        {**dataclasses.asdict(k), "latency_us": v}
        for k, v in sorted(self.entries.items())]}

  @classmethod
  def from_dict(cls, d: Mapping[str, Any], source: str = "latency table"
                ) -> "LatencyTable":
    if not isinstance(d, Mapping):
      raise SpecError(f"{source}: a latency table must be a JSON object, "
                      f"got {type(d).__name__}")
    if d.get("units", "us") != "us":
      raise SpecError(f"{source}: units must be 'us', got {d.get('units')!r}")
    entries = {}
    for i, e in enumerate(d.get("entries", [])):
      try:
        key = LatencyKey(str(e["op"]), int(e["input_size"]), int(e["stride"]),
                         int(e["cin"]), int(e.get("mid", 0)), int(e["cout"]))
        entries[key] = float(e["latency_us"])
      except (KeyError, TypeError, ValueError) as err:
        raise SpecError(f"{source}: entry {i}: bad or missing field "
                        f"({err})") from None
    if not entries:
      raise SpecError(f"{source}: no entries")
    return cls(entries, str(d.get("device", "")),
               overhead_us=float(d.get("invoke_overhead_us", 0.0)))

  @classmethod
  def load(cls, path: str | os.PathLike) -> "LatencyTable":
    return cls.from_dict(files.read_json(path), str(path))


def _bracket(grid: list[int], v: float) -> list[tuple[int, float]]:
  """Grid points around ``v`` with linear weights (extrapolating outside)."""
  if len(grid) == 1:
    return [(grid[0], 1.0)]
  i = bisect.bisect_left(grid, v)
  if i < len(grid) and grid[i] == v:
    return [(grid[i], 1.0)]
  i = min(max(i, 1), len(grid) - 1)
  lo, hi = grid[i - 1], grid[i]
  t = (v - lo) / (hi - lo)
  return [(lo, 1.0 - t), (hi, t)]


def block_keys(bp: BlockPlan, t: int, size_index: int, in_index: int,
               exp_index: int, out_index: int) -> LatencyKey | None:
  """The table key of candidate ``t`` under one joint choice (None: free)."""
  cp = bp.candidates[t]
  cin = bp.in_width.options[in_index]
  cout = bp.out_width.options[out_index]
  size = bp.in_sizes[size_index]
  if cp.info.kind == spec_ops.SKIP and bp.stride == 1 and cin == cout:
    return None
  mid = cp.mid_widths[cp.combo_index(in_index, exp_index)] if cp.mid_widths else 0
  return LatencyKey(cp.candidate.op, size, bp.stride, cin, mid, cout)


def expected_latency_ms(plan: SpacePlan, weights: Mapping[str, Any],
                        table: LatencyTable, num_classes: int) -> Any:
  """Expected network latency (ms) under decision ``weights``."""
  del num_classes  # the head entry is measured at the model's class count
  total = 0.0
  for bp in plan.blocks:
    total = total + _block_latency_us(plan, bp, weights, table)
  last = plan.blocks[-1]
  total = total + _head_latency_us(plan, last, weights, table)
  return (total + table.overhead_us) / 1000.0 * table.scale + table.offset_ms


def _expect(table_values: np.ndarray, names, weights) -> Any:
  result = ops.convert_to_tensor(table_values.astype("float32"))
  for name in names:  # contract the leading axis with its decision's weights
    result = ops.tensordot(ops.convert_to_tensor(weights[name], "float32"),
                           result, axes=1)
  return result


def _expectation(roles: Mapping[str, str | None], weights, value_at) -> Any:
  """Expectation of ``value_at(pick)`` over every joint choice of the
  distinct decisions in ``roles``; ``pick(role)`` is the option index a role
  takes (0 for a fixed role). A decision playing two roles (shared widths)
  is one axis."""
  names = list(dict.fromkeys(n for n in roles.values() if n is not None))
  # Static sizes: inside the search's train step the weights are symbolic.
  sizes = [int(ops.shape(weights[n])[0]) for n in names]
  values = np.zeros(sizes, "float64")
  for idx in itertools.product(*(range(size) for size in sizes)):
    at = dict(zip(names, idx))
    values[idx] = value_at(lambda role, at=at: at.get(roles[role], 0))
  if not names:
    return float(values)
  return _expect(values, names, weights)


def _block_latency_us(plan, bp, weights, table) -> Any:
  roles = {"size": plan.resolution.decision, "in": bp.in_width.decision,
           "exp": bp.expansion_decision, "out": bp.out_width.decision,
           "op": bp.op_decision}

  def value_at(pick):
    key = block_keys(bp, pick("op"), pick("size"), pick("in"), pick("exp"),
                     pick("out"))
    return 0.0 if key is None else table.lookup(
        key.op, key.input_size, key.stride, key.cin, key.mid, key.cout)

  return _expectation(roles, weights, value_at)


def _head_latency_us(plan, last: BlockPlan, weights, table) -> Any:
  roles = {"size": plan.resolution.decision, "in": last.out_width.decision}
  return _expectation(roles, weights, lambda pick: table.lookup(
      HEAD_OP, last.out_sizes[pick("size")], 1,
      last.out_width.options[pick("in")], 0, 0))


def required_keys(plan: SpacePlan) -> set[LatencyKey]:
  """Every table key the expected latency of ``plan`` can look up."""
  keys = set()
  n_sizes = len(plan.space.input_sizes)
  for bp in plan.blocks:
    n_exp = max(len(bp.block.expansions), 1)
    for t in range(len(bp.candidates)):
      for j, a, i, o in itertools.product(
          range(n_sizes), range(len(bp.in_width.options)), range(n_exp),
          range(len(bp.out_width.options))):
        if bp.shares_width and a != o:
          continue
        key = block_keys(bp, t, j, a, i if bp.expansion_decision else 0, o)
        if key is not None:
          keys.add(key)
  last = plan.blocks[-1]
  for j, o in itertools.product(range(n_sizes),
                                range(len(last.out_width.options))):
    keys.add(LatencyKey(HEAD_OP, last.out_sizes[j], 1,
                        last.out_width.options[o], 0, 0))
  return keys
