"""MACs and parameters of an ArchSpec, analytically, without TensorFlow.

Convention of the published FBNet/FBNetV2 figures: FLOPs are the
multiply-accumulates of conv and fully-connected weights (no bias, BN or
activation) plus one operation per input element of every global average
pool; parameters are conv and fully-connected weights only.
"""

from __future__ import annotations

import dataclasses

from fbnetv2_tf.specs import ops
from fbnetv2_tf.specs.arch_spec import ArchSpec
from fbnetv2_tf.specs.plan import ResolvedBlock, resolve


@dataclasses.dataclass(frozen=True)
class LayerCount:
  """Counts of one row of a profile: a block or a head layer.

  Shapes are ``(height, width, channels)`` of one example.
  """
  name: str
  op: str
  input_shape: tuple[int, int, int]
  output_shape: tuple[int, int, int]
  macs: int
  params: int


@dataclasses.dataclass(frozen=True)
class Counts:
  """Per-layer rows and their totals."""
  layers: tuple[LayerCount, ...]

  @property
  def macs(self) -> int:
    return sum(layer.macs for layer in self.layers)

  @property
  def params(self) -> int:
    return sum(layer.params for layer in self.layers)

  @property
  def mflops(self) -> float:
    return self.macs / 1e6

  @property
  def mparams(self) -> float:
    return self.params / 1e6


class _Tally:
  """Accumulates conv, pool and fully-connected costs of one block."""

  def __init__(self):
    self.macs = 0
    self.params = 0

  def conv(self, out_size: int, cin: int, cout: int, kernel: int = 1,
           groups: int = 1) -> None:
    weights = kernel * kernel * cin * cout // groups
    self.params += weights
    self.macs += weights * out_size * out_size

  def pool(self, size: int, channels: int) -> None:
    self.macs += size * size * channels


def block_counts(block: ResolvedBlock) -> tuple[int, int]:
  """``(macs, params)`` of one resolved block."""
  t = _Tally()
  kind = block.info.kind
  cin, cout, mid = block.in_channels, block.out_channels, block.mid_channels
  if kind == ops.CONV:
    t.conv(block.out_size, cin, cout, block.info.kernel)
  elif kind == ops.SKIP:
    if not block.residual:
      t.conv(block.out_size, cin, cout)
  elif kind == ops.IR_POOL:
    t.conv(block.in_size, cin, mid)
    t.pool(block.in_size, mid)
    t.conv(1, mid, cout)
  else:
    if block.has_expand:
      t.conv(block.in_size, cin, mid, groups=block.info.expand_groups)
    t.conv(block.out_size, mid, mid, block.info.kernel, groups=mid)
    if block.se_channels:
      t.pool(block.out_size, mid)
      t.conv(1, mid, block.se_channels)
      t.conv(1, block.se_channels, mid)
    t.conv(block.out_size, mid, cout, groups=block.pwl_groups)
  return t.macs, t.params


def count_arch(arch: ArchSpec, num_classes: int = 1000,
               input_channels: int = 3) -> Counts:
  """Per-block counts of ``arch`` plus its classifier (pool and FC)."""
  rows = []
  for block in resolve(arch, input_channels):
    macs, params = block_counts(block)
    rows.append(LayerCount(
        name=block.name, op=block.op,
        input_shape=(block.in_size, block.in_size, block.in_channels),
        output_shape=(block.out_size, block.out_size, block.out_channels),
        macs=macs, params=params))
  size, channels = rows[-1].output_shape[0], rows[-1].output_shape[2]
  rows.extend(head_rows(size, channels, num_classes))
  return Counts(tuple(rows))


def head_rows(size: int, channels: int, num_classes: int
              ) -> tuple[LayerCount, LayerCount]:
  """The classifier after the last block: global average pool, then FC."""
  return (LayerCount("head_pool", "global_avg_pool", (size, size, channels),
                     (1, 1, channels), size * size * channels, 0),
          LayerCount("head_fc", "fc", (1, 1, channels), (1, 1, num_classes),
                     channels * num_classes, channels * num_classes))
