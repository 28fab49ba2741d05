"""Benchmark: the pages a manager waits for, over HTTP, on PostgreSQL at full scale.

    make bench-pages   (CLIENTS=50000 LINES=10000000 AS_OF=2025-06-30 by default;
                        CLIENTS=2000 LINES=200000 for a quick check)

Steps:

1. Seeds the demo as ``bench_metrics`` does (``manage.py seed_demo``, COPY on
   PostgreSQL) unless the database already holds shipment lines, then runs
   the metric engine once as of AS_OF (``bench_metrics``' recompute step, in
   its own process) unless a successful run exists.
2. Picks two users: the client manager whose book is the median of the
   client managers' books (``seed_demo`` shares the clients out by sales type
   at about 350 clients per manager) and the head of the top team, who sees
   the whole base. Their passwords are set to BENCH_PASSWORD, so the bench
   changes the database it runs on: run it under ``scripts/test-services.sh``.
3. Starts gunicorn (``config.wsgi``, 2 sync workers, DEBUG off, the same
   DATABASE_URL; ``tests/bench/pages_settings.py`` only swaps the static
   files' manifest storage for the plain one, as no static file is served)
   on a free loopback port, and logs each user in over HTTP with the
   standard library: the login page, then its form with the CSRF token,
   keeping the session cookie.
4. For each user: the client list filtered (the commonest region of the
   user's clients) and sorted by revenue_12m descending; the list searched
   by six digits of an INN; the card of a typical client (the median
   revenue_12m of the user's clients) and of the biggest; "my day" (/).
   Five warm-up requests, then REQUESTS (100) sequential ones: the median,
   the 95th percentile and the longest time, from sending the request to
   the last byte, and the response size. A response other than 200
   (redirects are not followed) fails its line.
5. Renders each page once more in a child process with Django's test
   client to count its SQL queries and their time; for a page that misses
   the targets, prints EXPLAIN (ANALYZE, BUFFERS) of its slowest queries.

gunicorn is stopped whatever happens. Figures are printed and compared with
the targets (100 ms median, 250 ms p95), never asserted: a miss does not fail
the process; a line with non-200 responses exits with status 1, as it
measured nothing.
"""

from __future__ import annotations

import datetime as dt
import http.cookiejar
import json
import math
import os
import re
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from tests.bench.bench_metrics import _setup, load, run_step, seed  # noqa: E402

# The client list's query parameters, as crm/filtersets.py (ClientFilterSet)
# names them when this was written; the list is being rebuilt, so adjust them
# here. A name the filter set does not declare is reported before the
# measurements, and so is a filter or a sort that leaves the page's rows
# unchanged (the line would then measure another query).
LIST_PARAMS: dict[str, str] = {
    "search": "q",  # name, part of an INN, external id, contacts
    "filter": "segment",  # the filtered line: "segment" (LIST_SEGMENT_VALUE) or "region"
    "sort": "ordering",  # a field or a metric, "-" for descending
}
LIST_SORT_VALUE = "-revenue_12m"
LIST_SEGMENT_VALUE = "A"  # with "region", the commonest region of the user's clients
INN_FRAGMENT = slice(2, 8)  # six digits from inside an INN

TARGET_MEDIAN_MS = 100.0
TARGET_P95_MS = 250.0
WARM_UP = 5
BENCH_PASSWORD = "bench-pages-password"
WORKERS = 2
EXPLAIN_SLOWEST = 3  # queries explained per missed page …
EXPLAIN_MIN_MS = 5.0  # … when they take at least this long
REQUEST_TIMEOUT_S = 300


@dataclass
class Line:
    """One measured page: who asks for what."""

    label: str
    user: str  # e-mail
    path: str  # path and query string
    times_ms: list[float] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    bad: dict[str, int] = field(default_factory=dict)  # status -> count

    def stat(self, q: float) -> float:
        ordered = sorted(self.times_ms)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] if ordered else math.nan

    @property
    def median(self) -> float:
        return statistics.median(self.times_ms) if self.times_ms else math.nan

    @property
    def failed(self) -> int:
        return sum(self.bad.values())

    def verdict(self) -> str:
        if self.failed:
            return "FAIL"
        ok = self.median <= TARGET_MEDIAN_MS and self.stat(0.95) <= TARGET_P95_MS
        return "PASS" if ok else "MISS"


# ---------------------------------------------------------------------------
# Data: seed, metric run, users and the clients their pages show
# ---------------------------------------------------------------------------


def with_password(user: Any) -> Any:
    user.set_password(BENCH_PASSWORD)
    user.save(update_fields=["password"])
    return user


def pick_manager() -> tuple[Any, dict[str, int]]:
    """The client manager with the median book, and the spread of the books."""
    from django.db.models import Count

    from accounts.choices import Role
    from accounts.models import User
    from crm.models import Client

    books = list(
        Client.objects.filter(merged_into__isnull=True, owner__roles__role=Role.KM)
        .values("owner_id")
        .annotate(n=Count("id"))
        .order_by("n", "owner_id")
    )
    if not books:
        sys.exit("No client manager owns clients here: seed the database with seed_demo.")
    middle = books[len(books) // 2]
    spread = {
        "managers": len(books),
        "book": middle["n"],
        "smallest": books[0]["n"],
        "largest": books[-1]["n"],
    }
    return with_password(User.objects.get(pk=middle["owner_id"])), spread


def pick_head() -> Any:
    """The head of a top team (no parent): the whole base when the teams form one tree.

    When there is none (a database not seeded by seed_demo), one is made:
    a head of a new top team above the existing ones.
    """
    from accounts.choices import Role
    from accounts.models import Team, User, UserRole

    top = (
        Team.objects.filter(parent__isnull=True, head__isnull=False, head__roles__role=Role.HEAD)
        .select_related("head")
        .order_by("id")
        .first()
    )
    if top is not None and top.head is not None:
        return with_password(top.head)
    head, _ = User.objects.get_or_create(
        email="bench.head@bench.invalid", defaults={"first_name": "Bench", "last_name": "Head"}
    )
    UserRole.objects.get_or_create(user=head, role=Role.HEAD)
    team = Team.objects.create(name=f"Bench whole base {secrets.token_hex(3)}", head=head)
    Team.objects.filter(parent__isnull=True).exclude(pk=team.pk).update(parent=team)
    return with_password(head)


def chosen_clients(user: Any) -> dict[str, Any]:
    """The user's typical and biggest client (latest run), and their commonest region."""
    from django.db.models import Count

    from accounts.selectors import clients_visible_to
    from crm.models import ShipmentLine
    from segmentation.models import ClientMetricSnapshot
    from segmentation.selectors import latest_successful_run

    visible = clients_visible_to(user=user)
    run = latest_successful_run()
    assert run is not None
    buying = ClientMetricSnapshot.objects.filter(
        run=run, client__in=visible.values("pk"), revenue_12m__gt=0
    ).exclude(client__inn="")
    count = buying.count()
    if not count:
        sys.exit(f"{user.email} has no client with revenue in the last 12 months.")
    by_revenue = buying.order_by("revenue_12m", "client_id").values_list(
        "client_id", "client__inn", "revenue_12m"
    )
    typical = by_revenue[count // 2]
    biggest = by_revenue[count - 1]
    if LIST_PARAMS["filter"] == "segment":
        filter_value = LIST_SEGMENT_VALUE
        filter_count = ClientMetricSnapshot.objects.filter(
            run=run, client__in=visible.values("pk"), segment=LIST_SEGMENT_VALUE
        ).count()
    else:
        region = (
            visible.exclude(region="")
            .values("region")
            .annotate(n=Count("id"))
            .order_by("-n", "region")
            .first()
        )
        filter_value, filter_count = (region["region"], region["n"]) if region else ("", 0)
    return {
        "visible": visible.count(),
        "typical": typical[0],
        "typical_revenue": typical[2],
        "typical_lines": ShipmentLine.objects.filter(client_id=typical[0]).count(),
        "big": biggest[0],
        "big_revenue": biggest[2],
        "big_lines": ShipmentLine.objects.filter(client_id=biggest[0]).count(),
        "inn_part": typical[1][INN_FRAGMENT],
        "filter_value": filter_value,
        "filter_clients": filter_count,
    }


def list_path(**params: str) -> str:
    from django.urls import reverse

    query = {LIST_PARAMS[key]: value for key, value in params.items()}
    return reverse("crm:client_list") + "?" + urllib.parse.urlencode(query)


def page_lines(user: Any, facts: dict[str, Any], who: str) -> list[Line]:
    from django.urls import reverse

    kind = LIST_PARAMS["filter"]
    value = facts["filter_value"]
    card = "crm:client_detail"
    return [
        Line(
            f"list: {kind} filter, -revenue_12m ({who})",
            user.email,
            list_path(filter=value, sort=LIST_SORT_VALUE),
        ),
        Line(f"list: INN search ({who})", user.email, list_path(search=facts["inn_part"])),
        Line(
            f"card: typical client ({who})",
            user.email,
            reverse(card, kwargs={"pk": facts["typical"]}),
        ),
        Line(
            f"card: biggest client ({who})", user.email, reverse(card, kwargs={"pk": facts["big"]})
        ),
        Line(f"my day ({who})", user.email, reverse("home")),
    ]


def unknown_list_params() -> list[str]:
    from crm.filtersets import ClientFilterSet

    return [name for name in LIST_PARAMS.values() if name not in ClientFilterSet.base_filters]


# ---------------------------------------------------------------------------
# HTTP: gunicorn, logging in, timing
# ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def gunicorn(scratch: Path) -> Iterator[str]:
    """A gunicorn serving the project on loopback; stopped on the way out, whatever happens."""
    port = free_port()
    log = scratch / "bench-pages-gunicorn.log"
    binary = Path(sys.executable).with_name("gunicorn")
    if not binary.exists():
        binary = ROOT / ".venv" / "bin" / "gunicorn"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.bench.pages_settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_COOKIES": "false",  # plain HTTP on loopback
        "LOG_LEVEL": "WARNING",
    }
    command = [
        str(binary),
        "config.wsgi",
        "--chdir",
        str(ROOT),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(WORKERS),
        "--timeout",
        str(REQUEST_TIMEOUT_S),
        "--error-logfile",
        str(log),
    ]
    # Django logs a failing request's traceback to the console: into the log, not the report.
    output = log.open("ab")
    process = subprocess.Popen(
        command, env=env, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=output, stderr=output
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited ({process.returncode}); see {log}")
            try:
                with urllib.request.urlopen(base + "/accounts/login/", timeout=5) as reply:
                    if reply.status == 200:
                        break
            except (OSError, urllib.error.URLError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer in 60 s; see {log}")
            time.sleep(0.2)
        print(f"gunicorn: {WORKERS} workers on {base} (pid {process.pid}, DEBUG off)")
        yield base
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        output.close()
        print(f"gunicorn: stopped (exit {process.returncode})")
        summarise_log(log)


def summarise_log(log: Path) -> None:
    """How many requests failed, and the distinct exceptions that ended their tracebacks."""
    rows = log.read_text(errors="replace").splitlines() if log.exists() else []
    failed = sum(1 for row in rows if row.startswith("Internal Server Error"))
    ends = {row for row in rows if re.match(r"^[\w.]+(Error|Exception|DoesNotExist)\b", row)}
    if failed or ends:
        print(f"gunicorn log ({log}): {failed} requests failed with a traceback; exceptions:")
        for row in sorted(ends)[:10]:
            print(f"  {row[:300]}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect (to the login page, say) is an answer to count, not to follow."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def opener_for() -> urllib.request.OpenerDirector:
    jar = http.cookiejar.CookieJar()
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect())


def fetch(
    opener: urllib.request.OpenerDirector, url: str, data: bytes | None = None
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data)
    try:
        with opener.open(request, timeout=REQUEST_TIMEOUT_S) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def log_in(base: str, email: str) -> urllib.request.OpenerDirector:
    """A browser-like session: GET the login form, POST it with its CSRF token."""
    from django.urls import reverse

    opener = opener_for()
    login = base + reverse("accounts:login")
    status, body = fetch(opener, login)
    match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
    if status != 200 or match is None:
        raise RuntimeError(f"login page: status {status}, CSRF token found: {bool(match)}")
    form = urllib.parse.urlencode(
        {
            "csrfmiddlewaretoken": match.group(1).decode(),
            "username": email,
            "password": BENCH_PASSWORD,
        }
    ).encode()
    status, body = fetch(opener, login, form)
    if status != 302:
        raise RuntimeError(f"logging in {email}: status {status}, expected a redirect")
    return opener


def measure(opener: urllib.request.OpenerDirector, base: str, line: Line, requests: int) -> None:
    for _ in range(WARM_UP):
        fetch(opener, base + line.path)
    for _ in range(requests):
        started = time.perf_counter()
        status, body = fetch(opener, base + line.path)
        line.times_ms.append((time.perf_counter() - started) * 1000)
        line.sizes.append(len(body))
        if status != 200:
            line.bad[str(status)] = line.bad.get(str(status), 0) + 1


def row_ids(body: bytes) -> list[int]:
    """The client ids a list page links to, in order."""
    from django.urls import reverse

    prefix = reverse("crm:client_list").encode()
    return [int(i) for i in re.findall(rb'href="' + re.escape(prefix) + rb'(\d+)/"', body)]


def check_list(
    opener: urllib.request.OpenerDirector, base: str, who: str, facts: dict[str, Any]
) -> None:
    """Warn when the list ignores a parameter: the line would measure another query."""
    value = facts["filter_value"]
    plain = row_ids(fetch(opener, base + list_path())[1])
    filtered = row_ids(fetch(opener, base + list_path(filter=value))[1])
    both = row_ids(fetch(opener, base + list_path(filter=value, sort=LIST_SORT_VALUE))[1])
    searched = row_ids(fetch(opener, base + list_path(search=facts["inn_part"]))[1])
    if filtered == plain:
        print(f"  WARNING ({who}): ?{LIST_PARAMS['filter']}= leaves the list's rows unchanged")
    if both == filtered:
        print(
            f"  WARNING ({who}): ?{LIST_PARAMS['sort']}={LIST_SORT_VALUE} leaves the rows' "
            "order unchanged: the list does not sort by that parameter"
        )
    if facts["typical"] not in searched:
        print(f"  WARNING ({who}): the INN search does not find the client it was taken from")


# ---------------------------------------------------------------------------
# Child step: query counts and plans, through Django's test client
# ---------------------------------------------------------------------------


def step_queries(spec_file: str) -> dict[str, Any]:
    """Each page's SQL: count, total time, slowest; EXPLAIN ANALYZE for the listed labels."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client as HttpClient
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User

    settings.ALLOWED_HOSTS = ["testserver"]
    spec = json.loads(Path(spec_file).read_text())
    lines, explain = spec["lines"], set(spec["explain"])
    out: dict[str, Any] = {}
    clients: dict[str, HttpClient] = {}
    for line in lines:
        if line["user"] not in clients:
            clients[line["user"]] = HttpClient(raise_request_exception=False)
            clients[line["user"]].force_login(User.objects.get(email=line["user"]))
        browser = clients[line["user"]]
        browser.get(line["path"])  # warm
        with CaptureQueriesContext(connection) as captured:
            status = browser.get(line["path"]).status_code
        queries = [(float(q["time"]) * 1000, q["sql"]) for q in captured.captured_queries]
        slowest = sorted(queries, reverse=True)[:EXPLAIN_SLOWEST]
        plans = []
        if line["label"] in explain:
            with connection.cursor() as cursor:
                for ms, sql in slowest:
                    reads = sql.lstrip().upper().startswith(("SELECT", "WITH"))
                    if ms < EXPLAIN_MIN_MS or not reads:
                        continue
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
                    plans.append("\n".join(row[0] for row in cursor.fetchall()))
        out[line["label"]] = {
            "status": status,
            "count": len(queries),
            "sql_ms": sum(ms for ms, _ in queries),
            "slowest": [[ms, sql] for ms, sql in slowest],
            "plans": plans,
        }
    return out


STEPS: dict[str, Callable[[str], dict[str, Any]]] = {"queries": step_queries}


# ---------------------------------------------------------------------------
# The parent
# ---------------------------------------------------------------------------


def describe(who: str, user: Any, facts: dict[str, Any], books: dict[str, int] | None) -> None:
    print(f"{who}: {user.email}, sees {facts['visible']:,} clients")
    if books:
        print(
            f"  own book {books['book']:,} clients: the median of {books['managers']} client "
            f"managers' books ({books['smallest']:,}–{books['largest']:,})"
        )
    print(
        f"  typical client #{facts['typical']}: revenue 12m {facts['typical_revenue']:,.0f}, "
        f"{facts['typical_lines']:,} lines; biggest #{facts['big']}: revenue 12m "
        f"{facts['big_revenue']:,.0f}, {facts['big_lines']:,} lines"
    )
    print(
        f"  list filter {LIST_PARAMS['filter']}={facts['filter_value']!r}: "
        f"{facts['filter_clients']:,} clients; INN search {facts['inn_part']!r}"
    )


def report(lines: list[Line], queries: dict[str, Any]) -> None:
    width = max(len(line.label) for line in lines)
    print(
        f"{'page':<{width}}  {'median':>7}  {'p95':>7}  {'max':>7}  {'size':>8}  "
        f"{'non-200':>7}  {'queries':>7}  {'SQL ms':>7}  verdict"
    )
    for line in lines:
        q = queries.get(line.label, {})
        count = q.get("count", "?") if q.get("status", 200) == 200 else f"({q['status']})"
        size = statistics.median(line.sizes) / 1024 if line.sizes else 0
        bad = ", ".join(f"{n}×{status}" for status, n in line.bad.items()) or "0"
        print(
            f"{line.label:<{width}}  {line.median:7.1f}  {line.stat(0.95):7.1f}  "
            f"{max(line.times_ms, default=math.nan):7.1f}  {size:6.1f}KB  {bad:>7}  "
            f"{count:>7}  {q.get('sql_ms', math.nan):7.1f}  {line.verdict()}"
        )
    print(
        f"times in ms, {len(lines[0].times_ms)} sequential requests per page after {WARM_UP} "
        f"warm-up ones; targets: median ≤ {TARGET_MEDIAN_MS:g} ms and p95 ≤ {TARGET_P95_MS:g} ms; "
        "queries and SQL ms: one render through Django's test client"
    )


def main() -> None:
    _setup()
    from django.core.management import call_command
    from django.db import connection

    from crm.models import ShipmentLine
    from segmentation.choices import RunStatus
    from segmentation.models import MetricRun

    if connection.vendor != "postgresql":
        sys.exit("The page benchmark runs on PostgreSQL: set DATABASE_URL.")
    clients = int(os.environ.get("CLIENTS", "50000"))
    n_lines = int(os.environ.get("LINES", "10000000"))
    as_of = dt.date.fromisoformat(os.environ.get("AS_OF", "2025-06-30"))
    requests = int(os.environ.get("REQUESTS", "100"))
    scratch = Path(os.environ.get("CLIENTBASE_SCRATCH") or ROOT / ".tmp")
    scratch.mkdir(parents=True, exist_ok=True)

    call_command("migrate", verbosity=0)
    if ShipmentLine.objects.exists():
        print("seed: reusing the database's shipment lines")
    else:
        seed(clients=clients, lines=n_lines, as_of=as_of)
    if MetricRun.objects.filter(status=RunStatus.SUCCEEDED).exists():
        print("metrics: reusing the latest successful run")
    else:
        connection.close()
        run = run_step("recompute", as_of.isoformat())
        print(f"metrics: full recompute as of {as_of}: {run['seconds']:.0f} s, {run['status']}")
        if run["status"] != RunStatus.SUCCEEDED:
            sys.exit(f"The metric run failed: {run['error']}")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute(
            "SELECT (SELECT count(*) FROM crm_shipmentline), (SELECT count(*) FROM crm_client)"
        )
        counted_lines, counted_clients = cursor.fetchone()
    print(f"data: {counted_lines:,} lines, {counted_clients:,} clients")

    manager, books = pick_manager()
    head = pick_head()
    lines: list[Line] = []
    facts_of: dict[str, dict[str, Any]] = {}
    for user, who in ((manager, "manager"), (head, "head")):
        facts = chosen_clients(user)
        facts_of[who] = facts
        lines += page_lines(user, facts, who)
        describe(who, user, facts, books if who == "manager" else None)
    unknown = unknown_list_params()
    if unknown:
        print(f"note: ClientFilterSet does not declare {unknown} (see LIST_PARAMS)")
    connection.close()
    print(f"load before: {load()}")

    with gunicorn(scratch) as base:
        sessions = {user.email: log_in(base, user.email) for user in (manager, head)}
        for who, user in (("manager", manager), ("head", head)):
            check_list(sessions[user.email], base, who, facts_of[who])
        for line in lines:
            measure(sessions[line.user], base, line, requests)
            print(
                f"  {line.label}: median {line.median:.1f} ms, p95 {line.stat(0.95):.1f} ms"
                + (f", non-200: {line.bad}" if line.bad else "")
            )
    print(f"load after: {load()}")

    missed = [line.label for line in lines if line.verdict() == "MISS"]
    queries = run_queries_step(lines, explain=missed, scratch=scratch)
    report(lines, queries)
    for line in lines:
        q = queries.get(line.label, {})
        if line.verdict() != "MISS" or not q:
            continue
        print(f"\n== {line.label} ({line.path}): the slowest queries of one render ==")
        for ms, sql in q["slowest"]:
            print(f"-- {ms:.1f} ms: {sql[:4000]}{' …' if len(sql) > 4000 else ''}")
        for plan in q["plans"]:
            print(plan)
            print()
    if any(line.failed for line in lines):
        sys.exit("Some pages answered other than 200: those lines measured nothing.")


def run_queries_step(lines: list[Line], *, explain: list[str], scratch: Path) -> dict[str, Any]:
    """The query step in its own process; it hands its figures back in a JSON file."""
    spec = scratch / "bench-pages-lines.json"
    out = scratch / "bench-pages-queries.json"
    spec.write_text(
        json.dumps(
            {
                "lines": [{"label": x.label, "user": x.user, "path": x.path} for x in lines],
                "explain": explain,
            }
        )
    )
    subprocess.run([sys.executable, __file__, "--step", "queries", str(spec), str(out)], check=True)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def child(argv: list[str]) -> None:
    _setup()
    spec, out = argv[1:]
    Path(out).write_text(json.dumps(STEPS[argv[0]](spec), default=str))


def _stop(signum: int, frame: Any) -> None:
    raise SystemExit(128 + signum)  # unwinds through gunicorn()'s finally


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _stop)
    if len(sys.argv) > 2 and sys.argv[1] == "--step":
        child(sys.argv[2:])
    else:
        main()
