"""The command line's one parser of bounded numbers."""

from __future__ import annotations

import argparse
import re

import pytest

from tinct.cli.numbers import bounded


@pytest.mark.parametrize(
    ("parse", "text", "value"),
    [
        (bounded("temperature", float, 0.0, 10.0), "0", 0.0),
        (bounded("temperature", float, 0.0, 10.0), "10", 10.0),
        (bounded("crf", int, 0, 51), "51", 51),
        (bounded("size", float, above=0), "1e-9", 1e-9),
        (bounded("frames", int, 1), "100000", 100000),
    ],
)
def test_numbers_in_range_are_taken(parse, text: str, value: float) -> None:
    assert parse(text) == value and type(parse(text)) is type(value)


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (
            bounded("temperature", float, 0.0, 10.0),
            "hot",
            "temperature must be a number in [0, 10], got 'hot'",
        ),
        (bounded("temperature", float, 0.0, 10.0), "10.5", "in [0, 10]"),
        (bounded("temperature", float, 0.0, 10.0), "nan", "got 'nan'"),
        (bounded("boost", float, 0.0, 1.0, note="0 = off"), "-0.1", "in [0, 1] (0 = off)"),
        (bounded("crf", int, 0, 51), "2.5", "crf must be a whole number in [0, 51]"),
        (bounded("size", float, above=0), "0", "size must be a number > 0"),
        (bounded("frames", int, 1), "0", "frames must be a whole number >= 1"),
        (bounded("strength", float, 0.0), "inf", "strength must be a number >= 0"),
    ],
)
def test_numbers_out_of_range_name_the_option_and_the_range(parse, text: str, message: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(message)):
        parse(text)
