"""Filesystem buckets: atomic writes, kernel copies, listing, and no way out of a bucket."""

from __future__ import annotations

from pathlib import Path

import pytest

from poky_app.errors import NotFound
from poky_app.local.fs_storage import FileStorage
from poky_app.uris import ObjectUri


@pytest.fixture
def storage(tmp_path: Path) -> FileStorage:
    storage = FileStorage(tmp_path / "buckets")
    storage.create_bucket("poky-input")
    return storage


def test_write_read_copy_list(storage: FileStorage) -> None:
    source = ObjectUri("poky-input", "a/b.txt")
    with storage.open_write(source) as sink:
        sink.write(b"hello")
    assert storage.exists(source) and storage.size(source) == 5
    target = ObjectUri("poky-input", "copies/b.txt")
    assert storage.copy(source, target) == 5
    with storage.open_read(target) as handle:
        assert handle.read() == b"hello"
    assert list(storage.list(ObjectUri("poky-input", ""))) == [source, target]
    assert list(storage.list(ObjectUri("poky-input", "copies/"))) == [target]


def test_a_failed_write_leaves_nothing_behind(storage: FileStorage, tmp_path: Path) -> None:
    uri = ObjectUri("poky-input", "half.bin")
    with pytest.raises(RuntimeError), storage.open_write(uri) as sink:
        sink.write(b"partial")
        raise RuntimeError("crash mid-write")
    assert not storage.exists(uri)
    assert list((tmp_path / "buckets" / "poky-input" / ".poky-tmp").iterdir()) == []


def test_missing_objects_and_buckets(storage: FileStorage) -> None:
    with pytest.raises(NotFound):
        storage.size(ObjectUri("poky-input", "nope"))
    with pytest.raises(NotFound), storage.open_read(ObjectUri("poky-input", "nope")):
        pass
    with pytest.raises(NotFound), storage.open_write(ObjectUri("no-such-bucket", "x")):
        pass
    assert not storage.bucket_exists("no-such-bucket")


def test_symlink_escape_is_refused(storage: FileStorage, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("secret")
    (tmp_path / "buckets" / "poky-input" / "link").symlink_to(secret)
    with pytest.raises(NotFound):
        storage.size(ObjectUri("poky-input", "link"))


def test_copy_falls_back_where_the_kernel_refuses(storage: FileStorage, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno
    import os

    def refuse(*args: object) -> int:
        raise OSError(errno.EXDEV, "cross-device")

    source = ObjectUri("poky-input", "a.bin")
    with storage.open_write(source) as sink:
        sink.write(b"z" * 3_000_000)
    monkeypatch.setattr(os, "copy_file_range", refuse)
    target = ObjectUri("poky-input", "b.bin")
    assert storage.copy(source, target) == 3_000_000
    with storage.open_read(target) as handle:
        assert handle.read() == b"z" * 3_000_000
