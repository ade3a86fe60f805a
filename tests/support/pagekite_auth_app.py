#!/usr/bin/python3
# A PageKite auth app (spec 8.3) for the tests: what a relay's --authdomain=/path/app runs.
# Test tooling only. Usage (a test's wrapper script adds the first options):
#   pagekite_auth_app.py [--caps "SERVER AUTH ZK-AUTH"] [--log FILE] [--slow SECONDS] MODE
# MODE is what the relay passes: --capabilities (prints --caps), --auth DOMAIN (one JSON
# object: the kite's secret and quotas), --zk-auth QNAME (the answer of a DNS authority for
# the name BSALT.FSALT.SIGNATURE.PROTO.DOMAIN.SUFFIX., the signature checked here), or
# --server (reads such requests, one per line, from stdin; one JSON line back for each).
# Every request is appended to --log as "PID MODE ARG".
# Special kites: slow.* answers after --slow seconds, broken.* answers no JSON, crash.* exits
# with status 3 (a --server process too), nosecret.* answers no secret.
import hashlib
import json
import os
import sys
import time

USERS = {
    'good.kites.example': {'secret': 'goodsecret', 'quota_kb': 1024},
    '_any_.wild.kites.example': {'secret': 'wildsecret', 'quota_kb': 2048},
    'extra.kites.example': {'secret': 'extrasecret', 'quota_kb': 65536, 'quota_days': 30,
                            'quota_conns': 5, 'ips_per_sec-ips': 3, 'ips_per_sec-secs': 900},
    'nodays.kites.example': {'secret': 'nodayssecret', 'quota_kb': 0, 'reason': 'nodays'},
    'zero.kites.example': {'secret': 'zerosecret', 'quota_kb': 0},
    'slow.kites.example': {'secret': 'slowsecret', 'quota_kb': 1024},
    'broken.kites.example': {'secret': 'brokensecret'},
    'crash.kites.example': {'secret': 'crashsecret'},
    'nosecret.kites.example': {'secret': 'nosecretsecret'},
}

# --zk-auth answers as DNS would give them: (alias canonical name or None, first address).
ZK = {
    'good.kites.example': (None, '0.0.4.0'),
    '_any_.wild.kites.example': (None, '0.0.8.0'),
    'extra.kites.example': ('ok-3-384.x.1e.5.quota.example', '0.1.0.0'),
    'nodays.kites.example': ('nodays.x.0.0.r', '255.255.255.2'),
    'zero.kites.example': (None, '0.0.0.0'),
    'slow.kites.example': (None, '0.0.4.0'),
}

OPTS = {'caps': 'AUTH', 'log': None, 'slow': 4.0}


def log(mode, arg):
    if OPTS['log']:
        with open(OPTS['log'], 'a') as f:
            f.write('%d %s %s\n' % (os.getpid(), mode, arg))


def special(domain):
    """Behaviour shared by both modes for the special kites; None when the kite is ordinary."""
    if domain.startswith('slow.'):
        time.sleep(OPTS['slow'])
    if domain.startswith('broken.'):
        return 'this is not json'
    if domain.startswith('crash.'):
        sys.exit(3)
    if domain.startswith('nosecret.'):
        return json.dumps({'quota_kb': 5})
    return None


def auth(domain):
    said = special(domain)
    if said is not None:
        return said
    user = USERS.get(domain)
    if user is None:
        return json.dumps({'error': 'unauthorized'})
    return json.dumps(user)


def zk_auth(qname):
    labels = qname.rstrip('.').split('.')
    if len(labels) < 6:
        return json.dumps({'hostname': qname, 'alias': '', 'ips': ['255.255.255.1']})
    bsalt, fsalt, sig, proto = labels[:4]
    rest = '.'.join(labels[4:]) + '.'
    domain = next((d for d in USERS if rest.startswith(d + '.')), None)
    if domain is None:
        return json.dumps({'hostname': qname, 'alias': '', 'ips': ['255.255.255.0']})
    said = special(domain)
    if said is not None:
        return said
    secret = USERS[domain]['secret']
    payload = '%s:%s:%s:%s' % (proto, domain.replace('_any_', '*'), bsalt, fsalt)
    want = sig[:8] + hashlib.sha1((secret + payload + sig[:8]).encode()).hexdigest()[:28]
    if want != sig:
        return json.dumps({'hostname': qname, 'alias': '', 'ips': ['255.255.255.1']})
    alias, ip = ZK[domain]
    if alias:
        return json.dumps({'hostname': alias, 'alias': qname, 'ips': [ip]})
    return json.dumps({'hostname': qname, 'alias': '', 'ips': [ip]})


def answer(mode, arg):
    log(mode, arg)
    if mode == '--auth':
        return auth(arg)
    if mode == '--zk-auth':
        return zk_auth(arg)
    return json.dumps({'error': 'badrequest'})


def main(argv):
    while len(argv) >= 2 and argv[0] in ('--caps', '--log', '--slow'):
        OPTS[argv[0][2:]] = float(argv[1]) if argv[0] == '--slow' else argv[1]
        argv = argv[2:]
    if argv[:1] == ['--capabilities']:
        log('--capabilities', '')
        print(OPTS['caps'])
        return 0
    if argv[:1] == ['--server']:
        log('--server', '')
        while True:
            line = sys.stdin.readline()
            if not line:
                break
            words = line.split()
            if not words:
                continue
            sys.stdout.write(answer(words[0], words[1] if len(words) > 1 else '') + '\n')
            sys.stdout.flush()
        return 0
    if len(argv) == 2:
        print(answer(argv[0], argv[1]))
        return 0
    sys.stderr.write('usage: see the head of %s\n' % sys.argv[0])
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
