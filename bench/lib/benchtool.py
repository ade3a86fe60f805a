#!/usr/bin/env python3
"""Helpers for bench/run.sh: free loopback ports, process-tree accounting
from /proc, the idle-connection client, the wrk output parser and the
summary (table, ratios against the peers, target check).  Standard
library only.  Adapted from shared/bench-peers/lib/benchtool.py.

  benchtool.py ports N               N distinct free TCP ports on 127.0.0.1
  benchtool.py cpu PID...            CPU ticks (user+sys, incl. reaped
                                     children) of the trees under PIDs
  benchtool.py mem PID...            "rss_kib pss_kib procs threads"
  benchtool.py tree PID...           the processes counted (debugging)
  benchtool.py pids PID...           "pid:start" of every process in the
                                     trees, wrappers too
  benchtool.py alive ID...           how many of those "pid:start" still run
  benchtool.py kill ID...            SIGKILL those that are still the same
                                     processes (start time checked)
  benchtool.py load PID...           "machine_busy_ticks tree_ticks unix_time"
  benchtool.py idle PORT N [opts]    hold N idle keep-alive connections
  benchtool.py wrk FILE              parse `wrk --latency` output
  benchtool.py summarize RAW OUTDIR CHAIN...

Process trees: every descendant of the given PIDs is counted, except
wrapper processes (`timeout`, `bash`, `sh`, `dash`), so that `timeout`
around a relay or connector does not add its own memory or CPU.
"""

import asyncio
import os
import re
import resource
import socket
import statistics
import sys
import time

WRAPPERS = {"timeout", "bash", "sh", "dash"}
GIB = 1 << 30


# ---------------------------------------------------------------- ports

def cmd_ports(n):
    """Ask the kernel for n distinct free ports on 127.0.0.1 (all bound at
    once, then released; the caller binds them right away)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        print(" ".join(str(s.getsockname()[1]) for s in socks))
    finally:
        for s in socks:
            s.close()


# ---------------------------------------------------------------- /proc

def _stat(pid):
    """(comm, ppid, ticks) from /proc/PID/stat, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("latin-1")
    except OSError:
        return None
    lp, rp = data.find("("), data.rfind(")")
    fields = data[rp + 2:].split()
    # fields[1] is ppid (field 4); utime..cstime are fields 14..17
    return data[lp + 1:rp], int(fields[1]), sum(int(x) for x in fields[11:15])


def _all_procs():
    procs = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st:
                procs[int(name)] = st
    return procs


def tree(roots, skip_wrappers=True):
    """{pid: stat} of the trees under roots; wrappers left out unless
    skip_wrappers is False."""
    procs = _all_procs()
    children = {}
    for pid, (_, ppid, _) in procs.items():
        children.setdefault(ppid, []).append(pid)
    out, todo, seen = {}, [r for r in roots if r in procs], set()
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.add(pid)
        if not skip_wrappers or procs[pid][0] not in WRAPPERS:
            out[pid] = procs[pid]
        todo.extend(children.get(pid, []))
    return out


def busy_ticks():
    """Busy ticks of the whole machine (all but idle and iowait)."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v[:8]) - v[3] - v[4]


def _start_time(pid):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read().decode("latin-1")
    except OSError:
        return None
    return data[data.rfind(")") + 2:].split()[19]


def _same(ids):
    """PIDs among "pid:start" ids that still name the same process."""
    out = []
    for item in ids:
        pid, _, start = item.partition(":")
        if start and _start_time(int(pid)) == start:
            out.append(int(pid))
    return out


def _proc_kib(path, key):
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def mem(roots):
    t = tree(roots)
    rss = sum(_proc_kib(f"/proc/{p}/status", "VmRSS") for p in t)
    pss = sum(_proc_kib(f"/proc/{p}/smaps_rollup", "Pss") for p in t)
    threads = sum(_proc_kib(f"/proc/{p}/status", "Threads") for p in t)
    return rss, pss, len(t), threads


# ------------------------------------------------------- idle connections

_CL = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.I)


async def _request(reader, writer, request, timeout):
    """Send one keep-alive request and read the whole 200 response."""
    writer.write(request)
    await writer.drain()
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout)
    status = head.split(b"\r\n", 1)[0]
    m = _CL.search(head)
    if not status.startswith(b"HTTP/1.1 200") or not m:
        raise ValueError(status.decode("latin-1", "replace"))
    await asyncio.wait_for(reader.readexactly(int(m.group(1))), timeout)


async def _open_one(host, port, request, timeout):
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(host, port), timeout)
    try:
        await _request(reader, writer, request, timeout)
        return reader, writer
    except BaseException:
        writer.close()
        raise


def _alive(conn):
    """No EOF and no error seen by the event loop (it kept reading)."""
    reader, writer = conn
    return (not reader.at_eof() and reader.exception() is None
            and not writer.transport.is_closing())


async def _idle(a):
    request = (f"GET {a.path} HTTP/1.1\r\nHost: {a.hostname}\r\n"
               "User-Agent: kiteline-bench-idle\r\n\r\n").encode()
    pids = [int(p) for p in a.pids.split(",") if p]
    conns, errors = [], {}
    sem = asyncio.Semaphore(a.parallel)
    deadline = time.monotonic() + a.open_deadline

    async def one():
        async with sem:
            left = deadline - time.monotonic()
            if left <= 0:
                errors["deadline"] = errors.get("deadline", 0) + 1
                return
            try:
                conns.append(await _open_one(a.host, a.port, request,
                                             min(a.timeout, left)))
            except Exception as e:  # noqa: BLE001 - counted and reported
                key = type(e).__name__
                errors[key] = errors.get(key, 0) + 1

    before = mem(pids)
    t0 = time.monotonic()
    await asyncio.gather(*(one() for _ in range(a.n)))
    open_s = time.monotonic() - t0
    await asyncio.sleep(a.hold)
    alive = [c for c in conns if _alive(c)]
    after = mem(pids)

    # Then every idle connection must still carry a request.
    reused = 0
    if not a.no_reuse_check:
        sem2 = asyncio.Semaphore(max(a.parallel, 200))

        async def again(c):
            async with sem2:
                try:
                    await _request(c[0], c[1], request, a.timeout)
                    return True
                except Exception:  # noqa: BLE001
                    return False

        reused = sum(await asyncio.gather(*(again(c) for c in alive)))

    for _, w in conns:
        w.close()
    err = ",".join(f"{k}:{v}" for k, v in sorted(errors.items())) or "-"
    print(f"established={len(conns)} alive={len(alive)} reused={reused} "
          f"open_s={open_s:.2f} rss_before_kib={before[0]} "
          f"rss_kib={after[0]} pss_kib={after[1]} procs={after[2]} "
          f"threads={after[3]} open_errors={sum(errors.values())} errors={err}")


def cmd_idle(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="benchtool.py idle")
    ap.add_argument("port", type=int)
    ap.add_argument("n", type=int)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--hostname", default="bench.test")
    ap.add_argument("--path", default="/1k.bin")
    ap.add_argument("--pids", default="", help="comma-separated roots")
    ap.add_argument("--parallel", type=int, default=50)
    ap.add_argument("--timeout", type=float, default=10.0)
    ap.add_argument("--open-deadline", type=float, default=60.0)
    ap.add_argument("--hold", type=float, default=5.0)
    ap.add_argument("--no-reuse-check", action="store_true")
    a = ap.parse_args(argv)
    if not a.host.startswith("127.") and a.host != "::1":
        sys.exit("idle: loopback only")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < a.n + 256:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            pass
    asyncio.run(_idle(a))


# ------------------------------------------------------------------ wrk

_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text):
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else float("nan")


def cmd_wrk(path):
    """Print "rps p50_ms p99_ms requests errors" from wrk --latency output."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    rps = re.search(r"Requests/sec:\s*([\d.]+)", text)
    p50 = re.search(r"^\s*50%\s+(\S+)", text, re.M)
    p99 = re.search(r"^\s*99%\s+(\S+)", text, re.M)
    req = re.search(r"(\d+) requests in", text)
    errs = 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", text)
    if m:
        errs += sum(int(x) for x in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        errs += int(m.group(1))
    print("%s %s %s %s %d" % (
        rps.group(1) if rps else "nan",
        "%.3f" % _ms(p50.group(1)) if p50 else "nan",
        "%.3f" % _ms(p99.group(1)) if p99 else "nan",
        req.group(1) if req else "0", errs))


# -------------------------------------------------------------- summary

# metric, unit, higher is better, decimals, column title
METRICS = [
    ("throughput_1", "MB/s", True, 1, "thr_1 MB/s"),
    ("throughput_8", "MB/s", True, 1, "thr_8 MB/s"),
    ("rps_1k", "req/s", True, 0, "rps_1k"),
    ("rps_1k_p50", "ms", False, 2, "p50 ms"),
    ("rps_1k_p99", "ms", False, 2, "p99 ms"),
    ("setup_rate", "req/s", True, 0, "setup/s"),
    ("cpu_per_gib", "cpu-s/GiB", False, 2, "cpu s/GiB"),
    ("IDLE", None, None, None, None),   # once per idle N
    ("errors", "count", False, 0, "errors"),
    ("other_cpu_pct", "%", False, 0, "other %"),
]
IDLE_METRICS = [
    ("rss_idle_{n}", "MiB", False, 1, "rss_{n} MiB"),
    ("idle_alive_{n}", "conns", True, 0, "alive/{n}"),
]
EXTRA = [  # results.tsv only
    ("throughput_1_bytes", "bytes"), ("throughput_8_bytes", "bytes"),
    ("cpu_per_gib_8", "cpu-s/GiB"), ("rps_1k_errors", "count"),
    ("setup_rate_errors", "count"), ("setup_rate_p99", "ms"),
]
IDLE_EXTRA = [
    ("rss_base_{n}", "MiB"), ("pss_idle_{n}", "MiB"),
    ("idle_established_{n}", "conns"), ("idle_reused_{n}", "conns"),
    ("idle_threads_{n}", "count"), ("idle_open_s_{n}", "s"),
]
PEERS = ["pagekite", "haproxy-stunnel", "ssh-reverse"]
SUBJECT = "kiteline"


def _expand(idle_ns):
    metrics, extra = [], list(EXTRA)
    for m in METRICS:
        if m[0] != "IDLE":
            metrics.append(m)
            continue
        for n in idle_ns:
            metrics.extend(tuple(x.format(n=n) if isinstance(x, str) else x
                                 for x in im) for im in IDLE_METRICS)
    for n in idle_ns:
        extra.extend((k.format(n=n), u) for k, u in IDLE_EXTRA)
    return metrics, extra


def _fmt(v, dec):
    if v is None:
        return "-"
    return f"{v:.{dec}f}"


def _x(r):
    return "-" if r is None else f"{r:.2f}x"


def _table(rows):
    """Markdown table, first column left-aligned, the others right."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for i, r in enumerate(rows):
        cells = [r[0].ljust(widths[0])] + [r[j].rjust(widths[j]) for j in range(1, len(r))]
        out.append("| " + " | ".join(cells) + " |")
        if i == 0:
            out.append("|" + "|".join("-" * (w + 2) if j == 0 else "-" * (w + 1) + ":"
                                       for j, w in enumerate(widths)) + "|")
    return "\n".join(out) + "\n"


def _read_raw(raw):
    rows, notes = {}, {}
    with open(raw, encoding="utf-8") as f:
        for line in f:
            fl = line.rstrip("\n").split("\t")
            if len(fl) < 4 or fl[0] == "round":
                continue
            rnd, chain, metric, value = fl[:4]
            note = fl[4] if len(fl) > 4 else ""
            if metric == "note":
                notes.setdefault(chain, []).append((rnd, value))
                continue
            try:
                v = float(value)
            except ValueError:
                v = None
            rows.setdefault((chain, metric), []).append(v)
            if note:
                notes.setdefault(chain, []).append((rnd, f"{metric}: {note}"))
    return rows, notes


def _targets(med, present, idle_ns):
    """Lines of the TARGETS section (issue #5) for the kiteline chain."""
    k = SUBJECT
    out = []

    def line(name, ok, detail):
        out.append(f"| {name} | {'-' if ok is None else ('PASS' if ok else 'MISS')} | {detail} |")

    def ratio(a, b):
        return None if a is None or b is None or b == 0 else a / b

    if k not in present:
        return "\nTARGETS: the kiteline chain did not run.\n"
    peers = [p for p in PEERS if p in present]

    def best_peer(metric):
        """(value, chain) of the peer with the highest `metric`, or (None, None)."""
        vals = [(med(p, metric), p) for p in peers if med(p, metric) is not None]
        return max(vals) if vals else (None, None)

    for metric in ("throughput_1", "throughput_8"):
        best, who = best_peer(metric)
        if best is None:
            line(f"{metric} >= 1.5x best peer", None, "no peer measured")
            continue
        r = ratio(med(k, metric), best)
        line(f"{metric} >= 1.5x best peer", None if r is None else r >= 1.5,
             f"{_fmt(med(k, metric), 1)} vs {who} {_fmt(best, 1)} MB/s = {_x(r)}")
    r = ratio(med(k, "throughput_1"), med("direct", "throughput_1"))
    line("throughput_1 >= 40% of direct", None if r is None else r >= 0.4,
         f"{_fmt(med(k, 'throughput_1'), 1)} vs {_fmt(med('direct', 'throughput_1'), 1)} MB/s"
         f" = {_fmt(None if r is None else 100 * r, 1)}%")
    # metric, reference chain, limit factor, kiteline must be >= (or <=), unit, decimals
    for metric, ref, factor, at_least, unit, dec in (
            ("cpu_per_gib", "haproxy-stunnel", 0.6, False, "CPU-s/GiB", 2),
            ("rps_1k", "haproxy-stunnel", 1.5, True, "req/s", 0),
            ("rps_1k_p99", "direct", 2.0, False, "ms", 2),
            ("setup_rate", "ssh-reverse", 1.5, True, "conn/s", 0)):
        a, b = med(k, metric), med(ref, metric)
        r = ratio(a, b)
        ok = None if r is None else (r >= factor if at_least else r <= factor)
        line(f"{metric} {'>=' if at_least else '<='} {factor}x {ref}", ok,
             f"{_fmt(a, dec)} vs {_fmt(b, dec)} {unit} = {_x(r)}")
    # The yardsticks: what the cheapest two-hop relay with a user-space AEAD tunnel (floor-tls)
    # and a minimal one with a polled libssl TLS 1.3 tunnel (floor-ssl) spend here, and where
    # they stand against the same targets.
    hs_cpu = med("haproxy-stunnel", "cpu_per_gib")
    best, who = best_peer("throughput_1")
    for floor in ("floor-tls", "floor-ssl"):
        for metric, dec, unit in (("cpu_per_gib", 2, "CPU-s/GiB"), ("throughput_1", 1, "MB/s")):
            f, a = med(floor, metric), med(k, metric)
            if f is None or a is None:
                continue
            if metric == "cpu_per_gib":
                against = f"; {floor} = {_x(ratio(f, hs_cpu))} haproxy-stunnel"
            else:
                against = f"; {floor} = {_x(ratio(f, best))} {who or 'best peer'}"
            line(f"(yardstick) {metric} of {floor}", None,
                 f"kiteline {_fmt(a, dec)} vs {floor} {_fmt(f, dec)} {unit}"
                 f" = {_x(a / f if metric.startswith('throughput') else f / a)}{against}")
    for n, limit in (("1000", 16.0), ("10000", 64.0)):
        if n not in idle_ns:
            line(f"rss_idle_{n} <= {limit:.0f} MiB, all alive", None, "not measured (BENCH_IDLE_N)")
            continue
        rss, alive = med(k, f"rss_idle_{n}"), med(k, f"idle_alive_{n}")
        ok = None if rss is None or alive is None else (rss <= limit and alive >= int(n))
        line(f"rss_idle_{n} <= {limit:.0f} MiB, all alive", ok,
             f"{_fmt(rss, 1)} MiB, {_fmt(alive, 0)}/{n} alive"
             f" ({_x(None if rss is None else rss / limit)} the limit)")
    errs = [v for v in (med.raw(k, "errors") or []) if v is not None]
    line("zero errors and crashes", (sum(errs) == 0) if errs else None,
         f"{_fmt(sum(errs) if errs else None, 0)} errors in {len(errs)} rounds"
         " (see Notes)")
    head = "| target | result | kiteline (median) vs reference = ratio |\n|---|---|---|\n"
    return "\nTARGETS (issue #5, chain `kiteline`, TLS tunnel):\n\n" + head + "\n".join(out) + "\n"


class _Medians:
    def __init__(self, rows):
        self.rows = rows

    def __call__(self, chain, metric):
        ok = [v for v in self.rows.get((chain, metric), []) if v is not None and v == v]
        return statistics.median(ok) if ok else None

    def raw(self, chain, metric):
        return self.rows.get((chain, metric))


def cmd_summarize(raw, outdir, chains):
    idle_ns = os.environ.get("BENCH_IDLE_N", "1000").replace(",", " ").split()
    metrics, extra = _expand(idle_ns)
    rows, notes = _read_raw(raw)
    med = _Medians(rows)

    units = {m[0]: m[1] for m in metrics}
    units.update(dict(extra))
    with open(os.path.join(outdir, "results.tsv"), "w") as out:
        out.write("chain\tmetric\tunit\tmedian\tmin\tmax\tn_ok\tn_runs\tvalues\n")
        for chain in chains:
            for metric in [m[0] for m in metrics] + [e[0] for e in extra]:
                vals = rows.get((chain, metric))
                if vals is None:
                    continue
                ok = [v for v in vals if v is not None and v == v]
                out.write("\t".join([
                    chain, metric, units.get(metric, ""), _fmt(med(chain, metric), 3),
                    _fmt(min(ok) if ok else None, 3), _fmt(max(ok) if ok else None, 3),
                    str(len(ok)), str(len(vals)),
                    ",".join(_fmt(v, 3) for v in vals)]) + "\n")

    present = [c for c in chains if any(key[0] == c for key in rows)]
    table = [["chain"] + [m[4] for m in metrics]]
    for c in present:
        table.append([c] + [_fmt(med(c, m[0]), m[3]) for m in metrics])
    text = _table(table)

    if SUBJECT in present and len(present) > 1:
        skip = {m[0] for m in metrics if m[0].startswith("idle_alive_")} | {
            "other_cpu_pct", "errors"}
        cols = [m for m in metrics if m[0] not in skip]
        rtab = [["kiteline vs"] + [m[4].split()[0] for m in cols]]
        for c in present:
            if c == SUBJECT:
                continue
            cells = [c]
            for m in cols:
                a, b = med(SUBJECT, m[0]), med(c, m[0])
                cells.append("-" if not a or not b else "%.2fx" % ((a / b) if m[2] else (b / a)))
            rtab.append(cells)
        text += ("\nRatios, kiteline against each chain (medians; >1 means kiteline is "
                 "better: faster, or less CPU, latency or memory):\n\n") + _table(rtab)

    text += _targets(med, present, idle_ns)

    if notes:
        text += "\nNotes:\n"
        for c in chains:
            grouped = {}
            for rnd, n in notes.get(c, []):
                grouped.setdefault(n, []).append(rnd)
            for n, rnds in grouped.items():
                where = ("round " if len(rnds) == 1 else "rounds ") + ",".join(rnds)
                text += f"- {c} ({where}): {n}\n"
    with open(os.path.join(outdir, "table.md"), "w") as f:
        f.write(text)
    sys.stdout.write(text)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, rest = sys.argv[1], sys.argv[2:]
    if cmd == "ports":
        cmd_ports(int(rest[0]) if rest else 1)
    elif cmd == "cpu":
        print(sum(st[2] for st in tree([int(p) for p in rest]).values()))
    elif cmd == "mem":
        print("%d %d %d %d" % mem([int(p) for p in rest]))
    elif cmd == "load":
        # busy ticks of the machine, then ticks of the trees (wrappers
        # included: a shell's reaped children are in its cutime/cstime)
        ours = sum(st[2] for st in tree([int(p) for p in rest], False).values())
        print(busy_ticks(), ours, "%.3f" % time.time())
    elif cmd == "pids":
        print(" ".join(f"{p}:{_start_time(p)}"
                       for p in sorted(tree([int(p) for p in rest], False))))
    elif cmd == "alive":
        print(len(_same(rest)))
    elif cmd == "kill":
        import signal
        for pid in _same(rest):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
    elif cmd == "tree":
        for pid, (comm, ppid, ticks) in sorted(tree([int(p) for p in rest]).items()):
            print(pid, ppid, comm, ticks)
    elif cmd == "idle":
        cmd_idle(rest)
    elif cmd == "wrk":
        cmd_wrk(rest[0])
    elif cmd == "summarize":
        cmd_summarize(rest[0], rest[1], rest[2:])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
