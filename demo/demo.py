"""`make demo`: the whole product on this machine, no cloud account.

Starts `poky serve` on a free loopback port over a fresh POKY_HOME (.poky/demo), uploads a sample
file, runs a copy_rename job and a compress job through the `poky` CLI with live progress,
downloads the outputs, checks their content, and stops the server.
"""

from __future__ import annotations

import gzip
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOME = ROOT / ".poky" / "demo"
SAMPLE_ROWS = 1_500_000  # ~40 MB of CSV: large enough to watch progress, small enough to be quick


def step(text: str) -> None:
    print(f"\n\033[1m== {text}\033[0m", flush=True)


def poky(*args: str, env: dict[str, str]) -> str:
    print(f"$ poky {' '.join(args)}", flush=True)
    result = subprocess.run([sys.executable, "-m", "poky_app", *args], env=env, stdout=subprocess.PIPE, text=True)
    print(result.stdout, end="", flush=True)
    if result.returncode != 0:
        raise SystemExit(f"demo failed: `poky {' '.join(args)}` exited {result.returncode}")
    return result.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit("demo failed: poky serve exited; see the lines above")
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("demo failed: poky serve did not become healthy within 30s")


def outputs_of(cli_output: str) -> list[str]:
    return [line.split()[-1] for line in cli_output.splitlines() if line.strip().startswith("output:")]


def main() -> int:
    shutil.rmtree(HOME, ignore_errors=True)
    HOME.mkdir(parents=True)
    url = f"http://127.0.0.1:{free_port()}"
    env = {**os.environ, "POKY_HOME": str(HOME), "POKY_URL": url, "PYTHONPATH": str(ROOT)}

    step(f"Starting the control plane on {url} (POKY_HOME={HOME.relative_to(ROOT)})")
    server = subprocess.Popen([sys.executable, "-m", "poky_app", "serve", "--port", url.rsplit(":", 1)[1]],
                              env=env, cwd=ROOT)
    try:
        wait_healthy(url, server)
        sample = HOME / "sample.csv"
        with sample.open("w") as handle:
            handle.write("id,sensor,reading\n")
            handle.writelines(f"{i},sensor-{i % 97},{(i * 7919) % 100_003 / 1000:.3f}\n" for i in range(SAMPLE_ROWS))
        step(f"Uploading a sample file ({sample.stat().st_size / 1e6:.0f} MB)")
        poky("upload", str(sample), "s3://poky-input/demo/sample.csv", env=env)
        poky("tasks", env=env)

        step("Job 1: copy_rename (the original Poky job)")
        [copied] = outputs_of(poky("submit", "copy_rename", "--input", "s3://poky-input/demo/sample.csv",
                                   "--wait", env=env))
        step("Job 2: compress")
        [compressed] = outputs_of(poky("submit", "compress", "--input", "s3://poky-input/demo/sample.csv",
                                       "--param", "level=6", "--wait", env=env))

        step("Checking the outputs")
        copy_file, gz_file = HOME / "downloaded-copy.csv", HOME / "downloaded.csv.gz"
        poky("download", copied, str(copy_file), env=env)
        poky("download", compressed, str(gz_file), env=env)
        original = sample.read_bytes()
        if copy_file.read_bytes() != original:
            raise SystemExit("demo failed: the copy differs from the input")
        with gzip.open(gz_file) as unzipped:
            if unzipped.read() != original:
                raise SystemExit("demo failed: gunzip of the compressed output differs from the input")
        print(f"ok  copy_rename -> {copied}  (equals the input)")
        print(f"ok  compress    -> {compressed}  (gunzips to the input; "
              f"{gz_file.stat().st_size / len(original):.0%} of its size)")
        print(f"    on disk under {(HOME / 'buckets').relative_to(ROOT)}/")
        poky("list", env=env)
    finally:
        step("Stopping the control plane")
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    print("\nDemo finished: both jobs succeeded and their outputs are right.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
