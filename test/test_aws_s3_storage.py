"""S3 storage against moto: transfers, server-side copy, listing, presigned URLs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from moto import mock_aws

from poky_app.aws.clients import AwsClients
from poky_app.aws.s3_storage import S3Storage
from poky_app.errors import NotFound
from poky_app.uris import ObjectUri


@pytest.fixture
def storage() -> Iterator[S3Storage]:
    with mock_aws():
        clients = AwsClients("us-east-1")
        for bucket in ("poky-input", "poky-output"):
            clients.s3.create_bucket(Bucket=bucket)
        yield S3Storage(clients)


def test_write_read_copy_list(storage: S3Storage) -> None:
    source = ObjectUri("poky-input", "a/b.txt")
    with storage.open_write(source) as sink:
        sink.write(b"hello")
    assert storage.exists(source) and storage.size(source) == 5
    target = ObjectUri("poky-output", "job/b_copy.txt")
    assert storage.copy(source, target) == 5
    with storage.open_read(target) as handle:
        assert handle.read() == b"hello"
    assert list(storage.list(ObjectUri("poky-output", "job/"))) == [target]
    assert storage.bucket_exists("poky-input") and not storage.bucket_exists("nope-bucket")


def test_a_failed_write_leaves_no_object(storage: S3Storage) -> None:
    uri = ObjectUri("poky-output", "half.bin")
    with pytest.raises(RuntimeError), storage.open_write(uri) as sink:
        sink.write(b"partial")
        raise RuntimeError("crash mid-write")
    assert not storage.exists(uri)


def test_missing_objects(storage: S3Storage) -> None:
    with pytest.raises(NotFound):
        storage.size(ObjectUri("poky-input", "nope"))
    with pytest.raises(NotFound), storage.open_read(ObjectUri("poky-input", "nope")):
        pass


def test_large_writes_spool_to_disk_and_upload_in_parts(storage: S3Storage) -> None:
    uri = ObjectUri("poky-output", "big.bin")
    block = bytes(range(256)) * 4096  # 1 MiB
    with storage.open_write(uri) as sink:
        for _ in range(70):  # past the 64 MiB in-memory spool and the 8 MiB multipart threshold
            sink.write(block)
    assert storage.size(uri) == 70 * len(block)


def test_presigned_urls_put_and_get(storage: S3Storage) -> None:
    uri = ObjectUri("poky-input", "uploaded.csv")
    put = storage.presign("PUT", uri, 60)
    assert requests.put(put, data=b"a,b\n1,2\n", timeout=10).status_code == 200
    assert requests.get(storage.presign("GET", uri, 60), timeout=10).content == b"a,b\n1,2\n"
