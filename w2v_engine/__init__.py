"""The word2vec training engine: the losses of ``q3_word2vec.py``, batched; proven equal by tests.

``q3_word2vec.py`` computes each loss for one window, readably. This package
computes the same numbers for whole minibatches at once, fast, for
``python q3_run.py``; a reader never needs it to understand a question.
tests/test_engine.py proves that:

* the batched losses equal the sum of the per-window ones to 1e-10
  (``batched.skipgram_batch`` / ``cbow_batch`` vs ``q3_word2vec.skipgram`` / ``cbow``,
  both losses, same negative samples);
* the prepared fast path equals the batched path (``prepared`` vs ``batched``, 1e-12);
* drawing the minibatches in a worker process gives the same run as without it,
  bit for bit (``sampler`` with and without ``prefetch``), also when the worker is
  killed, stopped or hung at a random moment (tests/test_bad_inputs_engine.py).

The one interface, used by q3_run.py::

    objective = Objective(dataset, "skipgram", "negsample", batch=50, C=5, K=10, dim=10,
                          rng=np.random.default_rng(seed))
    x = sgd(objective, x0, step, iterations, generators=[objective.sampler], ...)
    objective.close()

Modules, from the math down:

* ``batched``   the losses of a minibatch of windows (index arrays), sparse gradients;
* ``prepared``  skip-gram + negative sampling with each minibatch's index arrays made ahead;
* ``sampler``   draws the minibatches a chunk of iterations at a time, checkpointable;
* ``prefetch``  runs the sampler in a worker process, ahead of training;
* ``sparse``    sparse row gradients and the one scatter that applies them;
* ``objective`` the interface above.

The speed tricks kept, each with the share of the default 40,000-iteration run
it saves, are listed in bench/README.md (``python bench/bench_tricks.py``
measures them).
"""
from w2v_engine.objective import Objective  # noqa: F401
