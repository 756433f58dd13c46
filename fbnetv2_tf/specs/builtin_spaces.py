"""Built-in search spaces, by name; each function documents its provenance.

To add one, write a function returning a SearchSpace and list it in
``_BUILDERS``; any JSON file in the format of
:mod:`fbnetv2_tf.specs.search_space` works without registering.
"""

from __future__ import annotations

import os

from fbnetv2_tf.errors import SpecError
from fbnetv2_tf.specs import mobilenet_v3
from fbnetv2_tf.specs.arch_spec import SYMMETRIC, ArchSpec
from fbnetv2_tf.specs.search_space import (SearchBlock, SearchSpace,
                                           load_search_space, parse_candidate)

# How every built-in space's strided convs pad, and so its supernet, its
# children and its latency tables (and MobileNetV3-Small, a child of
# mnv3_small32): the reference models' padding until "same", which leaves
# no PAD op in a TFLite file, is measured to pay off.
PADDING = SYMMETRIC


def _block(ops, out, stride=1, expansions=(), group=None) -> SearchBlock:
  if isinstance(out, int):
    out = (out,)
  return SearchBlock(ops=tuple(parse_candidate(o) for o in ops),
                     out=tuple(out), stride=stride,
                     expansions=tuple(float(e) for e in expansions),
                     width_group=group)


# The 9 candidate blocks of FBNet (arXiv 1812.03443, Table 2): kernel 3 or 5,
# expansion 1, 3 or 6, group-2 1x1 convs at expansion 1, and skip.
FBNET_V1_CANDIDATES = ("ir_k3_e1", "ir_k3_g2_e1", "ir_k3_e3", "ir_k3_e6",
                       "ir_k5_e1", "ir_k5_g2_e1", "ir_k5_e3", "ir_k5_e6",
                       "skip")


def fbnet_v1() -> SearchSpace:
  """FBNet's space (arXiv 1812.03443, Table 1): stem conv 16, then 22 searched
  layers in stages of 16x1, 24x4, 32x4, 64x4, 112x4, 184x4, 352x1 (strides
  1, 2, 2, 2, 1, 2, 1), each one of 9 candidates, and a 1x1 conv to 1984.
  Fixed widths and resolution: 9^22 (about 10^21) architectures.
  """
  layout = ((16, 1, 1), (24, 4, 2), (32, 4, 2), (64, 4, 2), (112, 4, 1),
            (184, 4, 2), (352, 1, 1))
  stages = [[_block(["conv_k3"], 16, stride=2)]]
  for out, n, stride in layout:
    stages.append([_block(FBNET_V1_CANDIDATES, out, stride if i == 0 else 1)
                   for i in range(n)])
  stages.append([_block(["conv_k1"], 1984)])
  return SearchSpace(name="fbnet_v1", input_sizes=(224,), width_divisor=1,
                     padding=PADDING, stages=tuple(tuple(s) for s in stages),
                     description=fbnet_v1.__doc__.split("\n")[0])


# Block types of the released FBNetV2 models (mobile-vision model zoo):
# kernel 3/5, squeeze-excite or not, ReLU or h-swish.
FBNETV2_IR_CANDIDATES = tuple(
    f"ir_k{k}{se}{hs}" for k in (3, 5) for se in ("", "_sehsig")
    for hs in ("", "_hs"))
FBNETV2_EXPANSIONS = (0.75, 1, 1.5, 2, 3, 4, 5, 6)


def fbnetv2_f() -> SearchSpace:
  """An FBNetV2 space around the released F-model macro layout (FBNetV2-F4 in
  the authors' model zoo): the same stages, strides and block counts, with
  output widths searched in steps of 4 or 8 around the released widths
  (one width decision per stage, so residuals stay valid), expansions 0.75 to
  6, 8 block types plus skip, and input resolutions 224, 192, 160, 128.
  """
  ir, ir_skip = FBNETV2_IR_CANDIDATES, FBNETV2_IR_CANDIDATES + ("skip",)
  e = FBNETV2_EXPANSIONS
  # (output widths, blocks, first stride, group) of each searched stage.
  layout = (
      (range(16, 33, 4), 3, 2, "c24"),
      (range(24, 41, 4), 4, 2, "c32"),
      (range(48, 81, 8), 3, 2, "c64"),
      (range(88, 129, 8), 4, 1, "c112"),
      (range(160, 209, 8), 3, 2, "c184"),
  )
  stages = [[_block(["conv_k3_hs"], (8, 12, 16), stride=2, group="c16")],
            [_block(ir, (8, 12, 16), expansions=(1,), group="c16")]]
  for widths, n, stride, group in layout:
    stages.append([_block(ir if i == 0 else ir_skip, tuple(widths),
                          stride if i == 0 else 1, e, group)
                   for i in range(n)])
  stages.append([_block(ir_skip, tuple(range(200, 249, 8)), expansions=e)])
  stages.append([_block(["ir_pool_hs"], 1984, expansions=(6,))])
  return SearchSpace(name="fbnetv2_f", input_sizes=(224, 192, 160, 128),
                     width_divisor=8, padding=PADDING,
                     stages=tuple(tuple(s) for s in stages),
                     description=fbnetv2_f.__doc__.split("\n")[0])


def tiny32() -> SearchSpace:
  """A small space for 28-32 px images (the built-in data, tests and CI):
  searched stem width, two stages of two blocks with block type, expansion
  and a shared width per stage, an efficient last stage, and input
  resolutions 32, 24, 16. Ours; 437,400 architectures.
  """
  types = ("ir_k3", "ir_k5", "ir_k3_sehsig_hs")
  e = (1, 2, 4)
  stages = (
      (_block(["conv_k3_hs"], (8, 12, 16), stride=2),),
      (_block(types, (16, 24), 2, e, "s1"),
       _block(types + ("skip",), (16, 24), 1, e, "s1")),
      (_block(types, (24, 32, 40), 2, e, "s2"),
       _block(types + ("skip",), (24, 32, 40), 1, e, "s2")),
      (_block(["ir_pool_hs"], 128, expansions=(4,)),),
  )
  return SearchSpace(name="tiny32", input_sizes=(32, 24, 16), width_divisor=4,
                     padding=PADDING, stages=stages,
                     description=tiny32.__doc__.split("\n")[0])


# Per bneck of MobileNetV3-Small, the expansion options beside its own
# (mobilenet_v3.small_arch): about two thirds and four thirds of it; the
# first bneck, which does not expand, can expand 2 or 3 times instead.
_MNV3_SMALL_OTHER_EXPANSIONS = ((2, 3), (3, 6), (2.5, 5), (3, 6), (4, 8),
                                (4, 8), (2, 4), (2, 4), (4, 8), (4, 8), (4, 8))
# Output widths of each stage: MobileNetV3-Small's and one step either side.
_MNV3_SMALL_WIDTHS = ((8, 16, 24), (8, 16, 24), (16, 24, 32), (32, 40, 48),
                      (40, 48, 56), (80, 96, 112), (768, 1024, 1280))


def mnv3_small32() -> SearchSpace:
  """A space around MobileNetV3-Small at 32 px, which is one of its
  architectures (``mobilenet_v3_small32``; Howard et al. 2019, "Searching
  for MobileNetV3", Table 2): the same stem, 11 bottlenecks in 5 stages,
  strides and efficient last stage; per bottleneck the 8 block types of
  FBNetV2 (kernel 3/5, squeeze-excite or not, ReLU or h-swish), three
  expansions around MobileNetV3-Small's, and skip where the bottleneck
  keeps its stage's width and resolution; one output-width decision per
  stage (MobileNetV3-Small's and one step either side) and for the stem and
  the 1024-channel last layer; last-stage expansion 4 or 6. Width divisor 8
  as in MobileNetV3. One resolution, 32 px: the five stride-2 layers need an
  input of at least 32 px. About 10^18.9 architectures.
  """
  mnv3 = mobilenet_v3.small_arch(32, padding=PADDING)
  others = iter(_MNV3_SMALL_OTHER_EXPANSIONS)
  stem_widths, *stage_widths, head_widths = _MNV3_SMALL_WIDTHS
  stages = [[_block(["conv_k3_hs"], stem_widths, stride=2)]]
  for s, (widths, stage) in enumerate(zip(stage_widths, mnv3.stages[1:-1])):
    stages.append([
        _block(FBNETV2_IR_CANDIDATES + (("skip",) if b else ()), widths,
               spec.stride, sorted((spec.expansion,) + next(others)),
               f"s{s + 1}")
        for b, spec in enumerate(stage)])
  stages.append([_block(["ir_pool_hs"], head_widths, expansions=(4, 6))])
  return SearchSpace(name="mnv3_small32", input_sizes=(32,),
                     width_divisor=mobilenet_v3.WIDTH_DIVISOR, padding=PADDING,
                     stages=tuple(tuple(s) for s in stages),
                     description=mnv3_small32.__doc__.split("\n")[0])


def mobilenet_v3_small32() -> tuple[ArchSpec, dict[str, int]]:
  """MobileNetV3-Small at 32 px as an architecture of ``mnv3_small32``:
  ``(arch, choices)``, where ``derive_arch(mnv3_small32(), choices,
  arch.name)`` is ``arch``. How it differs from
  ``keras.applications.MobileNetV3Small``: ``mobilenet_v3.small_arch``."""
  arch = mobilenet_v3.small_arch(32, padding=PADDING)
  return arch, mobilenet_v3.choices_for(mnv3_small32(), arch)


_BUILDERS = {"fbnet_v1": fbnet_v1, "fbnetv2_f": fbnetv2_f,
             "mnv3_small32": mnv3_small32, "tiny32": tiny32}


def names() -> list[str]:
  return list(_BUILDERS)


def get_space(name: str) -> SearchSpace:
  """A built-in space by name; an unknown name lists the known ones."""
  if name not in _BUILDERS:
    raise SpecError(f"unknown search space {name!r}; built-in: "
                    f"{', '.join(_BUILDERS)} (or pass a JSON file; to add a "
                    f"built-in, register it in {__name__})")
  return _BUILDERS[name]()


def space_from_argument(value: str) -> SearchSpace:
  """A built-in name or a path to a search-space JSON file."""
  if value in _BUILDERS:
    return get_space(value)
  if os.path.exists(value):
    return load_search_space(value)
  return get_space(value)
