"""SearchSpace: a macro skeleton whose blocks declare options, as pure data.

JSON format (one space per file)::

  {"name": str, "description"?: str, "width_divisor"?: int (default 8),
   "padding"?: "symmetric" | "same",   # how strided convs pad (default
                                       # symmetric), in the supernet and in
                                       # every child
   "input_sizes": [int, ...],          # resolution options, largest first
   "stages": [[block, ...], ...]}

  block = {"ops": [candidate, ...],    # block-type options (one: fixed)
           "out": [int, ...] | {"min": int, "max": int, "step": int},
           "stride"?: 1 | 2,
           "expansions"?: [float, ...],  # expansion options of ir/ir_pool
           "width_group"?: str,          # blocks naming one group share one
                                         # output-width decision
           "bias"?: bool}

  candidate = op ["_e" expansion]      # e.g. "ir_k5_sehsig_hs", "ir_k3_e6"

``op`` follows :mod:`fbnetv2_tf.specs.ops`. A candidate with an ``_e``
suffix fixes its own expansion (the FBNet v1 space); other ``ir``/``ir_pool``
candidates use the block's ``expansions`` decision, whose options are ratios
of the block's actual input width (the child's ``make_divisible(in * e)``).

Decisions (each with one logit per option) exist only where there is a
choice: ``resolution``; ``s<S>_b<B>/op``; ``s<S>_b<B>/expansion``; and an
output width ``width/<group>`` (or ``s<S>_b<B>/out`` for an ungrouped block).
The first input size is the supernet's; the others are subsampled from it.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import re
from typing import Any, Mapping

from fbnetv2_tf.specs import files
from fbnetv2_tf.specs import ops
from fbnetv2_tf.errors import SpecError
from fbnetv2_tf.specs.arch_spec import SYMMETRIC, check_padding
from fbnetv2_tf.specs.locations import location

RESOLUTION = "resolution"
_CANDIDATE_RE = re.compile(r"^(.*?)(?:_e(\d+(?:\.\d+)?))?$")
_SPACE_KEYS = ("name", "description", "width_divisor", "padding",
               "input_sizes", "stages")
_BLOCK_KEYS = ("ops", "out", "stride", "expansions", "width_group", "bias")


@dataclasses.dataclass(frozen=True)
class Candidate:
  """One block-type option: an op, and an expansion it fixes (or None)."""
  op: str
  expansion: float | None = None

  @property
  def info(self) -> ops.OpInfo:
    return ops.parse_op(self.op)

  @property
  def uses_expansion_decision(self) -> bool:
    return self.info.needs_expansion and self.expansion is None

  def __str__(self) -> str:
    if self.expansion is None:
      return self.op
    e = self.expansion
    return f"{self.op}_e{int(e) if float(e).is_integer() else e}"


def parse_candidate(text: str) -> Candidate:
  """``"ir_k3_e6"`` -> Candidate("ir_k3", 6.0); raises ValueError."""
  m = _CANDIDATE_RE.match(text) if isinstance(text, str) else None
  if not m:
    raise ValueError(f"candidate must be a string, got {text!r}")
  op, expansion = m.group(1), m.group(2)
  info = ops.parse_op(op)
  if expansion is not None and not info.needs_expansion:
    raise ValueError(f"candidate {text!r}: op {op!r} takes no expansion")
  if expansion is not None and not float(expansion) > 0:
    raise ValueError(f"candidate {text!r}: expansion must be positive")
  return Candidate(op, float(expansion) if expansion is not None else None)


@dataclasses.dataclass(frozen=True)
class SearchBlock:
  """One searched layer: its candidates and width/expansion options."""
  ops: tuple[Candidate, ...]
  out: tuple[int, ...]
  stride: int = 1
  expansions: tuple[float, ...] = ()
  width_group: str | None = None
  bias: bool = False

  @property
  def uses_expansion_decision(self) -> bool:
    return any(c.uses_expansion_decision for c in self.ops)

  def to_dict(self) -> dict[str, Any]:
    d: dict[str, Any] = {"ops": [str(c) for c in self.ops],
                         "out": list(self.out), "stride": self.stride}
    if self.expansions:
      d["expansions"] = [int(e) if float(e).is_integer() else e
                         for e in self.expansions]
    if self.width_group is not None:
      d["width_group"] = self.width_group
    if self.bias:
      d["bias"] = True
    return d


@dataclasses.dataclass(frozen=True)
class Decision:
  """An open choice: its name, kind and options (widths, ops, sizes...)."""
  name: str
  kind: str  # "resolution" | "op" | "expansion" | "out"
  options: tuple

  @property
  def size(self) -> int:
    return len(self.options)


@dataclasses.dataclass(frozen=True)
class SearchSpace:
  """A macro skeleton with open decisions; see the module docstring."""
  name: str
  input_sizes: tuple[int, ...]
  stages: tuple[tuple[SearchBlock, ...], ...]
  width_divisor: int = 8
  description: str = ""
  padding: str = SYMMETRIC

  def __post_init__(self):
    object.__setattr__(self, "stages",
                       tuple(tuple(stage) for stage in self.stages))
    object.__setattr__(self, "input_sizes", tuple(self.input_sizes))
    _validate(self)

  @property
  def max_input_size(self) -> int:
    return self.input_sizes[0]

  def blocks(self):
    """Yields ``(stage_index, block_index, block)`` in network order."""
    for s, stage in enumerate(self.stages):
      for b, block in enumerate(stage):
        yield s, b, block

  def out_decision_name(self, s: int, b: int) -> str:
    block = self.stages[s][b]
    if block.width_group is not None:
      return f"width/{block.width_group}"
    return f"s{s}_b{b}/out"

  def decisions(self) -> list[Decision]:
    """Every open decision (two or more options), in network order."""
    found: dict[str, Decision] = {}
    if len(self.input_sizes) > 1:
      found[RESOLUTION] = Decision(RESOLUTION, "resolution", self.input_sizes)
    for s, b, block in self.blocks():
      if len(block.ops) > 1:
        found[f"s{s}_b{b}/op"] = Decision(f"s{s}_b{b}/op", "op", block.ops)
      if block.uses_expansion_decision and len(block.expansions) > 1:
        found[f"s{s}_b{b}/expansion"] = Decision(
            f"s{s}_b{b}/expansion", "expansion", block.expansions)
      out_name = self.out_decision_name(s, b)
      if len(block.out) > 1 and out_name not in found:
        found[out_name] = Decision(out_name, "out", block.out)
    return list(found.values())

  def num_architectures(self) -> int:
    """Distinct children: per block, sum over candidates of the expansion
    options each uses; times each width decision and the resolutions."""
    total = len(self.input_sizes)
    for d in self.decisions():
      if d.kind == "out":
        total *= d.size
    for _, _, block in self.blocks():
      n_e = max(len(block.expansions), 1)
      total *= sum(n_e if c.uses_expansion_decision else 1 for c in block.ops)
    return total

  def log10_num_architectures(self) -> float:
    return math.log10(self.num_architectures())

  def to_dict(self) -> dict[str, Any]:
    d: dict[str, Any] = {"name": self.name}
    if self.description:
      d["description"] = self.description
    d["width_divisor"] = self.width_divisor
    if self.padding != SYMMETRIC:  # only when not the default, as ArchSpec's
      d["padding"] = self.padding
    d.update({"input_sizes": list(self.input_sizes),
              "stages": [[b.to_dict() for b in st] for st in self.stages]})
    return d

  def to_json(self) -> str:
    return json.dumps(self.to_dict(), indent=1) + "\n"

  @classmethod
  def from_dict(cls, d: Mapping[str, Any]) -> "SearchSpace":
    """Parses the JSON format; SpecError names the location."""
    if not isinstance(d, Mapping):
      raise SpecError("a search space must be a JSON object")
    name = d.get("name", "space")
    if not isinstance(name, str) or not name:
      raise SpecError(f"field 'name': must be a non-empty string, got {name!r}")
    files.check_keys(d, _SPACE_KEYS, ("input_sizes", "stages"), name)
    parsed = files.parse_stages(d["stages"], name, _block_from_dict)
    return cls(name=name,
               input_sizes=tuple(_int_list(d["input_sizes"],
                                           location(name, field="input_sizes"))),
               width_divisor=files.require_int(
                   d.get("width_divisor", 8),
                   location(name, field="width_divisor")),
               description=str(d.get("description", "")),
               padding=d.get("padding", SYMMETRIC),
               stages=parsed)


def load_search_space(path: str | os.PathLike) -> SearchSpace:
  """Reads a search-space JSON file; SpecError names path or location."""
  return SearchSpace.from_dict(files.read_json(path))


def _int_list(v, where) -> list[int]:
  if not isinstance(v, list) or not v:
    raise SpecError(f"{where}: must be a non-empty list of integers")
  return [files.require_int(x, where) for x in v]


def _widths(v, where) -> tuple[int, ...]:
  if isinstance(v, Mapping):
    files.check_keys(v, ("min", "max", "step"), ("min", "max", "step"), where)
    lo, hi, step = (files.require_int(v[k], f"{where}.{k}")
                    for k in ("min", "max", "step"))
    if step < 1 or lo > hi:
      raise SpecError(f"{where}: need min <= max and step >= 1, got "
                      f"min {lo}, max {hi}, step {step}")
    return tuple(range(lo, hi + 1, step))
  if isinstance(v, int) and not isinstance(v, bool):
    return (v,)
  return tuple(_int_list(v, where))


def _block_from_dict(d, where) -> SearchBlock:
  if not isinstance(d, Mapping):
    raise SpecError(f"{where}: a block must be a JSON object")
  files.check_keys(d, _BLOCK_KEYS, ("ops", "out"), where)
  raw_ops = d["ops"] if isinstance(d["ops"], list) else [d["ops"]]
  if not raw_ops:
    raise SpecError(f"{where}: field 'ops': must list at least one candidate")
  candidates = []
  for op in raw_ops:
    try:
      candidates.append(parse_candidate(op))
    except ValueError as e:
      raise SpecError(f"{where}: field 'ops': {e}") from None
  expansions = d.get("expansions", [])
  if not isinstance(expansions, list) or any(
      isinstance(e, bool) or not isinstance(e, (int, float)) for e in expansions):
    raise SpecError(f"{where}: field 'expansions': must be a list of numbers")
  group = d.get("width_group")
  if group is not None and (not isinstance(group, str) or not group):
    raise SpecError(f"{where}: field 'width_group': must be a non-empty string")
  bias = d.get("bias", False)
  if not isinstance(bias, bool):
    raise SpecError(f"{where}: field 'bias': must be true or false")
  return SearchBlock(ops=tuple(candidates),
                     out=_widths(d["out"], f"{where}: field 'out'"),
                     stride=files.require_int(d.get("stride", 1),
                                              f"{where}: field 'stride'"),
                     expansions=tuple(float(e) for e in expansions),
                     width_group=group, bias=bias)


def _check_grouped_widths(block: SearchBlock, in_widths, divisor: int,
                          where) -> None:
  """A _g2 candidate splits its 1x1 convs in 2 groups: every input, mid and
  output width it can meet must be even."""
  from fbnetv2_tf.specs.plan import make_divisible  # pylint: disable=g-import-not-at-top
  for c in block.ops:
    if c.info.expand_groups != 2:
      continue
    expansions = (c.expansion,) if c.expansion is not None else block.expansions
    mids = {make_divisible(w * e, divisor) for w in in_widths or ()
            for e in expansions}
    odd = sorted(w for w in set(block.out) | set(in_widths or ()) | mids
                 if w % 2)
    if odd:
      raise SpecError(f"{where('ops')}: candidate '{c}' groups its 1x1 convs "
                      f"in 2, but it can meet odd widths {odd}")


def _validate(space: SearchSpace) -> None:
  name = space.name
  sizes = space.input_sizes
  where = lambda s=None, b=None, f=None: location(name, s, b, f)  # pylint: disable=unnecessary-lambda-assignment
  if not sizes or any(x < 1 for x in sizes):
    raise SpecError(f"{where(f='input_sizes')}: must be positive, got {list(sizes)}")
  if list(sizes) != sorted(set(sizes), reverse=True):
    raise SpecError(f"{where(f='input_sizes')}: must be distinct and in "
                    f"descending order, got {list(sizes)}")
  if space.width_divisor < 1:
    raise SpecError(f"{where(f='width_divisor')}: must be >= 1")
  check_padding(space.padding, where(f="padding"))
  if not space.stages:
    raise SpecError(f"{name}: a search space needs at least one stage")
  group_options: dict[str, tuple[int, ...]] = {}
  total_stride = 1
  prev_out = None  # the image channels are not part of the space
  for s, b, block in space.blocks():
    if not block.ops:
      raise SpecError(f"{where(s, b, 'ops')}: must list at least one candidate")
    if not block.out or any(c < 1 for c in block.out):
      raise SpecError(f"{where(s, b, 'out')}: channels must be positive, got "
                      f"{list(block.out)}")
    if list(block.out) != sorted(set(block.out)):
      raise SpecError(f"{where(s, b, 'out')}: options must be distinct and "
                      f"ascending, got {list(block.out)}")
    if block.stride not in (1, 2):
      raise SpecError(f"{where(s, b, 'stride')}: must be 1 or 2, got {block.stride}")
    total_stride *= block.stride
    if any(not (e > 0 and math.isfinite(e)) for e in block.expansions):
      raise SpecError(f"{where(s, b, 'expansions')}: must be positive, got "
                      f"{list(block.expansions)}")
    if block.uses_expansion_decision and not block.expansions:
      raise SpecError(f"{where(s, b, 'expansions')}: missing; candidates "
                      "without an _e suffix need the block's expansion options")
    if len(set(block.expansions)) != len(block.expansions):
      raise SpecError(f"{where(s, b, 'expansions')}: options must be "
                      f"distinct, got {list(block.expansions)}")
    _check_grouped_widths(block, prev_out, space.width_divisor,
                          lambda f, s=s, b=b: where(s, b, f))
    prev_out = block.out
    if block.width_group is not None:
      seen = group_options.setdefault(block.width_group, block.out)
      if seen != block.out:
        raise SpecError(f"{where(s, b, 'width_group')}: group "
                        f"'{block.width_group}' has out options {list(seen)} "
                        f"elsewhere, here {list(block.out)}")
  if sizes[-1] < total_stride:
    raise SpecError(f"{where(f='input_sizes')}: {sizes[-1]} is too small for "
                    f"the network's total stride {total_stride}")
