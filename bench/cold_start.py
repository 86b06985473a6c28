"""Lambda cold start: importing the entry module and answering the first request, each in a fresh
interpreter, against a bare Flask app that imports boto3 and answers one route (the smallest real
alternative). Both go through apig-wsgi with the same API Gateway v2 event; interleaved runs."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

EVENT = {"version": "2.0", "routeKey": "$default", "rawPath": "/healthz", "rawQueryString": "",
         "headers": {"host": "api.example.com"}, "isBase64Encoded": False,
         "requestContext": {"http": {"method": "GET", "path": "/healthz", "protocol": "HTTP/1.1",
                                     "sourceIp": "192.0.2.1", "userAgent": "bench"}}}

POKY = """
import json, sys, time
start = time.perf_counter()
from poky_app.lambda_entry import handler
response = handler(json.loads(sys.argv[1]), None)
assert response["statusCode"] == 200, response
print(time.perf_counter() - start)
"""

BARE = """
import json, sys, time
start = time.perf_counter()
import boto3
from flask import Flask
from apig_wsgi import make_lambda_handler
app = Flask(__name__)

@app.get("/healthz")
def healthz():
    return {"status": "ok"}

response = make_lambda_handler(app)(json.loads(sys.argv[1]), None)
assert response["statusCode"] == 200, response
print(time.perf_counter() - start)
"""

# What `poky bootstrap` would have written: the AWS backend, fully configured (nothing is called).
AWS_SETTINGS = {"POKY_BACKEND": "aws", "POKY_AUTH": "off", "AWS_REGION": "us-east-1", "POKY_CLUSTER": "poky",
                "POKY_TASK_DEFINITION": "poky-runner", "POKY_SUBNETS": "subnet-1", "POKY_SECURITY_GROUPS": "sg-1",
                "POKY_TABLE": "poky-jobs", "POKY_LOG_GROUP": "/poky/jobs"}


def measure(code: str) -> float:
    env = {**os.environ, **AWS_SETTINGS, "PYTHONPATH": str(ROOT), "PYTHONDONTWRITEBYTECODE": "0"}
    result = subprocess.run([sys.executable, "-c", code, json.dumps(EVENT)], env=env, cwd="/tmp",
                            capture_output=True, text=True, check=True)
    return float(result.stdout.strip().splitlines()[-1])


def bench_cold_start(repeat: int = 25) -> dict:
    measure(POKY), measure(BARE)  # compile .pyc files once, as a deployed package has them
    poky, bare = [], []
    for _ in range(repeat):
        poky.append(measure(POKY))
        bare.append(measure(BARE))
    ratio = statistics.median(poky) / statistics.median(bare)
    return {"name": "Lambda cold start: import + first request", "poky": f"{statistics.median(poky) * 1000:.0f} ms",
            "baseline": f"{statistics.median(bare) * 1000:.0f} ms (Flask + boto3, one route)", "ratio": ratio,
            "goal": "<= 1.3", "ok": ratio <= 1.3}


if __name__ == "__main__":
    print(bench_cold_start())
