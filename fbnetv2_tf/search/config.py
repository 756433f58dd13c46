"""``SearchConfig``: optimizers, warm-up, temperature schedule and loss.

Defaults follow FBNet's schedule (docs/method.md, section 7: SGD 0.1 with
momentum 0.9 and weight decay 1e-4 for the weights; Adam 0.01 with weight
decay 5e-4 for the logits) except
where a measurement on this library's planted-signal and budget benchmarks
chose otherwise; each such field says so.
"""

from __future__ import annotations

import dataclasses

from fbnetv2_tf.cost.losses import ResourceLoss
from fbnetv2_tf.search.schedules import TemperatureSchedule

# How the weight step's one-hot children are drawn (``search.weight_sampling``).
UNIFORM = "uniform"
SANDWICH = "sandwich"
CHILD_SAMPLINGS = (UNIFORM, SANDWICH)


@dataclasses.dataclass(frozen=True)
class SearchConfig:
  """How a search trains.

  Attributes:
    weight_lr: initial SGD learning rate of the weights.
    weight_lr_floor: the cosine schedule ends at this fraction of
      ``weight_lr`` instead of 0, so the weights keep adapting to the
      children the last architecture epochs compare.
    momentum: SGD momentum.
    weight_decay: decoupled weight decay of the weights.
    arch_lr: Adam learning rate of the logits.
    arch_weight_decay: decoupled weight decay of the logits.
    warmup_epochs: epochs that train the weights only.
    entropy_weight: weight of the decisions' mean entropy (nats) added to
      the architecture loss: pushes each decision to commit, so the argmax
      child and the distribution whose expected cost met the budget agree.
    temperature: the Gumbel temperature over the search.
    loss: how CE and the expected cost combine in the architecture step.
    child_share: the fraction of each weight batch that trains one-hot
      children of the whole space instead of blends of the learned
      distribution, so that inherited weights rank children the search did
      not prefer (``search.weight_sampling``).
    child_sampling: how those children are drawn: ``uniform`` or
      ``sandwich`` (the dearest and the cheapest child beside uniform ones).
  """

  weight_lr: float = 0.1
  weight_lr_floor: float = 0.1
  momentum: float = 0.9
  weight_decay: float = 1e-4
  # FBNet uses 0.01 over 80 architecture epochs (docs/method.md, section 7).
  # In the README's main search (8 architecture epochs of 17 steps on the
  # built-in digits)
  # the mean entropy of the decisions ended at 0.96 nats (uniform: 1.11)
  # with 0.01, 0.36 with 0.05 and 0.135 with 0.1, where the argmax child
  # matched the expected cost and scored best inside the supernet.
  arch_lr: float = 0.1
  arch_weight_decay: float = 5e-4
  warmup_epochs: int = 0
  entropy_weight: float = 0.0
  temperature: TemperatureSchedule = TemperatureSchedule()
  loss: ResourceLoss = ResourceLoss(form="none")
  child_share: float = 0.0
  child_sampling: str = UNIFORM

  def __post_init__(self):
    if self.warmup_epochs < 0:
      raise ValueError(f"warmup_epochs must be >= 0, got {self.warmup_epochs}")
    if self.entropy_weight < 0:
      raise ValueError(f"entropy_weight must be >= 0, got {self.entropy_weight}")
    if not 0 <= self.child_share <= 1:
      raise ValueError(f"child_share must lie in [0, 1], got {self.child_share}")
    if self.child_sampling not in CHILD_SAMPLINGS:
      raise ValueError(f"unknown child_sampling {self.child_sampling!r}; "
                       f"known: {', '.join(CHILD_SAMPLINGS)}")
    if not 0 <= self.weight_lr_floor <= 1:
      raise ValueError("weight_lr_floor must lie in [0, 1], got "
                       f"{self.weight_lr_floor}")

  def weight_optimizer(self, total_steps: int | None = None):
    """SGD; cosine over ``total_steps`` to the floor, constant when None."""
    import keras  # pylint: disable=g-import-not-at-top
    lr = self.weight_lr
    if total_steps:
      lr = keras.optimizers.schedules.CosineDecay(
          self.weight_lr, decay_steps=total_steps, alpha=self.weight_lr_floor)
    return keras.optimizers.SGD(lr, momentum=self.momentum,
                                weight_decay=self.weight_decay)

  def arch_optimizer(self):
    import keras  # pylint: disable=g-import-not-at-top
    return keras.optimizers.Adam(self.arch_lr,
                                 weight_decay=self.arch_weight_decay)
