"""The shared quoting helper (trulience/quoting.py): whatever a user names or writes, what a
message shows of it is printable and short."""

from hypothesis import given
from hypothesis import strategies as st

from trulience.quoting import excerpt, quote_name

values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(st.characters(codec=None)),
    lambda inner: st.lists(inner, max_size=20) | st.dictionaries(st.text(), inner, max_size=20),
    max_leaves=60,
)


@given(text=st.text(st.characters(codec=None)), limit=st.integers(1, 200))
def test_a_quoted_name_is_printable_and_cut_to_its_limit(text, limit):
    shown = quote_name(text, limit)
    assert shown.isprintable()
    if len(text) <= limit and text.isprintable():
        assert shown == text  # a plain name is shown as it is
    assert len(shown) <= 10 * limit + 40  # an escape is at most ten characters


@given(value=values)
def test_an_excerpt_of_any_value_is_printable_and_short(value):
    shown = excerpt(value)
    assert shown.isprintable() and len(shown) <= 4 * 60 + 1


def test_what_the_studio_reads():
    assert quote_name("eve\nINFO\x1b[31m\u202e") == "eve\\x0aINFO\\x1b[31m\\u202e"
    assert excerpt("x" * 50_000_000) == "'" + "x" * 59 + "… (50,000,000 characters)'"
    assert excerpt(10**5000) == "<an integer of about 5,001 digits>"
    assert excerpt({"bio": "short", "n": 1.5}) == "{'bio': 'short', 'n': 1.5}"
