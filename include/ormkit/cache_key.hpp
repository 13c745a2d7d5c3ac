// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/cache_key.hpp
//
// Stable cache keys: "<namespace>:<table>:<schema-hash>:<pk>[:<pk>...]". The
// schema hash (16 hex digits of `schema_hash_v<T>`) retires every cached entry
// of an entity whose columns change. Keys for query results are composed with
// `cache_key_builder`, one segment at a time, in the style of AbslHashValue.
//
// Example:
//
//   ormkit::cache_key_of(user{.id = 42});               // "ormkit:users:<16 hex digits>:42"
//   ormkit::cache_key<membership>({"acme", 7}, "app");  // "app:memberships:<hash>:acme:7"
//   ormkit::cache_key_builder("app").add_entity<user>().add("by_age").add(30).str();
//       // "app:users:<hash>:by_age:30"

#include <ormkit/column_traits.hpp>
#include <ormkit/describe.hpp>
#include <ormkit/entity.hpp>
#include <ormkit/error.hpp>
#include <ormkit/value.hpp>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace ormkit {

namespace detail {
// Types known to borrow (strings, byte vectors): encoded without a copy. Every
// other type goes through `to_value`, whose errors are the authoritative ones.
template <class V>
inline constexpr bool borrows_safely =
    std::is_same_v<V, std::string> || std::is_same_v<V, std::vector<std::byte>> ||
    std::is_same_v<V, std::vector<unsigned char>>;
template <class V>
inline constexpr bool borrows_safely<std::optional<V>> = borrows_safely<V>;
}  // namespace detail

/// The namespace segment keys start with unless the caller names another.
inline constexpr std::string_view default_cache_namespace = "ormkit";

/// Appends segments to a key, separated by ':'.
///
/// Encoding of one segment, chosen so that two different segment lists can
/// never produce the same key (a key decodes back to its segments, reading
/// `\` plus the next byte as one unit):
/// - text (and the namespace): the bytes as they are, with `\` written `\\`
///   and `:` written `\:`;
/// - integers: decimal (`-7`); bool: `0` / `1`;
/// - reals: the shortest decimal that reads back to the same double
///   (`std::to_chars`), so `0.1` is `0.1`; `-0` is written `0`, since SQL
///   finds the same row for both;
/// - blobs: lowercase hex, two digits per byte;
/// - NULL (an empty `std::optional`, a null `const char*`): `\0`, which no
///   escaped text can produce (an escaped `\` is always followed by `\` or `:`).
///
/// Segments carry no type tag. Entity keys need none: a key starts with the
/// table and schema hash, and within one schema each key column has one type,
/// so two keys of one entity only ever compare values of the same type. A
/// hand-built key should likewise start with a segment naming its shape (a
/// query name), since `add(1)` and `add("1")` write the same segment.
///
/// Keys are stable across runs, builds and platforms: no pointers, no
/// `std::hash`, nothing locale-dependent.
class cache_key_builder {
 public:
  /// Starts a key with the namespace segment `ns`.
  explicit cache_key_builder(std::string_view ns = default_cache_namespace) {
    key_.reserve(64);  // typical keys fit; avoids regrowth on the read path
    append_escaped(ns);
  }

  /// Appends a text segment.
  auto add(std::string_view text) -> cache_key_builder& {
    key_ += ':';
    append_escaped(text);
    return *this;
  }

  /// Appends a text segment; a null pointer appends NULL.
  auto add(const char* text) -> cache_key_builder& {
    if (text == nullptr) {
      key_ += ":\\0";
      return *this;
    }
    return add(std::string_view(text));
  }

  /// Appends `v` in its stored form (through `column_traits<V>`), so a key
  /// segment matches what the backend stores for the same value.
  ///
  /// Requires: `V` is a `column_value`.
  /// Throws: `ormkit::exception` (`errc::invalid_argument`) when the trait
  /// cannot encode `v` (a text enum value without a name, or a custom trait's
  /// error); such a value cannot be stored either.
  template <column_value V>
  auto add(const V& v) -> cache_key_builder& {
    key_ += ':';
    if constexpr (std::is_integral_v<V> && !std::is_same_v<V, bool>) {
      // Directly, not through encode: every integer (even a uint64 past the
      // int64 storage range) gets its own decimal, and no scratch value.
      append_integer(v);
    } else if constexpr (detail::borrows_safely<V>) {
      value scratch;  // unused: these traits always borrow
      auto encoded = encode_view(v, scratch);
      if (!encoded) fail(std::move(encoded).error());
      append_value(*encoded);
    } else {
      auto encoded = encode(v);
      if (!encoded) fail(std::move(encoded).error());
      append_value(view(*encoded));
    }
    return *this;
  }

  /// Appends the table and the schema hash of `T`: the prefix of every key of
  /// `T`, so `cache_key_builder(ns).add_entity<T>().add(pk).str() == cache_key<T>(pk, ns)`.
  template <entity T>
  auto add_entity() -> cache_key_builder& {
    add(descriptor_of<T>.table);
    key_ += ':';
    append_hex(schema_hash_v<T>);
    return *this;
  }

  /// Returns the key built so far.
  [[nodiscard]] auto str() const& noexcept -> const std::string& { return key_; }
  [[nodiscard]] auto str() && noexcept -> std::string { return std::move(key_); }

 private:
  [[noreturn]] static void fail(error e) {
    e.message.insert(0, "cache key: ");
    throw exception(std::move(e));
  }

  void append_escaped(std::string_view text) {
    for (char c : text) {
      if (c == '\\' || c == ':') key_ += '\\';
      key_ += c;
    }
  }

  template <class I>
  void append_integer(I v) {
    char buf[24];  // 20 digits and a sign
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    key_.append(buf, r.ptr);
  }

  void append_hex(std::uint64_t v) {
    constexpr char digits[] = "0123456789abcdef";
    char buf[16];
    for (int i = 15; i >= 0; --i, v >>= 4) buf[i] = digits[v & 15u];
    key_.append(buf, sizeof buf);
  }

  void append_value(const value_view& v) {
    switch (storage_of(v)) {
      case storage::null: key_ += "\\0"; break;
      case storage::integer: append_integer(std::get<std::int64_t>(v)); break;
      case storage::real: {
        char buf[32];  // the shortest round-trip form of a double needs at most 24
        const double d = std::get<double>(v);
        auto r = std::to_chars(buf, buf + sizeof buf, d == 0 ? 0.0 : d);
        key_.append(buf, r.ptr);
        break;
      }
      case storage::text: append_escaped(std::get<std::string_view>(v)); break;
      case storage::blob: {
        constexpr char digits[] = "0123456789abcdef";
        for (std::byte b : std::get<blob_view>(v)) {
          auto x = std::to_integer<unsigned>(b);
          key_ += digits[x >> 4];
          key_ += digits[x & 15u];
        }
        break;
      }
    }
  }

  std::string key_;
};

namespace detail {
template <class T>
constexpr auto cache_key_requires_primary_key() -> bool {
  // If you see an error here: the entity has no primary key, so a row has no
  // identity to cache under.
  static_assert(has_primary_key_v<T>,
                "ormkit: cache_key_of / cache_key need an entity with a primary key; mark a column "
                "ormkit::primary_key, or build the key by hand with ormkit::cache_key_builder");
  return has_primary_key_v<T>;
}
}  // namespace detail

/// Returns the cache key of `entity`: `<ns>:<table>:<schema-hash>:<pk>`, the
/// primary key columns in declaration order, encoded as `cache_key_builder` does.
///
/// Requires: `T` is an entity with a primary key (a static_assert says so).
/// Throws: as `cache_key_builder::add`, only for a key value that cannot be stored.
/// Example: `cache_key_of(user{.id = 42})` is `"ormkit:users:<16 hex digits>:42"`.
template <entity T>
[[nodiscard]] auto cache_key_of(const T& entity, std::string_view ns = default_cache_namespace) -> std::string {
  cache_key_builder key(ns);
  if constexpr (detail::cache_key_requires_primary_key<T>()) {
    key.add_entity<T>();
    [&]<std::size_t... K>(std::index_sequence<K...>) {
      (key.add(entity.*(column_v<T, primary_key_indexes_v<T>[K]>.member)), ...);
    }(std::make_index_sequence<primary_key_indexes_v<T>.size()>{});
  }
  return std::move(key).str();
}

/// Returns the cache key of the row of `T` whose primary key is `key` (a
/// `std::tuple` in declaration order for a composite key); equal to
/// `cache_key_of` of that row.
///
/// Requires, Throws: as `cache_key_of`.
/// Example: `cache_key<membership>({"acme", 7})` is `"ormkit:memberships:<hash>:acme:7"`.
template <entity T>
[[nodiscard]] auto cache_key(const primary_key_t<T>& key, std::string_view ns = default_cache_namespace)
    -> std::string {
  cache_key_builder out(ns);
  if constexpr (detail::cache_key_requires_primary_key<T>()) {
    out.add_entity<T>();
    if constexpr (primary_key_indexes_v<T>.size() == 1) {
      out.add(key);
    } else {
      std::apply([&](const auto&... part) { (out.add(part), ...); }, key);
    }
  }
  return std::move(out).str();
}

}  // namespace ormkit
