"""plan_space (widths and sizes of every option) and derive (choices -> arch).

Pure data: nothing here imports TensorFlow or Keras.
"""

import itertools
import json

import numpy as np
import pytest

from fbnetv2_tf.cost.counting import count_arch
from fbnetv2_tf.specs.arch_spec import (ArchSpec, BlockSpec, archs_from_json,
                                        archs_to_json)
from fbnetv2_tf.specs.builtin_spaces import fbnet_v1, get_space, names, tiny32
from fbnetv2_tf.search.derive import (argmax_choices, derive_arch,
                                     random_choices, sample_choices)
from fbnetv2_tf.errors import SpecError
from fbnetv2_tf.specs.plan import make_divisible, resolve
from fbnetv2_tf.specs.search_space import SearchSpace
from fbnetv2_tf.specs.space_plan import WidthSource, plan_space
from tests.testing.imports import heavy_modules_imported_by

# ---------------------------------------------------------------------------
# plan_space on tiny32, pinned by hand


@pytest.fixture(scope="module")
def tiny_plan():
  return plan_space(tiny32())


def test_tiny32_plan_block_widths(tiny_plan):
  got = [(bp.name, bp.in_width, bp.out_width, bp.op_decision,
          bp.expansion_decision) for bp in tiny_plan.blocks]
  s0, s1, s2 = (8, 12, 16), (16, 24), (24, 32, 40)
  assert got == [
      ("s0_b0", WidthSource(None, (3,)), WidthSource("s0_b0/out", s0),
       None, None),
      ("s1_b0", WidthSource("s0_b0/out", s0), WidthSource("width/s1", s1),
       "s1_b0/op", "s1_b0/expansion"),
      ("s1_b1", WidthSource("width/s1", s1), WidthSource("width/s1", s1),
       "s1_b1/op", "s1_b1/expansion"),
      ("s2_b0", WidthSource("width/s1", s1), WidthSource("width/s2", s2),
       "s2_b0/op", "s2_b0/expansion"),
      ("s2_b1", WidthSource("width/s2", s2), WidthSource("width/s2", s2),
       "s2_b1/op", "s2_b1/expansion"),
      # ir_pool: one expansion option, so no expansion decision.
      ("s3_b0", WidthSource("width/s2", s2), WidthSource(None, (128,)),
       None, None),
  ]
  assert tiny_plan.blocks[2].in_width.max == 24
  assert tiny_plan.input_channels == 3


def test_tiny32_plan_sizes(tiny_plan):
  got = [(bp.stride, bp.lattice_in, bp.lattice_out, bp.in_sizes, bp.out_sizes)
         for bp in tiny_plan.blocks]
  assert got == [
      (2, 32, 16, (32, 24, 16), (16, 12, 8)),
      (2, 16, 8, (16, 12, 8), (8, 6, 4)),
      (1, 8, 8, (8, 6, 4), (8, 6, 4)),
      (2, 8, 4, (8, 6, 4), (4, 3, 2)),
      (1, 4, 4, (4, 3, 2), (4, 3, 2)),
      (1, 4, 1, (4, 3, 2), (1, 1, 1)),  # ir_pool pools to 1x1
  ]
  assert tiny_plan.resolution == WidthSource("resolution", (32, 24, 16))
  assert tiny_plan.factors == pytest.approx((1.0, 32 / 24, 2.0))


def test_tiny32_plan_residuals(tiny_plan):
  # Only the stride-1 blocks whose input and output are one width decision.
  assert [bp.shares_width for bp in tiny_plan.blocks] == [
      False, False, True, False, True, False]
  assert [bp.residual for bp in tiny_plan.blocks] == [
      False, False, True, False, True, False]


def test_tiny32_plan_mid_and_se_widths(tiny_plan):
  # (input width, expansion) combinations, input-major; width divisor 4.
  mids = {
      "s1_b0": (8, 16, 32, 12, 24, 48, 16, 32, 64),      # in 8/12/16 x 1/2/4
      "s1_b1": (16, 32, 64, 24, 48, 96),                 # in 16/24 x 1/2/4
      "s2_b0": (16, 32, 64, 24, 48, 96),
      "s2_b1": (24, 48, 96, 32, 64, 128, 40, 80, 160),   # in 24/32/40 x 1/2/4
  }
  # make_divisible(int(mid * 0.25), 4): 2 -> 4, 3 -> 4, 6 -> 8, 10 -> 12.
  ses = {
      "s1_b0": (4, 4, 8, 4, 8, 12, 4, 8, 16),
      "s1_b1": (4, 8, 16, 8, 12, 24),
      "s2_b0": (4, 8, 16, 8, 12, 24),
      "s2_b1": (8, 12, 24, 8, 16, 32, 12, 20, 40),
  }
  blocks = {bp.name: bp for bp in tiny_plan.blocks}
  for name in mids:
    cands = blocks[name].candidates
    ir = [cp for cp in cands if cp.info.kind == "ir"]
    assert [str(cp.candidate) for cp in ir] == ["ir_k3", "ir_k5",
                                                "ir_k3_sehsig_hs"]
    for cp in ir:
      assert cp.mid_widths == mids[name], (name, cp.candidate)
      assert cp.uses_expansion_decision
      assert cp.max_mid == max(mids[name])
    assert ir[0].se_widths == ir[1].se_widths == ()
    assert ir[2].se_widths == ses[name]
    assert ir[2].max_se == max(ses[name])
    skips = [cp for cp in cands if cp.info.kind == "skip"]
    assert len(skips) == (1 if name.endswith("b1") else 0)
    for cp in skips:
      assert cp.mid_widths == () and cp.se_widths == () and cp.max_mid == 0
  (stem,) = blocks["s0_b0"].candidates
  assert stem.mid_widths == () and not stem.uses_expansion_decision
  (pool,) = blocks["s3_b0"].candidates
  assert pool.mid_widths == (96, 128, 160)  # in 24/32/40 x expansion 4
  assert pool.se_widths == ()


@pytest.mark.parametrize("name", names())
def test_mid_and_se_widths_follow_the_child_rule(name):
  space = get_space(name)
  plan = plan_space(space)
  d = space.width_divisor
  for bp in plan.blocks:
    for cp in bp.candidates:
      if not cp.info.needs_expansion:
        assert cp.mid_widths == ()
        continue
      es = (bp.block.expansions if cp.candidate.expansion is None
            else (cp.candidate.expansion,))
      want = tuple(make_divisible(c * e, d)
                   for c, e in itertools.product(bp.in_width.options, es))
      assert cp.mid_widths == want, (bp.name, str(cp.candidate))
      if cp.info.se:
        assert cp.se_widths == tuple(make_divisible(int(m * 0.25), d)
                                     for m in want)


def test_fbnet_v1_plan_fixed_expansions():
  plan = plan_space(fbnet_v1())
  bp = plan.blocks[2]  # s2_b0: 16 -> 24, stride 2
  assert (bp.name, bp.in_width, bp.out_width, bp.expansion_decision) == (
      "s2_b0", WidthSource(None, (16,)), WidthSource(None, (24,)), None)
  assert bp.op_decision == "s2_b0/op"
  assert [(str(cp.candidate), cp.mid_widths, cp.uses_expansion_decision)
          for cp in bp.candidates] == [
              ("ir_k3_e1", (16,), False), ("ir_k3_g2_e1", (16,), False),
              ("ir_k3_e3", (48,), False), ("ir_k3_e6", (96,), False),
              ("ir_k5_e1", (16,), False), ("ir_k5_g2_e1", (16,), False),
              ("ir_k5_e3", (48,), False), ("ir_k5_e6", (96,), False),
              ("skip", (), False)]
  assert not bp.residual and plan.blocks[3].residual
  assert plan.resolution == WidthSource(None, (224,))
  assert [bp.lattice_out for bp in plan.blocks][:3] == [112, 112, 56]


def test_fbnetv2_f_plan_resolutions():
  plan = plan_space(get_space("fbnetv2_f"))
  assert plan.blocks[0].in_sizes == (224, 192, 160, 128)
  assert plan.blocks[0].out_sizes == (112, 96, 80, 64)
  assert plan.blocks[-1].in_sizes == (7, 6, 5, 4)
  assert plan.blocks[-1].out_sizes == (1, 1, 1, 1)
  # The c16 block after the stem: stride 1, same width decision -> residual.
  assert plan.blocks[1].residual and plan.blocks[1].in_width.decision == \
      "width/c16"


def test_plan_input_channels():
  plan = plan_space(tiny32(), input_channels=1)
  assert plan.input_channels == 1
  assert plan.blocks[0].in_width == WidthSource(None, (1,))


def test_plan_of_a_space_with_ungrouped_stride_1_widths():
  space = SearchSpace.from_dict({
      "name": "m", "input_sizes": [16], "width_divisor": 1,
      "stages": [[{"ops": ["conv_k3"], "out": [8, 16]}],
                 [{"ops": ["skip", "ir_k3"], "out": [8, 16],
                   "expansions": [1, 3]}]]})
  bp = plan_space(space).blocks[1]
  # Same options but two decisions: not a guaranteed residual.
  assert bp.in_width == WidthSource("s0_b0/out", (8, 16))
  assert bp.out_width == WidthSource("s1_b0/out", (8, 16))
  assert not bp.shares_width and not bp.residual
  assert bp.candidates[1].mid_widths == (8, 24, 16, 48)


# ---------------------------------------------------------------------------
# derive_arch


def test_derive_tiny32_with_explicit_choices():
  choices = {"resolution": 1, "s0_b0/out": 2, "s1_b0/op": 2,
             "s1_b0/expansion": 1, "width/s1": 1, "s1_b1/op": 3,
             "s2_b0/op": 1, "width/s2": 2, "s2_b1/op": 0,
             "s2_b1/expansion": 2}  # s2_b0/expansion missing: option 0
  arch = derive_arch(tiny32(), choices)
  assert arch.name == "tiny32_derived"
  assert arch.input_size == 24 and arch.width_divisor == 4
  got = [(s, b, blk.op, blk.out, blk.stride, blk.expansion, blk.pwl_groups)
         for s, b, blk in arch.blocks()]
  assert got == [
      (0, 0, "conv_k3_hs", 16, 2, None, 1),
      (1, 0, "ir_k3_sehsig_hs", 24, 2, 2.0, 1),
      (1, 1, "skip", 24, 1, None, 1),
      (2, 0, "ir_k5", 40, 2, 1.0, 1),
      (2, 1, "ir_k3", 40, 1, 4.0, 1),
      (3, 0, "ir_pool_hs", 128, 1, 4.0, 1),
  ]
  assert arch == ArchSpec(
      name="tiny32_derived", input_size=24, width_divisor=4, stages=(
          (BlockSpec("conv_k3_hs", 16, 2),),
          (BlockSpec("ir_k3_sehsig_hs", 24, 2, expansion=2.0),
           BlockSpec("skip", 24, 1)),
          (BlockSpec("ir_k5", 40, 2, expansion=1.0),
           BlockSpec("ir_k3", 40, 1, expansion=4.0)),
          (BlockSpec("ir_pool_hs", 128, 1, expansion=4.0),)))


def test_derive_missing_choices_default_to_option_0():
  arch = derive_arch(tiny32(), {}, name="smallest")
  assert arch.name == "smallest"
  assert arch.input_size == 32
  assert [(blk.op, blk.out, blk.expansion) for _, _, blk in arch.blocks()] == [
      ("conv_k3_hs", 8, None), ("ir_k3", 16, 1.0), ("ir_k3", 16, 1.0),
      ("ir_k3", 24, 1.0), ("ir_k3", 24, 1.0), ("ir_pool_hs", 128, 4.0)]
  assert derive_arch(tiny32(), {d.name: 0 for d in tiny32().decisions()},
                     name="smallest") == arch


def test_a_derived_child_pads_as_its_space():
  choices = random_choices(tiny32(), np.random.default_rng(0))
  same = SearchSpace.from_dict({**tiny32().to_dict(), "padding": "same"})
  arch = derive_arch(same, choices)
  assert arch.padding == "same"
  assert arch == derive_arch(tiny32(), choices).replace(padding="same")
  assert {b.padding for b in resolve(arch, 1)} == {"same"}


@pytest.mark.parametrize("bad", [{"s9_b0/op": 0}, {"width/s3": 1},
                                 {"s3_b0/out": 0}, {"s0_b0/op": 0}])
def test_derive_rejects_unknown_decisions(bad):
  (name,) = bad
  with pytest.raises(ValueError) as e:
    derive_arch(tiny32(), {"resolution": 0, **bad})
  assert str(e.value).startswith(
      f"unknown decisions [{name!r}]; the space has ['resolution', ")


def test_derive_fbnet_v1_group_conv_candidates():
  arch = derive_arch(fbnet_v1(), {"s1_b0/op": 1, "s2_b0/op": 5,
                                  "s2_b1/op": 3, "s2_b2/op": 8})
  blocks = [blk for _, _, blk in arch.blocks()]
  assert arch.input_size == 224 and arch.width_divisor == 1
  assert blocks[0] == BlockSpec("conv_k3", 16, 2)
  assert blocks[1] == BlockSpec("ir_k3_g2", 16, 1, expansion=1.0, pwl_groups=2)
  assert blocks[2] == BlockSpec("ir_k5_g2", 24, 2, expansion=1.0, pwl_groups=2)
  assert blocks[3] == BlockSpec("ir_k3", 24, 1, expansion=6.0)
  assert blocks[4] == BlockSpec("skip", 24, 1)
  assert blocks[5] == BlockSpec("ir_k3", 24, 1, expansion=1.0)  # default
  assert blocks[-1] == BlockSpec("conv_k1", 1984, 1)
  assert len(blocks) == 24
  # The child resolves and counts (grouped convs divide the widths).
  resolved = resolve(arch)
  assert resolved[1].pwl_groups == 2 and not resolved[1].has_expand
  assert count_arch(arch).macs > 0


def test_derive_every_fbnet_v1_candidate():
  space = fbnet_v1()
  for t, cand in enumerate(space.stages[1][0].ops):
    (blk,) = derive_arch(space, {"s1_b0/op": t}).stages[1]
    assert blk.op == cand.op and blk.expansion == cand.expansion
    assert blk.pwl_groups == (2 if "_g2" in cand.op else 1)


def _g2_space(stem_widths):
  return {"name": "g2", "input_sizes": [32], "width_divisor": 1,
          "stages": [[{"ops": ["conv_k3"], "out": stem_widths, "stride": 2}],
                     [{"ops": ["ir_k3_g2_e1", "ir_k3_g2_e2"],
                       "out": [8, 10]}]]}


# A _g2 candidate must never meet an odd input, mid or output width: the
# space is rejected up front, naming the block and the width...
def test_a_g2_candidate_that_can_meet_an_odd_width_is_rejected():
  with pytest.raises(SpecError, match=r"^g2: stage 1, block 0: field 'ops': "
                     r"candidate 'ir_k3_g2_e1' .* odd widths \[9\]"):
    SearchSpace.from_dict(_g2_space([9, 16]))


# ... and with even widths every child it derives resolves.
def test_every_child_of_a_valid_g2_space_resolves():
  space = SearchSpace.from_dict(_g2_space([12, 16]))
  decisions = space.decisions()
  combos = list(itertools.product(*(range(x.size) for x in decisions)))
  assert len(combos) == 8
  for combo in combos:
    blocks = resolve(derive_arch(space, dict(zip(
        (x.name for x in decisions), combo))))
    assert blocks[1].pwl_groups == 2 and blocks[1].mid_channels % 2 == 0


@pytest.mark.parametrize("name", names())
def test_derived_archs_round_trip_through_json(name):
  space = get_space(name)
  rng = np.random.default_rng(7)
  archs = [derive_arch(space, random_choices(space, rng), name=f"{name}_{i}")
           for i in range(5)]
  back = archs_from_json(json.loads(archs_to_json(archs)))
  assert list(back) == [a.name for a in archs]
  assert list(back.values()) == archs


@pytest.mark.parametrize("name", ["tiny32", "fbnetv2_f"])
def test_derived_mid_widths_are_the_planned_ones(name):
  # The child's make_divisible(in * e) equals the width the supernet masks.
  space = get_space(name)
  plan = plan_space(space)
  rng = np.random.default_rng(3)
  for _ in range(20):
    choices = random_choices(space, rng)
    resolved = resolve(derive_arch(space, choices))
    assert len(resolved) == len(plan.blocks)
    for bp, rb in zip(plan.blocks, resolved):
      t = choices.get(bp.op_decision, 0) if bp.op_decision else 0
      cp = bp.candidates[t]
      assert rb.op == cp.candidate.op
      a = choices[bp.in_width.decision] if bp.in_width.decision else 0
      assert rb.in_channels == bp.in_width.options[a]
      o = choices[bp.out_width.decision] if bp.out_width.decision else 0
      assert rb.out_channels == bp.out_width.options[o]
      j = choices.get("resolution", 0)
      assert (rb.in_size, rb.out_size) == (bp.in_sizes[j], bp.out_sizes[j])
      if cp.mid_widths:
        per_in = len(cp.mid_widths) // len(bp.in_width.options)
        i = (choices.get(bp.expansion_decision, 0)
             if cp.uses_expansion_decision and bp.expansion_decision else 0)
        assert rb.mid_channels == cp.mid_widths[a * per_in + i]
        if cp.se_widths:
          assert rb.se_channels == cp.se_widths[a * per_in + i]


def test_random_choices_cover_every_decision_in_range():
  space = tiny32()
  rng = np.random.default_rng(0)
  seen = {d.name: set() for d in space.decisions()}
  for _ in range(200):
    choices = random_choices(space, rng)
    assert list(choices) == [d.name for d in space.decisions()]
    for d in space.decisions():
      assert isinstance(choices[d.name], int)
      seen[d.name].add(choices[d.name])
  assert seen == {d.name: set(range(d.size)) for d in space.decisions()}
  a = random_choices(space, np.random.default_rng(5))
  assert a == random_choices(space, np.random.default_rng(5))


# ---------------------------------------------------------------------------
# argmax_choices and sample_choices


def test_argmax_choices():
  got = argmax_choices({"a": np.array([0.1, 2.0, -1.0]),
                        "b": np.array([3.0, 3.0]),  # tie: the first
                        "c": np.array([-5.0, -4.0, -4.5, -9.0])})
  assert got == {"a": 1, "b": 0, "c": 1}
  assert {type(v) for v in got.values()} == {int}


def test_argmax_choices_derive():
  space = tiny32()
  logits = {d.name: np.zeros(d.size) for d in space.decisions()}
  logits["resolution"][2] = 1.0
  logits["width/s2"][1] = 0.5
  arch = derive_arch(space, argmax_choices(logits))
  assert arch.input_size == 16
  assert arch.stages[2][0].out == arch.stages[2][1].out == 32


def test_sample_choices_is_deterministic_with_a_seed():
  logits = {"x": np.log([0.7, 0.2, 0.1]), "y": np.zeros(5)}
  def draws(seed):
    rng = np.random.default_rng(seed)
    return [sample_choices(logits, rng) for _ in range(50)]
  a = draws(11)
  assert a == draws(11)
  assert a != draws(12)
  assert all(set(c) == {"x", "y"} for c in a)


def test_sample_choices_follows_softmax():
  p = np.array([0.7, 0.2, 0.1])
  logits = {"d": np.log(p)}
  rng = np.random.default_rng(0)
  draws = np.array([sample_choices(logits, rng)["d"] for _ in range(2000)])
  freq = np.bincount(draws, minlength=3) / len(draws)
  assert np.all(np.abs(freq - p) < 0.03), freq


def test_sample_choices_is_shift_invariant_and_stable():
  logits = {"d": np.log([0.7, 0.2, 0.1])}
  shifted = {"d": logits["d"] + 500.0}
  r1, r2 = np.random.default_rng(4), np.random.default_rng(4)
  assert [sample_choices(logits, r1) for _ in range(100)] == \
      [sample_choices(shifted, r2) for _ in range(100)]
  rng = np.random.default_rng(0)
  assert {sample_choices({"d": np.array([1000.0, 0.0])}, rng)["d"]
          for _ in range(50)} == {0}


# ---------------------------------------------------------------------------


def test_space_modules_do_not_import_tensorflow():
  assert heavy_modules_imported_by(
      "fbnetv2_tf.specs.search_space", "fbnetv2_tf.specs.builtin_spaces",
      "fbnetv2_tf.specs.space_plan", "fbnetv2_tf.search.derive") == []
