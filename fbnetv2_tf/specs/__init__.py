"""Architecture descriptions as pure data: no TensorFlow is imported here."""

from fbnetv2_tf.specs.arch_spec import (ArchSpec, BlockSpec, archs_from_json,
                                        archs_to_json, load_archs, save_archs)
from fbnetv2_tf.specs.arch_string import parse_arch_string, to_arch_string
from fbnetv2_tf.errors import SpecError
from fbnetv2_tf.specs.plan import ResolvedBlock, make_divisible, resolve

__all__ = ["ArchSpec", "BlockSpec", "ResolvedBlock", "SpecError",
           "archs_from_json", "archs_to_json", "load_archs", "make_divisible",
           "parse_arch_string", "resolve", "save_archs", "to_arch_string"]
