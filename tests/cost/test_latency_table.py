"""Latency tables: lookup, interpolation, file format and expected latency."""

import json

import numpy as np
import pytest

from fbnetv2_tf.cost.counting import block_counts, count_arch
from fbnetv2_tf.cost.latency_table import (HEAD_OP, LatencyKey, LatencyTable,
                                           expected_latency_ms, required_keys)
from fbnetv2_tf.specs import builtin_spaces
from fbnetv2_tf.specs.arch_spec import ArchSpec, BlockSpec
from fbnetv2_tf.search.derive import derive_arch, random_choices
from fbnetv2_tf.errors import SpecError
from fbnetv2_tf.specs.plan import resolve
from fbnetv2_tf.specs.space_plan import plan_space

NUM_CLASSES = 10


def _macs_of_key(key: LatencyKey, divisor: int) -> float:
  """A synthetic 'latency': the MACs of the block the key describes."""
  if key.op == HEAD_OP:
    return key.input_size**2 * key.cin + key.cin * NUM_CLASSES
  block = BlockSpec(key.op, key.cout, key.stride,
                    expansion=key.mid / key.cin if key.mid else None)
  arch = ArchSpec("k", key.input_size, ((block,),), width_divisor=divisor)
  return float(block_counts(resolve(arch, key.cin)[0])[0])


def test_expected_latency_at_one_hot_is_the_sum_of_block_entries():
  """With 'latency' = MACs, the expectation at one-hot weights must equal the
  counted MACs of the derived child, block by block."""
  space = builtin_spaces.tiny32()
  plan = plan_space(space)
  table = LatencyTable({k: _macs_of_key(k, space.width_divisor)
                        for k in required_keys(plan)})
  rng = np.random.default_rng(0)
  for _ in range(20):
    choices = random_choices(space, rng)
    w = {d.name: np.eye(d.size, dtype="float32")[choices[d.name]]
         for d in space.decisions()}
    got_us = float(expected_latency_ms(plan, w, table, NUM_CLASSES)) * 1000
    assert got_us == pytest.approx(
        count_arch(derive_arch(space, choices), NUM_CLASSES).macs, rel=1e-5)


def test_soft_weights_give_the_expectation_over_options():
  space = builtin_spaces.tiny32()
  plan = plan_space(space)
  table = LatencyTable({k: _macs_of_key(k, 4) for k in required_keys(plan)})
  uniform = {d.name: np.full(d.size, 1 / d.size, "float32")
             for d in space.decisions()}
  rng = np.random.default_rng(1)
  # Monte Carlo over uniformly random children approaches the expectation.
  samples = [count_arch(derive_arch(space, random_choices(space, rng)),
                        NUM_CLASSES).macs for _ in range(3000)]
  expected = float(expected_latency_ms(plan, uniform, table, NUM_CLASSES)) * 1000
  assert expected == pytest.approx(np.mean(samples), rel=0.03)


def test_expected_latency_traces_inside_a_tf_function():
  """The search's train step computes it on symbolic decision weights."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  space = builtin_spaces.tiny32()
  plan = plan_space(space)
  table = LatencyTable({k: _macs_of_key(k, 4) for k in required_keys(plan)},
                       overhead_us=3.0)
  uniform = {d.name: np.full(d.size, 1 / d.size, "float32")
             for d in space.decisions()}
  traced = tf.function(lambda w: expected_latency_ms(plan, w, table,
                                                     NUM_CLASSES))
  eager = float(expected_latency_ms(plan, uniform, table, NUM_CLASSES))
  assert float(traced(uniform)) == pytest.approx(eager, rel=1e-6)
  # The fixed cost per invoke counts once per network.
  table.overhead_us = 0.0
  assert eager - float(expected_latency_ms(plan, uniform, table,
                                           NUM_CLASSES)) == pytest.approx(
                                               0.003, rel=0.01)  # float32 sums


def test_lookup_interpolates_between_channel_grid_points():
  entries = {LatencyKey("ir_k3", 8, 1, c, m, o): 1.0 * c + 2.0 * m + 3.0 * o
             for c in (8, 16) for m in (16, 32, 64) for o in (8, 24)}
  table = LatencyTable(entries)
  assert table.lookup("ir_k3", 8, 1, 16, 32, 24) == 16 + 64 + 72
  assert table.lookup("ir_k3", 8, 1, 12, 48, 16) == pytest.approx(
      12 + 96 + 48)
  assert table.lookup("ir_k3", 8, 1, 20, 64, 24) == pytest.approx(
      20 + 128 + 72)  # linear extrapolation past the grid
  with pytest.raises(KeyError, match="no entry for op 'ir_k5'"):
    table.lookup("ir_k5", 8, 1, 16, 32, 24)


def test_table_file_round_trip_and_errors(tmp_path):
  table = LatencyTable({LatencyKey("conv_k3", 32, 2, 3, 0, 16): 12.5,
                        LatencyKey(HEAD_OP, 1, 1, 128, 0, 0): 3.0},
                       device="host")
  path = tmp_path / "lut.json"
  path.write_text(json.dumps(table.to_dict()))  # version 1: still loads
  loaded = LatencyTable.load(path)
  assert loaded.entries == table.entries and loaded.device == "host"
  path.write_text('{"units": "ms", "entries": []}')
  with pytest.raises(SpecError, match="units must be 'us'"):
    LatencyTable.load(path)
  path.write_text('{"entries": [{"op": "conv_k3"}]}')
  with pytest.raises(SpecError, match="entry 0: bad or missing field"):
    LatencyTable.load(path)
