#!/usr/bin/env python3
"""Mixed load for bench/soak.sh: drives the `soak` example for DURATION
seconds, samples the server, and fails if anything grows without bound or
any request is lost.

  soak.py PORT PID DURATION [SAMPLES_FILE]

Client threads (THREADS, default 12) each run one scenario after another,
picked at random: keep-alive, Connection: close, pipelined, slow head, slow
body, slow reader, upload (spooled), SSE stream, fed stream, compressed
text, panicking route, and three kinds of reset (SO_LINGER 0: mid-head,
mid-response, mid-upload). Every request sent is counted with the status
it got; a request with no complete answer is an error, except the resets
(counted apart: the client walked away on purpose).

Every SAMPLE_EVERY seconds (5) it records the server's VmRSS, open fds,
threads and GET /metrics. The checks, at the end, once the load has
stopped and the server has closed every connection:
  - no request lost, no unexpected status;
  - the server's counts agree with the clients': responses_total{2xx} ==
    200s seen + scrapes + responses cut by a reset, {5xx} == the panics,
    nothing refused;
  - RSS at the end <= RSS after warm-up (WARMUP seconds, default
    DURATION/10) + RSS_MARGIN_KIB (8192); open fds and threads at the end
    <= at the start (idle, before the load) + FD_MARGIN (0) / THREAD_MARGIN (0).
Everything is on 127.0.0.1 and every socket operation times out.
"""
import os
import random
import socket
import struct
import sys
import threading
import time
import zlib

HOST = "127.0.0.1"
IO_TIMEOUT = 15
THREADS = int(os.environ.get("THREADS", "12"))
SAMPLE_EVERY = float(os.environ.get("SAMPLE_EVERY", "5"))
RSS_MARGIN_KIB = int(os.environ.get("RSS_MARGIN_KIB", "8192"))
FD_MARGIN = int(os.environ.get("FD_MARGIN", "0"))
THREAD_MARGIN = int(os.environ.get("THREAD_MARGIN", "0"))
UPLOAD = 2 << 20
DOWNLOAD = 4 << 20


class Lost(Exception):
    """A request that got no complete, expected answer."""


class Tally:
    def __init__(self):
        self.lock = threading.Lock()
        self.sent = 0
        self.status = {}       # (scenario, status) -> count
        self.resets = {}       # scenario -> count
        self.cut_responses = 0  # resets after the server made a response
        self.errors = []       # (scenario, reason)

    def got(self, scenario, status, n=1):
        with self.lock:
            self.sent += n
            key = (scenario, status)
            self.status[key] = self.status.get(key, 0) + n

    def reset(self, scenario, cut_response=False):
        with self.lock:
            self.sent += 1
            self.resets[scenario] = self.resets.get(scenario, 0) + 1
            self.cut_responses += cut_response

    def error(self, scenario, reason):
        with self.lock:
            self.sent += 1
            self.errors.append((scenario, reason))

    def by_status(self):
        out = {}
        for (_, status), n in self.status.items():
            out[status] = out.get(status, 0) + n
        return out


class Conn:
    """A client connection that reads HTTP/1.1 responses."""

    def __init__(self, port):
        self.sock = socket.create_connection((HOST, port), timeout=IO_TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def fill(self, size=65536):
        chunk = self.sock.recv(size)
        if not chunk:
            raise Lost(f"EOF with {len(self.buf)} bytes pending")
        self.buf += chunk

    def until(self, delim):
        while delim not in self.buf:
            self.fill()
        i = self.buf.index(delim) + len(delim)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def take(self, n, pace=None):
        while len(self.buf) < n:
            self.fill(16384 if pace else 65536)
            if pace:
                time.sleep(pace)
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def response(self):
        """(status, headers, body) of the next response."""
        head = self.until(b"\r\n\r\n").decode("latin-1")
        lines = head.split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(self.until(b"\r\n")[:-2].split(b";")[0], 16)
                if size == 0:
                    self.until(b"\r\n")
                    break
                body += self.take(size + 2)[:-2]
        else:
            body = self.take(int(headers.get("content-length", "0")))
        return status, headers, body

    def closed(self):
        """True once the server has closed (EOF or a reset)."""
        try:
            return self.sock.recv(1) == b""
        except (ConnectionResetError, BrokenPipeError):
            return True

    def reset(self):
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()

    def close(self):
        self.sock.close()


def get(path, close=False, extra=""):
    conn = "Connection: close\r\n" if close else ""
    return f"GET {path} HTTP/1.1\r\nHost: soak\r\n{conn}{extra}\r\n".encode()


def post_head(path, length, close=False):
    conn = "Connection: close\r\n" if close else ""
    return f"POST {path} HTTP/1.1\r\nHost: soak\r\n{conn}Content-Length: {length}\r\n\r\n".encode()


def expect(cond, what):
    if not cond:
        raise Lost(what)


# Each scenario returns the requests it answered as [(status, n)], or
# raises Lost. `t` is the Tally (for resets), `rng` the thread's Random.

def keepalive(port, t, rng):
    c = Conn(port)
    n = rng.randint(5, 30)
    for _ in range(n):
        c.send(get("/plaintext"))
        status, _, body = c.response()
        expect(status == 200 and body == b"Hello, World!", f"plaintext {status}")
    c.close()
    return [(200, n)]


def close(port, t, rng):
    c = Conn(port)
    c.send(get("/plaintext", close=True))
    status, headers, body = c.response()
    expect(status == 200 and body == b"Hello, World!", f"plaintext {status}")
    expect(c.closed(), "open after Connection: close")
    c.close()
    return [(200, 1)]


def pipelined(port, t, rng):
    c = Conn(port)
    c.send(get("/plaintext") * 16)
    for _ in range(16):
        status, _, body = c.response()
        expect(status == 200 and body == b"Hello, World!", f"pipelined {status}")
    c.close()
    return [(200, 16)]


def slow_head(port, t, rng):
    c = Conn(port)
    req = get("/plaintext")
    step = len(req) // 8 + 1
    for i in range(0, len(req), step):
        c.send(req[i:i + step])
        time.sleep(0.1)
    status, _, body = c.response()
    expect(status == 200 and body == b"Hello, World!", f"slow head {status}")
    c.close()
    return [(200, 1)]


def slow_body(port, t, rng):
    c = Conn(port)
    body = bytes(rng.getrandbits(8) for _ in range(4096))
    c.send(post_head("/echo", len(body)))
    for i in range(0, len(body), 512):
        c.send(body[i:i + 512])
        time.sleep(0.1)
    status, _, echoed = c.response()
    expect(status == 200 and echoed == body, f"slow body {status}")
    c.close()
    return [(200, 1)]


def slow_reader(port, t, rng):
    c = Conn(port)
    c.send(get(f"/download?size={DOWNLOAD}"))
    head = c.until(b"\r\n\r\n")
    expect(head.startswith(b"HTTP/1.1 200"), f"download {head[:20]!r}")
    body = c.take(DOWNLOAD, pace=0.004)
    expect(body.count(b"x") == DOWNLOAD, "download body")
    c.close()
    return [(200, 1)]


def upload(port, t, rng):
    c = Conn(port)
    data = os.urandom(64 * 1024) * (UPLOAD // (64 * 1024))
    if rng.random() < 0.5:
        c.send(post_head("/upload", len(data)))
        c.send(data)
    else:
        c.send(b"POST /upload HTTP/1.1\r\nHost: soak\r\nTransfer-Encoding: chunked\r\n\r\n")
        for i in range(0, len(data), 100_000):
            piece = data[i:i + 100_000]
            c.send(b"%x\r\n" % len(piece) + piece + b"\r\n")
        c.send(b"0\r\n\r\n")
    status, _, body = c.response()
    expect(status == 200 and body == b"%d\n" % len(data), f"upload {status} {body[:40]!r}")
    c.close()
    return [(200, 1)]


def sse(port, t, rng):
    c = Conn(port)
    c.send(get("/events", extra="Accept: text/event-stream\r\n"))
    head = c.until(b"\r\n\r\n")
    expect(head.startswith(b"HTTP/1.1 200"), f"events {head[:20]!r}")
    # Ticks come once a second: two of them, then leave.
    for _ in range(2):
        c.until(b"event: tick\n")
    c.close()
    return [(200, 1)]


def fed_stream(port, t, rng):
    c = Conn(port)
    c.send(get("/stream?chunks=20"))
    status, _, body = c.response()
    expect(status == 200 and body.count(b"\n") == 20, f"stream {status}")
    c.close()
    return [(200, 1)]


def compressed(port, t, rng):
    c = Conn(port)
    c.send(get("/text?size=20000", extra="Accept-Encoding: gzip\r\n"))
    status, headers, body = c.response()
    expect(status == 200 and headers.get("content-encoding") == "gzip", f"text {status}")
    text = zlib.decompress(body, 16 + zlib.MAX_WBITS)
    expect(len(text) == 20000, "gzip body")
    c.close()
    return [(200, 1)]


def panic(port, t, rng):
    c = Conn(port)
    c.send(get("/panic"))
    status, headers, _ = c.response()
    expect(status == 500, f"panic answered {status}")
    expect(c.closed(), "open after a panic")
    c.close()
    return [(500, 1)]


def reset_mid_head(port, t, rng):
    c = Conn(port)
    c.send(b"GET /plaintext HTTP/1.1\r\nHost: so")
    time.sleep(0.05)
    c.reset()
    t.reset("reset_mid_head")
    return []


def reset_mid_response(port, t, rng):
    c = Conn(port)
    c.send(get(f"/download?size={64 << 20}"))
    c.take(256 * 1024)
    c.reset()
    t.reset("reset_mid_response", cut_response=True)
    return []


def reset_mid_upload(port, t, rng):
    c = Conn(port)
    c.send(post_head("/upload", 8 << 20))
    c.send(os.urandom(64 * 1024) * 8)
    time.sleep(0.05)
    c.reset()
    t.reset("reset_mid_upload")
    return []


SCENARIOS = [  # (function, weight)
    (keepalive, 20), (close, 15), (pipelined, 8), (slow_head, 4), (slow_body, 4),
    (slow_reader, 3), (upload, 4), (sse, 2), (fed_stream, 6), (compressed, 6),
    (panic, 4), (reset_mid_head, 3), (reset_mid_response, 2), (reset_mid_upload, 2),
]


def client_thread(port, t, stop, seed):
    rng = random.Random(seed)
    funcs = [f for f, _ in SCENARIOS]
    weights = [w for _, w in SCENARIOS]
    while not stop.is_set():
        f = rng.choices(funcs, weights)[0]
        try:
            for status, n in f(port, t, rng):
                t.got(f.__name__, status, n)
        except (Lost, OSError, ValueError, IndexError) as e:
            t.error(f.__name__, f"{type(e).__name__}: {e}")
        time.sleep(rng.random() * 0.01)


def proc_status(pid):
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()[0] if v.split() else ""
    return out


def scrape(port):
    c = Conn(port)
    c.send(get("/metrics", close=True))
    status, _, body = c.response()
    c.close()
    if status != 200:
        raise Lost(f"/metrics answered {status}")
    metrics = {}
    for line in body.decode().splitlines():
        if line and not line.startswith("#"):
            name, value = line.rsplit(" ", 1)
            metrics[name] = float(value)
    return metrics


class Sampler:
    def __init__(self, port, pid, out):
        self.port, self.pid, self.out = port, pid, out
        self.scrapes = 0
        self.samples = []

    def sample(self, phase, t0):
        st = proc_status(self.pid)
        fds = len(os.listdir(f"/proc/{self.pid}/fd"))
        m = scrape(self.port)
        self.scrapes += 1
        conns = sum(v for k, v in m.items() if k.startswith("pool_server_connections{"))
        # Not counted: this scrape's own connection (if the loop counted it
        # while it was with a worker) and the worker answering it.
        conns -= min(1, m['pool_server_connections{state="dispatched"}'])
        s = {
            "t": round(time.monotonic() - t0, 1), "phase": phase,
            "rss_kib": int(st["VmRSS"]), "fds": fds, "threads": int(st["Threads"]),
            "conns": int(conns), "queue": int(m["pool_server_queue_depth"]),
            "busy": int(m["pool_server_workers_busy"]) - 1,
            "2xx": int(m['pool_server_responses_total{class="2xx"}']),
            "5xx": int(m['pool_server_responses_total{class="5xx"}']),
            "refused": int(sum(v for k, v in m.items() if k.startswith("pool_server_refused_total"))),
        }
        s["metrics"] = m
        self.samples.append(s)
        line = " ".join(f"{k}={v}" for k, v in s.items() if k != "metrics")
        print(line, flush=True)
        if self.out:
            self.out.write(line + "\n")
            self.out.flush()
        return s


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    port, pid, duration = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
    out = open(sys.argv[4], "w") if len(sys.argv) > 4 else None
    warmup = float(os.environ.get("WARMUP", duration / 10))
    sampler = Sampler(port, pid, out)
    t0 = time.monotonic()
    start = sampler.sample("start", t0)

    tally, stop = Tally(), threading.Event()
    threads = [threading.Thread(target=client_thread, args=(port, tally, stop, i), daemon=True)
               for i in range(THREADS)]
    for th in threads:
        th.start()
    warm = None
    next_sample = time.monotonic() + SAMPLE_EVERY
    while time.monotonic() - t0 < duration:
        time.sleep(max(0, next_sample - time.monotonic()))
        next_sample += SAMPLE_EVERY
        s = sampler.sample("load", t0)
        if warm is None and s["t"] >= warmup:
            warm = s
    stop.set()
    for th in threads:
        th.join(timeout=2 * IO_TIMEOUT)
    stuck = sum(th.is_alive() for th in threads)
    # The server closes the last connections (keep-alive and linger timeouts).
    deadline = time.monotonic() + 30
    while True:
        end = sampler.sample("end", t0)
        if end["conns"] == 0 and end["busy"] == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    # What /metrics said at the end includes the scrape being answered.
    warm = warm or start

    problems = []
    if stuck:
        problems.append(f"{stuck} client threads did not finish")
    if tally.errors:
        kinds = {}
        for scenario, reason in tally.errors:
            kinds.setdefault(scenario, []).append(reason)
        for scenario, reasons in kinds.items():
            problems.append(f"{len(reasons)} lost in {scenario}, e.g. {reasons[0]}")
    by_status = tally.by_status()
    unexpected = {s: n for s, n in by_status.items() if s not in (200, 500)}
    if unexpected:
        problems.append(f"unexpected statuses {unexpected}")
    # The last scrape's own response is counted after it was rendered.
    want_2xx = by_status.get(200, 0) + sampler.scrapes - 1 + tally.cut_responses
    if end["2xx"] != want_2xx:
        problems.append(f"server counted {end['2xx']} 2xx, clients saw {want_2xx} "
                        "(200s + scrapes + responses cut by a reset)")
    if end["5xx"] != by_status.get(500, 0):
        problems.append(f"server counted {end['5xx']} 5xx, clients saw {by_status.get(500, 0)}")
    if end["refused"]:
        problems.append(f"the server refused {end['refused']} requests itself")
    if end["conns"] or end["busy"] or end["queue"]:
        problems.append(f"not quiet at the end: conns={end['conns']} busy={end['busy']} "
                        f"queue={end['queue']}")
    if end["rss_kib"] > warm["rss_kib"] + RSS_MARGIN_KIB:
        problems.append(f"RSS grew: {warm['rss_kib']} KiB after warm-up, {end['rss_kib']} at the end")
    if end["fds"] > start["fds"] + FD_MARGIN:
        problems.append(f"fds grew: {start['fds']} at the start, {end['fds']} at the end")
    if end["threads"] > start["threads"] + THREAD_MARGIN:
        problems.append(f"threads grew: {start['threads']} at the start, {end['threads']} at the end")

    peak = max(sampler.samples, key=lambda s: s["rss_kib"])
    print(f"soak: {duration:.0f} s, {THREADS} client threads, {len(sampler.samples)} samples")
    for what in ("rss_kib", "fds", "threads"):
        print(f"  {what}: start {start[what]}, after warm-up {warm[what]}, "
              f"peak {max(s[what] for s in sampler.samples)}, end {end[what]}")
    print(f"  peak RSS at t={peak['t']} s")
    print(f"  requests sent: {tally.sent}; by status: {dict(sorted(by_status.items()))}; "
          f"resets on purpose: {dict(sorted(tally.resets.items()))}; errors: {len(tally.errors)}")
    per = {}
    for (scenario, status), n in tally.status.items():
        per[scenario] = per.get(scenario, 0) + n
    print(f"  answered by scenario: {dict(sorted(per.items()))}")
    print(f"  server: 2xx {end['2xx']}, 5xx {end['5xx']}, refused {end['refused']}, "
          f"metrics scrapes {sampler.scrapes}")
    if problems:
        print("soak: FAILED")
        for p in problems:
            print("  - " + p)
        sys.exit(1)
    print("soak: OK")


if __name__ == "__main__":
    main()
