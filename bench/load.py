"""Benchmark: the service under load (issue 13) -- many users at once, sealed papers on the
exam-office morning, a long assembly with a time limit, and a cancel.

Reproduce:
    python bench/load.py                                   # SQLite temp file, 50 clients, 60 s
    python bench/load.py --database-url postgresql+psycopg://u:pw@localhost/db --workers 2
    python bench/load.py --baseline-root /path/to/old/checkout   # the same load on the old code, side by side
    python bench/load.py --clients 10 --seconds 20 --mix reads   # item reads only (the p95 < 50 ms target)

What happens (each design on its own fresh database, built with that design's own code): one
bank of 500 accepted theory items (``itembank.demo``), a bank manager, an exam-office user, 20
exam sessions and 20 assembled main papers with 20 backups; ``uvicorn`` serves
``api.app:create_app`` (``--workers`` processes; the new design's job worker runs inside the
server on SQLite, as ``itembank worker`` processes beside it on PostgreSQL). Then:

  mix       ``--clients`` threads for ``--seconds``: item reads (60 %), item list pages (15 %),
            blueprint saves (a write with its ledger entry, 15 %) and imports of a 20-item CSV
            (10 %); 10 s in, 20 sealed-paper requests at the same moment (one per session);
  assembly  a run of 6 papers + 3 backups proven optimal (a long solve) with a 20 s limit:
            seconds from the request to its final state (goal < 30 s);
  cancel    the same run with a 300 s limit, cancelled once it solves: seconds from the cancel to
            the state ``cancelled`` (goal < 2 s; the old design has no cancel).

Printed: per operation the count, 5xx count, p50 and p95 (ms); seals succeeded and seals/s; the
assembly and cancel times -- for each design side by side.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Bench-Horse-42"
SEAL_KEY = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="

SETUP = r'''
import sys
from datetime import datetime, timedelta, timezone
from sqlalchemy.orm import sessionmaker
import assembly as asm
from itembank import accounts, assembly_service as svc
from itembank.db import make_engine, upgrade
from itembank.demo import DemoBankSpec, build_demo
from itembank.domain import Level, Part, Role
from itembank.readiness import set_minimum_rule
from lifecycle.sessions import create_exam_plan, create_exam_session

url = sys.argv[1]
engine = make_engine(url=url)
upgrade(engine)
maker = sessionmaker(bind=engine, expire_on_commit=False)
with maker() as s, s.begin():
    bank = build_demo(s, seed=4, specs=(DemoBankSpec("electrician", Level.L5, n_theory=500, n_practical=20,
                                                     n_past_sessions=0, n_compromised=0),)).banks[0]
    set_minimum_rule(s, part=Part.THEORY, minimum=300, actor="admin")
    rows, _ = svc.element_rows(s, bank=bank, part=Part.THEORY)
    bp = asm.derive_blueprint(rows, [asm.TypeRule("single_choice", 16, 16.0), asm.TypeRule("true_false", 4, 4.0)],
                              name="mini", level=5, tolerance=0.5, min_tolerance=2.0)
    stored = svc.save_blueprint(s, bank=bank, blueprint=bp, actor="m")
    for username, role in (("mgr", Role.BANK_MANAGER), ("office", Role.EXAM_OFFICE)):
        accounts.create_user(s, username=username, password=PASSWORD_, roles=[(role, None)], actor="bench")
    start = datetime.now(timezone.utc) + timedelta(days=1)
    for k in range(20):
        create_exam_plan(s, code=f"PLAN-{k:02d}", occupation_code=bank.occupation.code, level=5, actor="office")
        create_exam_session(s, plan_code=f"PLAN-{k:02d}", code=f"S-{k:02d}", part="theory", starts_at=start,
                            ends_at=start + timedelta(hours=2), place=f"A{k}", actor="office")
for seed in range(10):  # 2 papers + 2 backups per run, 40 papers in all
    with maker() as s, s.begin():
        run = svc.run_assembly(s, bank=bank, blueprint=stored, actor="m",
                               params=svc.RunParams(n_forms=2, n_backups=2, seed=seed, time_limit_s=60))
        assert len(run.paper_codes) == 4, run.message
print(bank.id, stored.id, bank.occupation.code)
'''.replace("PASSWORD_", repr(PASSWORD))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, op: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latencies.setdefault(op, []).append(seconds)
            if status >= 500 or status == 0:
                self.errors[op] = self.errors.get(op, 0) + 1


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000 if s else float("nan")


def import_csv(n: int, prefix: str) -> bytes:
    from itembank.imports import CSV_COLUMNS

    buf = io.StringIO(newline="")
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    for i in range(n):
        w.writerow([f"{prefix}{i:03d}", "单项选择题", f"{prefix}{i:03d} 下列说法正确的是（　）。", "甲", "乙", "丙", "丁",
                    "", "", "A", 1, "ELEMENT", 2, 60, "", "", "", "", "", ""])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def run_design(name: str, root: Path, args: argparse.Namespace) -> dict:
    env = {**os.environ, "PYTHONPATH": str(root), "ITEMBANK_LIFECYCLE_SEAL_MASTER_KEY": SEAL_KEY}
    tmp = Path(tempfile.mkdtemp(prefix=f"load-{name}-"))
    url = args.database_url or f"sqlite:///{tmp / 'load.db'}"
    env["ITEMBANK_DATABASE_URL"] = url
    started = time.time()
    out = subprocess.run([sys.executable, "-c", SETUP, url], env=env, cwd=tmp, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{name}: setup failed:\n{out.stderr[-3000:]}")
    bank_id, blueprint_id, occupation = out.stdout.split()[-3:]
    print(f"{name}: prepared in {time.time() - started:.0f} s", flush=True)
    port = free_port()
    procs = [subprocess.Popen([sys.executable, "-m", "uvicorn", "--factory", "api.app:create_app", "--port", str(port),
                               "--workers", str(args.workers), "--log-level", "warning", "--no-access-log"],
                              env=env, cwd=tmp)]
    if url.startswith("postgresql") and (root / "api" / "worker.py").exists():
        procs += [subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], env=env, cwd=tmp) for _ in range(2)]
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 300
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=5).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.time() > deadline:
                raise SystemExit(f"{name}: the server did not start")
            time.sleep(0.5)
        tokens = {u: httpx.post(f"{base}/auth/token", data={"username": u, "password": PASSWORD}, timeout=60)
                  .json()["access_token"] for u in ("mgr", "office")}
        return {"name": name, **measure(base, int(bank_id), int(blueprint_id), tokens, args)}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()


def measure(base: str, bank_id: int, blueprint_id: int, tokens: dict[str, str], args: argparse.Namespace) -> dict:
    mgr = {"Authorization": f"Bearer {tokens['mgr']}"}
    office = {"Authorization": f"Bearer {tokens['office']}"}
    with httpx.Client(base_url=base, headers=mgr, timeout=120) as c:
        codes = [i["code"] for i in c.get(f"/banks/{bank_id}/items", params={"limit": 500}).json()["items"]]
        element = c.get(f"/banks/{bank_id}/items/{codes[0]}").json()["content"]["element_codes"][0]
        spec = c.get(f"/banks/{bank_id}/blueprints/{blueprint_id}").json()["spec"]
        for path in (f"/banks/{bank_id}/items/{codes[0]}", f"/banks/{bank_id}/items"):  # warm the routes up
            c.get(path)
    stats = Stats()
    stop = time.perf_counter() + args.seconds
    weights = {"item read": 60, "item list": 15, "blueprint save": 15, "import 20 items": 10}
    if args.mix == "reads":
        weights = {"item read": 100}
    ops, cum = list(weights), list(weights.values())

    def client(k: int) -> None:
        rng = random.Random(k)
        n = 0
        with httpx.Client(base_url=base, headers=mgr, timeout=120) as c:
            while time.perf_counter() < stop:
                op = rng.choices(ops, cum)[0]
                t = time.perf_counter()
                try:
                    if op == "item read":
                        r = c.get(f"/banks/{bank_id}/items/{rng.choice(codes)}")
                    elif op == "item list":
                        r = c.get(f"/banks/{bank_id}/items", params={"offset": rng.randrange(0, 450), "limit": 50})
                    elif op == "blueprint save":
                        r = c.post(f"/banks/{bank_id}/blueprints", json={"spec": {**spec, "name": f"load-{k}"}})
                    else:
                        n += 1
                        data = import_csv(20, f"L{k:02d}{n:03d}-").replace(b"ELEMENT", element.encode())
                        r = c.post(f"/banks/{bank_id}/imports/items", files={"file": ("l.csv", data, "text/csv")},
                                   data={"mode": "accepted", "batch_ref": "load-bench"})
                    status = r.status_code
                except httpx.HTTPError:
                    status = 0
                stats.add(op, time.perf_counter() - t, status)

    seal_times: list[float] = []
    seal_ok = [0]

    def seals() -> None:
        time.sleep(min(10.0, args.seconds / 3))
        barrier = threading.Barrier(20)

        def one(k: int) -> None:
            with httpx.Client(base_url=base, headers=office, timeout=300) as c:
                barrier.wait()
                t = time.perf_counter()
                try:
                    r = c.post(f"/exam-sessions/S-{k:02d}/sealed-papers", json={"n_backups": 1, "assemble_if_needed": False})
                    status = r.status_code
                except httpx.HTTPError:
                    status = 0
                stats.add("sealed paper", time.perf_counter() - t, status)
                seal_times.append(time.perf_counter())
                seal_ok[0] += status == 201
        first = time.perf_counter()
        threads = [threading.Thread(target=one, args=(k,)) for k in range(20)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        seal_times.insert(0, first)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    if args.mix == "all":
        threads.append(threading.Thread(target=seals))
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    result: dict = {"stats": stats}
    if args.mix == "all":
        result.update(seal_ok=seal_ok[0],
                      seals_per_s=(20 / (max(seal_times) - seal_times[0])) if len(seal_times) > 1 else None)
    if args.mix == "all" and not args.skip_assembly:
        result.update(assembly(base, bank_id, blueprint_id, mgr))
    return result


def _wait_state(c: httpx.Client, run: int, states: tuple[str, ...], *, timeout: float, poll: float = 0.2) -> str:
    """Poll the run until its state is one of ``states`` or final; the state reached."""
    deadline = time.perf_counter() + timeout
    while True:
        state = c.get(f"/assembly-runs/{run}").json()["state"]
        if state in states or state in ("finished", "failed", "cancelled"):
            return state
        if time.perf_counter() > deadline:
            raise SystemExit(f"assembly run {run} still {state} after {timeout:g} s")
        time.sleep(poll)


def assembly(base: str, bank_id: int, blueprint_id: int, mgr: dict[str, str]) -> dict:
    out: dict = {}
    with httpx.Client(base_url=base, headers=mgr, timeout=600) as c:
        # 6 papers + 3 backups, disjoint, proven optimal (rel_gap 0): the bank's 500 items give about
        # 13 per element, so this is feasible and a long solve that the 20 s limit cuts short
        body = {"blueprint_id": blueprint_id, "n_forms": 6, "n_backups": 3, "rel_gap": 0.0, "time_limit_s": 20}
        t = time.perf_counter()
        run = c.post(f"/banks/{bank_id}/assembly-runs", json=body).json()["id"]
        state = _wait_state(c, run, (), timeout=300)
        out["assembly_s"] = time.perf_counter() - t
        out["assembly_state"] = state
        run = c.post(f"/banks/{bank_id}/assembly-runs", json={**body, "time_limit_s": 300}).json()["id"]
        if _wait_state(c, run, ("running",), timeout=300) != "running":
            out["cancel_s"] = None  # it ended before it could be cancelled
            return out
        time.sleep(2)
        t = time.perf_counter()
        r = c.post(f"/assembly-runs/{run}/cancel")
        if r.status_code in (404, 405):
            out["cancel_s"] = None  # the old design has no cancel
        else:
            _wait_state(c, run, ("cancelled",), timeout=120, poll=0.05)
            out["cancel_s"] = time.perf_counter() - t
    return out


def report(results: list[dict], args: argparse.Namespace) -> None:
    print(f"\n{args.clients} clients, {args.seconds:g} s, {args.workers} server process(es), "
          f"{'PostgreSQL' if args.database_url else 'SQLite'}; load average {os.getloadavg()[0]:.1f}")
    names = [r["name"] for r in results]
    ops = list(dict.fromkeys(op for r in results for op in r["stats"].latencies))
    print(f"{'operation':<18}" + "".join(f"{n + ': n / 5xx / p50 / p95 ms':>40}" for n in names))
    for op in ops:
        cells = []
        for r in results:
            lat = r["stats"].latencies.get(op, [])
            cells.append(f"{len(lat):>8} / {r['stats'].errors.get(op, 0):>4} / {pct(lat, .5):>7.0f} / {pct(lat, .95):>7.0f}")
        print(f"{op:<18}" + "".join(f"{c:>40}" for c in cells))
    for label, key, fmt in (("5xx in all", None, "{}"), ("seals ok of 20", "seal_ok", "{}"),
                            ("seals per second", "seals_per_s", "{:.2f}"),
                            ("assembly 20 s limit: final after s", "assembly_s", "{:.1f}"),
                            ("assembly final state", "assembly_state", "{}"),
                            ("cancel took s", "cancel_s", "{:.2f}")):
        if key is not None and all(key not in r for r in results):
            continue  # not measured in this mix
        cells = []
        for r in results:
            v = sum(r["stats"].errors.values()) if key is None else r.get(key)
            cells.append("n/a" if v is None else fmt.format(v))
        print(f"{label:<36}" + "".join(f"{c:>22}" for c in cells))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--database-url", default=None, help="an EMPTY PostgreSQL database (default: SQLite temp file)")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--mix", choices=("all", "reads"), default="all")
    ap.add_argument("--skip-assembly", action="store_true")
    ap.add_argument("--baseline-root", type=Path, default=None, help="a checkout of the old design to compare with")
    args = ap.parse_args()
    results = [run_design("new", ROOT, args)]
    if args.baseline_root is not None:
        if args.database_url:
            raise SystemExit("--baseline-root with PostgreSQL needs a second empty database; run it separately")
        results.append(run_design("old", args.baseline_root.resolve(), args))
    report(results, args)


if __name__ == "__main__":
    main()
