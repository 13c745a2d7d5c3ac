// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/value.hpp
//
// The backend boundary's values. `value` owns its data (memory backend, caches,
// JSON); `value_view` borrows it (binding an entity's members without copying:
// text and blobs point into the entity). Both hold one of the five SQL storage
// classes: null, integer (int64), real (double), text, blob.
//
// Example:
//
//   ormkit::value v = std::string("alice");
//   ormkit::value_view w = ormkit::view(v);   // points into v
//   ormkit::to_display(w);                    // "\"alice\""

#include <charconv>
#include <cmath>
#include <compare>
#include <cstring>
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ormkit {

/// The storage classes, in the order `value` and `value_view` hold them.
enum class storage { null = 0, integer = 1, real = 2, text = 3, blob = 4 };

using blob = std::vector<std::byte>;
using blob_view = std::span<const std::byte>;

/// An owning value.
using value = std::variant<std::monostate, std::int64_t, double, std::string, blob>;

/// A non-owning value; valid while the data it points into lives.
using value_view = std::variant<std::monostate, std::int64_t, double, std::string_view, blob_view>;

[[nodiscard]] inline auto storage_of(const value& v) noexcept -> storage {
  return static_cast<storage>(v.index());
}
[[nodiscard]] inline auto storage_of(const value_view& v) noexcept -> storage {
  return static_cast<storage>(v.index());
}

/// Returns a view of `v`.
[[nodiscard]] inline auto view(const value& v) noexcept -> value_view {
  switch (v.index()) {
    case 1: return std::get<1>(v);
    case 2: return std::get<2>(v);
    case 3: return std::string_view(std::get<3>(v));
    case 4: return blob_view(std::get<4>(v));
    default: return std::monostate{};
  }
}

/// Returns an owning copy of `v`.
[[nodiscard]] inline auto own(const value_view& v) -> value {
  switch (v.index()) {
    case 1: return std::get<1>(v);
    case 2: return std::get<2>(v);
    case 3: return std::string(std::get<3>(v));
    case 4: {
      auto b = std::get<4>(v);
      return blob(b.begin(), b.end());
    }
    default: return std::monostate{};
  }
}

/// Returns the SQL name of a storage class ("null", "integer", "real", "text", "blob").
[[nodiscard]] constexpr auto to_string(storage s) noexcept -> std::string_view {
  switch (s) {
    case storage::null: return "null";
    case storage::integer: return "integer";
    case storage::real: return "real";
    case storage::text: return "text";
    case storage::blob: return "blob";
  }
  return "?";
}

/// Renders `v` for an error message: `null`, `42`, `1.5`, `"text"`, `x'00ff'`.
/// Text longer than `max_chars` bytes and blobs longer than 16 bytes are cut with `...`
/// and the full size; control characters are escaped, so messages stay one line.
[[nodiscard]] inline auto to_display(const value_view& v, std::size_t max_chars = 64) -> std::string {
  switch (v.index()) {
    case 1: return std::to_string(std::get<1>(v));
    case 2: {
      char buf[32];
      auto r = std::to_chars(buf, buf + sizeof buf, std::get<2>(v));
      return std::string(buf, r.ptr);
    }
    case 3: {
      auto s = std::get<3>(v);
      std::string out = "\"";
      constexpr char hex[] = "0123456789abcdef";
      for (std::size_t i = 0; i < s.size() && i < max_chars; ++i) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
          out += '\\';
          out += static_cast<char>(c);
        } else if (c < 0x20 || c == 0x7f) {
          out += "\\x";
          out += hex[c >> 4];
          out += hex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
      }
      out += '"';
      if (s.size() > max_chars) out += "... (" + std::to_string(s.size()) + " bytes)";
      return out;
    }
    case 4: {
      auto b = std::get<4>(v);
      constexpr char hex[] = "0123456789abcdef";
      std::string out = "x'";
      for (std::size_t i = 0; i < b.size() && i < 16; ++i) {
        auto c = std::to_integer<unsigned>(b[i]);
        out += hex[c >> 4];
        out += hex[c & 15];
      }
      out += '\'';
      if (b.size() > 16) out += "... (" + std::to_string(b.size()) + " bytes)";
      return out;
    }
    default: return "null";
  }
}

[[nodiscard]] inline auto to_display(const value& v, std::size_t max_chars = 64) -> std::string {
  return to_display(view(v), max_chars);
}

//=== ordering ===//

namespace detail {

// Compares an int64 with a double exactly (no rounding of the integer to double).
inline auto compare_int_real(std::int64_t i, double d) -> std::partial_ordering {
  if (std::isnan(d)) return std::partial_ordering::unordered;
  if (d >= 9223372036854775808.0) return std::partial_ordering::less;
  if (d < -9223372036854775808.0) return std::partial_ordering::greater;
  auto t = static_cast<std::int64_t>(d);  // truncates toward zero; exact for |d| < 2^63
  if (i != t) return i <=> t;
  double frac = d - static_cast<double>(t);
  if (frac > 0) return std::partial_ordering::less;
  if (frac < 0) return std::partial_ordering::greater;
  return std::partial_ordering::equivalent;
}

inline auto sign(int c) -> std::strong_ordering { return c < 0 ? std::strong_ordering::less : c > 0 ? std::strong_ordering::greater : std::strong_ordering::equal; }

}  // namespace detail

/// Total order used by ORDER BY and indexes: NULL < numbers (int and real compared
/// by value, NaN after all others) < text (bytewise) < blob (bytewise).
inline auto order(const value_view& a, const value_view& b) -> std::strong_ordering {
  auto rank = [](const value_view& v) { return v.index() == 2 ? 1 : v.index() > 2 ? static_cast<int>(v.index()) - 1 : static_cast<int>(v.index()); };
  int ra = rank(a), rb = rank(b);
  if (ra != rb) return ra <=> rb;
  switch (a.index()) {
    case 0: return std::strong_ordering::equal;
    case 1:
    case 2: {
      // NaN sorts after every other number (as in PostgreSQL) and equals only NaN: the
      // order stays total (std::map keys, sorting) and `col == 1.0` never matches a NaN.
      const bool a_nan = a.index() == 2 && std::isnan(std::get<2>(a));
      const bool b_nan = b.index() == 2 && std::isnan(std::get<2>(b));
      if (a_nan || b_nan) return static_cast<int>(a_nan) <=> static_cast<int>(b_nan);
      std::partial_ordering p = std::partial_ordering::equivalent;
      if (a.index() == 1 && b.index() == 1) p = std::get<1>(a) <=> std::get<1>(b);
      else if (a.index() == 1) p = detail::compare_int_real(std::get<1>(a), std::get<2>(b));
      else if (b.index() == 1) p = 0 <=> detail::compare_int_real(std::get<1>(b), std::get<2>(a));
      else p = std::get<2>(a) <=> std::get<2>(b);
      if (p == std::partial_ordering::less) return std::strong_ordering::less;
      if (p == std::partial_ordering::greater) return std::strong_ordering::greater;
      return std::strong_ordering::equal;
    }
    case 3: return detail::sign(std::get<3>(a).compare(std::get<3>(b)));
    default: {
      auto x = std::get<4>(a), y = std::get<4>(b);
      auto n = std::min(x.size(), y.size());
      int c = n ? std::memcmp(x.data(), y.data(), n) : 0;
      if (c != 0) return detail::sign(c);
      return x.size() <=> y.size();
    }
  }
}

inline auto order(const value& a, const value& b) -> std::strong_ordering { return order(view(a), view(b)); }

/// Orders rows of values lexicographically with `order`; for std::map keys.
struct row_less {
  auto operator()(const std::vector<value>& a, const std::vector<value>& b) const -> bool {
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
      auto c = order(a[i], b[i]);
      if (c != 0) return c < 0;
    }
    return a.size() < b.size();
  }
};

}  // namespace ormkit
