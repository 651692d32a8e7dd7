import pytest

from storage.errors import InvalidInput
from storage.text import DESCRIPTION_MAX, clean_address, clean_description, mask_phones


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        ("", "empty"),
        ("   \n ", "empty"),
        ("😡😡😡👎", "no_words"),
        ("!!! ???", "no_words"),
        ("漏水", "too_short"),
        ("x" * (DESCRIPTION_MAX + 1), "too_long"),
    ],
)
def test_descriptions_refused_with_a_reason(given: str, reason: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_description(given)
    assert caught.value.reason == reason


def test_descriptions_kept_trimmed() -> None:
    assert clean_description("  电梯坏了三天 ") == "电梯坏了三天"
    assert clean_description("Lift broken 🚫") == "Lift broken 🚫"


def test_too_long_reports_the_numbers() -> None:
    with pytest.raises(InvalidInput) as caught:
        clean_description("长" * 5000)
    assert caught.value.details == {"limit": DESCRIPTION_MAX, "length": 5000}


def test_address_is_normalised() -> None:
    assert clean_address(" 3号楼   2单元 ") == "3号楼 2单元"
    with pytest.raises(InvalidInput):
        clean_address("-")


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("call 13812345678 now", "call 138****5678 now"),
        ("电话138 1234 5678", "电话138****5678"),
        ("+86 139-1234-5678", "139****5678"),
        ("座机 021-62345678", "座机 021-****5678"),
        ("room 1203, 2 people", "room 1203, 2 people"),
        ("order 123456789012345", "order 123456789012345"),
    ],
)
def test_phone_numbers_masked(given: str, shown: str) -> None:
    assert mask_phones(given) == shown
