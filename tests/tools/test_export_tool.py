"""tools/export.py end to end on a small architecture."""

import keras
import numpy as np

from fbnetv2_tf.export import parity
from tests.testing.cli import assert_one_line_error, run_tool
from tests.testing.models import random_images

SMALL = "small@32/8: conv_k3_hs-c16-s2 | ir_k3_sehsig_hs-c24-s2-e4 | ir_pool_hs-c64-e6"


def test_export_writes_keras_and_tflite_that_agree(tmp_path):
  result = run_tool("export", f"--arch={SMALL}", "--num_classes=5",
                    f"--output_dir={tmp_path}")
  assert result.returncode == 0, result.stderr
  assert ": ok" in result.stdout
  model = keras.models.load_model(tmp_path / "small.keras")
  assert model.output.shape == (None, 5)
  x = random_images((1, 32, 32, 3))
  tflite_out = parity.run_tflite((tmp_path / "small.tflite").read_bytes(), x)
  np.testing.assert_allclose(tflite_out, np.asarray(model(x)), atol=1e-5)
  assert not list(tmp_path.glob("*.tmp*"))  # atomic writes leave no debris


def test_export_errors_are_one_line(tmp_path):
  assert_one_line_error(run_tool("export", "--arch=nope",
                                 f"--output_dir={tmp_path}"), "nope")
  assert_one_line_error(run_tool("export", "--arch=FBNetV2_F1",
                                 f"--output_dir={tmp_path}",
                                 f"--weights={tmp_path}/missing.keras"),
                        "missing.keras", "no such file")
