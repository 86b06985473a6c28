"""Gzip each input to <output>/<name>.gz, streaming in 1 MiB chunks: memory stays flat whatever
the size of the input."""

from __future__ import annotations

import zlib

from file_processing.context import JobContext

CHUNK = 1 << 20


def run(ctx: JobContext) -> list[str]:
    level = int(ctx.params.get("level", 6))
    inputs = ctx.inputs
    total = sum(ctx.storage.size(uri) for uri in inputs)
    done, outputs = 0, []
    for uri in inputs:
        target = ctx.output.join(uri.name + ".gz")
        # wbits=31: a gzip container (header with mtime 0, so equal inputs give equal outputs).
        deflate = zlib.compressobj(level, zlib.DEFLATED, 31)
        written = 0
        with ctx.storage.open_read(uri) as source, ctx.storage.open_write(target) as sink:
            while chunk := source.read(CHUNK):
                ctx.check_stop()
                written += sink.write(deflate.compress(chunk))
                done += len(chunk)
                ctx.progress(done, total, f"compressing {uri.name}")
            written += sink.write(deflate.flush())
        outputs.append(str(target))
        print(f"compressed {uri} -> {target} ({written} bytes)", flush=True)
    ctx.progress(done, total, f"compressed {len(outputs)} object(s)", force=True)
    return outputs
