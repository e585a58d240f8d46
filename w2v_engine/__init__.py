"""The word2vec training engine (being assembled; see the package modules)."""
