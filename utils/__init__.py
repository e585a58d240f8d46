"""Data and files: the SST loader (treebank), word-vector text files (glove), checkpoints,
the scripts' one error path (cli) and the small helpers of the command lines."""
