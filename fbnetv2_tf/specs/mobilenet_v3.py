"""MobileNetV3-Small as an ArchSpec, and the choices of a space that give it.

The layer table is Howard et al. 2019, "Searching for MobileNetV3", Table 2
(MobileNetV3-Small), as ``keras.applications.MobileNetV3Small`` builds it.
In the library's op vocabulary it is::

  conv_k3_hs-c16-s2                          stem
  ir_k3_sehsig-c16-s2-e1                     bneck 3x3, exp 16, SE, ReLU
  ir_k3-c24-s2-e4.5, ir_k3-c24-e3.67         bnecks 3x3, exp 72 and 88, ReLU
  ir_k5_sehsig_hs-c40-s2-e4, ... (11 bnecks in all; SE, h-swish from the 4th)
  ir_pool_hs-c1024-e6                        1x1 conv 576, pool, 1x1 conv 1024

An inverted residual's expansion here is a ratio of its input width, and the
child's expanded width is ``make_divisible(in * e, width_divisor)``; every
expanded width of Table 2 is a whole ratio of its input width except 72 / 16
= 4.5 and 88 / 24 = 3.67 (rounded to two decimals: 24 x 3.67 = 88.08, which
rounds to exactly 88 channels at divisor 8). So the widths are exactly
MobileNetV3-Small's, and so are the squeeze-excite widths (a quarter of the
expanded width rounded to a multiple of 8, the rule of both).
"""

from __future__ import annotations

import dataclasses

from fbnetv2_tf.errors import SpecError
from fbnetv2_tf.specs.arch_spec import SYMMETRIC, ArchSpec, BlockSpec
from fbnetv2_tf.specs.plan import make_divisible
from fbnetv2_tf.specs.search_space import RESOLUTION, SearchSpace


@dataclasses.dataclass(frozen=True)
class Bneck:
  """One bottleneck row of Table 2: kernel, expanded and output widths,
  squeeze-excite, h-swish (else ReLU) and stride."""
  kernel: int
  expanded: int
  out: int
  se: bool
  hswish: bool
  stride: int


SMALL_STEM = 16  # conv2d 3x3, h-swish, stride 2
# Grouped by output width: the stages of the library's arch and space.
SMALL_STAGES = (
    (Bneck(3, 16, 16, True, False, 2),),
    (Bneck(3, 72, 24, False, False, 2), Bneck(3, 88, 24, False, False, 1)),
    (Bneck(5, 96, 40, True, True, 2), Bneck(5, 240, 40, True, True, 1),
     Bneck(5, 240, 40, True, True, 1)),
    (Bneck(5, 120, 48, True, True, 1), Bneck(5, 144, 48, True, True, 1)),
    (Bneck(5, 288, 96, True, True, 2), Bneck(5, 576, 96, True, True, 1),
     Bneck(5, 576, 96, True, True, 1)),
)
SMALL_LAST_CONV = 576  # conv2d 1x1 before the pool
SMALL_HEAD = 1024  # conv2d 1x1, no BN, after the pool
WIDTH_DIVISOR = 8  # MobileNetV3's channel rounding


def bneck_op(b: Bneck) -> str:
  return f"ir_k{b.kernel}{'_sehsig' if b.se else ''}{'_hs' if b.hswish else ''}"


def expansion_ratio(expanded: int, in_channels: int) -> float:
  """``expanded / in_channels`` to two decimals; SpecError where the child's
  rounding of ``in_channels * ratio`` would not give back ``expanded``."""
  ratio = round(expanded / in_channels, 2)
  if make_divisible(in_channels * ratio, WIDTH_DIVISOR) != expanded:
    raise SpecError(f"no two-decimal expansion of {in_channels} channels "
                    f"gives {expanded}")
  return ratio


def small_arch(input_size: int = 32, name: str = "MobileNetV3Small",
               padding: str = SYMMETRIC) -> ArchSpec:
  """MobileNetV3-Small (Table 2) as an ArchSpec at ``input_size`` px whose
  strided convs pad as ``padding`` says (``arch_spec.PADDINGS``).

  Against ``keras.applications.MobileNetV3Small(weights=None,
  include_preprocessing=False)`` at the same input:

  - the same convolutions, widths, kernels, strides, squeeze-excites,
    activations and residuals, so the counted MFLOPs agree except for the
    library's classifier, which global-average-pools the (already 1x1)
    1024-channel output before its fully-connected layer: 1,024 more
    operations (0.001 MFLOPs) under the pool convention;
  - the library's classifier is a fully-connected layer without dropout;
    Keras's is a 1x1 conv after dropout 0.2 (``dropout_rate``);
  - the squeeze-excite's hidden activation is the block's own (h-swish in
    the h-swish blocks), where Keras always uses ReLU;
  - with symmetric padding a stride-2 conv pads k // 2 on every side, where
    Keras pads the stem "same" and the depthwise convs by ``correct_pad``
    (one pixel less at the top and left of an even input, as "same"): the
    output sizes agree; ``padding="same"`` pads as Keras does;
  - BatchNorm uses the library's settings, not Keras's epsilon 1e-3 and
    momentum 0.999.

  The 1024-channel last layer of MobileNetV3 is the ``ir_pool_hs`` block's
  output (1x1 conv to 576, pool, 1x1 conv to 1024 with bias and no BN).
  """
  stages = [(BlockSpec("conv_k3_hs", SMALL_STEM, 2),)]
  channels = SMALL_STEM
  for stage in SMALL_STAGES:
    blocks = []
    for b in stage:
      blocks.append(BlockSpec(bneck_op(b), b.out, b.stride,
                              expansion=expansion_ratio(b.expanded, channels)))
      channels = b.out
    stages.append(tuple(blocks))
  stages.append((BlockSpec("ir_pool_hs", SMALL_HEAD, expansion=expansion_ratio(
      SMALL_LAST_CONV, channels)),))
  return ArchSpec(name=name, input_size=input_size,
                  width_divisor=WIDTH_DIVISOR, padding=padding,
                  stages=tuple(stages))


def choices_for(space: SearchSpace, arch: ArchSpec) -> dict[str, int]:
  """The choices of ``space`` whose derived child is ``arch`` (the inverse
  of ``search.derive.derive_arch``); SpecError names the first block of
  ``arch`` that the space cannot express."""
  if arch.width_divisor != space.width_divisor:
    raise SpecError(f"{arch.name}: width divisor {arch.width_divisor}, the "
                    f"space {space.name!r} has {space.width_divisor}")
  if arch.padding != space.padding:
    raise SpecError(f"{arch.name}: {arch.padding} padding, the space "
                    f"{space.name!r} pads as {space.padding}")
  if [len(s) for s in arch.stages] != [len(s) for s in space.stages]:
    raise SpecError(f"{arch.name}: stages of {[len(s) for s in arch.stages]} "
                    f"blocks, the space {space.name!r} has "
                    f"{[len(s) for s in space.stages]}")
  open_decisions = {d.name for d in space.decisions()}
  choices: dict[str, int] = {}

  def choose(decision, options, value, where):
    if value not in options:
      raise SpecError(f"{arch.name}: {where}: {value} is not an option of "
                      f"the space {space.name!r} ({list(options)})")
    index = options.index(value)
    if decision in open_decisions:
      if choices.setdefault(decision, index) != index:
        raise SpecError(f"{arch.name}: {where}: width {value} differs from "
                        "another block of its width group")

  choose(RESOLUTION, space.input_sizes, arch.input_size, "input_size")
  for (s, b, block), (_, _, spec) in zip(space.blocks(), arch.blocks()):
    where = f"stage {s}, block {b}"
    if spec.stride != block.stride or spec.repeat != 1:
      raise SpecError(f"{arch.name}: {where}: stride {spec.stride} and "
                      f"repeat {spec.repeat}; the space has stride "
                      f"{block.stride} and no repeats")
    own = [c for c in block.ops if c.op == spec.op
           and c.expansion in (None, spec.expansion)]
    if not own:
      raise SpecError(f"{arch.name}: {where}: op {spec.op!r} is not a "
                      f"candidate of the space {space.name!r}")
    choose(f"s{s}_b{b}/op", block.ops, own[0], where)
    if own[0].uses_expansion_decision:
      choose(f"s{s}_b{b}/expansion", block.expansions, spec.expansion, where)
    choose(space.out_decision_name(s, b), block.out, spec.out, where)
  return choices
