"""Which networks the weight step trains: blends of the learned
distribution, and one-hot children of the whole space beside them.

The search's weight step trains, for each example, a Gumbel-softmax blend
drawn from the current logits (``ArchDecision``). That is what the
architecture step needs, but it trains the weights of the children the
search already prefers: a random child of the same budget then inherits
weights tuned for others, and the supernet cannot rank children it did not
train (``docs/benchmarks/supernet_ranking.md``). Single-path one-shot (Guo
et al., 2019) trains uniformly sampled one-hot children instead, and
once-for-all (Cai et al., 2020) adds the largest and the smallest child of
each step (the "sandwich rule"). Here a share of each weight batch trains
such children, per example, at no extra cost: a one-hot weight scales the
same masks a blend does.

Modes (``SearchConfig.child_sampling``):

- ``uniform``: every decision of every child example uniformly at random.
- ``sandwich``: of the child examples, a quarter train the dearest child of
  the space, a quarter the cheapest (counted MFLOPs, exactly, by
  ``search.cost_range``), the rest uniform children.

A supernet that runs one resolution per step (``resolution_sampling="one"``)
draws the resolution once for the whole batch; the children share it.
"""

from __future__ import annotations

import numpy as np
from keras import ops

from fbnetv2_tf.models.supernet import ONE_RESOLUTION
from fbnetv2_tf.search.config import CHILD_SAMPLINGS, SANDWICH, UNIFORM
from fbnetv2_tf.specs.search_space import RESOLUTION


class WeightSampler:
  """Decision weights of one weight batch: ``[batch, options]`` per
  decision, the first ``round(share * batch)`` rows one-hot children, the
  others blends of the learned distribution.

  Args:
    net: the supernet (its decisions draw the noise, so the samples follow
      the search's seed and resume with its checkpoint).
    share: the fraction of each batch trained as one-hot children.
    sampling: ``uniform`` or ``sandwich``.
  """

  def __init__(self, net, share: float, sampling: str = UNIFORM):
    if not 0.0 <= share <= 1.0:
      raise ValueError(f"the child share must lie in [0, 1], got {share}")
    if sampling not in CHILD_SAMPLINGS:
      raise ValueError(f"unknown child sampling {sampling!r}; known: "
                       f"{', '.join(CHILD_SAMPLINGS)}")
    self.net, self.share, self.sampling = net, share, sampling
    self._extremes = None

  def __call__(self, batch_size):
    net = self.net
    blends = net.sample_weights(batch_size)
    if self.share == 0.0:
      return blends
    rows = ops.arange(batch_size)[:, None]
    children = ops.cast(
        ops.round(self.share * ops.cast(batch_size, "float32")), "int32")
    weights = {}
    for name, decision in net.decisions.items():
      if name == RESOLUTION and net.resolution_sampling == ONE_RESOLUTION:
        # One resolution sample for the whole batch, which runs at one
        # size: the children share it.
        weights[name] = blends[name]
        continue
      child = decision.uniform_one_hot(batch_size)
      if self.sampling == SANDWICH:
        dearest, cheapest = self._one_hots(name)
        quarter = children // 4
        child = ops.where(rows < quarter, dearest[None, :], child)
        child = ops.where((rows >= quarter) & (rows < 2 * quarter),
                          cheapest[None, :], child)
      weights[name] = ops.where(rows < children, child, blends[name])
    return weights

  def _one_hots(self, name):
    """The dearest and the cheapest child's option of ``name``, one-hot."""
    if self._extremes is None:
      from fbnetv2_tf.search.cost_range import cost_range  # pylint: disable=g-import-not-at-top
      net = self.net
      self._extremes = cost_range(net.space, "mflops", net.num_classes,
                                  net.input_channels)
    size = self.net.decisions[name].num_options
    eye = np.eye(size, dtype="float32")
    return (ops.convert_to_tensor(eye[self._extremes.dearest.get(name, 0)]),
            ops.convert_to_tensor(eye[self._extremes.cheapest.get(name, 0)]))
