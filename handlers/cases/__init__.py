"""Conversations about cases: the guided report and group #反映 (report, group, prompts), a
resident's own cases (mine), answers to what the bot asked about a case (answers), the
reporter's "is it fixed?" and stars (feedback), staff's buttons and notes (staff), the
secretaries' queue (triage), the mediation desk (desk), joint inspections (inspect), and the
words of case notices (notices).

Others use: the route table its entry points, the notice registry `notices`, the meeting and
proposal conversations `refs` (case numbers and refusals) and `prompts` (explain).
"""

__all__ = [
    "answers",
    "desk",
    "feedback",
    "group",
    "inspect",
    "mine",
    "notices",
    "prompts",
    "refs",
    "report",
    "staff",
    "triage",
]
