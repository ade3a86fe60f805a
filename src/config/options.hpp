// config options: the pagekite.py option table and the in-order option stream (rc files, argv).
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/diagnostic.hpp"
#include "tls/protocols.hpp"

namespace kiteline::config {

/// How an option takes its value and how repeats combine.
enum class option_kind {
  flag,    ///< no value (--clean)
  scalar,  ///< one value; a later occurrence replaces an earlier one (--host)
  list,    ///< one value; occurrences accumulate (--frontend, --domain)
};

/// Which role an option makes sense for.
enum class option_role { both, relay, connector };

/// What kiteline does with an option pagekite.py knows.
enum class option_status {
  implemented,      ///< parsed into relay_config / connector_config
  not_implemented,  ///< recognised, refused by name: "not implemented yet by kiteline"
  ignored,          ///< accepted and ignored for compatibility (listed in --help)
};

/// --help groups.
enum class option_group { general, relay, connector, tls };

/// One row of the option table.
struct option_spec {
  std::string_view name;        ///< long name without the leading "--"
  char short_name;              ///< getopt letter, '\0' when none
  option_kind kind;
  option_role role;
  option_status status;
  option_group group;
  std::string_view value_name;  ///< "FILE", "HOST:PORT"; empty for flags
  std::string_view help;
  std::string_view alias_of;    ///< canonical long name when this row is an alias, else empty

  [[nodiscard]] bool takes_value() const noexcept { return kind != option_kind::flag; }
  /// The name options are reported and applied under (alias_of when set).
  [[nodiscard]] std::string_view canonical() const noexcept {
    return alias_of.empty() ? name : alias_of;
  }
};

/// The whole table, in --help order. The storage is static and immutable.
std::span<const option_spec> option_table() noexcept;

/// Row for a long name (aliases included), exact match only; nullptr when unknown.
const option_spec* find_option(std::string_view long_name) noexcept;

/// Row for a getopt letter; nullptr when unknown.
const option_spec* find_short_option(char letter) noexcept;

/// --help text generated from the table: usage, short form, then the general, relay, connector
/// and TLS groups, each option with its short letter, aliases and status.
std::string help_text();

/// Limits of the option stream (style: every reader takes its limits as arguments).
struct expansion_limits {
  std::size_t max_nesting = 25;            ///< rc files including rc files (pagekite.py: 25)
  std::size_t max_file_bytes = 1u << 20;   ///< one rc file
  std::size_t max_options = 100000;        ///< options in the whole stream
};

/// Where the default rc file lives. Files are read for real (this module may do file I/O).
struct environment {
  std::filesystem::path home;  ///< $HOME; empty = no ~/.pagekite.rc
  expansion_limits limits{};
  tls::tls_support tls{};           ///< what the linked TLS library can do (main: tls::linked_support)
};

/// One option of the expanded stream, in order.
struct raw_option {
  std::string name;                  ///< canonical long name ("service_on" for --backend)
  std::optional<std::string> value;  ///< present iff the option takes a value
  std::string origin;                ///< "FILE:LINE" or "argv[N]"

  friend bool operator==(const raw_option&, const raw_option&) = default;
};

/// The option stream: ~/.pagekite.rc (unless --clean/--help/--version on the command line),
/// then argv, with --optfile/-o and --optdir/-O spliced in where they appear.
struct expansion {
  std::optional<std::string> subcommand;  ///< "frontend" or "backend" when argv[1] is one
  std::vector<raw_option> options;        ///< optfile/optdir are consumed, not listed
  std::vector<std::string> positionals;   ///< short-form words, in order (argv only)
  std::vector<std::string> positional_origins;  ///< "argv[N]" of each positional
  std::vector<diagnostic> errors;         ///< unknown options, unreadable files, ...
};

/// Expands argv (argv[0] = program name, ignored) into the ordered option stream.
/// Default files: only ~/.pagekite.rc, and only when it exists. /etc/pagekite.d/*.rc is NOT
/// read by default, exactly as pagekite.py (the Debian service passes
/// `--optdir=/etc/pagekite.d` itself). Long options must be spelled in full (pagekite.py's
/// getopt also took unique prefixes; kiteline does not). `-h` is --host, as in pagekite.py.
/// Nesting: argv is level 0, a file it names level 1; a file at level 26 is refused.
/// Accepts `--name=value`, `--name value`, `-o VALUE`, `-oVALUE`, clustered flags (`-fa`) and
/// `--` (everything after it is positional). Options and positionals may be interleaved.
/// rc-file lines follow §10.1 exactly. Never throws for bad input; problems land in errors,
/// and expansion goes on so that all of them are reported at once.
expansion expand_options(std::span<const std::string> argv, const environment& env);

/// Turns one rc-file line into a command-line word per §10.1 (strip, `--` prepended, blanks
/// around every `=` and `:` removed). nullopt for blank and `#` lines; the caller stops at
/// lines starting with `END` (see is_rc_end_line).
std::optional<std::string> rc_line_to_option(std::string_view line);

/// True for a line that ends an rc file (`END...` after stripping blanks).
bool is_rc_end_line(std::string_view line);

}  // namespace kiteline::config
