"""The one-line arch string: parsing, printing and its error messages."""

import pytest

from fbnetv2_tf.models import zoo
from fbnetv2_tf.specs.arch_spec import ArchSpec, BlockSpec
from fbnetv2_tf.specs.arch_string import (looks_like_arch_string,
                                          parse_arch_string, to_arch_string)
from fbnetv2_tf.errors import SpecError

HANDWRITTEN = ("m@32/4: conv_k3-c8-s2 | ir_k3_sehsig_hs-c16-s2-e3-r2-b, "
               "skip-c16 | ir_pool_hs-c64-e6")


@pytest.mark.parametrize("name", zoo.names())
def test_zoo_models_round_trip(name):
  arch = zoo.get_arch(name)
  text = to_arch_string(arch)
  assert "\n" not in text
  assert text.startswith(f"{name}@{arch.input_size}/{arch.width_divisor}: ")
  assert parse_arch_string(text) == arch


def test_zoo_covers_every_reference_model():
  assert zoo.names() == ["FBNetV2_F1", "FBNetV2_F2", "FBNetV2_F3",
                         "FBNetV2_F4", "FBNetV2_L1", "FBNetV2_L2", "fbnet_a",
                         "fbnet_b", "fbnet_c"]


def test_to_arch_string_of_f1_prefix():
  text = to_arch_string(zoo.get_arch("FBNetV2_F1"))
  assert text.startswith(
      "FBNetV2_F1@128/8: conv_k3_hs-c8-s2 | ir_k5-c8-e1 | "
      "ir_k5-c24-s2-e5.4566, ir_k5-c24-e4.7912 | ")
  assert text.endswith(" | ir_pool_hs-c1600-e6")


def test_to_arch_string_writes_every_option():
  block = BlockSpec("ir_k3_g2", 16, stride=2, repeat=3, expansion=2.5,
                    bias=True, pwl_groups=2)
  arch = ArchSpec("g", 64, ((BlockSpec("conv_k3", 8),), (block,)),
                  width_divisor=1)
  text = to_arch_string(arch)
  assert text == "g@64/1: conv_k3-c8 | ir_k3_g2-c16-s2-e2.5-r3-p2-b"
  assert parse_arch_string(text) == arch


def test_handwritten_string_parses_field_by_field():
  arch = parse_arch_string(HANDWRITTEN)
  assert arch.name == "m"
  assert arch.input_size == 32
  assert arch.width_divisor == 4
  assert [len(stage) for stage in arch.stages] == [1, 2, 1]
  conv = arch.stages[0][0]
  assert (conv.op, conv.out, conv.stride, conv.repeat, conv.expansion,
          conv.bias, conv.pwl_groups) == ("conv_k3", 8, 2, 1, None, False, 1)
  ir = arch.stages[1][0]
  assert (ir.op, ir.out, ir.stride, ir.repeat, ir.expansion, ir.bias,
          ir.pwl_groups) == ("ir_k3_sehsig_hs", 16, 2, 2, 3.0, True, 1)
  assert isinstance(ir.expansion, float)
  assert arch.stages[1][1] == BlockSpec("skip", 16)
  assert arch.stages[2][0] == BlockSpec("ir_pool_hs", 64, expansion=6.0)


def test_defaults_for_name_and_divisor():
  arch = parse_arch_string("32: conv_k3-c8-s2")
  assert arch.name == "arch"
  assert arch.width_divisor == 8
  assert arch.input_size == 32
  assert arch.stages == ((BlockSpec("conv_k3", 8, stride=2),),)
  assert parse_arch_string("n@32: skip-c8").name == "n"
  assert parse_arch_string("32/2: skip-c8").width_divisor == 2


def test_same_padding_round_trips_and_symmetric_is_not_written():
  text = ("tiny32_searched@32/8+same: conv_k3-c8-s2 | ir_k3-c16-s2-e4, "
          "skip-c16")
  arch = parse_arch_string(text)
  assert arch.padding == "same"
  assert to_arch_string(arch) == text
  assert parse_arch_string(" 32 + same : conv_k3-c8-s2").padding == "same"
  symmetric = parse_arch_string(text.replace("+same", "+symmetric"))
  assert symmetric == arch.replace(padding="symmetric")
  assert to_arch_string(symmetric) == text.replace("+same", "")


def test_whitespace_is_ignored():
  spaced = ("  m @ 3 2 / 4 :\n\tconv_k3 - c8 - s2|ir_k3_sehsig_hs-c1 6-s2-e3-"
            "r2-b ,  skip-c16\n|\n ir_pool_hs -c64 -e6  ")
  assert parse_arch_string(spaced) == parse_arch_string(HANDWRITTEN)


def test_fractional_expansion_and_trailing_dot():
  arch = parse_arch_string("8: ir_k3-c8-e5.4566 | ir_k3-c8-e2.")
  assert arch.stages[0][0].expansion == 5.4566
  assert arch.stages[1][0].expansion == 2.0


# (text, text the one-line message must contain)
BAD_STRINGS = {
    "no_colon": ("m@32 conv_k3-c8", ["arch string", "input_size"]),
    "bad_header": ("m@x: conv_k3-c8", ["arch string", "input_size"]),
    "bad_option": ("m@32: conv_k3-c8 | ir_k3-c8-e2-x3",
                   ["m: stage 1, block 0:", "bad option 'x3'"]),
    "empty_option": ("m@32: conv_k3-c8--s2",
                     ["m: stage 0, block 0:", "bad option ''"]),
    "missing_out": ("m@32: conv_k3-c8, skip-s2",
                    ["m: stage 0, block 1:", "missing field 'out'"]),
    "fractional_stride": ("m@32: conv_k3-c8-s1.5",
                          ["m: stage 0, block 0:", "field 'stride'",
                           "integer", "1.5"]),
    "fractional_out": ("m@32: conv_k3-c8.5",
                       ["m: stage 0, block 0:", "field 'out'", "integer"]),
    "empty_stage": ("m@32: conv_k3-c8 || skip-c8",
                    ["m: stage 1: empty stage"]),
    "trailing_bar": ("m@32: conv_k3-c8 |", ["m: stage 1: empty stage"]),
    "missing_op": ("m@32: conv_k3-c8, -c8",
                   ["m: stage 0, block 1:", "missing op"]),
    # Semantic errors come from ArchSpec validation with the same locations.
    "unknown_op": ("m@32: conv_k3-c8 | ir_k4-c8-e2",
                   ["m: stage 1, block 0: field 'op'", "ir_k4"]),
    "stride_3": ("m@32: conv_k3-c8-s3",
                 ["m: stage 0, block 0: field 'stride'", "got 3"]),
    "expansion_on_conv": ("m@32: conv_k3-c8-e2",
                          ["m: stage 0, block 0: field 'expansion'"]),
    "input_too_small": ("m@2: conv_k3-c8-s2 | skip-c8-s2",
                        ["m: field 'input_size'", "too small"]),
    "unknown_padding": ("m@32/8+valid: conv_k3-c8-s2",
                        ["m: field 'padding'", "'valid'"]),
    "padding_before_divisor": ("m@32+same/8: conv_k3-c8",
                               ["arch string", "[+padding]"]),
}


@pytest.mark.parametrize("case", sorted(BAD_STRINGS))
def test_bad_strings_raise_one_line_spec_errors(case):
  text, needles = BAD_STRINGS[case]
  with pytest.raises(SpecError) as e:
    parse_arch_string(text)
  msg = str(e.value)
  assert "\n" not in msg
  for needle in needles:
    assert needle in msg


def test_error_message_stays_one_line_for_multiline_input():
  with pytest.raises(SpecError) as e:
    parse_arch_string("m@32\nconv_k3-c8")  # no colon
  assert "\n" not in str(e.value)


@pytest.mark.parametrize("text", [
    "m@32: conv_k3-c8",
    "32:conv_k3-c8",
    " FBNetV2_F1 @ 128 / 8 : conv_k3_hs-c8-s2",
    "a.b-c@224/1: skip-c8",
    "m@32/8+same: conv_k3-c8-s2",
    "32: garbage",  # looks like one, even if it will not parse
])
def test_looks_like_arch_string_true(text):
  assert looks_like_arch_string(text) is True


@pytest.mark.parametrize("text", [
    "archs/x.json",
    "archs/x.json:FBNetV2_F1",
    "C:\\archs\\x.json",
    "FBNetV2_F1",
    "fbnetv2-f1",
    "m@32",
    "m@: conv_k3-c8",
    "",
])
def test_looks_like_arch_string_false(text):
  assert looks_like_arch_string(text) is False


def test_zoo_names_are_not_arch_strings():
  for name in zoo.names():
    assert not looks_like_arch_string(name), name


def test_tiny_expansions_round_trip_without_an_exponent():
  arch = parse_arch_string("m@32: conv_k3-c8-s2 | ir_k3-c8-e0.00001")
  text = to_arch_string(arch)
  assert "e0.00001" in text and "e-" not in text
  assert parse_arch_string(text) == arch


def test_an_option_given_twice_is_an_error():
  with pytest.raises(SpecError, match=r"^m: stage 0, block 0: option 'c' given twice"):
    parse_arch_string("m@32: conv_k3-c8-c16")


def test_a_name_outside_the_grammar_cannot_be_written():
  arch = parse_arch_string("m@32: conv_k3-c8").replace(name="my model")
  with pytest.raises(SpecError, match="cannot be written in an arch string"):
    to_arch_string(arch)
