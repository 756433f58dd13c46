"""Flags shared by several binaries."""

from absl import flags


def define_arch_flags() -> None:
  """--arch, --input_size, --num_classes: what model to build or count."""
  flags.DEFINE_string(
      "arch", None,
      "A zoo model name (e.g. FBNetV2_F1), a path to an arch JSON file, or an "
      "arch string ('name@size/divisor: op-cN-sS-eX, ... | ...').")
  flags.DEFINE_integer("input_size", None,
                       "Overrides the input resolution of the model(s).",
                       lower_bound=8)
  flags.DEFINE_integer("num_classes", 1000, "Classifier outputs.",
                       lower_bound=1)


def define_data_flags(default_dataset: str = "digits") -> None:
  """--dataset, --data_dir, --max_train_images: the images to train on."""
  flags.DEFINE_string(
      "dataset", default_dataset,
      "digits (built in, offline), fashion_mnist, idx, image_folder, "
      "tfrecord (shards of encoded images), or tfds:NAME for any TensorFlow "
      "Datasets dataset.")
  flags.DEFINE_string(
      "data_dir", None,
      "Where the dataset's files are (IDX folder, image folder, or the tfds "
      "data directory); fashion_mnist defaults to Debian's "
      "/usr/share/datasets/fashion-mnist.")
  flags.DEFINE_integer(
      "max_train_images", None,
      "Train on a deterministic subset of this many images (shorter runs).",
      lower_bound=10)
  flags.DEFINE_integer(
      "max_test_images", None,
      "Evaluate on a deterministic subset of this many test images.",
      lower_bound=1)
  flags.DEFINE_enum(
      "input_pipeline", "auto", ["auto", "memory", "stream"],
      "memory: decode every image into memory first; stream: keep the "
      "images of an image_folder, tfrecord or tfds: dataset on disk and "
      "decode them in parallel as batches are read; auto: stream when the "
      "decoded images would exceed 4 GiB.")
  flags.DEFINE_enum(
      "bad_files", "fail", ["fail", "skip"],
      "Image files that cannot be decoded: fail names them and stops before "
      "training, skip names them in one line and leaves them out.")


def define_run_flags() -> None:
  """Flags of every training run: batch, seed, output, distribution."""
  flags.DEFINE_integer("epochs", 10, "Training epochs.", lower_bound=1)
  flags.DEFINE_integer("batch_size", 64, "Global batch size.", lower_bound=1)
  flags.DEFINE_integer(
      "steps_per_epoch", None,
      "At most this many steps per epoch (each epoch then trains on another "
      "random part of the data); default: one pass over the training "
      "images.", lower_bound=1)
  flags.DEFINE_integer("seed", 0, "Seeds initialisation, data order, "
                       "augmentation and Gumbel noise.")
  flags.DEFINE_string("output_dir", None,
                      "Directory for checkpoints, logs and results (created). "
                      "Run again with the same flags to resume.")
  flags.DEFINE_enum("strategy", "default",
                    ["default", "mirrored", "multi_worker", "tpu",
                     "one_device"],
                    "tf.distribute strategy.")
  flags.DEFINE_integer(
      "cpu_replicas", None,
      "Split the CPU into this many logical devices (with "
      "--strategy=mirrored on a machine without GPUs).", lower_bound=1)
  flags.DEFINE_integer("verbose", 2, "Keras fit verbosity: 0 silent, 1 "
                       "progress bar, 2 one line per epoch.", lower_bound=0,
                       upper_bound=2)


def define_compute_flags() -> None:
  """--precision, --jit_compile, --deterministic: how a training run
  computes (search and train)."""
  flags.DEFINE_enum(
      "precision", "float32", ["float32", "mixed_float16", "mixed_bfloat16"],
      "Keras dtype policy of the model: float32, or variables in float32 and "
      "activations in float16 (with loss scaling) or bfloat16. Architecture "
      "logits, the expected cost and the classifier's logits stay float32.")
  flags.DEFINE_boolean("jit_compile", False,
                       "Compile the train step with XLA (needs "
                       "--nodeterministic: Keras compiles without XLA under "
                       "op determinism).")
  flags.DEFINE_boolean(
      "deterministic", True,
      "TensorFlow's op determinism on and Grappler off, so that a run and a "
      "resumed run repeat bit for bit (seeds are set either way); "
      "--nodeterministic where an op has no deterministic GPU kernel.")


def define_runner_flags() -> None:
  """--runner and what the adb runner needs."""
  flags.DEFINE_enum("runner", "host", ["host", "adb"],
                    "host: LiteRT on this machine; adb: TFLite's "
                    "benchmark_model on an Android device.")
  flags.DEFINE_string("serial", None, "adb: the device's serial (needed when "
                      "several are connected; `adb devices` lists them).")
  flags.DEFINE_string("adb", "adb", "adb: the adb client (Debian package "
                      "`adb`).")
  flags.DEFINE_string("benchmark_binary", None,
                      "adb: TFLite's benchmark_model built for the device's "
                      "ABI; pushed to the device.")


def define_measure_flags() -> None:
  """The runner and how each model is timed (build_lut, benchmark)."""
  define_runner_flags()
  flags.DEFINE_enum("dtype", "fp32", ["fp32", "int8"],
                    "Candidate models in float32 or full-integer int8.")
  flags.DEFINE_integer("threads", 1, "Interpreter threads.", lower_bound=1)
  flags.DEFINE_integer("warmup", 20, "Untimed invokes per model first.",
                       lower_bound=0)
  flags.DEFINE_integer("trials", 21, "Timed visits to every model, each in a "
                       "new random order; latency is the median over trials.",
                       lower_bound=1)
  flags.DEFINE_integer("runs", 100, "Back-to-back invokes timed per visit.",
                       lower_bound=1)
  flags.DEFINE_integer("cpu", None, "Pin measurements to this CPU core "
                       "(host: sched_setaffinity; adb: taskset).",
                       lower_bound=0)
  flags.DEFINE_float("fast_within", 1.15, "Use only the trials run in the "
                     "machine's fast state: those whose reference block is "
                     "within this factor of the fastest seen (0: every "
                     "trial, for a device whose speed is fixed).",
                     lower_bound=0)


def define_derive_flags() -> None:
  """How a finished search's supernet is turned into an architecture."""
  flags.DEFINE_integer("candidates", 16,
                       "Derivation by evaluation: distinct in-band "
                       "candidates drawn from the learned distribution (the "
                       "argmax's included) and scored as children of the "
                       "supernet.",
                       lower_bound=1)
  flags.DEFINE_float("fill", None,
                     "Fill each child towards FILL x target after it reaches "
                     "the budget band (cheapest changes of one or two "
                     "decisions up along the logits, never past the "
                     "target); unset: stop in the band.", lower_bound=0,
                     upper_bound=1)
  flags.DEFINE_integer("calibration_images", 2000,
                       "Training images for each candidate's BatchNorm "
                       "re-estimate.", lower_bound=1)


# Flag values into the library's objects, beside the flags they read; the
# package is imported when they are called, so defining flags stays cheap.


def measure_settings_from_flags(values):
  """The ``MeasureSettings`` of --threads, --warmup, --trials, --runs, --cpu
  and --fast_within (0: None, every trial); ``values`` is absl's FLAGS."""
  from fbnetv2_tf.lut.runner import MeasureSettings  # pylint: disable=g-import-not-at-top
  return MeasureSettings(threads=values.threads, warmup=values.warmup,
                         trials=values.trials, runs=values.runs,
                         cpu=values.cpu,
                         fast_within=values.fast_within or None)


def runner_choice_from_flags(values):
  """The ``RunnerChoice`` of --runner, --serial, --adb and
  --benchmark_binary."""
  from fbnetv2_tf.lut.runners import RunnerChoice  # pylint: disable=g-import-not-at-top
  return RunnerChoice(values.runner, values.serial, values.adb,
                      values.benchmark_binary)


def runner_from_flags(values):
  """The runner --runner, --serial, --adb and --benchmark_binary name."""
  return runner_choice_from_flags(values).make()


def derive_config_from_flags(values, method: str):
  """The ``DeriveConfig`` of --candidates, --fill and --calibration_images."""
  from fbnetv2_tf.search.evaluation import DeriveConfig  # pylint: disable=g-import-not-at-top
  return DeriveConfig(method=method, candidates=values.candidates,
                      fill=values.fill or None,
                      calibration_images=values.calibration_images)
