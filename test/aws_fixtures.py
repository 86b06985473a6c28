"""Shared moto set-up for the AWS adapter tests: the resources `poky bootstrap` would create."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from poky_app.aws.clients import AwsClients
from poky_app.aws.ecs_requests import EcsTarget

REGION = "us-east-1"


@contextmanager
def frozen_ecs_tasks() -> Iterator[None]:
    """Stop moto from advancing tasks by itself (it would reach STOPPED, exit 0, after 4 describes):
    the tests play Fargate and decide when and how a task ends."""
    from moto.moto_api import state_manager

    state_manager.set_transition(model_name="ecs::task", transition={"progression": "manual", "times": 10**9})
    try:
        yield
    finally:
        state_manager.unset_transition(model_name="ecs::task")


def end_task(task_arn: str, exit_code: int, reason: str = "Essential container in task exited") -> None:
    """Play Fargate: the task's container has exited with ``exit_code`` (moto alone always says 0)."""
    from moto.backends import get_backend
    from moto.core import DEFAULT_ACCOUNT_ID

    backend = get_backend("ecs")[DEFAULT_ACCOUNT_ID][REGION]
    for tasks in backend.tasks.values():
        for arn, task in tasks.items():
            if arn == task_arn:
                task.last_status = "STOPPED"
                task.desired_status = "STOPPED"
                task.stopped_reason = reason
                task.containers[0].exitCode = exit_code
                return
    raise AssertionError(f"no task {task_arn}")


def create_ecs(clients: AwsClients) -> EcsTarget:
    ec2 = clients.get("ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    subnet = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"][0]["SubnetId"]
    group = ec2.create_security_group(GroupName="poky-test", Description="poky", VpcId=vpc)["GroupId"]
    clients.ecs.create_cluster(clusterName="poky", capacityProviders=["FARGATE", "FARGATE_SPOT"])
    clients.ecs.register_task_definition(**task_definition("poky-runner", "runner"))
    return EcsTarget(cluster="poky", task_definition="poky-runner", container_name="runner",
                     subnets=(subnet,), security_groups=(group,))


def task_definition(family: str, container: str) -> dict[str, Any]:
    return {"family": family, "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"], "cpu": "256",
            "memory": "512", "containerDefinitions": [{"name": container, "image": "poky-runner:test",
                                                       "memory": 512, "essential": True}]}
