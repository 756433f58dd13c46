"""Resource-aware losses: values and the direction of their gradients."""

import math

import numpy as np
import pytest
import tensorflow as tf

from fbnetv2_tf.cost.losses import ResourceLoss


def _value_and_grad(loss, ce, cost):
  cost = tf.Variable(cost, dtype=tf.float32)
  with tf.GradientTape() as tape:
    value = loss(tf.constant(ce), cost)
  return float(value), float(tape.gradient(value, cost))


def test_fbnet_form_is_ce_times_a_log_cost_to_the_b():
  value, grad = _value_and_grad(ResourceLoss("fbnet"), 2.0, 100.0)
  assert value == pytest.approx(2.0 * 0.2 * math.log(100.0) ** 0.6, rel=1e-6)
  assert grad > 0  # more cost, more loss
  scaled, _ = _value_and_grad(ResourceLoss("fbnet", scale=1000.0), 2.0, 0.1)
  assert scaled == pytest.approx(2.0 * 0.2 * math.log(100.0) ** 0.6, rel=1e-5)


def test_additive_form_adds_lambda_cost_over_target():
  loss = ResourceLoss("additive", target=4.0, weight=0.5)
  value, grad = _value_and_grad(loss, 1.5, 2.0)
  assert value == pytest.approx(1.5 + 0.5 * 2.0 / 4.0)
  assert grad == pytest.approx(0.5 / 4.0)


def _budget_value_and_grad(loss, ce, cost, multiplier):
  cost = tf.Variable(cost, dtype=tf.float32)
  with tf.GradientTape() as tape:
    value = loss(tf.constant(ce), cost, multiplier)
  return float(value), float(tape.gradient(value, cost))


def test_budget_form_is_an_augmented_lagrangian_around_the_margin():
  loss = ResourceLoss("budget", target=10.0, penalty=2.0, margin=0.9)
  at, grad_at = _budget_value_and_grad(loss, 1.0, 9.0, 0.5)
  assert at == pytest.approx(1.0) and grad_at == pytest.approx(0.5 / 9.0)
  h = 12.0 / 9.0 - 1.0
  over, grad_over = _budget_value_and_grad(loss, 1.0, 12.0, 0.5)
  assert over == pytest.approx(1.0 + 0.5 * h + 0.5 * 2.0 * h * h, rel=1e-6)
  assert grad_over == pytest.approx((0.5 + 2.0 * h) / 9.0, rel=1e-5)
  # The quadratic term pulls towards the margin from both sides; a negative
  # multiplier (cost under budget for a while) rewards more cost.
  _, grad_under = _budget_value_and_grad(loss, 1.0, 6.0, 0.0)
  _, grad_paid = _budget_value_and_grad(loss, 1.0, 9.0, -0.3)
  assert grad_over > 0 > grad_under and grad_paid < 0
  assert float(loss.constraint(12.0)) == pytest.approx(h)


def test_none_form_is_plain_cross_entropy():
  value = ResourceLoss("none")(tf.constant(0.7), tf.constant(123.0))
  assert float(value) == pytest.approx(0.7)


@pytest.mark.parametrize("kwargs, fragment", [
    ({"form": "budget"}, "needs a positive cost target"),
    ({"form": "additive", "target": 0.0}, "needs a positive cost target"),
    ({"form": "cubic"}, "unknown loss 'cubic'"),
    ({"form": "none", "metric": "watts"}, "unknown cost metric 'watts'"),
    ({"form": "budget", "target": 1.0, "margin": 1.5}, "margin"),
    ({"form": "budget", "target": 1.0, "steer": "mode"},
     "unknown budget steer 'mode'"),
])
def test_bad_settings_are_refused(kwargs, fragment):
  with pytest.raises(ValueError, match=fragment):
    ResourceLoss(**kwargs)


def test_the_clamp_keeps_the_fbnet_form_finite_below_one():
  value, _ = _value_and_grad(ResourceLoss("fbnet"), 1.0, 0.5)
  assert np.isfinite(value) and value >= 0


def test_only_the_budget_form_steers_the_noise_free_distribution():
  forms = {f: ResourceLoss(f, target=1.0).on_probabilities
           for f in ("fbnet", "additive", "budget", "none")}
  assert forms == {"fbnet": False, "additive": False, "budget": True,
                   "none": False}
