#!/usr/bin/env python3
"""A PageKite connector that writes the way libpagekite does (standard library only, loopback).

  nagle_connector.py --relay PORT --kite NAME --secret S --file F --ready R [--stats P]
                     [--version V] [--chunk N] [--window N] [--duration S]

Registers one http kite NAME on the relay at 127.0.0.1:PORT with a signed kite line (spec
§4.1-4.3, Flow A: a first request with an empty FSALT, the relay's challenge, then a second
connection with the challenge signed), writes "live" to R once the relay said OK, and serves F
to every HTTP request that arrives on the tunnel (spec §5).

What makes it a test: Nagle stays on (TCP_NODELAY off), and each chunk goes out in two send()
calls, the chunk's size line and header block first, then its body, as libpagekite does. A relay
that sends nothing back after the small first write holds its ACK for the delayed-ACK time
(40 ms on Linux), and Nagle keeps the body back until then: one stall per chunk.

Flow control as libpagekite's sender (spec §5.7): a stream's unacknowledged bytes (sent minus the
relay's SKB) stay below a window that starts at 128 KiB, becomes 1.125 x the unacknowledged bytes
at the first SKB, then grows 1 KiB per SKB, within 4..384 KiB; --window N fixes it at N bytes
instead (0: no flow control). The version sent is libpagekite's (0.91.251215C) unless
--version says otherwise.

Counters are written to P after each stream (one line, key=value): streams, bytes served,
frames received, SKBs, and "filler" NOOP chunks (a NOOP whose only header is NOOP and whose body
is '!' bytes: pagekite.py's frame-density filler, which only pagekite.py connectors should get).
Every socket operation has a timeout; the process ends after --duration seconds.
"""

import argparse
import hashlib
import os
import secrets
import socket
import sys
import threading
import time

LOOPBACK = '127.0.0.1'
LIBPAGEKITE_VERSION = '0.91.251215C'


def sign(secret, payload):
    """SALT8 || SHA1HEX(SECRET || payload || SALT8)[:28] (spec §4.3)."""
    salt = secrets.token_hex(4)
    return salt + hashlib.sha1((secret + payload + salt).encode()).hexdigest()[:28]


def read_head(sock):
    data = b''
    while b'\r\n\r\n' not in data:
        more = sock.recv(4096)
        if not more:
            raise ConnectionError('relay closed during the handshake: %r' % data[:300])
        data += more
        if len(data) > 65536:
            raise ConnectionError('handshake response too large')
    head, rest = data.split(b'\r\n\r\n', 1)
    return head.decode('latin-1').split('\r\n'), rest


def header_values(lines, name):
    prefix = name.lower() + ':'
    return [l.split(':', 1)[1].strip() for l in lines if l.lower().startswith(prefix)]


def handshake(args, bsalt, fsalt):
    """One round: returns (socket, response lines, bytes after the head)."""
    sock = socket.create_connection((LOOPBACK, args.relay), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 0)  # Nagle on, as libpagekite
    payload = 'http:%s:%s:%s' % (args.kite, bsalt, fsalt)
    req = ('CONNECT PageKite:1 HTTP/1.0\r\n'
           'X-PageKite-Version: %s\r\n'
           'X-PageKite: %s:%s\r\n'
           '\r\n') % (args.version, payload, sign(args.secret, payload))
    sock.sendall(req.encode())
    lines, rest = read_head(sock)
    return sock, lines, rest


def register(args):
    bsalt = secrets.token_hex(18)
    sock, lines, _ = handshake(args, bsalt, '')
    sock.close()
    challenge = header_values(lines, 'X-PageKite-SignThis')
    if not challenge:
        raise ConnectionError('no challenge from the relay: %r' % lines)
    fsalt = challenge[0].split(':')[3]
    sock, lines, rest = handshake(args, bsalt, fsalt)
    if not header_values(lines, 'X-PageKite-OK'):
        raise ConnectionError('kite not accepted: %r' % lines)
    return sock, rest


class Stream:
    def __init__(self, sid):
        self.sid = sid
        self.request = b''
        self.started = False
        self.sent = 0
        self.acked = 0
        self.closed = False
        self.window = 128 * 1024
        self.skbs = 0

    def must_wait(self, fixed_window):
        """True while the window is full. With libpagekite's rule the first SKB is awaited
        after the first chunk (its event loop reads the relay's SKB, which on loopback arrives
        within microseconds, before it reads the origin again)."""
        if fixed_window is None and self.skbs == 0 and self.sent > 0:
            return True
        return self.window != 0 and self.sent - self.acked >= self.window

    def on_skb(self, acked, fixed_window):
        """An SKB: libpagekite's window rule (spec §5.7) unless the window is fixed."""
        self.acked = max(self.acked, acked)
        self.skbs += 1
        if fixed_window is not None:
            return
        if self.skbs == 1:
            self.window = int(1.125 * (self.sent - self.acked))
        else:
            self.window += 1024
        self.window = max(4096, min(self.window, 384 * 1024))


class Connector:
    def __init__(self, args, sock):
        self.args = args
        self.sock = sock
        self.send_lock = threading.Lock()
        self.cond = threading.Condition()
        self.streams = {}
        self.stats = {'streams': 0, 'served_bytes': 0, 'frames_in': 0, 'skb': 0,
                      'filler_frames': 0, 'filler_bytes': 0, 'pings': 0}

    def write_stats(self):
        text = ' '.join('%s=%d' % kv for kv in self.stats.items()) + '\n'
        tmp = self.args.stats + '.tmp'
        with open(tmp, 'w') as fd:
            fd.write(text)
        os.replace(tmp, self.args.stats)

    def send_chunk(self, headers, body):
        """Two send() calls, Nagle on: size line + header block, then the body."""
        head = ''.join('%s: %s\r\n' % kv for kv in headers) + '\r\n'
        head = head.encode()
        with self.send_lock:
            self.sock.sendall(b'%x\r\n' % (len(head) + len(body)) + head)
            if body:
                self.sock.sendall(body)

    # --- receiving -------------------------------------------------------------------

    def read_loop(self, buf):
        while True:
            frame, buf = self.next_frame(buf)
            if frame is None:
                more = self.sock.recv(262144)
                if not more:
                    raise ConnectionError('relay closed the tunnel')
                buf += more
                continue
            self.on_frame(frame)

    @staticmethod
    def next_frame(buf):
        nl = buf.find(b'\r\n')
        if nl < 0:
            return None, buf
        size_line = buf[:nl].decode('latin-1')
        if 'Z' in size_line or not size_line:
            raise ValueError('unexpected size line %r (no ZChunks were offered)' % size_line)
        size = int(size_line.rstrip('R'), 16)
        if len(buf) < nl + 2 + size:
            return None, buf
        return buf[nl + 2:nl + 2 + size], buf[nl + 2 + size:]

    def on_frame(self, payload):
        self.stats['frames_in'] += 1
        head, sep, body = payload.partition(b'\r\n\r\n')
        if not sep:
            raise ValueError('chunk without a blank line: %r' % payload[:100])
        hdrs = {}
        for line in head.decode('latin-1').split('\r\n'):
            name, _, value = line.partition(':')
            hdrs[name.strip().lower()] = value.strip()
        if 'ping' in hdrs:
            self.stats['pings'] += 1
            self.send_chunk([('NOOP', '1'), ('PONG', hdrs['ping'])], b'!')
            return
        if 'skb' in hdrs and 'sid' in hdrs:
            self.stats['skb'] += 1
            with self.cond:
                s = self.streams.get(int(hdrs['sid']))
                if s:
                    s.on_skb(int(hdrs['skb']) * 1024, self.args.window)
                    self.cond.notify_all()
        if 'noop' in hdrs:
            if set(hdrs) == {'noop'} and body and body.strip(b'!') == b'':
                self.stats['filler_frames'] += 1
                self.stats['filler_bytes'] += len(body)
            return
        if 'sid' not in hdrs:
            return
        sid = int(hdrs['sid'])
        with self.cond:
            s = self.streams.get(sid)
            if 'eof' in hdrs:
                if s:
                    s.closed = True
                    self.cond.notify_all()
                return
            if s is None:
                if 'proto' not in hdrs or 'host' not in hdrs:
                    return
                s = self.streams[sid] = Stream(sid)
                if self.args.window is not None:
                    s.window = self.args.window
        if s.started:
            return
        s.request += body
        if b'\r\n\r\n' in s.request:
            s.started = True
            threading.Thread(target=self.serve, args=(s,), daemon=True).start()

    # --- sending ---------------------------------------------------------------------

    def serve(self, s):
        size = os.path.getsize(self.args.file)
        head = ('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n'
                'Content-Length: %d\r\nConnection: close\r\n\r\n' % size).encode()
        sid = [('SID', str(s.sid))]
        try:
            self.send_chunk(sid, head)
            with open(self.args.file, 'rb') as fd:
                while not s.closed:
                    data = fd.read(self.args.chunk)
                    if not data:
                        break
                    with self.cond:
                        while s.must_wait(self.args.window) and not s.closed:
                            if not self.cond.wait(timeout=60):
                                raise TimeoutError('no SKB for 60 s')
                    self.send_chunk(sid, data)
                    s.sent += len(data)
                    self.stats['served_bytes'] += len(data)
            self.send_chunk(sid + [('EOF', '1R')], b'')
        except OSError as e:
            print('stream %d: %s' % (s.sid, e), file=sys.stderr)
        self.stats['streams'] += 1
        self.write_stats()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--relay', type=int, required=True, help='relay port on 127.0.0.1')
    ap.add_argument('--kite', required=True)
    ap.add_argument('--secret', required=True)
    ap.add_argument('--file', required=True, help='body served for every request')
    ap.add_argument('--ready', required=True, help='file that gets "live" once registered')
    ap.add_argument('--stats', required=True)
    ap.add_argument('--version', default=LIBPAGEKITE_VERSION)
    ap.add_argument('--chunk', type=int, default=16384, help='body bytes per chunk')
    ap.add_argument('--window', type=int, default=None,
                    help='fixed window in bytes (0: no flow control); default: libpagekite\'s')
    ap.add_argument('--duration', type=float, default=600)
    args = ap.parse_args()
    sock, rest = register(args)
    sock.settimeout(None)
    conn = Connector(args, sock)
    conn.write_stats()
    with open(args.ready, 'w') as fd:
        fd.write('live\n')
    print('kite %s live' % args.kite, flush=True)
    reader = threading.Thread(target=lambda: conn.read_loop(rest), daemon=True)
    reader.start()
    reader.join(args.duration)
    conn.write_stats()
    return 0


if __name__ == '__main__':
    sys.exit(main())
