"""Training machinery shared by the search and child training: resumable
checkpoints, the child-model recipe."""
