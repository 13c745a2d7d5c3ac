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

}  // namespace ormkit
