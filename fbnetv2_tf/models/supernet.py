"""SearchSpace to a Keras supernet with architecture logits (FBNetV2 / FBNet).

Each block is built once, at its largest widths: its candidates (block
choice) are mixed by a MixedBlock, its expansion and output widths are
channel masks, and the input resolution is a ResolutionSampler around every
block and the head. Each open decision has one ArchDecision layer holding its
logits; ``arch_variables`` and ``weight_variables`` keep the two apart so
they can have their own optimizers.
"""

from __future__ import annotations

from typing import Any, Mapping

import keras
import numpy as np
from keras import ops

from fbnetv2_tf import layers
from fbnetv2_tf.cost import effective_shape
from fbnetv2_tf.cost.losses import ResourceLoss
from fbnetv2_tf.layers.channel_mask import ChannelMask
from fbnetv2_tf.layers.gumbel import ArchDecision
from fbnetv2_tf.layers.masked_inverted_residual import MaskedInvertedResidual
from fbnetv2_tf.layers.mixed_block import MixedBlock
from fbnetv2_tf.layers.resolution_sampler import ResolutionSampler
from fbnetv2_tf.models import bilevel
from fbnetv2_tf.specs import derive
from fbnetv2_tf.specs import ops as spec_ops
from fbnetv2_tf.specs.search_space import RESOLUTION, SearchSpace
from fbnetv2_tf.specs.space_plan import (BlockPlan, CandidatePlan, SpacePlan,
                                         plan_space)

def layer_name(decision: str) -> str:
  """Keras layer names cannot hold '/'."""
  return "decision_" + decision.replace("/", "__")


def _candidate_layer(bp: BlockPlan, cp: CandidatePlan, name: str):
  info = cp.info
  common = {"activation": info.activation, "use_bias": bp.block.bias,
            "name": name}
  if info.kind == spec_ops.CONV:
    return layers.ConvBNAct(bp.out_width.max, info.kernel, strides=bp.stride,
                            **common)
  if info.kind == spec_ops.SKIP:
    if bp.residual:
      return layers.Skip(bp.in_width.max, bp.out_width.max, name=name)
    return layers.ConvBNAct(bp.out_width.max, 1, strides=bp.stride, **common)
  if info.kind == spec_ops.IR_POOL:
    return layers.IRPool(bp.out_width.max, cp.max_mid, **common)
  # _g2 groups both 1x1 convs (FBNet's group-conv candidates).
  return MaskedInvertedResidual(
      bp.in_width.max, bp.out_width.max, cp.max_mid, residual=bp.residual,
      expand=cp.needs_expand, kernel_size=info.kernel, strides=bp.stride,
      se_channels=cp.max_se, expand_groups=info.expand_groups,
      project_groups=info.expand_groups, **common)


@keras.saving.register_keras_serializable(package="fbnetv2_tf")
class Supernet(keras.Model):
  """The weight-sharing supernet of a SearchSpace; outputs logits.

  Args:
    space: the search space, as a SearchSpace or its JSON dict.
    num_classes: classifier outputs.
    input_channels: image channels.
    mode: Gumbel-softmax mode of every decision (soft, hard, argmax).
    seed: seed of the Gumbel noise.
    recompute_resolutions: recompute the low-resolution branches in the
      backward pass instead of keeping their activations, so peak memory
      stays flat in the number of resolution options (METHOD section 4) at
      the price of one more forward pass of the small maps; False keeps them.
  """

  def __init__(self, space, num_classes=10, input_channels=3, mode="soft",
               seed=None, recompute_resolutions=True, **kwargs):
    super().__init__(**kwargs)
    if isinstance(space, SearchSpace):
      space = space.to_dict()
    self.space_config = dict(space)
    self.num_classes = num_classes
    self.input_channels = input_channels
    self.mode = mode
    self.seed = seed
    self.recompute_resolutions = recompute_resolutions
    self.space = SearchSpace.from_dict(space)
    self.plan: SpacePlan = plan_space(self.space, input_channels)
    self.decision_list = self.space.decisions()
    self.decisions = {
        d.name: ArchDecision(d.size, mode=mode,
                             seed=None if seed is None else seed + i,
                             name=layer_name(d.name))
        for i, d in enumerate(self.decision_list)}
    self.blocks = []
    self.out_masks, self.mid_masks, self.se_masks = [], [], []
    for bp in self.plan.blocks:
      self.blocks.append(MixedBlock(
          [_candidate_layer(bp, cp, f"{bp.name}_c{t}")
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
    self.head = layers.ClassifierHead(num_classes, name="head")
    self.samplers = []
    if len(self.space.input_sizes) > 1:
      factors = self.plan.factors
      self.samplers = [
          ResolutionSampler(factors, bp.in_sizes, bp.out_sizes, bp.lattice_in,
                            bp.lattice_out, recompute_resolutions,
                            name=f"{bp.name}_sampler")
          for bp in self.plan.blocks]
      last = self.plan.blocks[-1]
      self.samplers.append(ResolutionSampler(
          factors, last.out_sizes, None, last.lattice_out, 1,
          name="head_sampler"))

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

  def sample_weights(self) -> dict[str, Any]:
    """Option weights of every decision for one step (Gumbel-softmax)."""
    return {name: d() for name, d in self.decisions.items()}

  def _block_forward(self, i: int, x, w, training):
    bp = self.plan.blocks[i]
    weights_of = lambda d: effective_shape.decision_weights(w, d)  # pylint: disable=unnecessary-lambda-assignment
    out_mask = self.out_masks[i].mask(weights_of(bp.out_width.decision))
    h_in = weights_of(bp.in_width.decision)
    e = weights_of(bp.expansion_decision)
    kwargs = []
    for t, cp in enumerate(bp.candidates):
      # An identity skip takes no mask; every other candidate masks its
      # output, and expanded candidates their mid (and SE) widths too.
      identity = cp.info.kind == spec_ops.SKIP and bp.residual
      k = {} if identity else {"out_mask": out_mask}
      if cp.mid_widths:
        combo = effective_shape.combo_weights(h_in, e, cp)
        k["mid_mask"] = self.mid_masks[i][t].mask(combo)
        if cp.se_widths:
          k["se_mask"] = self.se_masks[i][t].mask(combo)
      kwargs.append(k)
    return self.blocks[i](x, weights=weights_of(bp.op_decision),
                          training=training, candidate_kwargs=kwargs)

  def forward(self, images, weights: Mapping[str, Any], training=None):
    """Logits under given decision weights (e.g. one-hot, for a child)."""
    x = images
    res = weights.get(RESOLUTION)
    # The blocks get the decision weights as arguments, not by closure, so
    # the resolution sampler can differentiate them when it recomputes.
    names = sorted(weights)
    values = [ops.convert_to_tensor(weights[n]) for n in names]
    for i in range(len(self.plan.blocks)):
      def fn(t, *vals, i=i):
        return self._block_forward(i, t, dict(zip(names, vals)), training)
      if self.samplers:
        x = self.samplers[i](x, weights=res, fn=fn, fn_args=values,
                             state=self.blocks[i].non_trainable_variables)
      else:
        x = fn(x, *values)
    head = lambda t: self.head(t, training=training)  # pylint: disable=unnecessary-lambda-assignment
    return self.samplers[-1](x, weights=res, fn=head) if self.samplers else head(x)

  def call(self, inputs, training=None):
    return self.forward(inputs, self.sample_weights(), training=training)

  def expected_cost(self, weights: Mapping[str, Any], metric: str = "mflops",
                    latency_table=None):
    """Differentiable expected cost (MFLOPs, M params or LUT ms)."""
    return effective_shape.expected_cost(self.plan, weights, metric,
                                         self.num_classes, latency_table)

  def one_hot_weights(self, choices: Mapping[str, int]) -> dict[str, np.ndarray]:
    return {d.name: np.eye(d.size, dtype="float32")[choices[d.name]]
            for d in self.decision_list}

  # -- search (bilevel training under model.fit) -------------------------------

  def compile(self, weight_optimizer=None, arch_optimizer=None,
              resource_loss: ResourceLoss | None = None, warmup_epochs=0,
              latency_table=None, **kwargs):
    """Prepares ``fit`` for the search (see ``models.bilevel``).

    Args:
      weight_optimizer: the weights' optimizer (default: SGD of
        ``bilevel.SearchConfig``, constant learning rate).
      arch_optimizer: the logits' optimizer (default: Adam, lr 0.01).
      resource_loss: the architecture step's loss (default: CE only).
      warmup_epochs: epochs that update the weights only.
      latency_table: a LatencyTable, for the ``latency_ms`` metric.
      **kwargs: passed to ``keras.Model.compile`` (e.g. ``steps_per_execution``).
    """
    config = bilevel.SearchConfig()
    kwargs.setdefault("jit_compile", False)  # slower on CPU, and see ARCHITECTURE
    super().compile(optimizer=weight_optimizer or config.weight_optimizer(1),
                    **kwargs)
    self.bilevel = bilevel.BilevelStep(
        self, arch_optimizer or config.arch_optimizer(),
        resource_loss or config.loss, warmup_epochs, latency_table)

  def get_compile_config(self):
    # Optimizers and the resource loss belong to a search run, which
    # restores them from its own checkpoint; a saved supernet reloads
    # uncompiled.
    return None

  @property
  def metrics(self):
    step = getattr(self, "bilevel", None)
    return step.metrics if step is not None else super().metrics

  def train_step(self, data):
    return self.bilevel.train_step(data)

  def test_step(self, data):
    return self.bilevel.test_step(data)

  def fit(self, *args, callbacks=None, **kwargs):
    """``keras.Model.fit`` plus the warm-up switch (``bilevel.ArchPhase``)."""
    callbacks = list(callbacks or [])
    if not any(isinstance(c, bilevel.ArchPhase) for c in callbacks):
      callbacks.append(bilevel.ArchPhase())
    with self.distribute_strategy.scope():
      self.build_for_input()
      self.bilevel.build_optimizers()
    return super().fit(*args, callbacks=callbacks, **kwargs)

  # -- derivation ----------------------------------------------------------------

  def derive_argmax(self, name: str | None = None):
    """FBNetV2: the ArchSpec of every decision's most likely option."""
    return derive.derive_arch(self.space, derive.argmax_choices(self.logits()),
                              name)

  def derive_samples(self, n: int, seed: int = 0):
    """FBNet: ``n`` ArchSpecs sampled from the learned distribution."""
    rng = np.random.default_rng(seed)
    return [derive.derive_arch(self.space,
                               derive.sample_choices(self.logits(), rng),
                               f"{self.space.name}_sample{k}")
            for k in range(n)]

  def get_config(self):
    return {**super().get_config(), "space": self.space_config,
            "num_classes": self.num_classes,
            "input_channels": self.input_channels, "mode": self.mode,
            "seed": self.seed,
            "recompute_resolutions": self.recompute_resolutions}

  def build(self, input_shape=None):
    """Creates every variable by running the network once on zeros."""
    size = self.space.max_input_size
    self.forward(ops.zeros((1, size, size, self.input_channels)),
                 self.one_hot_weights({d.name: 0 for d in self.decision_list}))
    self.built = True

  def build_for_input(self) -> "Supernet":
    """Builds eagerly (call before the first compiled step) and returns self."""
    if not self.built:
      self.build()
    return self
