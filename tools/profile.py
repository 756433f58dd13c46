"""Counts MACs and parameters of architectures (published FLOP convention).

  python -m tools.profile --arch=FBNetV2_F1
  python -m tools.profile --arch=path/to/archs.json --format=json
  python -m tools.profile --arch='m@32/8: conv_k3-c8-s2 | ir_k3-c16-e3'
"""

import json

from absl import flags

from fbnetv2_tf import cli
from fbnetv2_tf.cost import counting
from fbnetv2_tf.cost import report
from fbnetv2_tf.models import arch_source

FLAGS = flags.FLAGS


def main(argv):
  del argv  # flags only
  archs = arch_source.archs_from_argument(FLAGS.arch, FLAGS.input_size)
  results, tables = {}, []
  for name, arch in archs.items():
    counts = counting.count_arch(arch, FLAGS.num_classes,
                                 FLAGS.input_channels)
    results[name] = report.summary(arch.input_size, counts)
    tables.append(report.format_table(name, arch.input_size, counts))
  if FLAGS.format == "json":
    print(json.dumps(results, indent=1))
  else:
    print("\n\n".join(tables))


def run():
  cli.run_binary("profile", __doc__, main, required=["arch"])


if __name__ == "__main__":
  run()
