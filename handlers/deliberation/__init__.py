"""The monthly meeting and what feeds it: proposals and "me too" (proposals), the meeting run
and votes (meetings), decisions and their follow-up (decisions), their words (*_text) and the
meeting notices (notices).

Others use: the route table its entry points, the notice registry `notices`.
"""

__all__ = [
    "decisions",
    "meetings",
    "notices",
    "proposals",
]
