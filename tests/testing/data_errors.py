"""Checks that a data loader fails as a user would want: one clear line."""

import pytest

from fbnetv2_tf.data import DataError


def assert_data_error(fn, *args, fragments=(), **kwargs) -> str:
  """``fn(*args, **kwargs)`` raises a one-line DataError holding
  ``fragments``; returns the message."""
  with pytest.raises(DataError) as raised:
    fn(*args, **kwargs)
  message = str(raised.value)
  assert "\n" not in message, message
  for fragment in fragments:
    assert fragment in message, message
  return message
