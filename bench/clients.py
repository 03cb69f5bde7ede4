#!/usr/bin/env python3
"""Loopback clients for bench/run.sh: many sockets from one process.

  clients.py idle  PORT PID N           N idle keep-alive connections (one GET
                                        /plaintext answered on each, then held)
  clients.py sse   PORT PID N           N open GET /events streams, then one
                                        POST /broadcast: time until all have it
  clients.py fresh PORT COUNT SECONDS   COUNT fresh GET /plaintext requests,
                                        one new connection each, spread over SECONDS
  clients.py pipeline PORT CONNS ROUNDS DEPTH
                                        on CONNS keep-alive connections, ROUNDS
                                        writes of DEPTH pipelined GET /plaintext
                                        each, every answer read before the next
                                        round (for bench/instructions.sh)

Each prints one line of key=value pairs. RSS figures are the server's (PID)
VmRSS in KiB from /proc. Everything is on 127.0.0.1 and bounded in time.
"""
import os
import resource
import selectors
import socket
import sys
import time

HOST = "127.0.0.1"
PLAIN = b"GET /plaintext HTTP/1.1\r\nHost: bench\r\n\r\n"
PLAIN_CLOSE = b"GET /plaintext HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"
EVENTS = b"GET /events HTTP/1.1\r\nHost: bench\r\nAccept: text/event-stream\r\n\r\n"
BROADCAST = (b"POST /broadcast HTTP/1.1\r\nHost: bench\r\nContent-Length: 4\r\n"
             b"Connection: close\r\n\r\nping")


def raise_nofile(n):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, n + 1024))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    if want < n + 64:
        sys.exit(f"clients.py: open-file limit {hard} is below {n + 64}")


def proc_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return -1


def pct(sorted_ms, p):
    if not sorted_ms:
        return float("nan")
    return sorted_ms[min(len(sorted_ms) - 1, int(len(sorted_ms) * p))]


def one_fresh(port, timeout=2.0):
    """Latency in ms of GET /plaintext on a new connection, or None."""
    t0 = time.monotonic()
    try:
        with socket.create_connection((HOST, port), timeout=timeout) as s:
            s.sendall(PLAIN_CLOSE)
            data = b""
            while b"Hello, World!" not in data:
                chunk = s.recv(4096)
                if not chunk:
                    return None
                data += chunk
    except OSError:
        return None
    return (time.monotonic() - t0) * 1000


def fresh_stats(port, count, seconds):
    step = seconds / count if count else 0
    start = time.monotonic()
    times, fails = [], 0
    for i in range(count):
        wait = start + i * step - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        ms = one_fresh(port)
        if ms is None:
            fails += 1
        else:
            times.append(ms)
    times.sort()
    return (f"fresh_n={len(times)} fresh_fail={fails} fresh_p50_ms={pct(times, 0.5):.2f} "
            f"fresh_p99_ms={pct(times, 0.99):.2f} fresh_max_ms={(times[-1] if times else float('nan')):.2f}")


def open_many(port, n, request, done, deadline):
    """Opens n connections, sends `request` on each and reads until
    done(bytes) holds; returns (selector, sockets that got there)."""
    sel = selectors.DefaultSelector()
    pending = 0
    for _ in range(n):
        if time.monotonic() > deadline:
            break
        try:
            s = socket.create_connection((HOST, port), timeout=2)
            s.sendall(request)
        except OSError:
            continue
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, bytearray())
        pending += 1
        # Drain answers as we go so neither side's buffers pile up.
        if pending % 256 == 0:
            pending -= drain(sel, done, 0)
    while pending and time.monotonic() < deadline:
        pending -= drain(sel, done, 0.5)
    ready = [key.fileobj for key in sel.get_map().values() if done(key.data)]
    return sel, ready


def recv_some(sock):
    """What the socket has: bytes, b"" at EOF or on an error, None if nothing yet."""
    try:
        return sock.recv(65536)
    except BlockingIOError:
        return None
    except OSError:
        return b""


def drain(sel, done, timeout):
    """Reads what is there; returns how many sockets newly reached done()."""
    reached = 0
    for key, _ in sel.select(timeout=timeout):
        buf = key.data
        if done(buf):
            continue
        chunk = recv_some(key.fileobj)
        if chunk is None:
            continue
        if not chunk:
            sel.unregister(key.fileobj)
            key.fileobj.close()
            reached += 1  # no longer pending
            continue
        buf += chunk
        if done(buf):
            reached += 1
    return reached


IDLE_QUIET = 5.0


def context_switches(pid):
    """Voluntary and involuntary context switches of every thread of `pid`."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/status") as f:
                for line in f:
                    if "ctxt_switches" in line:
                        total += int(line.split()[-1])
        except OSError:
            pass
    return total


def still_open(socks):
    """Sockets the server has not closed (a closed one reads as EOF)."""
    n = 0
    for s in socks:
        try:
            if s.recv(1, socket.MSG_PEEK) == b"":
                continue
        except BlockingIOError:
            pass
        except OSError:
            continue
        n += 1
    return n


def idle(port, pid, n):
    raise_nofile(n)
    time.sleep(0.3)
    r0 = proc_kib(pid)
    sel, ready = open_many(port, n, PLAIN, lambda b: b"Hello, World!" in b, time.monotonic() + 60)
    time.sleep(1.0)
    held = still_open(ready)
    r1 = proc_kib(pid)
    per = (r1 - r0) * 1024 / held if held else float("nan")
    # Wake-ups while every connection idles: the server's context switches
    # (all threads) over a quiet spell.
    c0 = context_switches(pid)
    time.sleep(IDLE_QUIET)
    wakeups = (context_switches(pid) - c0) / IDLE_QUIET
    stats = fresh_stats(port, 50, 2.0)
    held_after = still_open(ready)
    print(f"answered={len(ready)} held={held} held_after={held_after} rss_before_kib={r0} "
          f"rss_after_kib={r1} bytes_per_conn={per:.0f} idle_wakeups_per_s={wakeups:.1f} {stats}")


def sse(port, pid, n):
    raise_nofile(n)
    time.sleep(0.3)
    r0 = proc_kib(pid)
    head_done = lambda b: b"\r\n\r\n" in b
    sel, ready = open_many(port, n, EVENTS, head_done, time.monotonic() + 60)
    time.sleep(1.0)
    held = still_open(ready)
    r1 = proc_kib(pid)
    per = (r1 - r0) * 1024 / held if held else float("nan")
    ok_head = sum(1 for key in sel.get_map().values() if key.data.startswith(b"HTTP/1.1 200"))
    # From here each stream's buffer holds only what follows its head.
    for key in list(sel.get_map().values()):
        head, _, rest = bytes(key.data).partition(b"\r\n\r\n")
        key.data[:] = rest
    got = lambda b: b"event: broadcast" in b
    b = socket.create_connection((HOST, port), timeout=2)
    t0 = time.monotonic()
    b.sendall(BROADCAST)
    b.setblocking(False)
    answer = bytearray()
    sel.register(b, selectors.EVENT_READ, answer)
    t_answer = None
    t_last = None
    reached = 0
    deadline = t0 + 10
    while reached < held and time.monotonic() < deadline:
        for key, _ in sel.select(timeout=0.5):
            if key.fileobj is b:
                try:
                    chunk = b.recv(4096)
                except OSError:
                    chunk = b""
                answer += chunk
                if not chunk:
                    sel.unregister(b)
                    t_answer = t_answer or time.monotonic()
                elif answer.endswith(b"\n") and b"\r\n\r\n" in answer:
                    t_answer = t_answer or time.monotonic()
                continue
            buf = key.data
            if got(buf):
                continue
            chunk = recv_some(key.fileobj)
            if chunk is None:
                continue
            if not chunk:
                sel.unregister(key.fileobj)
                continue
            buf += chunk
            if got(buf):
                reached += 1
                t_last = time.monotonic()
    r2 = proc_kib(pid)
    body = bytes(answer).partition(b"\r\n\r\n")[2].strip().decode(errors="replace") or "-"
    fmt = lambda t: f"{(t - t0) * 1000:.1f}" if t else "nan"
    print(f"opened={len(ready)} ok_200={ok_head} held={held} rss_before_kib={r0} rss_after_kib={r1} "
          f"bytes_per_stream={per:.0f} broadcast_answer={body} reached={reached} "
          f"all_reached_ms={fmt(t_last) if reached == held else 'nan'} last_reached_ms={fmt(t_last)} "
          f"answer_ms={fmt(t_answer)} rss_after_broadcast_kib={r2}")


def pipeline(port, conns, rounds, depth, timeout=30.0):
    socks = [socket.create_connection((HOST, port), timeout=timeout) for _ in range(conns)]
    batch = PLAIN * depth
    answered = 0
    for _ in range(rounds):
        for sock in socks:
            sock.sendall(batch)
        for sock in socks:
            got = b""
            while got.count(b"HTTP/1.1 200 ") < depth:
                chunk = sock.recv(65536)
                if not chunk:
                    sys.exit(f"clients.py: the server closed after {answered} answers")
                got += chunk
            answered += depth
    for sock in socks:
        sock.close()
    print(f"answered={answered}")


def main():
    if len(sys.argv) < 2 or sys.argv[1] not in ("idle", "sse", "fresh", "pipeline"):
        sys.exit(__doc__)
    mode, args = sys.argv[1], [int(a) for a in sys.argv[2:]]
    if mode == "fresh":
        port, count, seconds = args
        print(fresh_stats(port, count, seconds))
    elif mode == "idle":
        idle(*args)
    elif mode == "pipeline":
        pipeline(*args)
    else:
        sse(*args)


if __name__ == "__main__":
    main()
