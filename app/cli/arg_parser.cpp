#include "app/cli/arg_parser.h"

#include <cstdio>
#include <sstream>

namespace animerun::cli {

ArgParser::ArgParser(std::string usage, std::string summary)
    : usage_(std::move(usage)), summary_(std::move(summary)) {}

void ArgParser::Add(const std::string& name, std::string* value, const std::string& help,
                    const std::string& alias, bool required) {
  Option o;
  o.name = name; o.alias = alias; o.help = help; o.required = required; o.metavar = "TEXT";
  o.default_text = value->empty() ? "" : *value;
  o.set = [value](const std::string& v) { *value = v; };
  options_.push_back(std::move(o));
}

void ArgParser::AddCustom(const std::string& name, const std::string& metavar, const std::string& default_text,
                          std::function<void(const std::string&)> set, const std::string& help) {
  Option o;
  o.name = name; o.help = help; o.metavar = metavar;
  o.default_text = default_text;
  o.set = std::move(set);
  options_.push_back(std::move(o));
}

void ArgParser::Add(const std::string& name, int* value, const std::string& help, const std::string& alias) {
  Option o;
  o.name = name; o.alias = alias; o.help = help; o.metavar = "N";
  o.default_text = std::to_string(*value);
  o.set = [value, name](const std::string& v) {
    size_t pos = 0;
    try {
      *value = std::stoi(v, &pos);
    } catch (...) {
      pos = std::string::npos;
    }
    if (pos != v.size()) throw UsageError(name + " expects an integer, got '" + v + "'");
  };
  options_.push_back(std::move(o));
}

void ArgParser::Add(const std::string& name, double* value, const std::string& help, const std::string& alias) {
  Option o;
  o.name = name; o.alias = alias; o.help = help; o.metavar = "X";
  std::ostringstream ss;
  ss << *value;
  o.default_text = ss.str();
  o.set = [value, name](const std::string& v) {
    size_t pos = 0;
    try {
      *value = std::stod(v, &pos);
    } catch (...) {
      pos = std::string::npos;
    }
    if (pos != v.size()) throw UsageError(name + " expects a number, got '" + v + "'");
  };
  options_.push_back(std::move(o));
}

void ArgParser::AddFlag(const std::string& name, bool* value, const std::string& help) {
  Option o;
  o.name = name; o.help = help; o.is_flag = true;
  o.set = [value](const std::string&) { *value = true; };
  options_.push_back(std::move(o));
}

void ArgParser::AddRepeated(const std::string& name, std::vector<std::string>* values, const std::string& help) {
  Option o;
  o.name = name; o.help = help + " (repeatable)"; o.repeated = true; o.metavar = "TEXT";
  o.set = [values](const std::string& v) { values->push_back(v); };
  options_.push_back(std::move(o));
}

void ArgParser::AddPositional(const std::string& name, std::string* value, const std::string& help) {
  positionals_.push_back({name, help, value, nullptr, 1});
}

void ArgParser::AddPositionalList(const std::string& name, std::vector<std::string>* values,
                                  const std::string& help, size_t min_count) {
  positionals_.push_back({name, help, nullptr, values, min_count});
}

ArgParser::Option* ArgParser::Find(const std::string& token) {
  for (auto& o : options_)
    if (token == o.name || (!o.alias.empty() && token == o.alias)) return &o;
  return nullptr;
}

bool ArgParser::Parse(int argc, char** argv, int first) {
  std::vector<std::string> pos;
  bool only_positional = false;
  for (int i = first; i < argc; ++i) {
    std::string tok = argv[i];
    if (!only_positional && tok == "--") {
      only_positional = true;
      continue;
    }
    if (!only_positional && (tok == "--help" || tok == "-h")) {
      std::fputs(Help().c_str(), stdout);
      return false;
    }
    if (!only_positional && tok.size() > 1 && tok[0] == '-' &&
        !(tok.size() > 1 && (std::isdigit(static_cast<unsigned char>(tok[1])) || tok[1] == '.'))) {
      std::string value;
      bool has_value = false;
      const auto eq = tok.find('=');
      if (tok.rfind("--", 0) == 0 && eq != std::string::npos) {
        value = tok.substr(eq + 1);
        tok = tok.substr(0, eq);
        has_value = true;
      }
      Option* o = Find(tok);
      if (!o) throw UsageError("unknown option '" + tok + "' (see --help)");
      if (o->is_flag) {
        if (has_value) throw UsageError(tok + " takes no value");
        o->set("");
      } else {
        if (!has_value) {
          if (i + 1 >= argc) throw UsageError(tok + " needs a value");
          value = argv[++i];
        }
        o->set(value);
      }
      o->seen = true;
      continue;
    }
    pos.push_back(tok);
  }
  for (const auto& o : options_)
    if (o.required && !o.seen) throw UsageError("missing required option " + o.name + " (see --help)");

  size_t k = 0;
  for (size_t p = 0; p < positionals_.size(); ++p) {
    auto& P = positionals_[p];
    if (P.list) {
      // A list takes everything except what the positionals after it need.
      const size_t after = positionals_.size() - p - 1;
      const size_t take = pos.size() >= k + after ? pos.size() - k - after : 0;
      if (take < P.min_count) throw UsageError("expected at least " + std::to_string(P.min_count) + " " + P.name);
      for (size_t j = 0; j < take; ++j) P.list->push_back(pos[k++]);
    } else {
      if (k >= pos.size()) throw UsageError("missing argument " + P.name + " (see --help)");
      *P.value = pos[k++];
    }
  }
  if (k < pos.size()) throw UsageError("unexpected argument '" + pos[k] + "' (see --help)");
  return true;
}

std::string ArgParser::Help() const {
  std::ostringstream s;
  s << "usage: " << usage_;
  if (!options_.empty()) s << " [options]";
  for (const auto& p : positionals_) s << " " << p.name << (p.list ? "..." : "");
  s << "\n\n" << summary_ << "\n";
  if (!positionals_.empty()) {
    s << "\narguments:\n";
    for (const auto& p : positionals_) s << "  " << p.name << (p.list ? "..." : "") << "\n      " << p.help << "\n";
  }
  s << "\noptions:\n";
  for (const auto& o : options_) {
    s << "  " << o.name;
    if (!o.alias.empty()) s << ", " << o.alias;
    if (!o.is_flag) s << " " << o.metavar;
    s << "\n      " << o.help;
    if (o.required) s << " (required)";
    else if (!o.default_text.empty()) s << " [default: " << o.default_text << "]";
    s << "\n";
  }
  s << "  --help, -h\n      show this help\n";
  if (!epilog_.empty()) s << "\n" << epilog_ << "\n";
  return s.str();
}

}  // namespace animerun::cli
