"""The secretary's whistle: composing and sending it (compose, text), residents' answers and
opinions (replies, opinions), results for secretaries (results), and the words of its notices
(notices, result_notices).

Others use: the route table its entry points, the guided report and /start `replies` (an
opinion typed or asked for by deep link), the notice registry `notices` and `result_notices`.
"""

__all__ = [
    "compose",
    "notices",
    "opinions",
    "replies",
    "result_notices",
    "results",
]
