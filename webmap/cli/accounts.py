"""`riskmap` commands for accounts and the audit log (registered by webmap.cli.main).

``riskmap user add NAME --role R [--scope 110105] [--password-stdin]``   and list | disable | enable | passwd | role
``riskmap token create --user U --name N [--role R] [--scope C] [--expires-days D]``   and list | revoke
``riskmap audit-log [--since --until --user --action --format csv|xlsx|json --out F]``   and ``audit-log verify``

Passwords are read from a prompt that does not echo, or with ``--password-stdin`` from the
first line of standard input — never from the command line (it would sit in the shell's
history and in ``ps``).  Every change is written to the audit log as ``cli:<os user>``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from geo.audit_log import AuditQuery, parse_utc, utc_text
from geo.errors import BadInput

if TYPE_CHECKING:
    from geo.accounts import RoleBook, UserRecord
    from geo.capabilities.context import Context
    from geo.credentials import TokenRecord

_PASSWORD_STDIN = click.option("--password-stdin", is_flag=True,
                               help="Read the password from the first line of standard input (no prompt).")
_SCOPE = click.option("--scope", "scopes", multiple=True, metavar="CODES",
                      help="Area codes the user may see (110105, 120000; repeat or separate with commas).")


def _context() -> Context:
    from webmap.cli.main import _context as context

    return context()


def read_roles_of(ctx: Context) -> RoleBook:
    """The role file of the settings, checked against the layer catalog (a changed file is
    audited as ``config_change``)."""
    from geo.capabilities.accounts import read_roles
    from geo.capabilities.audit_log import record_file_version
    from layers.catalog import CATALOG

    roles = read_roles(ctx.paths.roles_path, layers=[layer.id for layer in CATALOG], cache=ctx.cache)
    record_file_version(ctx.store, "config_change", ctx.paths.roles_path, actor=_actor())
    return roles


def _codes(scopes: Iterable[str]) -> list[str]:
    return [code for item in scopes for code in item.split(",") if code.strip()]


def read_password(*, from_stdin: bool, confirm: bool = True) -> str:
    """The new password: the first line of standard input, or typed twice at a prompt that
    does not echo; :class:`BadInput` when standard input is empty."""
    if from_stdin:
        line = sys.stdin.readline()
        if not line:
            raise BadInput("--password-stdin: standard input is empty")
        return line.rstrip("\r\n")
    return str(click.prompt("Password / 密码", hide_input=True, confirmation_prompt=confirm))


def _actor() -> str:
    from geo.capabilities.audit_log import cli_actor

    return cli_actor()


def _scope_text(scope: Sequence[str]) -> str:
    return ",".join(scope) or "*"


def _time_text(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%SZ") if moment is not None else "-"


def _cell(value: Any) -> str:
    if isinstance(value, list):
        return _scope_text(value)
    return "-" if value is None else str(value)


def _echo_rows(rows: list[dict[str, Any]], columns: Sequence[tuple[str, int]], *, as_json: bool) -> None:
    """``rows`` as JSON, or as a table of ``columns`` (key and width; times in UTC)."""
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    click.echo(" ".join(f"{key:<{width}}" for key, width in columns).rstrip())
    for row in rows:
        click.echo(" ".join(f"{_cell(row[key]):<{width}}" for key, width in columns).rstrip())


# -- user ------------------------------------------------------------------------------


@click.group("user")
def user_group() -> None:
    """Users: add, list, disable, enable, set a password or a role."""


@user_group.command("add")
@click.argument("name")
@click.option("--role", required=True, help="A role of the role file (admin, commander, planner, analyst, "
                                            "district_officer, viewer).")
@click.option("--display-name", default=None, help="Name shown on pages (default NAME).")
@_SCOPE
@_PASSWORD_STDIN
def user_add(name: str, role: str, display_name: str | None, scopes: tuple[str, ...], password_stdin: bool) -> None:
    """Add user NAME with a role (and a scope: a district officer needs one)."""
    from geo.capabilities.accounts import add_user

    ctx = _context()
    roles = read_roles_of(ctx)
    roles.role(role)  # an unknown role fails before the password is asked for
    password = read_password(from_stdin=password_stdin)
    user = add_user(ctx.store, roles, name=name, role=role, password=password, display_name=display_name,
                    scope=_codes(scopes), actor=_actor())
    click.echo(f"user {user.name} added: {_role_words(roles, user.role)}, scope {_scope_text(user.scope)}")


def _role_words(roles: RoleBook, name: str) -> str:
    role = roles.roles.get(name)
    return f"{name} ({role.zh})" if role is not None else f"{name} (not in the role file)"


def _user_row(user: UserRecord) -> dict[str, Any]:
    return {"name": user.name, "display_name": user.display_name, "role": user.role, "scope": list(user.scope),
            "disabled": user.disabled, "state": "disabled" if user.disabled else "active",
            "created_at": utc_text(user.created_at),
            "updated_at": utc_text(user.updated_at)}


@user_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def user_list(as_json: bool) -> None:
    """List the users (never a password or a hash)."""
    from geo.capabilities.accounts import list_users

    rows = [_user_row(u) for u in list_users(_context().store)]
    _echo_rows(rows, [("name", 20), ("role", 17), ("scope", 16), ("state", 8), ("updated_at", 27),
                      ("display_name", 0)], as_json=as_json)


@user_group.command("disable")
@click.argument("name")
def user_disable(name: str) -> None:
    """Disable user NAME: no sign-in, none of its tokens works."""
    from geo.capabilities.accounts import set_disabled

    set_disabled(_context().store, name, True, actor=_actor())
    click.echo(f"user {name} disabled")


@user_group.command("enable")
@click.argument("name")
def user_enable(name: str) -> None:
    """Enable user NAME again."""
    from geo.capabilities.accounts import set_disabled

    set_disabled(_context().store, name, False, actor=_actor())
    click.echo(f"user {name} enabled")


@user_group.command("passwd")
@click.argument("name")
@_PASSWORD_STDIN
def user_passwd(name: str, password_stdin: bool) -> None:
    """Set a new password for user NAME (and clear its failed sign-ins)."""
    from geo.capabilities.accounts import get_user, set_password

    ctx = _context()
    get_user(ctx.store, name)  # an unknown user fails before the password is asked for
    set_password(ctx.store, name, read_password(from_stdin=password_stdin), actor=_actor())
    click.echo(f"password of {name} changed")


@user_group.command("role")
@click.argument("name")
@click.argument("role")
@_SCOPE
def user_role(name: str, role: str, scopes: tuple[str, ...]) -> None:
    """Give user NAME the role ROLE (and a scope; without --scope the user's stays)."""
    from geo.capabilities.accounts import set_role

    ctx = _context()
    roles = read_roles_of(ctx)
    user = set_role(ctx.store, roles, name, role, scope=_codes(scopes) if scopes else None, actor=_actor())
    click.echo(f"user {user.name}: {_role_words(roles, user.role)}, scope {_scope_text(user.scope)}")


# -- token -----------------------------------------------------------------------------


@click.group("token")
def token_group() -> None:
    """API tokens (Authorization: Bearer) for scripts: create, list, revoke."""


@token_group.command("create")
@click.option("--user", "user_name", required=True, help="The user the token acts for.")
@click.option("--name", required=True, help="What the token is for (shown in lists and the audit log).")
@click.option("--role", default=None, help="A role within the user's (default the user's).")
@_SCOPE
@click.option("--expires-days", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Days until the token expires (default: never).")
def token_create(user_name: str, name: str, role: str | None, scopes: tuple[str, ...],
                 expires_days: float | None) -> None:
    """Create a token; its secret is printed once, on standard output, and never kept."""
    from geo.capabilities.accounts import create_token

    ctx = _context()
    expires = datetime.now(UTC) + timedelta(days=expires_days) if expires_days is not None else None
    record, secret = create_token(ctx.store, read_roles_of(ctx), user=user_name, name=name, role=role,
                                  scope=_codes(scopes) if scopes else None, expires_at=expires, actor=_actor())
    click.echo(f"token {record.token_id} for {record.user}: role {record.role}, scope {_scope_text(record.scope)}, "
               f"expires {_time_text(record.expires_at) if record.expires_at else 'never'}; "
               "the secret below is shown once:", err=True)
    click.echo(secret)


def _token_row(token: TokenRecord, now: datetime) -> dict[str, Any]:
    def stamp(moment: datetime | None) -> str | None:
        return utc_text(moment) if moment is not None else None

    return {"id": token.token_id, "name": token.name, "user": token.user, "role": token.role,
            "scope": list(token.scope), "state": token.state(now), "created_at": stamp(token.created_at),
            "expires_at": stamp(token.expires_at), "last_used_at": stamp(token.last_used_at),
            "revoked_at": stamp(token.revoked_at)}


@token_group.command("list")
@click.option("--user", "user_name", default=None, help="Only this user's tokens.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def token_list(user_name: str | None, as_json: bool) -> None:
    """List tokens (ids and states; secrets are not kept)."""
    from geo.capabilities.accounts import list_tokens

    now = datetime.now(UTC)
    rows = [_token_row(t, now) for t in list_tokens(_context().store, user_name)]
    _echo_rows(rows, [("id", 13), ("user", 20), ("role", 17), ("state", 8), ("expires_at", 27),
                      ("last_used_at", 27), ("name", 0)], as_json=as_json)


@token_group.command("revoke")
@click.argument("token_id")
def token_revoke(token_id: str) -> None:
    """Revoke token TOKEN_ID: it stops working at once."""
    from geo.capabilities.accounts import revoke_token

    token = revoke_token(_context().store, token_id, actor=_actor())
    click.echo(f"token {token.token_id} of {token.user} revoked at {_time_text(token.revoked_at)}")


# -- audit-log -------------------------------------------------------------------------


def _time_option(value: str | None) -> datetime | None:
    return parse_utc(value) if value is not None else None


@click.group("audit-log", invoke_without_command=True)
@click.option("--since", default=None, help="From this time on (ISO 8601, UTC unless stated: 2026-01-31).")
@click.option("--until", default=None, help="Before this time (ISO 8601).")
@click.option("--user", "user_name", default=None, help="Entries of this user and its tokens.")
@click.option("--action", default=None, help="Entries of this action (login, veto, load, user_add, ...).")
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx", "json"]), default=None,
              help="File format (default: from --out's suffix; without --out a table on the screen).")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default=None, help="Write to this file.")
@click.pass_context
def audit_log_group(click_ctx: click.Context, since: str | None, until: str | None, user_name: str | None,
                    action: str | None, fmt: str | None, out: Path | None) -> None:
    """The audit log: who did what, when, from where (``verify`` checks its hash chain)."""
    if click_ctx.invoked_subcommand is not None:
        return
    from geo.capabilities.audit_log import log_export, read_log

    query = AuditQuery(since=_time_option(since), until=_time_option(until), user=user_name, action=action)
    fmt = fmt or (out.suffix.lower().lstrip(".") if out is not None else None)
    if fmt is not None and fmt not in ("csv", "xlsx", "json"):
        raise BadInput(f"--out {out}: suffix must be .csv, .xlsx or .json (or give --format)")
    if fmt == "xlsx" and out is None:
        raise BadInput("--format xlsx needs --out FILE")
    entries = read_log(_context().store, query)
    if fmt is None:
        for e in entries:
            details = json.dumps(dict(e.details), ensure_ascii=False, sort_keys=True)
            click.echo(f"{e.id:>6} {_time_text(e.at)} {e.actor:<24} {e.remote:<15} {e.action:<14} {e.outcome:<8} "
                       f"{e.target} {details}")
        return
    data = log_export(entries, fmt, query=query)
    if out is None:
        click.echo(data.decode("utf-8-sig"), nl=False)
    else:
        out.write_bytes(data)
        click.echo(f"{len(entries)} entries -> {out}", err=True)


@audit_log_group.command("verify")
def audit_log_verify() -> None:
    """Recompute the hash chain: "ok, N entries" (exit 0), or the first broken entry (exit 1)."""
    from geo.capabilities.audit_log import verify

    check = verify(_context().store)
    if check.broken is not None:
        click.echo(f"riskmap: audit log broken at {check.broken.as_text()} "
                   f"({check.entries} entries before it verify)", err=True)
        sys.exit(1)
    click.echo(f"ok, {check.entries} entries (last hash {check.last_hash})")


#: Commands this module adds to `riskmap`.
COMMANDS: list[click.Command] = [user_group, token_group, audit_log_group]
