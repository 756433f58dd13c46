"""TFLite Metadata for classifiers: written, read back, and the model left
computing the same."""

import dataclasses
import io
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from ai_edge_litert import schema_py_generated as schema
from ai_edge_litert.interpreter import Interpreter
from flatbuffers import number_types
from flatbuffers.table import Table

from fbnetv2_tf.errors import UserError
from fbnetv2_tf.export import metadata, tflite

LABELS = ("cat", "dog", "bird")
# (mode, channels): a grayscale fp32 model and an RGB int8 one.
CASES = (("fp32", 1), ("int8", 3))


def _classifier(channels):
  keras.utils.set_random_seed(channels)
  inputs = keras.Input((8, 8, channels))
  x = keras.layers.Conv2D(4, 3)(inputs)
  x = keras.layers.GlobalAveragePooling2D()(x)
  return keras.Model(inputs, keras.layers.Dense(len(LABELS))(x))


@pytest.fixture(scope="module")
def converted():
  models = {}
  for mode, channels in CASES:
    model = _classifier(channels)
    calibration = tflite.random_calibration(model) if mode == "int8" else None
    models[mode, channels] = tflite.convert_to_tflite(model, mode, calibration)
  return models


def _info(model_channels, **changes):
  per_channel = {"mean": (120.0, 110.0, 100.0), "std": (60.0, 50.0, 40.0)}
  return dataclasses.replace(metadata.ClassifierMetadata(
      name="tiny", labels=LABELS, description="A test classifier.",
      version="2", license="Apache-2.0",
      **(per_channel if model_channels == 3 else {})), **changes)


def _run(flatbuffer, image):
  interpreter = Interpreter(model_content=flatbuffer)
  interpreter.allocate_tensors()
  interpreter.set_tensor(interpreter.get_input_details()[0]["index"], image)
  interpreter.invoke()
  return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


def _image(channels):
  return np.random.default_rng(0).standard_normal(
      (1, 8, 8, channels)).astype(np.float32)


def _metadata_entries(flatbuffer):
  model = schema.ModelT.InitFromPackedBuf(flatbuffer)
  return [(e.name.decode(), e.buffer) for e in model.metadata], model


@pytest.mark.parametrize("mode, channels", CASES)
def test_metadata_reads_back_field_for_field(converted, mode, channels):
  info = _info(channels)
  written = metadata.with_metadata(converted[mode, channels], info)
  assert metadata.read_metadata(written) == dataclasses.replace(
      info, input_size=8, channels=channels)
  fields = metadata.metadata_fields(written)
  assert fields["min_parser_version"] == "1.0.0"
  image, = fields["subgraph_metadata"][0]["input_tensor_metadata"]
  assert image["content"] == {
      "content_properties_type": "ImageProperties",
      "content_properties": {
          "color_space": "RGB" if channels == 3 else "GRAYSCALE",
          "default_size": {"width": 8, "height": 8}}}
  mean, std = np.array(info.mean), np.array(info.std)
  np.testing.assert_allclose(image["stats"]["max"], (255 - mean) / std,
                             rtol=1e-6)
  np.testing.assert_allclose(image["stats"]["min"], -mean / std, rtol=1e-6)
  logits, = fields["subgraph_metadata"][0]["output_tensor_metadata"]
  assert logits["content"]["content_properties_type"] == "FeatureProperties"
  assert logits["associated_files"][0]["type"] == "TENSOR_AXIS_LABELS"
  assert "softmax" in logits["description"]


@pytest.mark.parametrize("mode, channels", CASES)
def test_the_model_computes_the_same_bits(converted, mode, channels):
  plain = converted[mode, channels]
  written = metadata.with_metadata(plain, _info(channels))
  image = _image(channels)
  assert np.array_equal(_run(plain, image), _run(written, image))


@pytest.mark.parametrize("mode, channels", CASES)
def test_tensors_and_signature_take_the_metadata_names(converted, mode,
                                                       channels):
  plain = converted[mode, channels]
  written = metadata.with_metadata(plain, _info(channels))
  interpreter = Interpreter(model_content=written)
  assert interpreter.get_signature_list() == {
      "serving_default": {"inputs": ["image"], "outputs": ["logits"]}}
  assert interpreter.get_input_details()[0]["name"] == "image"
  assert interpreter.get_output_details()[0]["name"] == "logits"
  image = _image(channels)
  result = interpreter.get_signature_runner("serving_default")(image=image)
  assert list(result) == ["logits"]
  assert np.array_equal(result["logits"], _run(plain, image))


def test_rewriting_replaces_metadata_and_labels(converted):
  plain = converted["fp32", 1]
  once = metadata.with_metadata(plain, _info(1))
  assert metadata.with_metadata(once, _info(1)) == once
  renamed = ("ant", "bee", "cow")
  twice = metadata.with_metadata(once, _info(1, labels=renamed, name="v2"))
  entries, model = _metadata_entries(twice)
  assert [name for name, _ in entries] == [
      "min_runtime_version", "CONVERSION_METADATA", "TFLITE_METADATA"]
  assert len(model.buffers) == len(_metadata_entries(once)[1].buffers)
  assert len(model.buffers) == len(_metadata_entries(plain)[1].buffers) + 1
  with zipfile.ZipFile(io.BytesIO(twice)) as zf:
    assert zf.namelist() == ["labels.txt"]
  read = metadata.read_metadata(twice)
  assert (read.name, read.labels) == ("v2", renamed)


def test_labels_are_stored_uncompressed_at_file_offsets(converted):
  written = metadata.with_metadata(converted["fp32", 1], _info(1))
  with zipfile.ZipFile(io.BytesIO(written)) as zf:
    entry, = zf.infolist()
  assert entry.filename == "labels.txt"
  assert entry.compress_type == zipfile.ZIP_STORED
  # Offsets count from the start of the .tflite file, as TFLite Support's
  # readers take them.
  start = entry.header_offset
  assert written[start:start + 4] == b"PK\x03\x04"
  assert b"cat\ndog\nbird\n" in written[start:]


def test_field_ids_follow_the_metadata_schema(converted):
  """Reads the flatbuffer by hand at metadata_schema.fbs's field ids."""
  entries, model = _metadata_entries(
      metadata.with_metadata(converted["int8", 3], _info(3)))
  buffer = bytes(model.buffers[dict(entries)["TFLITE_METADATA"]].data)
  assert buffer[4:8] == b"M001"

  def at(tab, field_id):
    offset = tab.Offset(4 + 2 * field_id)
    assert offset, f"field {field_id} is absent"
    return tab.Pos + offset

  def string(tab, field_id):
    return tab.String(at(tab, field_id)).decode()

  def table(tab, field_id):
    return Table(tab.Bytes, tab.Indirect(at(tab, field_id)))

  def first(tab, field_id):
    start = tab.Vector(at(tab, field_id) - tab.Pos)
    return Table(tab.Bytes, tab.Indirect(start))

  def byte(tab, field_id):
    return tab.Get(number_types.Uint8Flags, at(tab, field_id))

  def floats(tab, field_id):
    return tab.GetVectorAsNumpy(number_types.Float32Flags,
                                at(tab, field_id) - tab.Pos).tolist()

  root = Table(buffer, int.from_bytes(buffer[:4], "little"))
  assert [string(root, i) for i in (0, 1, 2, 4, 5, 7)] == [
      "tiny", "A test classifier.", "2", "fbnetv2_tf", "Apache-2.0", "1.0.0"]
  subgraph = first(root, 3)
  image, logits = first(subgraph, 2), first(subgraph, 3)
  assert (string(image, 0), string(logits, 0)) == ("image", "logits")
  content = table(image, 3)
  assert byte(content, 0) == 2  # ImageProperties
  properties = table(content, 1)
  assert byte(properties, 0) == 1  # RGB
  size = table(properties, 1)
  assert [size.Get(number_types.Uint32Flags, at(size, i)) for i in (0, 1)] == [
      8, 8]
  unit = first(image, 4)
  assert byte(unit, 0) == 1  # NormalizationOptions
  assert [floats(table(unit, 1), i) for i in (0, 1)] == [
      [120.0, 110.0, 100.0], [60.0, 50.0, 40.0]]
  assert floats(table(image, 5), 0) == pytest.approx([2.25, 2.9, 3.875])
  assert floats(table(image, 5), 1) == pytest.approx([-2.0, -2.2, -2.5])
  assert byte(table(logits, 3), 0) == 1  # FeatureProperties
  labels = first(logits, 6)
  assert (string(labels, 0), byte(labels, 2)) == ("labels.txt", 2)


def test_buffers_are_16_byte_aligned(converted):
  written = metadata.with_metadata(converted["int8", 3], _info(3))
  model = schema.Model.GetRootAs(written)
  starts = [model.Buffers(i)._tab.Vector(4)  # pylint: disable=protected-access
            for i in range(model.BuffersLength())
            if not model.Buffers(i).DataIsNone()]
  assert starts and all(start % 16 == 0 for start in starts)


def test_buffers_stored_after_the_flatbuffer_are_moved(tmp_path):
  model = _classifier(1)
  saved = str(tmp_path / "saved_model")
  model.export(saved, format="tf_saved_model", verbose=False,
               input_signature=tflite.input_signature(model))
  converter = tf.lite.TFLiteConverter.from_saved_model(saved)
  converter._experimental_use_buffer_offset = True  # pylint: disable=protected-access
  plain = converter.convert()
  written = metadata.with_metadata(plain, _info(1))
  _, unpacked = _metadata_entries(written)
  external = [b for b in unpacked.buffers if b.offset > 1]
  assert external and all(b.data is None for b in external)
  assert np.array_equal(_run(plain, _image(1)), _run(written, _image(1)))
  assert metadata.read_metadata(metadata.with_metadata(written, _info(1))
                                ).labels == LABELS


@pytest.mark.parametrize("make, message", [
    (lambda: _info(1, labels=("a", "b")), "2 labels for a model with 3"),
    (lambda: _info(1, mean=(1.0, 2.0)), "2 mean values"),
    (lambda: _info(1, std=(0.0,)), r"std \(0.0,\) must be > 0"),
    (lambda: _info(1, labels=("a", "b\nc", "d")), "label 1"),
    (lambda: _info(1, labels=("a", " ", "d")), "label 1"),
    (lambda: _info(1, channels=3), "channels 3, the model's is 1"),
    (lambda: _info(1, input_size=224), "input_size 224, the model's is 8"),
    (lambda: _info(1, channels=4), "4 channels"),
    (lambda: _info(1, labels_file="dir/labels.txt"), "plain file name"),
])
def test_bad_metadata_is_a_one_line_error(converted, make, message):
  with pytest.raises(UserError, match=message) as error:
    metadata.with_metadata(converted["fp32", 1], make())
  assert "\n" not in str(error.value)


def test_reading_a_model_without_metadata_is_a_one_line_error(converted):
  with pytest.raises(UserError, match="no TFLite Metadata") as error:
    metadata.read_metadata(converted["fp32", 1])
  assert "\n" not in str(error.value)
  with pytest.raises(UserError, match="not a TFLite model"):
    metadata.read_metadata(b"PK\x03\x04 not a model")
