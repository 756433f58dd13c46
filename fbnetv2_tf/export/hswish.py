"""The form h-swish takes in an exported graph: one fused op, or elementwise
ops that LiteRT's XNNPACK delegate runs in int8.

h-swish is ``x * relu6(x + 3) / 6`` (Howard et al. 2019). Written in any of
the usual ways, the TFLite converter folds it into one ``HARD_SWISH`` op.
XNNPACK takes ``HARD_SWISH`` in float only, so in an int8 file every
h-swish runs on LiteRT's builtin kernel and splits the graph into one
XNNPACK partition more. Measured here (docs/benchmarks/export_table.md):
FBNetV2-F4 int8 ran 2.2x slower than its fp32 file, in 35 partitions.

``delegable`` writes the same function as ``relu6(x + 3) * (x / 6)``: the
converter does not fold it, and what remains is one ADD with a fused
RELU6, one MUL by a constant and one MUL of two tensors, all of which
XNNPACK runs in int8. It is the same function in float (rounding aside) and
costs two extra elementwise ops in float, where the fused op is faster; the
export picks a form per file by timing both (``fbnetv2-export
--hswish=auto``).

The spelling matters in int8. On the Fashion-MNIST child of
docs/benchmarks/export_table.md (10,000 test images; fused int8 0.8839,
float 0.8860) this order scored 0.8818, ``0.5x * clip(x / 3, -1, 1) +
0.5x`` (four ops) 0.8820, but the same three ops as ``(x / 6) * relu6(x +
3)`` 0.8725; ``x * (relu6(x + 3) / 6)`` is folded back into HARD_SWISH.

The squeeze-excite gate's hard-sigmoid, ``relu6(x + 3) / 6``, converts to an
ADD with a fused RELU6 and a MUL, which XNNPACK takes in int8 already: it
needs no second form.
"""

from __future__ import annotations

# keras is imported where it is used: the names of the forms and their
# rule are read by latency tables and flags without TensorFlow.

FUSED = "fused"
DELEGABLE = "delegable"
FORMS = (FUSED, DELEGABLE)
# Export only: convert both forms, keep the faster on the runner.
AUTO = "auto"
# Files that compute in int8 between their float ends (export modes and
# latency-table dtypes).
INTEGER_MODES = ("int8", "qat")
# Keras 3's names for h-swish; ``hard_swish`` is an alias of ``hard_silu``.
_HSWISH_NAMES = frozenset({"hard_silu", "hard_swish"})


def delegable_hard_swish(x):
  """h-swish as ``relu6(x + 3) * (x / 6)``, which the converter leaves as
  three elementwise ops (the module doc says why in this order)."""
  import keras  # pylint: disable=g-import-not-at-top
  return keras.ops.relu6(x + 3.0) * (x * (1.0 / 6.0))


def is_hard_swish(layer) -> bool:
  """Whether ``layer`` is a Keras ``Activation`` computing h-swish (the
  child builder's and keras.applications MobileNetV3's)."""
  import keras  # pylint: disable=g-import-not-at-top
  if not isinstance(layer, keras.layers.Activation):
    return False
  activation = getattr(layer.activation, "__name__", "")
  return activation in _HSWISH_NAMES


def count_hard_swish(model) -> int:
  """How many top-level h-swish activation layers ``model`` has."""
  return sum(is_hard_swish(layer) for layer in model.layers)


def default_form(mode: str) -> str:
  """The form measured faster here for a file of ``mode`` (an export mode
  or a latency table's dtype): delegable for int8, fused for float. What a
  latency table is built with unless told otherwise, and what an export
  keeps when it does not time both."""
  return DELEGABLE if mode in INTEGER_MODES else FUSED


def check_form(form: str) -> None:
  if form not in FORMS:
    raise ValueError(f"unknown h-swish form {form!r}; known: "
                     f"{', '.join(FORMS)}")


def with_hswish_form(model, form: str):
  """``model`` with its h-swish activations in ``form``.

  ``fused`` and a model without h-swish give ``model`` itself. Otherwise a
  functional clone whose every other layer is the original layer object,
  so the weights are shared, not copied; only the activation layers are
  new (they have no weights).
  """
  import keras  # pylint: disable=g-import-not-at-top
  check_form(form)
  if form == FUSED or not count_hard_swish(model):
    return model

  def clone(layer):
    if is_hard_swish(layer):
      return keras.layers.Activation(delegable_hard_swish, name=layer.name)
    return layer

  return keras.models.clone_model(model, clone_function=clone)
