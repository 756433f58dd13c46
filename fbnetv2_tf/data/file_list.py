"""Images that stay on disk: a list of files read in the input pipeline.

A dataset too large to decode into memory (ImageNet-100 at 224 px is about
19 GB of uint8) is held as a ``FileList``: the paths, the square side every
image is resized to and the channel count. It indexes like an image array
(``files[indices]``, ``len``, ``shape``), so ``ImageData`` holds either, and
the pipelines (``data.pipeline``) read and decode the files in parallel in
tf.data, batch by batch, in the order and with the augmentation that the
run's seed and the epoch fix.

Before a run every file is decoded once (``scan_files``): a file TensorFlow
cannot decode would otherwise fail an epoch halfway with a traceback. The
scan names such files in one line and, by the caller's policy, skips them
or stops.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from fbnetv2_tf.errors import DataError

# What TensorFlow's decode_image reads; Pillow reads more (e.g. WebP), which
# only the in-memory pipeline can use.
STREAM_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
BAD_FILE_POLICIES = ("fail", "skip")
# How many bad files the one-line report names before "and N more".
_NAMED_BAD_FILES = 5
# Below this many files the scan is quick enough to need no progress bar.
_PROGRESS_MIN_FILES = 500


class StreamedImages:
  """What file and record lists share: ``len``, ``size`` and ``channels``
  give the decoded array's shape, and ``_decoded`` collects decoded
  images into it."""

  size: int
  channels: int

  @property
  def shape(self) -> tuple[int, int, int, int]:
    """As the decoded array would be: ``(N, size, size, channels)``."""
    return (len(self), self.size, self.size, self.channels)

  @property
  def decoded_bytes(self) -> int:
    """The size of the decoded uint8 images in memory."""
    return int(np.prod(self.shape))

  def _decoded(self, images) -> np.ndarray:
    """uint8 ``[N, size, size, C]`` from a dataset of decoded images."""
    out = np.empty(self.shape, np.uint8)
    for i, image in enumerate(images.as_numpy_iterator()):
      out[i] = image
    return out


@dataclasses.dataclass(frozen=True, eq=False)
class FileList(StreamedImages):
  """Image files that decode to uint8 ``[size, size, channels]``.

  Attributes:
    paths: str ``[N]``.
    size: the square side every image is resized to (bilinear with
      antialiasing, as ``image_data.resize_images`` resizes in memory).
    channels: 1 (every file grey) or 3.
  """

  paths: np.ndarray
  size: int
  channels: int

  def __len__(self) -> int:
    return len(self.paths)

  def __getitem__(self, index) -> FileList:
    return dataclasses.replace(self, paths=np.asarray(self.paths)[index])

  def decode(self) -> np.ndarray:
    """Every image, decoded and resized: uint8 ``[N, size, size, C]`` (for
    small subsets: calibration images, derivation's validation images)."""
    import tensorflow as tf  # pylint: disable=import-outside-toplevel

    return self._decoded(tf.data.Dataset.from_tensor_slices(self.paths).map(
        lambda path: decode_file(path, self.size, self.channels),
        num_parallel_calls=tf.data.AUTOTUNE))


def decode_bytes(encoded, channels: int):
  """uint8 ``[H, W, channels]`` of one encoded image (a tensor), any size."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  image = tf.io.decode_image(encoded, channels=channels,
                             expand_animations=False)
  image.set_shape([None, None, channels])
  return image


def read_image(path, channels: int):
  """uint8 ``[H, W, channels]`` of one file (a tensor), any size."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  return decode_bytes(tf.io.read_file(path), channels)


def resize(image, size: int):
  """uint8 ``[..., H, W, C]`` to ``size x size``, rounded back to uint8, as
  ``image_data.resize_images`` does in memory."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  resized = tf.image.resize(image, (size, size), method="bilinear",
                            antialias=True)
  return tf.cast(tf.clip_by_value(tf.round(resized), 0, 255), tf.uint8)


def decode_file(path, size: int, channels: int):
  """One file as uint8 ``[size, size, channels]``."""
  return resize(read_image(path, channels), size)


def scan_files(paths: np.ndarray, what: str):
  """Decodes every file once, in parallel, to find those that fail.

  Returns:
    ``(ok, channels)``: bool ``[N]``, whether each file decodes, and 1 when
    every good file is grey (with or without alpha), else 3.
  """
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  import tqdm  # pylint: disable=import-outside-toplevel

  def probe(index):
    image = tf.io.decode_image(tf.io.read_file(tf.gather(paths, index)),
                               expand_animations=False)
    return index, tf.shape(image)[-1]

  # A failing element is dropped: the indices that come out are the good
  # files. ignore_errors keeps the input order.
  dataset = tf.data.Dataset.range(len(paths)).map(
      probe, num_parallel_calls=tf.data.AUTOTUNE).ignore_errors()
  ok = np.zeros(len(paths), bool)
  grey = True
  for index, depth in tqdm.tqdm(dataset.as_numpy_iterator(), total=len(paths),
                                desc=f"checking {what}", unit="file",
                                disable=len(paths) < _PROGRESS_MIN_FILES):
    ok[index] = True
    grey = grey and depth in (1, 2)
  return ok, 1 if grey else 3


def report_bad_files(bad: list[str], total: int, what: str,
                     policy: str) -> None:
  """One line for files that cannot be decoded: a DataError under
  ``fail``, a printed line under ``skip``."""
  if policy not in BAD_FILE_POLICIES:
    raise DataError(f"bad_files must be one of {', '.join(BAD_FILE_POLICIES)},"
                    f" got {policy!r}")
  if not bad:
    return
  named = ", ".join(bad[:_NAMED_BAD_FILES])
  if len(bad) > _NAMED_BAD_FILES:
    named += f" and {len(bad) - _NAMED_BAD_FILES} more"
  line = f"{what}: {len(bad)} of {total} files cannot be decoded: {named}"
  if policy == "fail":
    raise DataError(f"{line} (fix or remove them, or skip them with "
                    "bad_files='skip', --bad_files=skip)")
  print(f"{line}; skipping them")
