// The pagekite.py option table: one row per option, in --help order. Rows only: the lookups
// are in option_lookup.cpp, the help text in option_help.cpp, the rc/argv stream in
// option_expansion.cpp.
#include <array>

#include "config/options.hpp"

namespace kiteline::config {
namespace {

constexpr auto flag = option_kind::flag;
constexpr auto scalar = option_kind::scalar;
constexpr auto list = option_kind::list;
constexpr auto both = option_role::both;
constexpr auto relay = option_role::relay;
constexpr auto connector = option_role::connector;
constexpr auto impl = option_status::implemented;
constexpr auto nyi = option_status::not_implemented;
constexpr auto ign = option_status::ignored;
constexpr auto gen = option_group::general;
constexpr auto rel = option_group::relay;
constexpr auto con = option_group::connector;
constexpr auto tls = option_group::tls;

// name, short, kind, role, status, group, value name, help, alias of
constexpr std::array table{
    // ---- general
    option_spec{"help", '\0', flag, both, impl, gen, "", "print this help and exit", ""},
    option_spec{"version", '\0', flag, both, impl, gen, "", "print the version and exit", ""},
    option_spec{"appver", '\0', flag, both, impl, gen, "", "", "version"},
    option_spec{"clean", '\0', flag, both, impl, gen, "",
                "do not read ~/.pagekite.rc (only honoured on the command line)", ""},
    option_spec{"optfile", 'o', list, both, impl, gen, "FILE",
                "read options from FILE at this point (files may include files, 25 levels)", ""},
    option_spec{"optdir", 'O', list, both, impl, gen, "DIR",
                "read DIR/*.rc at this point, in lexical order, skipping dot files", ""},
    option_spec{"isfrontend", 'f', flag, both, impl, gen, "",
                "run as a relay (same as `kiteline frontend`)", ""},
    option_spec{"check_config", '\0', flag, both, impl, gen, "",
                "validate the configuration, print the effective TLS policy (protocol range, "
                "cipher suites) and exit 0, or the errors and exit 2",
                ""},
    option_spec{"check-config", '\0', flag, both, impl, gen, "", "", "check_config"},
    option_spec{"logfile", 'L', scalar, both, impl, gen, "FILE",
                "log to FILE (its directory must exist; SIGHUP reopens it), or to `stdio` / "
                "`syslog` (/dev/log, or $KITELINE_SYSLOG_SOCKET)",
                ""},
    option_spec{"loglevel", '\0', scalar, both, impl, gen, "LEVEL",
                "none, err, warn, info, mach, debug, all, or a digit (default info)", ""},
    option_spec{"accesslog", '\0', scalar, both, impl, gen, "FILE",
                "one line per visitor connection (relay: each visitor; connector: each stream it "
                "served) to FILE, or to `stdio` / `syslog`; `none` (the default) keeps none "
                "(kiteline)", ""},
    option_spec{"accesslog_format", '\0', scalar, both, impl, gen, "FORMAT",
                "`text` (pagekite.py-like key=value, the default) or `json` (JSON lines)", ""},
    option_spec{"daemonize", 'Z', flag, both, impl, gen, "",
                "detach into the background once the configuration is checked and the ports "
                "are bound (errors still reach the terminal; the command returns when it runs)",
                ""},
    option_spec{"nodaemonize", '\0', flag, both, impl, gen, "",
                "stay in the foreground (the default; cancels an earlier --daemonize)", ""},
    option_spec{"pidfile", 'I', scalar, both, impl, gen, "FILE",
                "write the process id to FILE once running (after --daemonize), remove it at "
                "exit",
                ""},
    option_spec{"threads", '\0', scalar, both, impl, gen, "N",
                "worker threads; 0 = one per core (default 0; kiteline)", ""},
    option_spec{"buffers", '\0', scalar, both, impl, gen, "KIB",
                "per-tunnel budget of data waiting for slow local sockets, in KiB; above it the "
                "tunnel stops reading (default 16384)", ""},
    option_spec{"evict_after", '\0', scalar, both, impl, gen, "SECONDS",
                "when the --buffers budget stays full this long, reset the stream holding the "
                "most of it, so one stalled reader cannot stall its tunnel (default 10; 0 = "
                "never; kiteline)", ""},
    option_spec{"stalled_after", '\0', scalar, both, impl, gen, "SECONDS",
                "when the --buffers budget overflows, reset at once, largest first, streams "
                "that hold at least their share of it and have not drained for this long, "
                "until it fits (default 1; 0 = never; kiteline)", ""},
    option_spec{"half_closed_timeout", '\0', scalar, both, impl, gen, "SECONDS",
                "close a stream whose one side has finished while the other sent nothing for "
                "this long (default 120, as pagekite.py; 0 = never; kiteline)", ""},
    option_spec{"nozchunks", '\0', flag, both, impl, gen, "",
                "never compress the tunnel (no ZChunks in either direction)", ""},
    option_spec{"runas", 'U', scalar, both, impl, gen, "USER[:GROUP]",
                "switch to USER (and GROUP) once the ports are bound", ""},
    option_spec{"chroot", '\0', scalar, both, impl, gen, "DIR",
                "enter DIR once every file is open (kiteline)", ""},
    option_spec{"httpd", 'H', scalar, both, impl, gen, "HOST:PORT",
                "serve the console on HOST:PORT: /metrics (Prometheus), /status.json and a "
                "status page at /; HOST empty or omitted = 127.0.0.1 only; port 0 = any free "
                "port (the ready line says which)", ""},
    option_spec{"httppass", 'X', scalar, both, impl, gen, "PASS",
                "the console asks for HTTP Basic auth: any user name, this password", ""},
    option_spec{"metrics_per_kite", '\0', flag, both, impl, gen, "",
                "also label console metrics with each kite name (more series; kiteline)", ""},
    option_spec{"grace_seconds", '\0', scalar, both, impl, gen, "SECONDS",
                "on SIGTERM, drain: stop taking new visitors (relay) or streams (connector), "
                "let those in flight finish for up to this long, then exit; a second SIGTERM, "
                "or SIGINT at any time, stops at once (default 30; 0 = no drain; kiteline)", ""},
    option_spec{"nullui", '\0', flag, both, ign, gen, "", "kiteline has a single, log-only UI", ""},
    option_spec{"nocrashreport", '\0', flag, both, ign, gen, "", "legacy pagekite.py option", ""},
    option_spec{"noloop", '\0', flag, both, ign, gen, "", "kiteline never restarts itself", ""},
    option_spec{"nopyopenssl", '\0', flag, both, ign, gen, "", "pagekite.py TLS library choice",
                ""},
    option_spec{"noproxy", '\0', flag, both, ign, gen, "",
                "kiteline never uses outbound proxies", ""},
    option_spec{"noupgradeinfo", '\0', flag, both, ign, gen, "",
                "kiteline sends no upgrade information", ""},
    option_spec{"max_read_bytes", '\0', scalar, both, ign, gen, "N[xF]",
                "pagekite.py read-size tuning", ""},
    option_spec{"select_loop_min_ms", '\0', scalar, both, ign, gen, "MS",
                "pagekite.py main-loop tuning", ""},
    option_spec{"reloadfile", '\0', scalar, both, ign, gen, "FILE", "deprecated", ""},
    option_spec{"autosave", '\0', flag, both, ign, gen, "", "deprecated", ""},
    option_spec{"noautosave", '\0', flag, both, ign, gen, "", "deprecated", ""},
    option_spec{"webroot", '\0', scalar, both, ign, gen, "DIR", "deprecated", ""},
    option_spec{"webaccess", '\0', scalar, both, ign, gen, "X", "deprecated", ""},
    option_spec{"webindexes", '\0', scalar, both, ign, gen, "X", "deprecated", ""},
    option_spec{"delete_backend", '\0', scalar, both, ign, gen, "SPEC", "deprecated", ""},
    option_spec{"remoteui", '\0', flag, both, nyi, gen, "", "machine-readable UI", ""},
    option_spec{"uiport", '\0', scalar, both, nyi, gen, "N", "UI port", ""},
    option_spec{"debugio", '\0', flag, both, nyi, gen, "", "dump all I/O", ""},
    option_spec{"watch", '\0', scalar, both, nyi, gen, "N", "show proxied data", ""},
    option_spec{"watchdog", '\0', scalar, both, nyi, gen, "N", "self-kill on stalls", ""},
    option_spec{"sslzlib", '\0', flag, both, nyi, gen, "", "TLS-level compression", ""},
    option_spec{"nossl", '\0', flag, both, nyi, gen, "", "run without any TLS", ""},
    option_spec{"savefile", 'S', scalar, both, nyi, gen, "FILE", "configuration save file", ""},
    option_spec{"save", '\0', flag, both, nyi, gen, "", "save the configuration", ""},
    option_spec{"settings", '\0', flag, both, nyi, gen, "", "print the configuration", ""},
    option_spec{"list", '\0', flag, both, nyi, gen, "", "list kites", ""},
    option_spec{"add", '\0', flag, both, nyi, gen, "", "add kites to the saved config", ""},
    option_spec{"only", '\0', flag, both, nyi, gen, "", "enable only these kites", ""},
    option_spec{"disable", '\0', flag, both, nyi, gen, "", "disable kites", ""},
    option_spec{"remove", '\0', flag, both, nyi, gen, "", "remove kites", ""},
    option_spec{"signup", '\0', flag, both, nyi, gen, "", "interactive pagekite.net sign-up", ""},
    option_spec{"shell", '\0', flag, both, nyi, gen, "", "interactive shell", ""},
    option_spec{"friendly", '\0', flag, both, nyi, gen, "", "interactive mode", ""},
    option_spec{"controlpanel", '\0', flag, both, nyi, gen, "", "open the pagekite.net panel", ""},
    option_spec{"controlpass", '\0', flag, both, nyi, gen, "", "print the panel password", ""},
    option_spec{"service_xmlrpc", '\0', scalar, both, nyi, gen, "URL", "sign-up API URL", ""},
    // ---- relay
    option_spec{"host", 'h', scalar, relay, impl, rel, "ADDR",
                "bind address (default: all addresses, IPv4 and IPv6)", ""},
    option_spec{"ports", 'p', scalar, relay, impl, rel, "LIST",
                "public ports, comma separated (default 80; 0 = a free port, see the ready line)", ""},
    option_spec{"portalias", '\0', list, relay, impl, rel, "A:B",
                "listen on port A, report and route it as port B", ""},
    option_spec{"protos", '\0', scalar, relay, impl, rel, "LIST",
                "accepted protocols (default http,http2,http3,https,websocket,irc,raw,"
                "minecraft,xmpp)",
                ""},
    option_spec{"rawports", '\0', scalar, relay, impl, rel, "LIST",
                "raw listeners; `virtual` allows HTTP CONNECT to any port", ""},
    option_spec{"domain", '\0', list, relay, impl, rel, "PROTOS:DOMAIN:SECRET",
                "connectors knowing SECRET may serve DOMAIN (`*.x` ok; PROTOS list or `*`)", ""},
    option_spec{"motd", '\0', scalar, relay, impl, rel, "FILE",
                "message of the day sent to connectors", ""},
    option_spec{"visitor_timeout", '\0', scalar, relay, impl, rel, "SECONDS",
                "close visitors that send no complete request head in time (default 10; "
                "kiteline)",
                ""},
    option_spec{"auth_timeout", '\0', scalar, relay, impl, rel, "SECONDS",
                "close a tunnel that has no kite accepted within this long (in-tunnel "
                "signing, spec 4.5; default 20, pagekite.py 60; kiteline)", ""},
    option_spec{"max_unauth_tunnels", '\0', scalar, relay, impl, rel, "N[/PER_IP]",
                "tunnels waiting for a kite to be accepted, in all and per connector address; "
                "more are refused with 503 (default 256/16; kiteline)", ""},
    option_spec{"authdomain", 'A', list, relay, impl, rel, "[DOMAIN:]SUFFIX",
                "authenticate kites with no --domain secret (or a failing one) by asking DNS "
                "about BSALT.FSALT.SIGNATURE.PROTO.DOMAIN.SUFFIX (pagekite.py's protocol; the "
                "longest KITEDOMAIN wins); a SUFFIX holding a '/' is an auth app, "
                "[DOMAIN:]/path/app, run with --auth DOMAIN or --zk-auth QNAME (spec 8.3)", ""},
    option_spec{"auththreads", '\0', scalar, relay, impl, rel, "N",
                "authority lookups in flight at once, relay-wide; a kite that finds them all "
                "busy is refused (default 64; pagekite.py: threads)", ""},
    option_spec{"authfail_closed", '\0', flag, relay, impl, rel, "",
                "refuse a kite when its authority lookup fails or times out (the default)", ""},
    option_spec{"authfail_open", '\0', flag, relay, impl, rel, "",
                "accept a kite when its authority lookup fails (pagekite.py's default; "
                "warns at start; kiteline)", ""},
    option_spec{"authdns", '\0', scalar, relay, impl, rel, "IP:PORT",
                "the nameserver --authdomain asks (default: /etc/resolv.conf's; kiteline)", ""},
    option_spec{"authdns_timeout", '\0', scalar, relay, impl, rel, "SECONDS",
                "give up on an authority lookup (DNS, or an auth app's answer) after this "
                "long and refuse the kite (default 5; kiteline)", ""},
    option_spec{"authdomain_recheck_seconds", '\0', scalar, relay, impl, rel, "SECONDS",
                "re-ask the authority about a tunnel's kites this often and push its quota "
                "(default 900, as pagekite.py; kiteline)", ""},
    option_spec{"client_acl", '\0', list, relay, impl, rel, "POLICY:RE",
                "visitor address rule, allow or deny, in order; RE matches the whole address "
                "(`localhost`, `any` allowed); once a rule exists, unmatched visitors get 403",
                ""},
    option_spec{"tunnel_acl", '\0', list, relay, impl, rel, "POLICY:RE",
                "connector address rule, as --client_acl; refused tunnels get 403", ""},
    option_spec{"accept_acl_file", '\0', scalar, relay, impl, rel, "FILE",
                "lines `PATTERN POLICY [REASON]` checked on every connection (first match "
                "wins, default allow; an unreadable file refuses everything)", ""},
    option_spec{"ratelimit_ips", '\0', list, relay, impl, rel, "[KITE:]N/SECS",
                "at most N distinct visitors per SECS seconds per kite and tunnel; more get 503",
                ""},
    option_spec{"fleet_dns", '\0', scalar, relay, impl, rel, "IP[:PORT]",
                "publish the kites this relay holds in DNS: the authoritative server taking "
                "TSIG-signed RFC 2136 updates for --fleet_zone (kiteline)", ""},
    option_spec{"fleet_zone", '\0', scalar, relay, impl, rel, "ZONE",
                "the zone kites are published in (KITE.ZONE A/AAAA; the pool is fe.ZONE)", ""},
    option_spec{"fleet_tsig", '\0', scalar, relay, impl, rel, "ALG:NAME:BASE64",
                "the TSIG key updates are signed with, e.g. hmac-sha256:fleet:BASE64", ""},
    option_spec{"fleet_address", '\0', list, relay, impl, rel, "IP",
                "the address visitors reach this relay on, as published (one IPv4, one IPv6)",
                ""},
    option_spec{"fleet_port", '\0', scalar, relay, impl, rel, "PORT",
                "the peer port other relays forward visitors to (PROXY v2 with an HMAC under "
                "--fleet_secret; the same number on every relay of the fleet)", ""},
    option_spec{"fleet_secret", '\0', scalar, relay, impl, rel, "SECRET",
                "the key the fleet's relays sign forwarded visitors with (16+ characters)", ""},
    option_spec{"fleet_ttl", '\0', scalar, relay, impl, rel, "SECONDS",
                "TTL of the published records (default 10)", ""},
    option_spec{"fleet_cache_seconds", '\0', scalar, relay, impl, rel, "SECONDS",
                "keep a looked-up holder this long before asking again (default 5; kept "
                "longer while the DNS server does not answer)", ""},
    option_spec{"fleet_peer_timeout", '\0', scalar, relay, impl, rel, "SECONDS",
                "a peer relay silent to pings this long is dead: its records are removed "
                "(default 30)", ""},
    option_spec{"fleet_ping_seconds", '\0', scalar, relay, impl, rel, "SECONDS",
                "ping the fleet's other relays this often (default 5)", ""},
    option_spec{"overload", '\0', scalar, relay, impl, rel, "N",
                "connection budget: at N live tunnels + streams, pings and error pages say "
                "X-PageKite-Overloaded (connectors move elsewhere)", ""},
    option_spec{"overload_file", '\0', scalar, relay, impl, rel, "FILE",
                "read the budget from FILE (re-read every 5 s; overrides the computed one)", ""},
    option_spec{"overload_cpu", '\0', scalar, relay, impl, rel, "F",
                "with --overload: load average the budget allows (default 0.75; 0 = not used)",
                ""},
    option_spec{"overload_mem", '\0', scalar, relay, impl, rel, "F",
                "with --overload: share of free memory the budget may use (default 0.85; 0 = "
                "not used)", ""},
    option_spec{"dns_hints", '\0', scalar, relay, nyi, rel, "DOM,...", "X-DNS ping hints", ""},
    option_spec{"upgradeinfo", '\0', list, relay, nyi, rel, "INFO", "upgrade messages", ""},
    option_spec{"register", '\0', scalar, relay, nyi, rel, "X", "pagekite.py placeholder", ""},
    option_spec{"noisfrontend", '\0', flag, both, nyi, rel, "", "pagekite.py placeholder", ""},
    // ---- connector
    option_spec{"frontend", '\0', list, connector, impl, con, "HOST:PORT",
                "connect to this relay (repeatable; default port 443; [v6]:PORT)", ""},
    option_spec{"frontends", '\0', scalar, connector, impl, con, "N:NAME:PORT",
                "relay pool: all addresses of NAME (or N:@FILE:PORT), keep the N best", ""},
    option_spec{"defaults", '\0', flag, connector, impl, con, "",
                "pagekite.net presets: relay pool, certificate names, error URL, --dyndns", ""},
    option_spec{"whitelabel", '\0', scalar, connector, impl, con, "DOMAIN",
                "white-label presets (pagekite.py 1.5.2): relay pool 1:fe4_152.DOMAIN:443, relay "
                "certificate names fe.DOMAIN, DOMAIN (+ pagekite.net's), error URL, --dyndns "
                "http://dnsup.DOMAIN/", ""},
    option_spec{"whitelabels", '\0', scalar, connector, impl, con, "DOMAIN",
                "as --whitelabel, with https error and --dyndns URLs", ""},
    option_spec{"service_on", '\0', list, connector, impl, con, "PROTOS:KITE:HOST:PORT:SECRET",
                "serve a kite (shorter forms: see below); on a relay: a kite the relay serves "
                "itself, no secret needed",
                ""},
    option_spec{"backend", '\0', list, connector, impl, con, "SPEC", "", "service_on"},
    option_spec{"service_off", '\0', list, connector, impl, con, "PROTOS:KITE:HOST:PORT:SECRET",
                "define a kite, disabled", ""},
    option_spec{"define_backend", '\0', list, connector, impl, con, "SPEC", "", "service_off"},
    option_spec{"service_cfg", '\0', list, connector, impl, con, "KITE/PORT:KEY:VALUE",
                "set a per-kite flag (keys as the +flags below)", ""},
    option_spec{"be_config", '\0', list, connector, impl, con, "SPEC", "", "service_cfg"},
    option_spec{"max_conns", '\0', scalar, connector, impl, con, "N",
                "streams open to origins at once, over every relay; more visitors get the "
                "`unavailable` answer (default 4096; kiteline)", ""},
    option_spec{"origin_idle_timeout", '\0', scalar, connector, impl, con, "SECONDS",
                "close a stream on which nothing moved for this long (default 3600; 0 = never; "
                "kiteline)", ""},
    option_spec{"kitename", '\0', scalar, connector, impl, con, "NAME",
                "default kite name (@kitename)", ""},
    option_spec{"kitesecret", '\0', scalar, connector, impl, con, "SECRET",
                "default secret (@kitesecret; short-form kites without a secret)", ""},
    option_spec{"keepalive", '\0', scalar, connector, impl, con, "N|auto",
                "ping idle tunnels every N >= 20 seconds (default auto)", ""},
    option_spec{"insecure", '\0', flag, connector, impl, con, "",
                "disable the HTTP request firewall for every kite", ""},
    option_spec{"noprobes", '\0', flag, connector, impl, con, "", "answer relay probes with down",
                ""},
    option_spec{"all", 'a', flag, connector, impl, con, "",
                "fail unless every kite registers", ""},
    option_spec{"noall", '\0', flag, connector, impl, con, "", "undo --all", ""},
    option_spec{"new", 'N', flag, connector, impl, con, "",
                "ignore relays found in the kites' own DNS (kiteline always does)", ""},
    option_spec{"errorurl", 'E', list, both, impl, con, "[DOMAIN:]URL",
                "503 pages (relay: no tunnel; connector: origin down) become a frameset loading "
                "URL, with &where=FE|BE&proto=..&domain=..[&relay=IP] appended when URL has a "
                "`?`; DOMAIN:URL for one domain and its subdomains, without the PageKite link",
                ""},
    option_spec{"nofrontend", '\0', list, connector, nyi, con, "IP:PORT", "exclude a relay", ""},
    option_spec{"proxy", '\0', list, connector, nyi, con, "TYPE:HOST:PORT", "outbound proxy",
                ""},
    option_spec{"socksify", '\0', list, connector, nyi, con, "HOST:PORT", "SOCKS proxy", ""},
    option_spec{"torify", '\0', list, connector, nyi, con, "HOST:PORT", "Tor proxy", ""},
    option_spec{"dyndns", 'D', scalar, connector, impl, con, "PROVIDER|URL",
                "dynamic DNS: when the relays holding a kite change, GET this provider's "
                "update URL (pagekite.net, beanstalks.net, USER:PASS@dyndns.org, "
                "USER:PASS@no-ip.com) or an http(s) URL template with %(domain)s %(ip)s "
                "%(ips)s %(sign)s %(user)s %(pass)s; empty = none (--defaults: pagekite.net)",
                ""},
    option_spec{"webpath", '\0', list, connector, nyi, con, "SPEC", "built-in HTTP paths", ""},
    option_spec{"local", '\0', scalar, connector, nyi, con, "PORTS", "serve without relays", ""},
    option_spec{"wschunks", '\0', flag, connector, nyi, con, "", "WebSocket tunnel transport",
                ""},
    // ---- TLS
    option_spec{"tls_endpoint", '\0', list, relay, impl, tls, "NAME:PEMFILE",
                "relay: terminate TLS for NAME (`*.x` ok) with key+chain PEMFILE", ""},
    option_spec{"tls_default", '\0', scalar, relay, impl, tls, "NAME",
                "relay: certificate name to use when a client sends no SNI", ""},
    option_spec{"tls_legacy", '\0', flag, both, impl, tls, "",
                "allow TLS 1.0 and 1.1 (lowers OpenSSL's security level to 0; default: TLS 1.2 "
                "minimum)",
                ""},
    option_spec{"tls_openssl_records", '\0', flag, both, impl, tls, "",
                "let OpenSSL move every TLS record; by default kiteline seals and opens TLS 1.3 "
                "application data itself after OpenSSL's handshake, saving two copies per byte "
                "(kiteline; see docs/tls.md)",
                ""},
    option_spec{"tls_ciphers", '\0', scalar, both, impl, tls, "LIST",
                "OpenSSL cipher list for TLS <= 1.2 (default: ECDHE with AES-GCM/ChaCha20)", ""},
    option_spec{"tls_protocols", '\0', scalar, both, impl, tls, "LIST",
                "protocol list, entries all SSLv3 TLSv1 TLSv1.1 TLSv1.2 TLSv1.3 with optional "
                "+/- prefix, left to right; first entry bare = start empty, signed = start from "
                "TLSv1.2+TLSv1.3; bare entries ADD; e.g. `all -tlsv1 -tlsv1.1`, `-tlsv1.2` "
                "(kiteline; see docs/tls.md)",
                ""},
    option_spec{"tls_keys_inprocess", '\0', flag, both, impl, tls, "",
                "keep private keys (relay: --tls_endpoint, connector: --tls_client_cert) in the "
                "network process instead of a separate key process (kiteline)",
                ""},
    option_spec{"tls_reload_seconds", '\0', scalar, relay, impl, tls, "SECONDS",
                "relay: check --tls_endpoint files for changes every SECONDS (0 = only on "
                "SIGHUP; default 5; kiteline)",
                ""},
    option_spec{"tls_endpoint_ca", '\0', scalar, relay, impl, tls, "FILE",
                "relay: a reloaded certificate must verify against this CA (kiteline)", ""},
    option_spec{"tls_client_ca", '\0', scalar, relay, impl, tls, "FILE",
                "relay: ask connectors for a client certificate and verify it with this CA; a "
                "kite named in a verified certificate needs no secret (kiteline)",
                ""},
    option_spec{"tls_client_required", '\0', flag, relay, impl, tls, "",
                "relay: accept kites ONLY from connectors with a verified client certificate "
                "(needs --tls_client_ca; kiteline)",
                ""},
    option_spec{"tls_client_cert", '\0', scalar, connector, impl, tls, "PEMFILE",
                "connector: present this client certificate (key + chain in one PEM) to relays "
                "(kiteline)",
                ""},
    option_spec{"fe_certname", '\0', list, connector, impl, tls, "NAME[/SHA1]",
                "connector: TLS to relays, accept this certificate name (pin: /SHA1 of the "
                "DER); empty value clears the list",
                ""},
    option_spec{"fe_nocertcheck", '\0', flag, connector, impl, tls, "",
                "connector: TLS to relays WITHOUT verification (warns)", ""},
    option_spec{"tls_direct", '\0', flag, connector, impl, tls, "",
                "connector: TLS at once with SNI = the first --fe_certname, no CONNECT "
                "preamble (libpagekite's way; kiteline)",
                ""},
    option_spec{"ca_certs", '\0', scalar, connector, impl, tls, "FILE",
                "connector: CA bundle for relay verification (default: system store)", ""},
    option_spec{"pemfile", 'P', scalar, connector, nyi, tls, "FILE", "built-in HTTP server cert",
                ""},
    option_spec{"selfsign", '\0', flag, connector, nyi, tls, "", "built-in HTTP self-signed cert",
                ""},
};

}  // namespace

std::span<const option_spec> option_table() noexcept { return table; }

}  // namespace kiteline::config
