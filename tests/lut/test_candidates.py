"""Candidate enumeration: exact, complete for sampled archs, thinned grids."""

import collections

import numpy as np

from fbnetv2_tf.cost.latency_table import HEAD_OP
from fbnetv2_tf.lut import candidates, validate
from fbnetv2_tf.specs import builtin_spaces


def test_tiny32_has_460_distinct_candidates_covering_every_sampled_arch():
  space = builtin_spaces.tiny32()
  keys = candidates.enumerate_candidates(space, input_channels=1)
  assert len(keys) == len(set(keys)) == 460
  # tiny32's skips keep their stage's shared width: identities, free.
  assert {k.op for k in keys} == {"conv_k3_hs", "ir_k3", "ir_k5",
                                  "ir_k3_sehsig_hs", "ir_pool_hs", HEAD_OP}
  for arch in validate.sample_archs(space, 25, seed=3):
    assert set(candidates.arch_keys(arch, 1)) <= set(keys), arch.name


def test_a_grid_keeps_the_ends_and_at_most_g_values_per_axis():
  space = builtin_spaces.fbnetv2_f()
  exact = candidates.enumerate_candidates(space)
  thinned = candidates.enumerate_candidates(space, max_grid=3)
  assert len(thinned) < len(exact) / 4
  groups = collections.defaultdict(lambda: (set(), set(), set()))
  for key in exact:
    for axis, v in zip(groups[(key.op, key.input_size, key.stride)],
                       (key.cin, key.mid, key.cout)):
      axis.add(v)
  kept = collections.defaultdict(lambda: (set(), set(), set()))
  for key in thinned:
    for axis, v in zip(kept[(key.op, key.input_size, key.stride)],
                       (key.cin, key.mid, key.cout)):
      axis.add(v)
  assert kept.keys() == groups.keys()
  for group, axes in groups.items():
    for full, thin in zip(axes, kept[group]):
      assert len(thin) <= 3 and min(thin) == min(full) and max(thin) == max(full)


def test_a_candidate_model_is_the_block_at_its_input_shape():
  key = next(k for k in candidates.enumerate_candidates(builtin_spaces.tiny32(), 1)
             if k.op == "ir_k3_sehsig_hs" and k.stride == 2)
  model = candidates.candidate_model(key, width_divisor=4, num_classes=10)
  assert model.inputs[0].shape == (None, key.input_size, key.input_size, key.cin)
  assert model.outputs[0].shape == (None, key.input_size // 2,
                                    key.input_size // 2, key.cout)
  names = {type(l).__name__ for l in model.layers}
  assert {"DepthwiseConv2D", "Multiply"} <= names  # SE is in
  head = candidates.candidate_model(
      candidates.LatencyKey(HEAD_OP, 4, 1, 128, 0, 0), 4, num_classes=10)
  assert head.outputs[0].shape == (None, 10)


def test_spearman_matches_the_textbook_cases():
  assert validate.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == 1.0
  assert validate.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == -1.0
  x = np.arange(20.0)
  assert 0.9 < validate.spearman(x, x ** 3 + np.sin(x)) <= 1.0


def test_validation_files_are_named_by_network_not_by_sample_index():
  space = builtin_spaces.tiny32()
  first = validate.sample_archs(space, 3, seed=1)
  second = validate.sample_archs(space, 3, seed=2)
  assert [a.name for a in first] == [a.name for a in second]  # sample0..2
  files = {validate.network_file("w", a, "fp32") for a in first + second}
  assert len(files) == 6
  assert validate.network_file("w", first[0], "fp32") == validate.network_file(
      "w", validate.sample_archs(space, 1, seed=1)[0], "fp32")
