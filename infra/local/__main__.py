"""Command line: `python -m infra.local` runs the local stack; `python -m infra.local fire Nightly` fires a
schedule; `python -m infra.local token hotline` prints a token of a role's demo user for a running stack."""

from __future__ import annotations

import argparse
import gc
import json
import logging
import signal
import sys
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from infra.local.client import call
from notfall.domain.hours import BERLIN

if TYPE_CHECKING:
    from infra.local.demo import DemoCalendar

DEFAULT_URL = "http://127.0.0.1:3000"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m infra.local", description="notfall on moto, built from template.yaml"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3000, help="HTTP port of the API (0: any free one)")
    parser.add_argument("--no-demo", action="store_true", help="start empty, without demo partners and cases")
    parser.add_argument(
        "--history",
        action="store_true",
        help="start with the generated history of 2014-09-01 to 2022-02-28 instead of the demo (docs/history.md); "
        "--seed and the totals below change it",
    )
    parser.add_argument(
        "--log-level",
        default=None,
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="the template's LogLevel parameter (default: its Default)",
    )
    parser.add_argument(
        "--stream-retention",
        type=float,
        metavar="SECONDS",
        help="keep DynamoDB stream records this long after every stream pump has read them (default: 60)",
    )
    parser.add_argument(
        "--table-store",
        choices=["disk", "memory"],
        default="disk",
        help="where the DynamoDB tables keep their items: disk (a temporary SQLite file, memory stays flat; "
        "the default) or memory (moto's own, a little faster, grows by about 14 KB per call event)",
    )
    sub = parser.add_subparsers(dest="command")
    fire = sub.add_parser("fire", help="fire a schedule event of a running local stack")
    fire.add_argument("event", help="the event's name under the function's Events, e.g. Nightly")
    fire.add_argument("--url", default=DEFAULT_URL)
    token = sub.add_parser(
        "token", help="print a token for a role of a running local stack: TOKEN=$(python -m infra.local token hotline)"
    )
    token.add_argument(
        "role", help="hotline, accounting, admin, caregiver, caregiver2, caregiver3, partner, auditor, phone-system"
    )
    token.add_argument("--url", default=DEFAULT_URL)
    token.add_argument(
        "--caregiver-id",
        help="with role caregiver: the user of this caregiver (created as an administrator would, once)",
    )
    from infra.local.history import add_totals

    add_totals(parser)
    args = parser.parse_args(argv)
    if args.command == "fire":
        return fire_schedule(args.url, args.event)
    if args.command == "token":
        return print_token(args.url, args.role, args.caregiver_id)
    return run(args)


def print_token(url: str, role: str, caregiver_id: str | None = None) -> int:
    from infra.local.tokens import TokenError, Tokens

    if caregiver_id and role != "caregiver":
        print("--caregiver-id goes with the role caregiver", file=sys.stderr)
        return 2
    try:
        tokens = Tokens(url)
        print(tokens.caregiver(caregiver_id) if caregiver_id else tokens.token(role))
    except TokenError as err:
        print(err, file=sys.stderr)
        return 2
    return 0


def fire_schedule(url: str, event: str) -> int:
    try:
        status, body = call("POST", f"{url.rstrip('/')}/_local/schedules/{event}", b"")
    except OSError as err:
        print(f"no local stack at {url}: {err}", file=sys.stderr)
        return 2
    print(json.dumps(body, indent=2))
    return 0 if status == 200 else 1


def run(args: argparse.Namespace) -> int:
    from infra.local.stack import LocalStack

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    # Each HTTP request and stream delivery is logged at DEBUG: the demo alone makes a few hundred.
    logging.getLogger("infra.local").setLevel(logging.DEBUG if args.log_level == "DEBUG" else logging.INFO)
    parameters = {"LogLevel": args.log_level} if args.log_level else {}
    retention = {} if args.stream_retention is None else {"stream_retention": args.stream_retention}
    stack = LocalStack(host=args.host, port=args.port, parameters=parameters, table_store=args.table_store, **retention)
    try:
        stack.start()
    except OSError as err:
        print(f"cannot start: {err} (is port {args.port} taken? try --port)", file=sys.stderr)
        stack.stop()
        return 1
    try:
        interrupt_raises()  # from here on Ctrl-C ends the stack cleanly, even the moment the banner shows
        _out_of_gc_sight()
        history = load_history(stack, args) if args.history else None
        demo = None if args.no_demo or history else load_with_progress(stack.url)
        _out_of_gc_sight()
        print(banner(stack.url, stack.stage, stack.endpoint, demo), flush=True)
        if history:
            print(history_lines(stack.url, history), flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        signal.signal(signal.SIGINT, signal.default_int_handler)  # a second Ctrl-C cuts the stopping short
    finally:
        print("stopping...", flush=True)
        stack.stop()
        _out_of_gc_sight()
    return 0


def _out_of_gc_sight() -> None:
    """Moto keeps every table in memory, and its transactions deep-copy them: after the demo some
    1.5 million objects live for good. Each full garbage collection walks them all (about 1.7 s),
    the demo load triggers many, and interpreter shutdown runs several: Ctrl-C took 10 to 30 s.
    Frozen objects are skipped by the collector; nothing of them needs collecting."""
    gc.freeze()


def load_with_progress(url: str) -> dict[str, Any]:
    from tqdm import tqdm

    from infra.local.demo import demo_items, load_demo

    with tqdm(total=demo_items(), desc="loading the demo", unit="item", leave=False) as bar:
        return load_demo(url, progress=bar.update)


def load_history(stack: Any, args: argparse.Namespace) -> dict[str, Any]:
    from infra.local.history import load_into_stack, totals_from

    return load_into_stack(stack, totals_from(args), args.seed)


def history_lines(url: str, history: dict[str, Any]) -> str:
    """What the history holds, how long it took, and where to look."""
    written = history["written"]
    first, last = history["span"]
    get = f"curl -s {as_('hotline')}"
    return "\n".join(
        [
            f"History {first} to {last} (seed {history['seed']}): {written['consultations']:,} consultations, "
            f"{written['emergencies']:,} emergencies, {written['care_minutes'] // 60:,} care hours, "
            f"{written['transports']:,} transport services; {written['commands']:,} commands, "
            f"{history['events']:,} events: written in {history['write_seconds']:.0f} s, copied in "
            f"{history['copy_seconds']:.0f} s, read model built in {history['project_seconds']:.0f} s.",
            f"  {get} '{url}/reports/demand?from=2021-01&to=2022-02'   emergencies of 2021-2022, filled and not",
            f"  {get} {url}/hours/2019-02   care hours of a month",
            "",
        ]
    )


def interrupt_raises() -> None:
    """Ctrl-C and SIGTERM raise KeyboardInterrupt in the main thread. Both set explicitly: a shell
    that starts us in the background hands SIGINT over ignored, and SIGTERM (a process manager)
    should end the stack as cleanly as Ctrl-C. The handler raises rather than setting a
    threading.Event: it runs on the main thread, which may hold that Event's lock inside wait(),
    and then Ctrl-C hung the process for good."""

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupt)


# The shell variable each role's token goes in, in the order the banner lists them.
TOKEN_VARIABLES = {
    "hotline": "HOTLINE",
    "accounting": "ACCOUNTING",
    "admin": "ADMIN",
    "caregiver": "CAREGIVER",
    "caregiver2": "CAREGIVER2",
    "caregiver3": "CAREGIVER3",
    "partner": "PARTNER",
    "auditor": "AUDITOR",
    "phone-system": "PHONE",
}


def as_(role: str) -> str:
    """The curl option that sends a role's token (from the variable the banner's commands fill)."""
    return f'-H "Authorization: ${TOKEN_VARIABLES[role]}"'


def token_lines(url: str) -> list[str]:
    at = "" if url == DEFAULT_URL else f" --url {url}"
    return [
        "",
        "Every route but /openapi.json and /swagger needs a token (60 minutes; demo users per role):",
        *(
            f"  {variable}=$(.venv/bin/python -m infra.local token {role}{at})"
            for role, variable in TOKEN_VARIABLES.items()
        ),
        "  caregiver: Anke Brenner, caregiver2: Hanna Sievers, caregiver3: Marta Wozniak, partner: Leine Logistik;"
        " phone-system: the client credentials grant",
    ]


def banner(url: str, stage: str, moto: str, demo: dict[str, Any] | None) -> str:
    at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    call_body = json.dumps(
        {
            "type": "started",
            "call_id": f"call-{at[11:19].replace(':', '')}",
            "line": "hotline-1",
            "caller_number": "+49 511 9876543",
            "at": at,
        }
    )
    post = (
        f"curl -s -X POST {url}/calls/events -H 'Content-Type: application/json' {as_('phone-system')} -d '{call_body}'"
    )
    get = f"curl -s {as_('hotline')}"
    lines = [
        "",
        "notfall local stack (from template.yaml, on moto) - Ctrl-C stops it",
        f"  API          {url}  (also under {url}/{stage})   Cognito tokens verified as API Gateway does",
        f"  OpenAPI      {url}/openapi.json   (Swagger UI: {url}/swagger)",
        f"  local tools  {url}/_local   (routes, tables, streams, schedules, user pool)",
        "  schedules    python -m infra.local fire Nightly|SweepUnassigned|FamilyInvoices|PartnerMonthlyInvoices"
        "|PartnerYearlyInvoices" + ("" if url == DEFAULT_URL else f" --url {url}"),
        f"  moto         {moto}   e.g. aws --endpoint-url {moto} dynamodb scan"
        " --table-name notfall-local-ReadModelTable",
        *token_lines(url),
    ]
    if demo is not None:
        emergency = next((c["case_id"] for c in demo["cases"] if "emergency" in c["label"]), None)
        waiting = next((c["case_id"] for c in demo["cases"] if "waiting for a caregiver" in c["label"]), None)
        # Needs count in the Berlin month they were recorded (the demo records them now); invoices too.
        month = datetime.now(BERLIN).strftime("%Y-%m")
        calendar = demo["calendar"]
        recent = calendar.month("2026-11-05T10:40:00Z")  # the month of the children's emergency, as written
        lines += [
            "",
            f"Demo data: {len(demo['partners'])} partners, {len(demo.get('caregivers', []))} caregivers, "
            f"{len(demo['cases'])} cases.",
            f"  {get} {url}/cases          the open queue",
            f"  {get} {url}/callbacks      voicemails waiting",
            f"  {get} {url}/hours/{recent}  care hours of the month",
            f"  {get} {url}/caregivers     the caregiver register",
        ]
        if emergency:
            lines.append(f"  {get} {url}/cases/{emergency}   an emergency case: offers, assignment, session")
        if waiting:
            lines.append(f"  {get} {url}/cases/{waiting}/candidates   who could take a Saturday evening")
        if demo.get("caregivers"):
            lines += [
                f"  curl -s {as_('caregiver')} {url}/caregivers/cg-demo-01/statements/{recent}   Anke's expense "
                "statement (?format=csv: the file)",
                f"  {get} '{url}/reports/demand?from={month}&to={month}&by=municipality'   demand",
                f"  {get} {url}/reports/transports/{recent}   transport services",
            ]
        if demo.get("families"):
            lines += invoicing_lines(url, month, calendar)
    lines += [
        "",
        "Open a case (a call starts, reported by the phone system):",
        f"  {post}",
        "",
        "...and read it back, taking the case id from the answer (the projection follows within a moment):",
        f"  case=$({post} | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"case_id\"])')",
        f"  {get} {url}/cases/$case",
        "",
    ]
    return "\n".join(lines)


def invoicing_lines(url: str, month: str, calendar: DemoCalendar) -> list[str]:
    """How to run the invoicing of the demo's month to invoice and download the documents."""
    post = f"curl -s -X POST {url}/invoice-runs -H 'Content-Type: application/json' {as_('accounting')} -d"
    get = f"curl -s {as_('accounting')}"
    billed, year = calendar.month_to_invoice, str(calendar.year(2025))
    change = calendar.day("2026-10-16").isoformat()
    return [
        "",
        f"Invoicing (the demo has care in {billed}, the previous month, partners with contracts, and a price "
        f"change on {change}):",
        f"""  {post} '{{"kind": "family", "period": "{billed}"}}'          families' month""",
        f"""  {post} '{{"kind": "partner-monthly", "period": "{billed}"}}' companies' monthly fees""",
        f"""  {post} '{{"kind": "partner-yearly", "period": "{year}"}}'     yearly fees and municipalities""",
        "  (or fire the schedule: python -m infra.local fire FamilyInvoices - it bills the previous month)",
        f"  {get} '{url}/invoices?month={month}'   the invoices issued this month",
        f"  {get} {url}/invoices/F-{month[:4]}-00001/documents   links to the PDF (partners: also the e-invoice XML)",
        f"""  curl -s -o invoice.pdf "$({get} {url}/invoices/F-{month[:4]}-00001/documents | """
        """python3 -c 'import json,sys; print(json.load(sys.stdin)["pdf"])')"   download it""",
    ]


if __name__ == "__main__":
    sys.exit(main())
