"""From decisions to architectures: argmax (FBNetV2), sampling (FBNet) and
budget fitting; the cost of a derived child.

Pure data: choices are ``{decision name: option index}`` and the result is an
ArchSpec, so a derived network can be counted and saved without TensorFlow
(only the latency cost of a child loads it, through the cost model).
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Mapping

import numpy as np

from fbnetv2_tf.cost.counting import count_arch
from fbnetv2_tf.specs.arch_spec import ArchSpec, BlockSpec
from fbnetv2_tf.specs.search_space import RESOLUTION, SearchSpace


@dataclasses.dataclass(frozen=True)
class Derivation:
  """A derived architecture and how it was reached.

  Attributes:
    arch: the derived child.
    choices: ``{decision: option}`` it was derived from.
    changes: how far the child is from the argmax: the budget fitting's
      steps, or (derivation by evaluation) the decisions whose option
      differs from the argmax's.
    cost: the child's cost in the budget's metric (counted MFLOPs or
      M params, or the latency table's sum).
    accuracy: derivation by evaluation only: the child's accuracy with
      inherited weights on the architecture split (``search.evaluation``).
    candidates: derivation by evaluation only: every scored candidate.
  """

  arch: ArchSpec
  choices: dict
  changes: int
  cost: float
  accuracy: float | None = None
  candidates: tuple = ()


def argmax_choices(logits: Mapping[str, np.ndarray]) -> dict[str, int]:
  """The most likely option of every decision."""
  return {name: int(np.argmax(v)) for name, v in logits.items()}


def sample_choices(logits: Mapping[str, np.ndarray], rng: np.random.Generator
                   ) -> dict[str, int]:
  """One draw from ``softmax(alpha)`` of every decision."""
  choices = {}
  for name, v in logits.items():
    p = np.exp(_log_probabilities(v))
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
  ``make_divisible(in * e)`` gives exactly the mid width the supernet masked;
  the child pads as the space (and its supernet) does.
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
      blocks.append(BlockSpec.searched(candidate.op, out, block.stride,
                                       expansion, block.bias))
    stages.append(tuple(blocks))
  return ArchSpec(name=name or f"{space.name}_derived",
                  input_size=pick(RESOLUTION, space.input_sizes),
                  width_divisor=space.width_divisor, padding=space.padding,
                  stages=tuple(stages))


def _log_probabilities(v: np.ndarray) -> np.ndarray:
  v = np.asarray(v, "float64")
  z = v - np.max(v)
  return z - np.log(np.sum(np.exp(z)))


def _memoized(cost_of):
  """``cost_of`` computed once per distinct set of choices."""
  known = {}
  def cached(choices):
    key = tuple(sorted(choices.items()))
    if key not in known:
      known[key] = cost_of(choices)
    return known[key]
  return cached


def _single_changes(log_p, choices, cost_of):
  """Every change of one decision away from ``choices``, as ``(lost
  log-probability, new choices, new cost)``."""
  for name, lp in log_p.items():
    for option in range(len(lp)):
      if option != choices[name]:
        trial = {**choices, name: option}
        yield lp[choices[name]] - lp[option], trial, cost_of(trial)


def _cheapest_step(log_p, choices, cost, cost_of, accept):
  """The single-decision change that ``accept(new_cost)`` admits and that
  loses the least log-probability per unit of cost moved; None if none."""
  best = None
  for lost, trial, trial_cost in _single_changes(log_p, choices, cost_of):
    if trial_cost == cost or not accept(trial_cost):
      continue
    price = lost / abs(trial_cost - cost)
    if best is None or price < best[0]:
      best = (price, trial, trial_cost)
  return None if best is None else best[1:]


def fit_budget(space: SearchSpace, logits: Mapping[str, np.ndarray],
               cost_of: Callable[[Mapping[str, int]], float], target: float,
               choices: Mapping[str, int] | None = None,
               lower: float | None = None, fill: float | None = None
               ) -> tuple[dict[str, int], int]:
  """Moves ``choices`` (default: the argmax) into the budget band.

  Where one change of one decision brings the child into the band, takes
  the most probable such change. Otherwise, while the derived child costs
  more than ``target``, takes the change of one decision that gives up the
  least log-probability per unit of cost saved; then, while it costs less than ``lower``, the change that gives up
  the least log-probability per unit of cost added without passing
  ``target`` (greedy knapsack steps along the learned distribution). The
  search steers the expected cost, which differs from the argmax child's
  cost while the distribution is still soft; these steps close that gap.

  Args:
    space: the search space.
    logits: ``{decision: logits}`` of the search.
    cost_of: the cost of the child of some choices in the target's unit
      (e.g. the counted MFLOPs of ``derive_arch(space, choices)``).
    target: the budget, never exceeded.
    choices: where to start; the argmax when None.
    lower: fill the budget up to at least this cost where a change allows
      (None: only repair an overshoot).
    fill: then keep taking the cheapest change up (least log-probability
      lost per unit of cost added, never past ``target``; a change of two
      decisions where no single one fits) while the child costs less than
      ``fill * target`` (None: stop in the band). A search steers its cost to the budget, but the argmax child
      can land anywhere in the band; capacity left unused is accuracy left
      unused (docs/benchmarks/budget_search.md).

  Returns:
    The choices and the number of changes made.

  Raises:
    ValueError: no architecture of the space fits the budget.
  """
  choices = dict(argmax_choices(logits) if choices is None else choices)
  log_p = {name: _log_probabilities(v) for name, v in logits.items()}
  cost_of = _memoized(cost_of)  # the steps below price the same trials again
  cost = cost_of(choices)
  low = -np.inf if lower is None else lower
  if not low <= cost <= target:
    # One change into the band, the most probable one, where there is one:
    # a decision the search left undecided (e.g. two resolutions at 50 %
    # each) is better flipped once than compensated by many small changes.
    step = _most_probable_change(log_p, choices, cost_of,
                                 lambda c: low <= c <= target)
    if step is not None:
      return _fill(log_p, step, cost_of(step), cost_of, target, fill, 1)
  repaired = _repair_down(log_p, choices, cost, cost_of, target)
  if repaired is None:
    raise ValueError(f"no architecture of {space.name!r} costs at most "
                     f"{target:g}")
  choices, cost, changes = repaired
  if lower is not None:
    choices, cost, changes = _climb(log_p, choices, cost, cost_of, target,
                                    lower, _coarse_step_up, changes)
  return _fill(log_p, choices, cost, cost_of, target, fill, changes)


def _fill(log_p, choices, cost, cost_of, target, fill, changes):
  """Changes up towards ``fill * target`` (see :func:`fit_budget`):
  ``(choices, changes)`` counting the ones made before. Where no single
  change fits the room left, two together (one up, one down, say a wider
  stage and a smaller kernel) often do."""
  if fill is not None:
    choices, cost, changes = _climb(log_p, choices, cost, cost_of, target,
                                    fill * target, _pair_step_up, changes)
  return choices, changes


def _climb(log_p, choices, cost, cost_of, target, aim, fallback, changes):
  """Cheapest single steps up (never past ``target``) while the cost is
  below ``aim``; ``fallback(log_p, choices, cost, cost_of, target)`` where
  none fits: ``(choices, cost, changes)``."""
  while cost < aim:
    step = _cheapest_step(log_p, choices, cost, cost_of,
                          lambda c, now=cost: now < c <= target)
    if step is not None:
      choices, cost = step
      changes += 1
      continue
    step = fallback(log_p, choices, cost, cost_of, target)
    if step is None:
      break
    choices, cost, moved = step
    changes += moved
  return choices, cost, changes


# Single changes, most probable first, that pairs are formed from: bounded
# so that large spaces stay quick (24 x 24 trial costs per step).
_PAIR_CANDIDATES = 24


def _pair_step_up(log_p, choices, cost, cost_of, target):
  """The change of two decisions that raises the cost without passing
  ``target`` at the least log-probability per unit of cost added, as
  ``(choices, cost, 2)``; None if none."""
  singles = sorted(_single_changes(log_p, choices, cost_of),
                   key=lambda u: u[0])[:_PAIR_CANDIDATES]
  best = None
  for i, (lost_a, a, _) in enumerate(singles):
    name_a = next(n for n in a if a[n] != choices[n])
    for lost_b, b, _ in singles[i + 1:]:
      name_b = next(n for n in b if b[n] != choices[n])
      if name_a == name_b:
        continue
      trial = {**a, name_b: b[name_b]}
      trial_cost = cost_of(trial)
      if not cost < trial_cost <= target:
        continue
      price = (lost_a + lost_b) / (trial_cost - cost)
      if best is None or price < best[0]:
        best = (price, trial, trial_cost, 2)
  return None if best is None else best[1:]


def _most_probable_change(log_p, choices, cost_of, accept):
  """The single-decision change whose cost ``accept`` admits and that keeps
  the most log-probability, as new choices; None if none."""
  admitted = [(lost, trial) for lost, trial, trial_cost
              in _single_changes(log_p, choices, cost_of) if accept(trial_cost)]
  return min(admitted, key=lambda a: a[0])[1] if admitted else None


def _repair_down(log_p, choices, cost, cost_of, target, floor=-np.inf):
  """Cheapest steps down until the cost is at most ``target``, staying
  above ``floor`` where a step allows: ``(choices, cost, steps)``, or None
  where no step lowers the cost."""
  steps = 0
  while cost > target:
    step = (_cheapest_step(log_p, choices, cost, cost_of,
                           lambda c, now=cost: floor < c < now)
            or _cheapest_step(log_p, choices, cost, cost_of,
                              lambda c, now=cost: c < now))
    if step is None:
      return None
    choices, cost = step
    steps += 1
  return choices, cost, steps


# Overshooting changes tried when no single change fits the budget: bounded
# so that large spaces stay quick.
_COARSE_CANDIDATES = 8


def _coarse_step_up(log_p, choices, cost, cost_of, target):
  """A coarse change up (e.g. the resolution) that overshoots ``target``,
  then repaired back under it: the one that loses the least log-probability
  per unit of cost added, as ``(choices, cost, steps)``; None if none adds
  cost."""
  ups = sorted((u for u in _single_changes(log_p, choices, cost_of)
                if u[2] > target), key=lambda u: u[0])
  best = None
  for _, up, up_cost in ups[:_COARSE_CANDIDATES]:
    repaired = _repair_down(log_p, up, up_cost, cost_of, target, cost)
    if repaired is None or repaired[1] <= cost:
      continue
    trial, trial_cost, steps = repaired
    lost = sum(log_p[n][choices[n]] - log_p[n][trial[n]] for n in trial)
    price = lost / (trial_cost - cost)
    if best is None or price < best[0]:
      best = (price, trial, trial_cost, 1 + steps)
  return None if best is None else best[1:]



def child_cost(space: SearchSpace, metric: str, num_classes: int,
               input_channels: int, latency_table=None
               ) -> Callable[[Mapping[str, int]], float]:
  """The cost of the child of some choices, in ``metric``'s unit: counted
  MFLOPs or M params, or the LUT's latency (the expected latency at one-hot
  weights is exactly the sum of the child's table entries).

  ``input_channels`` is that of the data the child is for (1 for digits or
  Fashion-MNIST): the stem's cost depends on it, so it has no default."""
  if metric == "latency_ms":
    from fbnetv2_tf.cost.effective_shape import expected_cost  # pylint: disable=g-import-not-at-top
    from fbnetv2_tf.specs.space_plan import plan_space  # pylint: disable=g-import-not-at-top
    plan = plan_space(space, input_channels)
    sizes = {d.name: d.size for d in space.decisions()}
    def latency(choices):
      one_hot = {n: np.eye(k, dtype="float32")[choices[n]]
                 for n, k in sizes.items()}
      return float(expected_cost(plan, one_hot, metric, num_classes,
                                 latency_table))
    return latency
  def counted(choices):
    counts = count_arch(derive_arch(space, choices), num_classes,
                        input_channels)
    return counts.mflops if metric == "mflops" else counts.mparams
  return counted


def derive_within_budget(space: SearchSpace,
                         logits: Mapping[str, np.ndarray],
                         cost_of: Callable[[Mapping[str, int]], float],
                         target: float | None, band: float = 0.9,
                         fill: float | None = None,
                         choices: Mapping[str, int] | None = None
                         ) -> tuple[dict[str, int], int]:
  """``choices`` (default: the argmax), moved into ``[band * target,
  target]`` and filled towards ``fill * target`` by :func:`fit_budget`
  when a target is given: ``(choices, changes)``."""
  choices = dict(argmax_choices(logits) if choices is None else choices)
  if target is None:
    return choices, 0
  return fit_budget(space, logits, cost_of, target, choices,
                    lower=band * target, fill=fill)
