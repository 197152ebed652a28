"""Signed, expiring tokens (trulience/auth/signed.py) and the secret that signs them."""

import os
import stat
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trulience.auth.signed import LinkExpired, LinkInvalid, sign, verify
from trulience.config import SECRET_MASK, Settings
from trulience.errors import ConfigError, TrulienceError

SECRET = b"k" * 40
TOKEN = sign({"key": "characters/ada/takes/1/proxy.mp4", "share": 7}, 3600, secret=SECRET)


def test_a_signed_payload_comes_back_with_its_expiry():
    signed_at = time.time()  # not TOKEN's: the module's import may be long before this test
    token = sign({"key": "characters/ada/takes/1/proxy.mp4", "share": 7}, 3600, secret=SECRET)
    payload = verify(token, secret=SECRET)
    assert payload["key"] == "characters/ada/takes/1/proxy.mp4"
    assert payload["share"] == 7
    assert signed_at + 3599 <= payload["exp"] <= time.time() + 3600


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_any_changed_byte_makes_the_token_invalid(data):
    position = data.draw(st.integers(0, len(TOKEN) - 1), label="position")
    replacement = data.draw(
        st.characters(codec="ascii").filter(lambda c: c != TOKEN[position]), label="byte"
    )
    tampered = TOKEN[:position] + replacement + TOKEN[position + 1 :]
    with pytest.raises(LinkInvalid):
        verify(tampered, secret=SECRET)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200))
def test_any_text_that_is_not_our_token_is_invalid(text):
    with pytest.raises(LinkInvalid):
        verify(text, secret=SECRET)


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 10**6))
def test_a_token_past_its_expiry_is_expired(seconds_late):
    token = sign({"key": "a/b.mp4"}, 60, secret=SECRET)
    exp = verify(token, secret=SECRET)["exp"]
    with pytest.raises(LinkExpired):
        verify(token, secret=SECRET, now=exp + seconds_late - 1)


def test_another_secret_does_not_verify():
    with pytest.raises(LinkInvalid):
        verify(TOKEN, secret=b"x" * 40)


def test_link_errors_are_domain_errors_and_ttl_is_checked():
    assert issubclass(LinkExpired, TrulienceError) and issubclass(LinkInvalid, TrulienceError)
    with pytest.raises(ValueError, match="ttl_s"):
        sign({"key": "a"}, 0, secret=SECRET)
    with pytest.raises(ValueError, match="exp"):
        sign({"exp": 1}, 10, secret=SECRET)


def test_the_generated_secret_is_kept_private_under_the_home_and_reused(tmp_path):
    settings_ = Settings.from_env({"TRULIENCE_HOME": str(tmp_path)})
    first = settings_.signing_secret()
    path = tmp_path / "secret"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = Settings.from_env({"TRULIENCE_HOME": str(tmp_path)}).signing_secret()
    assert first == again and len(first) >= 32
    token = sign({"key": "a"}, 60, secret=first)
    assert verify(token, secret=again)["key"] == "a"
    assert str(path) in settings_.describe()["TRULIENCE_SECRET"]


def test_a_configured_secret_is_used_and_masked(tmp_path):
    env = {"TRULIENCE_HOME": str(tmp_path), "TRULIENCE_SECRET": "s" * 40}
    settings_ = Settings.from_env(env)
    assert settings_.signing_secret() == b"s" * 40
    assert settings_.describe()["TRULIENCE_SECRET"] == SECRET_MASK
    assert "s" * 40 not in repr(settings_)
    assert not (tmp_path / "secret").exists()
    with pytest.raises(ConfigError, match="TRULIENCE_SECRET"):
        Settings.from_env({"TRULIENCE_HOME": str(tmp_path), "TRULIENCE_SECRET": "short"})
    with pytest.raises(ConfigError, match="TRULIENCE_PUBLIC_URL"):
        Settings.from_env({"TRULIENCE_HOME": str(tmp_path), "TRULIENCE_PUBLIC_URL": "ftp://x"})
