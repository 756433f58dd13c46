"""The cheapest and the dearest child of a search space, found exactly.

A child's cost (counted MACs or parameters, or the latency table's sum) is a
sum of one term per block plus the classifier's. A block's term depends only
on the resolution, the block's op and expansion, and the widths of its input
and its output; the classifier's on the resolution and the last width. The
widths chain the blocks, so a dynamic program over the blocks, whose state
is the value of every width decision a later block still uses, visits each
block once per state instead of enumerating the 10^k children; op and
expansion are settled inside their block. Run once per resolution option.

Pure Python on the space's plan: a search checks its budget against the
space before it trains, in well under a second.
"""

from __future__ import annotations

import dataclasses
import itertools
from typing import Callable, Mapping

from fbnetv2_tf.cost import counting
from fbnetv2_tf.specs import plan as block_plan
from fbnetv2_tf.specs.arch_spec import BlockSpec
from fbnetv2_tf.specs.search_space import RESOLUTION, SearchSpace
from fbnetv2_tf.specs.space_plan import BlockPlan, SpacePlan, plan_space

# term(block plan, candidate, resolution, in, expansion, out option indices)
BlockTerm = Callable[[BlockPlan, int, int, int, int, int], float]
HeadTerm = Callable[[BlockPlan, int, int], float]  # (last block, size, width)


@dataclasses.dataclass(frozen=True)
class CostRange:
  """The choices of the cheapest and of the dearest child."""
  cheapest: dict[str, int]
  dearest: dict[str, int]


def cost_range(space: SearchSpace, metric: str, num_classes: int,
               input_channels: int, latency_table=None) -> CostRange:
  """The choices whose child costs least and most under ``metric``
  (``mflops``, ``mparams`` or ``latency_ms`` with ``latency_table``); their
  costs come from ``derive.child_cost``, the one cost a search reports."""
  plan = plan_space(space, input_channels)
  if metric == "latency_ms":
    block_term, head_term = _latency_terms(latency_table)
  else:
    block_term, head_term = _counted_terms(
        space.width_divisor, num_classes, 0 if metric == "mflops" else 1)
  extremes = []
  for sign in (1.0, -1.0):  # minimum, then maximum as a negated minimum
    best = min((_cheapest_at(plan, j, sign, block_term, head_term)
                for j in range(len(space.input_sizes))), key=lambda r: r[0])
    choices = dict(best[1])
    if plan.resolution.decision is not None:
      choices[RESOLUTION] = best[2]
    extremes.append(choices)
  return CostRange(*extremes)


def _counted_terms(width_divisor: int, num_classes: int, which: int
                   ) -> tuple[BlockTerm, HeadTerm]:
  """Block and head terms in MACs (``which`` 0) or parameters (1), from the
  counter that counts a derived child."""
  def block_term(bp, t, j, a, i, o):
    cp = bp.candidates[t]
    expansion = mid = None
    if cp.info.needs_expansion:
      expansion = (cp.candidate.expansion if cp.candidate.expansion is not None
                   else bp.block.expansions[i])
      mid = cp.mid_widths[cp.combo_index(a, i)]
    spec = BlockSpec.searched(cp.candidate.op, bp.out_width.options[o],
                              bp.block.stride, expansion, bp.block.bias)
    block = block_plan.resolve_block(spec, bp.name, bp.in_width.options[a],
                                     bp.in_sizes[j], width_divisor,
                                     mid_channels=mid)
    return counting.block_counts(block)[which]

  def head_term(last, j, o):
    rows = counting.head_rows(last.out_sizes[j], last.out_width.options[o],
                              num_classes)
    return sum((r.macs, r.params)[which] for r in rows)
  return block_term, head_term


def _latency_terms(table) -> tuple[BlockTerm, HeadTerm]:
  """Block and head terms in the table's microseconds, looked up as the
  search's expected latency looks them up."""
  from fbnetv2_tf.cost import latency_table as lut  # pylint: disable=g-import-not-at-top
  if table is None:
    raise ValueError("metric 'latency_ms' needs a latency table")

  def block_term(bp, t, j, a, i, o):
    key = lut.block_keys(bp, t, j, a, i, o)
    return 0.0 if key is None else table.lookup(
        key.op, key.input_size, key.stride, key.cin, key.mid, key.cout)

  def head_term(last, j, o):
    return table.lookup(lut.HEAD_OP, last.out_sizes[j], 1,
                        last.out_width.options[o], 0, 0)
  return block_term, head_term


def _options(source) -> range:
  return range(len(source.options))


def _cheapest_at(plan: SpacePlan, j: int, sign: float, block_term: BlockTerm,
                 head_term: HeadTerm) -> tuple[float, tuple, int]:
  """``(sign * cost, choices, j)`` of the child at resolution option ``j``
  that minimises ``sign * cost``.

  A state maps each live width decision to its option; its value is the
  best partial cost with the choices that reach it.
  """
  last_use = {}
  for index, bp in enumerate(plan.blocks):
    for source in (bp.in_width, bp.out_width):
      if source.decision is not None:
        last_use[source.decision] = index
  last = plan.blocks[-1]
  if last.out_width.decision is not None:
    last_use[last.out_width.decision] = len(plan.blocks)  # the head's

  states: dict[tuple, tuple[float, tuple]] = {(): (0.0, ())}
  for index, bp in enumerate(plan.blocks):
    widths = [s.decision for s in (bp.in_width, bp.out_width)
              if s.decision is not None]
    new_widths = list(dict.fromkeys(w for w in widths))
    local = _local_best(bp, j, sign, block_term)
    after: dict[tuple, tuple[float, tuple]] = {}
    for state, (cost, choices) in states.items():
      known = dict(state)
      opened = [w for w in new_widths if w not in known]
      sizes = [len(_source_of(bp, w).options) for w in opened]
      for values in itertools.product(*(range(n) for n in sizes)):
        at = {**known, **dict(zip(opened, values))}
        a = at.get(bp.in_width.decision, 0)
        o = at.get(bp.out_width.decision, 0)
        term, picks = local[a, o]
        total = cost + sign * term
        kept = tuple(sorted((w, v) for w, v in at.items()
                            if last_use[w] > index))
        made = choices + tuple(zip(opened, values)) + picks
        if kept not in after or total < after[kept][0]:
          after[kept] = (total, made)
    states = after
  best = None
  for state, (cost, choices) in states.items():
    o = dict(state).get(last.out_width.decision, 0)
    total = cost + sign * head_term(last, j, o)
    if best is None or total < best[0]:
      best = (total, choices, j)
  return best


def _source_of(bp: BlockPlan, decision: str):
  return bp.in_width if bp.in_width.decision == decision else bp.out_width


def _local_best(bp: BlockPlan, j: int, sign: float, block_term: BlockTerm
                ) -> Mapping[tuple[int, int], tuple[float, tuple]]:
  """For each (in, out) width option: the block's best term over its op
  and expansion, and those two choices. A block whose in and out are one
  decision only sees equal options."""
  n_exp = max(len(bp.block.expansions), 1)
  best = {}
  for a, o in itertools.product(_options(bp.in_width), _options(bp.out_width)):
    if bp.shares_width and a != o:
      continue
    for t, i in itertools.product(range(len(bp.candidates)), range(n_exp)):
      if bp.expansion_decision is None and i:
        continue
      term = block_term(bp, t, j, a, i, o)
      if (a, o) not in best or sign * term < sign * best[a, o][0]:
        picks = ()
        if bp.op_decision is not None:
          picks += ((bp.op_decision, t),)
        if bp.expansion_decision is not None:
          picks += ((bp.expansion_decision, i),)
        best[a, o] = (term, picks)
  return best
