"""Block op names of the reference model definitions, parsed into their parts.

Op grammar (the names used by ``fbnet_archs.json``)::

  conv_k<K>[_hs]                 KxK conv + BN + act
  ir_k<K>[_g2][_sehsig][_hs]     inverted residual; g2: grouped 1x1 convs and a
                                 channel shuffle; sehsig: squeeze-excite with an
                                 h-sigmoid gate; hs: h-swish instead of ReLU
  ir_pool[_hs]                   efficient last stage (1x1 conv, pool, 1x1 conv)
  skip                           identity, or a 1x1 conv where shapes differ

K is an odd kernel size (1, 3, 5 or 7).
"""

from __future__ import annotations

import dataclasses
import re

CONV = "conv"
INVERTED_RESIDUAL = "ir"
SKIP = "skip"
IR_POOL = "ir_pool"

RELU = "relu"
HSWISH = "hswish"

_KERNELS = (1, 3, 5, 7)
_CONV_RE = re.compile(r"^conv_k(\d+)(_hs)?$")
_IR_RE = re.compile(r"^ir_k(\d+)(_g2)?(_sehsig)?(_hs)?$")
_IR_POOL_RE = re.compile(r"^ir_pool(_hs)?$")

KNOWN_FORMS = ("conv_k<K>[_hs]", "ir_k<K>[_g2][_sehsig][_hs]", "ir_pool[_hs]",
               "skip")


@dataclasses.dataclass(frozen=True)
class OpInfo:
  """The parts of an op name.

  Attributes:
    kind: one of ``conv``, ``ir``, ``skip``, ``ir_pool``.
    kernel: spatial kernel size (1 for ``skip`` and ``ir_pool``).
    activation: ``relu`` or ``hswish``.
    se: whether an inverted residual has squeeze-excite.
    expand_groups: groups of the 1x1 expand conv (2 for ``_g2``, else 1).
  """
  kind: str
  kernel: int = 1
  activation: str = RELU
  se: bool = False
  expand_groups: int = 1

  @property
  def needs_expansion(self) -> bool:
    return self.kind in (INVERTED_RESIDUAL, IR_POOL)


def parse_op(name: str) -> OpInfo:
  """Parses an op name; raises ValueError naming the known forms."""
  if not isinstance(name, str):
    raise ValueError(f"op must be a string, got {name!r}")
  if name == SKIP:
    return OpInfo(kind=SKIP)
  act = lambda hs: HSWISH if hs else RELU  # pylint: disable=unnecessary-lambda-assignment
  if m := _CONV_RE.match(name):
    return OpInfo(kind=CONV, kernel=_kernel(name, m.group(1)),
                  activation=act(m.group(2)))
  if m := _IR_RE.match(name):
    return OpInfo(kind=INVERTED_RESIDUAL, kernel=_kernel(name, m.group(1)),
                  expand_groups=2 if m.group(2) else 1, se=bool(m.group(3)),
                  activation=act(m.group(4)))
  if m := _IR_POOL_RE.match(name):
    return OpInfo(kind=IR_POOL, activation=act(m.group(1)))
  raise ValueError(f"unknown op {name!r}; known forms: {', '.join(KNOWN_FORMS)}")


def _kernel(name: str, digits: str) -> int:
  k = int(digits)
  if k not in _KERNELS:
    raise ValueError(f"op {name!r}: kernel must be one of {_KERNELS}, got {k}")
  return k
