"""/jobs over HTTP (Flask test client, real local backends): submit, read, list, cancel, logs."""

from __future__ import annotations

import gzip
import time

from poky_app import jobs as machine
from poky_app.jobs import Job
from test.conftest import object_path, wait_for_job


def submit(client, body):  # type: ignore[no-untyped-def]
    response = client.post("/jobs", json=body)
    assert response.status_code == 202, response.json
    assert response.headers["Location"] == f"/jobs/{response.json['id']}"
    return response.json


def follow(client, job_id, statuses=None):  # type: ignore[no-untyped-def]
    fetch = lambda: client.get(f"/jobs/{job_id}").json  # noqa: E731
    return wait_for_job(fetch, statuses) if statuses else wait_for_job(fetch)


def test_copy_rename_job_end_to_end(client, put_input, settings) -> None:  # type: ignore[no-untyped-def]
    data = b"a,b\n1,2\n" * 1000
    job = submit(client, {"task": "copy_rename", "inputs": [put_input("in/data.csv", data)]})
    assert job["status"] in {"starting", "running", "succeeded"}
    assert job["output"] == f"s3://poky-output/{job['id']}/"
    done = follow(client, job["id"])
    assert done["status"] == "succeeded", done
    [output] = done["result"]["outputs"]
    assert object_path(settings, output).read_bytes() == data
    assert done["attempts"][0]["exit_code"] == 0
    assert done["started_at"] and done["finished_at"]


def test_compress_job_with_named_output(client, put_input, settings) -> None:  # type: ignore[no-untyped-def]
    data = bytes(range(256)) * 4000
    job = submit(client, {"task": "compress", "inputs": [put_input("blob.bin", data)],
                          "output": "s3://poky-output/compressed/", "params": {"level": 9}})
    done = follow(client, job["id"])
    assert done["result"]["outputs"] == ["s3://poky-output/compressed/blob.bin.gz"]
    assert gzip.decompress(object_path(settings, done["result"]["outputs"][0]).read_bytes()) == data
    assert done["params"] == {"level": 9}


def test_cancel_a_running_job_within_the_grace_period(client) -> None:  # type: ignore[no-untyped-def]
    job = submit(client, {"task": "sleep", "params": {"seconds": 60}})
    follow(client, job["id"], {"running"})
    started = time.monotonic()
    response = client.post(f"/jobs/{job['id']}/cancel")
    assert response.status_code == 202 and response.json["cancel_requested"]
    done = follow(client, job["id"])
    assert done["status"] == "cancelled" and done["error"]["reason"] == "Cancelled"
    assert time.monotonic() - started < 3  # the grace period in these tests
    assert client.post(f"/jobs/{job['id']}/cancel").status_code == 409


def test_cancel_a_queued_job_is_immediate(client, service) -> None:  # type: ignore[no-untyped-def]
    job = Job(id=machine.new_job_id(), task="sleep", inputs=(), output="s3://poky-output/q/",
              params={"seconds": 1}, created_at=time.time())
    service.store.create(job)
    response = client.post(f"/jobs/{job.id}/cancel")
    assert response.status_code == 202 and response.json["status"] == "cancelled"


def test_get_list_and_filters(client, put_input) -> None:  # type: ignore[no-untyped-def]
    ids = [submit(client, {"task": "sleep", "params": {"seconds": 0}})["id"] for _ in range(3)]
    copy_id = submit(client, {"task": "copy_rename", "inputs": [put_input("x.txt", b"x")]})["id"]
    for job_id in [*ids, copy_id]:
        follow(client, job_id)
    page = client.get("/jobs?limit=2").json
    assert [j["id"] for j in page["jobs"]] == [copy_id, ids[2]]
    rest = client.get(f"/jobs?limit=2&cursor={page['next_cursor']}").json
    assert [j["id"] for j in rest["jobs"]] == [ids[1], ids[0]] and rest["next_cursor"] is None
    assert [j["id"] for j in client.get("/jobs?task=copy_rename").json["jobs"]] == [copy_id]
    assert len(client.get("/jobs?status=succeeded").json["jobs"]) == 4
    assert client.get("/jobs?status=running").json == {"jobs": [], "next_cursor": None}


def test_bad_list_queries_are_422(client) -> None:  # type: ignore[no-untyped-def]
    for query in ("status=done", "limit=0", "limit=1000", "limit=ten"):
        response = client.get(f"/jobs?{query}")
        assert response.status_code == 422, query
        assert response.mimetype == "application/problem+json"
    assert client.get("/jobs?cursor=!!").status_code == 400


def test_logs_page_and_end(client) -> None:  # type: ignore[no-untyped-def]
    job = submit(client, {"task": "sleep", "params": {"seconds": 1}})
    follow(client, job["id"])
    page = client.get(f"/jobs/{job['id']}/logs").json
    assert any("sleep on 0 input(s)" in line for line in page["lines"])
    assert any("succeeded" in line for line in page["lines"])
    end = client.get(f"/jobs/{job['id']}/logs?cursor={page['next_cursor']}").json
    assert end == {"lines": [], "next_cursor": None}


def test_unknown_job_is_404_everywhere(client) -> None:  # type: ignore[no-untyped-def]
    for response in (client.get("/jobs/nope"), client.post("/jobs/nope/cancel"), client.get("/jobs/nope/logs")):
        assert response.status_code == 404
        assert response.mimetype == "application/problem+json"


def test_callback_is_posted_when_the_job_ends(client, callback_server) -> None:  # type: ignore[no-untyped-def]
    from test.conftest import wait_until

    url, received = callback_server
    job = submit(client, {"task": "sleep", "params": {"seconds": 0}, "callback_url": url})
    follow(client, job["id"])
    wait_until(lambda: received)
    assert received[0]["id"] == job["id"] and received[0]["status"] == "succeeded"

def test_long_poll_answers_when_the_job_changes(client) -> None:  # type: ignore[no-untyped-def]
    job = submit(client, {"task": "sleep", "params": {"seconds": 1.5}})
    first = client.get(f"/jobs/{job['id']}")
    etag = first.headers["ETag"]
    # Unchanged: the same etag comes back after the wait, and the same job.
    seen, statuses = etag, []
    started = time.monotonic()
    while True:
        response = client.get(f"/jobs/{job['id']}?wait=10", headers={"If-None-Match": seen})
        assert response.status_code == 200 and response.headers["ETag"] != seen
        seen = response.headers["ETag"]
        statuses.append((response.json["status"], (response.json["progress"] or {}).get("done")))
        if response.json["status"] == "succeeded":
            break
    assert time.monotonic() - started < 5  # woke on each change, not at the 10 s timeout
    assert ("running", 0) in statuses or ("running", 1) in statuses
    # A wait on a finished job with its current etag times out and returns it unchanged.
    quiet = client.get(f"/jobs/{job['id']}?wait=0.2", headers={"If-None-Match": seen})
    assert quiet.headers["ETag"] == seen and quiet.json["status"] == "succeeded"


def test_bad_wait_is_422(client) -> None:  # type: ignore[no-untyped-def]
    job = submit(client, {"task": "sleep", "params": {"seconds": 0}})
    for wait in ("-1", "soon", "100"):
        assert client.get(f"/jobs/{job['id']}?wait={wait}").status_code == 422


def test_a_spec_too_large_for_the_environment_travels_as_an_object(client, put_input, settings) -> None:  # type: ignore[no-untyped-def]
    inputs = [put_input(f"batch/{'measurement-' * 6}{i:03}.csv", b"%d\n" % i) for i in range(80)]
    job = submit(client, {"task": "copy_rename", "inputs": inputs, "params": {"suffix": "copy"}})
    done = follow(client, job["id"])
    assert done["status"] == "succeeded", done["error"]
    assert len(done["result"]["outputs"]) == 80
    spec_object = object_path(settings, f"s3://poky-output/_poky/specs/{job['id']}/attempt-1.json")
    assert len(spec_object.read_bytes()) > 6144  # it did not fit in POKY_SPEC


def test_idempotency_key_same_body_same_job_other_body_409(client, put_input) -> None:  # type: ignore[no-untyped-def]
    uri = put_input("idem.txt", b"x")
    body = {"task": "copy_rename", "inputs": [uri]}
    first = client.post("/jobs", json=body, headers={"Idempotency-Key": "order-1234"})
    assert first.status_code == 202
    again = client.post("/jobs", json={"inputs": [uri], "task": "copy_rename"},  # same body, other key order
                        headers={"Idempotency-Key": "order-1234"})
    assert again.status_code == 200 and again.json["id"] == first.json["id"]
    assert again.headers["Location"] == f"/jobs/{first.json['id']}"
    other = client.post("/jobs", json={**body, "priority": 5}, headers={"Idempotency-Key": "order-1234"})
    assert other.status_code == 409 and first.json["id"] in other.json["detail"]
    fresh = client.post("/jobs", json=body, headers={"Idempotency-Key": "order-1235"})
    assert fresh.status_code == 202 and fresh.json["id"] != first.json["id"]
    assert client.post("/jobs", json=body, headers={"Idempotency-Key": "x" * 300}).status_code == 400
    follow(client, first.json["id"])
    follow(client, fresh.json["id"])


def test_idempotency_key_races_make_one_job(client, put_input, service) -> None:  # type: ignore[no-untyped-def]
    import threading

    uri = put_input("race.txt", b"x")
    ids: list[str] = []
    barrier = threading.Barrier(6)

    def post() -> None:
        barrier.wait()
        ids.append(service.submit({"task": "copy_rename", "inputs": [uri]}, idempotency_key="race")[0].id)

    threads = [threading.Thread(target=post) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 1 and len(ids) == 6
    assert len(client.get("/jobs").json["jobs"]) == 1
    follow(client, ids[0])
