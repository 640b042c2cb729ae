"""tds user: users and their roles (operator of the home only)."""

from __future__ import annotations

import sys

import click

from service.cli.base import emit, json_option, operating


@click.group()
def user() -> None:
    """Users and their roles (operator of the home only)."""


@user.command("add")
@click.argument("name")
@click.option("--role", required=True,
              type=click.Choice(["provider", "merchant", "reviewer", "admin", "regulator"]))
@click.option("--org", help="organization (required for merchants and reviewers)")
@click.option("--email", help="where the user's notices are e-mailed (needs notifications.smtp_host)")
@json_option
def user_add(name: str, role: str, org: str | None, email: str | None, as_json: bool) -> None:
    """Add a user and print its API token (shown only once)."""
    from actions import users

    data = users.add(operating(), name, role, org, email=email)
    emit(data, as_json, lambda d: f"user {d['name']} ({d['role']}) created; token: {d['token']}")


@user.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="read the password from standard input "
              "(first line) instead of prompting")
def user_passwd(name: str, password_stdin: bool) -> None:
    """Set a user's web console password (Argon2 hash); ends the user's console sessions."""
    from actions import users

    ctx = operating()
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("New password", hide_input=True, confirmation_prompt=True)
    done = users.set_password(ctx, name, password)
    ended = done["sessions_ended"]
    click.echo(f"password of {done['name']} set" + (f"; {ended} console session(s) ended"
                                                      if ended else ""))


@user.command("email")
@click.argument("name")
@click.argument("email")
@json_option
def user_email(name: str, email: str, as_json: bool) -> None:
    """Set where a user's notices are e-mailed ("" stops them)."""
    from actions import users

    data = users.set_email(operating(), name, email)
    emit(data, as_json, lambda d: f"notices of {d['name']} go to {d['email'] or 'the console only'}")


@user.command("token")
@click.argument("name")
@json_option
def user_token(name: str, as_json: bool) -> None:
    """Issue a new API token for a user (expired or leaked); the old one stops working."""
    from actions import users

    data = users.rotate_token(operating(), name)
    emit(data, as_json, lambda d: f"new token of {d['name']} (expires {d['token_expires_at']}): "
                                  f"{d['token']}")


@user.command("list")
@json_option
def user_list(as_json: bool) -> None:
    from actions import users

    emit([{k: v for k, v in u.items() if k != "has_password"} for u in users.search(operating())],
         as_json)


COMMANDS = [user]
