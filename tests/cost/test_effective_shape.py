"""The differentiable expected cost (effective shapes, FBNetV2 section 3.3).

Checks that one-hot weights give exactly the analytic counts of the derived
child, that soft weights propagate ``C_eff = sum_i g_i c_i`` and
``H_eff = sum_j g_j h_j`` (docs/method.md, section 5), and that the cost moves the
right way and is differentiable.
"""

import itertools

import numpy as np
import pytest
import tensorflow as tf

from fbnetv2_tf.cost.counting import count_arch
from fbnetv2_tf.cost.effective_shape import expected_cost, expected_counts
from fbnetv2_tf.specs.builtin_spaces import get_space, tiny32
from fbnetv2_tf.search.derive import derive_arch, random_choices
from fbnetv2_tf.specs.search_space import SearchSpace
from fbnetv2_tf.specs.space_plan import plan_space

NUM_CLASSES = 1000
# One-hot weights are exact up to float32 rounding of sums of ~1e8 MACs; the
# requirement is 0.1 %, the observed error ~1e-7.
EXACT = 1e-5


def _one_hot(space, choices):
  return {d.name: np.eye(d.size, dtype="float32")[choices[d.name]]
          for d in space.decisions()}


def _uniform(space):
  return {d.name: np.full(d.size, 1.0 / d.size, "float32")
          for d in space.decisions()}


def _counts(plan, weights, num_classes=NUM_CLASSES):
  macs, params = expected_counts(plan, weights, num_classes)
  return float(macs), float(params)


# ---------------------------------------------------------------------------
# One-hot weights: exactly the derived child's counts


def _check_one_hot_matches_child(space, choices, num_classes=NUM_CLASSES):
  plan = plan_space(space)
  counts = count_arch(derive_arch(space, choices), num_classes)
  macs, params = _counts(plan, _one_hot(space, choices), num_classes)
  assert macs == pytest.approx(counts.macs, rel=EXACT), choices
  assert params == pytest.approx(counts.params, rel=EXACT), choices


# Eager keras.ops cost ~0.5 s per evaluation of the 22-block spaces, so their
# 50 draws are `slow`; a few draws (with the smallest and largest child) run
# always.
@pytest.mark.parametrize("name,draws", [
    ("tiny32", 50),
    pytest.param("fbnet_v1", 50, marks=pytest.mark.slow),
    pytest.param("fbnetv2_f", 50, marks=pytest.mark.slow),
    ("fbnet_v1", 4),
    ("fbnetv2_f", 4),
])
def test_one_hot_expected_counts_equal_the_derived_child(name, draws):
  space = get_space(name)
  decisions = space.decisions()
  rng = np.random.default_rng(2024)
  choices = [{d.name: 0 for d in decisions},
             {d.name: d.size - 1 for d in decisions}]
  choices += [random_choices(space, rng) for _ in range(draws - 2)]
  for c in choices:
    _check_one_hot_matches_child(space, c)


def test_tiny32_every_op_and_width_one_hot():
  # Every candidate of every block once, under a few width/resolution picks.
  space = tiny32()
  rng = np.random.default_rng(5)
  for s_op in range(4):
    for e in range(3):
      c = random_choices(space, rng)
      c.update({"s1_b1/op": s_op, "s2_b1/op": 3 - s_op,
                "s1_b0/op": s_op % 3, "s2_b0/op": (s_op + 1) % 3,
                "s1_b1/expansion": e, "s2_b0/expansion": 2 - e})
      _check_one_hot_matches_child(space, c, num_classes=10)


def test_expected_cost_metrics():
  space = tiny32()
  plan = plan_space(space)
  c = random_choices(space, np.random.default_rng(1))
  counts = count_arch(derive_arch(space, c), 10)
  w = _one_hot(space, c)
  assert float(expected_cost(plan, w, "mflops", 10)) == pytest.approx(
      counts.mflops, rel=EXACT)
  assert float(expected_cost(plan, w, "mparams", 10)) == pytest.approx(
      counts.mparams, rel=EXACT)
  with pytest.raises(ValueError, match="needs a latency table"):
    expected_cost(plan, w, "latency_ms", 10)
  with pytest.raises(ValueError, match="unknown cost metric 'joules'"):
    expected_cost(plan, w, "joules", 10)


# ---------------------------------------------------------------------------
# Effective width: C_eff = sum_i g_i c_i


def _width_space():
  # One open decision: the stem's output width.
  return SearchSpace.from_dict({
      "name": "w", "input_sizes": [32],
      "stages": [[{"ops": ["conv_k3"], "out": [8, 16, 24], "stride": 2}],
                 [{"ops": ["conv_k1"], "out": [32]}]]})


def _width_by_hand(g):
  c_eff = float(np.dot(g, [8, 16, 24]))
  h = 16  # 32 / stride 2
  macs = (3 * 3 * h * h * 3 * c_eff     # k^2 H W C_in C_eff
          + 1 * h * h * c_eff * 32      # the next conv's C_in is C_eff
          + h * h * 32 + 32 * 10)       # head pool and FC
  params = 3 * 3 * 3 * c_eff + c_eff * 32 + 32 * 10
  return macs, params


def test_width_space_has_one_decision():
  assert [(d.name, d.options) for d in _width_space().decisions()] == [
      ("s0_b0/out", (8, 16, 24))]


@pytest.mark.parametrize("g", [(0.2, 0.5, 0.3), (1 / 3, 1 / 3, 1 / 3),
                               (0.0, 0.0, 1.0), (0.9, 0.1, 0.0)])
def test_effective_width_by_hand(g):
  plan = plan_space(_width_space())
  macs, params = _counts(plan, {"s0_b0/out": np.array(g, "float32")}, 10)
  want_macs, want_params = _width_by_hand(np.array(g))
  assert macs == pytest.approx(want_macs, rel=1e-6)
  assert params == pytest.approx(want_params, rel=1e-6)


def test_effective_width_is_linear_in_the_weights():
  space = _width_space()
  plan = plan_space(space)
  corners = [_counts(plan, {"s0_b0/out": np.eye(3, dtype="float32")[i]}, 10)
             for i in range(3)]
  for i, (macs, params) in enumerate(corners):  # corners: the real children
    counts = count_arch(derive_arch(space, {"s0_b0/out": i}), 10)
    assert (macs, params) == (counts.macs, counts.params)
  rng = np.random.default_rng(0)
  for g in rng.dirichlet(np.ones(3), size=5).astype("float32"):
    macs, params = _counts(plan, {"s0_b0/out": g}, 10)
    assert macs == pytest.approx(sum(gi * c[0] for gi, c in zip(g, corners)),
                                 rel=1e-5)
    assert params == pytest.approx(
        sum(gi * c[1] for gi, c in zip(g, corners)), rel=1e-5)


# ---------------------------------------------------------------------------
# Effective resolution: H_eff = sum_j g_j h_j


def _resolution_space():
  return SearchSpace.from_dict({
      "name": "r", "input_sizes": [32, 16],
      "stages": [[{"ops": ["conv_k3"], "out": 8, "stride": 2}],
                 [{"ops": ["ir_k3"], "out": 16, "stride": 2,
                   "expansions": [2]}]]})


def _resolution_by_hand(g):
  h1 = g[0] * 16 + g[1] * 8   # stem output: (16, 8) per resolution
  h2 = g[0] * 8 + g[1] * 4    # ir output: (8, 4)
  mid = 16                    # 8 * 2
  macs = (9 * 3 * 8 * h1 * h1          # stem conv at H_eff x W_eff
          + 8 * mid * h1 * h1          # expand 1x1 at the block's input size
          + 9 * mid * h2 * h2          # depthwise 3x3
          + mid * 16 * h2 * h2         # project 1x1
          + 16 * h2 * h2 + 16 * 10)    # head
  params = 9 * 3 * 8 + 8 * mid + 9 * mid + mid * 16 + 16 * 10
  return macs, params


@pytest.mark.parametrize("g", [(0.5, 0.5), (0.25, 0.75), (1.0, 0.0),
                               (0.0, 1.0)])
def test_effective_resolution_by_hand(g):
  space = _resolution_space()
  assert [d.name for d in space.decisions()] == ["resolution"]
  plan = plan_space(space)
  macs, params = _counts(plan, {"resolution": np.array(g, "float32")}, 10)
  want_macs, want_params = _resolution_by_hand(g)
  assert macs == pytest.approx(want_macs, rel=1e-6)
  assert params == pytest.approx(want_params, rel=1e-6)


def test_uniform_resolution_uses_h_eff_not_mean_cost():
  space = _resolution_space()
  plan = plan_space(space)
  macs, _ = _counts(plan, {"resolution": np.array([0.5, 0.5], "float32")}, 10)
  # The stem alone: 9 * 3 * 8 * H_eff^2 with H_eff = (16 + 8) / 2 = 12.
  children = [count_arch(derive_arch(space, {"resolution": j}), 10).macs
              for j in range(2)]
  assert macs == pytest.approx(_resolution_by_hand((0.5, 0.5))[0])
  assert macs < np.mean(children)  # H_eff^2 <= E[H^2]
  assert macs > min(children)


# ---------------------------------------------------------------------------
# Monotonic in the width, and differentiable


def _along(space, name, t):
  """Uniform weights, except ``name`` moves from option 0 to its last."""
  w = _uniform(space)
  n = len(w[name])
  w[name] = ((1 - t) * np.eye(n)[0] + t * np.eye(n)[n - 1]).astype("float32")
  return w


@pytest.mark.parametrize("kind", ["out", "expansion"])
def test_cost_grows_when_mass_moves_to_a_wider_option(kind):
  space = tiny32()
  plan = plan_space(space)
  decisions = [d for d in space.decisions() if d.kind == kind]
  assert decisions
  for d in decisions:
    assert list(d.options) == sorted(d.options)
    costs = [_counts(plan, _along(space, d.name, t), 10)
             for t in np.linspace(0, 1, 5)]
    macs, params = zip(*costs)
    assert all(b > a for a, b in zip(macs, macs[1:])), (d.name, macs)
    assert all(b > a for a, b in zip(params, params[1:])), (d.name, params)


def test_cost_grows_with_resolution_and_params_do_not_change():
  space = tiny32()
  plan = plan_space(space)
  # Options are largest first: moving mass to option 0 grows the maps.
  costs = [_counts(plan, _along(space, "resolution", 1 - t), 10)
           for t in np.linspace(0, 1, 5)]
  macs, params = zip(*costs)
  assert all(b > a for a, b in zip(macs, macs[1:])), macs
  assert params == pytest.approx([params[0]] * 5, rel=1e-6)


def test_op_choice_cost_is_the_weighted_sum_of_candidates():
  # sum_t g_t cost_t: with everything else fixed the cost is linear in g.
  space = tiny32()
  plan = plan_space(space)
  base = {d.name: 0 for d in space.decisions()}
  per_op = []
  for t in range(4):
    per_op.append(_counts(plan, _one_hot(space, {**base, "s1_b1/op": t}), 10))
  assert per_op[3][0] < min(m for m, _ in per_op[:3])  # skip is cheapest
  g = np.array([0.1, 0.2, 0.3, 0.4], "float32")
  w = _one_hot(space, base)
  w["s1_b1/op"] = g
  macs, params = _counts(plan, w, 10)
  assert macs == pytest.approx(sum(gi * m for gi, (m, _) in zip(g, per_op)),
                               rel=1e-6)
  assert params == pytest.approx(sum(gi * p for gi, (_, p) in zip(g, per_op)),
                                 rel=1e-6)


def test_expected_counts_accepts_tensors():
  space = tiny32()
  plan = plan_space(space)
  w = _uniform(space)
  as_numpy = _counts(plan, w, 10)
  as_tensors = _counts(plan, {k: tf.constant(v) for k, v in w.items()}, 10)
  as_variables = _counts(plan, {k: tf.Variable(v) for k, v in w.items()}, 10)
  assert as_numpy == as_tensors == as_variables


def test_expected_counts_runs_in_a_tf_function():
  space = tiny32()
  plan = plan_space(space)
  graph = tf.function(lambda w: expected_counts(plan, w, 10))
  rng = np.random.default_rng(9)
  for _ in range(3):
    c = random_choices(space, rng)
    w = {k: tf.constant(v) for k, v in _one_hot(space, c).items()}
    macs, params = graph(w)
    counts = count_arch(derive_arch(space, c), 10)
    assert float(macs) == pytest.approx(counts.macs, rel=EXACT)
    assert float(params) == pytest.approx(counts.params, rel=EXACT)


def test_gradients_reach_every_open_decision():
  for name in ("tiny32", "fbnetv2_f", "fbnet_v1"):
    space = get_space(name)
    plan = plan_space(space)
    variables = {k: tf.Variable(v) for k, v in _uniform(space).items()}
    with tf.GradientTape(persistent=True) as tape:
      macs, params = expected_counts(plan, variables, 10)
    for target in (macs, params):
      grads = tape.gradient(target, variables)
      for d in space.decisions():
        if target is params and d.kind == "resolution":
          continue  # parameters do not depend on the resolution
        g = grads[d.name]
        assert g is not None, (name, d.name)
        g = np.asarray(g)
        assert np.all(np.isfinite(g)), (name, d.name)
        assert np.abs(g).max() > 0, (name, d.name)
    del tape


def test_one_hot_matches_child_with_group_convs():
  # _g2 candidates with and without an expand conv, fixed and searched
  # expansions, under every joint choice.
  space = SearchSpace.from_dict({
      "name": "g2", "input_sizes": [32, 16], "width_divisor": 1,
      "stages": [[{"ops": ["conv_k3"], "out": [8, 16], "stride": 2}],
                 [{"ops": ["ir_k3_g2_e1", "ir_k5_g2_e3", "ir_k3_g2", "skip"],
                   "out": [8, 10], "expansions": [1, 2]}]]})
  names = [d.name for d in space.decisions()]
  assert names == ["resolution", "s0_b0/out", "s1_b0/op", "s1_b0/expansion",
                   "s1_b0/out"]
  for combo in itertools.product(*(range(d.size) for d in space.decisions())):
    _check_one_hot_matches_child(space, dict(zip(names, combo)), 10)
