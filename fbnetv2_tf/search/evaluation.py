"""Derivation by evaluation: candidates inside the budget band, drawn from
the learned distribution and scored as children of the trained supernet.

The argmax of the logits is one architecture among many the distribution
considers nearly as likely, and the budget fitting moves it by small greedy
steps. Scoring is cheaper than training: each candidate inherits the
supernet's weights, its BatchNorm statistics are re-estimated on training
images, and it is evaluated on the architecture split, data the weights
never trained on (``search.inherit``). The best-scoring candidate is kept.
How well such scores rank children is measured by
``benchmarks/supernet_ranking.py``.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Mapping

import numpy as np

from fbnetv2_tf.search import derive, inherit
from fbnetv2_tf.specs.arch_string import to_arch_string

ARGMAX = "argmax"
EVALUATE = "evaluate"
METHODS = (ARGMAX, EVALUATE)


@dataclasses.dataclass(frozen=True)
class DeriveConfig:
  """How a finished search picks its architecture.

  Attributes:
    method: ``argmax`` (the most likely option of every decision, fitted
      into the budget band) or ``evaluate`` (the best of ``candidates``
      in-band candidates by inherited accuracy, :func:`derive_by_evaluation`).
    candidates: how many distinct candidates ``evaluate`` scores.
    fill: fill the child towards ``fill * target`` after it reaches the
      band (``derive.fit_budget``); None stops in the band.
    calibration_images: training images for each candidate's BatchNorm
      re-estimate.
    validation_images: at most this many images of the architecture split
      score each candidate (None: all).
  """

  method: str = ARGMAX
  candidates: int = 16
  fill: float | None = None
  calibration_images: int = 2000
  validation_images: int | None = 10000

  def __post_init__(self):
    if self.method not in METHODS:
      raise ValueError(f"unknown derivation {self.method!r}; known: "
                       f"{', '.join(METHODS)}")
    if self.candidates < 1:
      raise ValueError(f"candidates must be >= 1, got {self.candidates}")
    if self.fill is not None and not 0 < self.fill <= 1:
      raise ValueError(f"fill must lie in (0, 1], got {self.fill}")
    if self.calibration_images < 1:
      raise ValueError("calibration_images must be >= 1, got "
                       f"{self.calibration_images}")


# Draws from the distribution per candidate wanted before giving up on
# finding more distinct ones (a concentrated distribution repeats itself).
_DRAWS_PER_CANDIDATE = 20


def band_candidates(space, logits: Mapping[str, np.ndarray],
                    cost_of: Callable[[Mapping[str, int]], float],
                    target: float, count: int, seed: int = 0,
                    band: float = 0.9, fill: float | None = None
                    ) -> list[tuple[str, dict]]:
  """Up to ``count`` distinct architectures in ``[band * target, target]``:
  the argmax fitted into the band first, then draws from ``softmax(alpha)``
  fitted likewise (``derive.fit_budget``), as ``(origin, choices)`` with
  origin ``argmax`` or ``sample``. Distinct means distinct children (two
  choices that differ only in a decision the child ignores are one)."""
  rng = np.random.default_rng(seed)
  found, seen = [], set()

  def add(origin, start):
    choices, _ = derive.derive_within_budget(space, logits, cost_of, target,
                                             band, fill, start)
    key = to_arch_string(derive.derive_arch(space, choices, "candidate"))
    if key not in seen:
      seen.add(key)
      found.append((origin, choices))

  add("argmax", None)
  for _ in range(_DRAWS_PER_CANDIDATE * count):
    if len(found) >= count:
      break
    add("sample", derive.sample_choices(logits, rng))
  return found


def derive_by_evaluation(net, target: float, metric: str, calibration_images,
                         validation: tuple, candidates: int = 16,
                         band: float = 0.9, fill: float | None = None,
                         latency_table=None, seed: int = 0,
                         name: str | None = None, progress=None
                         ) -> derive.Derivation:
  """The best of ``candidates`` in-band architectures by inherited accuracy.

  Args:
    net: the trained supernet (built).
    target: the budget in ``metric``'s unit.
    metric: mflops, mparams or latency_ms (needs ``latency_table``).
    calibration_images: model inputs for the BatchNorm re-estimate
      (training images, ``data.normalize``d).
    validation: ``(images, labels)`` the candidates are scored on (the
      architecture split).
    candidates: how many distinct candidates to score, the argmax's
      included.
    band: the lowest acceptable fraction of the target.
    fill: fill each candidate towards ``fill * target`` (see
      ``derive.fit_budget``).
    latency_table: a LatencyTable, for ``latency_ms``.
    seed: seeds the draws.
    name: the ArchSpec's name (default: ``SPACE_searched``).
    progress: called with ``(done, total)`` after each scored candidate.

  Returns:
    A Derivation whose ``accuracy`` is the chosen child's score and whose
    ``candidates`` lists every scored one as a dict (``origin``, ``cost``,
    ``accuracy``, ``arch`` string, ``choices``), best first.
  """
  if candidates < 1:
    raise ValueError(f"candidates must be >= 1, got {candidates}")
  cost_of = derive.child_cost(net.space, metric, net.num_classes,
                              net.input_channels, latency_table)
  logits = net.logits()
  drawn = band_candidates(net.space, logits, cost_of, target, candidates,
                          seed, band, fill)
  images, labels = validation
  scored = []
  for k, (origin, choices) in enumerate(drawn):
    score = inherit.inherited_accuracy(net, choices, calibration_images,
                                       images, labels)
    scored.append({"origin": origin, "cost": float(cost_of(choices)),
                   "accuracy": score,
                   "arch": to_arch_string(derive.derive_arch(
                       net.space, choices, "candidate")),
                   "choices": {n: int(v) for n, v in choices.items()}})
    if progress is not None:
      progress(k + 1, len(drawn))
  # Ties go to the earlier candidate: the argmax first, then draw order.
  best = max(range(len(scored)), key=lambda i: (scored[i]["accuracy"], -i))
  chosen = scored[best]["choices"]
  argmax = derive.argmax_choices(logits)
  changes = sum(chosen[n] != argmax[n] for n in chosen)
  arch = derive.derive_arch(net.space, chosen,
                            name or f"{net.space.name}_searched")
  ranked = sorted(scored, key=lambda r: -r["accuracy"])
  return derive.Derivation(arch, chosen, changes, scored[best]["cost"],
                           scored[best]["accuracy"], tuple(ranked))
