"""ArchSpec / BlockSpec: the JSON format, its round trips and its validation.

Pure Python: no TensorFlow is imported, so these run in milliseconds.
"""

import copy
import json
import pathlib

import pytest

from fbnetv2_tf.specs.arch_spec import (ArchSpec, BlockSpec, archs_from_json,
                                        archs_to_json, load_archs, save_archs)
from fbnetv2_tf.errors import SpecError
from tests.testing.imports import heavy_modules_imported_by

# The published architectures as the package ships them (the zoo's data;
# tests/test_packaging.py checks it equals the reference data it came from).
REFERENCE_ARCHS = (pathlib.Path(__file__).resolve().parents[2] / "fbnetv2_tf"
                   / "models" / "data" / "fbnet_archs.json")


@pytest.fixture(scope="module")
def reference_json():
  return json.loads(REFERENCE_ARCHS.read_text(encoding="utf-8"))


def _small_model():
  """A valid model: total stride 4; stage 1 has an ir block and a skip."""
  return {
      "input_size": 32,
      "width_divisor": 8,
      "stages": [
          [{"op": "conv_k3", "out": 8, "stride": 2}],
          [{"op": "ir_k3", "out": 16, "stride": 2, "expansion": 4},
           {"op": "skip", "out": 16, "stride": 1}],
      ],
  }


# ---------------------------------------------------------------------------
# Round trips.


def test_reference_json_round_trips_through_arch_specs(reference_json):
  archs = archs_from_json(reference_json)
  assert list(archs) == list(reference_json)  # file order is kept
  assert {n: a.to_dict() for n, a in archs.items()} == reference_json


def test_reference_models_have_expected_shape(reference_json):
  archs = archs_from_json(reference_json)
  f1 = archs["FBNetV2_F1"]
  assert f1.name == "FBNetV2_F1"
  assert f1.input_size == 128
  assert f1.width_divisor == 8
  assert len(f1.stages) == 7
  assert f1.total_stride == 32
  assert f1.stages[2][0] == BlockSpec(op="ir_k5", out=24, stride=2,
                                      expansion=5.4566)
  g2 = archs["fbnet_a"].stages[4][2]
  assert (g2.op, g2.out, g2.bias, g2.pwl_groups, g2.expansion) == (
      "ir_k5_g2", 64, True, 2, 1.0)


def test_the_zoo_serializes_byte_for_byte_as_before(reference_json):
  # The reference models pad symmetrically, the default, which is not
  # written: what save_archs writes of them is exactly what it wrote before
  # the field existed.
  archs = archs_from_json(reference_json)
  assert {a.padding for a in archs.values()} == {"symmetric"}
  assert archs_to_json(archs) == json.dumps(reference_json, indent=1) + "\n"
  assert all(list(a.to_dict()) == ["input_size", "width_divisor", "stages"]
             for a in archs.values())


def test_same_padding_round_trips_through_json(tmp_path):
  model = _small_model()
  model["padding"] = "same"
  arch = ArchSpec.from_dict("m", model)
  assert arch.padding == "same"
  assert ArchSpec.from_dict("m", arch.to_dict()) == arch
  assert arch.to_dict()["padding"] == "same"
  assert list(arch.to_dict()) == ["input_size", "width_divisor", "padding",
                                  "stages"]
  path = tmp_path / "same.json"
  save_archs(path, [arch])
  assert load_archs(path) == {"m": arch}
  # An explicit default reads as the default and is not written back.
  model["padding"] = "symmetric"
  symmetric = ArchSpec.from_dict("m", model)
  assert symmetric == ArchSpec.from_dict("m", _small_model()) != arch
  assert "padding" not in symmetric.to_dict()


def test_save_and_load_round_trip(reference_json, tmp_path):
  archs = archs_from_json(reference_json)
  path = tmp_path / "archs.json"
  save_archs(path, archs)
  loaded = load_archs(path)
  assert loaded == archs
  assert list(loaded) == list(archs)
  # The atomic write leaves no temporary file behind.
  assert [p.name for p in tmp_path.iterdir()] == ["archs.json"]


def test_save_accepts_a_list_keyed_by_name(tmp_path):
  a = ArchSpec.from_dict("a", _small_model())
  b = a.replace(name="b", input_size=64)
  path = tmp_path / "two.json"
  save_archs(path, [a, b])
  assert load_archs(path) == {"a": a, "b": b}


def test_load_single_model_file_with_width_divisor_1(tmp_path):
  model = _small_model()
  model["width_divisor"] = 1
  path = tmp_path / "one.json"
  path.write_text(json.dumps({"solo": model}), encoding="utf-8")
  archs = load_archs(path)
  assert list(archs) == ["solo"]
  solo = archs["solo"]
  assert solo.width_divisor == 1
  assert solo.input_size == 32
  assert solo.stages == (
      (BlockSpec("conv_k3", 8, stride=2),),
      (BlockSpec("ir_k3", 16, stride=2, expansion=4.0),
       BlockSpec("skip", 16, stride=1)),
  )


def test_load_several_models_in_file_order(tmp_path):
  models = {name: _small_model() for name in ("zeta", "alpha", "mid")}
  models["alpha"]["input_size"] = 64
  path = tmp_path / "many.json"
  path.write_text(json.dumps(models), encoding="utf-8")
  archs = load_archs(str(path))  # a str path works as well as a Path
  assert list(archs) == ["zeta", "alpha", "mid"]
  assert [a.name for a in archs.values()] == ["zeta", "alpha", "mid"]
  assert archs["alpha"].input_size == 64
  assert archs["zeta"].input_size == 32


def test_defaults_of_omitted_fields():
  model = _small_model()
  del model["width_divisor"]
  arch = ArchSpec.from_dict("m", model)
  assert arch.width_divisor == 8
  block = arch.stages[0][0]
  assert (block.repeat, block.expansion, block.bias, block.pwl_groups) == (
      1, None, False, 1)
  # to_dict writes the defaults that the format always carries, and no others.
  assert block.to_dict() == {"op": "conv_k3", "out": 8, "stride": 2,
                             "repeat": 1}
  assert arch.to_dict()["width_divisor"] == 8


def test_block_to_dict_writes_integral_expansion_as_int():
  d = BlockSpec("ir_k3", 16, expansion=6.0, bias=True, pwl_groups=2).to_dict()
  assert d == {"op": "ir_k3", "out": 16, "stride": 1, "repeat": 1,
               "expansion": 6, "bias": True, "pwl_groups": 2}
  assert isinstance(d["expansion"], int)
  assert BlockSpec("ir_k3", 16, expansion=5.4566).to_dict()["expansion"] == (
      5.4566)


def test_replace_changes_only_the_given_field():
  arch = ArchSpec.from_dict("m", _small_model())
  bigger = arch.replace(input_size=224)
  assert bigger.input_size == 224
  assert bigger.stages == arch.stages
  assert bigger.name == arch.name
  assert arch.input_size == 32  # frozen original untouched


def test_replace_revalidates():
  arch = ArchSpec.from_dict("m", _small_model())  # total stride 4
  assert arch.replace(input_size=4).input_size == 4  # exactly the stride: ok
  with pytest.raises(SpecError) as e:
    arch.replace(input_size=3)
  msg = str(e.value)
  assert "\n" not in msg
  assert "m" in msg and "'input_size'" in msg and "too small" in msg


# ---------------------------------------------------------------------------
# Validation: every error is a one-line SpecError naming its location.


def _set(stage, block, **changes):
  def mutate(model):
    blk = model["stages"][stage][block]
    for key, value in changes.items():
      blk[key] = value
  return mutate


def _drop(stage, block, key):
  def mutate(model):
    del model["stages"][stage][block][key]
  return mutate


def _rename(stage, block, old, new):
  def mutate(model):
    blk = model["stages"][stage][block]
    blk[new] = blk.pop(old)
  return mutate


def _top(**changes):
  def mutate(model):
    model.update(changes)
  return mutate


# (mutation, stage, block, field, extra text the message must contain)
BLOCK_ERRORS = {
    "unknown_op": (_set(1, 0, op="foo"), 1, 0, "op", "known forms"),
    "unsupported_kernel": (_set(1, 0, op="ir_k4"), 1, 0, "op", "ir_k4"),
    "op_not_a_string": (_set(1, 0, op=3), 1, 0, "op", "string"),
    "out_zero": (_set(1, 0, out=0), 1, 0, "out", "positive"),
    "out_negative": (_set(1, 1, out=-8), 1, 1, "out", "-8"),
    "stride_3": (_set(1, 0, stride=3), 1, 0, "stride", "got 3"),
    "stride_0": (_set(0, 0, stride=0), 0, 0, "stride", "got 0"),
    "missing_op": (_drop(1, 1, "op"), 1, 1, "op", "missing"),
    "missing_out": (_drop(1, 0, "out"), 1, 0, "out", "missing"),
    "missing_stride": (_drop(0, 0, "stride"), 0, 0, "stride", "missing"),
    "expansion_zero": (_set(1, 0, expansion=0), 1, 0, "expansion", "positive"),
    "expansion_negative": (_set(1, 0, expansion=-2.5), 1, 0, "expansion",
                           "-2.5"),
    "expansion_string": (_set(1, 0, expansion="4"), 1, 0, "expansion",
                         "number"),
    "expansion_bool": (_set(1, 0, expansion=True), 1, 0, "expansion",
                       "number"),
    "expansion_missing_on_ir": (_drop(1, 0, "expansion"), 1, 0, "expansion",
                                "missing"),
    "expansion_on_conv": (_set(0, 0, expansion=2), 0, 0, "expansion",
                          "takes no expansion"),
    "expansion_on_skip": (_set(1, 1, expansion=1), 1, 1, "expansion",
                          "takes no expansion"),
    "unknown_field_extra": (_set(1, 0, strid=2), 1, 0, "strid",
                            "unknown field"),
    "unknown_optional_typo": (_rename(1, 0, "expansion", "expansoin"), 1, 0,
                              "expansoin", "unknown field"),
    # A typo of a required key is reported as the required key missing.
    "required_key_typo": (_rename(1, 0, "stride", "strid"), 1, 0, "stride",
                          "missing"),
    "out_string": (_set(1, 0, out="8"), 1, 0, "out", "integer"),
    "out_float": (_set(1, 0, out=8.5), 1, 0, "out", "integer"),
    "out_integral_float": (_set(1, 0, out=8.0), 1, 0, "out", "integer"),
    "out_bool": (_set(1, 0, out=True), 1, 0, "out", "integer"),
    "stride_string": (_set(1, 0, stride="2"), 1, 0, "stride", "integer"),
    "repeat_zero": (_set(1, 1, repeat=0), 1, 1, "repeat", ">= 1"),
    "repeat_float": (_set(1, 1, repeat=2.0), 1, 1, "repeat", "integer"),
    "bias_not_bool": (_set(1, 0, bias="yes"), 1, 0, "bias", "true or false"),
    "pwl_groups_not_dividing_out": (_set(1, 0, pwl_groups=3), 1, 0,
                                    "pwl_groups", "do not divide 16"),
    "pwl_groups_zero": (_set(1, 0, pwl_groups=0), 1, 0, "pwl_groups", ">= 1"),
    "pwl_groups_on_conv": (_set(0, 0, pwl_groups=2), 0, 0, "pwl_groups",
                           "ir_*"),
}


@pytest.mark.parametrize("case", sorted(BLOCK_ERRORS))
def test_block_errors_name_model_stage_block_and_field(case):
  mutate, stage, block, field, extra = BLOCK_ERRORS[case]
  model = _small_model()
  mutate(model)
  with pytest.raises(SpecError) as e:
    archs_from_json({"MyNet": model})
  msg = str(e.value)
  assert "\n" not in msg
  assert msg.startswith("MyNet: ")
  assert f"stage {stage}, block {block}" in msg
  assert f"'{field}'" in msg
  assert extra in msg


# (mutation, text the message must contain besides the model name)
MODEL_ERRORS = {
    "input_size_too_small": (_top(input_size=2), ["'input_size'", "2",
                                                  "total stride 4"]),
    "input_size_zero": (_top(input_size=0), ["'input_size'", "positive"]),
    "input_size_string": (_top(input_size="32"), ["'input_size'", "integer"]),
    "width_divisor_zero": (_top(width_divisor=0), ["'width_divisor'", ">= 1"]),
    "missing_input_size": (lambda m: m.pop("input_size"),
                           ["missing field 'input_size'"]),
    "missing_stages": (lambda m: m.pop("stages"), ["missing field 'stages'"]),
    "empty_stages": (_top(stages=[]), ["'stages'", "non-empty"]),
    "empty_stage": (lambda m: m["stages"].append([]), ["stage 2", "non-empty"]),
    "stage_not_a_list": (lambda m: m["stages"].append({"op": "skip"}),
                         ["stage 2"]),
    "block_not_an_object": (lambda m: m["stages"][1].append("skip"),
                            ["stage 1, block 2", "JSON object"]),
    "unknown_model_field": (_top(resolution=224), ["unknown field 'resolution'"]),
    "padding_unknown": (_top(padding="valid"),
                        ["MyNet: field 'padding': must be one of "
                         "'symmetric', 'same', got 'valid'"]),
    "padding_not_a_string": (_top(padding=1), ["field 'padding'", "got 1"]),
}


@pytest.mark.parametrize("case", sorted(MODEL_ERRORS))
def test_model_errors_name_model_and_field(case):
  mutate, needles = MODEL_ERRORS[case]
  model = _small_model()
  mutate(model)
  with pytest.raises(SpecError) as e:
    archs_from_json({"MyNet": model})
  msg = str(e.value)
  assert "\n" not in msg
  assert msg.startswith("MyNet")
  for needle in needles:
    assert needle in msg


def test_input_size_too_small_for_total_stride_32():
  stages = [[{"op": "conv_k3", "out": 8, "stride": 2}]] + [
      [{"op": "skip", "out": 8, "stride": 2}] for _ in range(4)]
  model = {"input_size": 8, "stages": stages}
  with pytest.raises(SpecError) as e:
    archs_from_json({"deep": model})
  msg = str(e.value)
  assert "\n" not in msg
  assert msg.startswith("deep: field 'input_size': 8 is too small")
  assert "32" in msg
  # The same stages pass at input_size 32.
  model["input_size"] = 32
  assert archs_from_json({"deep": model})["deep"].total_stride == 32


@pytest.mark.parametrize("data", [{}, [], "x", None], ids=repr)
def test_top_level_must_be_a_non_empty_mapping(data):
  with pytest.raises(SpecError) as e:
    archs_from_json(data, source="archs/x.json")
  msg = str(e.value)
  assert "\n" not in msg
  assert msg.startswith("archs/x.json: ")


def test_model_must_be_an_object():
  with pytest.raises(SpecError, match=r"^m: a model must be a JSON object"):
    archs_from_json({"m": [1, 2]})


def test_direct_construction_is_validated():
  with pytest.raises(SpecError) as e:
    ArchSpec(name="d", input_size=32,
             stages=[[BlockSpec("conv_k3", 8, stride=2)],
                     [BlockSpec("ir_k3", 8)]])
  assert str(e.value).startswith("d: stage 1, block 0: field 'expansion'")
  with pytest.raises(SpecError, match="at least one stage"):
    ArchSpec(name="d", input_size=32, stages=[])


def test_load_missing_file_names_the_path(tmp_path):
  path = tmp_path / "nope" / "archs.json"
  with pytest.raises(SpecError) as e:
    load_archs(path)
  msg = str(e.value)
  assert "\n" not in msg
  assert msg.startswith(f"{path}: cannot read")


def test_load_invalid_json_names_path_and_line(tmp_path):
  path = tmp_path / "bad.json"
  path.write_text('{\n "m": {\n  "input_size": 32,,\n }\n}\n',
                  encoding="utf-8")
  with pytest.raises(SpecError) as e:
    load_archs(path)
  msg = str(e.value)
  assert "\n" not in msg
  assert msg.startswith(f"{path}: invalid JSON at line 3,")


def test_load_reports_semantic_errors_with_model_location(tmp_path):
  model = _small_model()
  model["stages"][1][0]["stride"] = 4
  path = tmp_path / "m.json"
  path.write_text(json.dumps({"m": model}), encoding="utf-8")
  with pytest.raises(SpecError,
                     match=r"^m: stage 1, block 0: field 'stride': must be 1 "
                     r"or 2, got 4$"):
    load_archs(path)


def test_load_non_utf8_file_raises_spec_error(tmp_path):
  path = tmp_path / "binary.json"
  path.write_bytes(b"\xff\xfe{}")
  with pytest.raises(SpecError) as e:
    load_archs(path)
  assert str(e.value).startswith(f"{path}: ")


def test_validation_does_not_mutate_the_input():
  model = _small_model()
  before = copy.deepcopy(model)
  archs_from_json({"m": model})
  assert model == before


def test_importing_specs_zoo_and_counting_does_not_import_tensorflow():
  # The specs are data only; reading them must not pay TensorFlow's import.
  assert heavy_modules_imported_by(
      "fbnetv2_tf.specs", "fbnetv2_tf.models.zoo",
      "fbnetv2_tf.cost.counting") == []


def test_infinite_expansion_is_rejected():
  model = {"input_size": 32, "stages": [[{"op": "ir_k3", "out": 8, "stride": 1,
                                          "expansion": float("inf")}]]}
  with pytest.raises(SpecError, match=r"^m: stage 0, block 0: field "
                     r"'expansion': must be positive and finite, got inf$"):
    archs_from_json({"m": model})
