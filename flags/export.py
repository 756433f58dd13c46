"""Flags of tools/export.py."""

from absl import flags

from . import common

MODES = ("fp32", "fp16", "dynamic", "int8", "qat")


def define_export_flags() -> None:
  flags.DEFINE_string(
      "model", None,
      "A trained .keras file, as fbnetv2-train writes it. Or use --arch.")
  common.define_arch_flags()
  flags.DEFINE_string(
      "weights", None,
      "With --arch: a .keras or .weights.h5 file of the same architecture to "
      "load; without it the weights are the random initialisation.")
  flags.DEFINE_list(
      "mode", ["fp32"],
      f"Comma-separated export modes: {', '.join(MODES)}. int8 is "
      "post-training full-integer quantization calibrated on --dataset; qat "
      "fine-tunes with fake quantization (tensorflow-model-optimization) "
      "for --qat_epochs, then converts to int8.")
  common.define_data_flags(default_dataset=None)
  flags.DEFINE_integer("qat_epochs", 1, "Fine-tuning epochs of --mode=qat.",
                       lower_bound=1)
  flags.DEFINE_boolean("int8_io", False, "int8 and qat: int8 input and output "
                       "tensors instead of float32.")
  flags.DEFINE_integer("max_eval_images", None, "Accuracy checks on at most "
                       "this many test images (default: the whole test "
                       "split).", lower_bound=1)
  flags.DEFINE_integer("threads", 1, "Interpreter threads for the latency "
                       "check.", lower_bound=1)
  flags.DEFINE_boolean("latency", True, "Measure latency on --runner as "
                       "fbnetv2-benchmark does, with its default settings "
                       "(--nolatency skips it).")
  common.define_runner_flags()
  flags.DEFINE_enum(
      "hswish", "auto", ["fused", "delegable", "auto"],
      "How h-swish is written into the file. fused: one HARD_SWISH op, "
      "fastest in float but without an int8 kernel in XNNPACK, so each one "
      "splits an int8 graph; delegable: relu6(x + 3) * (x / 6), three "
      "elementwise ops XNNPACK runs in int8 too; auto: convert both, time "
      "them on --runner and keep the faster (both timings go into the "
      "JSON; with --nolatency: delegable for int8 and qat, fused for "
      "float).")
  flags.DEFINE_integer("seed", 0, "Seeds calibration sampling and QAT.")
  flags.DEFINE_string("output_dir", None,
                      "Directory for NAME.MODE.tflite and NAME.MODE.json, "
                      "NAME.labels.txt, the model card NAME.md and, for "
                      "--arch, NAME.keras (created).")
