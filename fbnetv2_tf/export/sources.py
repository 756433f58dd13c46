"""The Keras model to export: a trained ``.keras`` file, or an architecture
with optional weights. Every way a user's file can be wrong is a one-line
``UserError``."""

from __future__ import annotations

import os
import zipfile

import keras

from fbnetv2_tf import layers  # noqa: F401  registers the custom layers
from fbnetv2_tf.errors import UserError
from fbnetv2_tf.models.child_model import build_child_model
from fbnetv2_tf.specs.arch_spec import ArchSpec


def _first_line(error: Exception) -> str:
  text = str(error).strip()
  return text.splitlines()[0] if text else type(error).__name__


def load_keras_model(path: str) -> keras.Model:
  """A model saved by ``fbnetv2-train`` (or any single-image-input model)."""
  if not os.path.isfile(path):
    raise UserError(f"model {path!r}: no such file")
  if not path.endswith(".keras") or not zipfile.is_zipfile(path):
    raise UserError(f"model {path!r} is not a .keras file (the zip archive "
                    "that fbnetv2-train and model.save write)")
  try:
    model = keras.saving.load_model(path, compile=False)
  except Exception as e:  # pylint: disable=broad-except
    # Keras raises many types for a damaged archive; all mean the same here.
    raise UserError(f"model {path!r} could not be loaded: "
                    f"{_first_line(e)}") from e
  check_exportable(model, f"model {path!r}")
  return model


def check_exportable(model: keras.Model, what: str) -> None:
  """One image input of fixed size and one output, as export needs."""
  if len(model.inputs) != 1 or len(model.outputs) != 1:
    raise UserError(f"{what}: export takes a model with one input and one "
                    f"output, this one has {len(model.inputs)} and "
                    f"{len(model.outputs)}")
  shape = model.inputs[0].shape
  if len(shape) != 4 or any(d is None for d in shape[1:]):
    raise UserError(f"{what}: export needs a fixed [height, width, channels] "
                    f"image input, this model takes {shape}")


def model_for_arch(arch: ArchSpec, weights: str | None, num_classes: int,
                   input_channels: int = 3) -> keras.Model:
  """Builds ``arch`` and loads ``weights`` (a ``.keras`` or ``.weights.h5``
  file of the same architecture) into it."""
  model = build_child_model(arch, num_classes=num_classes,
                            input_channels=input_channels)
  if weights is None:
    return model
  if not os.path.isfile(weights):
    raise UserError(f"weights {weights!r}: no such file")
  try:
    model.load_weights(weights)
  except Exception as e:  # pylint: disable=broad-except
    raise UserError(f"weights {weights!r} do not fit {arch.name} with "
                    f"{num_classes} classes and {input_channels} input "
                    f"channels: {_first_line(e)}") from e
  return model


def check_data_fits(model: keras.Model, data) -> None:
  """The dataset's images and classes match what ``model`` takes and gives."""
  channels = model.inputs[0].shape[-1]
  if data.image_shape[2] != channels:
    raise UserError(f"{data.name} images have {data.image_shape[2]} "
                    f"channel(s), model {model.name!r} takes {channels}")
  classes = model.outputs[0].shape[-1]
  if data.num_classes != classes:
    raise UserError(f"{data.name} has {data.num_classes} classes, model "
                    f"{model.name!r} outputs {classes}")
