// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/column_traits.hpp
//
// How one C++ type is stored in a column: the one trait to specialize for a
// user type. Built in: every integer width (unsigned checked against the
// int64 storage range), float/double, bool, std::string, byte vectors (blob),
// std::optional<T> (NULL), std::chrono::system_clock time points (microseconds
// since the Unix epoch, UTC), std::chrono durations (count of the duration's
// own ticks), and enums (their integer value, or text when the enum has an
// `ormkit_enum_names` hook). nlohmann::json and JSON-stored containers are in
// <ormkit/json.hpp>.
//
// A specialization provides (see `column_value` for the contract):
//
//   template <> struct ormkit::column_traits<money> {
//     static constexpr std::string_view name = "money";       // stable; feeds the schema hash
//     static constexpr ormkit::storage storage = ormkit::storage::integer;
//     static auto to_value(const money& m) -> ormkit::value { return m.cents; }
//     static auto from_value(ormkit::value_view v) -> ormkit::result<money> {
//       if (auto* i = std::get_if<std::int64_t>(&v)) return money{*i};
//       return ormkit::column_traits_mismatch("money", v);
//     }
//   };
//
// `to_value` may return `value` or `result<value>` (when some inputs cannot be
// stored). Optional members: `to_view(const T&) -> value_view` (borrow instead of
// copy), `sql_kind kind` (DDL hint; defaults from `storage`), and
// `to_json`/`from_json` templates used by <ormkit/json.hpp>.

#include <ormkit/fwd.hpp>
#include <ormkit/result.hpp>
#include <ormkit/value.hpp>

#include <array>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ormkit {

/// The column's logical type, which backends map to their SQL types.
enum class sql_kind { integer, boolean, real, text, blob, timestamp, json };

/// Primary template: deliberately empty. If you see an error mentioning
/// `column_traits<T>` or `column_value<T>`: ormkit does not know how to store `T`;
/// specialize `ormkit::column_traits<T>` (see the file comment), include
/// <ormkit/json.hpp> for JSON-stored containers, or mark the member transient.
template <class T, class Enable>
struct column_traits {
  static constexpr bool ormkit_unspecialized = true;
};

/// Returns the error a `from_value` reports when the stored class is not the
/// expected one: "expected integer for int32, got text \"abc\"".
[[nodiscard]] inline auto column_traits_mismatch(std::string_view type_name, storage expected,
                                                 const value_view& got) -> ormkit::error {
  std::string msg = "expected ";
  msg += to_string(expected);
  msg += " for ";
  msg += type_name;
  msg += ", got ";
  msg += to_string(storage_of(got));
  if (storage_of(got) != storage::null) {
    msg += ' ';
    msg += to_display(got, 32);
  }
  return {errc::invalid_argument, std::move(msg)};
}

namespace detail {

template <class T>
concept has_to_view = requires(const T& v) {
  { column_traits<T>::to_view(v) } -> std::convertible_to<value_view>;
};

template <class I>
constexpr auto integer_name() -> std::string_view {
  if constexpr (std::is_same_v<I, bool>) return "bool";
  else if constexpr (std::is_same_v<I, char>) return "char";
  else if constexpr (std::is_signed_v<I>) {
    if constexpr (sizeof(I) == 1) return "int8";
    else if constexpr (sizeof(I) == 2) return "int16";
    else if constexpr (sizeof(I) == 4) return "int32";
    else return "int64";
  } else {
    if constexpr (sizeof(I) == 1) return "uint8";
    else if constexpr (sizeof(I) == 2) return "uint16";
    else if constexpr (sizeof(I) == 4) return "uint32";
    else return "uint64";
  }
}

// Range-checked int64 -> I. Message names the type and the value.
template <class I>
auto narrow_integer(std::int64_t v) -> result<I> {
  if constexpr (std::is_signed_v<I>) {
    if (v < static_cast<std::int64_t>(std::numeric_limits<I>::min()) ||
        v > static_cast<std::int64_t>(std::numeric_limits<I>::max()))
      return unexpected(errc::invalid_argument,
                        "value " + std::to_string(v) + " is out of range for " + std::string(integer_name<I>()));
  } else {
    if (v < 0 || static_cast<std::uint64_t>(v) > static_cast<std::uint64_t>(std::numeric_limits<I>::max()))
      return unexpected(errc::invalid_argument,
                        "value " + std::to_string(v) + " is out of range for " + std::string(integer_name<I>()));
  }
  return static_cast<I>(v);
}

template <class I>
struct integer_column {
  static constexpr std::string_view name = integer_name<I>();
  static constexpr ormkit::storage storage = ormkit::storage::integer;
  static constexpr sql_kind kind = sql_kind::integer;

  static auto to_value(I v) -> result<value> {
    if constexpr (std::is_unsigned_v<I> && sizeof(I) >= sizeof(std::int64_t)) {
      if (v > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return unexpected(errc::invalid_argument, "value " + std::to_string(v) + " of " +
                                                      std::string(name) + " exceeds the int64 storage range");
    }
    return value(static_cast<std::int64_t>(v));
  }
  // Every value fits int64, so writes take the view path: no `value`, no result.
  static auto to_view(I v) -> value_view
    requires(!(std::is_unsigned_v<I> && sizeof(I) >= sizeof(std::int64_t)))
  {
    return static_cast<std::int64_t>(v);
  }
  static auto from_value(const value_view& v) -> result<I> {
    if (const auto* i = std::get_if<std::int64_t>(&v)) return narrow_integer<I>(*i);
    return column_traits_mismatch(name, storage, v);
  }
};

}  // namespace detail

//=== integers, bool, floating point ===//

template <class I>
  requires(std::is_integral_v<I> && !std::is_same_v<I, bool>)
struct column_traits<I> : detail::integer_column<I> {};

template <>
struct column_traits<bool> {
  static constexpr std::string_view name = "bool";
  static constexpr ormkit::storage storage = ormkit::storage::integer;
  static constexpr sql_kind kind = sql_kind::boolean;
  static auto to_value(bool v) -> value { return static_cast<std::int64_t>(v ? 1 : 0); }
  static auto to_view(bool v) -> value_view { return static_cast<std::int64_t>(v ? 1 : 0); }
  static auto from_value(const value_view& v) -> result<bool> {
    if (const auto* i = std::get_if<std::int64_t>(&v)) {
      if (*i == 0 || *i == 1) return *i == 1;
      return unexpected(errc::invalid_argument, "value " + std::to_string(*i) + " is not a bool (0 or 1)");
    }
    return column_traits_mismatch(name, storage, v);
  }
  template <class Json>
  static void to_json(Json& j, bool v) { j = v; }
  template <class Json>
  static auto from_json(const Json& j) -> result<bool> {
    if (j.is_boolean()) return j.template get<bool>();
    return unexpected(errc::invalid_argument, std::string("expected a boolean, got ") + j.type_name());
  }
};

template <std::floating_point F>
struct column_traits<F> {
  static constexpr std::string_view name = sizeof(F) == sizeof(float) ? "float32" : "float64";
  static constexpr ormkit::storage storage = ormkit::storage::real;
  static constexpr sql_kind kind = sql_kind::real;
  static auto to_value(F v) -> value { return static_cast<double>(v); }
  static auto to_view(F v) -> value_view { return static_cast<double>(v); }
  static auto from_value(const value_view& v) -> result<F> {
    double d = 0;
    if (const auto* r = std::get_if<double>(&v)) d = *r;
    else if (const auto* i = std::get_if<std::int64_t>(&v)) d = static_cast<double>(*i);
    else return column_traits_mismatch(name, storage, v);
    if constexpr (sizeof(F) < sizeof(double)) {
      if (std::isfinite(d) && std::fabs(d) > static_cast<double>(std::numeric_limits<F>::max()))
        return unexpected(errc::invalid_argument, "value " + to_display(value_view(d)) + " is out of range for float32");
    }
    return static_cast<F>(d);
  }
};

//=== text and blobs ===//

template <>
struct column_traits<std::string> {
  static constexpr std::string_view name = "string";
  static constexpr ormkit::storage storage = ormkit::storage::text;
  static constexpr sql_kind kind = sql_kind::text;
  static auto to_value(const std::string& s) -> value { return s; }
  static auto to_view(const std::string& s) -> value_view { return std::string_view(s); }
  static auto from_value(const value_view& v) -> result<std::string> {
    if (const auto* s = std::get_if<std::string_view>(&v)) return std::string(*s);
    return column_traits_mismatch(name, storage, v);
  }
};

namespace detail {
template <class B>
struct byte_vector_column {
  static constexpr std::string_view name = "bytes";
  static constexpr ormkit::storage storage = ormkit::storage::blob;
  static constexpr sql_kind kind = sql_kind::blob;
  static auto to_value(const std::vector<B>& b) -> value {
    const auto* p = reinterpret_cast<const std::byte*>(b.data());
    return blob(p, p + b.size());
  }
  static auto to_view(const std::vector<B>& b) -> value_view {
    return blob_view(reinterpret_cast<const std::byte*>(b.data()), b.size());
  }
  static auto from_value(const value_view& v) -> result<std::vector<B>> {
    if (const auto* b = std::get_if<blob_view>(&v)) {
      const auto* p = reinterpret_cast<const B*>(b->data());
      return std::vector<B>(p, p + b->size());
    }
    return column_traits_mismatch(name, storage, v);
  }
};
}  // namespace detail

template <>
struct column_traits<std::vector<std::byte>> : detail::byte_vector_column<std::byte> {};
template <>
struct column_traits<std::vector<unsigned char>> : detail::byte_vector_column<unsigned char> {};

//=== std::optional: NULL ===//

template <class T>
struct column_traits<std::optional<T>> {
  static_assert(!requires { column_traits<T>::ormkit_unspecialized; },
                "ormkit: std::optional<T> column whose T has no column_traits; specialize ormkit::column_traits<T>");
  using inner = column_traits<T>;
  static constexpr std::string_view name = inner::name;  // nullability is hashed separately
  static constexpr ormkit::storage storage = inner::storage;
  static constexpr bool nullable = true;

  static auto to_value(const std::optional<T>& v) -> result<value> {
    if (!v) return value{};
    return inner::to_value(*v);
  }
  static auto to_view(const std::optional<T>& v) -> value_view
    requires detail::has_to_view<T>
  {
    if (!v) return std::monostate{};
    return inner::to_view(*v);
  }
  static auto from_value(const value_view& v) -> result<std::optional<T>> {
    if (std::holds_alternative<std::monostate>(v)) return std::optional<T>{};
    auto r = inner::from_value(v);
    if (!r) return std::move(r).error();
    return std::optional<T>(std::move(*r));
  }
};

//=== std::chrono ===//

template <class Duration>
struct column_traits<std::chrono::time_point<std::chrono::system_clock, Duration>> {
  using type = std::chrono::time_point<std::chrono::system_clock, Duration>;
  static constexpr std::string_view name = "timestamp_us";
  static constexpr ormkit::storage storage = ormkit::storage::integer;
  static constexpr sql_kind kind = sql_kind::timestamp;
  /// Stores microseconds since 1970-01-01 UTC; finer parts are dropped (floor).
  static auto to_value(const type& t) -> value {
    return static_cast<std::int64_t>(
        std::chrono::floor<std::chrono::microseconds>(t.time_since_epoch()).count());
  }
  static auto to_view(const type& t) -> value_view {
    return static_cast<std::int64_t>(
        std::chrono::floor<std::chrono::microseconds>(t.time_since_epoch()).count());
  }
  static auto from_value(const value_view& v) -> result<type> {
    if (const auto* i = std::get_if<std::int64_t>(&v)) {
      // A finer clock (nanoseconds) covers only about +-292 years: refuse what would wrap.
      using wide = std::chrono::duration<long double, typename Duration::period>;
      const auto as_wide = std::chrono::duration_cast<wide>(std::chrono::duration<long double, std::micro>(*i));
      if (as_wide.count() > static_cast<long double>(std::numeric_limits<typename Duration::rep>::max()) ||
          as_wide.count() < static_cast<long double>(std::numeric_limits<typename Duration::rep>::min()))
        return unexpected(errc::invalid_argument,
                          "timestamp " + std::to_string(*i) + " us is out of range for this time point type");
      return type(std::chrono::duration_cast<Duration>(std::chrono::microseconds(*i)));
    }
    return column_traits_mismatch(name, storage, v);
  }
};

template <class Rep, class Period>
struct column_traits<std::chrono::duration<Rep, Period>> {
  using type = std::chrono::duration<Rep, Period>;
  static constexpr std::string_view name = "duration";
  static constexpr ormkit::storage storage =
      std::is_floating_point_v<Rep> ? ormkit::storage::real : ormkit::storage::integer;
  static constexpr sql_kind kind = std::is_floating_point_v<Rep> ? sql_kind::real : sql_kind::integer;
  /// Stores `d.count()`: ticks of the duration's own period.
  static auto to_value(const type& d) -> result<value> {
    if constexpr (std::is_floating_point_v<Rep>) return value(static_cast<double>(d.count()));
    else return column_traits<Rep>::to_value(d.count());
  }
  static auto from_value(const value_view& v) -> result<type> {
    auto r = column_traits<Rep>::from_value(v);
    if (!r) return std::move(r).error();
    return type(*r);
  }
};

//=== enums ===//

/// ADL hook for enums stored as text:
///
///   enum class color { red, green };
///   constexpr auto ormkit_enum_names(std::type_identity<color>) {
///     return std::array{std::pair{color::red, std::string_view("red")},
///                       std::pair{color::green, std::string_view("green")}};
///   }
template <class E>
concept enum_with_names = std::is_enum_v<E> && requires { ormkit_enum_names(std::type_identity<E>{}); };

template <class E>
  requires std::is_enum_v<E>
struct column_traits<E> {
  using underlying = std::underlying_type_t<E>;
  static constexpr bool as_text = enum_with_names<E>;
  static constexpr std::string_view name = as_text ? "enum_text" : "enum_int";
  static constexpr ormkit::storage storage = as_text ? ormkit::storage::text : ormkit::storage::integer;
  static constexpr sql_kind kind = as_text ? sql_kind::text : sql_kind::integer;

  // No `to_view`: it could not report a value without a name (a view has no
  // error), so `encode_view` copies the name through `to_value`, which does.
  static auto to_value(E e) -> result<value> {
    if constexpr (as_text) {
      for (const auto& [k, n] : ormkit_enum_names(std::type_identity<E>{}))
        if (k == e) return value(std::string(n));
      return unexpected(errc::invalid_argument, "enum value " + std::to_string(static_cast<long long>(e)) +
                                                    " has no name in ormkit_enum_names");
    } else {
      return column_traits<underlying>::to_value(static_cast<underlying>(e));
    }
  }
  static auto from_value(const value_view& v) -> result<E> {
    if constexpr (as_text) {
      if (const auto* s = std::get_if<std::string_view>(&v)) {
        for (const auto& [k, n] : ormkit_enum_names(std::type_identity<E>{}))
          if (n == *s) return k;
        return unexpected(errc::invalid_argument, "unknown enum name " + to_display(v, 32));
      }
      return column_traits_mismatch(name, storage, v);
    } else {
      auto r = column_traits<underlying>::from_value(v);
      if (!r) return std::move(r).error();
      return static_cast<E>(*r);
    }
  }
};

//=== the contract ===//

/// `T` can be stored in a column.
///
/// Requires of `column_traits<T>`:
/// - `name`: a `std::string_view` constant, stable across builds (hashed into the schema hash);
/// - `storage`: the `ormkit::storage` class it uses;
/// - `to_value(const T&)` returning `value` or `result<value>`;
/// - `from_value(value_view)` returning `result<T>`.
template <class T>
concept column_value = requires(const T& v, const value_view& w) {
  { column_traits<T>::name } -> std::convertible_to<std::string_view>;
  { column_traits<T>::storage } -> std::convertible_to<storage>;
  column_traits<T>::to_value(v);
  { column_traits<T>::from_value(w) } -> std::same_as<result<T>>;
};

/// True for `std::optional<T>` columns (NULL allowed).
template <class T>
inline constexpr bool is_nullable_v = false;
template <class T>
inline constexpr bool is_nullable_v<std::optional<T>> = true;

namespace detail {
// M, or the contained type of std::optional<M>: what rules check and queries compare.
template <class M>
struct unwrap_optional {
  using type = M;
};
template <class M>
struct unwrap_optional<std::optional<M>> {
  using type = M;
};
}  // namespace detail

/// The logical type of `T`'s column.
template <class T>
constexpr auto sql_kind_of() -> sql_kind {
  if constexpr (is_nullable_v<T>) return sql_kind_of<typename T::value_type>();
  else if constexpr (requires { column_traits<T>::kind; }) return column_traits<T>::kind;
  else {
    switch (column_traits<T>::storage) {
      case storage::integer: return sql_kind::integer;
      case storage::real: return sql_kind::real;
      case storage::blob: return sql_kind::blob;
      default: return sql_kind::text;
    }
  }
}

/// Encodes `v` through its trait; always a `result<value>`.
template <column_value T>
auto encode(const T& v) -> result<value> {
  return column_traits<T>::to_value(v);
}

/// Encodes `v` as a view when the trait can borrow, otherwise into `scratch`.
template <column_value T>
auto encode_view(const T& v, value& scratch) -> result<value_view> {
  if constexpr (detail::has_to_view<T>) {
    return column_traits<T>::to_view(v);
  } else {
    auto r = encode(v);
    if (!r) return std::move(r).error();
    scratch = std::move(*r);
    return view(scratch);
  }
}

/// Decodes `v` through `T`'s trait.
template <column_value T>
auto decode(const value_view& v) -> result<T> {
  return column_traits<T>::from_value(v);
}

}  // namespace ormkit
