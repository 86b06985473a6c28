"""`make bench`: Poky's speed and memory against baselines measured in the same run.

(a) latency   submit-to-succeeded of a no-op job (sleep 0) through the real server, against a
              bare `python -c pass` subprocess of the same interpreter          goal: ratio <= 2.0
(b) throughput 200 no-op jobs submitted at once until all have succeeded, against 200 bare
              `python -c pass` subprocesses run 2 at a time (this machine's cores)
(c) big files copy_rename and compress (level 1) of a 1 GiB file by the real runner, against
              `cp` and `gzip -1` on the same file; peak RSS of the runner
              goals: copy >= 0.8 of cp's throughput, peak RSS < 100 MB
(d) cold start the Lambda entry's import and first request, against a bare Flask app that imports
              boto3 and answers one route (bench/cold_start.py)               goal: ratio <= 1.3

Medians of repeated, interleaved measurements; ratios are what to read on a noisy shared machine.
Options: --size-mib N (default 1024) for (c), --repeat N (default 15) for (a), --only a,b,c,d.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from poky_app import jobs as machine  # noqa: E402
from poky_app.contract import container_env, job_spec  # noqa: E402
from poky_app.jobs import Job  # noqa: E402
from poky_app.local.sqlite_store import SqliteJobStore  # noqa: E402

TERMINAL = {"succeeded", "failed", "cancelled", "timed_out"}


def timed(command: list[str], **kwargs) -> float:  # type: ignore[no-untyped-def]
    os.sync()  # start from clean page cache state, so one run's writeback does not slow the next
    start = time.perf_counter()
    subprocess.run(command, check=True, **kwargs)
    return time.perf_counter() - start


class Server:
    def __init__(self, home: Path) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "POKY_HOME": str(home), "PYTHONPATH": str(ROOT), "POKY_LOG_LEVEL": "warning"}
        self.process = subprocess.Popen([sys.executable, "-m", "poky_app", "serve", "--port", str(port)],
                                        env=env, stdout=subprocess.DEVNULL)
        self.session = requests.Session()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if self.session.get(self.url + "/healthz", timeout=1).ok:
                    return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise SystemExit("poky serve did not start")

    def submit_noop(self, session: requests.Session | None = None) -> str:
        response = (session or self.session).post(self.url + "/jobs", json={"task": "sleep", "params": {"seconds": 0}})
        response.raise_for_status()
        return response.json()["id"]

    def wait(self, job_id: str, session: requests.Session | None = None) -> str:
        """Long-poll (as `poky submit --wait` does) until the job ends."""
        etag = None
        while True:
            response = (session or self.session).get(f"{self.url}/jobs/{job_id}", params={"wait": 15},
                                                     headers={"If-None-Match": etag} if etag else {})
            status, etag = response.json()["status"], response.headers["ETag"]
            if status in TERMINAL:
                return status

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        self.process.wait(timeout=10)


def bench_latency(server: Server, repeat: int) -> dict:
    def job() -> float:
        start = time.perf_counter()
        assert server.wait(server.submit_noop()) == "succeeded"
        return time.perf_counter() - start

    def bare() -> float:
        return timed([sys.executable, "-c", "pass"])

    for _ in range(3):  # warm both paths (page cache, pyc files, connections)
        job(), bare()
    jobs, bares = [], []
    for _ in range(repeat):  # interleaved, so a noisy moment hurts both alike
        jobs.append(job())
        bares.append(bare())
    poky, base = statistics.median(jobs), statistics.median(bares)
    return {"name": "no-op job, submit to succeeded", "poky": f"{poky * 1000:.0f} ms",
            "baseline": f"{base * 1000:.0f} ms (python -c pass)", "ratio": poky / base, "goal": "<= 2.0",
            "ok": poky / base <= 2.0}


def bench_throughput(server: Server, count: int = 200) -> dict:
    local = threading.local()

    def session() -> requests.Session:
        if not hasattr(local, "session"):
            local.session = requests.Session()
        return local.session

    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        ids = list(pool.map(lambda _: server.submit_noop(session()), range(count)))
        statuses = list(pool.map(lambda job_id: server.wait(job_id, session()), ids))
    poky = time.perf_counter() - start
    assert statuses.count("succeeded") == count, statuses

    start = time.perf_counter()
    with ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        list(pool.map(lambda _: subprocess.run([sys.executable, "-c", "pass"], check=True), range(count)))
    base = time.perf_counter() - start
    return {"name": f"{count} no-op jobs, all succeeded", "poky": f"{poky:.1f} s ({count / poky:.0f} jobs/s)",
            "baseline": f"{base:.1f} s ({count} bare processes)", "ratio": poky / base, "goal": "report", "ok": True}


def make_big_file(path: Path, size_mib: int) -> None:
    """Text that compresses like real CSV (~30%): a 16 MiB block of varied rows, repeated."""
    import random

    rng = random.Random(7)
    words = [f"{rng.choice(['alpha', 'beta', 'gamma', 'delta'])}-{rng.randrange(10**6)}" for _ in range(4096)]
    block = bytearray()
    while len(block) < 16 << 20:
        block += (",".join(rng.choices(words, k=8)) + f",{rng.random():.6f}\n").encode()
    block = block[: 16 << 20]
    with path.open("wb") as handle:
        for _ in range(max(1, size_mib // 16)):
            handle.write(block)


def peak_rss_of(pid: int, done: threading.Event, peaks: list[int]) -> None:
    """Sample the process's own high-water mark (VmHWM) until it exits.

    Not ru_maxrss from wait4: for a forked child that also counts the parent's pages before exec,
    which would charge this benchmark's own memory to the runner.
    """
    status = Path(f"/proc/{pid}/status")
    while not done.is_set():
        try:
            for line in status.read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) * 1024)
        except OSError:
            return
        done.wait(0.005)


def run_runner(home: Path, store: SqliteJobStore, task: str, inputs: list[str], params: dict) -> tuple[float, int]:
    """Start the real runner exactly as the launcher would; return its wall time and peak RSS (bytes)."""
    job = Job(id=machine.new_job_id(), task=task, inputs=tuple(inputs), output="s3://poky-output/bench/",
              params=params, created_at=time.time())
    store.create(job)
    store.save(job, machine.begin_attempt(job, time.time()))
    spec = job_spec(job.id, 1, task, inputs, job.output, params)
    env = {**container_env(spec, store_spec=lambda data: ""), "POKY_BACKEND": "local", "POKY_HOME": str(home),
           "PYTHONPATH": str(ROOT), "PATH": os.environ["PATH"]}
    os.sync()
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-m", "file_processing.runner"], env=env,
                               stdout=subprocess.DEVNULL)
    done, peaks = threading.Event(), [0]
    sampler = threading.Thread(target=peak_rss_of, args=(process.pid, done, peaks))
    sampler.start()
    returncode = process.wait()
    elapsed = time.perf_counter() - start
    done.set()
    sampler.join()
    assert returncode == 0, f"runner {task} exited {returncode}"
    return elapsed, max(peaks)


def bench_big_files(size_mib: int, rounds: int = 3) -> list[dict]:
    from poky_app.local.fs_storage import FileStorage

    work = Path(tempfile.mkdtemp(prefix="poky-bench-", dir=ROOT / ".poky"))
    try:
        home = work / "home"
        storage = FileStorage(home / "buckets")
        storage.create_bucket("poky-input")
        storage.create_bucket("poky-output")
        store = SqliteJobStore(home / "jobs.sqlite3")
        source = home / "buckets" / "poky-input" / "big.csv"
        make_big_file(source, size_mib)
        size = source.stat().st_size
        uri = "s3://poky-input/big.csv"
        outputs = home / "buckets" / "poky-output" / "bench"
        scratch = work / "scratch"
        cp_times, copy_times, gzip_times, compress_times, rss = [], [], [], [], []

        def copy_with_cp() -> None:
            cp_times.append(timed(["cp", str(source), str(scratch)]))

        def copy_with_poky() -> None:
            elapsed, peak = run_runner(home, store, "copy_rename", [uri], {})
            copy_times.append(elapsed)
            rss.append(peak)

        def compress_with_gzip() -> None:
            with scratch.open("wb") as sink:
                gzip_times.append(timed(["gzip", "-1", "-c", str(source)], stdout=sink))

        def compress_with_poky() -> None:
            elapsed, peak = run_runner(home, store, "compress", [uri], {"level": 1})
            compress_times.append(elapsed)
            rss.append(peak)

        timed(["cat", str(source)], stdout=subprocess.DEVNULL)  # the source in the page cache, for both
        # Each side writes a new file every time and both are deleted after each round (rewriting
        # an existing file makes ext4 flush on rename, which would penalise one side only); the
        # order alternates so neither side always follows the other's writeback.
        pairs = ([(copy_with_cp, copy_with_poky)] * rounds
                 + [(compress_with_gzip, compress_with_poky)] * max(1, rounds - 1))
        for index, pair in enumerate(pairs):
            for measure in pair if index % 2 == 0 else reversed(pair):
                measure()
                scratch.unlink(missing_ok=True)
                shutil.rmtree(outputs, ignore_errors=True)
        mib = size / (1 << 20)
        cp, copy = statistics.median(cp_times), statistics.median(copy_times)
        gz, compress = statistics.median(gzip_times), statistics.median(compress_times)
        peak = max(rss)
        return [
            {"name": f"copy_rename {mib:.0f} MiB", "poky": f"{mib / copy:.0f} MiB/s",
             "baseline": f"{mib / cp:.0f} MiB/s (cp)", "ratio": cp / copy, "goal": ">= 0.8 of cp",
             "ok": cp / copy >= 0.8},
            {"name": f"compress {mib:.0f} MiB, level 1", "poky": f"{mib / compress:.0f} MiB/s",
             "baseline": f"{mib / gz:.0f} MiB/s (gzip -1)", "ratio": gz / compress, "goal": "report", "ok": True},
            {"name": "runner peak RSS (copy, compress)", "poky": f"{peak / 1e6:.0f} MB", "baseline": "-",
             "ratio": None, "goal": "< 100 MB", "ok": peak < 100e6},
        ]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def print_table(rows: list[dict]) -> None:
    print(f"\nmachine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.system()} {platform.release()}")
    header = "| measurement | poky | baseline (same run) | ratio | goal | met |"
    print(header)
    print("|---|---|---|---|---|---|")
    for row in rows:
        ratio = f"{row['ratio']:.2f}" if row["ratio"] is not None else "-"
        print(f"| {row['name']} | {row['poky']} | {row['baseline']} | {ratio} | {row['goal']} | "
              f"{'yes' if row['ok'] else 'NO'} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--only", default="a,b,c,d", help="which measurements, e.g. a,d")
    args = parser.parse_args()
    only = set(args.only.split(","))
    (ROOT / ".poky").mkdir(exist_ok=True)
    rows = []
    if only & {"a", "b"}:
        home = Path(tempfile.mkdtemp(prefix="poky-bench-server-", dir=ROOT / ".poky"))
        server = Server(home)
        try:
            if "a" in only:
                print("(a) latency of a no-op job ...", flush=True)
                rows.append(bench_latency(server, args.repeat))
            if "b" in only:
                print("(b) throughput of 200 no-op jobs ...", flush=True)
                rows.append(bench_throughput(server))
        finally:
            server.stop()
            shutil.rmtree(home, ignore_errors=True)
    if "c" in only:
        print(f"(c) copy and compress of a {args.size_mib} MiB file ...", flush=True)
        rows.extend(bench_big_files(args.size_mib))
    if "d" in only:
        from cold_start import bench_cold_start

        print("(d) Lambda cold start ...", flush=True)
        rows.append(bench_cold_start())
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
