#!/usr/bin/env bash
# The GPU check: a short fbnetv2_f search at 224 px on an image folder, in
# float32 and in mixed precision, then a short training of each derived
# architecture. Reports, per precision, the steady-state search step time,
# images per second and peak GPU memory (TensorFlow's allocator peak, with
# memory growth on so that the figure is what the run used), and the trained
# child's test accuracy. Run after the README's install, from the checkout:
#
#   benchmarks/gpu_check.sh [--cpu] [--work_dir=DIR] [--space=fbnetv2_f]
#
# About 5 minutes on one data-centre GPU. --cpu runs the same steps on the
# CPU, smaller (batch 4, two steps an epoch) and with bfloat16 as the mixed
# precision, as the test suite does to keep the script working; its figures
# say nothing about a GPU. --space searches another built-in space on the
# same 224 px files (the test suite uses tiny32: the fbnetv2_f supernet at
# 224 px needs more memory than a 24 GB machine has, see
# docs/benchmarks/input_memory.md). Writes DIR/gpu_check.json; exits
# non-zero when a step fails.
set -euo pipefail

cpu=0
space=fbnetv2_f
work_dir="${TMPDIR:-/tmp}/fbnetv2_gpu_check"
for arg in "$@"; do
  case "$arg" in
    --cpu) cpu=1 ;;
    --work_dir=*) work_dir="${arg#--work_dir=}" ;;
    --space=*) space="${arg#--space=}" ;;
    *) echo "error: unknown argument $arg (use --cpu, --work_dir=DIR," \
            "--space=NAME)" >&2
       exit 2 ;;
  esac
done
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
export TF_CPP_MIN_LOG_LEVEL=2
# Without growth TensorFlow reserves the whole GPU at start and the peak
# would read as the card's size.
export TF_FORCE_GPU_ALLOW_GROWTH=true

if [ "$cpu" = 1 ]; then
  export CUDA_VISIBLE_DEVICES=""
  precisions="float32 mixed_bfloat16"
  train=64; test=16; batch=4; steps=2
else
  if ! "$python" -c "import tensorflow as tf, sys; sys.exit(not tf.config.list_physical_devices('GPU'))" 2>/dev/null; then
    echo "error: TensorFlow sees no GPU (nvidia-smi, the CUDA libraries of" \
         "'pip install tensorflow[and-cuda]'); --cpu runs the check on the CPU" >&2
    exit 1
  fi
  precisions="float32 mixed_float16"
  train=2000; test=256; batch=64; steps=10
fi

mkdir -p "$work_dir"
images="$work_dir/fmnist_jpeg224"
"$python" benchmarks/image_folders.py --format=jpeg --size=224 \
  --max_train="$train" --max_test="$test" --output="$images"

for precision in $precisions; do
  echo "== $space search, $precision"
  # Epoch 1 trains the weights only; epoch 2 is the first bilevel epoch
  # (and traces the step again); epoch 3 is the one timed.
  "$python" -m tools.search --space="$space" --dataset=image_folder \
    --data_dir="$images" --input_pipeline=stream --precision="$precision" \
    --epochs=3 --warmup_epochs=1 --steps_per_epoch="$steps" \
    --batch_size="$batch" --max_test_images="$test" --verbose=0 \
    --output_dir="$work_dir/search_$precision"
  echo "== training the derived architecture, $precision"
  "$python" -m tools.train --arch="$work_dir/search_$precision/arch.json" \
    --dataset=image_folder --data_dir="$images" --input_pipeline=stream \
    --precision="$precision" --epochs=1 --steps_per_epoch="$steps" \
    --batch_size="$batch" --max_test_images="$test" --verbose=0 \
    --output_dir="$work_dir/train_$precision"
done

"$python" - "$work_dir" "$batch" $precisions <<'EOF'
import json, os, sys

work_dir, batch, precisions = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rows = {}
for precision in precisions:
  with open(os.path.join(work_dir, f"search_{precision}", "search_log.jsonl"),
            encoding="utf-8") as f:
    last = [json.loads(line) for line in f][-1]
  with open(os.path.join(work_dir, f"train_{precision}", "train_result.json"),
            encoding="utf-8") as f:
    trained = json.load(f)
  step = last["step_seconds"]
  rows[precision] = {
      "step_seconds": step,
      # Each step trains on a weight batch and an architecture batch.
      "images_per_second": 2 * batch / step if step else None,
      "peak_memory_mb": last["peak_memory_mb"],
      "child_test_accuracy": trained["test_accuracy"]}
print(f"{'precision':16s} {'step s':>8s} {'images/s':>9s} {'peak MB':>9s} "
      f"{'child acc':>9s}")
for precision, r in rows.items():
  rate = r["images_per_second"]
  print(f"{precision:16s} {r['step_seconds']:8.3f} "
        f"{rate if rate is not None else float('nan'):9.1f} "
        f"{r['peak_memory_mb']:9.0f} {r['child_test_accuracy']:9.3f}")
with open(os.path.join(work_dir, "gpu_check.json"), "w",
          encoding="utf-8") as f:
  json.dump({"batch_size": batch, "precisions": rows}, f, indent=1)
print(f"Wrote {os.path.join(work_dir, 'gpu_check.json')}")
EOF
