"""What makes the supernet a search, one concept per module, in data-flow order:

- ``schedules``: the Gumbel temperature over the search (initial to final).
- ``config``: ``SearchConfig``, the optimizers, warm-up, schedule and loss.
- ``bilevel``: the two-update train step under ``model.fit`` (weights on one
  split, architecture logits on the other) and its callbacks.
- ``derive``: from logits to an ArchSpec (argmax, samples, budget fitting);
  pure data, no TensorFlow.
- ``inherit``: a derived child built with the supernet's weights, sliced to
  its widths (supernet = child at one-hot weights).

Importing this package imports no TensorFlow; its TF modules load on use.
"""
