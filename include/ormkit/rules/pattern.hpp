// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/rules/pattern.hpp
//
// rules::pattern: the whole value must match an ECMAScript regular expression.
// It has a header of its own because it is the only ormkit header that
// includes <regex>, which costs about half a second of compile time in every
// TU that sees it; <ormkit/rules.hpp> and <ormkit.hpp> do not include it.
// Without it, `ormkit::rules::pattern` is a plain "'pattern' is not a member
// of 'ormkit::rules'" (GCC; Clang: "no member named 'pattern'").
//
// Each expression is compiled once per process, on first use or in
// `validator<T>::prepare()`, and shared by every entity, column and thread
// that uses the same text.
//
// Example:
//
//   #include <ormkit/rules/pattern.hpp>
//
//   .column(&product::sku, "sku", ormkit::rules::pattern{"[A-Z]{2}[0-9]{4}"})

#include <ormkit/error.hpp>
#include <ormkit/rules.hpp>

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <utility>

namespace ormkit {

/// The longest text, in bytes, that `rules::pattern` hands to the regex engine;
/// longer values are reported as violations without being matched.
///
/// libstdc++'s std::regex recurses once per input character: `[a-z]+`
/// overflows an 8 MiB stack below 30 000 characters, and `(a|b)*` a 1 MiB
/// thread stack below 2 000 (https://gcc.gnu.org/bugzilla/show_bug.cgi?id=86164).
/// Validation runs on untrusted input, so the cap turns a crash into a violation.
inline constexpr std::size_t max_pattern_input = 1024;

namespace detail {

// Our own wording: the standard library's regex_error::what() differs per
// implementation and is not in the lowercase message style.
inline auto regex_problem(std::regex_constants::error_type code) -> std::string_view {
  namespace rc = std::regex_constants;
  if (code == rc::error_collate) return "invalid collating element";
  if (code == rc::error_ctype) return "invalid character class";
  if (code == rc::error_escape) return "invalid escape or trailing backslash";
  if (code == rc::error_backref) return "invalid back reference";
  if (code == rc::error_brack) return "unmatched bracket";
  if (code == rc::error_paren) return "unmatched parenthesis";
  if (code == rc::error_brace) return "unmatched brace";
  if (code == rc::error_badbrace) return "invalid repetition count in braces";
  if (code == rc::error_range) return "invalid character range";
  if (code == rc::error_badrepeat) return "repetition with nothing to repeat";
  if (code == rc::error_complexity || code == rc::error_stack || code == rc::error_space)
    return "too complex to compile";
  return "invalid regular expression";
}

// Counts compilations so tests can prove each expression is compiled once.
inline auto pattern_compilations() noexcept -> std::atomic<std::size_t>& {
  static std::atomic<std::size_t> count{0};
  return count;
}

// Returns the compiled form of `expression`, compiling it on the first call
// for that text in this process.
//
// One map for the process, keyed by the expression's text, behind a mutex.
// Entries are never erased and std::map never moves its nodes, so the
// reference stays valid after the lock is released, and matching against a
// const std::regex from several threads at once is safe. The lock is held
// only for the lookup (and, once per expression, the compilation); the match
// itself, which costs far more, runs outside it. A rule object cannot cache
// the regex itself: rules live in constexpr descriptors.
//
// An invalid expression is not stored, so every use reports it again.
// Throws: ormkit::exception (errc::invalid_argument) naming the expression;
// the validator prefixes the column.
inline auto compiled_pattern(std::string_view expression) -> const std::regex& {
  static std::mutex mutex;
  static std::map<std::string, std::regex, std::less<>> compiled;

  const std::lock_guard lock(mutex);
  if (auto found = compiled.find(expression); found != compiled.end()) return found->second;
  pattern_compilations().fetch_add(1, std::memory_order_relaxed);
  try {
    std::regex re(expression.begin(), expression.end(), std::regex::ECMAScript);
    return compiled.emplace(std::string(expression), std::move(re)).first->second;
  } catch (const std::regex_error& e) {
    std::string message = "rules::pattern \"";
    message.append(expression).append("\" is not a valid ECMAScript regular expression (");
    message.append(regex_problem(e.code())).append(")");
    throw exception(error(errc::invalid_argument, std::move(message)));
  }
}

}  // namespace detail

namespace rules {

/// Whole-value match of an ECMAScript regular expression, on text columns.
///
/// A value longer than `max_pattern_input` bytes is reported as too long
/// rather than matched (see there why).
///
/// Throws (from `check` and `prepare`): `ormkit::exception`
/// (`errc::invalid_argument`) when `expression` is not a valid regular
/// expression; the validator adds the column: `users.code: rules::pattern "[A-Z"
/// is not a valid ECMAScript regular expression (unmatched bracket)`.
struct pattern : rule_tag {
  static constexpr std::string_view rule_name = "pattern";
  std::string_view expression;
  constexpr explicit pattern(std::string_view regex) : expression(regex) {}

  /// True: a static_assert explains when the rule cannot check a `V`.
  template <class V>
  static consteval auto applies_to() -> bool {
    constexpr bool fits = detail::string_like<V>;
    static_assert(fits, "ormkit: rules::pattern applies to text columns; use rules::range or rules::one_of for others");
    return fits;
  }

  /// Returns "must match the pattern \"<expression>\"", or nothing on a match.
  template <class V>
  [[nodiscard]] auto check(const V& v) const -> std::optional<std::string> {
    if constexpr (applies_to<V>()) return problem(std::string_view(v), true);
    else return std::nullopt;
  }

  /// As `check`, but never measures the value (no byte count): for `secret` columns.
  template <class V>
  [[nodiscard]] auto check_redacted(const V& v) const -> std::optional<std::string> {
    if constexpr (applies_to<V>()) return problem(std::string_view(v), false);
    else return std::nullopt;
  }

  /// Compiles the expression now (once per process) rather than at first use.
  void prepare() const { (void)ormkit::detail::compiled_pattern(expression); }

 private:
  // Not a template: one copy for every column type.
  auto problem(std::string_view text, bool measured) const -> std::optional<std::string> {
    std::string out;
    if (text.size() > max_pattern_input) {
      // "(1025 bytes, at most 1024)"; for a secret, "(at most 1024 bytes)".
      out.append("is too long to match the pattern \"").append(expression).append("\" (");
      if (measured) out.append(std::to_string(text.size())).append(" bytes, ");
      out.append("at most ").append(std::to_string(max_pattern_input));
      return out.append(measured ? ")" : " bytes)");
    }
    if (std::regex_match(text.begin(), text.end(), ormkit::detail::compiled_pattern(expression))) return std::nullopt;
    return out.append("must match the pattern \"").append(expression).append("\"");
  }
};

}  // namespace rules
}  // namespace ormkit
