"""The Gumbel-softmax temperature over a search.

FBNet (arXiv 1812.03443, section 4.1) starts at 5.0 and multiplies by
``exp(-0.045)`` every epoch, which reaches about 0.09 after its 90 epochs. What
matters is where the schedule ends: late in the search the weights must train
nearly one-hot children, or the argmax child is a network that was never
trained (docs/method.md, section 3). A schedule here is therefore defined by
the run: it starts at ``initial`` when the architecture updates begin (after
the warm-up) and ends at ``final`` in the last epoch, decaying geometrically
in between, whatever the number of epochs. FBNet's fixed per-epoch decay stays
available (``decay``).

Pure Python: a function of the epoch alone, so a resumed run continues it.
"""

from __future__ import annotations

import dataclasses
import math

# FBNet, arXiv 1812.03443, section 4.1.
FBNET_INITIAL = 5.0
FBNET_DECAY = 0.045


@dataclasses.dataclass(frozen=True)
class TemperatureSchedule:
  """Temperature of epoch ``e`` of a search with ``warmup`` weight-only epochs
  out of ``epochs``.

  Attributes:
    initial: temperature of the warm-up and of the first architecture epoch.
    final: temperature of the last epoch; None uses ``decay`` instead.
    decay: FBNet's form, ``initial * exp(-decay * e)``, when ``final`` is None.
  """

  initial: float = FBNET_INITIAL
  final: float | None = 0.2
  decay: float = FBNET_DECAY

  def __post_init__(self):
    if not self.initial > 0 or (self.final is not None and not self.final > 0):
      raise ValueError(f"temperatures must be positive, got initial "
                       f"{self.initial} and final {self.final}")
    if self.decay < 0:
      raise ValueError(f"temperature decay must be >= 0, got {self.decay}")

  def __call__(self, epoch: int, warmup: int, epochs: int) -> float:
    if self.final is None:
      return self.initial * math.exp(-self.decay * epoch)
    arch_epochs = epochs - warmup
    if epoch < warmup:
      return self.initial
    if arch_epochs <= 1:
      return self.final
    progress = min(1.0, (epoch - warmup) / (arch_epochs - 1))
    return self.initial * (self.final / self.initial) ** progress

  @classmethod
  def fbnet(cls, initial: float = FBNET_INITIAL,
            decay: float = FBNET_DECAY) -> "TemperatureSchedule":
    """FBNet's schedule: ``initial * exp(-decay * epoch)``."""
    return cls(initial=initial, final=None, decay=decay)
