"""The bilevel search step (docs/method.md, section 7) and its callbacks.

Each training step takes one batch of the weight split and one of the
architecture split (``((x_w, x_a), (y_w, y_a))``, as
``fbnetv2_tf.data.search_dataset`` yields them) and makes two updates:

1. weights: cross-entropy under freshly sampled decision weights (blends of
   the learned distribution, and one-hot children of the whole space where
   ``SearchConfig.child_share`` asks: ``search.weight_sampling``), the
   model's optimizer (SGD with momentum, cosine learning rate, weight decay);
2. architecture logits: the resource-aware loss (``cost.losses``) under
   another sample, their own optimizer (Adam), skipped in warm-up epochs.

Both samples are drawn per example (``ArchDecision``): a batch of 64 trains
and scores 64 children (or blends) instead of one. Losses are divided by the
number of replicas so that the optimizers' sum over replicas is the mean over
the global batch (``tf.distribute``). Under ``mixed_float16`` both optimizers
are ``LossScaleOptimizer``s (``Supernet.compile``): each loss is scaled before
its gradient, and ``apply`` unscales it and skips a step whose gradients
overflowed; any other optimizer's ``scale_loss`` returns the loss as it is.
"""

from __future__ import annotations

import keras
from keras import ops

from fbnetv2_tf.search.config import SearchConfig
from fbnetv2_tf.search.weight_sampling import WeightSampler


def _replica_scale() -> float:
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return 1.0 / tf.distribute.get_strategy().num_replicas_in_sync


def _cross_entropy(labels, logits):
  return ops.mean(keras.losses.sparse_categorical_crossentropy(
      labels, logits, from_logits=True))


def decision_entropy(logits):
  """Entropy (nats) of ``softmax(logits)``."""
  log_p = ops.log_softmax(logits)
  return -ops.sum(ops.exp(log_p) * log_p)


def _straight_through_argmax(probabilities):
  """The one-hot argmax of ``probabilities`` in the forward pass, their
  gradient in the backward pass: the expected cost of it is the argmax
  child's cost, and its gradient says which options move that cost."""
  one_hot = ops.one_hot(ops.argmax(probabilities), probabilities.shape[-1])
  return probabilities + ops.stop_gradient(one_hot - probabilities)


def _gradient_tape():
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  return tf.GradientTape()


class BilevelStep:
  """Metrics and the train/test steps of a compiled Supernet."""

  def __init__(self, net, arch_optimizer, config: SearchConfig,
               latency_table=None):
    self.net = net
    self.arch_optimizer = arch_optimizer
    self.config = config
    self.loss = config.loss
    self.latency_table = latency_table
    self.weight_sampler = WeightSampler(net, config.child_share,
                                        config.child_sampling)
    # A Python switch, not a tensor: the warm-up phase compiles a step
    # without the architecture update at all (``ArchPhase`` re-makes the
    # train function when the phase changes).
    self.arch_updates = config.warmup_epochs == 0
    self.trackers = {name: keras.metrics.Mean(name=name) for name in (
        "loss", "arch_loss", "arch_ce", "cost", "temperature", "entropy",
        "multiplier")}
    self.accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
    self.arch_accuracy = keras.metrics.SparseCategoricalAccuracy(
        name="arch_accuracy")

  @property
  def warmup_epochs(self) -> int:
    return self.config.warmup_epochs

  @property
  def metrics(self) -> list:
    return [*self.trackers.values(), self.accuracy, self.arch_accuracy]

  def build_optimizers(self) -> None:
    """Creates optimizer slots eagerly (a slot created inside the traced step
    would trace it twice)."""
    self.net.optimizer.build(self.net.weight_variables)
    self.arch_optimizer.build(self.net.arch_variables)

  def expected_cost(self, weights):
    return self.net.expected_cost(weights, self.loss.metric,
                                  self.latency_table)

  def _probabilities(self):
    """``softmax(alpha)`` of every decision, as tensors in the step."""
    return {n: d.probabilities() for n, d in self.net.decisions.items()}

  def _mean_entropy(self):
    decisions = self.net.decisions.values()
    return ops.mean(ops.stack([decision_entropy(d.logits) for d in decisions]))

  def _weight_update(self, images, labels):
    net = self.net
    with _gradient_tape() as tape:
      weights = self.weight_sampler(ops.shape(images)[0])
      logits = net.forward(images, weights, training=True)
      ce = _cross_entropy(labels, logits)
      scaled = net.optimizer.scale_loss(ce * _replica_scale())
    grads = tape.gradient(scaled, net.weight_variables)
    net.optimizer.apply(grads, net.weight_variables)
    self.trackers["loss"].update_state(ce)
    self.accuracy.update_state(labels, logits)

  def arch_logits(self, images, weights):
    """The supernet's logits in the architecture step (a seam for
    ablations that cut the CE path to the decisions)."""
    return self.net.forward(images, weights, training=True)

  def _arch_update(self, images, labels):
    net = self.net
    multiplier = net.cost_multiplier
    with _gradient_tape() as tape:
      weights = net.sample_weights(ops.shape(images)[0])
      logits = self.arch_logits(images, weights)
      ce = _cross_entropy(labels, logits)
      if self.loss.on_probabilities:
        cost_weights = self._probabilities()
        if self.loss.steer == "argmax":
          cost_weights = {n: _straight_through_argmax(p)
                          for n, p in cost_weights.items()}
      else:
        cost_weights = {n: ops.mean(w, axis=0) for n, w in weights.items()}
      cost = self.expected_cost(cost_weights)
      loss = self.loss(ce, cost, multiplier)
      if self.config.entropy_weight:
        loss += self.config.entropy_weight * self._mean_entropy()
      scaled = self.arch_optimizer.scale_loss(loss * _replica_scale())
    grads = tape.gradient(scaled, net.arch_variables)
    # A decision the loss does not reach (e.g. CE cut in an ablation, no
    # cost term) gets a zero gradient rather than failing the step.
    grads = [ops.zeros_like(v) if g is None else g
             for g, v in zip(grads, net.arch_variables)]
    self.arch_optimizer.apply(grads, net.arch_variables)
    if self.loss.form == "budget":
      multiplier.assign_add(self.loss.dual_lr * self.loss.constraint(cost))
    self.trackers["arch_loss"].update_state(loss)
    self.trackers["arch_ce"].update_state(ce)
    self.arch_accuracy.update_state(labels, logits)

  def _log_distribution(self):
    """Cost, temperature, multiplier and mean entropy of the noise-free
    distribution."""
    net = self.net
    self.trackers["cost"].update_state(
        self.expected_cost(self._probabilities()))
    first = next(iter(net.decisions.values()))
    self.trackers["temperature"].update_state(first.temperature)
    self.trackers["multiplier"].update_state(net.cost_multiplier)
    self.trackers["entropy"].update_state(self._mean_entropy())

  def train_step(self, data):
    (x_w, x_a), (y_w, y_a) = data
    self._weight_update(x_w, y_w)
    if self.arch_updates:
      self._arch_update(x_a, y_a)
    self._log_distribution()
    return {m.name: m.result() for m in self.metrics}

  def test_step(self, data):
    """Loss and accuracy of the current argmax child inside the supernet.

    BatchNorm normalises with the batch's statistics, then its moving
    averages are put back: those were gathered over many sampled children
    and need not fit this one (the usual problem of evaluating
    weight-sharing children; ``search.inherit`` recalibrates them).
    """
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    images, labels = data[0], data[1]
    net = self.net
    weights = {n: ops.one_hot(ops.argmax(d.logits), d.num_options)
               for n, d in net.decisions.items()}
    state = net.non_trainable_variables
    saved = [tf.identity(v.value) for v in state]
    logits = net.forward(images, weights, training=True)
    with tf.control_dependencies([logits]):
      for v, value in zip(state, saved):
        v.assign(value)
    self.trackers["loss"].update_state(_cross_entropy(labels, logits))
    self.accuracy.update_state(labels, logits)
    return {"loss": self.trackers["loss"].result(),
            "accuracy": self.accuracy.result()}


class ArchPhase(keras.callbacks.Callback):
  """Switches the architecture update on after the warm-up epochs.

  The supernet adds this callback to every ``fit``; a phase change re-makes
  the compiled train function, so each phase traces once.
  """

  def on_epoch_begin(self, epoch, logs=None):
    step = self.model.bilevel
    wanted = epoch >= step.warmup_epochs
    if wanted != step.arch_updates:
      step.arch_updates = wanted
      self.model.make_train_function(force=True)


class TemperatureAnnealing(keras.callbacks.Callback):
  """Sets every decision's temperature from the compiled config's schedule
  at the start of each epoch (a function of the epoch, the warm-up and
  ``fit``'s ``epochs``, so a resumed run continues it). The supernet adds it
  to every ``fit``."""

  def on_epoch_begin(self, epoch, logs=None):
    step = self.model.bilevel
    epochs = int(self.params.get("epochs") or epoch + 1)
    self.model.set_temperature(step.config.temperature(
        epoch, step.warmup_epochs, epochs))
