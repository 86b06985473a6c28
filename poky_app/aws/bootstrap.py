"""`poky bootstrap` and `poky teardown`: everything a first deployment needs, made idempotently.

Each step first looks for its resource and creates it only if missing (or different, for the task
definition and policies), so running bootstrap twice changes nothing. With dry_run it looks but
makes no change, and says what it would do.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from poky_app.aws import policies
from poky_app.aws.clients import AwsClients, error_code
from poky_app.aws.dynamodb_store import TTL_ATTRIBUTE, table_definition

Say = Callable[[str], None]


@dataclass(frozen=True)
class Names:
    """What bootstrap creates. Buckets default to account-suffixed names: S3 names are global."""

    input_bucket: str
    output_bucket: str
    cluster: str = "poky"
    table: str = "poky-jobs"
    log_group: str = "/poky/jobs"
    task_family: str = "poky-runner"
    container: str = "runner"
    execution_role: str = "poky-task-execution"
    task_role: str = "poky-task"
    control_plane_role: str = "poky-control-plane"
    security_group: str = "poky-tasks"
    event_rule: str = "poky-ecs-task-state"
    log_stream_prefix: str = "poky"


def default_names(account: str, environ: dict[str, str]) -> Names:
    return Names(input_bucket=environ.get("POKY_INPUT_BUCKET") or f"poky-input-{account}",
                 output_bucket=environ.get("POKY_OUTPUT_BUCKET") or f"poky-output-{account}")


class Bootstrap:
    def __init__(self, clients: AwsClients, names: Names, *, dry_run: bool, say: Say) -> None:
        self.clients = clients
        self.names = names
        self.dry_run = dry_run
        self.say = say
        self.region = clients.region
        self.account = clients.get("sts").get_caller_identity()["Account"]
        self.changes = 0

    def _change(self, what: str, act: Callable[[], Any]) -> Any:
        self.changes += 1
        if self.dry_run:
            self.say(f"would {what}")
            return None
        self.say(what)
        return act()

    def _exists(self, what: str) -> None:
        self.say(f"ok    {what}")

    # -- the steps, in dependency order ------------------------------------------------------

    def run(self, image: str) -> dict[str, str]:
        """Create what is missing; return the settings a control plane needs."""
        for bucket in (self.names.input_bucket, self.names.output_bucket):
            self.bucket(bucket)
        self.table()
        self.log_group()
        execution_arn = self.role(self.names.execution_role, "ecs-tasks.amazonaws.com",
                                  policies.execution_role_policy(self.region, self.account, self.names.log_group))
        task_arn = self.role(self.names.task_role, "ecs-tasks.amazonaws.com", policies.task_role_policy(
            self.region, self.account, self.names.input_bucket, self.names.output_bucket, self.names.table))
        self.role(self.names.control_plane_role, "lambda.amazonaws.com", self.control_plane_policy())
        self.cluster()
        self.task_definition(image, execution_arn, task_arn)
        subnets, group = self.network()
        self.event_rule()
        return {
            "POKY_BACKEND": "aws", "AWS_REGION": self.region,
            "POKY_INPUT_BUCKET": self.names.input_bucket, "POKY_OUTPUT_BUCKET": self.names.output_bucket,
            "POKY_CLUSTER": self.names.cluster, "POKY_TASK_DEFINITION": self.names.task_family,
            "POKY_CONTAINER_NAME": self.names.container, "POKY_SUBNETS": ",".join(subnets),
            "POKY_SECURITY_GROUPS": group, "POKY_TABLE": self.names.table, "POKY_LOG_GROUP": self.names.log_group,
            "POKY_LOG_STREAM_PREFIX": self.names.log_stream_prefix, "POKY_EVENT_RULE": self.names.event_rule,
        }

    def control_plane_policy(self) -> dict[str, Any]:
        names = self.names
        return policies.control_plane_policy(
            self.region, self.account, cluster=names.cluster, task_family=names.task_family,
            task_roles=[names.execution_role, names.task_role], buckets=[names.input_bucket, names.output_bucket],
            table=names.table, log_group=names.log_group)

    def connect_events(self, function_name: str) -> None:
        """Deliver the cluster's task state changes to the deployed Lambda (after `zappa deploy`)."""
        events, lambdas = self.clients.get("events"), self.clients.get("lambda")
        function_arn = lambdas.get_function(FunctionName=function_name)["Configuration"]["FunctionArn"]
        targets = events.list_targets_by_rule(Rule=self.names.event_rule)["Targets"]
        if any(t["Arn"] == function_arn for t in targets):
            return self._exists(f"event rule {self.names.event_rule} -> {function_name}")
        rule_arn = events.describe_rule(Name=self.names.event_rule)["Arn"]

        def connect() -> None:
            lambdas.add_permission(FunctionName=function_name, StatementId="poky-ecs-task-state",
                                   Action="lambda:InvokeFunction", Principal="events.amazonaws.com",
                                   SourceArn=rule_arn)
            events.put_targets(Rule=self.names.event_rule, Targets=[{"Id": "poky-control-plane", "Arn": function_arn}])

        self._change(f"send event rule {self.names.event_rule} to {function_name}", connect)

    def bucket(self, name: str) -> None:
        s3 = self.clients.s3
        try:
            s3.head_bucket(Bucket=name)
            return self._exists(f"bucket {name}")
        except Exception as exc:
            if error_code(exc) not in ("404", "NoSuchBucket", "NotFound"):
                raise

        def create() -> None:
            location = {} if self.region == "us-east-1" else {
                "CreateBucketConfiguration": {"LocationConstraint": self.region}}
            s3.create_bucket(Bucket=name, **location)
            s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
                "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True})

        self._change(f"create bucket {name}", create)

    def table(self) -> None:
        ddb = self.clients.dynamodb
        try:
            ddb.describe_table(TableName=self.names.table)
            return self._exists(f"table {self.names.table}")
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise

        def create() -> None:
            ddb.create_table(**table_definition(self.names.table))
            ddb.get_waiter("table_exists").wait(TableName=self.names.table)
            ddb.update_time_to_live(TableName=self.names.table, TimeToLiveSpecification={
                "Enabled": True, "AttributeName": TTL_ATTRIBUTE})

        self._change(f"create table {self.names.table} (3 indexes, TTL on {TTL_ATTRIBUTE})", create)

    def log_group(self) -> None:
        logs = self.clients.logs
        groups = logs.describe_log_groups(logGroupNamePrefix=self.names.log_group)["logGroups"]
        if any(g["logGroupName"] == self.names.log_group for g in groups):
            return self._exists(f"log group {self.names.log_group}")

        def create() -> None:
            logs.create_log_group(logGroupName=self.names.log_group)
            logs.put_retention_policy(logGroupName=self.names.log_group, retentionInDays=30)

        self._change(f"create log group {self.names.log_group} (30 days)", create)

    def role(self, name: str, service: str, policy: dict[str, Any]) -> str:
        iam = self.clients.get("iam")
        arn = f"arn:aws:iam::{self.account}:role/{name}"
        try:
            iam.get_role(RoleName=name)
        except Exception as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            self._change(f"create role {name}", lambda: iam.create_role(
                RoleName=name, AssumeRolePolicyDocument=json.dumps(policies.trust(service))))
            self._change(f"put policy on role {name}", lambda: iam.put_role_policy(
                RoleName=name, PolicyName="poky", PolicyDocument=json.dumps(policy)))
            return arn
        try:
            current = iam.get_role_policy(RoleName=name, PolicyName="poky")["PolicyDocument"]
            current = json.loads(current) if isinstance(current, str) else current
        except Exception as exc:
            if error_code(exc) != "NoSuchEntity":
                raise
            current = None
        if current == policy:
            self._exists(f"role {name}")
        else:
            self._change(f"update policy on role {name}", lambda: iam.put_role_policy(
                RoleName=name, PolicyName="poky", PolicyDocument=json.dumps(policy)))
        return arn

    def cluster(self) -> None:
        ecs = self.clients.ecs
        found = ecs.describe_clusters(clusters=[self.names.cluster])["clusters"]
        if any(c.get("status") == "ACTIVE" for c in found):
            return self._exists(f"cluster {self.names.cluster}")
        self._change(f"create cluster {self.names.cluster} (FARGATE, FARGATE_SPOT)", lambda: ecs.create_cluster(
            clusterName=self.names.cluster, capacityProviders=["FARGATE", "FARGATE_SPOT"],
            defaultCapacityProviderStrategy=[{"capacityProvider": "FARGATE", "weight": 1}]))

    def task_definition_request(self, image: str, execution_arn: str, task_arn: str) -> dict[str, Any]:
        return {
            "family": self.names.task_family, "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
            "cpu": "256", "memory": "512", "executionRoleArn": execution_arn, "taskRoleArn": task_arn,
            "containerDefinitions": [{
                "name": self.names.container, "image": image, "essential": True,
                # Container-level memory too: per-job overrides set both, and moto requires it.
                "memory": 512,
                "command": ["python", "-m", "file_processing.runner"],
                # The runner gets up to 2 minutes between SIGTERM and SIGKILL (Fargate's maximum).
                "stopTimeout": 120,
                "logConfiguration": {"logDriver": "awslogs", "options": {
                    "awslogs-group": self.names.log_group, "awslogs-region": self.region,
                    "awslogs-stream-prefix": self.names.log_stream_prefix}},
            }],
        }

    def task_definition(self, image: str, execution_arn: str, task_arn: str) -> None:
        ecs = self.clients.ecs
        wanted = self.task_definition_request(image, execution_arn, task_arn)
        try:
            current = ecs.describe_task_definition(taskDefinition=self.names.task_family)["taskDefinition"]
        except Exception as exc:
            if error_code(exc) not in ("ClientException", "InvalidParameterException"):
                raise
            current = None
        if current and _same_task_definition(current, wanted):
            return self._exists(f"task definition {self.names.task_family}:{current.get('revision')}")
        self._change(f"register task definition {self.names.task_family} (image {image})",
                     lambda: ecs.register_task_definition(**wanted))

    def network(self) -> tuple[list[str], str]:
        """The default VPC's subnets and a security group with no inbound rules."""
        ec2 = self.clients.get("ec2")
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
        if not vpcs:
            raise RuntimeError("this region has no default VPC; set POKY_SUBNETS and POKY_SECURITY_GROUPS "
                               "by hand (subnets with a route to ECR and S3)")
        vpc = vpcs[0]["VpcId"]
        subnets = sorted(s["SubnetId"] for s in ec2.describe_subnets(
            Filters=[{"Name": "vpc-id", "Values": [vpc]}])["Subnets"])
        groups = ec2.describe_security_groups(Filters=[
            {"Name": "vpc-id", "Values": [vpc]}, {"Name": "group-name", "Values": [self.names.security_group]}])
        if groups["SecurityGroups"]:
            self._exists(f"security group {self.names.security_group}")
            return subnets, groups["SecurityGroups"][0]["GroupId"]
        created = self._change(f"create security group {self.names.security_group} (no inbound)",
                               lambda: ec2.create_security_group(
                                   GroupName=self.names.security_group, VpcId=vpc,
                                   Description="Poky job containers: outbound only"))
        return subnets, (created or {}).get("GroupId", "sg-(dry-run)")

    def event_rule(self) -> None:
        events = self.clients.get("events")
        pattern = json.dumps({"source": ["aws.ecs"], "detail-type": ["ECS Task State Change"],
                              "detail": {"clusterArn": [
                                  f"arn:aws:ecs:{self.region}:{self.account}:cluster/{self.names.cluster}"]}})
        try:
            current = events.describe_rule(Name=self.names.event_rule)
            if json.loads(current.get("EventPattern", "{}")) == json.loads(pattern):
                return self._exists(f"event rule {self.names.event_rule} (targets: added by the Lambda deploy)")
        except Exception as exc:
            if error_code(exc) != "ResourceNotFoundException":
                raise
        self._change(f"put event rule {self.names.event_rule}", lambda: events.put_rule(
            Name=self.names.event_rule, EventPattern=pattern, State="ENABLED",
            Description="ECS task state changes of Poky's cluster, for the control plane"))


def _same_task_definition(current: dict[str, Any], wanted: dict[str, Any]) -> bool:
    keys = ("family", "networkMode", "cpu", "memory", "executionRoleArn", "taskRoleArn")
    if any(current.get(k) != wanted.get(k) for k in keys):
        return False
    have, want = current["containerDefinitions"][0], wanted["containerDefinitions"][0]
    return all(have.get(k) == want.get(k) for k in ("name", "image", "command", "logConfiguration"))


def write_env_file(path: Path, settings: dict[str, str]) -> list[str]:
    """Set these keys in a .env file, keeping every other line; returns the keys that changed."""
    from dotenv import dotenv_values, set_key

    current = dotenv_values(path) if path.exists() else {}
    changed = [key for key, value in settings.items() if current.get(key) != value]
    path.touch(exist_ok=True)
    for key in changed:
        set_key(str(path), key, settings[key], quote_mode="never")
    return changed


def teardown(clients: AwsClients, names: Names, *, force: bool, say: Say) -> None:
    """Remove what bootstrap made. Non-empty buckets are refused unless ``force`` empties them."""
    s3 = clients.s3
    for bucket in (names.input_bucket, names.output_bucket):
        try:
            listing = s3.list_objects_v2(Bucket=bucket, MaxKeys=1)
        except Exception as exc:
            if error_code(exc) in ("NoSuchBucket", "404"):
                continue
            raise
        if listing.get("KeyCount", 0) and not force:
            raise RuntimeError(f"bucket {bucket} is not empty; `poky teardown --force` deletes its objects too")
    events, ecs, iam, logs, ec2 = (clients.get(n) for n in ("events", "ecs", "iam", "logs", "ec2"))
    _quietly(lambda: events.delete_rule(Name=names.event_rule), f"event rule {names.event_rule}", say)
    for arn in _quietly(lambda: ecs.list_task_definitions(familyPrefix=names.task_family)["taskDefinitionArns"],
                        "", say) or []:
        _quietly(lambda arn=arn: ecs.deregister_task_definition(taskDefinition=arn), f"task definition {arn}", say)
    _quietly(lambda: ecs.delete_cluster(cluster=names.cluster), f"cluster {names.cluster}", say)
    for role in (names.control_plane_role, names.task_role, names.execution_role):
        _quietly(lambda role=role: iam.delete_role_policy(RoleName=role, PolicyName="poky"), "", say)
        _quietly(lambda role=role: iam.delete_role(RoleName=role), f"role {role}", say)
    _quietly(lambda: logs.delete_log_group(logGroupName=names.log_group), f"log group {names.log_group}", say)
    _quietly(lambda: clients.dynamodb.delete_table(TableName=names.table), f"table {names.table}", say)
    groups = _quietly(lambda: ec2.describe_security_groups(
        Filters=[{"Name": "group-name", "Values": [names.security_group]}])["SecurityGroups"], "", say) or []
    for group in groups:
        _quietly(lambda group=group: ec2.delete_security_group(GroupId=group["GroupId"]),
                 f"security group {names.security_group}", say)
    for bucket in (names.input_bucket, names.output_bucket):
        def empty_and_delete(bucket: str = bucket) -> None:
            for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
                keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
                if keys:
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": keys})
            s3.delete_bucket(Bucket=bucket)

        _quietly(empty_and_delete, f"bucket {bucket}", say)


def _quietly(act: Callable[[], Any], what: str, say: Say) -> Any:
    """Run one deletion; something already gone is fine (teardown is idempotent too)."""
    try:
        result = act()
    except Exception as exc:
        if error_code(exc) in ("NoSuchEntity", "ResourceNotFoundException", "NoSuchBucket", "ClusterNotFoundException",
                               "InvalidGroup.NotFound", "ClientException"):
            return None
        raise
    if what:
        say(f"deleted {what}")
    return result
