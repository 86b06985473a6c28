"""IAM policy documents, scoped to the resources Poky creates. Pure: bootstrap attaches them, and
tests read them."""

from __future__ import annotations

from typing import Any


def trust(service: str) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": service},
                                                    "Action": "sts:AssumeRole"}]}


def log_group_arn(region: str, account: str, log_group: str) -> str:
    return f"arn:aws:logs:{region}:{account}:log-group:{log_group}"


def table_arn(region: str, account: str, table: str) -> str:
    return f"arn:aws:dynamodb:{region}:{account}:table/{table}"


def execution_role_policy(region: str, account: str, log_group: str) -> dict[str, Any]:
    """What Fargate itself needs to start the container: pull the image, create the log stream."""
    return {"Version": "2012-10-17", "Statement": [
        # GetAuthorizationToken has no resource-level permissions; the pulls are per repository,
        # and the image may live in any repository of the account.
        {"Sid": "PullImage", "Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": "*"},
        {"Sid": "PullLayers", "Effect": "Allow",
         "Action": ["ecr:BatchCheckLayerAvailability", "ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
         "Resource": f"arn:aws:ecr:{region}:{account}:repository/*"},
        {"Sid": "WriteLogs", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{log_group_arn(region, account, log_group)}:*"},
    ]}


def task_role_policy(region: str, account: str, input_bucket: str, output_bucket: str, table: str) -> dict[str, Any]:
    """What the job's container may do: read inputs, write outputs and specs, report on its job."""
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ReadInputs", "Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": [f"arn:aws:s3:::{input_bucket}/*", f"arn:aws:s3:::{output_bucket}/_poky/specs/*"]},
        {"Sid": "WriteOutputs", "Effect": "Allow", "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
         "Resource": f"arn:aws:s3:::{output_bucket}/*"},
        {"Sid": "CopyAndList", "Effect": "Allow", "Action": ["s3:ListBucket"],
         "Resource": [f"arn:aws:s3:::{input_bucket}", f"arn:aws:s3:::{output_bucket}"]},
        {"Sid": "ReportProgress", "Effect": "Allow", "Action": ["dynamodb:UpdateItem"],
         "Resource": table_arn(region, account, table)},
    ]}
