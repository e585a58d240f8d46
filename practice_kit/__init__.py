"""Practice mode: the learner's copy of the assignment, the checker, and q3_run.py's probe.

``python practice.py new DIR`` (generate.py) writes a copy with the course's holes, generated from
the solution; ``python practice.py check`` (runner.py) judges a copy's functions, each in its
own process (child.py) against the reference (reference.py), with the checks of cases_q*.py;
probe.py keeps q3_run.py from training the engine in place of course code that differs. The
package imports nothing heavy at its top: the checker's child processes load it first.
"""
