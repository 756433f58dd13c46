"""Op names, the reference channel rounding and the resolved block plan."""

import pytest

from fbnetv2_tf.models import zoo
from fbnetv2_tf.specs import ops
from fbnetv2_tf.specs.arch_spec import ArchSpec, BlockSpec
from fbnetv2_tf.specs.arch_string import parse_arch_string
from fbnetv2_tf.errors import SpecError
from fbnetv2_tf.specs.plan import (conv_output_size, make_divisible,
                                   resolve)

# ---------------------------------------------------------------------------
# parse_op

OPS = {
    "conv_k3": ops.OpInfo(kind="conv", kernel=3, activation="relu"),
    "conv_k3_hs": ops.OpInfo(kind="conv", kernel=3, activation="hswish"),
    "conv_k1": ops.OpInfo(kind="conv", kernel=1, activation="relu"),
    "ir_k5": ops.OpInfo(kind="ir", kernel=5, activation="relu"),
    "ir_k3_hs": ops.OpInfo(kind="ir", kernel=3, activation="hswish"),
    "ir_k3_g2": ops.OpInfo(kind="ir", kernel=3, expand_groups=2),
    "ir_k5_sehsig": ops.OpInfo(kind="ir", kernel=5, se=True),
    "ir_k5_sehsig_hs": ops.OpInfo(kind="ir", kernel=5, se=True,
                                  activation="hswish"),
    "ir_k7_g2_sehsig_hs": ops.OpInfo(kind="ir", kernel=7, se=True,
                                     activation="hswish", expand_groups=2),
    "skip": ops.OpInfo(kind="skip", kernel=1, activation="relu"),
    "ir_pool": ops.OpInfo(kind="ir_pool", kernel=1, activation="relu"),
    "ir_pool_hs": ops.OpInfo(kind="ir_pool", kernel=1, activation="hswish"),
}


@pytest.mark.parametrize("name", sorted(OPS))
def test_parse_op(name):
  assert ops.parse_op(name) == OPS[name]


@pytest.mark.parametrize("name,needs", [
    ("conv_k3", False), ("skip", False), ("ir_k3", True), ("ir_pool_hs", True)])
def test_needs_expansion(name, needs):
  assert ops.parse_op(name).needs_expansion is needs


def test_every_op_of_the_zoo_parses():
  seen = {b.op for n in zoo.names() for _, _, b in zoo.get_arch(n).blocks()}
  assert seen >= {"conv_k3", "conv_k3_hs", "conv_k1", "ir_k3", "ir_k5",
                  "ir_k5_g2", "ir_k3_g2", "ir_k5_sehsig", "ir_k5_sehsig_hs",
                  "skip", "ir_pool_hs"}
  for op in seen:
    assert ops.parse_op(op).kind in ("conv", "ir", "skip", "ir_pool")


@pytest.mark.parametrize("name", [
    "conv", "ir_k3_hs_sehsig", "ir_k3_sehsig_g2", "foo", "", "ir_k", "skip_hs",
    "conv_k3_sehsig", "IR_K3", "ir_k3 "])
def test_unknown_op_names_list_known_forms(name):
  with pytest.raises(ValueError) as e:
    ops.parse_op(name)
  msg = str(e.value)
  assert repr(name) in msg
  for form in ops.KNOWN_FORMS:
    assert form in msg


@pytest.mark.parametrize("name,kernel", [("ir_k4", 4), ("conv_k9", 9),
                                         ("ir_k0", 0)])
def test_unsupported_kernel_is_a_value_error(name, kernel):
  # A well-formed name with an unsupported K names the allowed kernels (not
  # the op forms, which it already follows).
  with pytest.raises(ValueError) as e:
    ops.parse_op(name)
  msg = str(e.value)
  assert repr(name) in msg
  assert f"got {kernel}" in msg
  assert "(1, 3, 5, 7)" in msg


def test_non_string_op():
  with pytest.raises(ValueError, match="must be a string"):
    ops.parse_op(3)


# ---------------------------------------------------------------------------
# make_divisible: r = int(v); if v % d: r = max(round_half_up(v / d), 1) * d,
# plus d if r < 0.95 v; finally r = max(r, d).

MAKE_DIVISIBLE = [
    # Already a multiple: int(v).
    (32, 8, 32),
    (32.0, 8, 32),
    (1344, 8, 1344),            # 224 * 6, ir_pool mid of FBNetV2_F1
    # Rounded to the nearest multiple, not more than 5 % below.
    (128.4024, 8, 128),         # 24 * 5.3501: 16.05 -> 16 -> 128
    (286.9776, 8, 288),         # 56 * 5.1246: 35.87 -> 36 -> 288
    (114.9888, 8, 112),         # 24 * 4.7912: 14.37 -> 14 -> 112 >= 109.24
    # Round half up. Below 10 * d the 0.95 bump hides the difference from
    # Python's round() (half to even); from 10.5 * d on it does not.
    (12, 8, 16),                # 1.5 -> 2
    (20, 8, 24),                # 2.5 -> 3
    (36, 8, 40),                # 4.5 -> 5 (SE of a 144-wide block)
    (84, 8, 88),                # 10.5 -> 11; round() -> 10 -> 80 >= 79.8
    (168, 16, 176),             # 10.5 -> 11
    (100, 8, 104),              # 12.5 -> 13; round() -> 12 -> 96
    # The 0.95 bump: rounding down lost more than 5 %, add one divisor.
    (8 * 5.4566, 8, 48),        # 43.65: 5.46 -> 5 -> 40 < 41.47 -> 48
    (11, 8, 16),                # 1.375 -> 1 -> 8 < 10.45 -> 16
    (9, 4, 12),                 # 2.25 -> 2 -> 8 < 8.55 -> 12
    # Never below d.
    (3, 8, 8),                  # 0.375 -> 0 -> max(0, 1) = 1 -> 8
    (0.5, 8, 8),
    (4, 8, 8),                  # 0.5 -> 1 -> 8
    (7, 16, 16),
    # d = 1 is int(v) for integral v, and for fractional parts below .5.
    (43, 1, 43),
    (96.0, 1, 96),
    (43.2, 1, 43),
    (1, 1, 1),
]


@pytest.mark.parametrize("value,divisor,expected", MAKE_DIVISIBLE)
def test_make_divisible(value, divisor, expected):
  got = make_divisible(value, divisor)
  assert got == expected
  assert isinstance(got, int)
  assert got % divisor == 0


@pytest.mark.parametrize("size,stride,expected", [
    (128, 2, 64), (7, 2, 4), (1, 2, 1), (8, 1, 8), (225, 2, 113)])
def test_conv_output_size(size, stride, expected):
  assert conv_output_size(size, stride) == expected


# ---------------------------------------------------------------------------
# resolve


@pytest.fixture(scope="module")
def f1_blocks():
  return {b.name: b for b in resolve(zoo.get_arch("FBNetV2_F1"))}


def _shape(block):
  return (block.in_channels, block.out_channels, block.mid_channels,
          block.se_channels, block.stride, block.in_size, block.out_size)


def test_f1_stem_conv(f1_blocks):
  stem = f1_blocks["s0_b0"]
  assert stem.op == "conv_k3_hs"
  # in, out, mid, se, stride, in size, out size
  assert _shape(stem) == (3, 8, 0, 0, 2, 128, 64)
  assert not stem.has_expand and not stem.residual


def test_f1_expansion_1_has_no_expand_conv(f1_blocks):
  blk = f1_blocks["s1_b0"]  # ir_k5 8 -> 8, e1
  assert _shape(blk) == (8, 8, 8, 0, 1, 64, 64)
  assert blk.has_expand is False
  assert blk.residual is True


def test_f1_stride_2_ir_with_bumped_mid(f1_blocks):
  blk = f1_blocks["s2_b0"]  # ir_k5 8 -> 24, s2, e5.4566: mid 43.65 -> 48
  assert _shape(blk) == (8, 24, 48, 0, 2, 64, 32)
  assert blk.has_expand and not blk.residual


def test_f1_first_sehsig_block(f1_blocks):
  blk = f1_blocks["s3_b0"]  # ir_k5_sehsig 24 -> 32, s2, e5.3501
  # mid = md(128.4, 8) = 128; se = md(int(128 * 0.25), 8) = 32
  assert _shape(blk) == (24, 32, 128, 32, 2, 32, 16)
  assert blk.info.se and blk.info.activation == "relu"
  nxt = f1_blocks["s3_b1"]  # 32 -> 24, e4.5379: mid md(145.2)=144, se md(36)=40
  assert _shape(nxt) == (32, 24, 144, 40, 1, 16, 16)
  assert not nxt.residual  # 32 != 24


def test_f1_skip_that_changes_width_and_ir_pool(f1_blocks):
  skip = f1_blocks["s4_b3"]  # skip 56 -> 80
  assert _shape(skip) == (56, 80, 0, 0, 1, 8, 8)
  assert not skip.residual
  pool = f1_blocks["s6_b0"]  # ir_pool_hs 224 -> 1600, e6
  assert _shape(pool) == (224, 1600, 1344, 0, 1, 4, 1)
  assert pool.has_expand and not pool.residual


def test_f1_block_count_and_chaining(f1_blocks):
  blocks = list(f1_blocks.values())
  assert len(blocks) == 1 + 1 + 2 + 2 + 6 + 4 + 1
  for prev, cur in zip(blocks, blocks[1:]):
    assert cur.in_channels == prev.out_channels
    assert cur.in_size == prev.out_size


def test_repeat_expands_into_copies_with_only_the_first_strided():
  arch = parse_arch_string("r@32: conv_k3-c8 | ir_k3-c16-s2-e4-r3-b, skip-c16")
  blocks = resolve(arch)
  assert [b.name for b in blocks] == ["s0_b0", "s1_b0_r0", "s1_b0_r1",
                                      "s1_b0_r2", "s1_b1"]
  copies = blocks[1:4]
  assert [b.stride for b in copies] == [2, 1, 1]
  assert [(b.in_channels, b.out_channels) for b in copies] == [
      (8, 16), (16, 16), (16, 16)]
  assert [(b.in_size, b.out_size) for b in copies] == [
      (32, 16), (16, 16), (16, 16)]
  assert [b.mid_channels for b in copies] == [32, 64, 64]
  assert [b.residual for b in copies] == [False, True, True]
  assert all(b.use_bias for b in copies)
  assert blocks[4].residual and blocks[4].in_size == 16


def test_input_channels_option():
  arch = parse_arch_string("8: ir_k3-c8-e2")
  assert resolve(arch, input_channels=4)[0].in_channels == 4
  assert resolve(arch, input_channels=4)[0].mid_channels == 8
  assert resolve(arch)[0].mid_channels == 8  # md(3 * 2 = 6, 8) = 8


def test_width_divisor_1_keeps_exact_widths():
  arch = parse_arch_string("8/1: conv_k3-c7 | ir_k3_sehsig-c9-e3")
  blk = resolve(arch)[1]
  assert blk.mid_channels == 21
  assert blk.se_channels == 5  # int(21 * 0.25)


def test_g2_with_odd_input_channels_raises_naming_the_location():
  # conv gives 7 channels; ir_k3_g2 needs them divisible by its 2 groups.
  arch = parse_arch_string("g@32: conv_k3-c7 | skip-c7, ir_k3_g2-c8-e2")
  with pytest.raises(SpecError) as e:
    resolve(arch)
  msg = str(e.value)
  assert "\n" not in msg
  assert msg.startswith("g: stage 1, block 1: field 'op': 'ir_k3_g2'")
  assert "(7)" in msg and "divisible by 2" in msg


def test_g2_with_even_channels_resolves():
  arch = parse_arch_string("g@32: conv_k3-c8 | ir_k3_g2-c8-e2-p2")
  blk = resolve(arch)[1]
  assert (blk.info.expand_groups, blk.pwl_groups, blk.mid_channels) == (
      2, 2, 16)


def test_g2_without_expand_conv_skips_the_group_check():
  # e1: mid == in, so there is no grouped expand conv to constrain.
  arch = parse_arch_string("g@32/1: conv_k3-c7 | ir_k3_g2-c8-e1")
  assert resolve(arch)[1].has_expand is False


def test_pwl_groups_must_divide_mid_channels():
  arch = ArchSpec("p", 8, ((BlockSpec("conv_k1", 3),),
                           (BlockSpec("ir_k3", 4, expansion=1.0,
                                      pwl_groups=2),)), width_divisor=1)
  with pytest.raises(SpecError) as e:
    resolve(arch)
  msg = str(e.value)
  assert "\n" not in msg
  assert msg.startswith("p: stage 1, block 0: field 'pwl_groups'")
  assert "3 mid channels" in msg
