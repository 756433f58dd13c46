"""The int8-aware benchmark's space and h-swish count
(benchmarks/int8_aware_search.py): what its README table rests on."""

import os

import pytest

from fbnetv2_tf.specs import builtin_spaces, ops

BENCHMARKS = os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), "benchmarks")


@pytest.fixture(name="bench")
def _bench(monkeypatch):
  monkeypatch.syspath_prepend(BENCHMARKS)  # its sibling imports
  import int8_aware_search  # pylint: disable=g-import-not-at-top,import-outside-toplevel
  return int8_aware_search


def test_every_block_chooses_relu_or_hswish(bench, tmp_path):
  space = builtin_spaces.space_from_argument(bench.tiny32_act(str(tmp_path)))
  assert space.input_sizes == (32,)
  for stage in space.stages:
    for block in stage:
      names = [candidate.op for candidate in block.ops]
      computing = [ops.parse_op(n) for n in names if n != "skip"]
      relu = [i for i in computing if i.activation == ops.RELU]
      hswish = [i for i in computing if i.activation == ops.HSWISH]
      assert len(relu) == len(hswish) >= 1, names
      assert not any(i.se for i in computing)
  # tiny32's choices with the squeeze-excite option traded for h-swish.
  assert space.num_architectures() == 1752192


@pytest.mark.parametrize("arch, count", [
    ("tiny32_act_searched@32/4: conv_k3_hs-c12-s2 | ir_k5-c16-s2-e2, "
     "ir_k5-c16-e2 | ir_k5-c32-s2-e2, ir_k5-c32-e2 | ir_pool_hs-c128-e4", 2),
    ("tiny32_act_searched@32/4: conv_k3-c16-s2 | ir_k5_hs-c24-s2-e4, "
     "skip-c24 | ir_k3_hs-c40-s2-e4, ir_k5-c40-e4 | ir_pool-c128-e4", 2),
    ("tiny32_act_searched@32/4: conv_k3-c16-s2 | ir_k5-c24-s2-e4, "
     "skip-c24 | ir_k3-c40-s2-e4, ir_k5-c40-e4 | ir_pool-c128-e4", 0),
])
def test_hswish_blocks_counts_every_hswish_block(bench, arch, count):
  assert bench.hswish_blocks(arch) == count
