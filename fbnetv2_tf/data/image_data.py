"""The in-memory image dataset every loader returns, and its shared helpers.

A proxy dataset (thousands to tens of thousands of small images) is held in
memory as uint8 numpy arrays: the search pipeline then gathers batches from
tensors without any file I/O. A large one is held as a ``FileList`` of the
image files (``data.file_list``), which indexes like such an array and is
decoded as the pipeline reads it. Either way the batch order and the
augmentation of every epoch are fixed by the seed and the epoch.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from fbnetv2_tf.errors import DataError
from fbnetv2_tf.data import splits
from fbnetv2_tf.data.file_list import FileList
from fbnetv2_tf.data.record_list import RecordList

# Images that stay on disk and are decoded as the pipeline reads them.
STREAMED = (FileList, RecordList)

MIN_IMAGE_SIZE = 8
# Bounds the float32 copy that resizing makes (4096 x 224 x 224 x 3 floats is
# about 2.5 GB; proxy images are far smaller).
_RESIZE_CHUNK = 4096


# eq=False: field-wise == on numpy arrays has no single truth value, so two
# datasets compare (and hash) by identity.
@dataclasses.dataclass(frozen=True, eq=False)
class ImageData:
  """A labelled image classification dataset, in memory or as files.

  Attributes:
    name: the name it was loaded by, e.g. ``"digits"`` or ``"tfds:mnist"``.
    train_images: uint8 ``[N, H, W, C]``, or a ``FileList`` of N files (or
      a ``RecordList`` of N records) that decode to that shape
      (``streamed``).
    train_labels: int32 ``[N]`` in ``[0, num_classes)``.
    test_images: uint8 ``[M, H, W, C]``, or a ``FileList``.
    test_labels: int32 ``[M]``.
    num_classes: number of classes.
    class_names: one name per class, where the source has them.
    flip: whether a horizontal flip keeps an image's class (true for photos
      and clothing, false for digits and characters), so augmentation may
      use it.
  """

  name: str
  train_images: np.ndarray
  train_labels: np.ndarray
  test_images: np.ndarray
  test_labels: np.ndarray
  num_classes: int
  class_names: tuple[str, ...] | None = None
  flip: bool = False

  @property
  def streamed(self) -> bool:
    """Whether the images stay on disk and are decoded as they are read."""
    return isinstance(self.train_images, STREAMED)

  @property
  def image_shape(self) -> tuple[int, int, int]:
    """``(H, W, C)`` of every image."""
    return tuple(self.train_images.shape[1:])

  def subset(self, max_train: int | None = None, max_test: int | None = None,
             seed: int = 0) -> ImageData:
    """At most ``max_train`` / ``max_test`` images, stratified by class.

    Deterministic for a seed; benchmarks use it to keep runs short. ``None``
    keeps a split whole. The kept images stay in their original order.
    """
    def pick(images, labels, limit, split_seed):
      if limit is None or limit >= len(labels):
        return images, labels
      keep, _ = splits.stratified_split(labels, limit / len(labels),
                                        split_seed)
      return images[keep], labels[keep]

    train = pick(self.train_images, self.train_labels, max_train, seed)
    # A seed of its own, so the test subset does not mirror the train one.
    test = pick(self.test_images, self.test_labels, max_test, seed + 1)
    return dataclasses.replace(self, train_images=train[0],
                               train_labels=train[1], test_images=test[0],
                               test_labels=test[1])


def make_image_data(name: str, train: tuple[np.ndarray, np.ndarray],
                    test: tuple[np.ndarray, np.ndarray], *,
                    num_classes: int | None = None,
                    class_names: Sequence[str] | None = None,
                    flip: bool = False) -> ImageData:
  """An ImageData with checked dtypes and shapes.

  ``num_classes`` defaults to the number of class names, else to the largest
  label plus one.
  """
  train_images, train_labels = _checked(name, "train", *train)
  test_images, test_labels = _checked(name, "test", *test)
  if train_images.shape[1:] != test_images.shape[1:]:
    raise DataError(f"{name}: train images are {train_images.shape[1:]} but "
                    f"test images are {test_images.shape[1:]}")
  largest = int(max(train_labels.max(), test_labels.max(initial=0)))
  smallest = int(min(train_labels.min(), test_labels.min(initial=0)))
  if num_classes is None:
    num_classes = len(class_names) if class_names else largest + 1
  if smallest < 0 or largest >= num_classes:
    raise DataError(f"{name}: labels must lie in [0, {num_classes}), found "
                    f"{smallest} to {largest}")
  return ImageData(name, train_images, train_labels, test_images, test_labels,
                   num_classes, tuple(class_names) if class_names else None,
                   flip)


def _checked(name: str, split: str, images, labels: np.ndarray):
  if isinstance(images, STREAMED):
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
      raise DataError(f"{name}: {len(images)} {split} files but "
                      f"{labels.size} labels")
    if split == "train" and not len(labels):
      raise DataError(f"{name}: no {split} images")
    return images, labels.astype(np.int32)
  images, labels = np.asarray(images), np.asarray(labels)
  if images.ndim == 3:  # [N, H, W]: a single grey channel
    images = images[..., None]
  if images.ndim != 4 or images.dtype != np.uint8:
    raise DataError(f"{name}: {split} images must be uint8 [N, H, W, C], got "
                    f"{images.dtype} {images.shape}")
  if labels.shape != images.shape[:1]:
    raise DataError(f"{name}: {len(images)} {split} images but "
                    f"{labels.size} labels")
  if split == "train" and not len(labels):
    raise DataError(f"{name}: no {split} images")
  return images, labels.astype(np.int32)


def check_image_size(image_size: int | None, name: str) -> None:
  """Rejects sizes too small for a network's stride-2 stages."""
  if image_size is None:
    return
  if isinstance(image_size, bool) or not isinstance(image_size, int):
    raise DataError(f"{name}: image_size must be an integer, got "
                    f"{image_size!r}")
  if image_size < MIN_IMAGE_SIZE:
    raise DataError(f"{name}: image_size {image_size} is too small; use "
                    f"{MIN_IMAGE_SIZE} or more")


def resize_images(images: Sequence[np.ndarray] | np.ndarray,
                  size: int) -> np.ndarray:
  """Resizes uint8 ``[H, W, C]`` images to ``size x size``.

  Bilinear with antialiasing, so that shrinking averages rather than skips
  pixels; images of different sizes are resized in groups of equal size.
  Returns uint8 ``[N, size, size, C]``.
  """
  if isinstance(images, np.ndarray) and (
      images.shape[1:3] == (size, size) or not len(images)):
    return images.reshape(len(images), size, size, images.shape[-1])
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  out = np.empty((len(images), size, size, images[0].shape[-1]), np.uint8)
  groups: dict[tuple, list[int]] = {}
  for i, image in enumerate(images):
    groups.setdefault(image.shape, []).append(i)
  for shape, indices in groups.items():
    if shape[:2] == (size, size):
      out[indices] = np.stack([images[i] for i in indices])
      continue
    for start in range(0, len(indices), _RESIZE_CHUNK):
      chunk = indices[start:start + _RESIZE_CHUNK]
      resized = tf.image.resize(np.stack([images[i] for i in chunk]),
                                (size, size), method="bilinear",
                                antialias=True)
      out[chunk] = np.clip(np.round(resized.numpy()), 0, 255)
  return out


def normalize(images):
  """uint8 pixels to float32 in ``[-1, 1]``: ``x / 127.5 - 1``.

  A numpy array (or a ``FileList`` or ``RecordList``, decoded first) gives a numpy array, a
  tensor a tensor; both compute the same float32 values.
  """
  if isinstance(images, STREAMED):
    images = images.decode()
  if isinstance(images, np.ndarray):
    return (images.astype(np.float32) / np.float32(127.5)
            - np.float32(1.0))
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  return tf.cast(images, tf.float32) / 127.5 - 1.0
