"""Resolution subsampling (FBNetV2, arXiv 2004.05565, section 3.2).

Every feature map lives on the lattice of the largest resolution. Option
``j`` (factor ``f_j = largest / size_j``) owns the lattice positions
``floor(k * f_j)``, ``k < size_j``: ``X[:, ::r, ::r]`` for an integer factor
``r``, nearest-neighbour positions otherwise. An op runs on the gathered small
map (so its receptive field is that of the real low-resolution network) and
its output is written back to the same positions of the output lattice, zeros
elsewhere: ``Y = sum_j g_j D_j``.
"""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops


def _recomputed(fn, state):
  """``(x, w, *args) -> w * fn(x, *args)`` whose activations are recomputed
  in the backward pass, so the forward pass keeps only its inputs.

  Every tensor ``fn`` depends on must come in ``args``: a custom gradient
  does not differentiate tensors a function closes over, so decision weights
  captured by ``fn`` would silently get no gradient. The option weight ``w``
  is an input too rather than a multiply outside, which would keep
  ``fn(x)`` alive for its gradient. A hand-written ``tf.custom_gradient``
  rather than ``tf.recompute_grad`` so the second run can restore ``state``:
  inside a ``tf.function`` the reads, the re-run and the restoring assigns
  keep program order (automatic control dependencies on the variables).
  """
  import tensorflow as tf  # pylint: disable=g-import-not-at-top

  @tf.custom_gradient
  def run(x, w, *args):
    y = w * fn(x, *args)

    def grad(dy, variables=None):
      with tf.control_dependencies([dy]):  # not before the gradient exists
        inputs_again = [tf.identity(t) for t in (x,) + args]
      saved = [tf.identity(v.value) for v in state]
      with tf.GradientTape() as tape:
        tape.watch(inputs_again)
        y_again = fn(*inputs_again)
      variables = list(variables or [])
      grads = tape.gradient(y_again, inputs_again + variables,
                            output_gradients=w * dy)
      dw = tf.reduce_sum(dy * y_again)
      with tf.control_dependencies(grads[:1] + [dw]):
        for v, value in zip(state, saved):
          v.assign(value)
      n = len(inputs_again)
      return (grads[0], dw, *grads[1:n]), grads[n:]

    return y, grad

  return run


def lattice_positions(size: int, factor: float) -> np.ndarray:
  """Lattice rows of an option's ``size`` rows at subsampling ``factor``."""
  return np.floor(np.arange(size) * factor + 1e-9).astype("int32")


def _scatter_index(positions: np.ndarray, lattice: int) -> np.ndarray:
  """For each lattice row, the small-map row it comes from, or ``size``
  (a zero row appended to the small map) where no option row lands."""
  index = np.full(lattice, len(positions), "int32")
  index[positions] = np.arange(len(positions), dtype="int32")
  return index


@keras.saving.register_keras_serializable(package="fbnetv2_tf")
class ResolutionSampler(keras.layers.Layer):
  """Mixes an op over resolution options on one shared lattice.

  Args:
    factors: subsampling factor of each option (1.0 is full resolution).
    in_sizes: the op's input size under each option.
    out_sizes: the op's output size under each option, or None when the op
      returns no spatial map (a classifier).
    lattice_in: input lattice size (the size under factor 1).
    lattice_out: output lattice size.
    recompute: run the low-resolution branches again in the backward pass
      instead of keeping their activations (TensorFlow backend).
  """

  def __init__(self, factors, in_sizes, out_sizes, lattice_in, lattice_out,
               recompute=False, **kwargs):
    super().__init__(**kwargs)
    self.recompute = recompute
    self.factors = tuple(float(f) for f in factors)
    self.in_sizes = tuple(int(s) for s in in_sizes)
    self.out_sizes = None if out_sizes is None else tuple(int(s) for s in out_sizes)
    self.lattice_in = int(lattice_in)
    self.lattice_out = int(lattice_out)
    self._gather = [lattice_positions(s, f)
                    for s, f in zip(self.in_sizes, self.factors)]
    self._scatter = None if self.out_sizes is None else [
        _scatter_index(lattice_positions(s, f), self.lattice_out)
        for s, f in zip(self.out_sizes, self.factors)]
    for rows in self._gather:
      if rows[-1] >= self.lattice_in:
        raise ValueError(f"option rows {rows} exceed lattice {lattice_in}")

  def _is_full(self, j: int) -> bool:
    return self.in_sizes[j] == self.lattice_in

  def gather(self, x, j: int):
    """``B_j``: the option's rows and columns of a lattice map."""
    if self._is_full(j):
      return x
    rows = self._gather[j]
    return ops.take(ops.take(x, rows, axis=1), rows, axis=2)

  def scatter(self, y, j: int):
    """``D_j``: a small output map written back onto the output lattice."""
    if self.out_sizes is None or self.out_sizes[j] == self.lattice_out:
      return y
    index = self._scatter[j]
    y = ops.pad(y, [[0, 0], [0, 1], [0, 1], [0, 0]])  # the zero row/column
    return ops.take(ops.take(y, index, axis=1), index, axis=2)

  def call(self, inputs, weights, fn, state=(), fn_args=()):
    """``sum_j g_j D_j`` with ``D_j = scatter(fn(gather(x, j), *fn_args))``.

    ``fn_args`` are the tensors besides the map that ``fn`` depends on and
    that need gradients (decision weights); with ``recompute`` they must be
    passed here rather than captured by ``fn``.

    The weight scales the small map before the scatter, so the backward pass
    keeps only small maps for the weights' gradient. With ``recompute``, the
    low-resolution branches keep nothing: the backward pass runs them again,
    and ``state`` (variables ``fn`` updates, e.g. BatchNorm moving averages)
    is restored after that second run so each step updates it once.
    """
    total = None
    for j in range(len(self.factors)):
      small = self.gather(inputs, j)
      if self.recompute and not self._is_full(j):
        weighted = _recomputed(fn, state)(small, weights[j], *fn_args)
      else:
        weighted = weights[j] * fn(small, *fn_args)
      d = self.scatter(weighted, j)
      total = d if total is None else total + d
    return total

  def compute_fraction(self) -> float:
    """Compute of one mixed op relative to the full-resolution op:
    ``sum_j (size_j / lattice)^2`` (``sum_j 1 / r_j^2`` for integer r)."""
    return math.fsum((s / self.lattice_in) ** 2 for s in self.in_sizes)

  def get_config(self):
    return {**super().get_config(), "factors": list(self.factors),
            "in_sizes": list(self.in_sizes),
            "out_sizes": None if self.out_sizes is None else list(self.out_sizes),
            "lattice_in": self.lattice_in, "lattice_out": self.lattice_out,
            "recompute": self.recompute}
