"""`poky bootstrap` / `poky teardown` against moto: complete, idempotent, and careful with data."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from dotenv import dotenv_values
from moto import mock_aws

from poky_app.aws.clients import AwsClients
from poky_app.cli import run
from poky_app.settings import load_settings

IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/poky-runner:1"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsClients]:
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    with mock_aws():
        yield AwsClients("us-east-1")


def test_bootstrap_creates_everything_and_writes_the_settings(aws: AwsClients, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("MY_OWN_SETTING=kept\n")
    assert run(["bootstrap", "--image", IMAGE, "--env-file", str(env_file)]) == 0
    written = dotenv_values(env_file)
    assert written["MY_OWN_SETTING"] == "kept" and written["POKY_BACKEND"] == "aws"
    account = aws.get("sts").get_caller_identity()["Account"]
    assert written["POKY_INPUT_BUCKET"] == f"poky-input-{account}"
    aws.s3.head_bucket(Bucket=written["POKY_OUTPUT_BUCKET"])
    table = aws.dynamodb.describe_table(TableName=written["POKY_TABLE"])["Table"]
    assert {i["IndexName"] for i in table["GlobalSecondaryIndexes"]} == {"by_status", "by_task", "all_jobs"}
    assert aws.dynamodb.describe_time_to_live(TableName=written["POKY_TABLE"])["TimeToLiveDescription"][
        "AttributeName"] == "expires_at"
    [cluster] = aws.ecs.describe_clusters(clusters=[written["POKY_CLUSTER"]])["clusters"]
    assert set(cluster["capacityProviders"]) == {"FARGATE", "FARGATE_SPOT"}
    definition = aws.ecs.describe_task_definition(taskDefinition=written["POKY_TASK_DEFINITION"])["taskDefinition"]
    container = definition["containerDefinitions"][0]
    assert container["image"] == IMAGE and container["logConfiguration"]["logDriver"] == "awslogs"
    assert definition["taskRoleArn"].endswith("role/poky-task")
    assert aws.get("events").describe_rule(Name=written["POKY_EVENT_RULE"])["State"] == "ENABLED"
    assert written["POKY_SUBNETS"] and written["POKY_SECURITY_GROUPS"].startswith("sg-")
    # What it wrote is a complete configuration for the AWS backend.
    settings = load_settings({**{k: v for k, v in written.items() if v}, "POKY_AUTH": "off",
                              "POKY_HOME": str(tmp_path)})
    assert settings.aws and settings.aws.table == "poky-jobs"

    capsys.readouterr()
    before = env_file.read_text()
    assert run(["bootstrap", "--image", IMAGE, "--env-file", str(env_file)]) == 0
    out = capsys.readouterr().out
    assert "0 change(s) made" in out and "already up to date" in out
    assert env_file.read_text() == before


def test_a_new_image_registers_a_new_revision_only(aws: AwsClients, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    env_file = tmp_path / ".env"
    run(["bootstrap", "--image", IMAGE, "--env-file", str(env_file)])
    capsys.readouterr()
    run(["bootstrap", "--image", IMAGE.replace(":1", ":2"), "--env-file", str(env_file)])
    out = capsys.readouterr().out
    assert "1 change(s) made" in out and "register task definition" in out


def test_dry_run_changes_nothing(aws: AwsClients, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env_file = tmp_path / ".env"
    assert run(["bootstrap", "--image", IMAGE, "--env-file", str(env_file), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "would create bucket" in out and "nothing was changed" in out
    assert not env_file.exists()
    assert aws.s3.list_buckets()["Buckets"] == []
    assert aws.ecs.list_clusters()["clusterArns"] == []


def test_teardown_refuses_data_unless_forced(aws: AwsClients, tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    run(["bootstrap", "--image", IMAGE, "--env-file", str(env_file)])
    bucket = dotenv_values(env_file)["POKY_INPUT_BUCKET"]
    aws.s3.put_object(Bucket=bucket, Key="keep-me.csv", Body=b"data")
    assert run(["teardown", "--env-file", str(env_file)]) == 1
    aws.s3.head_object(Bucket=bucket, Key="keep-me.csv")  # still there
    assert run(["teardown", "--env-file", str(env_file), "--force"]) == 0
    assert aws.s3.list_buckets()["Buckets"] == []
    assert aws.ecs.describe_clusters(clusters=["poky"])["clusters"][0]["status"] != "ACTIVE"
    assert run(["teardown", "--env-file", str(env_file)]) == 0  # nothing left: still fine


def test_task_roles_are_scoped(aws: AwsClients, tmp_path: Path) -> None:
    run(["bootstrap", "--image", IMAGE, "--env-file", str(tmp_path / ".env")])
    iam = aws.get("iam")
    for role in ("poky-task", "poky-task-execution"):
        document = iam.get_role_policy(RoleName=role, PolicyName="poky")["PolicyDocument"]
        document = json.loads(document) if isinstance(document, str) else document
        for statement in document["Statement"]:
            if statement["Resource"] == "*":
                assert statement["Action"] == ["ecr:GetAuthorizationToken"], statement  # the one AWS requires


def test_iam_policy_is_scoped_and_is_what_bootstrap_attaches(aws: AwsClients, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    env_file = tmp_path / ".env"
    run(["bootstrap", "--image", IMAGE, "--env-file", str(env_file)])
    capsys.readouterr()
    assert run(["iam-policy", "--env-file", str(env_file)]) == 0
    policy = json.loads(capsys.readouterr().out)
    by_action = {action: statement for statement in policy["Statement"] for action in statement["Action"]}
    for action in ("ecs:RunTask", "iam:PassRole", "s3:GetObject", "s3:PutObject", "s3:ListBucket",
                   "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query", "logs:GetLogEvents"):
        resources = by_action[action]["Resource"]
        resources = resources if isinstance(resources, list) else [resources]
        assert "*" not in resources and all(r.startswith("arn:aws:") for r in resources), action
    assert by_action["ecs:RunTask"]["Resource"].endswith(":task-definition/poky-runner:*")
    assert by_action["ecs:RunTask"]["Condition"]["ArnEquals"]["ecs:cluster"].endswith(":cluster/poky")
    assert {r.rsplit("/", 1)[-1] for r in by_action["iam:PassRole"]["Resource"]} == {"poky-task", "poky-task-execution"}
    assert by_action["ecs:ListTasks"]["Condition"]  # no task ARN to name: held to the cluster instead
    attached = aws.get("iam").get_role_policy(RoleName="poky-control-plane", PolicyName="poky")["PolicyDocument"]
    assert (json.loads(attached) if isinstance(attached, str) else attached) == policy


def test_bootstrap_sends_ecs_events_to_the_deployed_lambda(aws: AwsClients, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    import io
    import zipfile

    env_file = tmp_path / ".env"
    run(["bootstrap", "--image", IMAGE, "--env-file", str(env_file)])
    code = io.BytesIO()
    with zipfile.ZipFile(code, "w") as archive:
        archive.writestr("poky_app/lambda_entry.py", "def handler(event, context): return {}")
    role = aws.get("iam").get_role(RoleName="poky-control-plane")["Role"]["Arn"]
    function = aws.get("lambda").create_function(FunctionName="poky-dev", Runtime="python3.11", Role=role,
                                                 Handler="poky_app.lambda_entry.handler",
                                                 Code={"ZipFile": code.getvalue()})
    assert run(["bootstrap", "--image", IMAGE, "--env-file", str(env_file), "--lambda", "poky-dev"]) == 0
    [target] = aws.get("events").list_targets_by_rule(Rule="poky-ecs-task-state")["Targets"]
    assert target["Arn"] == function["FunctionArn"]
    capsys.readouterr()
    run(["bootstrap", "--image", IMAGE, "--env-file", str(env_file), "--lambda", "poky-dev"])
    assert "0 change(s) made" in capsys.readouterr().out
