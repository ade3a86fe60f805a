// --help, generated from the option table.
#include <string>

#include "config/options.hpp"

namespace kiteline::config {
namespace {

void append_padded(std::string& out, std::string left, std::string_view text) {
  constexpr std::size_t column = 36;
  out += left;
  if (left.size() + 1 >= column) {
    out += '\n';
    out.append(column, ' ');
  } else {
    out.append(column - left.size(), ' ');
  }
  out += text;
  out += '\n';
}

void append_group(std::string& out, option_group group, std::string_view title) {
  out += '\n';
  out += title;
  out += '\n';
  for (const auto& spec : option_table()) {
    if (spec.group != group || !spec.alias_of.empty()) {
      continue;
    }
    std::string left = "  ";
    if (spec.short_name != '\0') {
      left += '-';
      left += spec.short_name;
      left += ", ";
    } else {
      left += "    ";
    }
    left += "--";
    left += spec.name;
    if (spec.takes_value()) {
      left += '=';
      left += spec.value_name;
    }
    std::string text(spec.help);
    for (const auto& alias : option_table()) {
      if (alias.alias_of == spec.name) {
        text += " (also --";
        text += alias.name;
        text += ')';
      }
    }
    if (spec.kind == option_kind::list) {
      text += " [repeatable]";
    }
    if (spec.status == option_status::not_implemented) {
      text += " [not implemented yet: refused]";
    } else if (spec.status == option_status::ignored) {
      text += " [accepted and ignored]";
    }
    append_padded(out, std::move(left), text);
  }
}

}  // namespace

std::string help_text() {
  std::string out =
      "kiteline: a PageKite relay (frontend) and connector (backend), pagekite.py compatible\n"
      "\n"
      "usage:\n"
      "  kiteline frontend [options]      run a relay (same as --isfrontend / -f)\n"
      "  kiteline backend [options]       run a connector (the default role)\n"
      "  kiteline [options] [SERVICE] KITENAME [+flag ...] [AND [SERVICE] KITENAME ...]\n"
      "                                   connector, pagekite.py short form\n"
      "\n"
      "short form (connector):\n"
      "  SERVICE   8080 | HOST:PORT | PROTO:PORT | PROTO:HOST:PORT | http://HOST:PORT |\n"
      "            /path/to/folder (built-in web server) | builtin | omitted (localhost:80,\n"
      "            or the configured kite of that name); PROTO: http http2 http3 https tls\n"
      "            ssh irc xmpp minecraft\n"
      "  KITENAME  NAME | NAME:PUBLICPORT | PROTO://NAME | PROTO://NAME:PUBLICPORT\n"
      "            (ssh://NAME = raw port 22)\n"
      "  +flags    +rewritehost[=NAME] +rawheaders +proxyproto +insecure +ip/1.2.3.4\n"
      "            +password/USER=PASS +indexes[=all] +hide +noFLAG\n"
      "  The secret comes from --kitesecret or a configured service_on for that name.\n"
      "  Example: kiteline --frontend=relay.example:443 --kitesecret=S 8080 name.example.com\n"
      "\n"
      "service specs (--service_on / --service_off):\n"
      "  PROTOS:KITE:HOST:PORT:SECRET, PROTOS:KITE:HOST:PORT, PROTOS:KITE:PORT, KITE:PORT,\n"
      "  PROTO:KITE, KITE; PROTOS = comma list of PROTO, PROTO-PORT or PROTO/PORT (public\n"
      "  port); ssh = raw/22; tls* = https; PORT `builtin` = built-in web server;\n"
      "  @kitename / @kitesecret are replaced by --kitename / --kitesecret.\n"
      "\n"
      "option files (~/.pagekite.rc unless --clean, --optfile, --optdir):\n"
      "  one option per line without the leading --, e.g. `frontend = relay.example:443`;\n"
      "  # comments; a line starting with END stops the file; later options win, lists\n"
      "  accumulate. /etc/pagekite.d is read only when named with --optdir.\n";
  append_group(out, option_group::general, "general options:");
  append_group(out, option_group::relay, "relay options (kiteline frontend / --isfrontend):");
  append_group(out, option_group::connector, "connector options (kiteline backend):");
  append_group(out, option_group::tls, "TLS options:");
  out +=
      "\n"
      "signals:\n"
      "  SIGTERM          drain: stop taking visitors (relay) or streams (connector), let those\n"
      "                   in flight finish for up to --grace_seconds, then exit; a second\n"
      "                   SIGTERM stops at once\n"
      "  SIGINT           stop at once\n"
      "  SIGHUP           reopen the log file and the access log (after logrotate renamed\n"
      "                   them); the relay also reloads its certificates\n"
      "  SIGUSR1          write a state dump (tunnels, kites, streams) to the log\n"
      "\n"
      "files: the systemd units kiteline-relay.service and kiteline-connector.service read\n"
      "  /etc/kiteline/relay.rc and /etc/kiteline/connector.rc; see `man kiteline`.\n";
  return out;
}

}  // namespace kiteline::config
