"""Resource-aware search losses: cross-entropy combined with a cost term.

Four forms (docs/method.md, section 6); the three with a cost term are
differentiable in the expected cost:

- ``fbnet``: ``CE * a * log(COST)^b`` with ``a = 0.2``, ``b = 0.6`` (FBNet,
  arXiv 1812.03443, eq. 3). COST is in the metric's unit times ``scale`` and
  must exceed 1 (``log`` of a cost below 1 is negative and its power is
  undefined): pick ``scale`` so it does (e.g. 1000 for a sub-MFLOP space).
- ``additive``: ``CE + lambda * COST / target``.
- ``budget``: an augmented Lagrangian that meets the budget as an equality
  ``E[COST] = margin * target``: ``CE + mu * h + (penalty / 2) * h^2`` with
  ``h = E[COST] / (margin * target) - 1``, where the multiplier ``mu`` is
  raised by ``dual_lr * h`` after every architecture step (dual ascent; the
  search step keeps it). Inside the budget the multiplier settles at the
  price that makes accuracy trade against cost at the target, so CE decides
  which options fill it; the quadratic term damps the oscillation dual
  ascent alone has. By default (``steer="argmax"``) the cost is that of
  the current argmax child of ``softmax(alpha)``, the child derivation
  takes, with the gradient of the expected cost under ``softmax(alpha)``
  (straight through); ``steer="expected"`` prices the expected cost itself,
  which a distribution can meet by blending a dear option with a cheap one
  that the argmax then drops (budget benchmark, tiny32 at 0.3 MFLOPs:
  expected 0.2821, argmax child 0.2129 with 80 % on the 16 px input).
  Aimed a little under the target (``margin``), so that the derived child
  lands at or under it; ``search.derive.fit_budget`` repairs what the argmax
  still misses. (An absolute-value penalty, TuNAS's
  "absolute reward", was this form before: its gradient flips sign every
  step on target, and at lambda = 1 it swamped the CE signal.)
- ``none``: plain CE (accuracy-only search).
"""

from __future__ import annotations

import dataclasses

from keras import ops

from fbnetv2_tf.cost.effective_shape import METRICS

FORMS = ("fbnet", "additive", "budget", "none")
STEERS = ("expected", "argmax")

# FBNet, arXiv 1812.03443, section 3.3: alpha = 0.2, beta = 0.6.
FBNET_ALPHA = 0.2
FBNET_BETA = 0.6


@dataclasses.dataclass(frozen=True)
class ResourceLoss:
  """How the architecture step combines cross-entropy and expected cost.

  Attributes:
    form: one of ``FORMS``.
    metric: cost metric, one of ``effective_shape.METRICS``.
    target: the cost target (additive and budget forms), in the metric's unit.
    weight: ``lambda`` of the additive form.
    penalty: the budget form's quadratic weight.
    dual_lr: step of the budget form's multiplier per architecture step.
    alpha: FBNet's ``a``.
    beta: FBNet's ``b``.
    scale: the FBNet form's cost is ``scale * cost``.
    margin: the budget form aims at ``margin * target``.
    band: the budget form's derived child costs at least ``band * target``
      where the space allows.
    steer: what the budget form's cost term prices: ``"expected"``, the
      cost under ``softmax(alpha)``; or ``"argmax"``, the cost of the
      current argmax child with the expected cost's gradient (straight
      through), so that the child derivation takes is the one held at the
      aim rather than a blend of it with options the argmax drops.
  """

  form: str = "budget"
  metric: str = "mflops"
  target: float | None = None
  weight: float = 1.0
  # Measured on tiny32 (README, budget benchmark): penalty 1 and dual_lr 0.1
  # oscillated (expected cost 0.31 -> 0.65 -> 0.42 MFLOPs for a 0.5 target,
  # multiplier -0.84 -> +0.86); penalty 20 and dual_lr 0.02 held the cost
  # within 3 % of the aim from the second architecture epoch on.
  penalty: float = 20.0
  dual_lr: float = 0.02
  alpha: float = FBNET_ALPHA
  beta: float = FBNET_BETA
  scale: float = 1.0
  margin: float = 0.95
  band: float = 0.9
  # Budget benchmark (tiny32, digits, targets 0.15/0.3/0.5): "expected"
  # needed 2, 2, 0 decision changes after the argmax to reach the band,
  # "argmax" 1, 1, 0.
  steer: str = "argmax"

  def __post_init__(self):
    if self.form not in FORMS:
      raise ValueError(f"unknown loss {self.form!r}; known: {', '.join(FORMS)}")
    if self.metric not in METRICS:
      raise ValueError(f"unknown cost metric {self.metric!r}; known: "
                       f"{', '.join(METRICS)}")
    if self.form in ("additive", "budget") and not (self.target or 0) > 0:
      raise ValueError(f"the {self.form} loss needs a positive cost target")
    if self.steer not in STEERS:
      raise ValueError(f"unknown budget steer {self.steer!r}; known: "
                       f"{', '.join(STEERS)}")
    for name in ("margin", "band"):
      if not 0 < getattr(self, name) <= 1:
        raise ValueError(f"budget {name} must be in (0, 1], got "
                         f"{getattr(self, name)}")

  @property
  def on_probabilities(self) -> bool:
    """Whether the cost term takes ``softmax(alpha)`` rather than the
    step's Gumbel sample (FBNet's and the additive form use the sample)."""
    return self.form == "budget"

  def constraint(self, cost):
    """The budget form's ``h = cost / (margin * target) - 1``."""
    return cost / (self.margin * self.target) - 1.0

  def __call__(self, ce, cost, multiplier=0.0):
    """The architecture loss from the batch CE, the expected cost and (the
    budget form) the current multiplier."""
    if self.form == "none":
      return ce
    if self.form == "fbnet":
      # The clamp keeps log() > 0 so a cost that dips to 1 cannot give NaN;
      # the guidance above says to scale costs well above it.
      log_cost = ops.log(ops.maximum(cost * self.scale, 1.0 + 1e-6))
      return ce * self.alpha * ops.power(log_cost, self.beta)
    if self.form == "additive":
      return ce + self.weight * cost / self.target
    h = self.constraint(cost)
    return ce + multiplier * h + 0.5 * self.penalty * h * h

  def to_dict(self) -> dict:
    return dataclasses.asdict(self)
