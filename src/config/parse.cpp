// parse_command_line: applies the option stream to relay_config / connector_config in order.
#include "config/parse.hpp"

#include <algorithm>
#include <array>

#include "config/apply_option.hpp"
#include "config/local_backends.hpp"
#include "config/short_form.hpp"
#include "config/validate.hpp"

namespace kiteline::config {
namespace {

constexpr std::array deprecated{"reloadfile", "autosave",   "noautosave",    "webroot",
                                "webaccess",  "webindexes", "delete_backend"};

}  // namespace

parse_outcome parse_command_line(std::span<const std::string> argv, const environment& env) {
  parse_outcome out;
  expansion exp = expand_options(argv, env);

  const auto has = [&](std::string_view name) {
    return std::any_of(exp.options.begin(), exp.options.end(),
                       [&](const raw_option& o) { return o.name == name; });
  };
  if (has("help") || has("version")) {
    out.what = has("help") ? action::help : action::version;
    if (out.what == action::help) {
      out.help_text = help_text();
    }
    out.warnings = std::move(exp.errors);
    return out;
  }
  out.errors = std::move(exp.errors);

  bool relay_role = exp.subcommand == "frontend";
  for (const auto& o : exp.options) {
    if (o.name == "isfrontend") {
      if (exp.subcommand == "backend") {
        add(out.errors, o.origin, o.name, "--isfrontend conflicts with `kiteline backend`");
      }
      if (!exp.subcommand) {
        relay_role = true;
      }
    }
  }
  const char* role_name = relay_role ? "relay" : "connector";

  origin_map origins;
  const apply_context ctx{out.errors, out.warnings, origins};
  relay_config relay;
  connector_config connector;
  std::vector<flag_setting> service_cfgs;
  connector_config local;  // the relay's own back-ends
  std::vector<flag_setting> local_flags;
  bool check = false;
  for (const auto& o : exp.options) {
    const option_spec* spec = find_option(o.name);
    if (spec == nullptr) {
      continue;  // cannot happen: expand_options only emits known names
    }
    // A relay takes --service_on & co. for the kites it serves itself (config/local_backends).
    const bool local_backend = relay_role && is_local_backend_option(o.name);
    if ((spec->role == option_role::relay && !relay_role) ||
        (spec->role == option_role::connector && relay_role && !local_backend)) {
      ctx.error(o, dashed(o.name) + " is a " +
                       (spec->role == option_role::relay ? "relay" : "connector") +
                       " option; it makes no sense for the " + role_name +
                       (relay_role ? " (drop --isfrontend / `frontend` to run a connector)"
                                   : " (add --isfrontend or run `kiteline frontend`)"));
      continue;
    }
    if (spec->status == option_status::not_implemented) {
      ctx.error(o, dashed(o.name) + " is recognised but not implemented yet by kiteline");
      continue;
    }
    if (spec->status == option_status::ignored) {
      if (std::find(deprecated.begin(), deprecated.end(), o.name) != deprecated.end()) {
        ctx.warn(o, "deprecated pagekite.py option, ignored");
      }
      continue;
    }
    if (o.name == "isfrontend" || o.name == "clean") {
      continue;
    }
    if (o.name == "check_config") {
      check = true;
      continue;
    }
    if (local_backend) {
      apply_connector(local, local_flags, o, ctx);
    } else if (relay_role) {
      apply_relay(relay, o, ctx);
    } else {
      apply_connector(connector, service_cfgs, o, ctx);
    }
  }

  if (relay_role) {
    if (!exp.positionals.empty()) {
      add(out.errors, exp.positional_origins.front(), "",
          "unexpected argument `" + exp.positionals.front() +
              "`: the short form (SERVICE KITENAME) is for the connector");
    }
    if (finish_local_backends(relay, local, local_flags, out.warnings)) {
      out.local_backends = std::move(local);
    }
    validate(relay, out.errors, out.warnings, origins, env.tls);
    out.relay = std::move(relay);
    out.what = check ? action::check_config : action::run_relay;
    return out;
  }

  std::vector<flag_setting> flags = std::move(service_cfgs);
  bool short_form_failed = false;
  if (!exp.positionals.empty()) {
    auto sf = parse_short_form(exp.positionals, exp.positional_origins, connector);
    out.errors.insert(out.errors.end(), sf.errors.begin(), sf.errors.end());
    short_form_failed = !sf.errors.empty();
    if (sf.errors.empty()) {
      // Kites given this way are the only ones active for this run (§10.3).
      for (auto& s : connector.services) {
        s.enabled = false;
      }
      for (auto& s : sf.services) {
        const auto same = std::find_if(connector.services.begin(), connector.services.end(),
                                       [&](const service& x) { return x.id() == s.id(); });
        if (same != connector.services.end()) {
          *same = std::move(s);
        } else {
          connector.services.push_back(std::move(s));
        }
      }
      flags.insert(flags.end(), sf.flags.begin(), sf.flags.end());
    }
  }
  apply_flags(connector, flags, out.warnings);
  const std::size_t before_validation = out.errors.size();
  validate(connector, out.errors, out.warnings, origins, env.tls);
  if (short_form_failed) {
    // "no kites to serve" only repeats the short-form problem already reported.
    out.errors.erase(std::remove_if(out.errors.begin() + static_cast<std::ptrdiff_t>(
                                                             before_validation),
                                    out.errors.end(),
                                    [](const diagnostic& d) {
                                      return d.origin.empty() && d.key == "service_on";
                                    }),
                     out.errors.end());
  }
  out.connector = std::move(connector);
  out.what = check ? action::check_config : action::run_connector;
  return out;
}

}  // namespace kiteline::config
