"""From decisions to architectures: argmax (FBNetV2) and sampling (FBNet).

Pure data: choices are ``{decision name: option index}`` and the result is an
ArchSpec, so a derived network can be counted and saved without TensorFlow.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np

from fbnetv2_tf.specs.arch_spec import ArchSpec, BlockSpec
from fbnetv2_tf.specs.search_space import RESOLUTION, SearchSpace


def argmax_choices(logits: Mapping[str, np.ndarray]) -> dict[str, int]:
  """The most likely option of every decision."""
  return {name: int(np.argmax(v)) for name, v in logits.items()}


def sample_choices(logits: Mapping[str, np.ndarray], rng: np.random.Generator
                   ) -> dict[str, int]:
  """One draw from ``softmax(alpha)`` of every decision."""
  choices = {}
  for name, v in logits.items():
    p = np.exp(v - np.max(v))
    choices[name] = int(rng.choice(len(p), p=p / p.sum()))
  return choices


def random_choices(space: SearchSpace, rng: np.random.Generator
                   ) -> dict[str, int]:
  """A uniformly random option of every decision."""
  return {d.name: int(rng.integers(d.size)) for d in space.decisions()}


def derive_arch(space: SearchSpace, choices: Mapping[str, int],
                name: str | None = None) -> ArchSpec:
  """The child ArchSpec of ``space`` under ``choices`` (missing: option 0).

  Expansions are those of the chosen options, so the child's
  ``make_divisible(in * e)`` gives exactly the mid width the supernet masked.
  """
  known = {d.name for d in space.decisions()}
  unknown = set(choices) - known
  if unknown:
    raise ValueError(f"unknown decisions {sorted(unknown)}; the space has "
                     f"{sorted(known)}")
  def pick(key, options):
    index = choices.get(key, 0)
    if not 0 <= index < len(options):
      raise ValueError(f"decision {key!r}: option {index} out of range "
                       f"0..{len(options) - 1}")
    return options[index]

  stages = []
  for s, stage in enumerate(space.stages):
    blocks = []
    for b, block in enumerate(stage):
      candidate = pick(f"s{s}_b{b}/op", block.ops)
      info = candidate.info
      expansion = None
      if info.needs_expansion:
        expansion = (candidate.expansion if candidate.expansion is not None
                     else pick(f"s{s}_b{b}/expansion", block.expansions))
      out = pick(space.out_decision_name(s, b), block.out)
      groups = info.expand_groups  # _g2 groups both 1x1 convs (FBNet)
      blocks.append(BlockSpec(op=candidate.op, out=out, stride=block.stride,
                              expansion=expansion, bias=block.bias,
                              pwl_groups=groups))
    stages.append(tuple(blocks))
  return ArchSpec(name=name or f"{space.name}_derived",
                  input_size=pick(RESOLUTION, space.input_sizes),
                  width_divisor=space.width_divisor, stages=tuple(stages))
