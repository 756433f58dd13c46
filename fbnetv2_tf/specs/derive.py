"""From decisions to architectures: argmax (FBNetV2) and sampling (FBNet).

Pure data: choices are ``{decision name: option index}`` and the result is an
ArchSpec, so a derived network can be counted and saved without TensorFlow.
"""

from __future__ import annotations

from typing import Callable, Mapping

import numpy as np

from fbnetv2_tf.specs.arch_spec import ArchSpec, BlockSpec
from fbnetv2_tf.specs.search_space import RESOLUTION, SearchSpace


def argmax_choices(logits: Mapping[str, np.ndarray]) -> dict[str, int]:
  """The most likely option of every decision."""
  return {name: int(np.argmax(v)) for name, v in logits.items()}


def sample_choices(logits: Mapping[str, np.ndarray], rng: np.random.Generator
                   ) -> dict[str, int]:
  """One draw from ``softmax(alpha)`` of every decision."""
  choices = {}
  for name, v in logits.items():
    p = np.exp(v - np.max(v))
    choices[name] = int(rng.choice(len(p), p=p / p.sum()))
  return choices


def random_choices(space: SearchSpace, rng: np.random.Generator
                   ) -> dict[str, int]:
  """A uniformly random option of every decision."""
  return {d.name: int(rng.integers(d.size)) for d in space.decisions()}


def derive_arch(space: SearchSpace, choices: Mapping[str, int],
                name: str | None = None) -> ArchSpec:
  """The child ArchSpec of ``space`` under ``choices`` (missing: option 0).

  Expansions are those of the chosen options, so the child's
  ``make_divisible(in * e)`` gives exactly the mid width the supernet masked.
  """
  known = {d.name for d in space.decisions()}
  unknown = set(choices) - known
  if unknown:
    raise ValueError(f"unknown decisions {sorted(unknown)}; the space has "
                     f"{sorted(known)}")
  def pick(key, options):
    index = choices.get(key, 0)
    if not 0 <= index < len(options):
      raise ValueError(f"decision {key!r}: option {index} out of range "
                       f"0..{len(options) - 1}")
    return options[index]

  stages = []
  for s, stage in enumerate(space.stages):
    blocks = []
    for b, block in enumerate(stage):
      candidate = pick(f"s{s}_b{b}/op", block.ops)
      info = candidate.info
      expansion = None
      if info.needs_expansion:
        expansion = (candidate.expansion if candidate.expansion is not None
                     else pick(f"s{s}_b{b}/expansion", block.expansions))
      out = pick(space.out_decision_name(s, b), block.out)
      groups = info.expand_groups  # _g2 groups both 1x1 convs (FBNet)
      blocks.append(BlockSpec(op=candidate.op, out=out, stride=block.stride,
                              expansion=expansion, bias=block.bias,
                              pwl_groups=groups))
    stages.append(tuple(blocks))
  return ArchSpec(name=name or f"{space.name}_derived",
                  input_size=pick(RESOLUTION, space.input_sizes),
                  width_divisor=space.width_divisor, stages=tuple(stages))


def _log_probabilities(v: np.ndarray) -> np.ndarray:
  v = np.asarray(v, "float64")
  z = v - np.max(v)
  return z - np.log(np.sum(np.exp(z)))


def fit_budget(space: SearchSpace, logits: Mapping[str, np.ndarray],
               cost_of: Callable[[Mapping[str, int]], float], target: float,
               choices: Mapping[str, int] | None = None
               ) -> tuple[dict[str, int], int]:
  """Repairs ``choices`` (default: the argmax) to cost at most ``target``.

  While the derived architecture costs more than ``target``, takes the one
  change of one decision that gives up the least log-probability per unit of
  cost saved (a greedy knapsack step along the learned distribution). A
  budget-mode search usually ends under its target already; this covers the
  gap between the expected cost it steered and the argmax child's.

  Args:
    space: the search space.
    logits: ``{decision: logits}`` of the search.
    cost_of: the cost of the child of some choices in the target's unit
      (e.g. the counted MFLOPs of ``derive_arch(space, choices)``).
    target: the budget.
    choices: where to start; the argmax when None.

  Returns:
    The choices and the number of changes made.

  Raises:
    ValueError: no architecture of the space fits the budget.
  """
  choices = dict(argmax_choices(logits) if choices is None else choices)
  log_p = {name: _log_probabilities(v) for name, v in logits.items()}
  cost = cost_of(choices)
  changes = 0
  while cost > target:
    best = None
    for name, lp in log_p.items():
      for option in range(len(lp)):
        if option == choices[name]:
          continue
        trial = {**choices, name: option}
        trial_cost = cost_of(trial)
        if trial_cost >= cost:
          continue
        price = (lp[choices[name]] - lp[option]) / (cost - trial_cost)
        if best is None or price < best[0]:
          best = (price, trial, trial_cost)
    if best is None:
      raise ValueError(f"no architecture of {space.name!r} costs at most "
                       f"{target:g} (the closest costs {cost:g})")
    _, choices, cost = best
    changes += 1
  return choices, changes
