#!/usr/bin/env python3
"""Helpers for the kiteline interop tests (standard library only, loopback only).

  interop.py origin --docroot D --tls-pem F --portfile P [--duration S]
      HTTP/1.1 origin (keep-alive): GET /f/NAME serves D/NAME, POST /echo echoes the body,
      GET /ws with "Upgrade: websocket" becomes a WebSocket echo, anything else answers
      "hello from origin\\n"; a raw service (banner "SSH-2.0-KitelineInterop\\r\\n", then echo);
      a TLS origin answering "hello from tls origin path=PATH\\n". All bind 127.0.0.1 port 0;
      the ports are written to P as "http=H raw=R tls=T".
  interop.py tap --target PORT --dir D --portfile P [--duration S]
      TCP tap between connector and relay: records the first 64 KiB of each direction
      (D/cN.up, D/cN.down) and, after the HTTP head, parses PageKite frames in both directions,
      writing D/stats.txt (one line per connection, rewritten every 0.5 s).
  interop.py ws --port P --host NAME          WebSocket echo through the relay
  interop.py connect --port P --target H:P    raw kite via HTTP CONNECT (banner + echo)
  interop.py many --port P --host NAME --list FILE [--parallel N]
      concurrent GETs; FILE has lines "PATH SHA256"; every body is checked
  interop.py idle --port P --host NAME --path PATH --count N --pid RELAYPID [--idle S]
                  [--parallel K] [--strict]
      N keep-alive visitors (opened by K threads), one GET each, then idle; prints VmRSS of
      RELAYPID and how many survived; then all of them hang up at once
Every socket operation has a timeout; every loop is bounded.
"""

import argparse
import base64
import collections
import hashlib
import http.server
import os
import re
import resource
import socket
import socketserver
import ssl
import sys
import threading
import time

LOOPBACK = '127.0.0.1'
# pagekite.py reads a tunnel 50,393 bytes at a time (MAX_READ_BYTES x 3.1) and raises
# BugFoundError('Too much data') when one read holds more than 150 frames.
PK_READ = int((16 * 1024 - 128) * 3.1)
WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'


# ----------------------------------------------------------------------------- origin

class OriginHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'
    timeout = 120

    def log_message(self, fmt, *args):  # quiet
        pass

    def _reply(self, body, ctype='text/plain'):
        self.send_response(200)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.headers.get('Upgrade', '').lower() == 'websocket' and self.path == '/ws':
            return self._websocket()
        if self.path == '/xff':  # the visitor address the connector told the origin
            return self._reply(self.headers.get('X-Forwarded-For', '-').encode())
        if self.path.startswith('/f/'):
            name = os.path.basename(self.path[3:])
            path = os.path.join(self.server.docroot, name)
            if not os.path.isfile(path):
                self.send_error(404)
                return
            size = os.path.getsize(path)
            self.send_response(200)
            self.send_header('Content-Type', 'application/octet-stream')
            self.send_header('Content-Length', str(size))
            self.end_headers()
            self.wfile.flush()
            with open(path, 'rb') as fd:
                self.connection.sendfile(fd)
            return
        self._reply(b'hello from origin\n')

    def do_POST(self):
        length = int(self.headers.get('Content-Length', '0'))
        self.send_response(200)
        self.send_header('Content-Type', 'application/octet-stream')
        self.send_header('Content-Length', str(length))
        self.end_headers()
        left = length
        while left > 0:
            data = self.rfile.read(min(left, 65536))
            if not data:
                break
            self.wfile.write(data)
            left -= len(data)
        self.wfile.flush()

    def _websocket(self):
        key = self.headers.get('Sec-WebSocket-Key', '')
        accept = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
        self.send_response(101, 'Switching Protocols')
        self.send_header('Upgrade', 'websocket')
        self.send_header('Connection', 'Upgrade')
        self.send_header('Sec-WebSocket-Accept', accept)
        self.end_headers()
        self.wfile.flush()
        self.close_connection = True
        for _ in range(100):  # bounded number of frames
            hdr = self.rfile.read(2)
            if len(hdr) < 2:
                return
            opcode, length = hdr[0] & 0x0F, hdr[1] & 0x7F
            masked = hdr[1] & 0x80
            if length == 126:
                length = int.from_bytes(self.rfile.read(2), 'big')
            elif length == 127:
                length = int.from_bytes(self.rfile.read(8), 'big')
            mask = self.rfile.read(4) if masked else b'\0\0\0\0'
            payload = bytearray(self.rfile.read(length))
            for i in range(len(payload)):
                payload[i] ^= mask[i % 4]
            if opcode == 8:  # close: answer and stop
                self.wfile.write(bytes([0x88, 0]))
                self.wfile.flush()
                return
            out = bytes([0x80 | opcode])
            out += bytes([len(payload)]) if len(payload) < 126 else (
                bytes([126]) + len(payload).to_bytes(2, 'big'))
            self.wfile.write(out + bytes(payload))
            self.wfile.flush()


class ThreadingHTTP(http.server.ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 1024


class ThreadingTCP(socketserver.ThreadingTCPServer):
    daemon_threads = True
    request_queue_size = 1024


class RawHandler(socketserver.BaseRequestHandler):
    def handle(self):
        sock = self.request
        sock.settimeout(120)
        try:
            sock.sendall(b'SSH-2.0-KitelineInterop\r\n')
            for _ in range(100000):
                data = sock.recv(65536)
                if not data:
                    break
                sock.sendall(data)
        except OSError:
            pass


class TLSHandler(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            self.request.settimeout(20)
            conn = self.server.ctx.wrap_socket(self.request, server_side=True)
            data = b''
            while b'\r\n\r\n' not in data and len(data) < 65536:
                more = conn.recv(4096)
                if not more:
                    break
                data += more
            path = data.split(b' ')[1] if data.count(b' ') >= 2 else b'?'
            body = b'hello from tls origin path=' + path + b'\n'
            conn.sendall(b'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n'
                         b'Content-Length: %d\r\nConnection: close\r\n\r\n%s' % (len(body), body))
            conn.close()
        except (OSError, ssl.SSLError):
            pass


def serve_in_thread(server):
    th = threading.Thread(target=server.serve_forever, daemon=True)
    th.start()


def cmd_origin(args):
    raise_nofile()
    http_srv = ThreadingHTTP((LOOPBACK, 0), OriginHandler)
    http_srv.docroot = args.docroot
    raw_srv = ThreadingTCP((LOOPBACK, 0), RawHandler)
    tls_srv = ThreadingTCP((LOOPBACK, 0), TLSHandler)
    tls_srv.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls_srv.ctx.load_cert_chain(args.tls_pem)
    for srv in (http_srv, raw_srv, tls_srv):
        serve_in_thread(srv)
    write_atomic(args.portfile, 'http=%d raw=%d tls=%d\n' % (
        http_srv.server_address[1], raw_srv.server_address[1], tls_srv.server_address[1]))
    time.sleep(args.duration)
    return 0


# ----------------------------------------------------------------------------- tap

class FrameStats:
    """Streaming PageKite frame parser for one direction: head, then SIZE[ZZSIZE][R]\\r\\n."""

    def __init__(self):
        self.buf = b''
        self.in_head = True
        self.frames = 0
        self.zframes = 0
        self.bad = ''
        self.skip = 0
        self.first = None
        self.offset = 0          # stream offset of buf[0]
        self.starts = collections.deque()
        self.maxwin = 0          # most frames starting within any PK_READ-byte span

    def feed(self, data):
        if self.first is None and data:
            self.first = data[:1]
        if self.bad:
            return
        buf = self.buf + data if self.buf else data
        pos = 0
        for _ in range(1000000):
            if self.skip:
                n = min(self.skip, len(buf) - pos)
                self.skip -= n
                pos += n
                if self.skip:
                    break
            if self.in_head:
                end = buf.find(b'\r\n\r\n', pos)
                if end < 0:
                    if len(buf) - pos > 65536:
                        self.bad = 'no head end'
                    break
                self.in_head = False
                pos = end + 4
                continue
            end = buf.find(b'\r\n', pos, pos + 64)
            if end < 0:
                if len(buf) - pos > 64:
                    self.bad = 'size line too long: %r' % buf[pos:pos + 40]
                break
            line = buf[pos:end].decode('latin-1')
            m = re.fullmatch(r'([0-9a-fA-F]+)(?:Z([0-9a-fA-F]+))?(R?)', line)
            if not m:
                self.bad = 'bad size line %r' % line[:40]
                break
            self.frames += 1
            start = self.offset + pos
            self.starts.append(start)
            while start - self.starts[0] >= PK_READ:
                self.starts.popleft()
            self.maxwin = max(self.maxwin, len(self.starts))
            if m.group(2) is not None:
                self.zframes += 1
                self.skip = int(m.group(2), 16)
            else:
                self.skip = int(m.group(1), 16)
            pos = end + 2
            if not self.skip and pos >= len(buf):
                break
        self.offset += pos
        self.buf = buf[pos:]


class TapConn:
    def __init__(self, n, client, server, outdir):
        self.n = n
        self.client = client
        self.server = server
        self.outdir = outdir
        self.stats = {'up': FrameStats(), 'down': FrameStats()}
        self.recorded = {'up': 0, 'down': 0}
        self.bytes = {'up': 0, 'down': 0}
        self.closed = {'up': False, 'down': False}
        self.lock = threading.Lock()

    def pump(self, direction, src, dst):
        path = os.path.join(self.outdir, 'c%d.%s' % (self.n, direction))
        with open(path, 'wb') as rec:
            try:
                while True:
                    data = src.recv(262144)
                    if not data:
                        break
                    with self.lock:
                        self.bytes[direction] += len(data)
                        self.stats[direction].feed(data)
                        room = 65536 - self.recorded[direction]
                        if room > 0:
                            rec.write(data[:room])
                            rec.flush()
                            self.recorded[direction] += min(room, len(data))
                    dst.sendall(data)
            except OSError:
                pass
        with self.lock:
            self.closed[direction] = True
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def line(self):
        with self.lock:
            parts = ['conn=%d' % self.n]
            for d in ('up', 'down'):
                s = self.stats[d]
                parts.append('%s_bytes=%d %s_frames=%d %s_zframes=%d %s_first=%s %s_bad=%s '
                             '%s_closed=%d %s_maxwin=%d' % (d, self.bytes[d], d, s.frames, d, s.zframes, d,
                                               (s.first or b'').hex() or '-', d,
                                               (s.bad or '-').replace(' ', '_'), d,
                                               int(self.closed[d]), d, s.maxwin))
            return ' '.join(parts)


def cmd_tap(args):
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind((LOOPBACK, 0))
    lsock.listen(64)
    lsock.settimeout(0.5)
    conns = []
    write_atomic(args.portfile, 'tap=%d\n' % lsock.getsockname()[1])
    deadline = time.monotonic() + args.duration
    last = 0.0
    while time.monotonic() < deadline:
        try:
            client, _ = lsock.accept()
            server = socket.create_connection((LOOPBACK, args.target), timeout=10)
            server.settimeout(None)
            client.settimeout(None)
            conn = TapConn(len(conns) + 1, client, server, args.dir)
            conns.append(conn)
            for d, a, b in (('up', client, server), ('down', server, client)):
                threading.Thread(target=conn.pump, args=(d, a, b), daemon=True).start()
        except socket.timeout:
            pass
        except OSError as err:
            sys.stderr.write('tap: %s\n' % err)
        now = time.monotonic()
        if now - last >= 0.5:
            last = now
            write_atomic(os.path.join(args.dir, 'stats.txt'),
                         ''.join(c.line() + '\n' for c in conns))
    return 0


# ----------------------------------------------------------------------------- visitors

def recv_until(sock, marker, limit=1 << 20):
    data = b''
    while marker not in data:
        more = sock.recv(65536)
        if not more:
            break
        data += more
        if len(data) > limit:
            break
    return data


def cmd_ws(args):
    sock = socket.create_connection((LOOPBACK, args.port), timeout=15)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(('GET /ws HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\n'
                  'Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n'
                  'Sec-WebSocket-Version: 13\r\n\r\n' % (args.host, key)).encode())
    data = recv_until(sock, b'\r\n\r\n')
    head, _, rest = data.partition(b'\r\n\r\n')
    expect = base64.b64encode(hashlib.sha1((key + WS_GUID).encode()).digest()).decode()
    status = head.split(b'\r\n', 1)[0].decode('latin-1')
    if not status.startswith('HTTP/1.1 101') or expect.encode() not in head:
        print('ws: bad handshake reply: %r' % head[:300])
        return 1
    text = 'kiteline interop websocket %d' % os.getpid()
    payload = text.encode()
    mask = os.urandom(4)
    frame = bytes([0x81, 0x80 | len(payload)]) + mask + bytes(
        b ^ mask[i % 4] for i, b in enumerate(payload))
    sock.sendall(frame)
    data = rest
    for _ in range(100):
        if len(data) >= 2 and len(data) >= 2 + (data[1] & 0x7F):
            break
        more = sock.recv(4096)
        if not more:
            break
        data += more
    if len(data) < 2 or data[0] != 0x81 or data[1] & 0x80:
        print('ws: bad echo frame: %r' % data[:80])
        return 1
    got = data[2:2 + (data[1] & 0x7F)].decode('latin-1')
    sock.sendall(bytes([0x88, 0x80]) + os.urandom(4))
    sock.close()
    print('ws: handshake ok, echo=%r' % got)
    return 0 if got == text else 1


def cmd_connect(args):
    sock = socket.create_connection((LOOPBACK, args.port), timeout=15)
    sock.sendall(('CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n' % (args.target, args.target)).encode())
    data = recv_until(sock, b'\r\n\r\n')
    head, _, rest = data.partition(b'\r\n\r\n')
    if not head.startswith(b'HTTP/1.') or b' 200 ' not in head.split(b'\r\n')[0] + b' ':
        print('connect: refused: %r' % head[:200])
        return 1
    data = rest
    for _ in range(100):
        if b'\r\n' in data:
            break
        more = sock.recv(4096)
        if not more:
            break
        data += more
    banner = data.split(b'\r\n')[0]
    line = b'kiteline raw echo %d\n' % os.getpid()
    sock.sendall(line)
    echo = data[len(banner) + 2:]
    for _ in range(100):
        if len(echo) >= len(line):
            break
        more = sock.recv(4096)
        if not more:
            break
        echo += more
    sock.close()
    print('connect: reply=%r banner=%r echo=%r' % (head.split(b'\r\n')[0], banner, echo))
    return 0 if banner == b'SSH-2.0-KitelineInterop' and echo == line else 1


def read_response(sock, buf=b''):
    """Reads one HTTP response with Content-Length; returns (status, body, leftover)."""
    data = buf
    for _ in range(10000):
        if b'\r\n\r\n' in data:
            break
        more = sock.recv(65536)
        if not more:
            return None, None, b''
        data += more
    head, _, rest = data.partition(b'\r\n\r\n')
    lines = head.decode('latin-1').split('\r\n')
    length = None
    for h in lines[1:]:
        k, _, v = h.partition(':')
        if k.strip().lower() == 'content-length':
            length = int(v.strip())
    if length is None:
        return lines[0], None, b''
    body = bytearray(rest)
    while len(body) < length:
        more = sock.recv(min(1 << 20, length - len(body)))
        if not more:
            break
        body += more
    return lines[0], bytes(body[:length]), bytes(body[length:])


def cmd_many(args):
    jobs = []
    with open(args.list) as fd:
        for line in fd:
            if line.strip():
                path, sha = line.split()
                jobs.append((path, sha))
    results = [None] * len(jobs)

    def run(i):
        path, sha = jobs[i]
        try:
            sock = socket.create_connection((LOOPBACK, args.port), timeout=60)
            sock.sendall(('GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n'
                          % (path, args.host)).encode())
            status, body, _ = read_response(sock)
            sock.close()
            if body is None:
                results[i] = 'no body (status %r)' % status
            elif hashlib.sha256(body).hexdigest() != sha:
                results[i] = 'sha mismatch len=%d' % len(body)
            else:
                results[i] = 'ok'
        except OSError as err:
            results[i] = 'error %s' % err

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    start = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join(120)
    took = time.monotonic() - start
    ok = sum(1 for r in results if r == 'ok')
    for i, r in enumerate(results):
        if r != 'ok':
            print('many: %s: %s' % (jobs[i][0], r))
    print('many: %d/%d downloads ok in %.2fs' % (ok, len(jobs), took))
    return 0 if ok == len(jobs) else 1


def vmrss_kb(pid):
    with open('/proc/%d/status' % pid) as fd:
        for line in fd:
            if line.startswith('VmRSS:'):
                return int(line.split()[1])
    return -1


def cmd_idle(args):
    raise_nofile()
    before = vmrss_kb(args.pid)
    socks = []
    failures = []
    lock = threading.Lock()
    start = time.monotonic()
    per_thread = (args.count + args.parallel - 1) // args.parallel

    def opener(n):
        for _ in range(n):
            if time.monotonic() - start > 120:
                return
            try:
                sock = socket.create_connection((LOOPBACK, args.port), timeout=30)
                sock.sendall(('GET %s HTTP/1.1\r\nHost: %s\r\n\r\n'
                              % (args.path, args.host)).encode())
                status, body, _ = read_response(sock)
                if not status or ' 200 ' not in status + ' ' or body is None:
                    sock.close()
                    with lock:
                        failures.append('status %r' % status)
                    continue
                with lock:
                    socks.append(sock)
            except OSError as err:
                with lock:
                    failures.append(str(err))

    counts = [min(per_thread, args.count - i * per_thread) for i in range(args.parallel)]
    threads = [threading.Thread(target=opener, args=(c,)) for c in counts if c > 0]
    for th in threads:
        th.start()
    for th in threads:
        th.join(150)
    opened = time.monotonic() - start
    time.sleep(args.idle)
    alive = 0
    for sock in socks:
        sock.setblocking(False)
        try:
            data = sock.recv(1)
            if data:
                alive += 1  # unexpected bytes, but the connection is open
        except BlockingIOError:
            alive += 1
        except OSError:
            pass
    during = vmrss_kb(args.pid)
    print('idle: opened %d/%d keep-alive visitors in %.1fs (%d failed%s); alive after %gs idle: %d'
          % (len(socks), args.count, opened, len(failures),
             (': ' + failures[0]) if failures else '', args.idle, alive))
    print('idle: relay VmRSS before=%d kB, with %d idle streams=%d kB (delta %d kB, %.1f kB/stream)'
          % (before, alive, during, during - before, (during - before) / max(alive, 1)))
    for sock in socks:  # all visitors hang up at once
        sock.close()
    if args.strict:
        return 0 if len(socks) == args.count and alive == args.count else 1
    return 0 if socks else 1


# ----------------------------------------------------------------------------- main

def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 8192) if hard != resource.RLIM_INFINITY else 8192
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def write_atomic(path, text):
    tmp = path + '.tmp'
    with open(tmp, 'w') as fd:
        fd.write(text)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest='cmd', required=True)
    p = sub.add_parser('origin')
    p.add_argument('--docroot', required=True)
    p.add_argument('--tls-pem', required=True)
    p.add_argument('--portfile', required=True)
    p.add_argument('--duration', type=float, default=600)
    p = sub.add_parser('tap')
    p.add_argument('--target', type=int, required=True)
    p.add_argument('--dir', required=True)
    p.add_argument('--portfile', required=True)
    p.add_argument('--duration', type=float, default=600)
    p = sub.add_parser('ws')
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--host', required=True)
    p = sub.add_parser('connect')
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--target', required=True)
    p = sub.add_parser('many')
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--host', required=True)
    p.add_argument('--list', required=True)
    p = sub.add_parser('idle')
    p.add_argument('--port', type=int, required=True)
    p.add_argument('--host', required=True)
    p.add_argument('--path', default='/hello')
    p.add_argument('--count', type=int, default=1000)
    p.add_argument('--pid', type=int, required=True)
    p.add_argument('--idle', type=float, default=5)
    p.add_argument('--parallel', type=int, default=20)
    p.add_argument('--strict', action='store_true', help='fail unless every visitor succeeded')
    args = ap.parse_args()
    return {'origin': cmd_origin, 'tap': cmd_tap, 'ws': cmd_ws, 'connect': cmd_connect,
            'many': cmd_many, 'idle': cmd_idle}[args.cmd](args)


if __name__ == '__main__':
    sys.exit(main())
