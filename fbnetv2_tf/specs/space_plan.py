"""Resolves a SearchSpace into what the supernet and the cost model share:
per block, where its widths come from, the widths of every option, and the
feature-map sizes on the full-resolution lattice and under each resolution.
"""

from __future__ import annotations

import dataclasses
import itertools

from fbnetv2_tf.specs import ops
from fbnetv2_tf.specs.plan import SE_RATIO, conv_output_size, make_divisible
from fbnetv2_tf.specs.search_space import (RESOLUTION, Candidate, SearchBlock,
                                           SearchSpace)


@dataclasses.dataclass(frozen=True)
class WidthSource:
  """A channel count: fixed (``decision`` None, one option) or decided."""
  decision: str | None
  options: tuple[int, ...]

  @property
  def max(self) -> int:
    return max(self.options)


@dataclasses.dataclass(frozen=True)
class CandidatePlan:
  """One candidate of a block with its mid/SE widths per width combination.

  ``mid_widths[k]`` belongs to combination ``k`` of (input-width option,
  expansion option), input-major; a candidate that fixes its expansion has
  one expansion option. Empty for ops without an expanded width.
  """
  candidate: Candidate
  mid_widths: tuple[int, ...] = ()
  se_widths: tuple[int, ...] = ()
  uses_expansion_decision: bool = False
  combo_in_widths: tuple[int, ...] = ()  # the input width of each combination
  num_expansions: int = 1

  @property
  def info(self) -> ops.OpInfo:
    return self.candidate.info

  def combo_index(self, in_index: int, exp_index: int) -> int:
    """Index of the (input width, expansion) combination."""
    return in_index * self.num_expansions + (
        exp_index if self.uses_expansion_decision else 0)

  @property
  def needs_expand(self) -> bool:
    """Whether some combination keeps the expand conv (mid != in)."""
    return any(m != c for m, c in zip(self.mid_widths, self.combo_in_widths))

  @property
  def max_mid(self) -> int:
    return max(self.mid_widths) if self.mid_widths else 0

  @property
  def max_se(self) -> int:
    return max(self.se_widths) if self.se_widths else 0


@dataclasses.dataclass(frozen=True)
class BlockPlan:
  """A searched block with every width and size resolved."""
  name: str
  block: SearchBlock
  in_width: WidthSource
  out_width: WidthSource
  op_decision: str | None
  expansion_decision: str | None
  candidates: tuple[CandidatePlan, ...]
  lattice_in: int
  lattice_out: int
  in_sizes: tuple[int, ...]   # per resolution option
  out_sizes: tuple[int, ...]  # per resolution option

  @property
  def stride(self) -> int:
    return self.block.stride

  @property
  def shares_width(self) -> bool:
    """In and out widths are one decision (or equal fixed widths)."""
    return self.in_width == self.out_width

  @property
  def residual(self) -> bool:
    """The supernet adds the input exactly where every child would."""
    return self.stride == 1 and self.shares_width


@dataclasses.dataclass(frozen=True)
class SpacePlan:
  space: SearchSpace
  blocks: tuple[BlockPlan, ...]
  resolution: WidthSource  # input sizes, "decided" by RESOLUTION
  input_channels: int

  @property
  def factors(self) -> tuple[float, ...]:
    """Subsampling factor of each resolution option (1.0 = full size)."""
    top = self.space.max_input_size
    return tuple(top / s for s in self.space.input_sizes)


def _candidate_plan(candidate: Candidate, block: SearchBlock, in_width,
                    divisor: int) -> CandidatePlan:
  info = candidate.info
  if not info.needs_expansion:
    return CandidatePlan(candidate)
  decided = candidate.expansion is None
  expansions = block.expansions if decided else (candidate.expansion,)
  combos = list(itertools.product(in_width.options, expansions))
  mids = tuple(make_divisible(c * e, divisor) for c, e in combos)
  ses = (tuple(make_divisible(int(m * SE_RATIO), divisor) for m in mids)
         if info.se else ())
  return CandidatePlan(candidate, mids, ses, decided,
                       tuple(c for c, _ in combos), len(expansions))


def plan_space(space: SearchSpace, input_channels: int = 3) -> SpacePlan:
  """Resolves ``space``; see the module docstring."""
  res_decision = RESOLUTION if len(space.input_sizes) > 1 else None
  in_width = WidthSource(None, (input_channels,))
  lattice, sizes = space.max_input_size, space.input_sizes
  decisions = {d.name for d in space.decisions()}
  blocks = []
  for s, b, block in space.blocks():
    name = f"s{s}_b{b}"
    out_name = space.out_decision_name(s, b)
    out_width = WidthSource(out_name if out_name in decisions else None,
                            block.out)
    ir_pool = all(c.info.kind == ops.IR_POOL for c in block.ops)
    out_lattice = 1 if ir_pool else conv_output_size(lattice, block.stride)
    out_sizes = tuple(1 if ir_pool else conv_output_size(x, block.stride)
                      for x in sizes)
    op_name, exp_name = f"{name}/op", f"{name}/expansion"
    blocks.append(BlockPlan(
        name=name, block=block, in_width=in_width, out_width=out_width,
        op_decision=op_name if op_name in decisions else None,
        expansion_decision=exp_name if exp_name in decisions else None,
        candidates=tuple(_candidate_plan(c, block, in_width,
                                         space.width_divisor)
                         for c in block.ops),
        lattice_in=lattice, lattice_out=out_lattice, in_sizes=sizes,
        out_sizes=out_sizes))
    in_width, lattice, sizes = out_width, out_lattice, out_sizes
  return SpacePlan(space, tuple(blocks),
                   WidthSource(res_decision, space.input_sizes),
                   input_channels)
