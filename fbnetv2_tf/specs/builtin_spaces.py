"""Built-in search spaces, by name; each function documents its provenance.

To add one, write a function returning a SearchSpace and list it in
``_BUILDERS``; any JSON file in the format of
:mod:`fbnetv2_tf.specs.search_space` works without registering.
"""

from __future__ import annotations

import os

from fbnetv2_tf.errors import SpecError
from fbnetv2_tf.specs.search_space import (SearchBlock, SearchSpace,
                                           load_search_space, parse_candidate)


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
                     stages=tuple(tuple(s) for s in stages),
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
                     width_divisor=8, stages=tuple(tuple(s) for s in stages),
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
                     stages=stages, description=tiny32.__doc__.split("\n")[0])


_BUILDERS = {"fbnet_v1": fbnet_v1, "fbnetv2_f": fbnetv2_f, "tiny32": tiny32}


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
