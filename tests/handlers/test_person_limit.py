"""The per-person limit: a window of N messages, one notice past it, an album counted once."""

from handlers.person_limit import PersonLimit, Verdict

HANDLE, WARN, DROP = Verdict.HANDLE, Verdict.WARN, Verdict.DROP


def test_past_the_limit_one_notice_then_silence_until_the_window_passes() -> None:
    limit = PersonLimit(messages=3, seconds=10)
    verdicts = [limit.admit(1, update, sent_at=100 + update / 10) for update in range(6)]
    assert verdicts == [HANDLE, HANDLE, HANDLE, WARN, DROP, DROP]
    assert limit.admit(2, 50, sent_at=101) is HANDLE  # everyone has a window of their own
    assert limit.admit(1, 4, sent_at=100.4) is DROP  # asked again: the same, not counted again
    assert limit.admit(1, 6, sent_at=109.9) is DROP
    assert limit.admit(1, 7, sent_at=110) is HANDLE  # a new window opens


def test_an_album_counts_once_and_presses_are_timed_on_arrival() -> None:
    now = [200.0]
    limit = PersonLimit(messages=2, seconds=10, clock=lambda: now[0])
    assert limit.admit(1, 1, sent_at=200) is HANDLE
    album = [limit.admit(1, 2 + n, sent_at=201, album="a1") for n in range(10)]
    assert album == [HANDLE] * 10
    assert limit.admit(1, 20) is WARN  # a press, at the clock's time
    now[0] = 215.0
    assert limit.admit(1, 21) is HANDLE
