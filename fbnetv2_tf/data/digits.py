"""The default dataset: scikit-learn's handwritten digits, offline.

``sklearn.datasets.load_digits`` ships 1797 real 8x8 images of handwritten
digits (UCI optical recognition of handwritten digits, pixel values 0..16)
inside scikit-learn, so a search can run with no download at all.
"""

from __future__ import annotations

import numpy as np

from fbnetv2_tf.data import splits
from fbnetv2_tf.data.image_data import ImageData, make_image_data, resize_images

DEFAULT_IMAGE_SIZE = 32
_MAX_VALUE = 16  # load_digits counts set pixels in 4x4 blocks: 0..16


def load_digits(image_size: int | None = None) -> ImageData:
  """Digits as uint8 ``[N, S, S, 1]`` with S = ``image_size`` (default 32).

  Pixel values are scaled from 0..16 to 0..255 before resizing; a fixed
  20 % of the images, stratified by class, forms the test split.
  """
  from sklearn import datasets  # pylint: disable=import-outside-toplevel

  digits = datasets.load_digits()
  images = np.round(digits.images * (255.0 / _MAX_VALUE)).astype(np.uint8)
  images = resize_images(images[..., None], image_size or DEFAULT_IMAGE_SIZE)
  train, test = splits.hold_out_test(images, digits.target)
  return make_image_data("digits", train, test,
                         class_names=[str(d) for d in range(10)], flip=False)
