"""Candidate enumeration: exact, complete for sampled archs, thinned grids."""

import collections

import numpy as np

from fbnetv2_tf.cost.latency_table import HEAD_OP
from fbnetv2_tf.lut import candidates, convert, probes, validate
from fbnetv2_tf.lut.table_file import LutFile, LutHeader
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


def test_a_same_padded_candidate_has_no_pad_layer():
  key = candidates.LatencyKey("ir_k5_sehsig_hs", 16, 2, 8, 24, 16)
  models = {padding: candidates.candidate_model(key, 4, 10, padding)
            for padding in ("symmetric", "same")}
  pads = {padding: [type(l).__name__ for l in model.layers
                    if type(l).__name__ == "ZeroPadding2D"]
          for padding, model in models.items()}
  assert pads == {"symmetric": ["ZeroPadding2D"], "same": []}
  assert {padding: model.outputs[0].shape for padding, model in
          models.items()} == {"symmetric": (None, 8, 8, 16),
                              "same": (None, 8, 8, 16)}
  assert candidates.key_block(key, 4, "same").padding == "same"
  assert candidates.key_block(key, 4).padding == "symmetric"


def test_a_block_without_hswish_has_one_file_for_both_forms():
  relu = candidates.LatencyKey("ir_k3", 16, 2, 8, 24, 8)
  head = candidates.LatencyKey("head", 1, 1, 8, 0, 10)
  for key in (relu, head):
    assert not candidates.has_hswish(key)
    assert (convert.candidate_path("c", key, "int8", "same", "delegable")
            == convert.candidate_path("c", key, "int8", "same", "fused"))
  assert candidates.has_hswish(candidates.LatencyKey("ir_k3_sehsig_hs", 16,
                                                     2, 8, 24, 8))
  assert not candidates.has_hswish(candidates.LatencyKey("ir_k3_sehsig", 16, 2,
                                                         8, 24, 8))


def test_candidate_files_are_named_by_padding_and_hswish_form():
  key = candidates.LatencyKey("conv_k3_hs", 16, 2, 1, 0, 8)
  paths = {(padding, form): convert.candidate_path("c", key, "int8", padding,
                                                   form)
           for padding in ("symmetric", "same")
           for form in ("fused", "delegable")}
  assert len(set(paths.values())) == 4
  # The defaults keep the names files were cached under before either
  # existed.
  assert paths["symmetric", "fused"] == convert.candidate_path(
      "c", key, "int8") == "c/conv_k3_hs_16_2_1_0_8.int8.tflite"
  assert paths["same", "delegable"] == (
      "c/conv_k3_hs_16_2_1_0_8.same.delegable.int8.tflite")


def test_a_candidate_converts_with_its_hswish_form(tmp_path):
  from fbnetv2_tf.export import graph  # pylint: disable=import-outside-toplevel
  key = candidates.LatencyKey("conv_k3_hs", 8, 2, 1, 0, 8)
  ops = {}
  for form in ("fused", "delegable"):
    path = convert.convert_candidate(
        key, 4, 10, "fp32", str(tmp_path / f"{form}.tflite"), "same", form)
    with open(path, "rb") as f:
      ops[form] = graph.op_counts(f.read())
  assert ops["fused"].get("HARD_SWISH") == 1
  assert "HARD_SWISH" not in ops["delegable"]
  assert "PAD" not in ops["fused"] and "PAD" not in ops["delegable"]


def test_validation_builds_networks_with_the_tables_padding_and_form(
    monkeypatch):
  built = {}

  def fake_convert(arch, path, dtype, num_classes, input_channels, hswish):
    built[arch.name] = (arch.padding, hswish, path, dtype)
    return path

  monkeypatch.setattr(validate, "convert_arch", fake_convert)
  monkeypatch.setattr(probes, "measure_settled",
                      lambda runner, paths, *args: paths)
  header = LutHeader(space="tiny32", input_channels=1, num_classes=10,
                     width_divisor=4, dtype="int8", max_grid=None, runner={},
                     settings={}, padding="same", hswish="delegable")
  archs = validate.sample_archs(builtin_spaces.tiny32(), 2, seed=0)
  assert {a.padding for a in archs} == {"symmetric"}
  paths = validate.measure_networks(LutFile("t.json", header),
                                    {a.name: a for a in archs}, None, None,
                                    "w", "c")
  assert {name: b[:2] for name, b in built.items()} == {
      a.name: ("same", "delegable") for a in archs}
  assert all(p.endswith(".same.delegable.int8.tflite")
             for p in paths.values())


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
