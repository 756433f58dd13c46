"""SearchSpace to a Keras supernet with architecture logits (FBNetV2 / FBNet).

Each block is built once, at its largest widths: its candidates (block
choice) are mixed by a MixedBlock, its expansion and output widths are
channel masks. Each open decision has one ArchDecision layer holding its
logits; ``arch_variables`` and ``weight_variables`` keep the two apart so
they can have their own optimizers.

At one-hot decision weights the supernet computes exactly the function of
the derived child given the supernet's weights sliced to its widths
(``search.inherit``; a test checks every built-in space within 1e-5):

- where a child's structure depends on its widths, the supernet blends both
  structures by the weight of the options that have them: the expand conv
  (absent where mid == in) and the identity (residual add, or an identity
  skip, where input and output widths are decided separately and can be
  equal); the cost model charges each structure by the same weight;
- the input resolution is decided once for the whole network, so each
  resolution option runs the shared-weight network on its own input,
  resized exactly as the child's data is (bilinear with antialiasing), and
  the options' logits are mixed. Branches never see each other's features
  (a shared full-resolution lattice would feed a low-resolution branch
  mostly full-resolution features while the weights are soft), at a compute
  of ``sum_j (size_j / largest)^2`` of one network, as the lattice has.
  With ``resolution_sampling="one"`` a step runs one of them instead: the
  option of a Gumbel-max sample of the resolution decision, its logits
  scaled by a straight-through factor ``w_j / stop_gradient(w_j)`` (value
  1) so that the decision's logits still get a gradient (docs/method.md).
"""

from __future__ import annotations

from typing import Any, Mapping

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from fbnetv2_tf import layers
from fbnetv2_tf.cost import effective_shape
from fbnetv2_tf.layers.channel_mask import ChannelMask
from fbnetv2_tf.layers.gumbel import ArchDecision
from fbnetv2_tf.layers.masked_inverted_residual import MaskedInvertedResidual
from fbnetv2_tf.layers.mixed_block import MixedBlock
from fbnetv2_tf.specs import ops as spec_ops
from fbnetv2_tf.specs.search_space import RESOLUTION, SearchSpace
from fbnetv2_tf.specs.space_plan import (BlockPlan, CandidatePlan, SpacePlan,
                                         plan_space)

# How a step treats the resolution decision (``SupernetNetwork``).
ALL_RESOLUTIONS = "all"  # every option's network, logits mixed by weight
ONE_RESOLUTION = "one"   # one sampled option's network per step
RESOLUTION_SAMPLINGS = (ALL_RESOLUTIONS, ONE_RESOLUTION)


def layer_name(decision: str) -> str:
  """Keras layer names cannot hold '/'."""
  return "decision_" + decision.replace("/", "__")


def resize_input(images, size: int):
  """Images resized as the child's data is (``data.resize_images``)."""
  if images.shape[1] == size:
    return images
  return ops.image.resize(images, (size, size), interpolation="bilinear",
                          antialias=True)


def _may_be_identity(bp: BlockPlan) -> bool:
  """Whether some child has equal input and output widths at stride 1
  although the supernet cannot always add the input (separate decisions)."""
  return (bp.stride == 1 and not bp.shares_width
          and bool(set(bp.in_width.options) & set(bp.out_width.options)))


def _candidate_layer(bp: BlockPlan, cp: CandidatePlan, name: str,
                     padding: str):
  """One candidate at its largest widths, padded as the space's children
  are (``padding``), so that they inherit weights of the same function."""
  info = cp.info
  common = {"activation": info.activation, "use_bias": bp.block.bias,
            "name": name}
  if info.kind == spec_ops.CONV:
    return layers.ConvBNAct(bp.out_width.max, info.kernel, strides=bp.stride,
                            padding=padding, **common)
  if info.kind == spec_ops.SKIP:
    return layers.Skip(bp.in_width.max, bp.out_width.max, strides=bp.stride,
                       identity=bp.residual, **common)
  if info.kind == spec_ops.IR_POOL:
    return layers.IRPool(bp.out_width.max, cp.max_mid, **common)
  # _g2 groups both 1x1 convs (FBNet's group-conv candidates).
  return MaskedInvertedResidual(
      bp.in_width.max, bp.out_width.max, cp.max_mid, residual=bp.residual,
      expand=cp.needs_expand, kernel_size=info.kernel, strides=bp.stride,
      se_channels=cp.max_se, expand_groups=info.expand_groups,
      project_groups=info.expand_groups, padding=padding, **common)


def _batched(weights) -> Any:
  """Option weights as ``[batch or 1, options]``."""
  w = ops.convert_to_tensor(weights, "float32")
  return w[None, :] if len(w.shape) == 1 else w


def _weights_of(w: Mapping[str, Any], decision: str | None):
  """``[batch or 1, options]`` weights of a decision; ``[[1]]`` if fixed."""
  return w[decision] if decision is not None else ops.ones((1, 1))


def _combo_weights(h_in, e, cp: CandidatePlan):
  """``[batch, combinations]`` weights of a candidate's (input width,
  expansion) combinations, input-major as ``cp.mid_widths``."""
  if not cp.uses_expansion_decision:
    e = ops.ones((1, 1))
  combo = h_in[:, :, None] * e[:, None, :]
  return ops.reshape(combo, (-1, combo.shape[1] * combo.shape[2]))


def _per_example_scalar(weights, selector: np.ndarray):
  """``[batch, 1, 1, 1]``: the total weight of the options ``selector``
  marks (float 0/1 per option)."""
  return ops.reshape(ops.matmul(weights, selector[:, None]), (-1, 1, 1, 1))


@keras.saving.register_keras_serializable(package="fbnetv2_tf")
class SupernetNetwork(keras.Model):
  """The weight-sharing supernet of a SearchSpace as a network: blocks,
  decisions, forward pass and expected cost; outputs logits. How it is
  trained (the bilevel search) and how an architecture is derived from it
  live in ``search.search_model.Supernet``, its subclass.

  Args:
    space: the search space, as a SearchSpace or its JSON dict.
    num_classes: classifier outputs.
    input_channels: image channels (``fit`` takes them from the data when
      the supernet is not built yet).
    mode: Gumbel-softmax mode of every decision (soft, hard, argmax).
    seed: seed of the Gumbel noise.
    resolution_sampling: ``"all"``: a step runs the network at every
      resolution option and mixes the logits by the decision's weights;
      ``"one"``: it runs the network once, at the option of one Gumbel-max
      sample of the resolution decision for the whole batch (a step of
      fbnetv2_f costs one network instead of 2.57). Both compute the same
      logits under one-hot weights.
  """

  def __init__(self, space, num_classes=10, input_channels=3, mode="soft",
               seed=None, resolution_sampling=ALL_RESOLUTIONS, **kwargs):
    super().__init__(**kwargs)
    if resolution_sampling not in RESOLUTION_SAMPLINGS:
      raise ValueError(f"unknown resolution_sampling {resolution_sampling!r}; "
                       f"known: {', '.join(RESOLUTION_SAMPLINGS)}")
    self.resolution_sampling = resolution_sampling
    if isinstance(space, SearchSpace):
      space = space.to_dict()
    self.space_config = dict(space)
    self.num_classes = num_classes
    self.mode = mode
    self.seed = seed
    self.space = SearchSpace.from_dict(space)
    self.decision_list = self.space.decisions()
    self.decisions = {
        d.name: ArchDecision(d.size, mode=mode,
                             seed=None if seed is None else seed + i,
                             name=layer_name(d.name))
        for i, d in enumerate(self.decision_list)}
    self._make_blocks(input_channels)
    self.head = layers.ClassifierHead(num_classes, name="head")
    # The budget loss's Lagrange multiplier (``cost.losses``): state of the
    # search that a checkpoint must keep, like the temperature.
    self.cost_multiplier = self.add_weight(
        shape=(), initializer="zeros", trainable=False, name="cost_multiplier")

  def _make_blocks(self, input_channels: int) -> None:
    self.input_channels = input_channels
    self.plan: SpacePlan = plan_space(self.space, input_channels)
    self.blocks = []
    self.out_masks, self.mid_masks, self.se_masks = [], [], []
    for bp in self.plan.blocks:
      self.blocks.append(MixedBlock(
          [_candidate_layer(bp, cp, f"{bp.name}_c{t}", self.space.padding)
           for t, cp in enumerate(bp.candidates)], name=bp.name))
      self.out_masks.append(ChannelMask(bp.out_width.options,
                                        bp.out_width.max,
                                        name=f"{bp.name}_out_mask"))
      self.mid_masks.append([
          ChannelMask(cp.mid_widths, cp.max_mid, name=f"{bp.name}_c{t}_mid")
          if cp.mid_widths else None for t, cp in enumerate(bp.candidates)])
      self.se_masks.append([
          ChannelMask(cp.se_widths, cp.max_se, name=f"{bp.name}_c{t}_se")
          if cp.se_widths else None for t, cp in enumerate(bp.candidates)])

  def adopt_input_channels(self, channels: int) -> None:
    """Rebuilds the (unbuilt) blocks for ``channels`` input channels."""
    if channels == self.input_channels:
      return
    if self.built:
      raise ValueError(f"the supernet was built for {self.input_channels} "
                       f"input channels, the data has {channels}")
    self._make_blocks(channels)

  # -- variables -------------------------------------------------------------

  @property
  def arch_variables(self) -> list:
    """The logits of every decision (one group per decision)."""
    return [d.logits for d in self.decisions.values()]

  @property
  def weight_variables(self) -> list:
    """Trainable variables that are not architecture logits."""
    arch = {id(v) for v in self.arch_variables}
    return [v for v in self.trainable_variables if id(v) not in arch]

  def set_temperature(self, value: float) -> None:
    for d in self.decisions.values():
      d.temperature.assign(value)

  def set_mode(self, mode: str) -> None:
    for d in self.decisions.values():
      d.mode = mode

  def logits(self) -> dict[str, np.ndarray]:
    return {n: np.asarray(d.logits) for n, d in self.decisions.items()}

  def probabilities(self) -> dict[str, np.ndarray]:
    return {n: np.asarray(d.probabilities()) for n, d in self.decisions.items()}

  # -- forward -----------------------------------------------------------------

  def sample_weights(self, batch_size=None) -> dict[str, Any]:
    """Option weights of every decision for one step (Gumbel-softmax): one
    vector per decision, or ``[batch_size, options]`` with a sample per
    example. With one resolution per step, the resolution decision is one
    sample for the whole batch (``[1, options]``), since the batch runs at
    one size."""
    one = (self.resolution_sampling == ONE_RESOLUTION
           and batch_size is not None)
    return {name: (d()[None, :] if one and name == RESOLUTION
                   else d(batch_size=batch_size))
            for name, d in self.decisions.items()}

  def _block_forward(self, i: int, x, w, training):
    bp = self.plan.blocks[i]
    h_in = _weights_of(w, bp.in_width.decision)
    h_out = _weights_of(w, bp.out_width.decision)
    e = _weights_of(w, bp.expansion_decision)
    out_mask = self.out_masks[i].mask(h_out)
    same = None
    if _may_be_identity(bp):
      equal = (np.asarray(bp.in_width.options)[:, None]
               == np.asarray(bp.out_width.options)[None, :])
      same = ops.reshape(ops.sum(h_in[:, :, None] * h_out[:, None, :]
                                 * equal.astype("float32"), axis=(1, 2)),
                         (-1, 1, 1, 1))
    kwargs = []
    for t, cp in enumerate(bp.candidates):
      kind = cp.info.kind
      k = {}
      if not (kind == spec_ops.SKIP and bp.residual):  # identities: no mask
        k["out_mask"] = out_mask
      if same is not None and kind in (spec_ops.SKIP,
                                       spec_ops.INVERTED_RESIDUAL):
        k["residual_weight"] = same
      if cp.mid_widths:
        combo = _combo_weights(h_in, e, cp)
        k["mid_mask"] = self.mid_masks[i][t].mask(combo)
        if cp.se_widths:
          k["se_mask"] = self.se_masks[i][t].mask(combo)
        has_expand = (np.asarray(cp.mid_widths)
                      != np.asarray(cp.combo_in_widths)).astype("float32")
        if kind == spec_ops.INVERTED_RESIDUAL and 0 < has_expand.sum() < len(
            has_expand):
          k["expand_weight"] = _per_example_scalar(combo, has_expand)
      kwargs.append(k)
    return self.blocks[i](x, weights=_weights_of(w, bp.op_decision),
                          training=training, candidate_kwargs=kwargs)

  def _network(self, x, w, training):
    for i in range(len(self.plan.blocks)):
      x = self._block_forward(i, x, w, training)
    return self.head(x, training=training)

  @tf.autograph.experimental.do_not_convert  # plain Python control flow only;
  # autograph mis-converted the block loop of a space without a resolution
  # decision (fbnet_v1) inside tf.function
  def forward(self, images, weights: Mapping[str, Any], training=None):
    """Logits under given decision weights: one vector per decision (e.g.
    one-hot, for a child) or ``[batch, options]`` (a sample per example).
    ``images`` are at the space's largest resolution."""
    w = {name: _batched(v) for name, v in weights.items()}
    if RESOLUTION not in w:
      return self._network(images, w, training)
    if self.resolution_sampling == ONE_RESOLUTION:
      return self._one_resolution(images, w, training)
    total = None
    for j, size in enumerate(self.space.input_sizes):
      y = w[RESOLUTION][:, j:j + 1] * self._network(
          resize_input(images, size), w, training)
      total = y if total is None else total + y
    return total

  def _one_resolution(self, images, w, training):
    """The network at one resolution option: the argmax of the weights
    (averaged over the batch where they are per example), its logits
    scaled straight through by ``w_j / stop_gradient(w_j)``: the value is
    the branch's logits, and the decision gets a gradient through ``w_j``.
    Under one-hot weights this equals the mix of every option exactly."""
    r = ops.mean(w[RESOLUTION], axis=0)  # one row: exactly that row
    j = ops.argmax(r)
    # Each branch resizes to its own size (shapes differ between branches,
    # the logits' do not); only the taken branch runs, under tf.function
    # too, with its BatchNorm updates. keras.ops.switch lowers to
    # Switch/Merge, inside the step's graph. A Case op left unlowered (its
    # branch a function of its own) took 1.7x the time and 1.5x the live
    # memory of a one-resolution supernet's weight step (tiny32, batch 64,
    # the branch at 32 px) against 1.2x and 1.2x lowered, and its logits
    # were a few ulp off those of every resolution (oneDNN's graph rewrite
    # treats a function body apart).
    branches = [
        (lambda size: lambda: self._network(resize_input(images, size), w,
                                            training))(size)
        for size in self.space.input_sizes]
    logits = ops.switch(j, branches)
    w_j = ops.take(r, j)
    # w_j is the largest of the row, at least 1 / options: never 0 / 0.
    return logits * ops.cast(w_j / ops.stop_gradient(w_j), logits.dtype)

  def call(self, inputs, training=None):
    return self.forward(inputs, self.sample_weights(ops.shape(inputs)[0]),
                        training=training)

  def expected_cost(self, weights: Mapping[str, Any], metric: str = "mflops",
                    latency_table=None):
    """Differentiable expected cost (MFLOPs, M params or LUT ms) under one
    weight vector per decision."""
    return effective_shape.expected_cost(self.plan, weights, metric,
                                         self.num_classes, latency_table)

  def one_hot_weights(self, choices: Mapping[str, int]) -> dict[str, np.ndarray]:
    return {d.name: np.eye(d.size, dtype="float32")[choices[d.name]]
            for d in self.decision_list}

  def get_config(self):
    return {**super().get_config(), "space": self.space_config,
            "num_classes": self.num_classes,
            "input_channels": self.input_channels, "mode": self.mode,
            "seed": self.seed,
            "resolution_sampling": self.resolution_sampling}

  def build(self, input_shape=None):
    """Creates every variable by running the network once on zeros."""
    size = self.space.max_input_size
    self.forward(ops.zeros((1, size, size, self.input_channels)),
                 self.one_hot_weights({d.name: 0 for d in self.decision_list}))
    self.built = True

  def build_for_input(self) -> "SupernetNetwork":
    """Builds eagerly (call before the first compiled step) and returns self."""
    if not self.built:
      self.build()
    return self
