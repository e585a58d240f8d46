"""Data and files: the SST loader (treebank), word-vector text files (glove), checkpoints, the scripts' error path (cli), and small helpers of the command lines."""
