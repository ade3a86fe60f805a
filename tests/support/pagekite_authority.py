#!/usr/bin/python3
# A PowerDNS pipe backend (ABI 1) that answers pagekite.py's DNS-delegated authentication
# (spec 8.2) for the zone given as argv[1], from the secrets table below. Test tooling only.
#
# Query names: BSALT.FSALT.SIGNATURE.PROTO.DOMAIN.<zone>. The signature is recomputed as
# pagekite.py does (spec 4.3): SALT8 + sha1(secret + "PROTO:DOMAIN:BSALT:FSALT" + SALT8)[:28].
# Answers: an A record a.b.c.d = the quota in kB; 255.255.255.1 bad signature; 255.255.255.0
# unknown user; a CNAME ERR[-IPC-SECS].x.DAYS.CONNS.<tag>.quota.<zone> for the extras, whose A
# is given by <tag>: q<hex> = quota, e<n> = 255.255.255.n. A ("file", NAME) user reads its
# answer at each query from ANSWERS_DIR/NAME, "a a.b.c.d" or "cname label.x.DAYS.CONNS.tag"
# (tests change it to make a re-check see a new quota); no file = unknown user.
# Usage: pagekite_authority.py ZONE [SLOW_SECONDS [ANSWERS_DIR]]
import hashlib
import os
import sys
import time

ZONE = sys.argv[1].rstrip('.').lower() if len(sys.argv) > 1 else 'auth.test'
SLOW_SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 4.0
ANSWERS_DIR = sys.argv[3] if len(sys.argv) > 3 else None

# kite domain -> (secret, answer). answer: ("a", "a.b.c.d"), ("cname", "label.x.DAYS.CONNS.tag")
# or ("file", NAME). The s3cret users are the kiteline test connector's (connector_process).
USERS = {
    'good.kites.example': ('goodsecret', ('a', '0.0.4.0')),
    '_any_.wild.kites.example': ('wildsecret', ('a', '0.0.8.0')),
    'extra.kites.example': ('extrasecret', ('cname', 'ok-3-384.x.1e.5.q10000')),
    'nodays.kites.example': ('nodayssecret', ('cname', 'nodays.x.0.0.e2')),
    'zero.kites.example': ('zerosecret', ('a', '0.0.0.0')),
    'slow.kites.example': ('slowsecret', ('a', '0.0.4.0')),
    'exhaust.kites.example': ('exhaustsecret', ('a', '0.0.0.4')),
    # 2 distinct visitors per 3600 s (hex 2, e10), quota 1024 kB.
    'ips.kites.example': ('s3cret', ('cname', 'ok-2-e10.x.0.0.q400')),
    'quota.kites.example': ('s3cret', ('file', 'quota')),
}

SOA = 'ns.%s. hostmaster.%s. 1 3600 600 86400 1' % (ZONE, ZONE)


def out(line):
    sys.stdout.write(line + '\n')
    sys.stdout.flush()


def data(qname, qtype, content, qid):
    out('DATA\t%s\tIN\t%s\t1\t%s\t%s' % (qname, qtype, qid, content))


def file_answer(name):
    try:
        with open(os.path.join(ANSWERS_DIR or '.', name)) as f:
            kind, value = f.read().split()
        return kind, value
    except (OSError, ValueError):
        return None, None


def sign_ok(secret, proto, domain, bsalt, fsalt, sig):
    payload = '%s:%s:%s:%s' % (proto, domain.replace('_any_', '*'), bsalt, fsalt)
    salt = sig[:8]
    want = salt + hashlib.sha1((secret + payload + salt).encode()).hexdigest()[:28]
    return want == sig


def answer(qname, qtype, qid):
    name = qname.rstrip('.').lower()
    if name == ZONE:
        if qtype in ('SOA', 'ANY'):
            data(qname, 'SOA', SOA, qid)
        if qtype in ('NS', 'ANY'):
            data(qname, 'NS', 'ns.%s' % ZONE, qid)
        return
    if not name.endswith('.' + ZONE) or qtype not in ('A', 'ANY', 'CNAME'):
        return
    labels = name[:-len(ZONE) - 1].split('.')
    if len(labels) >= 6 and labels[-1] == 'quota':
        tag = labels[-2]
        if tag.startswith('q'):
            q = int(tag[1:], 16)
            ip = '%d.%d.%d.%d' % ((q >> 24) & 255, (q >> 16) & 255, (q >> 8) & 255, q & 255)
        else:
            ip = '255.255.255.%d' % int(tag[1:])
        if qtype != 'CNAME':
            data(qname, 'A', ip, qid)
        return
    if len(labels) < 5:
        return
    bsalt, fsalt, sig, proto = labels[:4]
    domain = '.'.join(labels[4:])
    user = USERS.get(domain)
    if user is None:
        if qtype != 'CNAME':
            data(qname, 'A', '255.255.255.0', qid)
        return
    secret, (kind, value) = user
    if kind == 'file':
        kind, value = file_answer(value)
        if kind is None:
            if qtype != 'CNAME':
                data(qname, 'A', '255.255.255.0', qid)
            return
    if domain.startswith('slow.'):
        time.sleep(SLOW_SECONDS)
    if not sign_ok(secret, proto, domain, bsalt, fsalt, sig):
        if qtype != 'CNAME':
            data(qname, 'A', '255.255.255.1', qid)
        return
    if kind == 'a':
        if qtype != 'CNAME':
            data(qname, 'A', value, qid)
    else:
        data(qname, 'CNAME', '%s.quota.%s' % (value, ZONE), qid)


def main():
    line = sys.stdin.readline()
    if not line.startswith('HELO'):
        out('FAIL')
        return
    out('OK\tpagekite authority')
    for line in sys.stdin:
        parts = line.rstrip('\n').split('\t')
        if parts[0] == 'Q' and len(parts) >= 5:
            answer(parts[1], parts[3], parts[4])
        out('END')


if __name__ == '__main__':
    main()
