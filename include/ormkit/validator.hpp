// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/validator.hpp
//
// Runs the rules of an entity's descriptor: column rules in declaration order,
// then entity rules, collecting every violation rather than stopping at the
// first. Messages are subject first and show the offending value, except for
// `secret` columns: `users.age: must be between 0 and 150 (got 200)`. For a
// secret column, nothing measured from the value is shown either: a rule with
// `check_redacted` (length, pattern) is asked for its problem through that.
//
// The validator knows no rule by name: a rule is anything with `check(value)`
// (see <ormkit/rules.hpp>). rules::pattern is in <ormkit/rules/pattern.hpp>,
// which an entity using it includes; this header stays free of <regex>.
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

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ormkit {

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

// A rule threw (rules::pattern with an invalid expression): rethrow with the
// column as subject, "users.code: rules::pattern ...".
[[noreturn]] inline void rethrow_for_column(std::string_view table, std::string_view column, const exception& e) {
  ormkit::error with_subject = e.error();
  std::string message;
  message.reserve(table.size() + column.size() + 3 + with_subject.message.size());
  message.append(table).append(".").append(column).append(": ").append(with_subject.message);
  with_subject.message = std::move(message);
  throw exception(std::move(with_subject));
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
    // encode, not encode_view: only reached on a violation, so an owned copy
    // costs nothing that matters.
    if (auto v = encode(member)) return to_display(*v);
  }
  // Not storable (e.g. a uint64 past the int64 range): still show integers.
  if constexpr (std::is_integral_v<M>) return std::to_string(member);
  if constexpr (is_nullable_v<M>) {
    if (member) return shown_value(*member);
  }
  return std::nullopt;
}

// For a secret column, a rule that can leave out what it measured (the length
// rule's ", not 5") is asked to.
template <class Rule, class V>
auto run_rule(const Rule& rule, const V& v, bool secret) -> std::optional<std::string> {
  if constexpr (requires { rule.check_redacted(v); }) {
    if (secret) return rule.check_redacted(v);
  }
  return rule.check(v);
}

template <class T, class Def, class Rule>
void apply_column_rule(const T& entity, std::string_view table, const Def& column, const Rule& rule,
                       std::vector<violation>& out) {
  using M = typename Def::member_type;
  const M& member = entity.*(column.member);
  const bool secret = column.has(column_flags::secret);
  std::optional<std::string> problem;
  try {
    if constexpr (is_nullable_v<M>) {
      // Rules check the contained value; NULL passes every rule but the ones
      // that exist to reject it (rules::not_empty).
      if (member) problem = run_rule(rule, *member, secret);
      else if constexpr (checks_null_v<Rule>) problem = std::string("must not be empty");
    } else {
      problem = run_rule(rule, member, secret);
    }
  } catch (const exception& e) {
    rethrow_for_column(table, column.name, e);
  }
  if (!problem) return;
  add_column_violation(out, table, column.name, rule_name_of(rule), *problem,
                       secret ? std::nullopt : shown_value(member));
}

template <class Rule>
void prepare_rule(std::string_view table, std::string_view column, const Rule& rule) {
  if constexpr (requires { rule.prepare(); }) {
    try {
      rule.prepare();
    } catch (const exception& e) {
      rethrow_for_column(table, column, e);
    }
  }
}

//=== entity rules ===//

template <class T, class F>
void apply_entity_rule(const T& entity, std::string_view table, const entity_rule<F>& rule,
                       std::vector<violation>& out) {
  using R = std::invoke_result_t<const F&, const T&>;
  if constexpr (std::is_same_v<std::remove_cvref_t<R>, bool>) {
    if (!rule.fn(entity)) add_entity_violation(out, table, rule.name, rule.message);
  } else {
    if (std::optional<std::string> problem(rule.fn(entity)); problem)
      add_entity_violation(out, table, rule.name, *problem);
  }
}

//=== compile-time checks: every rule fits what it checks ===//
//
// `validate<T>` asks these before it instantiates any rule, and skips the
// rules when one does not fit, so a misplaced rule is a single short error:
// the static_assert below or in the rule's `applies_to<V>()`. Variable
// templates rather than functions and lambdas keep the "required from" chain
// short (a few lines, not one per fold and lambda).

// The type rules check: the contained type of an optional column.
template <class M>
using checked_type = unwrap_optional<M>;

// Rules without `applies_to` (user-defined ones) fit every type.
template <class Rule, class V>
consteval auto rule_fits() -> bool {
  if constexpr (requires { Rule::template applies_to<V>(); }) return Rule::template applies_to<V>();
  else return true;
}

template <class V, class RuleList>
inline constexpr bool rules_fit_v = true;
template <class V, class Seq, class... Rules>
inline constexpr bool rules_fit_v<V, list_impl<Seq, Rules...>> = (rule_fits<Rules, V>() && ...);

template <class T, std::size_t C, class Def = std::remove_cvref_t<decltype(column_v<T, C>)>>
inline constexpr bool column_fits_v =
    rules_fit_v<typename checked_type<typename Def::member_type>::type, decltype(Def::rules)>;

template <class T, class Seq>
inline constexpr bool columns_fit_v = true;
template <class T, std::size_t... C>
inline constexpr bool columns_fit_v<T, std::index_sequence<C...>> = (column_fits_v<T, C> && ...);

template <class T, class F>
consteval auto check_fits() -> bool {
  if constexpr (!std::is_invocable_v<const F&, const T&>) {
    static_assert(std::is_invocable_v<const F&, const T&>,
                  "ormkit: an entity rule must be callable with `const Entity&`; change the rule's parameter type");
    return false;
  } else {
    using R = std::invoke_result_t<const F&, const T&>;
    constexpr bool fits =
        std::is_same_v<std::remove_cvref_t<R>, bool> || std::is_constructible_v<std::optional<std::string>, R>;
    static_assert(fits,
                  "ormkit: an entity rule must return bool (true = valid) or std::optional<std::string> "
                  "(the problem); change the rule's return type");
    return fits;
  }
}

template <class T, class CheckList>
inline constexpr bool checks_fit_v = true;
template <class T, class Seq, class... F>
inline constexpr bool checks_fit_v<T, list_impl<Seq, entity_rule<F>...>> = (check_fits<T, F>() && ...);

template <class T>
inline constexpr bool entity_rules_fit_v = columns_fit_v<T, std::make_index_sequence<column_count_v<T>>>&&
    checks_fit_v<T, std::remove_cvref_t<decltype(descriptor_of<T>.checks)>>;

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
/// Requires: `T` is an entity; each column rule applies to its column's type
/// (`rules::email` to text, `rules::range` to numbers, ...) and each entity
/// rule takes `const T&` and returns bool or std::optional<std::string>. A
/// static_assert says which does not, before any rule is instantiated.
/// Throws: what a rule throws, its message prefixed with `<table>.<column>: `
/// when it is an `ormkit::exception`; the built-in rules throw only for a
/// `rules::pattern` that is not a valid regular expression (`errc::invalid_argument`,
/// naming the pattern). This is a programmer error; `validator<T>::prepare()`
/// surfaces it at start-up.
///
/// A valid entity costs no allocation here (std::regex_match may allocate).
template <entity T>
[[nodiscard]] auto validate(const T& entity) -> std::vector<violation> {
  std::vector<violation> out;
  if constexpr (detail::entity_rules_fit_v<T>) {  // otherwise a static_assert has said why
    constexpr std::string_view table = descriptor_of<T>.table;
    for_each_column<T>([&](const auto& column, auto) {
      detail::apply([&](const auto&... rule) { (detail::apply_column_rule(entity, table, column, rule, out), ...); },
                    column.rules);
    });
    detail::apply([&](const auto&... rule) { (detail::apply_entity_rule(entity, table, rule, out), ...); },
                  descriptor_of<T>.checks);
  }
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
/// Compiled patterns are shared by every entity, column and thread.
template <entity T>
class validator {
 public:
  using entity_type = T;

  /// Returns `ormkit::check(entity)`.
  [[nodiscard]] auto operator()(const T& entity) const -> status { return ormkit::check(entity); }

  /// Returns `ormkit::check(entity)`.
  [[nodiscard]] auto check(const T& entity) const -> status { return ormkit::check(entity); }

  /// Returns `ormkit::validate(entity)`: the list without the summary.
  [[nodiscard]] auto validate(const T& entity) const -> std::vector<violation> { return ormkit::validate(entity); }

  /// Does now what the rules of `T` would otherwise do at first use: calls
  /// `prepare()` on every column rule that has one, so `rules::pattern`
  /// compiles its expression (once per process).
  ///
  /// Throws: `ormkit::exception` (`errc::invalid_argument`) for an invalid
  /// pattern, naming the column, so a manager that calls this when it is built
  /// fails at start-up.
  static void prepare() {
    constexpr std::string_view table = descriptor_of<T>.table;
    for_each_column<T>([&](const auto& column, auto) {
      detail::apply([&](const auto&... rule) { (detail::prepare_rule(table, column.name, rule), ...); }, column.rules);
    });
  }
};

}  // namespace ormkit
