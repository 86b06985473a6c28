"""Operator commands: they act on AWS directly with the caller's credentials, not over HTTP."""

from __future__ import annotations

import os
from pathlib import Path

from poky_app.cli.render import console, err_console

TYPE_CHECKING = False
if TYPE_CHECKING:
    from poky_app.aws.clients import AwsClients

EXIT_OK, EXIT_ERROR = 0, 1


def _environment(env_file: Path) -> dict[str, str]:
    """The process environment over the env file: a re-run reuses the names the first run chose."""
    from dotenv import dotenv_values

    values = {k: v for k, v in dotenv_values(env_file).items() if v is not None} if env_file.exists() else {}
    return {**values, **os.environ}


def _connect(env_file: Path) -> tuple[dict[str, str], AwsClients, str] | None:
    """The settings, the clients and the account id; None (having said why) without a region."""
    from poky_app.aws.clients import AwsClients

    environ = _environment(env_file)
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if not region:
        err_console.print("[red]error:[/red] set AWS_REGION (or AWS_DEFAULT_REGION) to the region to work in")
        return None
    clients = AwsClients(region)
    return environ, clients, clients.get("sts").get_caller_identity()["Account"]


def bootstrap(image: str, env_file: Path, dry_run: bool, lambda_function: str | None = None) -> int:
    from poky_app.aws.bootstrap import Bootstrap, default_names, write_env_file

    connected = _connect(env_file)
    if connected is None:
        return EXIT_ERROR
    environ, clients, account = connected
    console.print(f"{'Planning' if dry_run else 'Bootstrapping'} Poky in account {account}, region {clients.region}")
    run = Bootstrap(clients, default_names(account, environ), dry_run=dry_run,
                    say=lambda line: console.print(f"  {line}"))
    settings = run.run(image)
    if lambda_function:
        run.connect_events(lambda_function)
    if dry_run:
        console.print(f"{run.changes} change(s) to make; nothing was changed. Would write to {env_file}:")
        for key, value in settings.items():
            console.print(f"  {key}={value}")
        return EXIT_OK
    changed = write_env_file(env_file, settings)
    console.print(f"{run.changes} change(s) made; {env_file}: "
                  + (f"set {', '.join(changed)}" if changed else "already up to date"))
    return EXIT_OK


def teardown(env_file: Path, force: bool) -> int:
    from poky_app.aws.bootstrap import default_names
    from poky_app.aws.bootstrap import teardown as remove
    from poky_app.aws.clients import AwsClients

    environ = _environment(env_file)
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if not region:
        err_console.print("[red]error:[/red] set AWS_REGION (or AWS_DEFAULT_REGION)")
        return EXIT_ERROR
    clients = AwsClients(region)
    account = clients.get("sts").get_caller_identity()["Account"]
    try:
        remove(clients, default_names(account, environ), force=force, say=lambda line: console.print(f"  {line}"))
    except RuntimeError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        return EXIT_ERROR
    console.print("Poky's AWS resources are gone.")
    return EXIT_OK


def iam_policy(env_file: Path) -> int:
    """Print the control plane's least-privilege policy (the one bootstrap puts on its role)."""
    import json

    from poky_app.aws.bootstrap import Bootstrap, default_names

    connected = _connect(env_file)
    if connected is None:
        return EXIT_ERROR
    environ, clients, account = connected
    names = default_names(account, environ)
    policy = Bootstrap(clients, names, dry_run=True, say=lambda line: None).control_plane_policy()
    console.out(json.dumps(policy, indent=2), highlight=False)
    return EXIT_OK
