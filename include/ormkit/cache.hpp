// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/cache.hpp
//
// The contract between a cache user (the repository's cache-aside layer, or
// your own code) and a cache store, plus what every store shares:
//
// - `cache_store`: the concept. Values are byte strings (`std::string`, any
//   bytes including NUL), keys are byte strings, TTLs are milliseconds.
// - `cache_ref`: a non-owning, type-erased reference to any store, the way
//   `backend_ref` erases a backend, so that a repository holds one nameable
//   type whatever the store.
// - `cache_stats`: the counters every store keeps.
// - The value envelope (`encode_cache_value` / `decode_cache_value`): the
//   16-byte header that stores which keep bytes outside the process (Redis)
//   put in front of each value, so that corrupt, truncated or foreign bytes
//   under a key read as a miss instead of as a value.
// - TTL jitter (`jittered_ttl`), which spreads the expiry of entries written at
//   the same moment so that they do not all expire, and all miss, together.
//
// The stores: `ormkit::cache::memory_store` (<ormkit/cache/memory.hpp>, in
// process, sharded LRU), `ormkit::redis::store` and
// `ormkit::redis::two_level_store` (<ormkit/redis.hpp>, target ormkit::redis).
//
// This is a core header: no threads, no hiredis, nothing heavier than
// <chrono> and <vector>.
//
// Example:
//
//   ormkit::cache::memory_store l1({.max_entries = 10'000});
//   ormkit::cache_ref cache(l1);   // what a repository holds
//   cache.set("app:users:42", bytes, std::chrono::seconds(30)).value();
//   if (auto hit = cache.get("app:users:42").value()) use(*hit);

#include <ormkit/error.hpp>
#include <ormkit/resource_metrics.hpp>
#include <ormkit/result.hpp>

#include <bit>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ormkit {

/// The TTL that means "keep until evicted or erased".
inline constexpr std::chrono::milliseconds no_expiry{0};

/// One key and value for `set_many`. Both views must stay valid for the call.
struct cache_entry {
  std::string_view key;
  std::string_view value;
};

/// What a store counts. Every counter only grows, except `entries` and `bytes`.
struct cache_stats {
  std::uint64_t hits = 0;         ///< reads that found a value
  std::uint64_t misses = 0;       ///< reads that found none (absent, expired, corrupt, or the store failed)
  std::uint64_t sets = 0;         ///< values written
  std::uint64_t erases = 0;       ///< values removed by erase, erase_many and clear
  std::uint64_t evictions = 0;    ///< values removed to stay within capacity
  std::uint64_t expirations = 0;  ///< values found past their TTL and dropped
  std::uint64_t errors = 0;       ///< failed operations: unreachable, timed out, rejected input
  std::uint64_t corrupt = 0;      ///< unreadable values under a key, read as misses
  std::uint64_t entries = 0;      ///< values held in this process now (0 for a remote store)
  std::uint64_t bytes = 0;        ///< key + value bytes held in this process now (0 for a remote store)

  /// hits / (hits + misses), or 0 before the first read.
  [[nodiscard]] auto hit_rate() const noexcept -> double {
    const auto reads = hits + misses;
    return reads == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(reads);
  }

  friend auto operator==(const cache_stats&, const cache_stats&) -> bool = default;
};

/// A non-owning callable `void(std::string_view value)`, for reading a cached
/// value where it lies (no copy). The store calls it at most once, during the
/// call, with a view that is valid only during that call. The callable must not
/// call back into the same store (the in-process store holds a lock meanwhile).
class cache_visitor {
 public:
  template <class F>
    requires(!std::same_as<std::remove_cvref_t<F>, cache_visitor> &&
             std::is_invocable_v<F&, std::string_view>)
  cache_visitor(F&& f) noexcept  // NOLINT: implicit by design, like function_ref
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* o, std::string_view v) { (*static_cast<std::remove_reference_t<F>*>(o))(v); }) {}

  void operator()(std::string_view value) const { call_(object_, value); }

 private:
  void* object_;
  void (*call_)(void*, std::string_view);
};

/// What a guarded read (`get_guarded`) saw under a key and under its scope key when
/// it missed. A fill made with it (`set_guarded`) is stored only if both still hold
/// exactly that, so a row another process loaded before an invalidation is never
/// stored after it. Filled by the store and passed back to it unchanged.
struct cache_guard {
  std::optional<std::string> key_state;    ///< the bytes under the key (none: nothing there)
  std::optional<std::string> scope_state;  ///< the bytes under the scope key
  bool armed = false;                      ///< set by a store that read both; an unarmed guard fills nothing
};

/// A cache store. Each requirement, in order:
///
/// - `s.name()`: a short name for messages and metrics ("memory", "redis", "two_level").
/// - `s.get(key)`: the value under `key`, or an empty optional on a miss.
/// - `s.get_into(key, out)`: the same into `out` (its capacity is reused, so a
///   warm buffer makes a hit allocation-free); returns whether it was a hit.
/// - `s.visit(key, f)`: calls `f(value)` on a hit without copying the value;
///   returns whether it was a hit.
/// - `s.set(key, value, ttl)`: stores `value` for `ttl` (`no_expiry`: until evicted).
///   A negative TTL is errc::invalid_argument.
/// - `s.erase(key)`: removes the value; returns whether there was one.
/// - `s.get_many(keys)`: one optional per key, in order.
/// - `s.set_many(entries, ttl)`: stores each entry (not atomically: on an error
///   some entries may be stored; the first error is returned).
/// - `s.erase_many(keys)`: removes each key; returns how many existed.
/// - `s.clear(prefix)`: removes every key that starts with `prefix` ("" for all
///   of this store's keys); returns how many.
/// - `s.stats()`: a snapshot of the counters.
///
/// Errors are `errc::unavailable` (cannot reach the store), `errc::timeout` (no
/// answer within the store's budget), `errc::invalid_argument` (a negative TTL,
/// a value over the store's size limit) or `errc::backend_error` (the store
/// refused); every error is also counted in `stats().errors`. Corrupt or foreign
/// bytes under a key are never an error: they read as a miss and count in
/// `stats().corrupt`. A store never throws for these outcomes.
///
/// Keys and values are arbitrary bytes (NUL, CR, LF, spaces included) and are
/// stored exactly; no store interprets them.
///
/// A store shared between processes may also guard fills against invalidations
/// made meanwhile by other processes (`guarded_cache_store`); `cache_ref` offers
/// these operations for every store, falling back to the plain ones.
template <class S>
concept cache_store = requires(S& s, const S& cs, std::string_view key, std::string_view value,
                               std::chrono::milliseconds ttl, std::span<const std::string_view> keys,
                               std::span<const cache_entry> entries, std::string& out, cache_visitor visitor) {
  { cs.name() } -> std::convertible_to<std::string_view>;
  { s.get(key) } -> std::same_as<result<std::optional<std::string>>>;
  { s.get_into(key, out) } -> std::same_as<result<bool>>;
  { s.visit(key, visitor) } -> std::same_as<result<bool>>;
  { s.set(key, value, ttl) } -> std::same_as<status>;
  { s.erase(key) } -> std::same_as<result<bool>>;
  { s.get_many(keys) } -> std::same_as<result<std::vector<std::optional<std::string>>>>;
  { s.set_many(entries, ttl) } -> std::same_as<status>;
  { s.erase_many(keys) } -> std::same_as<result<std::uint64_t>>;
  { s.clear(key) } -> std::same_as<result<std::uint64_t>>;
  { cs.stats() } -> std::same_as<cache_stats>;
};

/// A store whose fills can be guarded against invalidations made by other processes
/// (the Redis stores). Each requirement:
///
/// - `s.get_guarded(key, scope, out, guard)`: like `get_into`; on a miss `guard`
///   records what lies under `key` and under the scope key `scope` ("" for none).
/// - `s.set_guarded(key, scope, value, ttl, guard)`: stores `value` only if `key`
///   and `scope` still hold what `guard` recorded; returns whether it stored.
/// - `s.get_many_guarded(keys, scope, guards)`: `get_many`, recording one guard per key.
/// - `s.set_many_guarded(entries, scope, ttl, guards)`: `set_guarded` per entry, in
///   one round trip; returns how many were stored.
/// - `s.invalidate(key, hold)`: removes the value so that reads miss, and leaves a
///   marker for `hold` that no guard recorded before: fills guarded before the call
///   are refused for that long. Returns whether there was a value.
/// - `s.invalidate_scope(scope)`: moves the scope key on, refusing every fill
///   guarded before (for "the whole table changed").
///
/// A fill is only refused if its load took longer than `hold`; callers pass at
/// least the TTL they fill with.
template <class S>
concept guarded_cache_store =
    cache_store<S> && requires(S& s, std::string_view key, std::string_view value, std::chrono::milliseconds ttl,
                               std::span<const std::string_view> keys, std::span<const cache_entry> entries,
                               std::string& out, cache_guard& guard, const cache_guard& seen,
                               std::vector<cache_guard>& guards, std::span<const cache_guard> seen_all) {
      { s.get_guarded(key, key, out, guard) } -> std::same_as<result<bool>>;
      { s.set_guarded(key, key, value, ttl, seen) } -> std::same_as<result<bool>>;
      { s.get_many_guarded(keys, key, guards) } -> std::same_as<result<std::vector<std::optional<std::string>>>>;
      { s.set_many_guarded(entries, key, ttl, seen_all) } -> std::same_as<result<std::uint64_t>>;
      { s.invalidate(key, ttl) } -> std::same_as<result<bool>>;
      { s.invalidate_scope(key) } -> std::same_as<status>;
    };

/// A non-owning, type-erased reference to a `cache_store`. Cheap to copy; the
/// referenced store must outlive it. Thread safety is the store's (all of
/// ormkit's stores may be used from many threads).
class cache_ref {
 public:
  template <cache_store S>
    requires(!std::same_as<S, cache_ref>)
  cache_ref(S& s) noexcept : self_(&s), vtable_(&vtable_for<S>) {}  // NOLINT: implicit by design

  [[nodiscard]] auto name() const -> std::string_view { return vtable_->name(self_); }
  auto get(std::string_view key) const -> result<std::optional<std::string>> { return vtable_->get(self_, key); }
  auto get_into(std::string_view key, std::string& out) const -> result<bool> {
    return vtable_->get_into(self_, key, out);
  }
  auto visit(std::string_view key, cache_visitor f) const -> result<bool> { return vtable_->visit(self_, key, f); }
  auto set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) const -> status {
    return vtable_->set(self_, key, value, ttl);
  }
  auto erase(std::string_view key) const -> result<bool> { return vtable_->erase(self_, key); }
  auto get_many(std::span<const std::string_view> keys) const -> result<std::vector<std::optional<std::string>>> {
    return vtable_->get_many(self_, keys);
  }
  auto set_many(std::span<const cache_entry> entries, std::chrono::milliseconds ttl) const -> status {
    return vtable_->set_many(self_, entries, ttl);
  }
  auto erase_many(std::span<const std::string_view> keys) const -> result<std::uint64_t> {
    return vtable_->erase_many(self_, keys);
  }
  auto clear(std::string_view prefix = {}) const -> result<std::uint64_t> { return vtable_->clear(self_, prefix); }
  [[nodiscard]] auto stats() const -> cache_stats { return vtable_->stats(self_); }

  /// Whether the store guards fills against other processes' invalidations
  /// (`guarded_cache_store`). Without, the guarded calls below are the plain ones.
  [[nodiscard]] auto guards_fills() const noexcept -> bool { return vtable_->guarded; }
  auto get_guarded(std::string_view key, std::string_view scope, std::string& out, cache_guard& guard) const
      -> result<bool> {
    return vtable_->get_guarded(self_, key, scope, out, guard);
  }
  auto set_guarded(std::string_view key, std::string_view scope, std::string_view value,
                   std::chrono::milliseconds ttl, const cache_guard& guard) const -> result<bool> {
    return vtable_->set_guarded(self_, key, scope, value, ttl, guard);
  }
  auto get_many_guarded(std::span<const std::string_view> keys, std::string_view scope,
                        std::vector<cache_guard>& guards) const -> result<std::vector<std::optional<std::string>>> {
    return vtable_->get_many_guarded(self_, keys, scope, guards);
  }
  auto set_many_guarded(std::span<const cache_entry> entries, std::string_view scope, std::chrono::milliseconds ttl,
                        std::span<const cache_guard> guards) const -> result<std::uint64_t> {
    return vtable_->set_many_guarded(self_, entries, scope, ttl, guards);
  }
  auto invalidate(std::string_view key, std::chrono::milliseconds hold) const -> result<bool> {
    return vtable_->invalidate(self_, key, hold);
  }
  auto invalidate_scope(std::string_view scope) const -> status { return vtable_->invalidate_scope(self_, scope); }

  /// The store's `resource_metrics()` (its connections), or none for a store without them.
  [[nodiscard]] auto resource_metrics() const -> std::vector<resource_metric> { return vtable_->resources(self_); }

  /// The referenced store object (for identity checks).
  [[nodiscard]] auto address() const noexcept -> const void* { return self_; }

 private:
  struct vtable {
    std::string_view (*name)(const void*);
    result<std::optional<std::string>> (*get)(void*, std::string_view);
    result<bool> (*get_into)(void*, std::string_view, std::string&);
    result<bool> (*visit)(void*, std::string_view, cache_visitor);
    status (*set)(void*, std::string_view, std::string_view, std::chrono::milliseconds);
    result<bool> (*erase)(void*, std::string_view);
    result<std::vector<std::optional<std::string>>> (*get_many)(void*, std::span<const std::string_view>);
    status (*set_many)(void*, std::span<const cache_entry>, std::chrono::milliseconds);
    result<std::uint64_t> (*erase_many)(void*, std::span<const std::string_view>);
    result<std::uint64_t> (*clear)(void*, std::string_view);
    cache_stats (*stats)(const void*);
    std::vector<resource_metric> (*resources)(const void*);
    bool guarded;
    result<bool> (*get_guarded)(void*, std::string_view, std::string_view, std::string&, cache_guard&);
    result<bool> (*set_guarded)(void*, std::string_view, std::string_view, std::string_view,
                                std::chrono::milliseconds, const cache_guard&);
    result<std::vector<std::optional<std::string>>> (*get_many_guarded)(void*, std::span<const std::string_view>,
                                                                        std::string_view, std::vector<cache_guard>&);
    result<std::uint64_t> (*set_many_guarded)(void*, std::span<const cache_entry>, std::string_view,
                                              std::chrono::milliseconds, std::span<const cache_guard>);
    result<bool> (*invalidate)(void*, std::string_view, std::chrono::milliseconds);
    status (*invalidate_scope)(void*, std::string_view);
  };

  template <class S>
  static constexpr vtable vtable_for{
      [](const void* p) -> std::string_view { return static_cast<const S*>(p)->name(); },
      [](void* p, std::string_view k) { return static_cast<S*>(p)->get(k); },
      [](void* p, std::string_view k, std::string& out) { return static_cast<S*>(p)->get_into(k, out); },
      [](void* p, std::string_view k, cache_visitor f) { return static_cast<S*>(p)->visit(k, f); },
      [](void* p, std::string_view k, std::string_view v, std::chrono::milliseconds t) {
        return static_cast<S*>(p)->set(k, v, t);
      },
      [](void* p, std::string_view k) { return static_cast<S*>(p)->erase(k); },
      [](void* p, std::span<const std::string_view> ks) { return static_cast<S*>(p)->get_many(ks); },
      [](void* p, std::span<const cache_entry> es, std::chrono::milliseconds t) {
        return static_cast<S*>(p)->set_many(es, t);
      },
      [](void* p, std::span<const std::string_view> ks) { return static_cast<S*>(p)->erase_many(ks); },
      [](void* p, std::string_view prefix) { return static_cast<S*>(p)->clear(prefix); },
      [](const void* p) { return static_cast<const S*>(p)->stats(); },
      []([[maybe_unused]] const void* p) -> std::vector<resource_metric> {
        if constexpr (reports_resource_metrics<S>) return static_cast<const S*>(p)->resource_metrics();
        else return {};
      },
      guarded_cache_store<S>,
      [](void* p, std::string_view k, [[maybe_unused]] std::string_view scope, std::string& out,
         [[maybe_unused]] cache_guard& g) -> result<bool> {
        if constexpr (guarded_cache_store<S>) return static_cast<S*>(p)->get_guarded(k, scope, out, g);
        else return static_cast<S*>(p)->get_into(k, out);
      },
      [](void* p, std::string_view k, [[maybe_unused]] std::string_view scope, std::string_view v,
         std::chrono::milliseconds t, [[maybe_unused]] const cache_guard& g) -> result<bool> {
        if constexpr (guarded_cache_store<S>) {
          return static_cast<S*>(p)->set_guarded(k, scope, v, t, g);
        } else {
          if (auto st = static_cast<S*>(p)->set(k, v, t); !st) return unexpected(std::move(st).error());
          return true;
        }
      },
      [](void* p, std::span<const std::string_view> ks, [[maybe_unused]] std::string_view scope,
         [[maybe_unused]] std::vector<cache_guard>& gs) -> result<std::vector<std::optional<std::string>>> {
        if constexpr (guarded_cache_store<S>) return static_cast<S*>(p)->get_many_guarded(ks, scope, gs);
        else return static_cast<S*>(p)->get_many(ks);
      },
      [](void* p, std::span<const cache_entry> es, [[maybe_unused]] std::string_view scope,
         std::chrono::milliseconds t, [[maybe_unused]] std::span<const cache_guard> gs) -> result<std::uint64_t> {
        if constexpr (guarded_cache_store<S>) {
          return static_cast<S*>(p)->set_many_guarded(es, scope, t, gs);
        } else {
          if (auto st = static_cast<S*>(p)->set_many(es, t); !st) return unexpected(std::move(st).error());
          return static_cast<std::uint64_t>(es.size());
        }
      },
      [](void* p, std::string_view k, [[maybe_unused]] std::chrono::milliseconds hold) -> result<bool> {
        if constexpr (guarded_cache_store<S>) return static_cast<S*>(p)->invalidate(k, hold);
        else return static_cast<S*>(p)->erase(k);
      },
      [](void* p, [[maybe_unused]] std::string_view scope) -> status {
        if constexpr (guarded_cache_store<S>) return static_cast<S*>(p)->invalidate_scope(scope);
        else return {};
      },
  };

  void* self_;
  const vtable* vtable_;
};

//=== the value envelope ===//

/// Size of the header `encode_cache_value` puts in front of a value.
///
/// Layout (integers little-endian):
///
///   bytes 0-2   magic "okc"
///   byte  3     format version (1)
///   bytes 4-7   payload length (the value is at most 4 GiB - 1)
///   bytes 8-15  checksum of the key and the payload (`cache_checksum`)
///
/// The checksum covers the key the value is stored under, so bytes copied or
/// renamed to another key read as foreign there; the entity's schema hash is
/// part of every entity key (`cache_key_of`), so values of an older layout are
/// never even looked up.
inline constexpr std::size_t cache_value_header_size = 16;

/// The format version `encode_cache_value` writes and `decode_cache_value` accepts.
inline constexpr std::uint8_t cache_value_format_version = 1;

/// Why `decode_cache_value` rejected stored bytes.
enum class cache_value_check {
  ok,
  too_short,             ///< fewer bytes than the header
  foreign,               ///< no "okc" magic: not written by ormkit
  unsupported_version,   ///< written by a newer (or unknown) ormkit format
  length_mismatch,       ///< truncated or extended after the header was written
  checksum_mismatch,     ///< damaged, or stored under another key
};

/// The stable name of `c` ("ok", "too_short", ...).
[[nodiscard]] constexpr auto to_string(cache_value_check c) noexcept -> std::string_view {
  switch (c) {
    case cache_value_check::ok: return "ok";
    case cache_value_check::too_short: return "too_short";
    case cache_value_check::foreign: return "foreign";
    case cache_value_check::unsupported_version: return "unsupported_version";
    case cache_value_check::length_mismatch: return "length_mismatch";
    case cache_value_check::checksum_mismatch: return "checksum_mismatch";
  }
  return "unknown";
}

/// What `decode_cache_value` found: the verdict and, when ok, the payload (a
/// view into the stored bytes).
struct cache_value_view {
  cache_value_check check = cache_value_check::too_short;
  std::string_view payload;

  [[nodiscard]] auto ok() const noexcept -> bool { return check == cache_value_check::ok; }
};

namespace detail {

inline auto load_le64(const char* p) noexcept -> std::uint64_t {
  if constexpr (std::endian::native == std::endian::little) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, 8);  // one load
    return v;
  } else {
    unsigned char b[8];
    std::memcpy(b, p, 8);
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | b[i];
    return v;
  }
}

inline void store_le(char* p, std::uint64_t v, int bytes) noexcept {
  for (int i = 0; i < bytes; ++i, v >>= 8) p[i] = static_cast<char>(static_cast<unsigned char>(v & 0xffu));
}

inline auto load_le32(const char* p) noexcept -> std::uint32_t {
  unsigned char b[4];
  std::memcpy(b, p, 4);
  return static_cast<std::uint32_t>(b[0]) | (static_cast<std::uint32_t>(b[1]) << 8) |
         (static_cast<std::uint32_t>(b[2]) << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
}

// One word into the state. Every step (xor with the word, multiply by an odd
// constant, rotate) is a bijection of the state, so two inputs that differ in
// exactly one 8-byte word always end in different checksums.
constexpr auto checksum_step(std::uint64_t h, std::uint64_t w) noexcept -> std::uint64_t {
  h ^= w;
  h *= 0x9e3779b97f4a7c15ull;
  return (h << 31) | (h >> 33);
}

inline auto checksum_bytes(std::uint64_t h, std::string_view s) noexcept -> std::uint64_t {
  const char* p = s.data();
  std::size_t n = s.size();
  h = checksum_step(h, static_cast<std::uint64_t>(n));
  for (; n >= 8; n -= 8, p += 8) h = checksum_step(h, load_le64(p));
  if (n > 0) {
    char tail[8] = {};
    std::memcpy(tail, p, n);
    h = checksum_step(h, load_le64(tail) ^ 0xffu);  // marks that a tail was there
  }
  return h;
}

}  // namespace detail

/// A stable 64-bit checksum of `key` and `payload` (the same on every platform
/// and build). Not cryptographic: it detects damage and mix-ups, not forgery.
[[nodiscard]] inline auto cache_checksum(std::string_view key, std::string_view payload) noexcept
    -> std::uint64_t {
  std::uint64_t h = 0x6f726d6b69742131ull;  // "ormkit!1"
  h = detail::checksum_bytes(h, key);
  h = detail::checksum_bytes(h, payload);
  // Final avalanche (murmur3's fmix64), so that nearby inputs differ in every bit.
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

/// Replaces `out` with the header for (`key`, `payload`) followed by `payload`.
/// `out`'s capacity is reused.
///
/// Requires: `payload.size() < 4 GiB` (stores reject larger values before this).
inline void encode_cache_value(std::string& out, std::string_view key, std::string_view payload) {
  out.resize(cache_value_header_size + payload.size());
  char* p = out.data();
  p[0] = 'o';
  p[1] = 'k';
  p[2] = 'c';
  p[3] = static_cast<char>(cache_value_format_version);
  detail::store_le(p + 4, static_cast<std::uint64_t>(payload.size()), 4);
  detail::store_le(p + 8, cache_checksum(key, payload), 8);
  if (!payload.empty()) std::memcpy(p + cache_value_header_size, payload.data(), payload.size());
}

/// Checks bytes read from under `key`; on success the payload is a view into `stored`.
[[nodiscard]] inline auto decode_cache_value(std::string_view key, std::string_view stored) noexcept
    -> cache_value_view {
  if (stored.size() < cache_value_header_size) return {cache_value_check::too_short, {}};
  if (stored[0] != 'o' || stored[1] != 'k' || stored[2] != 'c') return {cache_value_check::foreign, {}};
  if (static_cast<std::uint8_t>(stored[3]) != cache_value_format_version)
    return {cache_value_check::unsupported_version, {}};
  const std::string_view payload = stored.substr(cache_value_header_size);
  if (detail::load_le32(stored.data() + 4) != payload.size()) return {cache_value_check::length_mismatch, {}};
  if (detail::load_le64(stored.data() + 8) != cache_checksum(key, payload))
    return {cache_value_check::checksum_mismatch, {}};
  return {cache_value_check::ok, payload};
}

//=== TTL jitter ===//

/// Returns `ttl` shortened by `fraction * u` of itself (`u` in [0, 1)), rounded
/// to whole milliseconds and never below 1 ms. Jitter only ever shortens a TTL,
/// so the TTL a caller asks for stays the bound on how old a cached value gets.
/// `no_expiry` and negative TTLs are returned unchanged; `fraction` is clamped
/// to [0, 1].
[[nodiscard]] constexpr auto jittered_ttl(std::chrono::milliseconds ttl, double fraction, double u) noexcept
    -> std::chrono::milliseconds {
  if (ttl.count() <= 0 || !(fraction > 0.0) || !(u > 0.0)) return ttl;
  if (fraction > 1.0) fraction = 1.0;
  if (u >= 1.0) u = 0.0;
  const auto cut = static_cast<std::chrono::milliseconds::rep>(static_cast<double>(ttl.count()) * fraction * u);
  const auto out = ttl.count() - cut;
  return std::chrono::milliseconds(out < 1 ? 1 : out);
}

namespace detail {
// A per-thread splitmix64 stream: cheap, lock-free, and good enough to spread
// expiry times (this is not a source of secrets).
inline auto jitter_unit() noexcept -> double {
  thread_local std::uint64_t state = [] {
    thread_local char anchor = 0;  // differs per thread
    return static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count()) ^
           (static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(&anchor)) * 0x9e3779b97f4a7c15ull);
  }();
  state += 0x9e3779b97f4a7c15ull;
  std::uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53;  // [0, 1)
}
}  // namespace detail

/// `jittered_ttl(ttl, fraction, u)` with a random `u` (a per-thread generator).
[[nodiscard]] inline auto jittered_ttl(std::chrono::milliseconds ttl, double fraction) noexcept
    -> std::chrono::milliseconds {
  if (ttl.count() <= 0 || !(fraction > 0.0)) return ttl;
  return jittered_ttl(ttl, fraction, detail::jitter_unit());
}

//=== message helpers shared by the stores ===//

namespace detail {

/// `key` quoted for a message: control bytes, `"`, `\` and bytes >= 0x80 escaped
/// (`\n`, `\x00`), cut after 120 bytes with the full length noted.
inline auto quote_cache_key(std::string_view key) -> std::string {
  constexpr std::size_t shown = 120;
  constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(key.size() < shown ? key.size() + 2 : shown + 32);
  out += '"';
  const std::string_view head = key.substr(0, shown);
  for (char c : head) {
    const auto b = static_cast<unsigned char>(c);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (b < 0x20 || b >= 0x7f) {
          out += "\\x";
          out += hex[b >> 4];
          out += hex[b & 15u];
        } else {
          out += c;
        }
    }
  }
  out += '"';
  if (key.size() > shown) {
    out += "... (";
    out += std::to_string(key.size());
    out += " bytes)";
  }
  return out;
}

/// Checks a TTL argument; the message names the store and the key.
inline auto check_cache_ttl(std::string_view store, std::string_view key, std::chrono::milliseconds ttl)
    -> status {
  if (ttl.count() >= 0) return {};
  return unexpected(errc::invalid_argument,
                    concat({store, ": key ", quote_cache_key(key), ": ttl must not be negative (got ",
                            std::to_string(ttl.count()), " ms)"}));
}

}  // namespace detail

}  // namespace ormkit
