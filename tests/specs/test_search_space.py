"""SearchSpace: the JSON format, built-in spaces, decisions and validation.

Pure data: nothing here imports TensorFlow or Keras.
"""

import copy
import json
import math

import pytest

from fbnetv2_tf.specs import builtin_spaces
from fbnetv2_tf.specs.builtin_spaces import (fbnet_v1, fbnetv2_f, get_space,
                                             space_from_argument, tiny32)
from fbnetv2_tf.errors import SpecError
from fbnetv2_tf.specs.search_space import (Candidate, SearchSpace,
                                           load_search_space, parse_candidate)

BUILTINS = ("fbnet_v1", "fbnetv2_f", "mnv3_small32", "tiny32")


# ---------------------------------------------------------------------------
# Built-in spaces: registry and round trips


def test_builtin_names():
  assert builtin_spaces.names() == list(BUILTINS)


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_round_trips_through_a_dict(name):
  space = get_space(name)
  assert space.name == name
  again = SearchSpace.from_dict(space.to_dict())
  assert again == space
  assert again.to_dict() == space.to_dict()


@pytest.mark.parametrize("name", BUILTINS)
def test_builtin_round_trips_through_a_json_file(name, tmp_path):
  space = get_space(name)
  path = tmp_path / f"{name}.json"
  path.write_text(space.to_json(), encoding="utf-8")
  assert json.loads(path.read_text(encoding="utf-8")) == space.to_dict()
  assert load_search_space(path) == space
  assert load_search_space(str(path)) == space


def test_space_from_argument_accepts_a_name():
  assert space_from_argument("tiny32") == tiny32()
  assert space_from_argument("fbnet_v1") == fbnet_v1()


def test_space_from_argument_accepts_a_path(tmp_path):
  d = tiny32().to_dict()
  d["name"] = "custom"
  d["input_sizes"] = [32]
  path = tmp_path / "custom.json"
  path.write_text(json.dumps(d), encoding="utf-8")
  space = space_from_argument(str(path))
  assert space.name == "custom"
  assert space.input_sizes == (32,)
  assert space.stages == tiny32().stages


@pytest.mark.parametrize("lookup", [get_space, space_from_argument])
def test_unknown_space_name_lists_the_builtins(lookup):
  with pytest.raises(SpecError) as e:
    lookup("fbnet_v3")
  msg = str(e.value)
  assert msg.startswith("unknown search space 'fbnet_v3'; built-in: "
                        "fbnet_v1, fbnetv2_f, mnv3_small32, tiny32")
  assert "\n" not in msg


# ---------------------------------------------------------------------------
# Sizes of the spaces


def test_fbnet_v1_has_9_pow_22_architectures():
  space = fbnet_v1()
  assert space.num_architectures() == 9**22 == 984770902183611232881
  assert space.log10_num_architectures() == pytest.approx(20.9933, abs=1e-4)
  # No width or resolution decision: 22 block-type decisions of 9 options.
  decisions = space.decisions()
  assert len(decisions) == 22
  assert {d.kind for d in decisions} == {"op"}
  assert all(d.size == 9 for d in decisions)
  assert [d.name for d in decisions][:3] == ["s1_b0/op", "s2_b0/op",
                                             "s2_b1/op"]
  assert decisions[-1].name == "s7_b0/op"


def test_fbnetv2_f_size_by_hand():
  space = fbnetv2_f()
  # 4 resolutions; width options of c16, c24, c32, c64, c112, c184 and the
  # last searched stage (one decision each).
  widths = 3 * 5 * 5 * 5 * 6 * 7 * 7
  # Per block: 8 types x 8 expansions (+1 with skip). The stem is fixed, the
  # c16 block has 8 types and one expansion, the ir_pool head is fixed.
  first, later = 8 * 8, 8 * 8 + 1
  blocks = 8 * first**5 * later**(2 + 3 + 2 + 3 + 2) * later
  assert space.num_architectures() == 4 * widths * blocks
  assert space.num_architectures() == 1400561173866045222420480000000000000000
  assert space.log10_num_architectures() == pytest.approx(39.1463, abs=1e-4)
  assert space.log10_num_architectures() > 30


def test_fbnetv2_f_is_at_least_1e14_times_fbnet_v1():
  # The FBNetV2 abstract: a space "up to 10^14x larger" than FBNet's.
  ratio = fbnetv2_f().num_architectures() // fbnet_v1().num_architectures()
  assert ratio >= 10**14
  assert math.log10(ratio) == pytest.approx(18.153, abs=1e-3)


def test_tiny32_size_by_hand():
  # 3 resolutions x stem widths 3 x width/s1 2 x width/s2 3, and per stage
  # 3 types x 3 expansions, then (3 x 3 + skip).
  assert tiny32().num_architectures() == 3 * 3 * 2 * 3 * (9 * 10)**2 == 437400


def test_tiny32_has_every_kind_of_decision():
  assert {d.kind for d in tiny32().decisions()} == {
      "resolution", "op", "expansion", "out"}


def test_tiny32_decisions_pinned():
  types = ("ir_k3", "ir_k5", "ir_k3_sehsig_hs")
  got = [(d.name, d.kind, tuple(str(o) for o in d.options) if d.kind == "op"
          else d.options) for d in tiny32().decisions()]
  assert got == [
      ("resolution", "resolution", (32, 24, 16)),
      ("s0_b0/out", "out", (8, 12, 16)),
      ("s1_b0/op", "op", types),
      ("s1_b0/expansion", "expansion", (1.0, 2.0, 4.0)),
      ("width/s1", "out", (16, 24)),
      ("s1_b1/op", "op", types + ("skip",)),
      ("s1_b1/expansion", "expansion", (1.0, 2.0, 4.0)),
      ("s2_b0/op", "op", types),
      ("s2_b0/expansion", "expansion", (1.0, 2.0, 4.0)),
      ("width/s2", "out", (24, 32, 40)),
      ("s2_b1/op", "op", types + ("skip",)),
      ("s2_b1/expansion", "expansion", (1.0, 2.0, 4.0)),
  ]
  # Shared widths appear once although two blocks use them.
  space = tiny32()
  assert space.out_decision_name(1, 0) == space.out_decision_name(1, 1) \
      == "width/s1"
  assert space.out_decision_name(0, 0) == "s0_b0/out"
  assert space.out_decision_name(3, 0) == "s3_b0/out"  # fixed: no decision
  assert [d.size for d in space.decisions()] == [3, 3, 3, 3, 2, 4, 3, 3, 3,
                                                 3, 4, 3]


# ---------------------------------------------------------------------------
# The JSON format on a handmade space


def _space_dict():
  """A small valid space: a searched stem and a stage sharing one width."""
  return {
      "name": "m",
      "input_sizes": [32, 16],
      "stages": [
          [{"ops": ["conv_k3"], "out": [8, 16], "stride": 2}],
          [{"ops": ["ir_k3", "skip"], "out": [16, 24], "expansions": [1, 2, 4],
            "width_group": "g"},
           {"ops": ["ir_k3_e3", "ir_k5", "skip"], "out": [16, 24],
            "expansions": [2, 6], "width_group": "g"}],
      ],
  }


def test_handmade_space_parses():
  space = SearchSpace.from_dict(_space_dict())
  assert space.width_divisor == 8
  assert space.description == ""
  assert space.max_input_size == 32
  b0, b1 = space.stages[1]
  assert b0.ops == (Candidate("ir_k3"), Candidate("skip"))
  assert b0.expansions == (1.0, 2.0, 4.0)
  assert b1.ops == (Candidate("ir_k3", 3.0), Candidate("ir_k5"),
                    Candidate("skip"))
  assert b1.stride == 1 and b1.width_group == "g" and not b1.bias
  assert [(d.name, d.kind, d.size) for d in space.decisions()] == [
      ("resolution", "resolution", 2), ("s0_b0/out", "out", 2),
      ("s1_b0/op", "op", 2), ("s1_b0/expansion", "expansion", 3),
      ("width/g", "out", 2), ("s1_b1/op", "op", 3),
      ("s1_b1/expansion", "expansion", 2)]


def test_num_architectures_of_a_handmade_space_by_hand():
  space = SearchSpace.from_dict(_space_dict())
  # Block s1_b0: ir_k3 x 3 expansions + skip = 4.
  # Block s1_b1: ir_k3_e3 (fixed) + ir_k5 x 2 expansions + skip = 4.
  # Widths: stem 2, group g 2 (once). Resolutions: 2.
  assert space.num_architectures() == (3 + 1) * (1 + 2 + 1) * 2 * 2 * 2 == 128
  assert space.log10_num_architectures() == pytest.approx(math.log10(128))


def test_fixed_space_has_one_architecture_and_no_decisions():
  space = SearchSpace.from_dict({
      "name": "f", "input_sizes": [32],
      "stages": [[{"ops": "conv_k3", "out": 8, "stride": 2}],
                 [{"ops": ["ir_k3"], "out": 16, "expansions": [4]}]]})
  assert space.decisions() == []
  assert space.num_architectures() == 1
  assert space.stages[0][0].out == (8,)


def test_width_range_expands():
  d = _space_dict()
  d["stages"][0][0]["out"] = {"min": 8, "max": 24, "step": 8}
  space = SearchSpace.from_dict(d)
  assert space.stages[0][0].out == (8, 16, 24)
  assert space.decisions()[1].options == (8, 16, 24)
  # Serialized as the explicit list.
  assert space.to_dict()["stages"][0][0]["out"] == [8, 16, 24]


def test_width_range_with_step_not_reaching_max():
  d = _space_dict()
  d["stages"][0][0]["out"] = {"min": 8, "max": 20, "step": 8}
  assert SearchSpace.from_dict(d).stages[0][0].out == (8, 16)


def test_to_dict_writes_defaults_and_optional_fields():
  d = _space_dict()
  d["description"] = "a test"
  d["width_divisor"] = 4
  d["stages"][0][0]["bias"] = True
  out = SearchSpace.from_dict(d).to_dict()
  assert out["description"] == "a test" and out["width_divisor"] == 4
  assert out["stages"][0][0] == {"ops": ["conv_k3"], "out": [8, 16],
                                 "stride": 2, "bias": True}
  assert out["stages"][1][1] == {"ops": ["ir_k3_e3", "ir_k5", "skip"],
                                 "out": [16, 24], "stride": 1,
                                 "expansions": [2, 6], "width_group": "g"}


def test_padding_round_trips_and_is_written_only_when_not_the_default():
  d = _space_dict()
  symmetric = SearchSpace.from_dict(d)
  assert symmetric.padding == "symmetric"
  assert "padding" not in symmetric.to_dict()
  d["padding"] = "same"
  same = SearchSpace.from_dict(d)
  assert same.padding == "same" and same != symmetric
  assert same.to_dict()["padding"] == "same"
  assert SearchSpace.from_dict(json.loads(same.to_json())) == same


def test_one_constant_sets_the_padding_of_every_builtin(monkeypatch):
  assert {get_space(n).padding for n in BUILTINS} == {builtin_spaces.PADDING}
  monkeypatch.setattr(builtin_spaces, "PADDING", "same")
  assert {get_space(n).padding for n in BUILTINS} == {"same"}
  arch, _ = builtin_spaces.mobilenet_v3_small32()
  assert arch.padding == "same"


def test_from_dict_does_not_mutate_its_input():
  d = _space_dict()
  before = copy.deepcopy(d)
  SearchSpace.from_dict(d)
  assert d == before


@pytest.mark.parametrize("text,expected", [
    ("ir_k3", Candidate("ir_k3", None)),
    ("ir_k3_e6", Candidate("ir_k3", 6.0)),
    ("ir_k5_g2_e1", Candidate("ir_k5_g2", 1.0)),
    ("ir_k5_sehsig_hs_e1.5", Candidate("ir_k5_sehsig_hs", 1.5)),
    ("ir_pool_hs_e6", Candidate("ir_pool_hs", 6.0)),
    ("skip", Candidate("skip", None)),
    ("conv_k3_hs", Candidate("conv_k3_hs", None)),
])
def test_parse_candidate(text, expected):
  c = parse_candidate(text)
  assert c == expected
  assert str(c) == text


def test_candidate_uses_expansion_decision():
  assert parse_candidate("ir_k3").uses_expansion_decision
  assert parse_candidate("ir_pool").uses_expansion_decision
  assert not parse_candidate("ir_k3_e3").uses_expansion_decision
  assert not parse_candidate("skip").uses_expansion_decision
  assert not parse_candidate("conv_k3").uses_expansion_decision


# ---------------------------------------------------------------------------
# Validation: one-line SpecErrors that name the location


def _set(path, value):
  """A mutation of _space_dict() setting ``path`` (None value: delete)."""
  def mutate(d):
    target = d
    for key in path[:-1]:
      target = target[key]
    if value is None:
      del target[path[-1]]
    else:
      target[path[-1]] = value
  return mutate


B10 = "m: stage 1, block 0: "

INVALID = {
    "unknown op": (
        _set(("stages", 1, 0, "ops"), ["ir_k3", "foo"]),
        B10 + "field 'ops': unknown op 'foo'; known forms: conv_k<K>[_hs], "
        "ir_k<K>[_g2][_sehsig][_hs], ir_pool[_hs], skip"),
    "bad kernel": (
        _set(("stages", 1, 0, "ops"), ["ir_k4"]),
        B10 + "field 'ops': op 'ir_k4': kernel must be one of (1, 3, 5, 7), "
        "got 4"),
    "expansion suffix on skip": (
        _set(("stages", 1, 0, "ops"), ["ir_k3", "skip_e2"]),
        B10 + "field 'ops': candidate 'skip_e2': op 'skip' takes no expansion"),
    "expansion suffix on conv": (
        _set(("stages", 0, 0, "ops"), ["conv_k3_e2"]),
        "m: stage 0, block 0: field 'ops': candidate 'conv_k3_e2': op "
        "'conv_k3' takes no expansion"),
    "expansion suffix zero": (
        _set(("stages", 1, 1, "ops"), ["ir_k3_e0", "skip"]),
        "m: stage 1, block 1: field 'ops': candidate 'ir_k3_e0': expansion "
        "must be positive"),
    "expansion suffix zero point zero": (
        _set(("stages", 1, 1, "ops"), ["ir_k5_e0.0"]),
        "m: stage 1, block 1: field 'ops': candidate 'ir_k5_e0.0': expansion "
        "must be positive"),
    "group conv with an odd width": (
        _set(("stages", 1, 0), {"ops": ["ir_k3_g2_e1", "skip"],
                                "out": [15, 24], "width_group": "g"}),
        B10 + "field 'ops': candidate 'ir_k3_g2_e1' groups its 1x1 convs in "
        "2, but it can meet odd widths [15]"),
    "empty ops": (
        _set(("stages", 1, 0, "ops"), []),
        B10 + "field 'ops': must list at least one candidate"),
    "missing ops": (
        _set(("stages", 1, 0, "ops"), None),
        B10 + "missing field 'ops'"),
    "missing out": (
        _set(("stages", 1, 0, "out"), None),
        B10 + "missing field 'out'"),
    "out descending": (
        _set(("stages", 1, 0, "out"), [24, 16]),
        B10 + "field 'out': options must be distinct and ascending, got "
        "[24, 16]"),
    "out duplicated": (
        _set(("stages", 1, 0, "out"), [16, 16, 24]),
        B10 + "field 'out': options must be distinct and ascending, got "
        "[16, 16, 24]"),
    "out zero": (
        _set(("stages", 0, 0, "out"), 0),
        "m: stage 0, block 0: field 'out': channels must be positive, got [0]"),
    "out not an integer": (
        _set(("stages", 0, 0, "out"), [8, 16.5]),
        "m: stage 0, block 0: field 'out': must be an integer, got 16.5"),
    "out range inverted": (
        _set(("stages", 0, 0, "out"), {"min": 24, "max": 8, "step": 8}),
        "m: stage 0, block 0: field 'out': need min <= max and step >= 1, "
        "got min 24, max 8, step 8"),
    "out range missing step": (
        _set(("stages", 0, 0, "out"), {"min": 8, "max": 24}),
        "m: stage 0, block 0: field 'out': missing field 'step'"),
    "stride 3": (
        _set(("stages", 1, 0, "stride"), 3),
        B10 + "field 'stride': must be 1 or 2, got 3"),
    "expansions missing": (
        _set(("stages", 1, 0, "expansions"), None),
        B10 + "field 'expansions': missing; candidates without an _e suffix "
        "need the block's expansion options"),
    "expansion zero": (
        _set(("stages", 1, 0, "expansions"), [0, 2]),
        B10 + "field 'expansions': must be positive, got [0.0, 2.0]"),
    "expansion negative": (
        _set(("stages", 1, 1, "expansions"), [2, -1]),
        "m: stage 1, block 1: field 'expansions': must be positive, got "
        "[2.0, -1.0]"),
    "expansion not a number": (
        _set(("stages", 1, 0, "expansions"), [1, "2"]),
        B10 + "field 'expansions': must be a list of numbers"),
    "width group mismatch": (
        _set(("stages", 1, 1, "out"), [16, 32]),
        "m: stage 1, block 1: field 'width_group': group 'g' has out options "
        "[16, 24] elsewhere, here [16, 32]"),
    "input sizes ascending": (
        _set(("input_sizes",), [16, 32]),
        "m: field 'input_sizes': must be distinct and in descending order, "
        "got [16, 32]"),
    "input sizes duplicated": (
        _set(("input_sizes",), [32, 32]),
        "m: field 'input_sizes': must be distinct and in descending order, "
        "got [32, 32]"),
    "input size below total stride": (
        _set(("input_sizes",), [32, 1]),
        "m: field 'input_sizes': 1 is too small for the network's total "
        "stride 2"),
    "input size zero": (
        _set(("input_sizes",), [32, 0]),
        "m: field 'input_sizes': must be positive, got [32, 0]"),
    "missing input sizes": (
        _set(("input_sizes",), None),
        "m: missing field 'input_sizes'"),
    "missing stages": (
        _set(("stages",), None),
        "m: missing field 'stages'"),
    "empty stage": (
        _set(("stages", 1), []),
        "m: stage 1: a stage must be a non-empty list of blocks"),
    "unknown space field": (
        _set(("widths",), [8]),
        "m: unknown field 'widths'; allowed: name, description, "
        "width_divisor, padding, input_sizes, stages"),
    "padding unknown": (
        _set(("padding",), "valid"),
        "m: field 'padding': must be one of 'symmetric', 'same', got "
        "'valid'"),
    "unknown block field": (
        _set(("stages", 1, 0, "kernel"), 3),
        B10 + "unknown field 'kernel'; allowed: ops, out, stride, expansions, "
        "width_group, bias"),
    "width divisor zero": (
        _set(("width_divisor",), 0),
        "m: field 'width_divisor': must be >= 1"),
    "bias not a bool": (
        _set(("stages", 1, 0, "bias"), 1),
        B10 + "field 'bias': must be true or false"),
}


@pytest.mark.parametrize("case", sorted(INVALID))
def test_invalid_space_names_the_location(case):
  mutate, message = INVALID[case]
  d = _space_dict()
  mutate(d)
  with pytest.raises(SpecError) as e:
    SearchSpace.from_dict(d)
  assert str(e.value) == message
  assert "\n" not in str(e.value)


def test_the_unmutated_space_is_valid():
  # Guards the table above: each case fails only because of its mutation.
  SearchSpace.from_dict(_space_dict())


# ---------------------------------------------------------------------------
# Files


def test_load_invalid_json_names_the_path(tmp_path):
  path = tmp_path / "bad.json"
  path.write_text('{"name": "m", "stages": [', encoding="utf-8")
  with pytest.raises(SpecError) as e:
    load_search_space(path)
  msg = str(e.value)
  assert msg.startswith(f"{path}: invalid JSON")
  assert "\n" not in msg


def test_load_non_utf8_names_the_path(tmp_path):
  path = tmp_path / "latin1.json"
  path.write_bytes(b'{"name": "caf\xe9"}')
  with pytest.raises(SpecError) as e:
    load_search_space(path)
  msg = str(e.value)
  assert msg.startswith(f"{path}: ")
  assert "utf-8" in msg.lower()  # says why: not UTF-8 text
  assert "\n" not in msg


def test_load_missing_file_names_the_path(tmp_path):
  path = tmp_path / "missing.json"
  with pytest.raises(SpecError) as e:
    load_search_space(path)
  assert str(e.value) == f"{path}: cannot read: No such file or directory"


def test_load_reports_the_location_inside_the_file(tmp_path):
  d = _space_dict()
  d["stages"][1][0]["stride"] = 3
  path = tmp_path / "m.json"
  path.write_text(json.dumps(d), encoding="utf-8")
  with pytest.raises(SpecError, match=r"^m: stage 1, block 0: field 'stride': "
                     r"must be 1 or 2, got 3$"):
    load_search_space(path)


def test_load_a_json_array_is_rejected(tmp_path):
  path = tmp_path / "list.json"
  path.write_text("[]", encoding="utf-8")
  with pytest.raises(SpecError, match="^a search space must be a JSON object$"):
    load_search_space(path)


def test_space_from_argument_with_a_bad_file(tmp_path):
  path = tmp_path / "bad.json"
  path.write_text("not json", encoding="utf-8")
  with pytest.raises(SpecError, match=r"invalid JSON"):
    space_from_argument(str(path))
