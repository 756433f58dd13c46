"""The data formats Supernet.fit accepts, and its errors for the others."""

import numpy as np
import pytest
import tensorflow as tf

from fbnetv2_tf.search.search_model import Supernet
from fbnetv2_tf.search import fit_data
from fbnetv2_tf.specs.search_space import SearchSpace
from tests.testing.models import MICRO_SPACE


def _net():
  net = Supernet(SearchSpace.from_dict(MICRO_SPACE), num_classes=4,
                 input_channels=3, seed=0)
  net.compile()
  return net


def _arrays(n=40, size=16, channels=1):
  rng = np.random.default_rng(0)
  images = rng.integers(0, 256, (n, size, size, channels)).astype("uint8")
  return images, np.arange(n) % 4


def test_arrays_are_split_by_class_and_batched_in_pairs():
  images, labels = _arrays()
  dataset, steps = fit_data.arrays_to_search_dataset(images, labels, 16, 8,
                                                     epochs=1, seed=0)
  assert steps == 4  # 32 weight images / 8; the 8 architecture images cycle
  (x_w, x_a), (y_w, y_a) = next(iter(dataset))
  assert x_w.shape == x_a.shape == (8, 16, 16, 1)
  assert fit_data.is_paired(dataset)
  weight_labels = np.concatenate([b[1][0].numpy() for b in dataset])
  assert np.bincount(weight_labels, minlength=4).tolist() == [8, 8, 8, 8]


def test_fit_on_arrays_trains_and_takes_the_channels_from_the_data():
  net = _net()
  images, labels = _arrays()
  history = net.fit(images, labels, batch_size=8, epochs=1, verbose=0)
  assert net.input_channels == 1
  assert np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("x, y, fragment", [
    (tf.data.Dataset.from_tensor_slices(
        (np.zeros((8, 16, 16, 1), "float32"), np.zeros(8, "int32"))).batch(4),
     None, "takes x, y arrays"),
    (np.zeros((8, 16, 16, 1), "float32"), np.zeros(8), "dtype float32"),
    (np.zeros((8, 28, 28), "uint8"), np.zeros(8), "28x28 images"),
    (np.zeros((8, 16, 16), "uint8"), np.zeros(5), "8 images and labels"),
])
def test_other_data_is_refused_in_one_line(x, y, fragment):
  with pytest.raises(ValueError, match=fragment) as error:
    _net().fit(x, y, epochs=1, verbose=0)
  assert "\n" not in str(error.value)


def test_fit_before_compile_says_so():
  net = Supernet(SearchSpace.from_dict(MICRO_SPACE), num_classes=4)
  with pytest.raises(ValueError, match="compile"):
    net.fit(*_arrays(), epochs=1)
