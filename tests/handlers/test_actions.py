"""The button codec (handlers/actions.py): every action round-trips, fits in 64 bytes, and an id
from outside that no row can have reads as NOWHERE (not found), never as a crash."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from handlers.actions import (
    LAYOUTS,
    MAX_BYTES,
    MAX_ID,
    NOWHERE,
    CaseWork,
    Layout,
    Rate,
    ReportAnonymity,
    ViewCase,
    WhistleEdit,
    decode,
    encode,
    parse_id,
)

IMPOSSIBLE = ("0", str(2**31), str(2**63), "9" * 50)
MALFORMED = ("-1", "+1", "", " 1", "1.5", "1e3", "abc", "١", "#1", "0x1")


def wires(layout: Layout, **fixed: str) -> list[str]:
    """The layout with every combination of valid field texts (some fixed by the caller)."""
    names = list(layout.fields)
    choices = [(fixed[n],) if n in fixed else layout.fields[n].examples for n in names]
    return [
        layout.wire.format(**dict(zip(names, c, strict=True))) for c in itertools.product(*choices)
    ]


def id_fields(layout: Layout) -> list[str]:
    return [name for name, field in layout.fields.items() if field.is_id]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.wire)
def test_every_layout_round_trips(layout: Layout) -> None:
    for wire in wires(layout):
        action = decode(wire)
        assert isinstance(action, layout.action), wire
        assert decode(encode(action)) == action
        assert (encode(action) == wire) is not layout.legacy  # a legacy form is read, not written


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.wire)
def test_the_longest_of_every_button_fits_in_64_bytes(layout: Layout) -> None:
    longest: dict[str, Any] = {}
    for name, field in layout.fields.items():
        marker = field.marker
        if isinstance(marker, range):
            longest[name] = str(marker.stop - 1)
        elif field.is_id:
            longest[name] = str(MAX_ID)
        else:
            longest[name] = max(field.examples, key=len)
    action = decode(layout.wire.format(**longest))
    assert action is not None, longest
    assert len(encode(action).encode()) <= MAX_BYTES


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.wire)
def test_an_impossible_id_decodes_to_nowhere_and_a_malformed_one_to_none(layout: Layout) -> None:
    for name in id_fields(layout):
        for text in IMPOSSIBLE:
            wire = wires(layout, **{name: text})[0]
            action = decode(wire)
            if len(wire.encode()) > MAX_BYTES:  # Telegram never delivers it
                assert action is None
                continue
            assert action is not None and getattr(action, name) == NOWHERE, text
        assert getattr(decode(wires(layout, **{name: str(MAX_ID)})[0]), name) == MAX_ID
        for text in MALFORMED:
            assert decode(wires(layout, **{name: text})[0]) is None, text


def test_the_wire_forms_in_use_are_unchanged() -> None:
    assert encode(ViewCase(case=27)) == "c1:view:27"
    assert encode(CaseWork(verb="acc", case=42)) == "s1:acc:42"
    assert encode(Rate(stars=5, case=12)) == "r1:rate:5:12"
    assert encode(ReportAnonymity(draft=7, anonymous=True)) == "d1:7:anon:1"


def test_an_edit_button_sent_in_the_old_order_still_decodes() -> None:
    edit = WhistleEdit(whistle=5, step="audience")
    assert decode("w1:e:audience:5") == edit == decode(encode(edit))
    assert encode(edit) == "w1:e:5:audience"


@pytest.mark.parametrize(
    "data",
    ["s2:acc:1", "s0:acc:1", "d2:1:ok", "x1:1", "", ":", "s1", "s1:acc", "s1:acc:1:1", None, 17],
)
def test_an_unknown_version_or_shape_refuses(data: object) -> None:
    assert decode(data) is None


def test_values_out_of_their_range_refuse() -> None:
    assert decode("r1:rate:6:12") is None and decode("r1:rate:0:12") is None
    assert decode("w1:d:5:61") is None and decode("w1:o:5:" + "9" * 50) is None
    assert decode("d1:7:anon:2") is None and decode("l1:fr") is None
    assert decode("c1:view:1" + "0" * 70) is None  # over 64 bytes: Telegram never sends it


def test_encoding_refuses_what_it_could_not_read_back() -> None:
    for bad in (2**31, -1):
        with pytest.raises(ValueError):
            encode(ViewCase(case=bad))
    with pytest.raises(ValueError):
        encode(Rate(stars=6, case=1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("27", 27),
        ("#27", 27),
        (" 27 ", 27),
        (str(MAX_ID), MAX_ID),
        ("0", NOWHERE),
        (str(2**31), NOWHERE),
        ("9" * 50, NOWHERE),
        ("-1", None),
        ("abc", None),
        ("", None),
        ("２７", None),  # full-width digits: not what anyone's keyboard sends as a number
    ],
)
def test_parse_id(text: str, expected: int | None) -> None:
    assert parse_id(text) == expected
