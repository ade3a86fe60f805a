// The in-order option stream (§10.1): ~/.pagekite.rc, argv, and the rc files and folders
// --optfile / --optdir splice in, with rc-file lines turned into command-line words.
#include <algorithm>
#include <array>
#include <fstream>
#include <system_error>

#include "config/options.hpp"
#include "core/text.hpp"

namespace kiteline::config {
namespace {

// re.sub(r'\s*SEP\s*', SEP, s)
std::string squeeze_around(std::string_view s, char sep) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == sep) {
      while (!out.empty() && is_ascii_space(out.back())) {
        out.pop_back();
      }
      out += sep;
      while (i + 1 < s.size() && is_ascii_space(s[i + 1])) {
        ++i;
      }
    } else {
      out += s[i];
    }
  }
  return out;
}

bool has_blank(std::string_view s) noexcept {
  return std::any_of(s.begin(), s.end(), is_ascii_space);
}

std::string show_option(const option_spec& spec) { return "--" + std::string(spec.name); }

class expander {
 public:
  expander(const environment& env, expansion& out) : env_(env), out_(out) {}

  void run(std::span<const std::string> argv) {
    std::size_t first = 1;
    if (argv.size() > 1 && (argv[1] == "frontend" || argv[1] == "backend")) {
      out_.subcommand = argv[1];
      first = 2;
    }
    if (!skips_rc(argv, first) && !env_.home.empty()) {
      const auto rc = env_.home / ".pagekite.rc";
      std::error_code ec;
      if (std::filesystem::exists(rc, ec)) {
        read_file(rc.string(), "", "", 1);
      }
    }
    bool only_positionals = false;
    for (std::size_t i = first; i < argv.size(); ++i) {
      const std::string& word = argv[i];
      const std::string origin = "argv[" + std::to_string(i) + "]";
      const std::string* next = i + 1 < argv.size() ? &argv[i + 1] : nullptr;
      bool consumed_next = false;
      if (only_positionals || word.size() < 2 || word[0] != '-') {
        out_.positionals.push_back(word);
        out_.positional_origins.push_back(origin);
      } else if (word == "--") {
        only_positionals = true;
      } else if (word[1] == '-') {
        consumed_next = long_option(std::string_view(word).substr(2), next, origin, false, 0);
      } else {
        consumed_next = short_options(std::string_view(word).substr(1), next, origin, false, 0);
      }
      if (consumed_next) {
        ++i;
      }
    }
  }

 private:
  // pagekite.py skips ~/.pagekite.rc when --clean or --help is anywhere on the command line.
  static bool skips_rc(std::span<const std::string> argv, std::size_t first) {
    for (std::size_t i = first; i < argv.size(); ++i) {
      if (argv[i] == "--") {
        break;
      }
      if (argv[i] == "--clean" || argv[i] == "--help" || argv[i] == "--version" ||
          argv[i] == "--appver") {
        return true;
      }
    }
    return false;
  }

  // Returns true when the next word was taken as the value.
  bool long_option(std::string_view body, const std::string* next, const std::string& origin,
                   bool from_file, std::size_t depth) {
    const auto eq = body.find('=');
    const std::string_view name = body.substr(0, eq);
    std::optional<std::string> value;
    if (eq != std::string_view::npos) {
      value = std::string(body.substr(eq + 1));
    }
    const option_spec* spec = find_option(name);
    if (spec == nullptr) {
      std::string msg = "unknown option --" + std::string(name);
      if (from_file && has_blank(name)) {
        msg += " (rc-file lines are `name = value`)";
      }
      add(out_.errors, origin, std::string(name), msg);
      return false;
    }
    if (!spec->takes_value() && value) {
      add(out_.errors, origin, std::string(spec->canonical()),
          show_option(*spec) + " takes no value");
      return false;
    }
    bool consumed = false;
    if (spec->takes_value() && !value) {
      if (from_file || next == nullptr) {
        add(out_.errors, origin, std::string(spec->canonical()),
            show_option(*spec) + " needs a value" +
                (from_file ? " (write `" + std::string(spec->name) + " = " +
                                 std::string(spec->value_name) + "`)"
                           : " (--" + std::string(spec->name) + "=" +
                                 std::string(spec->value_name) + ")"));
        return false;
      }
      value = *next;
      consumed = true;
    }
    emit(*spec, std::move(value), origin, depth);
    return consumed;
  }

  bool short_options(std::string_view letters, const std::string* next,
                     const std::string& origin, bool from_file, std::size_t depth) {
    for (std::size_t j = 0; j < letters.size(); ++j) {
      const option_spec* spec = find_short_option(letters[j]);
      if (spec == nullptr) {
        add(out_.errors, origin, std::string(1, letters[j]),
            "unknown option -" + std::string(1, letters[j]));
        return false;
      }
      if (!spec->takes_value()) {
        emit(*spec, std::nullopt, origin, depth);
        continue;
      }
      std::string_view rest = letters.substr(j + 1);
      if (from_file) {
        rest = trim_ascii_space(rest);
      }
      if (!rest.empty()) {
        emit(*spec, std::string(rest), origin, depth);
        return false;
      }
      if (from_file || next == nullptr) {
        add(out_.errors, origin, std::string(spec->canonical()),
            "-" + std::string(1, spec->short_name) + " needs a value");
        return false;
      }
      emit(*spec, *next, origin, depth);
      return true;
    }
    return false;
  }

  void emit(const option_spec& spec, std::optional<std::string> value, const std::string& origin,
            std::size_t depth) {
    const std::string_view name = spec.canonical();
    if (name == "optfile") {
      read_file(*value, origin, "optfile", depth + 1);
      return;
    }
    if (name == "optdir") {
      read_dir(*value, origin, depth + 1);
      return;
    }
    if (out_.options.size() >= env_.limits.max_options) {
      if (!too_many_reported_) {
        add(out_.errors, origin, std::string(name),
            "more than " + std::to_string(env_.limits.max_options) + " options");
        too_many_reported_ = true;
      }
      return;
    }
    out_.options.push_back(raw_option{std::string(name), std::move(value), origin});
  }

  // Reads the whole file, at most max_file_bytes; reports problems at `origin` (the option
  // that named the file) and returns nullopt.
  std::optional<std::string> load(const std::string& path, const std::string& origin,
                                  const std::string& key) {
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(st)) {
      add(out_.errors, origin, key, "cannot read " + path + ": no such file");
      return std::nullopt;
    }
    if (std::filesystem::is_directory(st)) {
      add(out_.errors, origin, key, "cannot read " + path + ": is a directory");
      return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      add(out_.errors, origin, key, "cannot read " + path + ": cannot open (permissions?)");
      return std::nullopt;
    }
    std::string data;
    std::array<char, 4096> buf{};
    while (in) {
      in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
      const auto got = static_cast<std::size_t>(in.gcount());
      if (data.size() + got > env_.limits.max_file_bytes) {
        add(out_.errors, origin, key,
            "cannot read " + path + ": larger than " +
                std::to_string(env_.limits.max_file_bytes) + " bytes");
        return std::nullopt;
      }
      data.append(buf.data(), got);
    }
    if (in.bad()) {
      add(out_.errors, origin, key, "cannot read " + path + ": read error");
      return std::nullopt;
    }
    return data;
  }

  void read_file(const std::string& path, const std::string& origin, const std::string& key,
                 std::size_t depth) {
    if (depth > env_.limits.max_nesting) {
      add(out_.errors, origin, key,
          "files nested more than " + std::to_string(env_.limits.max_nesting) +
              " levels deep (does " + path + " include itself?)");
      return;
    }
    const auto data = load(path, origin, key);
    if (!data) {
      return;
    }
    // Python's universal newlines: \n, \r\n and \r all end a line.
    std::string_view rest = *data;
    std::size_t line_no = 0;
    while (!rest.empty()) {
      const auto end = rest.find_first_of("\r\n");
      std::string_view line = rest.substr(0, end);
      if (end == std::string_view::npos) {
        rest = {};
      } else {
        const std::size_t skip =
            (rest[end] == '\r' && end + 1 < rest.size() && rest[end + 1] == '\n') ? 2 : 1;
        rest.remove_prefix(end + skip);
      }
      ++line_no;
      if (is_rc_end_line(line)) {
        break;
      }
      const auto word = rc_line_to_option(line);
      if (!word) {
        continue;
      }
      const std::string line_origin = path + ":" + std::to_string(line_no);
      if (*word == "--" || *word == "-") {
        add(out_.errors, line_origin, "", "`" + *word + "` is not an option");
      } else if (word->starts_with("--")) {
        long_option(std::string_view(*word).substr(2), nullptr, line_origin, true, depth);
      } else {
        short_options(std::string_view(*word).substr(1), nullptr, line_origin, true, depth);
      }
    }
  }

  void read_dir(const std::string& dir, const std::string& origin, std::size_t depth) {
    std::error_code ec;
    std::filesystem::directory_iterator it(dir, ec);
    if (ec) {
      add(out_.errors, origin, "optdir", "cannot read directory " + dir + ": " + ec.message());
      return;
    }
    std::vector<std::string> names;
    for (; it != std::filesystem::directory_iterator(); it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!name.starts_with('.') && name.ends_with(".rc") && !it->is_directory(ec)) {
        names.push_back(name);
      }
    }
    if (ec) {
      add(out_.errors, origin, "optdir", "cannot read directory " + dir + ": " + ec.message());
    }
    std::sort(names.begin(), names.end());
    for (const auto& name : names) {
      read_file((std::filesystem::path(dir) / name).string(), origin, "optdir", depth);
    }
  }

  const environment& env_;
  expansion& out_;
  bool too_many_reported_ = false;
};

}  // namespace

bool is_rc_end_line(std::string_view line) { return trim_ascii_space(line).starts_with("END"); }

std::optional<std::string> rc_line_to_option(std::string_view line) {
  line = trim_ascii_space(line);
  if (line.empty() || line.front() == '#') {
    return std::nullopt;
  }
  std::string word = line.front() == '-' ? std::string(line) : "--" + std::string(line);
  return squeeze_around(squeeze_around(word, '='), ':');
}

expansion expand_options(std::span<const std::string> argv, const environment& env) {
  expansion out;
  expander(env, out).run(argv);
  return out;
}

}  // namespace kiteline::config
