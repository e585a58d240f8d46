"""Every check, registered in checks.CHECKS in the order of the questions."""
from practice_kit import cases_q1_q2, cases_q3, cases_q4  # noqa: F401
