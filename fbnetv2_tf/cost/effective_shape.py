"""Differentiable expected cost of a supernet under its decision weights.

Shapes are propagated as expectations (FBNetV2, arXiv 2004.05565, section
3.3): a masked width is ``C_eff = sum_i g_i c_i``, a resolution
``H_eff = sum_j g_j h_j``, and the next layer's ``C_in_eff`` is this layer's
``C_out_eff``. Each conv costs ``k^2 H_out_eff W_out_eff C_in_eff C_out_eff /
groups`` MACs and ``k^2 C_in_eff C_out_eff / groups`` parameters; block choice
costs ``sum_t g_t cost_t``. Where a child's structure depends on the widths
(an expand conv exists only when mid != in, a skip is free only when in ==
out), the cost is weighted by the probability of that structure. With one-hot
weights every term is exact, so the expected cost equals
:func:`fbnetv2_tf.cost.counting.count_arch` of the derived child.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Mapping

import numpy as np
from keras import ops

from fbnetv2_tf.specs import ops as spec_ops
from fbnetv2_tf.specs.space_plan import BlockPlan, CandidatePlan, SpacePlan

_ONE = np.ones((1,), "float32")


def _f32(values) -> Any:
  return ops.convert_to_tensor(np.asarray(values, "float32"))


@dataclasses.dataclass
class _Cost:
  """MACs and parameters as (possibly symbolic) scalars."""
  macs: Any = 0.0
  params: Any = 0.0

  def conv(self, size, cin, cout, kernel=1, groups=1, weight=1.0):
    w = weight * kernel * kernel * cin * cout / groups
    self.params = self.params + w
    self.macs = self.macs + w * size * size

  def pool(self, size, channels):
    self.macs = self.macs + size * size * channels

  def scaled(self, g) -> "_Cost":
    return _Cost(self.macs * g, self.params * g)

  def __add__(self, other: "_Cost") -> "_Cost":
    return _Cost(self.macs + other.macs, self.params + other.params)


class BlockShapes:
  """Expected input/output widths and sizes of one block."""

  def __init__(self, bp: BlockPlan, w: Mapping[str, Any], res):
    self.bp = bp
    self.h_in = decision_weights(w, bp.in_width.decision)
    self.h_out = decision_weights(w, bp.out_width.decision)
    self.e = decision_weights(w, bp.expansion_decision)
    self.cin = ops.sum(self.h_in * _f32(bp.in_width.options))
    self.cout = ops.sum(self.h_out * _f32(bp.out_width.options))
    self.size_in = ops.sum(res * _f32(bp.in_sizes))
    self.size_out = ops.sum(res * _f32(bp.out_sizes))

  def combo_weights(self, cp: CandidatePlan):
    return combo_weights(self.h_in, self.e, cp)

  def p_same_width(self):
    """Probability that the chosen input and output widths are equal."""
    bp = self.bp
    if bp.shares_width:
      return 1.0
    same = (np.asarray(bp.in_width.options)[:, None]
            == np.asarray(bp.out_width.options)[None, :]).astype("float32")
    return ops.sum(self.h_in[:, None] * self.h_out[None, :] * same)


def decision_weights(w: Mapping[str, Any], decision: str | None):
  """The option weights of ``decision``, or ``[1]`` for a fixed choice."""
  # convert_to_tensor, not np.asarray: the weights may be tensors whose
  # gradient must flow back to the logits.
  if decision is None:
    return _f32(_ONE)
  return ops.convert_to_tensor(w[decision], "float32")


def combo_weights(h_in, e, cp: CandidatePlan):
  """Weights of a candidate's (input width, expansion) combinations, in the
  input-major order of ``cp.mid_widths``."""
  if not cp.uses_expansion_decision:
    e = _f32(_ONE)
  return ops.reshape(h_in[:, None] * e[None, :], (-1,))


def candidate_cost(shapes: BlockShapes, cp: CandidatePlan) -> _Cost:
  """Expected MACs/params of one candidate of a block (mirrors count_arch)."""
  bp, c = shapes.bp, _Cost()
  info = cp.info
  cin, cout = shapes.cin, shapes.cout
  size_in, size_out = shapes.size_in, shapes.size_out
  if info.kind == spec_ops.CONV:
    c.conv(size_out, cin, cout, info.kernel)
    return c
  if info.kind == spec_ops.SKIP:
    p_conv = 1.0 - shapes.p_same_width() if bp.stride == 1 else 1.0
    c.conv(size_out, cin, cout, weight=p_conv)
    return c
  combo = shapes.combo_weights(cp)
  mid = ops.sum(combo * _f32(cp.mid_widths))
  if info.kind == spec_ops.IR_POOL:
    c.conv(size_in, cin, mid)
    c.pool(size_in, mid)
    c.conv(1, mid, cout)
    return c
  p_expand = ops.sum(combo * _f32(np.asarray(cp.mid_widths)
                                  != np.asarray(cp.combo_in_widths)))
  c.conv(size_in, cin, mid, groups=info.expand_groups, weight=p_expand)
  c.conv(size_out, mid, mid, info.kernel, groups=mid)
  if cp.se_widths:
    se = ops.sum(combo * _f32(cp.se_widths))
    c.pool(size_out, mid)
    c.conv(1, mid, se)
    c.conv(1, se, mid)
  c.conv(size_out, mid, cout, groups=info.expand_groups)
  return c


def expected_counts(plan: SpacePlan, weights: Mapping[str, Any],
                    num_classes: int) -> tuple[Any, Any]:
  """``(MACs, params)`` expected under decision ``weights``.

  Args:
    plan: the resolved search space.
    weights: ``{decision: option weights}`` (Gumbel samples, probabilities or
      one-hot vectors; tensors or arrays).
    num_classes: classifier outputs.
  """
  res = decision_weights(weights, plan.resolution.decision)
  total = _Cost()
  for bp in plan.blocks:
    shapes = BlockShapes(bp, weights, res)
    g = decision_weights(weights, bp.op_decision)
    for t, cp in enumerate(bp.candidates):
      total = total + candidate_cost(shapes, cp).scaled(g[t])
  last = BlockShapes(plan.blocks[-1], weights, res)
  total.pool(last.size_out, last.cout)
  total.conv(1, last.cout, num_classes)
  return total.macs, total.params


METRICS = ("mflops", "mparams", "latency_ms")


def expected_cost(plan: SpacePlan, weights: Mapping[str, Any], metric: str,
                  num_classes: int, latency_table=None) -> Any:
  """The expected cost in its unit: MFLOPs, M params, or ms from a LUT."""
  if metric == "latency_ms":
    if latency_table is None:
      raise ValueError("metric 'latency_ms' needs a latency table")
    from fbnetv2_tf.cost.latency_table import expected_latency_ms  # pylint: disable=g-import-not-at-top
    return expected_latency_ms(plan, weights, latency_table, num_classes)
  macs, params = expected_counts(plan, weights, num_classes)
  if metric == "mflops":
    return macs / 1e6
  if metric == "mparams":
    return params / 1e6
  raise ValueError(f"unknown cost metric {metric!r}; known: {', '.join(METRICS)}")
