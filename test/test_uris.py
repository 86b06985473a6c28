"""Object addresses: what is accepted, and every way out of a bucket refused."""

from __future__ import annotations

import pytest

from poky_app.uris import ObjectUri, UriError, parse_uri


def test_parses_bucket_and_key() -> None:
    assert parse_uri("s3://poky-input/a/b.csv") == ObjectUri("poky-input", "a/b.csv")
    assert str(parse_uri("s3://poky-input/a/b.csv")) == "s3://poky-input/a/b.csv"


@pytest.mark.parametrize("text", [
    "s3://poky-input/../etc/passwd", "s3://poky-input/a/../../b", "s3://poky-input//etc/passwd",
    "s3://poky-input/a/./b", "s3://poky-input/a\\..\\b", "s3://poky-input/a\x00b", "s3://poky-input/",
    "s3://poky-input", "http://poky-input/a", "/etc/passwd", "s3://Bad_Bucket/a", "s3://../a", 42, None,
])
def test_refuses_unsafe_or_malformed_addresses(text: object) -> None:
    with pytest.raises(UriError):
        parse_uri(text)


def test_prefixes_only_where_allowed() -> None:
    assert parse_uri("s3://poky-output/", allow_prefix=True).is_prefix
    assert parse_uri("s3://poky-output/run/", allow_prefix=True).join("x.txt") == ObjectUri("poky-output", "run/x.txt")
    with pytest.raises(UriError):
        parse_uri("s3://poky-output/run/", allow_prefix=False)
    with pytest.raises(UriError):
        parse_uri("s3://poky-output/run/", allow_prefix=True).join("../x")


def test_long_keys_are_refused() -> None:
    with pytest.raises(UriError):
        parse_uri("s3://poky-input/" + "a" * 1100)
