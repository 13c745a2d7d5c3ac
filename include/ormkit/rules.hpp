// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/rules.hpp
//
// Column rules attached in a descriptor: not_empty, length, range, email,
// one_of, uuid, custom. Each rule's `check(value)` returns the problem
// ("must not be empty") or nothing; the validator adds the subject
// ("users.name: ") and, unless the column is `secret`, the value.
// A rule on a `std::optional` column checks the contained value and skips
// NULL, except `not_empty`, which rejects NULL.
//
// rules::pattern (regular expressions) is in <ormkit/rules/pattern.hpp>, which
// this header does not include: <regex> is expensive to compile. Without that
// include, `ormkit::rules::pattern` is a plain "'pattern' is not a member of
// 'ormkit::rules'" (GCC; Clang: "no member named 'pattern'").
//
// Optional members a rule may have, which the validator uses when present:
// - `static consteval applies_to<V>() -> bool`: a static_assert in it says
//   why the rule cannot check a `V` (email on an int column); the validator
//   asks it for every column before instantiating any check, so a misplaced
//   rule is one short error;
// - `check_redacted(value)`: the problem without anything measured from the
//   value (length: "..., not 5"); used for `secret` columns;
// - `prepare()`: work to do once up front (pattern compiles its expression);
//   called by `validator<T>::prepare()`;
// - `checks_null = true`: NULL in an optional column fails the rule ("must
//   not be empty") rather than passing it.
//
// Example:
//
//   .column(&user::email, "email", ormkit::rules::email{})
//   .column(&user::name, "name", ormkit::rules::length{1, 64})
//   .column(&user::role, "role", ormkit::rules::one_of{"admin", "member"})

#include <array>
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <utility>

namespace ormkit::rules {

/// Marker every rule carries; lets descriptors tell rules from attributes.
struct rule_tag {};

namespace detail {
// Returns the number of UTF-8 code points, or nullopt for invalid UTF-8
// (overlong forms, surrogates and values past U+10FFFF are invalid).
constexpr auto utf8_length(std::string_view s) -> std::optional<std::size_t> {
  std::size_t n = 0;
  for (std::size_t i = 0; i < s.size(); ++n) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    if (len == 0 || i + len > s.size()) return std::nullopt;
    std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1fu) : len == 3 ? (c & 0x0fu) : (c & 0x07u);
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2) return std::nullopt;
      cp = (cp << 6) | (cc & 0x3fu);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return std::nullopt;
    i += len;
  }
  return n;
}

template <class T>
concept string_like = std::is_convertible_v<const T&, std::string_view>;

template <class T>
concept sized_range = requires(const T& v) {
  v.empty();
  v.size();
};

// Shortest decimal that reads back to the same value ("1e-07", "0.1", "2.5").
template <class F>
auto num_real(F v) -> std::string {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  if (ec != std::errc()) return std::to_string(static_cast<long double>(v));  // not reached for IEEE types
  return std::string(buf, end);
}

template <class N>
auto num_any(N v) -> std::string {
  if constexpr (std::is_floating_point_v<N>) return num_real(v);
  else if constexpr (std::is_signed_v<N>) return std::to_string(static_cast<std::int64_t>(v));
  else return std::to_string(static_cast<std::uint64_t>(v));
}

template <class A, class B>
constexpr auto less(const A& a, const B& b) -> bool {
  if constexpr (std::is_integral_v<A> && std::is_integral_v<B>) return std::cmp_less(a, b);
  else return static_cast<long double>(a) < static_cast<long double>(b);
}
}  // namespace detail

/// Rejects empty strings and containers, and NULL.
struct not_empty : rule_tag {
  static constexpr std::string_view rule_name = "not_empty";
  static constexpr bool checks_null = true;

  /// True: a static_assert explains when the rule cannot check a `V`.
  template <class V>
  static consteval auto applies_to() -> bool {
    constexpr bool fits = detail::string_like<V> || detail::sized_range<V>;
    static_assert(fits, "ormkit: rules::not_empty applies to strings and containers; use rules::range for numbers");
    return fits;
  }

  template <class V>
  [[nodiscard]] constexpr auto check(const V& v) const -> std::optional<std::string> {
    if constexpr (!applies_to<V>()) {
      return std::nullopt;
    } else if constexpr (detail::string_like<V>) {
      if (std::string_view(v).empty()) return "must not be empty";
    } else {
      if (v.empty()) return "must not be empty";
    }
    return std::nullopt;
  }
};

/// Length in characters (UTF-8 code points) for text, elements for containers; inclusive.
struct length : rule_tag {
  static constexpr std::string_view rule_name = "length";
  std::size_t min = 0;
  std::size_t max = static_cast<std::size_t>(-1);
  constexpr length(std::size_t min_length, std::size_t max_length) : min(min_length), max(max_length) {}

  /// True: a static_assert explains when the rule cannot check a `V`.
  template <class V>
  static consteval auto applies_to() -> bool {
    constexpr bool fits = detail::string_like<V> || detail::sized_range<V>;
    static_assert(fits, "ormkit: rules::length applies to strings and containers; use rules::range for numbers");
    return fits;
  }

  /// Returns "must be between 2 and 4 characters long, not 5" (or "must have
  /// ... elements, not 5"), "must be valid UTF-8", or nothing.
  template <class V>
  [[nodiscard]] auto check(const V& v) const -> std::optional<std::string> {
    if constexpr (applies_to<V>()) return problem(v, true);
    else return std::nullopt;
  }

  /// As `check`, without the measured length (", not 5"): for `secret` columns.
  template <class V>
  [[nodiscard]] auto check_redacted(const V& v) const -> std::optional<std::string> {
    if constexpr (applies_to<V>()) return problem(v, false);
    else return std::nullopt;
  }

 private:
  template <class V>
  auto problem(const V& v, bool measured) const -> std::optional<std::string> {
    std::size_t n = 0;
    if constexpr (detail::string_like<V>) {
      auto counted = detail::utf8_length(std::string_view(v));
      if (!counted) return std::string("must be valid UTF-8");
      n = *counted;
    } else {
      n = v.size();
    }
    if (n >= min && n <= max) return std::nullopt;
    // ", not N" rather than "(got N)": the validator appends "(got <value>)" itself.
    constexpr bool text = detail::string_like<V>;
    std::string msg = text ? "must be " : "must have ";
    if (max == static_cast<std::size_t>(-1)) msg += "at least " + std::to_string(min);
    else msg += "between " + std::to_string(min) + " and " + std::to_string(max);
    msg += text ? " characters long" : " elements";
    if (measured) msg += ", not " + std::to_string(n);
    return msg;
  }
};

/// Inclusive numeric range; compares without integer promotion surprises (std::cmp_less).
template <class N>
struct range : rule_tag {
  static_assert(std::is_arithmetic_v<N>, "ormkit: rules::range bounds must be numbers");
  static constexpr std::string_view rule_name = "range";
  N min;
  N max;
  constexpr range(N lo, N hi) : min(lo), max(hi) {}

  /// True: a static_assert explains when the rule cannot check a `V`.
  template <class V>
  static consteval auto applies_to() -> bool {
    constexpr bool fits = std::is_arithmetic_v<V>;
    static_assert(fits, "ormkit: rules::range applies to numeric columns; use rules::length for text");
    return fits;
  }

  template <class V>
  [[nodiscard]] auto check(const V& v) const -> std::optional<std::string> {
    if constexpr (applies_to<V>()) {
      bool ok = !detail::less(v, min) && !detail::less(max, v);
      if constexpr (std::is_floating_point_v<V>) ok = ok && v == v;  // NaN compares false both ways
      if (!ok) return "must be between " + detail::num_any(min) + " and " + detail::num_any(max);
    }
    return std::nullopt;
  }
};
template <class A, class B>
range(A, B) -> range<std::common_type_t<A, B>>;

/// A pragmatic address check: one '@', a non-empty local part without spaces,
/// a dotted domain of letters, digits and hyphens, at most 254 bytes.
struct email : rule_tag {
  static constexpr std::string_view rule_name = "email";

  /// True: a static_assert explains when the rule cannot check a `V`.
  template <class V>
  static consteval auto applies_to() -> bool {
    constexpr bool fits = detail::string_like<V>;
    static_assert(fits, "ormkit: rules::email applies to text columns");
    return fits;
  }

  template <class V>
  [[nodiscard]] constexpr auto check(const V& value) const -> std::optional<std::string> {
    if constexpr (applies_to<V>()) {
      if (!valid(std::string_view(value))) return std::string("must be a valid e-mail address");
    }
    return std::nullopt;
  }

  /// The check itself, on any text.
  [[nodiscard]] static constexpr auto valid(std::string_view s) -> bool {
    auto at = s.find('@');
    bool ok = s.size() <= 254 && at != std::string_view::npos && at > 0 && at <= 64 &&
              s.find('@', at + 1) == std::string_view::npos;
    if (ok) {
      auto local = s.substr(0, at);
      auto domain = s.substr(at + 1);
      for (char c : local)
        if (static_cast<unsigned char>(c) <= ' ' || c == '"' || c == '(' || c == ')' || c == ',' || c == ':' ||
            c == ';' || c == '<' || c == '>' || c == '[' || c == ']' || c == '\\')
          ok = false;
      if (local.front() == '.' || local.back() == '.') ok = false;
      auto dot = domain.rfind('.');
      if (dot == std::string_view::npos || dot == 0 || dot + 2 > domain.size()) ok = false;
      std::size_t label = 0;
      for (char c : domain) {
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (c == '.') {
          if (label == 0) ok = false;
          label = 0;
        } else if (alnum || c == '-') {
          ++label;
        } else {
          ok = false;
        }
      }
      if (label == 0) ok = false;
    }
    return ok;
  }
};

/// The value must equal one of the listed values.
template <class V, std::size_t N>
struct one_of : rule_tag {
  static constexpr std::string_view rule_name = "one_of";
  std::array<V, N> allowed;

  // A constructor, because the rule_tag base makes `one_of{"a", "b"}` try to
  // initialize the base from "a" under aggregate initialization.
  template <class... A>
    requires(sizeof...(A) == N)
  constexpr one_of(const A&... values) : allowed{V(values)...} {}  // NOLINT: implicit for brace init

  /// True: a static_assert explains when the rule cannot check a `T`.
  template <class T>
  static consteval auto applies_to() -> bool {
    constexpr bool fits = detail::string_like<V> ? detail::string_like<T> : requires(const T& t, const V& a) {
      t == a;
    };
    static_assert(fits,
                  "ormkit: rules::one_of values must compare with the column's values: text for a text column, "
                  "numbers or enumerators for the others");
    return fits;
  }

  template <class T>
  [[nodiscard]] auto check(const T& v) const -> std::optional<std::string> {
    if constexpr (!applies_to<T>()) {
      return std::nullopt;
    } else {
      for (const auto& a : allowed) {
        if constexpr (detail::string_like<T>) {
          if (std::string_view(v) == std::string_view(a)) return std::nullopt;
        } else {
          if (v == a) return std::nullopt;
        }
      }
      std::string msg = "must be one of ";
      for (std::size_t i = 0; i < N; ++i) {
        if (i) msg += ", ";
        if constexpr (detail::string_like<V>) msg += std::string_view(allowed[i]);
        else if constexpr (std::is_arithmetic_v<V>) msg += detail::num_any(allowed[i]);
        else msg += std::to_string(static_cast<long long>(allowed[i]));
      }
      return msg;
    }
  }
};
template <class First, class... Rest>
one_of(First, Rest...)
    -> one_of<std::conditional_t<detail::string_like<First>, std::string_view, First>, 1 + sizeof...(Rest)>;

/// Canonical textual UUID: 8-4-4-4-12 hexadecimal digits, either case.
struct uuid : rule_tag {
  static constexpr std::string_view rule_name = "uuid";

  /// True: a static_assert explains when the rule cannot check a `V`.
  template <class V>
  static consteval auto applies_to() -> bool {
    constexpr bool fits = detail::string_like<V>;
    static_assert(fits, "ormkit: rules::uuid applies to text columns");
    return fits;
  }

  template <class V>
  [[nodiscard]] constexpr auto check(const V& value) const -> std::optional<std::string> {
    if constexpr (applies_to<V>()) {
      if (!valid(std::string_view(value))) return std::string("must be a UUID (8-4-4-4-12 hex digits)");
    }
    return std::nullopt;
  }

  /// The check itself, on any text.
  [[nodiscard]] static constexpr auto valid(std::string_view s) -> bool {
    bool ok = s.size() == 36;
    for (std::size_t i = 0; ok && i < s.size(); ++i) {
      char c = s[i];
      if (i == 8 || i == 13 || i == 18 || i == 23) ok = c == '-';
      else ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }
    return ok;
  }
};

/// A user predicate: `fn(value)` returns bool (true = valid) or
/// `std::optional<std::string>` (the problem). `name` names the rule in violations.
template <class F>
struct custom : rule_tag {
  F fn;
  std::string_view name;
  std::string_view message = "is not valid";
  constexpr custom(F f, std::string_view rule_name) : fn(f), name(rule_name) {}
  constexpr custom(F f, std::string_view rule_name, std::string_view problem)
      : fn(f), name(rule_name), message(problem) {}

  /// True: a static_assert explains when `fn` cannot check a `V`.
  template <class V>
  static consteval auto applies_to() -> bool {
    if constexpr (!std::is_invocable_v<const F&, const V&>) {
      static_assert(std::is_invocable_v<const F&, const V&>,
                    "ormkit: a rules::custom function must be callable with the column's value (for a "
                    "std::optional column, the contained type); change its parameter type");
      return false;
    } else {
      using R = std::invoke_result_t<const F&, const V&>;
      constexpr bool fits =
          std::is_same_v<std::remove_cvref_t<R>, bool> || std::is_constructible_v<std::optional<std::string>, R>;
      static_assert(fits,
                    "ormkit: a rules::custom function must return bool (true = valid) or "
                    "std::optional<std::string> (the problem); change its return type");
      return fits;
    }
  }

  template <class V>
  [[nodiscard]] auto check(const V& v) const -> std::optional<std::string> {
    if constexpr (!applies_to<V>()) {
      return std::nullopt;
    } else if constexpr (std::is_same_v<std::remove_cvref_t<decltype(fn(v))>, bool>) {
      if (fn(v)) return std::nullopt;
      return std::string(message);
    } else {
      return std::optional<std::string>(fn(v));
    }
  }
};

}  // namespace ormkit::rules
