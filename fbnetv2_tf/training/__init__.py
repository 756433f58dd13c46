"""Training machinery shared by the search and child training.

- ``search_job``: a whole search, resumable: data split, supernet, ``fit``,
  derivation (what ``fbnetv2-search`` runs).
- ``child``: training a derived (or zoo) architecture from scratch,
  resumably (what ``fbnetv2-train`` runs; docs/method.md, section 9).
- ``checkpoint``: epoch checkpoints that make a killed ``fit`` resumable,
  exactly.
- ``preflight``: the checks a run passes before its first step and before
  it writes anything.
- ``precision``: float32 or mixed precision, the dtype policy a job holds
  while it builds its model.
- ``run_setup``: what every training binary does before it trains: record
  its settings, refuse to resume under other ones, make runs repeatable.
- ``strategy``: strategy names to ``tf.distribute`` strategies.
"""
