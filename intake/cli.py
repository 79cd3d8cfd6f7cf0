"""The `intake` command."""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Callable, Sequence

from sqlalchemy.orm import Session

from intake.config import Settings, get_settings
from intake.db import make_engine, make_session_factory

Handler = Callable[[argparse.Namespace], int]


def _session() -> Session:
    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return make_session_factory(make_engine(settings.database_url))()


def proxy_options(settings: Settings) -> dict[str, object]:
    """uvicorn's forwarded-header options: believed only from the configured proxies
    (uvicorn alone would trust 127.0.0.1, so anything on the host could pick its address)."""
    trusted = ",".join(part.strip() for part in settings.trusted_proxies.split(",") if part.strip())
    if not trusted:
        return {"proxy_headers": False, "forwarded_allow_ips": ""}
    return {"proxy_headers": True, "forwarded_allow_ips": trusted}


def cmd_serve(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    from intake import i18n

    logging.basicConfig(level=logging.INFO, format="%(levelname)s: %(name)s: %(message)s")
    # Loads every catalog (the .po when no current .mo exists), logs the locales
    # served, and refuses an incomplete one in production.
    i18n.check_catalogs(production=get_settings().mode == "production")

    from intake import serving

    # Reading the settings makes the development secret key and data key under var/,
    # once, here: workers started together would each write their own otherwise.
    settings = get_settings()
    uvicorn.run(
        "intake.app:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers or serving.default_workers(settings),
        **proxy_options(settings),  # type: ignore[arg-type]
    )
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    from intake import migrate

    settings = get_settings()
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    migrate.upgrade(url=settings.database_url)
    print("database is at the newest schema")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from intake import demo

    with _session() as db:
        try:
            accounts = demo.seed(db=db)
        except demo.RealUsersExist:
            if args.if_empty:
                print("users exist already: no demo accounts were added")
                return 0
            print(
                "refused: users already exist; the demo only seeds an empty database",
                file=sys.stderr,
            )
            return 1
    print("Demo accounts (the passwords are shown only this once):")
    for username, role, org, password in accounts:
        print(f"  {username:<12} {role:<16} {org:<28} {password}")
    return 0


def _read_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if sys.stdin.isatty():
        first = getpass.getpass("Password (empty for a one-time secret): ")
        if first and first != getpass.getpass("Again: "):
            raise SystemExit("the two passwords differ")
        return first or None
    return None


def cmd_users_create(args: argparse.Namespace) -> int:
    from intake.accounts import service

    password = _read_password(args)
    with _session() as db:
        org = service.get_or_create_organisation(db=db, name=args.org, kind=args.org_kind)
        try:
            user, secret = service.create_user(
                db=db,
                username=args.name,
                display_name=args.display_name or args.name,
                role=args.role,
                organisation=org,
                password=password,
            )
        except service.AccountError as exc:
            print(f"refused: {exc}", file=sys.stderr)
            return 1
    print(f"created {user.username} ({user.role}) in {args.org}")
    if secret:
        print(f"one-time password (must be changed at first sign-in): {secret}")
    return 0


def _with_user(args: argparse.Namespace, action: Callable[[Session, object], str]) -> int:
    from intake.accounts import service

    with _session() as db:
        user = service.find_user_by_name(db=db, username=args.name)
        if user is None:
            print(f"no user named {args.name}", file=sys.stderr)
            return 1
        print(action(db, user))
    return 0


def cmd_users_disable(args: argparse.Namespace) -> int:
    from intake.accounts import service

    def disable(db: Session, user: object) -> str:
        service.set_active(db=db, actor=None, user=user, active=False)  # type: ignore[arg-type]
        return f"{args.name} is disabled and signed out everywhere"

    return _with_user(args, disable)


def cmd_users_reset(args: argparse.Namespace) -> int:
    from intake.accounts import service

    def reset(db: Session, user: object) -> str:
        secret = service.reset_password(db=db, actor=None, user=user)  # type: ignore[arg-type]
        return (
            f"the password of {args.name} was reset and their sessions ended\n"
            f"one-time password (must be changed at first sign-in): {secret}"
        )

    return _with_user(args, reset)


def cmd_sessions_revoke(args: argparse.Namespace) -> int:
    from intake.accounts import service

    def revoke(db: Session, user: object) -> str:
        count = service.revoke_sessions(db=db, actor=None, user=user)  # type: ignore[arg-type]
        return f"ended {count} session(s) of {args.name}"

    return _with_user(args, revoke)


def cmd_audit_verify(args: argparse.Namespace) -> int:
    from intake.audit import service as audit

    with _session() as db:
        broken = audit.verify_chain(db=db)
    if broken is None:
        print("audit chain intact")
        return 0
    if broken == -1:
        print("audit chain broken: rows are missing at the end of the trail")
    else:
        print(f"audit chain broken at row {broken}")
    return 1


def cmd_backup(args: argparse.Namespace) -> int:
    from pathlib import Path

    from intake import backup

    try:
        report = backup.backup(database_url=get_settings().database_url, target=Path(args.file))
    except backup.BackupError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(
        f"backed up {report.rows} rows in {report.tables} tables; "
        f"audit chain intact ({report.audit_events} events). "
        "Keep the data keys apart from this file: it is useless without them."
    )
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    from pathlib import Path

    from intake import backup

    try:
        report = backup.restore(
            database_url=get_settings().database_url, source=Path(args.file), force=args.force
        )
    except backup.BackupError as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return 1
    print(
        f"restored {report.rows} rows in {report.tables} tables; "
        f"audit chain intact ({report.audit_events} events)"
    )
    return 0


def cmd_users_reset_mfa(args: argparse.Namespace) -> int:
    from intake.accounts import mfa
    from intake.accounts import service as accounts

    with _session() as db:
        user = accounts.find_user_by_name(db=db, username=args.username)
        if user is None:
            print("no such user", file=sys.stderr)
            return 1
        # The operator acts for the installation: recorded with no actor.
        mfa.reset(db=db, actor=None, user=user)
    print(f"second factor of {args.username} reset; they set up a new one at next sign-in")
    return 0


def cmd_definitions_sync(args: argparse.Namespace) -> int:
    from intake.definitions import service as definitions
    from intake.yaml_source import DefinitionProblems

    with _session() as db:
        try:
            published = definitions.sync_files(db=db)
        except DefinitionProblems as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            print("nothing was published", file=sys.stderr)
            return 1
    for version in published:
        print(f"published {version.kind} {version.key} as version {version.number}")
    if not published:
        print("every definition is up to date")
    return 0


def cmd_forms_check(args: argparse.Namespace) -> int:
    from intake.forms import cli as forms_cli

    return forms_cli.check_command(args.paths)


def cmd_exports_check(args: argparse.Namespace) -> int:
    from intake.statistics import exports_htcds

    return exports_htcds.check_command(args.path)


def cmd_forms_import_xlsform(args: argparse.Namespace) -> int:
    from intake.forms import cli as forms_cli

    return forms_cli.import_xlsform_command(args.file, form_id=args.id, output=args.output)


def cmd_forms_schema(args: argparse.Namespace) -> int:
    from intake.forms import cli as forms_cli

    print(forms_cli.schema_command())
    return 0


def _file_forms() -> tuple[dict[str, object], dict[str, frozenset[str]]]:
    from pathlib import Path

    from intake.forms import cli as forms_cli
    from intake.forms.loader import load_form
    from intake.yaml_source import DefinitionProblems

    fields: dict[str, object] = {}
    choices: dict[str, frozenset[str]] = {}
    for path in forms_cli.default_form_paths():
        try:
            form = load_form(Path(path).read_text(encoding="utf-8"), file=path)
        except DefinitionProblems:
            # A broken form is reported by `intake forms check`; here the
            # workflow check reports the form as unknown.
            pass
        else:
            fields[form.id] = form.variable_types()
            for field, names in form.choice_names().items():
                choices[f"{form.id}.{field}"] = names
    return fields, choices


def cmd_workflows_check(args: argparse.Namespace) -> int:
    from intake.workflow import cli as workflow_cli

    fields, choices = _file_forms()
    return workflow_cli.check_command(args.paths, forms=fields, choices=choices)  # type: ignore[arg-type]


def cmd_workflows_diagram(args: argparse.Namespace) -> int:
    from intake.workflow import cli as workflow_cli

    try:
        print(workflow_cli.diagram_command(args.id, language=args.language))
    except LookupError:
        print(f"no workflow with id {args.id}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="intake", description="Secure intake and case workflows.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the web application")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=0,
        help="server processes (default: 1 for SQLite, one per core for PostgreSQL)",
    )
    serve.set_defaults(handler=cmd_serve)

    db = sub.add_parser("db", help="database schema").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("upgrade", help="migrate to the newest schema").set_defaults(
        handler=cmd_db_upgrade
    )

    demo = sub.add_parser("demo", help="seed demo organisations and users")
    demo.add_argument(
        "--if-empty", action="store_true", help="succeed quietly when users exist already"
    )
    demo.set_defaults(handler=cmd_demo)

    users = sub.add_parser("users", help="manage users").add_subparsers(
        dest="users_command", required=True
    )
    create = users.add_parser("create", help="create a user (and its organisation if new)")
    create.add_argument("name")
    create.add_argument(
        "--role",
        required=True,
        choices=["outreach_worker", "supervisor", "admin", "installation_admin", "coordinator"],
        help="installation_admin manages organisations and their administrators (CLI only)",
    )
    create.add_argument("--org", required=True)
    create.add_argument(
        "--org-kind",
        default="ngo",
        choices=["ngo", "municipality", "shelter", "other", "coordination"],
    )
    create.add_argument("--display-name", default="")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.set_defaults(handler=cmd_users_create)
    disable = users.add_parser("disable", help="disable a user and end their sessions")
    disable.add_argument("name")
    disable.set_defaults(handler=cmd_users_disable)
    reset = users.add_parser(
        "reset",
        help="reset a password and print a one-time secret to hand over "
        "(for a user waiting for a hand-over when their organisation has no supervisor)",
    )
    reset.add_argument("name")
    reset.set_defaults(handler=cmd_users_reset)

    reset_mfa = users.add_parser(
        "reset-mfa", help="clear a user's second factor (a lost phone); they enrol again"
    )
    reset_mfa.add_argument("username")
    reset_mfa.set_defaults(handler=cmd_users_reset_mfa)
    sessions = sub.add_parser("sessions", help="sessions").add_subparsers(
        dest="sessions_command", required=True
    )
    revoke = sessions.add_parser("revoke", help="end every session of a user (a lost phone)")
    revoke.add_argument("name")
    revoke.set_defaults(handler=cmd_sessions_revoke)

    definitions = sub.add_parser("definitions", help="form and workflow definitions")
    definitions_sub = definitions.add_subparsers(dest="definitions_command", required=True)
    definitions_sub.add_parser(
        "sync", help="publish changed files of forms/ and workflows/ as new versions"
    ).set_defaults(handler=cmd_definitions_sync)

    forms = sub.add_parser("forms", help="form definitions").add_subparsers(
        dest="forms_command", required=True
    )
    forms_check = forms.add_parser("check", help="check form files (default: forms/)")
    forms_check.add_argument("paths", nargs="*")
    forms_check.set_defaults(handler=cmd_forms_check)

    exports = sub.add_parser("exports", help="export mappings").add_subparsers(
        dest="exports_command", required=True
    )
    exports_check = exports.add_parser(
        "check", help="check the HTCDS mapping (default: exports/htcds.yaml)"
    )
    exports_check.add_argument("path", nargs="?")
    exports_check.set_defaults(handler=cmd_exports_check)
    forms_import = forms.add_parser("import-xlsform", help="translate an XLSForm (.xlsx)")
    forms_import.add_argument("file")
    forms_import.add_argument("--id", help="the form id (default: settings form_id)")
    forms_import.add_argument("-o", "--output", help="where to write (default: forms/ID.yaml)")
    forms_import.set_defaults(handler=cmd_forms_import_xlsform)
    forms.add_parser("schema", help="print the JSON Schema of the form language").set_defaults(
        handler=cmd_forms_schema
    )

    workflows = sub.add_parser("workflows", help="workflow definitions").add_subparsers(
        dest="workflows_command", required=True
    )
    workflows_check = workflows.add_parser("check", help="check track files (default: workflows/)")
    workflows_check.add_argument("paths", nargs="*")
    workflows_check.set_defaults(handler=cmd_workflows_check)
    diagram = workflows.add_parser("diagram", help="print a track as a mermaid state diagram")
    diagram.add_argument("id")
    diagram.add_argument("--language", default="en")
    diagram.set_defaults(handler=cmd_workflows_diagram)

    audit = sub.add_parser("audit", help="audit trail").add_subparsers(
        dest="audit_command", required=True
    )
    audit.add_parser("verify", help="check the hash chain").set_defaults(handler=cmd_audit_verify)

    from intake.keys.cli import register as register_keys

    register_keys(sub)

    from intake.filling.cli import register as register_offline

    register_offline(sub)

    from intake.retention.cli import register as register_retention

    register_retention(sub)

    backup_cmd = sub.add_parser("backup", help="copy the SQLite database (online, consistent)")
    backup_cmd.add_argument("file")
    backup_cmd.set_defaults(handler=cmd_backup)
    restore_cmd = sub.add_parser("restore", help="replace the database with a checked backup")
    restore_cmd.add_argument("file")
    restore_cmd.add_argument("--force", action="store_true", help="overwrite a non-empty database")
    restore_cmd.set_defaults(handler=cmd_restore)

    i18n_commands = sub.add_parser("i18n", help="translations").add_subparsers(
        dest="i18n_command", required=True
    )
    i18n_commands.add_parser(
        "report", help="share of interface, form and track texts translated, per locale"
    ).set_defaults(handler=cmd_i18n_report)
    return parser


def cmd_i18n_report(args: argparse.Namespace) -> int:
    from intake.i18n_report import report_command

    return report_command(sys.stdout)


def main(argv: Sequence[str] | None = None) -> int:
    from intake import i18n

    # Problems printed by the command follow the environment's language (LANGUAGE, LC_ALL, LANG).
    i18n.set_locale(i18n.environment_locale())
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)


if __name__ == "__main__":
    raise SystemExit(main())
