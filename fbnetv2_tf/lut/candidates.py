"""The blocks a latency table measures, and each as a small Keras model.

A candidate is a ``LatencyKey``: ``(op, input_size, stride, cin, mid, cout)``
at the exact input shape the supernet gives it, plus ``head`` keys (pooling
and classifier at the last feature size). ``required_keys`` lists every key
a space's expected latency can look up; identical keys (the same block in
two places) are one candidate.

A grid keeps large spaces tractable: with ``max_grid=G``, every
``(op, input_size, stride)`` group keeps at most G values per channel axis
(cin, mid, cout), evenly spaced by rank and always including the smallest
and the largest, and measures their product. The table interpolates
multilinearly between grid points (``LatencyTable.lookup``), which follows
the near-linear growth of a block's time in each width.
"""

from __future__ import annotations

import collections
import itertools

from fbnetv2_tf.cost.latency_table import HEAD_OP, LatencyKey, required_keys
from fbnetv2_tf.specs import ops
from fbnetv2_tf.specs.arch_spec import SYMMETRIC, ArchSpec, BlockSpec
from fbnetv2_tf.specs.plan import ResolvedBlock, resolve, resolve_block
from fbnetv2_tf.specs.search_space import SearchSpace
from fbnetv2_tf.specs.space_plan import plan_space


def _thin(values: list[int], limit: int) -> list[int]:
  if len(values) <= limit:
    return values
  picks = {round(i * (len(values) - 1) / (limit - 1)) for i in range(limit)}
  return [values[i] for i in sorted(picks)]


def enumerate_candidates(space: SearchSpace, input_channels: int = 3,
                         max_grid: int | None = None) -> list[LatencyKey]:
  """Every distinct candidate of ``space``, sorted; see the module doc for
  ``max_grid``."""
  keys = required_keys(plan_space(space, input_channels))
  if max_grid is None:
    return sorted(keys)
  if max_grid < 2:
    raise ValueError(f"max_grid must be at least 2, got {max_grid}")
  groups = collections.defaultdict(lambda: (set(), set(), set()))
  for key in keys:
    for axis, value in zip(groups[(key.op, key.input_size, key.stride)],
                           (key.cin, key.mid, key.cout)):
      axis.add(value)
  thinned = set()
  for (op, size, stride), axes in groups.items():
    grids = [_thin(sorted(axis), max_grid) for axis in axes]
    thinned.update(LatencyKey(op, size, stride, c, m, o)
                   for c, m, o in itertools.product(*grids))
  return sorted(thinned)


def key_block(key: LatencyKey, width_divisor: int,
              padding: str = SYMMETRIC) -> ResolvedBlock:
  """The block a (non-head) key stands for, as the child builder takes it:
  the same block description (``BlockSpec.searched``) and the same rules
  (``plan.resolve_block``) as a derived child's block, padded as the
  space's children are. The key carries no bias: converted, a conv's bias
  and its folded BatchNorm are one add."""
  spec = BlockSpec.searched(key.op, key.cout, key.stride)
  return resolve_block(spec, "block", key.cin, key.input_size, width_divisor,
                       mid_channels=key.mid, padding=padding)


def candidate_model(key: LatencyKey, width_divisor: int, num_classes: int,
                    padding: str = SYMMETRIC):
  """A Keras model of the one block (or head) of ``key``, batch shape fixed
  by the converter: ``[1, input_size, input_size, cin]``."""
  import keras  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf import layers  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.models.child_model import block_layer  # pylint: disable=g-import-not-at-top
  inputs = keras.Input((key.input_size, key.input_size, key.cin), name="x")
  if key.op == HEAD_OP:
    outputs = layers.ClassifierHead(num_classes, name="head").inline(inputs)
  else:
    outputs = block_layer(key_block(key, width_divisor, padding)).inline(
        inputs)
  return keras.Model(inputs, outputs, name=key_name(key))


def has_hswish(key: LatencyKey) -> bool:
  """Whether the block of ``key`` has an h-swish activation (the head, a
  pool and a fully-connected layer, has none)."""
  return key.op != HEAD_OP and ops.parse_op(key.op).activation == ops.HSWISH


def key_name(key: LatencyKey) -> str:
  """A file-name-safe id: ``op_size_stride_cin_mid_cout``."""
  return (f"{key.op}_{key.input_size}_{key.stride}_{key.cin}_{key.mid}_"
          f"{key.cout}")


def arch_keys(arch: ArchSpec, input_channels: int = 3) -> list[LatencyKey]:
  """The keys whose latencies sum to ``arch``'s: every block that computes
  (an identity skip is free) and the head."""
  keys = []
  blocks = resolve(arch, input_channels)
  for block in blocks:
    if block.info.kind == ops.SKIP and block.residual:
      continue
    keys.append(LatencyKey(block.op, block.in_size, block.stride,
                           block.in_channels, block.mid_channels,
                           block.out_channels))
  last = blocks[-1]
  keys.append(LatencyKey(HEAD_OP, last.out_size, 1, last.out_channels, 0, 0))
  return keys
