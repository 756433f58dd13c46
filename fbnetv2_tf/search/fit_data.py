"""What ``Supernet.fit`` accepts as training data, and how it reads it.

The bilevel step needs two disjoint streams: batches that train the weights
and batches that train the architecture logits. ``fit`` takes either

- ``x, y`` arrays: uint8 images ``[N, H, W, C]`` (or ``[N, H, W]``) and
  integer labels ``[N]``. They are split 80 % / 20 % by class (FBNet's
  proportion) with the supernet's seed and batched by
  ``fbnetv2_tf.data.search_dataset``, without augmentation; or
- a ``tf.data.Dataset`` of ``((x_weights, x_arch), (y_weights, y_arch))``,
  as ``fbnetv2_tf.data.search_dataset`` makes it.

Anything else is refused with one line that names both formats.
"""

from __future__ import annotations

import numpy as np

from fbnetv2_tf.data import pipeline, splits

FORMATS = ("x, y arrays (uint8 images [N, H, W, C], integer labels [N]), or "
           "a tf.data.Dataset of ((x_weights, x_arch), (y_weights, y_arch)) "
           "as fbnetv2_tf.data.search_dataset makes it")
WEIGHT_FRACTION = 0.8  # FBNet, arXiv 1812.03443, section 4.1
DEFAULT_BATCH_SIZE = 64


def is_paired(dataset) -> bool:
  """Whether a dataset's elements are ``((x_w, x_a), (y_w, y_a))``."""
  spec = getattr(dataset, "element_spec", None)
  try:
    (x_w, x_a), (y_w, y_a) = spec
    return all(len(s.shape) == n for s, n in
               ((x_w, 4), (x_a, 4), (y_w, 1), (y_a, 1)))
  except (TypeError, ValueError, AttributeError):
    return False


def image_channels(dataset) -> int:
  """Channels of a paired dataset's weight images."""
  return int(dataset.element_spec[0][0].shape[-1])


def arrays_to_search_dataset(images, labels, image_size: int, batch_size,
                             epochs: int, seed: int, first_epoch: int = 0):
  """Splits ``images, labels`` and batches them for the search.

  Returns:
    ``(dataset, steps_per_epoch)``.

  Raises:
    ValueError: the arrays do not fit the supernet (one line).
  """
  images, labels = np.asarray(images), np.asarray(labels)
  if images.ndim == 3:
    images = images[..., None]
  if images.dtype != np.uint8 or images.ndim != 4:
    raise ValueError(f"Supernet.fit got images of dtype {images.dtype} and "
                     f"shape {images.shape}; it takes {FORMATS}")
  if images.shape[1:3] != (image_size, image_size):
    raise ValueError(f"Supernet.fit got {images.shape[1]}x{images.shape[2]} "
                     f"images; the search space takes {image_size}x"
                     f"{image_size} (resize them first)")
  if labels.ndim != 1 or len(labels) != len(images):
    raise ValueError(f"Supernet.fit got {len(images)} images and labels of "
                     f"shape {labels.shape}; it takes {FORMATS}")
  weight, arch = splits.stratified_split(labels, WEIGHT_FRACTION, seed)
  return pipeline.search_dataset(
      (images[weight], labels[weight]), (images[arch], labels[arch]),
      batch_size or DEFAULT_BATCH_SIZE, seed, epochs, first_epoch,
      augment=False)
