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


def control_plane_policy(region: str, account: str, *, cluster: str, task_family: str, task_roles: list[str],
                         buckets: list[str], table: str, log_group: str) -> dict[str, Any]:
    """The Lambda's (or any control plane's) role: exactly the calls the service makes."""
    cluster_arn = f"arn:aws:ecs:{region}:{account}:cluster/{cluster}"
    on_cluster = {"ArnEquals": {"ecs:cluster": cluster_arn}}
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "StartTasks", "Effect": "Allow", "Action": ["ecs:RunTask"],
         "Resource": f"arn:aws:ecs:{region}:{account}:task-definition/{task_family}:*", "Condition": on_cluster},
        {"Sid": "FollowTasks", "Effect": "Allow", "Action": ["ecs:DescribeTasks", "ecs:StopTask", "ecs:TagResource"],
         "Resource": f"arn:aws:ecs:{region}:{account}:task/{cluster}/*"},
        # ListTasks (finding an attempt's task after a crash) takes no task ARN; the condition
        # keeps it to Poky's cluster.
        {"Sid": "FindTasks", "Effect": "Allow", "Action": ["ecs:ListTasks"], "Resource": "*", "Condition": on_cluster},
        {"Sid": "PassTaskRoles", "Effect": "Allow", "Action": ["iam:PassRole"],
         "Resource": [f"arn:aws:iam::{account}:role/{role}" for role in task_roles],
         "Condition": {"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}}},
        {"Sid": "Objects", "Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"],
         "Resource": [f"arn:aws:s3:::{bucket}/*" for bucket in buckets]},
        {"Sid": "Buckets", "Effect": "Allow", "Action": ["s3:ListBucket"],
         "Resource": [f"arn:aws:s3:::{bucket}" for bucket in buckets]},
        {"Sid": "Jobs", "Effect": "Allow",
         "Action": ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
         "Resource": [table_arn(region, account, table), f"{table_arn(region, account, table)}/index/*"]},
        {"Sid": "JobLogs", "Effect": "Allow", "Action": ["logs:GetLogEvents"],
         "Resource": f"{log_group_arn(region, account, log_group)}:*"},
        {"Sid": "OwnLogs", "Effect": "Allow", "Action": ["logs:CreateLogGroup", "logs:CreateLogStream",
                                                           "logs:PutLogEvents"],
         "Resource": f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/poky-*"},
    ]}
