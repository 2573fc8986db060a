"""Sizes read the same on every page and in every message."""

import pytest

from portal.text import byte_size


@pytest.mark.parametrize(
    ("size", "words"),
    [
        (0, "0 bytes"),
        (1023, "1023 bytes"),
        (1024, "1 KB"),
        (1536, "2 KB"),
        (2560, "3 KB"),
        (100 * 1024, "100 KB"),
        (1024 * 1024 - 1, "1 MB"),
        (1024 * 1024, "1 MB"),
        (1258291, "1.2 MB"),
        (50 * 1024 * 1024, "50 MB"),
    ],
)
def test_sizes_round_half_up_in_whole_kilobytes_and_tenths_of_a_megabyte(size, words):
    assert byte_size(size) == words


def test_templates_use_the_same_words(app):
    assert app.state.templates.env.filters["filesize"](2560) == byte_size(2560)
