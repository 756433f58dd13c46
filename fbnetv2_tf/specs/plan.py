"""Resolves an ArchSpec into concrete layers: channels, strides and sizes.

This is the single place where the reference channel rules live, so the
analytic counter and the Keras builder cannot disagree about a width.
"""

from __future__ import annotations

import dataclasses
import math

from fbnetv2_tf.specs import ops
from fbnetv2_tf.specs.arch_spec import SYMMETRIC, ArchSpec, BlockSpec
from fbnetv2_tf.errors import SpecError
from fbnetv2_tf.specs.locations import location

# Squeeze-excite width = mid * 0.25, from the released FBNetV2 model
# definitions (mobile-vision, SE ratio of the `_sehsig` blocks).
SE_RATIO = 0.25


def make_divisible(value: float, divisor: int) -> int:
  """Rounds a channel count to a multiple of ``divisor`` (reference rule).

  An exact multiple is kept; anything else rounds half up to the nearest
  multiple, bumped by one ``divisor`` if that lands more than 5 % below
  ``value``, and never below ``divisor`` (so with divisor 1, 43.65 gives 44).
  """
  rounded = int(value)
  if value % divisor != 0:
    rounded = max(math.floor(value / divisor + 0.5), 1) * divisor
    if rounded < 0.95 * value:
      rounded += divisor
  return max(rounded, divisor)


def conv_output_size(size: int, stride: int) -> int:
  """Output size of an odd-kernel conv padded by k // 2 on both sides, or
  as ``"same"`` pads it: both give ``ceil(size / stride)``."""
  return (size - 1) // stride + 1


@dataclasses.dataclass(frozen=True)
class ResolvedBlock:
  """One block copy with every width and size fixed.

  ``mid_channels`` is the expanded width of ``ir`` and ``ir_pool`` blocks
  (equal to ``in_channels`` when the expand conv is omitted); ``se_channels``
  is 0 without squeeze-excite. ``residual`` means the output is added to the
  input (inverted residual) or is the input itself (identity skip).
  ``padding`` is the architecture's (``arch_spec.PADDINGS``).
  """
  name: str
  op: str
  info: ops.OpInfo
  in_channels: int
  out_channels: int
  stride: int
  in_size: int
  out_size: int
  mid_channels: int = 0
  se_channels: int = 0
  use_bias: bool = False
  pwl_groups: int = 1
  padding: str = SYMMETRIC

  @property
  def has_expand(self) -> bool:
    return self.info.kind == ops.IR_POOL or (
        self.info.kind == ops.INVERTED_RESIDUAL
        and self.mid_channels != self.in_channels)

  @property
  def residual(self) -> bool:
    return (self.info.kind in (ops.INVERTED_RESIDUAL, ops.SKIP)
            and self.in_channels == self.out_channels and self.stride == 1)


def resolve(arch: ArchSpec, input_channels: int = 3) -> list[ResolvedBlock]:
  """Expands repeats and computes every block's channels and feature sizes."""
  size, channels = arch.input_size, input_channels
  blocks = []
  for s, b, spec in arch.blocks():
    for r in range(spec.repeat):
      block = resolve_block(
          spec, f"s{s}_b{b}" + (f"_r{r}" if spec.repeat > 1 else ""),
          channels, size, arch.width_divisor, first_copy=r == 0,
          padding=arch.padding)
      _check_groups(block, lambda f, s=s, b=b: location(arch.name, s, b, f))
      blocks.append(block)
      size, channels = block.out_size, spec.out
  return blocks


def resolve_block(spec: BlockSpec, name: str, in_channels: int, in_size: int,
                  width_divisor: int, first_copy: bool = True,
                  mid_channels: int | None = None,
                  padding: str = SYMMETRIC) -> ResolvedBlock:
  """One copy of ``spec`` on an ``in_size`` px, ``in_channels`` input.

  Only the first copy of a repeated block strides. ``mid_channels``
  overrides the expanded width that ``spec.expansion`` gives (a latency
  table's candidate is keyed by its mid width, not by a ratio); ``padding``
  is the architecture's or the space's. Everything
  that builds or costs a block goes through here, so the child, the
  analytic counter and the latency candidates share one set of rules.
  """
  info = spec.info
  stride = spec.stride if first_copy else 1
  mid = se = 0
  if info.needs_expansion:
    mid = (make_divisible(in_channels * spec.expansion, width_divisor)
           if mid_channels is None else mid_channels)
  if info.se:
    se = make_divisible(int(mid * SE_RATIO), width_divisor)
  out_size = 1 if info.kind == ops.IR_POOL else conv_output_size(in_size,
                                                                  stride)
  return ResolvedBlock(
      name=name, op=spec.op, info=info, in_channels=in_channels,
      out_channels=spec.out, stride=stride, in_size=in_size,
      out_size=out_size, mid_channels=mid, se_channels=se,
      use_bias=spec.bias, pwl_groups=spec.pwl_groups, padding=padding)


def _check_groups(block: ResolvedBlock, where) -> None:
  g = block.info.expand_groups
  if block.has_expand and g > 1 and (block.in_channels % g or
                                     block.mid_channels % g):
    raise SpecError(f"{where('op')}: {block.op!r} needs input ({block.in_channels})"
                    f" and mid ({block.mid_channels}) channels divisible by {g}")
  if block.pwl_groups > 1 and block.mid_channels % block.pwl_groups:
    raise SpecError(f"{where('pwl_groups')}: {block.pwl_groups} groups do not "
                    f"divide the {block.mid_channels} mid channels")
