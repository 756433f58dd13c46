"""Quantization-aware training (QAT) with tensorflow-model-optimization, in
a process of its own.

tfmot 0.8 quantizes only tf_keras (Keras 2) models and switches the process
that imports it to legacy Keras, so this module is run, never imported:

  python -m fbnetv2_tf.export.qat --model=CHILD.keras --output=CHILD.qat.tflite \
      --dataset=fashion_mnist --epochs=1

It loads the trained Keras 3 child, rebuilds it in tf_keras with the same
weights (``tf_keras_graph``), wraps it with fake quantization
(``quantize_model`` with the default 8-bit scheme, plus an output quantizer
for the layers that scheme does not know), fine-tunes it on the training
split and writes a full-integer int8 TFLite file. User mistakes print one
``error:`` line and exit 1; the parent (``fbnetv2_tf.export.pipeline``)
passes that line on.
"""

from __future__ import annotations

import argparse
import os
import sys

# tfmot imports tf.keras, which must be tf_keras; set before TensorFlow loads.
os.environ["TF_USE_LEGACY_KERAS"] = "1"

# pylint: disable=g-import-not-at-top,wrong-import-position
import numpy as np
import tensorflow as tf
import tensorflow_model_optimization as tfmot
import tf_keras

from fbnetv2_tf import cli
from fbnetv2_tf.export import tf_keras_graph, tflite
from fbnetv2_tf.specs import files

_qk = tfmot.quantization.keras
# Activations the default 8-bit scheme quantizes itself (its registry).
_KNOWN_ACTIVATIONS = frozenset({"relu", "swish", "gelu", "relu6", "linear",
                                "softmax", "sigmoid", "tanh"})


class OutputQuantizeConfig(_qk.QuantizeConfig):
  """Fake-quantizes a weightless layer's output to 8 bits: h-swish and
  hard-sigmoid activations and the squeeze-excite Multiply, which the
  default scheme leaves unhandled. Int8 TFLite kernels for these ops take
  an input and output scale; this learns the output one."""

  def get_weights_and_quantizers(self, layer):
    return []

  def get_activations_and_quantizers(self, layer):
    return []

  def set_quantize_weights(self, layer, quantize_weights):
    pass

  def set_quantize_activations(self, layer, quantize_activations):
    pass

  def get_output_quantizers(self, layer):
    return [_qk.quantizers.MovingAverageQuantizer(
        num_bits=8, per_axis=False, symmetric=False, narrow_range=False)]

  def get_config(self):
    return {}


def _needs_output_quantizer(layer) -> bool:
  if isinstance(layer, tf_keras.layers.Multiply):
    return True
  return (isinstance(layer, tf_keras.layers.Activation)
          and getattr(layer.activation, "__name__", "") not in
          _KNOWN_ACTIVATIONS)


def quantize_aware(model: tf_keras.Model) -> tf_keras.Model:
  """``model`` with fake quantization, its float weights kept."""

  def annotate(layer):
    # The clone function returns the layer itself, so weights are shared.
    if _needs_output_quantizer(layer):
      return _qk.quantize_annotate_layer(layer, OutputQuantizeConfig())
    return layer

  annotated = _qk.quantize_annotate_model(
      tf_keras.models.clone_model(model, clone_function=annotate))
  with _qk.quantize_scope({
      "OutputQuantizeConfig": OutputQuantizeConfig,
      "hard_swish": tf_keras_graph.hard_swish,
      "hard_sigmoid": tf_keras_graph.hard_sigmoid}):
    return _qk.quantize_apply(annotated)


def fine_tune(model: tf_keras.Model, data, epochs: int, batch_size: int,
              learning_rate: float, seed: int) -> None:
  """SGD with momentum, cosine learning rate, the training augmentation."""
  from fbnetv2_tf import data as data_lib
  dataset, steps = data_lib.train_dataset(
      data.train_images, data.train_labels, batch_size, seed, epochs,
      flip=data.flip)
  schedule = tf_keras.optimizers.schedules.CosineDecay(
      learning_rate, decay_steps=max(1, epochs * steps))
  model.compile(
      optimizer=tf_keras.optimizers.SGD(schedule, momentum=0.9),
      loss=tf_keras.losses.SparseCategoricalCrossentropy(from_logits=True),
      metrics=["accuracy"])
  model.fit(dataset, epochs=epochs, steps_per_epoch=steps, verbose=2)


def to_int8_tflite(model: tf_keras.Model, calibration_images: np.ndarray,
                   int8_io: bool) -> bytes:
  """Full-integer TFLite with batch 1. The ranges come from the fake-quant
  nodes; the converter still asks for representative images when only int8
  kernels are allowed, and uses them for any tensor without a range."""
  shape = [1, *model.inputs[0].shape[1:]]
  function = tf.function(lambda x: model(x, training=False))
  concrete = function.get_concrete_function(tf.TensorSpec(shape, tf.float32))
  converter = tf.lite.TFLiteConverter.from_concrete_functions([concrete],
                                                              model)
  tflite.configure_int8(converter, calibration_images, int8_io)
  return converter.convert()


def _parse(argv):
  parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
  parser.add_argument("--model", required=True)
  parser.add_argument("--output", required=True)
  parser.add_argument("--dataset", required=True)
  parser.add_argument("--data_dir")
  parser.add_argument("--epochs", type=int, default=1)
  parser.add_argument("--batch_size", type=int, default=64)
  parser.add_argument("--learning_rate", type=float, default=1e-3)
  parser.add_argument("--max_train_images", type=int)
  parser.add_argument("--input_pipeline", default="auto")
  parser.add_argument("--bad_files", default="fail")
  parser.add_argument("--int8_io", action="store_true")
  # One file per h-swish form of the one fine-tuned model (the forms are
  # the same function in float, so fine-tuning does not depend on it);
  # with several forms, --output holds "{form}".
  parser.add_argument("--forms", default="fused")
  parser.add_argument("--seed", type=int, default=0)
  return parser.parse_args(argv)


def main(argv=None) -> None:
  args = _parse(argv)
  forms = _forms(args)
  from fbnetv2_tf.export import sources
  from fbnetv2_tf.training import run_setup
  model = sources.load_keras_model(args.model)
  size = model.inputs[0].shape[1]
  data = run_setup.load_data(args.dataset, args.data_dir, size,
                             args.max_train_images, args.seed,
                             args.input_pipeline, args.bad_files)
  sources.check_data_fits(model, data)
  tf_keras.utils.set_random_seed(args.seed)
  qat_model = quantize_aware(tf_keras_graph.to_tf_keras(model))
  fine_tune(qat_model, data, args.epochs, args.batch_size,
            args.learning_rate, args.seed)
  calibration = tflite.calibration_sample(data, args.seed)
  for form in forms:
    switched = tf_keras_graph.set_hswish_form(qat_model, form)
    if len(forms) > 1 and not switched:
      # Both files would hold one graph under two forms' names.
      raise cli.UserError(f"model {args.model!r} has no h-swish to write "
                          "in several forms")
    flatbuffer = to_int8_tflite(qat_model, calibration, args.int8_io)
    files.write_atomically(args.output.replace("{form}", form), flatbuffer)


def _forms(args) -> list[str]:
  forms = args.forms.split(",")
  unknown = [f for f in forms if f not in tf_keras_graph.HSWISH_FUNCTIONS]
  if unknown:
    raise cli.UserError(f"unknown h-swish form {','.join(unknown)!r}; known: "
                        f"{', '.join(tf_keras_graph.HSWISH_FUNCTIONS)}")
  if len(forms) > 1 and "{form}" not in args.output:
    raise cli.UserError("several h-swish forms need '{form}' in --output")
  return forms


if __name__ == "__main__":
  try:
    main()
  except cli.USER_ERRORS as e:
    print(f"error: {str(e).splitlines()[0]}", file=sys.stderr)
    sys.exit(1)
