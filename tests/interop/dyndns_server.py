#!/usr/bin/python3
"""A --dyndns update service for tests/interop/dyndns_test.sh (loopback only).

GET /?hostname=D&myip=IPS&sign=S: checks S with pagekite.py's own signing code (Debian's
pagekite package: proto.signToken re-signs with the salt of S, as proto.checkSignature does,
at the 48-character dyndns length pk.py uses), appends one line per request to LOGFILE:
  update hostname=D myip=IPS sign=ok|bad auth=USER|-
and answers 200 with the text of MODEFILE ("good", "badauth", ...) + " " + IPS, or "badsig"
when the signature is wrong. Prints "port=N" to PORTFILE once listening. With PEMFILE (key and
certificate), it speaks HTTPS.
Usage: dyndns_server.py SECRET PORTFILE LOGFILE MODEFILE SECONDS [PEMFILE]
"""
import base64
import http.server
import ssl
import sys
import threading
import urllib.parse

from pagekite.proto.proto import signToken

SECRET, PORTFILE, LOGFILE, MODEFILE, SECONDS = sys.argv[1:6]


def signature_ok(sign, payload):
    return (len(sign) == 48 and not sign.startswith('t') and
            signToken(token=sign, secret=SECRET, payload=payload, length=len(sign)) == sign)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        host = q.get('hostname', [''])[0]
        ips = q.get('myip', [''])[0]
        sign = q.get('sign', [''])[0]
        ok = signature_ok(sign, '%s:%s' % (host, ips))
        user = '-'
        auth = self.headers.get('Authorization', '')
        if auth.startswith('Basic '):
            user = base64.b64decode(auth[6:]).decode().split(':', 1)[0]
        with open(LOGFILE, 'a') as f:
            f.write('update hostname=%s myip=%s sign=%s auth=%s\n'
                    % (host, ips, 'ok' if ok else 'bad', user))
        with open(MODEFILE) as f:
            mode = f.read().strip() or 'good'
        body = ('%s %s\n' % (mode, ips) if ok else 'badsig\n').encode()
        self.send_response(200)
        self.send_header('Content-Type', 'text/plain')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
if len(sys.argv) > 6:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[6])
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
with open(PORTFILE, 'w') as f:
    f.write('port=%d\n' % server.server_address[1])
threading.Timer(float(SECONDS), server.shutdown).start()
server.serve_forever()
