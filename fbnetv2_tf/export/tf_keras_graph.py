"""A Keras 3 child model rebuilt, layer for layer, as a tf_keras model.

tensorflow-model-optimization's quantization-aware training only accepts
tf_keras (Keras 2) models. Rather than a second builder that could drift
from ``build_child_model``, the tf_keras model is translated from the Keras
3 graph that builder made: every node becomes the tf_keras layer of the same
class and configuration, wired the same way, with the same weights. A child
model holds only standard layers plus ``ChannelShuffle``, which becomes
tf_keras' Reshape, Permute, Reshape.

Only the QAT process imports this module (it imports tf_keras).
"""

from __future__ import annotations

import inspect

import keras
import tensorflow as tf
import tf_keras

from fbnetv2_tf.layers.channel_shuffle import ChannelShuffle

# Call arguments Keras 3 records that tf_keras layers take implicitly.
_DROPPED_CALL_KWARGS = frozenset({"training", "mask"})


def _init_parameters(cls) -> set[str]:
  names = set()
  for klass in cls.__mro__:
    if klass is object:
      break
    names.update(inspect.signature(klass.__init__).parameters)
  return names - {"self", "args", "kwargs"}


def _layer_config(layer: keras.layers.Layer, cls) -> dict:
  """The Keras 3 config cut to what ``cls.__init__`` takes.

  Initializers, regularizers and constraints are dropped: the weights are
  copied, and the fine-tuning recipe sets its own decay. Keras 3's dtype
  policy objects become the float32 tf_keras expects.
  """
  accepted = _init_parameters(cls) | {"name", "trainable"}
  config = {key: value for key, value in layer.get_config().items()
            if key in accepted
            and not key.endswith(("_initializer", "_regularizer",
                                  "_constraint"))}
  config["dtype"] = "float32"
  if config.get("activation") in _ACTIVATIONS:
    config["activation"] = _ACTIVATIONS[config["activation"]]
  return config


def hard_swish(x):
  """``x * relu6(x + 3) / 6``: Keras 3's ``hard_silu``, which tf_keras lacks.
  The TFLite converter fuses this pattern into one HARD_SWISH op."""
  return x * tf.nn.relu6(x + 3.0) * (1.0 / 6.0)


def delegable_hard_swish(x):
  """h-swish as ``relu6(x + 3) * (x / 6)``, which the converter does not
  fold into HARD_SWISH (``export.hswish``, which says why in this order)."""
  return tf.nn.relu6(x + 3.0) * (x * (1.0 / 6.0))


def hard_sigmoid(x):
  """``relu6(x + 3) / 6``, Keras 3's ``hard_sigmoid``. tf_keras has a
  function of that name with another slope (``0.2 x + 0.5``, clipped)."""
  return tf.nn.relu6(x + 3.0) * (1.0 / 6.0)


# Keras 3 activation names that tf_keras lacks or defines differently.
_ACTIVATIONS = {"hard_silu": hard_swish, "hard_swish": hard_swish,
                "hard_sigmoid": hard_sigmoid}
# Each h-swish form's function (``export.hswish.FORMS``).
HSWISH_FUNCTIONS = {"fused": hard_swish, "delegable": delegable_hard_swish}


def is_hard_swish(layer) -> bool:
  """A tf_keras Activation layer (quantize-wrapped or not) computing
  h-swish in either form."""
  layer = getattr(layer, "layer", layer)  # QuantizeWrapper keeps it here
  return (isinstance(layer, tf_keras.layers.Activation)
          and layer.activation in HSWISH_FUNCTIONS.values())


def set_hswish_form(model: tf_keras.Model, form: str) -> int:
  """Switches every h-swish activation of ``model`` to ``form`` in place
  (the function only: weights and quantizers stay); returns how many. A
  model traced afterwards computes the new form."""
  layers = [getattr(l, "layer", l) for l in model.layers if is_hard_swish(l)]
  for layer in layers:
    layer.activation = HSWISH_FUNCTIONS[form]
  return len(layers)


def _channel_shuffle(layer: ChannelShuffle, x):
  height, width, channels = x.shape[1:]
  groups, name = layer.groups, layer.name
  x = tf_keras.layers.Reshape((height, width, groups, channels // groups),
                              name=f"{name}_split")(x)
  x = tf_keras.layers.Permute((1, 2, 4, 3), name=f"{name}_swap")(x)
  return tf_keras.layers.Reshape((height, width, channels),
                                 name=f"{name}_merge")(x)


def _translate_layer(layer: keras.layers.Layer) -> tf_keras.layers.Layer:
  name = type(layer).__name__
  cls = getattr(tf_keras.layers, name, None)
  if cls is None:
    raise ValueError(f"layer {layer.name!r} of class {name} has no tf_keras "
                     "counterpart; QAT supports child models of standard "
                     "layers")
  return cls(**_layer_config(layer, cls))


def to_tf_keras(model: keras.Model) -> tf_keras.Model:
  """``model`` (a single-input functional Keras 3 model) as tf_keras, with
  its weights. The batch dimension is left free for fine-tuning."""
  (source_input,) = model.inputs
  tensors = {id(source_input): tf_keras.Input(
      shape=source_input.shape[1:], name=source_input.name)}
  copies = []

  def mapped(value):
    if isinstance(value, keras.KerasTensor):
      return tensors[id(value)]
    if isinstance(value, (list, tuple)):
      return type(value)(mapped(v) for v in value)
    return value

  for depth in sorted(model._nodes_by_depth, reverse=True):  # pylint: disable=protected-access
    for node in model._nodes_by_depth[depth]:  # pylint: disable=protected-access
      layer = node.operation
      if isinstance(layer, keras.layers.InputLayer):
        continue
      args = mapped(list(node.arguments.args))
      kwargs = {k: mapped(v) for k, v in node.arguments.kwargs.items()
                if k not in _DROPPED_CALL_KWARGS}
      if isinstance(layer, ChannelShuffle):
        output = _channel_shuffle(layer, *args)
      else:
        new = _translate_layer(layer)
        output = new(*args, **kwargs)
        copies.append((layer, new))
      (source_output,) = node.outputs
      tensors[id(source_output)] = output
  rebuilt = tf_keras.Model(tensors[id(model.inputs[0])],
                           tensors[id(model.outputs[0])], name=model.name)
  for layer, new in copies:
    new.set_weights(layer.get_weights())
  return rebuilt
