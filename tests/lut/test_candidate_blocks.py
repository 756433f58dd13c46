"""A latency table times each block as the child builds it.

For every op of every built-in space, a child that picks the op is built,
and the one-block candidate model of that block's latency key must hold the
same layers (class, configuration apart from the name: groups, kernels,
strides, widths) with the same shapes as the block inside the child.
"""

import keras
import pytest

from fbnetv2_tf.lut import candidates
from fbnetv2_tf.models.child_model import build_child_model
from fbnetv2_tf.search import derive
from fbnetv2_tf.specs import builtin_spaces, ops
from fbnetv2_tf.specs.plan import resolve

SPACES = ("tiny32", "fbnetv2_f", "fbnet_v1")


def _layer_signatures(model: keras.Model, prefix: str) -> list[tuple]:
  rows = []
  for layer in model.layers:
    if not layer.name.startswith(prefix):
      continue
    config = {k: v for k, v in layer.get_config().items() if k != "name"}
    inputs = layer.input if isinstance(layer.input, list) else [layer.input]
    rows.append((layer.name[len(prefix):], type(layer).__name__,
                 repr(sorted(config.items())),
                 [tuple(x.shape[1:]) for x in inputs],
                 tuple(layer.output.shape[1:])))
  return rows


def _blocks_offering(space, op):
  """``(stage, block, option index)`` of the first block offering ``op``,
  and of the first strided one if that is another block."""
  found = []
  for s, stage in enumerate(space.stages):
    for b, block in enumerate(stage):
      for i, candidate in enumerate(block.ops):
        if candidate.op == op and (not found or (block.stride > 1 and all(
            space.stages[fs][fb].stride == 1 for fs, fb, _ in found))):
          found.append((s, b, i))
  return found[:2]


def _cases():
  for name in SPACES:
    space = builtin_spaces.get_space(name)
    for op in sorted({c.op for stage in space.stages for block in stage
                      for c in block.ops}):
      yield pytest.param(name, op, id=f"{name}-{op}")


@pytest.mark.parametrize("space_name, op", _cases())
def test_a_candidate_has_the_layers_of_its_block_in_the_child(space_name, op):
  space = builtin_spaces.get_space(space_name)
  picks = _blocks_offering(space, op)
  choices = {d.name: 0 for d in space.decisions()}
  for s, b, i in picks:
    if len(space.stages[s][b].ops) > 1:
      choices[f"s{s}_b{b}/op"] = i
  arch = derive.derive_arch(space, choices)
  child = build_child_model(arch, num_classes=10, input_channels=3)
  blocks = {blk.name: blk for blk in resolve(arch, 3)}
  compared = 0
  for s, b, _ in picks:
    block = blocks[f"s{s}_b{b}"]
    assert block.op == op
    inside = _layer_signatures(child, f"{block.name}_")
    if block.info.kind == ops.SKIP and block.residual:
      assert not inside  # an identity: nothing to time, no key
      continue
    key = candidates.LatencyKey(block.op, block.in_size, block.stride,
                                block.in_channels, block.mid_channels,
                                block.out_channels)
    assert key in candidates.arch_keys(arch, 3)
    alone = candidates.candidate_model(key, space.width_divisor, 10)
    assert _layer_signatures(alone, "block_") == inside
    compared += 1
  assert compared or op == ops.SKIP
