"""The original Poky job: copy each input to the output prefix as <stem>_<unique>.<ext>.

The copy is done by the storage itself (kernel copy locally, server-side copy on S3), so the
bytes never pass through this process.
"""

from __future__ import annotations

import os
import uuid

from file_processing.context import JobContext


def renamed(name: str, unique: str) -> str:
    stem, ext = os.path.splitext(name)
    return f"{stem}_{unique}{ext}"


def run(ctx: JobContext) -> list[str]:
    inputs = ctx.inputs
    sizes = [ctx.storage.size(uri) for uri in inputs]
    total, done, outputs = sum(sizes), 0, []
    suffix = ctx.params.get("suffix")
    for uri, size in zip(inputs, sizes, strict=True):
        ctx.check_stop()
        target = ctx.output.join(renamed(uri.name, suffix or uuid.uuid4().hex[:12]))
        ctx.progress(done, total, f"copying {uri.name}", force=True)
        ctx.storage.copy(uri, target)
        done += size
        outputs.append(str(target))
        print(f"copied {uri} -> {target} ({size} bytes)", flush=True)
    ctx.progress(done, total, f"copied {len(outputs)} object(s)", force=True)
    return outputs
