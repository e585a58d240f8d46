"""Shared helpers: the SST loader (treebank), the GloVe loader (glove) and sparse gradients."""
