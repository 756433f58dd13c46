"""resumable_fit: a loss that turns non-finite keeps the last good epoch."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from fbnetv2_tf.training import checkpoint


def _model():
  keras.utils.set_random_seed(0)
  model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
  model.compile(keras.optimizers.SGD(0.1), "sparse_categorical_crossentropy")
  return model


def _data(first_epoch, bad_epoch):
  """Four batches per epoch; every input of ``bad_epoch`` is NaN."""
  x = np.ones((4, 8, 4), "float32")
  y = np.zeros((4, 8), "int32")
  epochs = [np.full_like(x, np.nan) if e == bad_epoch else x
            for e in range(first_epoch, 3)]
  return tf.data.Dataset.from_tensor_slices(
      (np.concatenate(epochs), np.concatenate([y] * len(epochs))))


def test_a_nan_in_epoch_two_stops_and_keeps_epoch_one(tmp_path):
  model = _model()
  with pytest.raises(checkpoint.TrainingStopped, match="epoch 2"):
    checkpoint.resumable_fit(model, str(tmp_path), lambda: [model.optimizer],
                             lambda first: _data(first, bad_epoch=1),
                             epochs=3, steps_per_epoch=4, what="training",
                             verbose=0)
  with np.load(tmp_path / checkpoint.CHECKPOINT) as saved:
    assert int(saved["finished_epochs"]) == 1
    state = [saved[k] for k in saved.files if k != "finished_epochs"]
  assert all(np.all(np.isfinite(v)) for v in state)
  # The kept state is epoch one's: a fresh model trained one epoch matches.
  reference = _model()
  reference.fit(_data(0, bad_epoch=None).take(4), epochs=1, verbose=0)
  np.testing.assert_allclose(state[0], reference.variables[0].numpy(),
                             rtol=1e-6)
  assert not np.allclose(state[0], _model().variables[0].numpy())
