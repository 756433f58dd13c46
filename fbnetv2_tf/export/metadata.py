"""TFLite Metadata for image classifiers, without the tflite-support package.

Android Studio's ML Model Binding and the TFLite Task library take a
classifier's labels, input normalization and tensor names from the "TFLite
Metadata" of its ``.tflite`` file: a ``ModelMetadata`` flatbuffer (file
identifier ``M001``) in a model buffer named by the ``Model.metadata`` entry
``TFLITE_METADATA``, and the labels file in a ZIP archive appended to the
model. The usual writers (tflite-support, mediapipe) cannot be installed
beside this package's TensorFlow, so the metadata a classifier needs is
encoded here with ``flatbuffers``, and the model rewritten through the object
API of the TFLite schema that LiteRT ships. The graph's input and output
tensors and signature keys take the metadata's tensor names.
"""

from __future__ import annotations

import dataclasses
import io
import math
import os
import struct
import zipfile

import flatbuffers
import numpy as np
from ai_edge_litert import schema_py_generated as schema
from flatbuffers import encode, number_types, packer
from flatbuffers.table import Table

from fbnetv2_tf.errors import UserError

METADATA_NAME = "TFLITE_METADATA"
_METADATA_IDENTIFIER = b"M001"
_MODEL_IDENTIFIER = b"TFL3"
# The oldest metadata schema version that has every field written here.
_MIN_PARSER_VERSION = "1.0.0"
# schema.fbs declares Buffer.data with force_align: 16, which the generated
# Python code does not apply; the converter's C++ writer does.
_BUFFER_ALIGNMENT = 16
# Converters write a 1 where a buffer is external but not yet placed, so only
# larger offsets locate data (as LiteRT's loader reads them).
_PLACEHOLDER_OFFSET = 1

# The subset of TFLite Support's metadata_schema.fbs (schema version 1.5.0)
# used here, the source of the field ids below. A table's fields are numbered
# in declaration order, and a union field takes two ids: its type byte, then
# its value; a union entry's id is that of its type byte. Fields left out are
# never written, and their ids are skipped. Enum and union members are named
# by value; a dict field ``x`` of union type has its member in ``x_type``.
_FILE_TYPES = ("UNKNOWN", "DESCRIPTIONS", "TENSOR_AXIS_LABELS")
_COLOR_SPACES = ("UNKNOWN", "RGB", "GRAYSCALE")
_CONTENT_PROPERTIES = ("NONE", "FeatureProperties", "ImageProperties")
_PROCESS_UNIT_OPTIONS = ("NONE", "NormalizationOptions")
_TABLES = {
    "AssociatedFile": (("name", 0, "string"), ("description", 1, "string"),
                       ("type", 2, "enum", _FILE_TYPES),
                       ("locale", 3, "string"), ("version", 4, "string")),
    "ImageSize": (("width", 0, "uint"), ("height", 1, "uint")),
    "ImageProperties": (("color_space", 0, "enum", _COLOR_SPACES),
                        ("default_size", 1, "table", "ImageSize")),
    "FeatureProperties": (),
    "Content": (("content_properties", 0, "union", _CONTENT_PROPERTIES),),
    "NormalizationOptions": (("mean", 0, "floats"), ("std", 1, "floats")),
    "ProcessUnit": (("options", 0, "union", _PROCESS_UNIT_OPTIONS),),
    "Stats": (("max", 0, "floats"), ("min", 1, "floats")),
    "TensorMetadata": (("name", 0, "string"), ("description", 1, "string"),
                       ("content", 3, "table", "Content"),
                       ("process_units", 4, "tables", "ProcessUnit"),
                       ("stats", 5, "table", "Stats"),
                       ("associated_files", 6, "tables", "AssociatedFile")),
    "SubGraphMetadata": (
        ("name", 0, "string"), ("description", 1, "string"),
        ("input_tensor_metadata", 2, "tables", "TensorMetadata"),
        ("output_tensor_metadata", 3, "tables", "TensorMetadata"),
        ("associated_files", 4, "tables", "AssociatedFile")),
    "ModelMetadata": (
        ("name", 0, "string"), ("description", 1, "string"),
        ("version", 2, "string"),
        ("subgraph_metadata", 3, "tables", "SubGraphMetadata"),
        ("author", 4, "string"), ("license", 5, "string"),
        ("associated_files", 6, "tables", "AssociatedFile"),
        ("min_parser_version", 7, "string")),
}
_CHANNELS_OF = {"RGB": 3, "GRAYSCALE": 1}
_COLOR_SPACE_OF = {3: "RGB", 1: "GRAYSCALE"}


def _float32(values) -> tuple[float, ...]:
  # Stored as float32: rounding up front makes what is read back equal.
  return tuple(float(np.float32(v)) for v in values)


@dataclasses.dataclass(frozen=True)
class ClassifierMetadata:
  """What the metadata of an image classifier says.

  Attributes:
    name, description, version, author, license: the model's, as apps show.
    labels: one class name per output score, in order.
    mean, std: per channel (or one for all), the input is ``(pixel - mean) /
      std`` of 0..255 pixels; the defaults give this package's
      ``x / 127.5 - 1``.
    input_size, channels: the square input's side and its channels, 3 (RGB)
      or 1 (grayscale); ``None`` takes the model's.
    labels_file: the labels file's name in the model's archive.
    input_name, output_name: the names the graph's input and output tensors
      and signature keys get.
  """
  name: str
  labels: tuple[str, ...]
  description: str = ""
  version: str = ""
  author: str = "fbnetv2_tf"
  license: str = ""
  mean: tuple[float, ...] = (127.5,)
  std: tuple[float, ...] = (127.5,)
  input_size: int | None = None
  channels: int | None = None
  labels_file: str = "labels.txt"
  input_name: str = "image"
  output_name: str = "logits"

  def __post_init__(self):
    if isinstance(self.labels, str):
      raise UserError(f"classifier metadata: labels must be a sequence of "
                      f"names, got the string {self.labels!r}")
    object.__setattr__(self, "labels", tuple(self.labels))
    object.__setattr__(self, "mean", _float32(self.mean))
    object.__setattr__(self, "std", _float32(self.std))
    for field in ("name", "labels_file", "input_name", "output_name"):
      if not isinstance(getattr(self, field), str) or not getattr(self, field):
        raise UserError(f"classifier metadata: {field} must be a non-empty "
                        f"string, got {getattr(self, field)!r}")
    if os.path.basename(self.labels_file) != self.labels_file:
      raise UserError(f"classifier metadata: labels_file {self.labels_file!r}"
                      " must be a plain file name")
    if self.input_name == self.output_name:
      raise UserError("classifier metadata: input and output are both named "
                      f"{self.input_name!r}")
    for i, label in enumerate(self.labels):
      if (not isinstance(label, str) or not label.strip()
          or "\n" in label or "\r" in label):
        raise UserError(f"classifier metadata: label {i} ({label!r}) must be "
                        "a non-empty line of text")
    if not all(math.isfinite(v) for v in self.mean):
      raise UserError(f"classifier metadata: mean {self.mean} is not finite")
    if not all(math.isfinite(v) and v > 0 for v in self.std):
      raise UserError(f"classifier metadata: std {self.std} must be > 0")
    if self.channels not in (None, *_COLOR_SPACE_OF):
      raise UserError(f"classifier metadata: {self.channels} channels; only "
                      "RGB (3) and grayscale (1) images are described")
    # Unknown channels allow RGB's count; with_metadata checks the model's.
    for field in ("mean", "std"):
      if len(getattr(self, field)) not in (1, self.channels or 3):
        raise UserError(
            f"classifier metadata: {len(getattr(self, field))} {field} values "
            f"for {self.channels or 'grayscale or RGB'} channels; give one "
            "per channel or one for all")


def with_metadata(flatbuffer: bytes, info: ClassifierMetadata) -> bytes:
  """``flatbuffer`` (a TFLite classifier) with ``info`` as TFLite Metadata.

  The model's input and output tensors and signature keys are renamed to
  ``info.input_name`` and ``info.output_name``, other metadata entries are
  kept, metadata and labels written before are replaced, and the labels file
  is appended in an uncompressed ZIP archive. The graph and its weights are
  unchanged, so the model computes the same.

  Raises:
    UserError: ``flatbuffer`` is not a TFLite model with one image input and
      one output of one score per label, or ``info`` does not fit it.
  """
  model = _unpack(flatbuffer)
  graph = _classifier_graph(model)
  info = _fitted(info, graph)
  _rename(model, graph.inputs[0], info.input_name, "inputs")
  _rename(model, graph.outputs[0], info.output_name, "outputs")
  fields = _model_metadata(info)
  _set_metadata(model, _build(
      lambda builder: _encode_table(builder, "ModelMetadata", fields),
      _METADATA_IDENTIFIER))
  # After _set_metadata: old metadata stored outside is replaced, not moved.
  external = {i: _buffer_bytes(buffer, flatbuffer)
              for i, buffer in enumerate(model.buffers)
              if buffer.offset > _PLACEHOLDER_OFFSET}
  model.buffers = [_AlignedBuffer(b.data, b.offset, b.size)
                   for b in model.buffers]
  archive = io.BytesIO(_pack(model, external))
  archive.seek(0, io.SEEK_END)
  # Mode "w" at the model's end writes offsets from the file's start, as
  # TFLite Support's readers take them; a fixed date keeps output reproducible.
  with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
    entry = zipfile.ZipInfo(info.labels_file, date_time=(1980, 1, 1, 0, 0, 0))
    zf.writestr(entry, "".join(f"{label}\n" for label in info.labels))
  return archive.getvalue()


def read_metadata(data: bytes) -> ClassifierMetadata:
  """The classifier metadata of a model written by :func:`with_metadata`:
  labels from its archive, tensor names from its graph.

  Raises:
    UserError: ``data`` has no classifier metadata, or it contradicts the model.
  """
  model = _unpack(data)
  graph = _classifier_graph(model)
  fields = _decode(_metadata_buffer(model, data))
  try:
    subgraph, = fields["subgraph_metadata"]
    image, = subgraph["input_tensor_metadata"]
    logits, = subgraph["output_tensor_metadata"]
    properties = image["content"]["content_properties"]
    size = properties["default_size"]
    unit, = (u["options"] for u in image["process_units"]
             if u["options_type"] == "NormalizationOptions")
    labels_file, = (f["name"] for f in logits["associated_files"]
                    if f.get("type") == "TENSOR_AXIS_LABELS")
  except (KeyError, TypeError, ValueError):
    raise UserError("the model's TFLite Metadata does not describe an image "
                    "classifier (one input image, one output with labels)"
                    ) from None
  names = tuple(_text(graph.tensors[i].name)
                for i in (graph.inputs[0], graph.outputs[0]))
  if (image.get("name"), logits.get("name")) != names:
    raise UserError(f"the model's TFLite Metadata names its tensors "
                    f"{image.get('name')!r} and {logits.get('name')!r}, the "
                    f"graph {names[0]!r} and {names[1]!r}")
  return ClassifierMetadata(
      name=fields.get("name", ""), labels=_read_labels(data, labels_file),
      description=fields.get("description", ""),
      version=fields.get("version", ""), author=fields.get("author", ""),
      license=fields.get("license", ""), mean=unit.get("mean", ()),
      std=unit.get("std", ()), input_size=size.get("width"),
      channels=_CHANNELS_OF.get(properties.get("color_space")),
      labels_file=labels_file, input_name=names[0], output_name=names[1])


def metadata_fields(data: bytes) -> dict:
  """The TFLite Metadata of model ``data``: the ``ModelMetadata`` fields this
  module knows, keyed by their schema names as TFLite Support prints them.

  Raises:
    UserError: ``data`` is not a TFLite model or has no TFLite Metadata.
  """
  return _decode(_metadata_buffer(_unpack(data), data))


def _text(value) -> str:
  return value.decode() if isinstance(value, bytes) else value or ""


def _unpack(data: bytes) -> schema.ModelT:
  if not schema.Model.ModelBufferHasIdentifier(data, 0):
    raise UserError("not a TFLite model (no 'TFL3' FlatBuffer identifier)")
  return schema.ModelT.InitFromPackedBuf(data)


def _classifier_graph(model: schema.ModelT) -> schema.SubGraphT:
  """The model's only graph, checked to take an image and give scores."""
  if len(model.subgraphs or []) != 1:
    raise UserError(f"the model has {len(model.subgraphs or [])} subgraphs; "
                    "metadata is written for single-graph classifiers")
  graph = model.subgraphs[0]
  if len(graph.inputs) != 1 or len(graph.outputs) != 1:
    raise UserError(f"the model has {len(graph.inputs)} inputs and "
                    f"{len(graph.outputs)} outputs; a classifier has one each")
  shape = [int(d) for d in graph.tensors[graph.inputs[0]].shape]
  if len(shape) != 4 or shape[1] != shape[2]:
    raise UserError(f"the model's input has shape {shape}; a square image "
                    "[batch, size, size, channels] is described")
  if not len(graph.tensors[graph.outputs[0]].shape):
    raise UserError("the model's output is a scalar, not one score per class")
  return graph


def _fitted(info: ClassifierMetadata,
            graph: schema.SubGraphT) -> ClassifierMetadata:
  """``info`` with the graph's input size and channels, checked to fit it."""
  _, size, _, channels = (int(d) for d in graph.tensors[graph.inputs[0]].shape)
  outputs = int(graph.tensors[graph.outputs[0]].shape[-1])
  if len(info.labels) != outputs:
    raise UserError(f"classifier metadata: {len(info.labels)} labels for a "
                    f"model with {outputs} output scores")
  for field, value in (("input_size", size), ("channels", channels)):
    if getattr(info, field) not in (None, value):
      raise UserError(f"classifier metadata: {field} {getattr(info, field)}, "
                      f"the model's is {value}")
  return dataclasses.replace(info, input_size=size, channels=channels)


def _rename(model: schema.ModelT, tensor: int, name: str, side: str) -> None:
  """Names graph tensor ``tensor`` and its signature entries ``name``."""
  model.subgraphs[0].tensors[tensor].name = name
  for signature in model.signatureDefs or []:
    if signature.subgraphIndex == 0:
      for entry in getattr(signature, side) or []:
        if entry.tensorIndex == tensor:
          entry.name = name


def _model_metadata(info: ClassifierMetadata) -> dict:
  """The ModelMetadata fields for ``info`` (input size and channels set)."""
  mean, std = np.broadcast_arrays(np.array(info.mean), np.array(info.std))
  space = _COLOR_SPACE_OF[info.channels]
  image = {
      "name": info.input_name,
      "description": (f"{info.input_size}x{info.input_size} {space} image, "
                      "pixels (0 to 255) normalized as (value - mean) / std."),
      "content": {"content_properties_type": "ImageProperties",
                  "content_properties": {
                      "color_space": space,
                      "default_size": {"width": info.input_size,
                                       "height": info.input_size}}},
      "process_units": [{"options_type": "NormalizationOptions",
                         "options": {"mean": info.mean, "std": info.std}}],
      "stats": {"max": ((255 - mean) / std).tolist(),
                "min": ((0 - mean) / std).tolist()},
  }
  logits = {
      "name": info.output_name,
      "description": (f"Unnormalized class scores (logits), one per line of "
                      f"{info.labels_file}; apply softmax for probabilities."),
      "content": {"content_properties_type": "FeatureProperties",
                  "content_properties": {}},
      "associated_files": [{"name": info.labels_file,
                            "description": "Class names, one per line, in the "
                                           "order of the output scores.",
                            "type": "TENSOR_AXIS_LABELS"}],
  }
  return {"name": info.name, "description": info.description,
          "version": info.version, "author": info.author,
          "license": info.license, "min_parser_version": _MIN_PARSER_VERSION,
          "subgraph_metadata": [{"input_tensor_metadata": [image],
                                 "output_tensor_metadata": [logits]}]}


def _build(pack, identifier: bytes) -> bytes:
  """The flatbuffer whose root ``pack(builder)`` builds, with ``identifier``."""
  builder = flatbuffers.Builder(1024)
  builder.Finish(pack(builder), file_identifier=identifier)
  return bytes(builder.Output())


def _encode_table(builder: flatbuffers.Builder, table: str,
                  fields: dict) -> int:
  """Builds ``table`` of ``fields`` (``None``, ``""``: left out); its offset."""
  spec = [f for f in _TABLES[table] if fields.get(f[0]) not in (None, "")]
  # Strings, vectors and subtables go before the table that points at them.
  refs = {}
  for name, _, kind, *of in spec:
    value = fields[name]
    if kind == "string":
      refs[name] = builder.CreateString(value)
    elif kind == "floats":
      refs[name] = builder.CreateNumpyVector(np.asarray(value, np.float32))
    elif kind == "table":
      refs[name] = _encode_table(builder, of[0], value)
    elif kind == "union":
      refs[name] = _encode_table(builder, fields[f"{name}_type"], value)
    elif kind == "tables":
      items = [_encode_table(builder, of[0], item) for item in value]
      builder.StartVector(4, len(items), 4)
      for item in reversed(items):
        builder.PrependUOffsetTRelative(item)
      refs[name] = builder.EndVector()
  builder.StartObject(max((i + 2 if kind == "union" else i + 1
                           for _, i, kind, *_ in _TABLES[table]), default=0))
  for name, slot, kind, *of in spec:
    if kind == "uint":
      builder.PrependUint32Slot(slot, fields[name], 0)
    elif kind == "enum":
      builder.PrependUint8Slot(slot, of[0].index(fields[name]), 0)
    elif kind == "union":
      builder.PrependUint8Slot(slot, of[0].index(fields[f"{name}_type"]), 0)
      builder.PrependUOffsetTRelativeSlot(slot + 1, refs[name], 0)
    else:
      builder.PrependUOffsetTRelativeSlot(slot, refs[name], 0)
  return builder.EndObject()


def _decode(buffer: bytes) -> dict:
  """A ModelMetadata flatbuffer's known fields as a dict."""
  if not flatbuffers.util.BufferHasIdentifier(buffer, 0, _METADATA_IDENTIFIER):
    raise UserError(f"the model's {METADATA_NAME} buffer is not a "
                    "ModelMetadata flatbuffer (no 'M001' identifier)")
  root = encode.Get(packer.uoffset, buffer, 0)
  try:
    return _decode_table(Table(buffer, root), "ModelMetadata")
  except (IndexError, ValueError, struct.error) as e:
    raise UserError(f"the model's {METADATA_NAME} buffer is damaged ({e})"
                    ) from None


def _decode_table(tab: Table, table: str) -> dict:
  def table_at(pos):
    return Table(tab.Bytes, tab.Indirect(pos))

  fields = {}
  for name, slot, kind, *of in _TABLES[table]:
    # A vtable holds two 2-byte sizes, then one 2-byte offset per field id.
    at = tab.Offset(4 + 2 * slot)
    if not at:
      continue
    if kind == "string":
      fields[name] = tab.String(tab.Pos + at).decode()
    elif kind == "uint":
      fields[name] = tab.Get(number_types.Uint32Flags, tab.Pos + at)
    elif kind == "floats":
      fields[name] = tab.GetVectorAsNumpy(number_types.Float32Flags,
                                          at).tolist()
    elif kind == "table":
      fields[name] = _decode_table(table_at(tab.Pos + at), of[0])
    elif kind == "tables":
      fields[name] = [_decode_table(table_at(tab.Vector(at) + 4 * i), of[0])
                      for i in range(tab.VectorLen(at))]
    else:
      value = tab.Get(number_types.Uint8Flags, tab.Pos + at)
      member = of[0][value] if value < len(of[0]) else str(value)
      fields[f"{name}_type" if kind == "union" else name] = member
      union_at = tab.Offset(4 + 2 * (slot + 1))
      if kind == "union" and union_at and member in _TABLES:
        union = Table(tab.Bytes, 0)
        tab.Union(union, union_at)
        fields[name] = _decode_table(union, member)
  return fields


def _buffer_bytes(buffer: schema.BufferT, data: bytes) -> bytes:
  """A buffer's contents: in the flatbuffer, or after it at ``offset``."""
  if buffer.data is not None and len(buffer.data):
    return bytes(buffer.data)
  if buffer.offset > _PLACEHOLDER_OFFSET:
    return bytes(data[buffer.offset:buffer.offset + buffer.size])
  return b""


def _metadata_buffer(model: schema.ModelT, data: bytes) -> bytes:
  for entry in model.metadata or []:
    if _text(entry.name) == METADATA_NAME:
      return _buffer_bytes(model.buffers[entry.buffer], data)
  raise UserError(f"the model has no TFLite Metadata (no {METADATA_NAME} "
                  "entry); write it with export.metadata.with_metadata")


def _set_metadata(model: schema.ModelT, content: bytes) -> None:
  """Points the model's only TFLITE_METADATA entry at ``content``."""
  entries = model.metadata or []
  old = [e.buffer for e in entries if _text(e.name) == METADATA_NAME]
  # Reusing the old entry's buffer keeps rewrites from growing the model.
  model.buffers = model.buffers or []
  index = old[0] if old else len(model.buffers)
  model.buffers[index:index + 1] = [
      _AlignedBuffer(np.frombuffer(content, np.uint8))]
  model.metadata = [e for e in entries if _text(e.name) != METADATA_NAME] + [
      schema.MetadataT(METADATA_NAME, index)]


class _AlignedBuffer(schema.BufferT):
  """A Buffer that packs its data aligned as schema.fbs asks."""

  def Pack(self, builder):  # pylint: disable=invalid-name
    if self.data is not None and len(self.data):
      # Pads so that the data, once written, starts aligned (its length too).
      builder.Prep(_BUFFER_ALIGNMENT, len(self.data))
    return super().Pack(builder)


def _pack(model: schema.ModelT, external: dict[int, bytes]) -> bytes:
  """The packed model, then the ``external`` buffers' data: LiteRT finds
  those at their ``offset`` from the start of the file."""
  for i, data in external.items():
    # Any offset but 0 (the default, left out) lays the flatbuffer out as
    # the real one, set below, will.
    model.buffers[i] = _AlignedBuffer(None, _PLACEHOLDER_OFFSET, len(data))
  packed = _build(model.Pack, _MODEL_IDENTIFIER)
  if not external:
    return packed
  tail = bytearray()
  for i, data in external.items():
    tail += bytes(-(len(packed) + len(tail)) % _BUFFER_ALIGNMENT)
    model.buffers[i].offset = len(packed) + len(tail)
    tail += data
  placed = _build(model.Pack, _MODEL_IDENTIFIER)
  # Offsets are fixed-width fields, so placing them leaves the size alone.
  assert len(placed) == len(packed), "external buffers moved the flatbuffer"
  return placed + bytes(tail)


def _read_labels(data: bytes, name: str) -> tuple[str, ...]:
  """The lines of archive member ``name`` of ``data``."""
  try:
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
      text = zf.read(name).decode("utf-8")
  except (zipfile.BadZipFile, KeyError, UnicodeDecodeError):
    raise UserError(f"the model's TFLite Metadata names labels file {name!r}, "
                    "which is not in its archive as UTF-8 text") from None
  return tuple(line.rstrip("\r")
               for line in text.removesuffix("\n").split("\n"))
