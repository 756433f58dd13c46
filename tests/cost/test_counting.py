"""Analytic MAC and parameter counts against published and hand-computed values.

Convention: MACs of conv and FC weights (no bias/BN/activation) plus one op
per input element of each global average pool; params are conv/FC weights.
"""

import pytest

from fbnetv2_tf.cost.counting import block_counts, count_arch
from fbnetv2_tf.models import zoo
from fbnetv2_tf.specs.arch_string import parse_arch_string
from fbnetv2_tf.specs.plan import resolve


@pytest.mark.parametrize("name", zoo.names())
def test_zoo_counts_match_published_numbers(name):
  published = zoo.published(name)
  counts = count_arch(zoo.get_arch(name))
  # The published figures follow the same convention; all nine agree to
  # rounding, so 0.1 % catches a wrong width, kernel or stride.
  assert counts.mflops == pytest.approx(published["flops_m"], rel=1e-3)
  assert counts.mparams == pytest.approx(published["params_m"], rel=1e-3)


def test_single_conv_plus_head_exact():
  counts = count_arch(parse_arch_string("t@32: conv_k3-c8-s2"), num_classes=10)
  # conv: 3*3*3*8 = 216 weights at 16x16 outputs.
  # pool: 16*16*8 = 2048 input elements.  fc: 8*10 = 80 weights.
  assert [(r.name, r.op, r.input_shape, r.output_shape, r.macs, r.params)
          for r in counts.layers] == [
              ("s0_b0", "conv_k3", (32, 32, 3), (16, 16, 8), 216 * 256, 216),
              ("head_pool", "global_avg_pool", (16, 16, 8), (1, 1, 8), 2048,
               0),
              ("head_fc", "fc", (1, 1, 8), (1, 1, 10), 80, 80),
          ]
  assert counts.macs == 55296 + 2048 + 80 == 57424
  assert counts.params == 216 + 80 == 296
  assert counts.mflops == pytest.approx(0.057424)
  assert counts.mparams == pytest.approx(0.000296)


def test_ir_block_with_se_exact():
  arch = parse_arch_string("t@8: ir_k3_sehsig-c16-s2-e4")
  counts = count_arch(arch, num_classes=10, input_channels=8)
  # mid = md(8 * 4, 8) = 32, se = md(int(32 * 0.25), 8) = 8, 8x8 -> 4x4.
  expand = 8 * 32               # 1x1 at the input size 8x8
  depthwise = 3 * 3 * 32        # one 3x3 filter per channel, at 4x4
  se_pool = 4 * 4 * 32
  se_reduce, se_expand = 32 * 8, 8 * 32
  project = 32 * 16             # 1x1 at 4x4
  block = counts.layers[0]
  assert block.macs == (expand * 64 + depthwise * 16 + se_pool + se_reduce
                        + se_expand + project * 16) == 30208
  assert block.params == (expand + depthwise + se_reduce + se_expand
                          + project) == 1568
  assert block.output_shape == (4, 4, 16)
  head_pool, head_fc = counts.layers[1:]
  assert (head_pool.macs, head_fc.macs, head_fc.params) == (256, 160, 160)
  assert counts.macs == 30208 + 256 + 160
  assert counts.params == 1568 + 160


def test_ir_block_without_expand_conv():
  # e1 with in == mid: no expand conv, only depthwise and project.
  arch = parse_arch_string("t@8: ir_k5-c8-e1")
  blk = resolve(arch, input_channels=8)[0]
  assert block_counts(blk) == (5 * 5 * 8 * 64 + 8 * 8 * 64,
                               5 * 5 * 8 + 8 * 8)


def test_grouped_ir_block():
  # ir_k3_g2 8 -> 8, e2, pwl_groups 2 on 4x4: mid 16.
  arch = parse_arch_string("t@4/1: ir_k3_g2-c8-e2-p2")
  blk = resolve(arch, input_channels=8)[0]
  expand, depthwise, project = 8 * 16 // 2, 9 * 16, 16 * 8 // 2
  assert block_counts(blk) == ((expand + depthwise + project) * 16,
                               expand + depthwise + project)


def test_identity_skip_costs_nothing():
  arch = parse_arch_string("t@8: skip-c8")
  counts = count_arch(arch, num_classes=10, input_channels=8)
  assert (counts.layers[0].macs, counts.layers[0].params) == (0, 0)
  assert counts.macs == 8 * 8 * 8 + 80  # head only
  assert counts.params == 80


def test_strided_skip_is_a_1x1_conv():
  arch = parse_arch_string("t@8: skip-c8-s2")
  row = count_arch(arch, num_classes=10, input_channels=8).layers[0]
  assert row.output_shape == (4, 4, 8)
  assert (row.macs, row.params) == (8 * 8 * 16, 8 * 8)


def test_widening_skip_is_a_1x1_conv():
  arch = parse_arch_string("t@8: skip-c16")
  row = count_arch(arch, num_classes=10, input_channels=8).layers[0]
  assert (row.macs, row.params) == (8 * 16 * 64, 8 * 16)


def test_ir_pool_block():
  arch = parse_arch_string("t@4: ir_pool_hs-c32-e2")
  counts = count_arch(arch, num_classes=10, input_channels=8)
  block, pool, fc = counts.layers
  # 1x1 8 -> 16 at 4x4, pool over 4x4x16, 1x1 16 -> 32 at 1x1.
  assert (block.macs, block.params) == (128 * 16 + 256 + 512, 128 + 512)
  assert block.output_shape == (1, 1, 32)
  assert pool.macs == 32  # the head pool over an already 1x1 map
  assert (fc.macs, fc.params) == (320, 320)


def test_repeat_counts_every_copy():
  once = count_arch(parse_arch_string("t@8: conv_k3-c8 | ir_k3-c8-e2"))
  thrice = count_arch(parse_arch_string("t@8: conv_k3-c8 | ir_k3-c8-e2-r3"))
  assert len(thrice.layers) == len(once.layers) + 2
  ir = once.layers[1]
  assert [r.macs for r in thrice.layers[1:4]] == [ir.macs] * 3
  assert thrice.macs == once.macs + 2 * ir.macs
  assert thrice.params == once.params + 2 * ir.params


@pytest.mark.parametrize("num_classes", [10, 1, 21843])
def test_num_classes_changes_only_the_fc_row(num_classes):
  arch = zoo.get_arch("FBNetV2_F1")
  base = count_arch(arch)
  other = count_arch(arch, num_classes=num_classes)
  assert base.layers[:-1] == other.layers[:-1]
  fc_base, fc_other = base.layers[-1], other.layers[-1]
  assert fc_base.name == fc_other.name == "head_fc"
  assert (fc_base.macs, fc_base.params) == (1600 * 1000, 1600 * 1000)
  assert (fc_other.macs, fc_other.params) == (1600 * num_classes,
                                              1600 * num_classes)
  assert fc_other.output_shape == (1, 1, num_classes)
  assert base.macs - other.macs == 1600 * (1000 - num_classes)
  assert base.params - other.params == 1600 * (1000 - num_classes)


def test_rows_follow_the_resolved_blocks():
  arch = zoo.get_arch("fbnet_a")
  counts = count_arch(arch)
  blocks = resolve(arch)
  assert [r.name for r in counts.layers] == [b.name for b in blocks] + [
      "head_pool", "head_fc"]
  for row, blk in zip(counts.layers, blocks):
    assert (row.macs, row.params) == block_counts(blk)
  assert counts.macs == sum(r.macs for r in counts.layers)
