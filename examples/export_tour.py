"""Export tour: train a small child on the built-in digits, export it as
float32 and full-integer int8 TFLite, and read the deployment checks: the
h-swish form each file keeps (both are timed), the warnings that explain
latency, and the metadata an Android app reads.

  python examples/export_tour.py

Quantization-aware training runs in a process of its own (tfmot switches
its process to legacy Keras); from Python, add "qat" to the modes and give
the dataset's name, or use `fbnetv2-export --mode=qat`.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# pylint: disable=wrong-import-position
from fbnetv2_tf import load_dataset, parse_arch_string
from fbnetv2_tf.export import metadata, pipeline
from fbnetv2_tf.lut.runner import MeasureSettings
from fbnetv2_tf.training.child import TrainJob, train_child

ARCH = parse_arch_string(
    "tour@32/8: conv_k3_hs-c16-s2 | ir_k3-c24-s2-e4, ir_k5_sehsig_hs-c24-e3"
    " | ir_pool_hs-c64-e6")


def main():
  work = "export_tour"  # in the current directory
  data = load_dataset("digits", image_size=ARCH.input_size)
  # 1. A trained Keras model, as fbnetv2-train writes it.
  trained = train_child(ARCH, data, TrainJob(os.path.join(work, "child"),
                                             epochs=4, verbose=0))
  print(f"Keras test accuracy: {trained.test_accuracy:.4f}")

  # 2. Export: each mode gives NAME.MODE.tflite and NAME.MODE.json; h-swish
  # is converted in both forms and the faster on the host is kept.
  import keras  # pylint: disable=g-import-not-at-top
  model = keras.saving.load_model(trained.model_path)
  job = pipeline.ExportJob(
      output_dir=os.path.join(work, "tflite"), modes=("fp32", "int8"),
      data=data,  # int8 calibration (training split) and accuracy (test)
      latency=MeasureSettings(threads=1, trials=5))
  reports = pipeline.export_model(model, job, trained.model_path,
                                  progress=print)  # steps and warnings

  # 3. The checks, as printed by fbnetv2-export and kept in the JSON files.
  for report in reports:
    print(report.summary())
  fp32, int8 = reports
  print(f"int8 is {fp32.bytes / int8.bytes:.1f}x smaller; ops left in "
        f"float: {int8.float_ops or 'none'}; int8 ops: {int8.ops}")
  for report in reports:
    timed = ", ".join(f"{form} {us:.1f} us" for form, us in
                      report.hswish["median_us"].items())
    print(f"{report.mode}: kept h-swish {report.hswish['form']} ({timed})")

  # 4. What an Android app reads from the file (and tour.labels.txt beside
  # it; tour.md is the model card).
  with open(int8.path, "rb") as f:
    written = metadata.read_metadata(f.read())
  print(f"metadata: input {written.input_name!r} normalized by mean "
        f"{written.mean} and std {written.std}, output "
        f"{written.output_name!r} with {len(written.labels)} labels")


if __name__ == "__main__":
  main()
