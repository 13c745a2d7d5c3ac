// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/validator.hpp
//
// Runs the rules of an entity's descriptor: column rules in declaration order,
// then entity rules, collecting every violation rather than stopping at the
// first. Messages are subject first and show the offending value, except for
// `secret` columns: `users.age: must be between 0 and 150 (got 200)`.
//
// Example:
//
//   auto problems = ormkit::validate(u);          // std::vector<ormkit::violation>
//   ormkit::status s = ormkit::check(u);           // errc::validation_failed, or success
//   ormkit::validator<user> v;                     // what a persistence manager holds
//   if (auto s = v(u); !s) log(s.error().message);

#include <ormkit/column_traits.hpp>
#include <ormkit/describe.hpp>
#include <ormkit/entity.hpp>
#include <ormkit/error.hpp>
#include <ormkit/result.hpp>
#include <ormkit/rules.hpp>
#include <ormkit/value.hpp>

#include <atomic>
#include <cstddef>
#include <optional>
#include <regex>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

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

//=== message building (not templated: shared by every entity) ===//

inline void add_column_violation(std::vector<violation>& out, std::string_view table, std::string_view column,
                                 std::string_view rule, std::string_view problem,
                                 const std::optional<std::string>& shown) {
  std::string message;
  message.reserve(table.size() + column.size() + problem.size() + (shown ? shown->size() + 9 : 2));
  message.append(table).append(".").append(column).append(": ").append(problem);
  if (shown) message.append(" (got ").append(*shown).append(")");
  out.push_back({std::string(column), std::string(rule), std::move(message)});
}

inline void add_entity_violation(std::vector<violation>& out, std::string_view table, std::string_view rule,
                                 std::string_view problem) {
  std::string message;
  message.reserve(table.size() + problem.size() + 2);
  message.append(table).append(": ").append(problem);
  out.push_back({std::string(), std::string(rule), std::move(message)});
}

// At most this many violations are spelled out in `error::message`, which ends
// up in logs; `error::violations` always has them all.
inline constexpr std::size_t summarized_violations = 8;

inline auto validation_error(std::string_view table, std::vector<violation> list) -> error {
  std::string message(table);
  message += ": ";
  message += std::to_string(list.size());
  message += list.size() == 1 ? " violation: " : " violations: ";
  for (std::size_t i = 0; i < list.size() && i < summarized_violations; ++i) {
    if (i > 0) message += "; ";
    message += list[i].message;
  }
  if (list.size() > summarized_violations)
    message += "; and " + std::to_string(list.size() - summarized_violations) + " more";
  error e(errc::validation_failed, std::move(message));
  e.violations = std::move(list);
  return e;
}

//=== patterns ===//

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

// Counts compilations so tests can prove each pattern is compiled once.
inline auto pattern_compilations() noexcept -> std::atomic<std::size_t>& {
  static std::atomic<std::size_t> count{0};
  return count;
}

inline auto compile_pattern(std::string_view table, std::string_view column, std::string_view expression)
    -> std::regex {
  pattern_compilations().fetch_add(1, std::memory_order_relaxed);
  try {
    return std::regex(expression.begin(), expression.end(), std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    std::string message(table);
    message.append(".").append(column).append(": rules::pattern \"").append(expression);
    message.append("\" is not a valid ECMAScript regular expression (").append(regex_problem(e.code())).append(")");
    throw exception(error(errc::invalid_argument, std::move(message)));
  }
}

// T: entity, Column: column index, Rule: index in that column's rules.
// One regex per pattern, compiled on first use. A function-local static is
// initialized exactly once even under concurrent first calls, and an
// initialization that throws (an invalid pattern) is retried on the next call,
// so every validation of such an entity reports the programmer error.
template <class T, std::size_t Column, std::size_t Rule>
auto compiled_pattern() -> const std::regex& {
  static const std::regex compiled = compile_pattern(
      descriptor_of<T>.table, column_v<T, Column>.name, detail::get<Rule>(column_v<T, Column>.rules).expression);
  return compiled;
}

//=== column rules ===//

template <class Rule>
inline constexpr bool checks_null_v = requires {
  requires Rule::checks_null;
};

template <class Rule>
constexpr auto rule_name_of(const Rule& rule) -> std::string_view {
  if constexpr (requires { Rule::rule_name; }) return Rule::rule_name;
  else return rule.name;  // rules::custom names itself per instance
}

// Renders a member for " (got ...)" the way the backend would store it.
template <class M>
auto shown_value(const M& member) -> std::optional<std::string> {
  if constexpr (column_value<M>) {
    // encode, not encode_view: only reached on a violation, and a text enum's
    // to_view shows an unnamed value as NULL where encode reports it.
    if (auto v = encode(member)) return to_display(*v);
  }
  // Not storable (e.g. a uint64 past the int64 range): still show integers.
  if constexpr (std::is_integral_v<M>) return std::to_string(member);
  if constexpr (is_nullable_v<M>) {
    if (member) return shown_value(*member);
  }
  return std::nullopt;
}

template <class T, std::size_t Column, std::size_t RuleIndex, class Rule, class V>
auto run_rule(const Rule& rule, const V& v) -> std::optional<std::string> {
  if constexpr (std::is_same_v<Rule, rules::pattern> && !rules::detail::string_like<V>) {
    static_assert(rules::detail::string_like<V>,
                  "ormkit: rules::pattern applies to text columns; use rules::range or rules::one_of for others");
    return std::nullopt;
  } else if constexpr (std::is_same_v<Rule, rules::pattern>) {
    const std::string_view text(v);
    if (text.size() > max_pattern_input)
      return "is too long to match the pattern \"" + std::string(rule.expression) + "\" (" +
             std::to_string(text.size()) + " bytes, at most " + std::to_string(max_pattern_input) + ")";
    if (std::regex_match(text.begin(), text.end(), compiled_pattern<T, Column, RuleIndex>())) return std::nullopt;
    return "must match the pattern \"" + std::string(rule.expression) + "\"";
  } else {
    return rule.check(v);
  }
}

template <class T, std::size_t Column, std::size_t RuleIndex, class Def, class Rule>
void apply_column_rule(const T& entity, std::string_view table, const Def& column, const Rule& rule,
                       std::vector<violation>& out) {
  using M = typename Def::member_type;
  const M& member = entity.*(column.member);
  std::optional<std::string> problem;
  if constexpr (is_nullable_v<M>) {
    // Rules check the contained value; NULL passes every rule but the ones
    // that exist to reject it (rules::not_empty).
    if (member) problem = run_rule<T, Column, RuleIndex>(rule, *member);
    else if constexpr (checks_null_v<Rule>) problem = std::string("must not be empty");
  } else {
    problem = run_rule<T, Column, RuleIndex>(rule, member);
  }
  if (!problem) return;
  add_column_violation(out, table, column.name, rule_name_of(rule), *problem,
                       column.has(column_flags::secret) ? std::nullopt : shown_value(member));
}

//=== entity rules ===//

template <class T, class F>
void apply_entity_rule(const T& entity, std::string_view table, const entity_rule<F>& rule,
                       std::vector<violation>& out) {
  if constexpr (!std::is_invocable_v<const F&, const T&>) {
    static_assert(std::is_invocable_v<const F&, const T&>,
                  "ormkit: an entity rule must be callable with `const Entity&`; change the rule's parameter type");
  } else {
    using R = std::invoke_result_t<const F&, const T&>;
    if constexpr (std::is_same_v<std::remove_cvref_t<R>, bool>) {
      if (!rule.fn(entity)) add_entity_violation(out, table, rule.name, rule.message);
    } else if constexpr (std::is_constructible_v<std::optional<std::string>, R>) {
      if (std::optional<std::string> problem(rule.fn(entity)); problem)
        add_entity_violation(out, table, rule.name, *problem);
    } else {
      static_assert(std::is_same_v<R, bool>,
                    "ormkit: an entity rule must return bool (true = valid) or std::optional<std::string> "
                    "(the problem); change the rule's return type");
    }
  }
}

}  // namespace detail

//=== public API ===//

/// Returns every rule violation of `entity`: column rules in declaration order
/// (a column's rules in the order given), then entity rules. Empty when valid.
///
/// Messages read `<table>.<column>: <problem> (got <value>)`, the value as
/// `to_display` renders its stored form (text cut at 64 bytes), and without
/// the `(got ...)` part for `secret` columns. Entity rules read
/// `<table>: <problem>` and leave `violation::column` empty.
///
/// On a `std::optional` column, rules check the contained value and skip NULL,
/// except `rules::not_empty`, which reports NULL as `must not be empty`.
///
/// Requires: `T` is an entity.
/// Throws: `ormkit::exception` (`errc::invalid_argument`) when a `rules::pattern`
/// of `T` is not a valid regular expression, naming the column and the pattern.
/// This is a programmer error; `validator<T>::prepare()` surfaces it at start-up.
///
/// A valid entity costs no allocation here (std::regex_match may allocate).
template <entity T>
[[nodiscard]] auto validate(const T& entity) -> std::vector<violation> {
  std::vector<violation> out;
  constexpr std::string_view table = descriptor_of<T>.table;
  for_each_column<T>([&](const auto& column, auto column_index) {
    using rules_list = std::remove_cvref_t<decltype(column.rules)>;
    [&]<std::size_t... R>(std::index_sequence<R...>) {
      (detail::apply_column_rule<T, decltype(column_index)::value, R>(entity, table, column,
                                                                       detail::get<R>(column.rules), out),
       ...);
    }(std::make_index_sequence<std::tuple_size_v<rules_list>>{});
  });
  detail::apply([&](const auto&... rule) { (detail::apply_entity_rule(entity, table, rule, out), ...); },
                descriptor_of<T>.checks);
  return out;
}

/// Validates `entity` and folds the result into a status.
///
/// Returns: success, or an error with `errc::validation_failed` whose
/// `violations` lists every violation and whose `message` summarizes them:
/// `users: 2 violations: users.email: must be a valid e-mail address (got "x@"); users.age: ...`
/// (the first 8 spelled out, then "; and N more").
/// Requires, Throws: as `validate`.
template <entity T>
[[nodiscard]] auto check(const T& entity) -> status {
  auto list = ormkit::validate(entity);
  if (list.empty()) return {};
  return detail::validation_error(descriptor_of<T>.table, std::move(list));
}

/// The validator of `T` as an object: stateless and cheap to copy, so a
/// persistence manager can hold one per entity and call it before each write.
/// Compiled patterns are shared by all validators of `T` and all threads.
template <entity T>
class validator {
 public:
  using entity_type = T;

  /// Returns `ormkit::check(entity)`.
  [[nodiscard]] auto operator()(const T& entity) const -> status { return ormkit::check(entity); }

  /// Returns `ormkit::check(entity)`.
  [[nodiscard]] auto check(const T& entity) const -> status { return ormkit::check(entity); }

  /// Returns `ormkit::validate(entity)`: the list without the summary.
  [[nodiscard]] auto validate(const T& entity) const -> std::vector<violation> {
    return ormkit::validate(entity);
  }

  /// Compiles every `rules::pattern` of `T` now instead of at first use.
  ///
  /// Throws: `ormkit::exception` (`errc::invalid_argument`) for an invalid
  /// pattern, so a manager that calls this when it is built fails at start-up.
  static void prepare() {
    for_each_column<T>([](const auto& column, auto column_index) {
      using rules_list = std::remove_cvref_t<decltype(column.rules)>;
      [&]<std::size_t... R>(std::index_sequence<R...>) {
        (
            [] {
              if constexpr (std::is_same_v<std::tuple_element_t<R, rules_list>, rules::pattern>)
                (void)detail::compiled_pattern<T, decltype(column_index)::value, R>();
            }(),
            ...);
      }(std::make_index_sequence<std::tuple_size_v<rules_list>>{});
    });
  }
};

}  // namespace ormkit
