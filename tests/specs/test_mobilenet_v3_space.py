"""mnv3_small32: MobileNetV3-Small is one of its architectures, and the
library counts it as keras.applications builds it."""

import json

import pytest

from fbnetv2_tf.cost.counting import count_arch
from fbnetv2_tf.errors import SpecError
from fbnetv2_tf.search.derive import derive_arch
from fbnetv2_tf.specs import builtin_spaces, mobilenet_v3
from fbnetv2_tf.specs.arch_string import parse_arch_string, to_arch_string
from fbnetv2_tf.specs.plan import resolve
from fbnetv2_tf.specs.search_space import SearchSpace

# The arch string of the docs (docs/benchmarks/vs_mobilenetv3.md).
DOCUMENTED = (
    "MobileNetV3Small@32/8: conv_k3_hs-c16-s2 | ir_k3_sehsig-c16-s2-e1 | "
    "ir_k3-c24-s2-e4.5, ir_k3-c24-e3.67 | ir_k5_sehsig_hs-c40-s2-e4, "
    "ir_k5_sehsig_hs-c40-e6, ir_k5_sehsig_hs-c40-e6 | ir_k5_sehsig_hs-c48-e3, "
    "ir_k5_sehsig_hs-c48-e3 | ir_k5_sehsig_hs-c96-s2-e6, "
    "ir_k5_sehsig_hs-c96-e6, ir_k5_sehsig_hs-c96-e6 | ir_pool_hs-c1024-e6")
# count_keras_model(keras.applications.MobileNetV3Small(input_shape=(32, 32,
# 1), classes=10, weights=None, include_preprocessing=False)), Keras 3.
KERAS_MACS = 2_102_464
KERAS_PARAMS = 1_511_784
# The library's classifier pools the 1x1, 1024-channel output once more.
HEAD_POOL_MACS = 1024


@pytest.fixture(scope="module")
def space():
  return builtin_spaces.get_space("mnv3_small32")


@pytest.fixture(scope="module")
def mnv3():
  return builtin_spaces.mobilenet_v3_small32()


def test_the_space_is_listed_and_round_trips(space):
  assert "mnv3_small32" in builtin_spaces.names()
  assert builtin_spaces.space_from_argument("mnv3_small32") == space
  assert SearchSpace.from_dict(json.loads(space.to_json())) == space


def test_the_space_size(space):
  assert space.input_sizes == (32,)
  assert space.num_architectures() == 8_503_056 * 10**12


def test_its_choices_derive_the_documented_arch(space, mnv3):
  arch, choices = mnv3
  assert to_arch_string(arch) == to_arch_string(parse_arch_string(DOCUMENTED))
  assert derive_arch(space, choices, name=arch.name) == arch


def test_every_choice_is_an_open_decision_in_range(space, mnv3):
  _, choices = mnv3
  sizes = {d.name: d.size for d in space.decisions()}
  assert set(choices) == set(sizes)
  assert all(0 <= choices[n] < sizes[n] for n in choices)


def test_widths_are_those_of_table_2():
  blocks = resolve(mobilenet_v3.small_arch(), input_channels=1)
  bnecks = blocks[1:-1]
  assert [b.mid_channels for b in bnecks] == [
      16, 72, 88, 96, 240, 240, 120, 144, 288, 576, 576]
  # Keras: _depth(expanded * 0.25), the library's rule at divisor 8.
  assert [b.se_channels for b in bnecks] == [
      8, 0, 0, 24, 64, 64, 32, 40, 72, 144, 144]
  assert [b.residual for b in bnecks] == [
      False, False, True, False, True, True, False, True, False, True, True]
  assert (blocks[-1].mid_channels, blocks[-1].out_channels) == (576, 1024)


def test_counted_like_keras_but_for_the_head_pool():
  counts = count_arch(mobilenet_v3.small_arch(), 10, 1)
  assert counts.macs == KERAS_MACS + HEAD_POOL_MACS
  assert counts.params == KERAS_PARAMS
  assert counts.mflops == pytest.approx(KERAS_MACS / 1e6, rel=1e-3)


def test_an_arch_outside_the_space_is_named(space):
  arch = parse_arch_string(DOCUMENTED.replace("ir_k3-c24-s2", "ir_k7-c24-s2"))
  with pytest.raises(SpecError, match=r"stage 2, block 0: op 'ir_k7'"):
    mobilenet_v3.choices_for(space, arch)
  wide = parse_arch_string(DOCUMENTED.replace("c1024", "c2048"))
  with pytest.raises(SpecError, match=r"2048 is not an option"):
    mobilenet_v3.choices_for(space, wide)
  same = parse_arch_string(DOCUMENTED.replace("@32/8", "@32/8+same"))
  with pytest.raises(SpecError, match=r"same padding, the space "
                     r"'mnv3_small32' pads as symmetric"):
    mobilenet_v3.choices_for(space, same)


@pytest.mark.slow
def test_the_pinned_keras_counts():
  import keras  # pylint: disable=g-import-not-at-top
  from fbnetv2_tf.cost.keras_counting import count_keras_model  # pylint: disable=g-import-not-at-top
  model = keras.applications.MobileNetV3Small(
      input_shape=(32, 32, 1), weights=None, classes=10,
      include_preprocessing=False, classifier_activation=None)
  counts = count_keras_model(model)
  assert (counts.macs, counts.params) == (KERAS_MACS, KERAS_PARAMS)
