"""The search model: a supernet network trained by the bilevel search and
derived into an architecture.

``Supernet`` adds to ``models.supernet.SupernetNetwork`` (blocks,
decisions, forward pass, expected cost) what belongs to the search: a
``compile`` that takes a ``SearchConfig``, the bilevel ``train_step`` and
``test_step`` (``search.bilevel``), ``fit``'s adaptation of arrays into
weight and architecture splits (``search.fit_data``), and derivation
(``search.derive``).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from fbnetv2_tf.models.supernet import SupernetNetwork
from fbnetv2_tf.search import bilevel, derive, fit_data
from fbnetv2_tf.search.config import SearchConfig


@keras.saving.register_keras_serializable(package="fbnetv2_tf")
class Supernet(SupernetNetwork):
  """The weight-sharing supernet of a SearchSpace, as the search trains it
  (constructor arguments: those of ``SupernetNetwork``)."""

  def compile(self, optimizer=None, *, search_config: SearchConfig | None = None,
              total_steps: int | None = None, latency_table=None,
              arch_optimizer=None, **kwargs):
    """Prepares ``fit`` for the search (see ``search.bilevel``).

    ``keras.Model.compile``'s signature, with the search's settings as
    keywords: ``optimizer`` is the weights' optimizer, as in Keras.

    Args:
      optimizer: the weights' optimizer (default: the config's SGD).
      search_config: optimizers, warm-up, temperature schedule and loss
        (default: ``SearchConfig()``, CE only).
      total_steps: steps of the whole ``fit``, for the weights' cosine
        learning rate (None: constant).
      latency_table: a LatencyTable, for the ``latency_ms`` metric.
      arch_optimizer: the logits' optimizer (default: the config's Adam).
      **kwargs: passed to ``keras.Model.compile`` (e.g. ``steps_per_execution``,
        ``jit_compile``).

    Under a ``mixed_float16`` policy (the supernet's, from when it was made)
    Keras wraps the weights' optimizer in a ``LossScaleOptimizer``, and this
    method wraps the logits' optimizer likewise (unless
    ``auto_scale_loss=False``): the cross-entropy's gradient reaches the
    logits through float16 activations too. The logits and the inner
    optimizer's slots stay float32.
    """
    if isinstance(optimizer, SearchConfig):
      raise TypeError("Supernet.compile takes the SearchConfig as "
                      "search_config=...; its first argument is the weights' "
                      "optimizer, as in keras.Model.compile")
    config = search_config or SearchConfig()
    # XLA broke the two-optimizer step under two replicas and made CPU steps
    # slower when tried, so it is off unless asked for.
    kwargs.setdefault("jit_compile", False)
    super().compile(
        optimizer=optimizer or config.weight_optimizer(total_steps), **kwargs)
    arch_optimizer = arch_optimizer or config.arch_optimizer()
    if (self.dtype_policy.name == "mixed_float16"
        and kwargs.get("auto_scale_loss", True)
        and not isinstance(arch_optimizer,
                           keras.optimizers.LossScaleOptimizer)):
      arch_optimizer = keras.optimizers.LossScaleOptimizer(
          arch_optimizer, name="arch_loss_scale_optimizer")
    self.bilevel = bilevel.BilevelStep(self, arch_optimizer, config,
                                       latency_table)

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
    return self._reducible(self.bilevel.train_step(data))

  def test_step(self, data):
    return self._reducible(self.bilevel.test_step(data))

  def _reducible(self, logs):
    # Under MultiWorkerMirroredStrategy Keras averages each logged value
    # across workers along axis 0, which a scalar lacks (ValueError); a
    # one-element vector averages to the scalar.
    if isinstance(self.distribute_strategy,
                  tf.distribute.MultiWorkerMirroredStrategy):
      return {k: ops.reshape(v, (1,)) for k, v in logs.items()}
    return logs

  def fit(self, x=None, y=None, batch_size=None, epochs=1, callbacks=None,
          **kwargs):
    """``keras.Model.fit`` for the search.

    Takes ``x, y`` arrays, which it splits into weight and architecture
    data, or a dataset of ``((x_w, x_a), (y_w, y_a))`` batches (see
    ``search.fit_data``). Adds the search's own callbacks unless given: the
    warm-up switch (``bilevel.ArchPhase``) and the temperature schedule
    (``bilevel.TemperatureAnnealing``). The input channels come from the
    data when the supernet is not built yet.

    Raises:
      ValueError: the data is in neither format (one line that names both).
    """
    if not hasattr(self, "bilevel"):
      raise ValueError("call Supernet.compile() before fit()")
    if isinstance(x, (np.ndarray, list)):
      x, steps = fit_data.arrays_to_search_dataset(
          x, y, self.space.max_input_size, batch_size, epochs,
          self.seed or 0, kwargs.get("initial_epoch", 0))
      y, batch_size = None, None
      kwargs.setdefault("steps_per_epoch", steps)
      kwargs["shuffle"] = False  # the dataset orders each epoch itself
    elif not fit_data.is_paired(x):
      raise ValueError(f"Supernet.fit takes {fit_data.FORMATS}; got "
                       f"{type(x).__name__}")
    if not self.built:
      self.adopt_input_channels(fit_data.image_channels(x))
    callbacks = list(callbacks or [])
    for kind in (bilevel.ArchPhase, bilevel.TemperatureAnnealing):
      if not any(isinstance(c, kind) for c in callbacks):
        callbacks.append(kind())
    with self.distribute_strategy.scope():
      self.build_for_input()
      self.bilevel.build_optimizers()
    return super().fit(x, y, batch_size=batch_size, epochs=epochs,
                       callbacks=callbacks, **kwargs)

  def _maybe_symbolic_build(self, iterator=None, data_batch=None):
    # Under a strategy Keras first reduces one distributed batch to a single
    # one ("MEAN") to build the model symbolically; MultiWorkerMirroredStrategy
    # cannot reduce a batch of images that way (ValueError on a PerReplica).
    # fit() has built the supernet and both optimizers eagerly already.
    if not self.built:
      super()._maybe_symbolic_build(iterator, data_batch)

  def derivation(self, target: float | None = None, metric: str = "mflops",
                 name: str | None = None, latency_table=None,
                 band: float = 0.9, fill: float | None = None
                 ) -> derive.Derivation:
    """The searched architecture with how it was reached: the argmax child,
    brought into ``[band * target, target]`` when a target is given (see
    ``search.derive.fit_budget``).

    Args:
      target: the budget in ``metric``'s unit, or None for the plain argmax.
      metric: mflops, mparams or latency_ms (needs ``latency_table``).
      name: the ArchSpec's name (default: ``SPACE_searched``).
      latency_table: a LatencyTable, for ``latency_ms``.
      band: the lowest acceptable fraction of the target.
      fill: then fill the child towards ``fill * target`` (None: stop in
        the band; see ``search.derive.fit_budget``).

    ``search.evaluation.derive_by_evaluation`` derives by scoring
    candidates instead (it needs data).
    """
    cost_of = derive.child_cost(self.space, metric, self.num_classes,
                                self.input_channels, latency_table)
    choices, changes = derive.derive_within_budget(
        self.space, self.logits(), cost_of, target, band, fill)
    arch = derive.derive_arch(self.space, choices,
                              name or f"{self.space.name}_searched")
    return derive.Derivation(arch, choices, changes, cost_of(choices))

  def derive(self, target: float | None = None, metric: str = "mflops",
             name: str | None = None, latency_table=None, band: float = 0.9):
    """The ArchSpec of :meth:`derivation`."""
    return self.derivation(target, metric, name, latency_table, band).arch

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
