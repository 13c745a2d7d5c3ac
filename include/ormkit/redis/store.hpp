// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/redis/store.hpp
//
// `ormkit::redis::store`: the Redis cache store (an `ormkit::cache_store`).
//
// - Keys: every key is stored as `key_prefix + key`, so applications sharing a
//   Redis keep apart; `clear(prefix)` only ever touches this store's keys. Keys
//   and values are bytes, sent as argv bulk strings (client.hpp).
// - Values: stored with the 16-byte envelope of <ormkit/cache.hpp> (magic,
//   format version, length, checksum over the full key and the value). Bytes
//   that fail the check (written by something else, truncated, damaged, moved
//   from another key) or a key of another Redis type read as a miss and count
//   in `stats().corrupt`; they are left in place, and the next `set` replaces
//   them.
// - TTLs: `SET key value PX <ms>`, shortened by up to `ttl_jitter` of itself
//   (default 10%) against synchronized expiry.
// - Batches: `get_many` sends MGETs of `batch_size` keys, `set_many` one SET per
//   entry, `erase_many` DELs of `batch_size` keys, each batch in one round trip.
//   `clear(prefix)` walks the keyspace with SCAN (never KEYS, which blocks the
//   server) and deletes what it finds page by page. A batch is one call of the
//   client: all of it must finish within the client's `timeout` (raise it for
//   batches of many megabytes); each SCAN page of `clear` is one call.
// - Coherence across processes: with `publish_invalidations` (the default),
//   `erase`, `erase_many`, `clear` and (with `publish_sets`) `set` publish a
//   message on `channel()` in the same round trip, after the write. Each
//   process's `two_level_store` (redis/two_level.hpp) listens there and drops
//   the key from its in-process level. Messages carry this store's `origin()`
//   so a two-level store can ignore its own.
// - Guarded fills (`ormkit::guarded_cache_store`), which the cache-aside layer
//   uses so that one process cannot fill the cache with a row it read before
//   another process's commit: `invalidate(key, hold)` replaces the value with a
//   20-byte marker ("okt", never the same twice) that reads as a plain miss and
//   lasts `hold`; `get_guarded` / `get_many_guarded` record what a miss saw under
//   the key and under a scope key; `set_guarded` / `set_many_guarded` store with
//   one Lua script (EVAL) only if both are unchanged, and publish like `set`;
//   `invalidate_scope` moves a scope key on (INCR). A failed `invalidate` is
//   replayed as an invalidation (a fresh marker, for its `hold`), and a failed
//   `invalidate_scope` as an INCR (below).
// - Failures: errc::unavailable / timeout from the client (client.hpp), counted
//   in `stats().errors`; no call throws for them, none blocks beyond the
//   client's budget. An invalidation that fails (erase or clear while Redis is
//   down or hung) is remembered, up to `max_pending_invalidations` keys (beyond
//   that, the whole prefix is scheduled for clearing), and replayed before any
//   other command once Redis answers again: a Redis that comes back with
//   persisted old data (AOF, RDB; reliability.md F22) does not serve a value
//   this process invalidated. Still, run the cache Redis without persistence
//   (`--save "" --appendonly no`), since other processes may read before this
//   one replays.
//
// Thread-safe. Example:
//
//   ormkit::redis::store cache({.server = {.host = "127.0.0.1", .port = 6379}, .key_prefix = "shop:"});
//   cache.set("users:42", bytes, std::chrono::seconds(60)).value();   // key "shop:users:42"
//   auto hit = cache.get("users:42").value();                         // std::optional<std::string>

#include <ormkit/cache.hpp>
#include <ormkit/error.hpp>
#include <ormkit/redis/client.hpp>
#include <ormkit/result.hpp>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

namespace ormkit::redis {

/// How to run a `store`.
struct store_options {
  /// The server and the connection budgets.
  options server{};
  /// Prepended to every key ("shop:"); also names the default invalidation channel.
  std::string key_prefix{};
  /// Fraction of each TTL that jitter may take off (0 = none, at most 1).
  double ttl_jitter = 0.1;
  /// Largest value accepted (Redis's own limit is 512 MiB including the 16-byte header).
  std::size_t max_value_bytes = (std::size_t{512} << 20) - cache_value_header_size;
  /// Publish invalidations (erase, erase_many, clear) for other processes' two-level stores.
  bool publish_invalidations = true;
  /// Also publish one for every `set` (another process's in-process copy is then older).
  bool publish_sets = true;
  /// The pub/sub channel; empty means "ormkit:invalidate:" + key_prefix.
  std::string invalidation_channel{};
  /// Keys per MGET / DEL command, and the COUNT hint of each SCAN page.
  std::size_t batch_size = 256;
  /// Failed invalidations remembered for replay; beyond this, the whole prefix is cleared on replay.
  std::size_t max_pending_invalidations = 10'000;
};

/// One invalidation message as published on a store's channel.
///
/// Wire format: byte 0 is 'K' (one key) or 'P' (every key starting with a
/// prefix; "" for all), bytes 1-8 the publishing store's origin (little-endian),
/// then the key or prefix without the application's key prefix.
struct invalidation {
  enum class kind : char { key = 'K', prefix = 'P' };
  kind what = kind::key;
  std::uint64_t origin = 0;
  std::string_view key;  ///< the key, or the prefix, as the application named it

  /// Encodes a message into `out` (replacing its contents).
  static void encode(std::string& out, kind what, std::uint64_t origin, std::string_view key) {
    out.resize(9 + key.size());
    out[0] = static_cast<char>(what);
    ormkit::detail::store_le(out.data() + 1, origin, 8);
    if (!key.empty()) std::memcpy(out.data() + 9, key.data(), key.size());
  }

  /// Decodes a message; empty when `bytes` is not one (a foreign publisher).
  static auto parse(std::string_view bytes) noexcept -> std::optional<invalidation> {
    if (bytes.size() < 9 || (bytes[0] != 'K' && bytes[0] != 'P')) return std::nullopt;
    return invalidation{static_cast<kind>(bytes[0]), ormkit::detail::load_le64(bytes.data() + 1), bytes.substr(9)};
  }
};

/// The Redis cache store. See the header comment. Satisfies `ormkit::cache_store`.
class store {
 public:
  explicit store(store_options o)
      : options_(std::move(o)),
        client_(options_.server),
        channel_(options_.invalidation_channel.empty() ? "ormkit:invalidate:" + options_.key_prefix
                                                       : options_.invalidation_channel),
        origin_(make_origin()) {
    if (options_.batch_size == 0) options_.batch_size = 1;
  }
  store(const store&) = delete;
  auto operator=(const store&) -> store& = delete;

  [[nodiscard]] auto name() const noexcept -> std::string_view { return "redis"; }
  [[nodiscard]] auto config() const noexcept -> const store_options& { return options_; }
  [[nodiscard]] auto key_prefix() const noexcept -> const std::string& { return options_.key_prefix; }
  /// The channel invalidations are published on.
  [[nodiscard]] auto channel() const noexcept -> const std::string& { return channel_; }
  /// This store's id in invalidation messages (random per store object).
  [[nodiscard]] auto origin() const noexcept -> std::uint64_t { return origin_; }
  /// The connection pool (for its counters, or for commands of your own).
  [[nodiscard]] auto connection_pool() noexcept -> client& { return client_; }
  /// How many failed invalidations wait for replay (a scheduled prefix clear or scope
  /// move counts 1).
  [[nodiscard]] auto pending_invalidations() const -> std::size_t {
    std::lock_guard lock(pending_mu_);
    return pending_keys_.size() + pending_prefixes_.size() + pending_scopes_.size();
  }

  /// Returns the value under `key`, or an empty optional (absent, or unreadable bytes).
  /// Errors: errc::unavailable, errc::timeout (counted).
  auto get(std::string_view key) -> result<std::optional<std::string>> {
    std::optional<std::string> out;
    auto hit = fetch_one(key, false, [&](std::string_view v, std::chrono::milliseconds) { out.emplace(v); });
    if (!hit) return unexpected(std::move(hit).error());
    return out;
  }

  /// Copies the value under `key` into `out` (reusing its capacity); false on a miss.
  auto get_into(std::string_view key, std::string& out) -> result<bool> {
    return fetch_one(key, false,
                     [&](std::string_view v, std::chrono::milliseconds) { out.assign(v.data(), v.size()); });
  }

  /// Calls `f(value)` on a hit with a view into the reply (no copy). Returns whether it was a hit.
  auto visit(std::string_view key, cache_visitor f) -> result<bool> {
    return fetch_one(key, false, [&](std::string_view v, std::chrono::milliseconds) { f(v); });
  }

  /// Stores `value` under `key` for `ttl` (`no_expiry`: no TTL).
  ///
  /// Errors: errc::invalid_argument for a negative TTL or a value over
  /// `max_value_bytes` (the old value under the key is then erased, so a failed
  /// update never leaves it readable); errc::unavailable, errc::timeout.
  auto set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) -> status {
    if (auto st = check_value(key, value, ttl); !st) {
      (void)erase(key);
      errors_.fetch_add(1, std::memory_order_relaxed);
      return st;
    }
    const cache_entry one{key, value};
    return set_entries(std::span(&one, 1), ttl, "SET");
  }

  /// Removes `key`; returns whether it held a value. A failed erase is remembered
  /// and replayed (see the header comment).
  auto erase(std::string_view key) -> result<bool> {
    auto n = erase_keys(std::span(&key, 1), "DEL");
    if (!n) return unexpected(std::move(n).error());
    return *n > 0;
  }

  /// One optional per key, in order.
  auto get_many(std::span<const std::string_view> keys) -> result<std::vector<std::optional<std::string>>> {
    std::vector<std::optional<std::string>> out(keys.size());
    auto st = fetch(keys, false, [&](std::size_t i, std::string_view v, std::chrono::milliseconds) {
      out[i].emplace(v);
    });
    if (!st) return unexpected(std::move(st).error());
    return out;
  }

  /// Stores every entry in one round trip. Entries with a bad TTL or size are
  /// not stored (and erased); the first error is returned.
  auto set_many(std::span<const cache_entry> entries, std::chrono::milliseconds ttl) -> status {
    std::vector<cache_entry> good;
    good.reserve(entries.size());
    status first;
    for (const auto& e : entries) {
      if (auto st = check_value(e.key, e.value, ttl); !st) {
        (void)erase(e.key);
        errors_.fetch_add(1, std::memory_order_relaxed);
        if (first) first = std::move(st);
      } else {
        good.push_back(e);
      }
    }
    auto st = set_entries(good, ttl, "SET (set_many)");
    if (!st && first) first = std::move(st);
    return first;
  }

  /// Removes each key; returns how many held a value.
  auto erase_many(std::span<const std::string_view> keys) -> result<std::uint64_t> {
    return erase_keys(keys, "DEL (erase_many)");
  }

  /// Removes every key of this store that starts with `prefix` (after the key
  /// prefix; "" for all of this store's keys), walking the keyspace with SCAN.
  /// Returns how many were removed. Each SCAN/DEL round trip has the client's budget.
  auto clear(std::string_view prefix = {}) -> result<std::uint64_t> {
    if (auto st = replay_pending(); !st) return counted(std::move(st).error());
    auto n = clear_raw(prefix);
    if (!n) {
      remember_prefix(prefix);
      return counted(std::move(n).error());
    }
    return n;
  }

  /// A snapshot of the counters; `entries` and `bytes` are 0 (the values live in Redis).
  //=== guarded fills (ormkit::guarded_cache_store) ===//

  /// Like `get_into`; on a miss, `guard` records what lies under `key` and under
  /// `scope` ("" for none), read in the same round trip, for `set_guarded`. An
  /// invalidation marker under `key` reads as a plain miss.
  auto get_guarded(std::string_view key, std::string_view scope, std::string& out, cache_guard& guard)
      -> result<bool> {
    std::vector<cache_guard> guards;
    auto got = guarded_fetch(std::span(&key, 1), scope, guards, [&](std::size_t, std::string_view v) {
      out.assign(v.data(), v.size());
    });
    if (!got) return unexpected(std::move(got).error());
    guard = std::move(guards[0]);
    return *got == 1;
  }

  /// `get_many`, recording a guard per key (see `get_guarded`) in `guards`.
  auto get_many_guarded(std::span<const std::string_view> keys, std::string_view scope,
                        std::vector<cache_guard>& guards) -> result<std::vector<std::optional<std::string>>> {
    std::vector<std::optional<std::string>> out(keys.size());
    auto got = guarded_fetch(keys, scope, guards, [&](std::size_t i, std::string_view v) { out[i].emplace(v); });
    if (!got) return unexpected(std::move(got).error());
    return out;
  }

  /// Stores `value` under `key` for `ttl` only if `key` and `scope` still hold what
  /// `guard` recorded (checked and stored by one script, atomically in Redis); returns
  /// whether it stored. An unarmed guard (its read failed) stores nothing.
  auto set_guarded(std::string_view key, std::string_view scope, std::string_view value,
                   std::chrono::milliseconds ttl, const cache_guard& guard) -> result<bool> {
    const cache_entry e{key, value};
    auto n = set_many_guarded(std::span(&e, 1), scope, ttl, std::span(&guard, 1));
    if (!n) return unexpected(std::move(n).error());
    return *n == 1;
  }

  /// `set_guarded` for each entry with `guards[i]`, in one round trip; returns how
  /// many were stored. Errors as `set_many`.
  auto set_many_guarded(std::span<const cache_entry> entries, std::string_view scope, std::chrono::milliseconds ttl,
                        std::span<const cache_guard> guards) -> result<std::uint64_t> {
    if (entries.size() != guards.size())
      return counted(ormkit::error{errc::invalid_argument,
                                   ormkit::detail::concat({"redis cache: set_many_guarded: ", std::to_string(entries.size()),
                                                           " entries but ", std::to_string(guards.size()), " guards"})});
    for (const auto& e : entries)
      if (auto st = check_value(e.key, e.value, ttl); !st) return counted(std::move(st).error());
    if (auto st = replay_pending(); !st) return counted(std::move(st).error());
    const bool publish = options_.publish_invalidations && options_.publish_sets;
    const std::string full_scope = scope.empty() ? std::string() : full_key_text(scope);
    const std::size_t n = entries.size();
    std::vector<std::string> full(n), encoded(n), px(n), messages(n);
    command_batch batch;
    std::vector<std::size_t> sent;  // entry index per script
    std::vector<std::string_view> argv;
    for (std::size_t i = 0; i < n; ++i) {
      const cache_guard& g = guards[i];
      if (!g.armed) continue;
      full[i] = full_key_text(entries[i].key);
      encode_cache_value(encoded[i], full[i], entries[i].value);
      const auto effective = jittered_ttl(ttl, options_.ttl_jitter);
      px[i] = std::to_string(effective.count() > 0 ? effective.count() : 0);
      if (publish) invalidation::encode(messages[i], invalidation::kind::key, origin_, entries[i].key);
      argv.assign({"EVAL", fill_script, scope.empty() ? "1" : "2", full[i]});
      if (!scope.empty()) argv.push_back(full_scope);
      argv.push_back(g.key_state ? "1" : "0");
      argv.push_back(g.key_state ? std::string_view(*g.key_state) : std::string_view());
      if (!scope.empty()) {
        argv.push_back(g.scope_state ? "1" : "0");
        argv.push_back(g.scope_state ? std::string_view(*g.scope_state) : std::string_view());
      }
      argv.push_back(encoded[i]);
      argv.push_back(px[i]);
      argv.push_back(publish ? std::string_view(channel_) : std::string_view());
      argv.push_back(messages[i]);
      batch.add(argv);
      sent.push_back(i);
    }
    std::uint64_t stored = 0;
    std::optional<ormkit::error> refused;
    auto st = client_.pipeline(batch, "EVAL (guarded fill)", [&](std::size_t j, reply_view r) {
      if (r.is_error()) {
        if (!refused) refused = with_key(client_.reply_error(r, "EVAL (guarded fill)"), std::span(&entries[sent[j]].key, 1));
      } else if (r.integer() == 1) {
        ++stored;
      }
    });
    sets_.fetch_add(stored, std::memory_order_relaxed);
    if (!st) {
      std::vector<std::string_view> keys;
      for (const auto& e : entries) keys.push_back(e.key);
      return counted(with_key(std::move(st).error(), keys));
    }
    if (refused) return counted(std::move(*refused));
    return stored;
  }

  /// Removes the value under `key` (reads miss from now on) and leaves in its place,
  /// for `hold`, a marker no guard has seen, so that every fill guarded before this
  /// call is refused; publishes the invalidation like `erase`. Returns whether there
  /// was a value. A failure is remembered and replayed like `erase`'s.
  auto invalidate(std::string_view key, std::chrono::milliseconds hold) -> result<bool> {
    if (auto st = ormkit::detail::check_cache_ttl("redis cache", full_key_text(key), hold); !st) return counted(std::move(st).error());
    if (auto st = replay_pending(); !st) {
      remember_key(key, hold);
      return counted(std::move(st).error());
    }
    const std::string full = full_key_text(key);
    const std::string mark = marker();
    const std::string px = std::to_string(hold.count() > 0 ? hold.count() : 1);
    std::string message;
    command_batch batch;
    batch.add({"SET", full, mark, "PX", px, "GET"});
    if (options_.publish_invalidations) {
      invalidation::encode(message, invalidation::kind::key, origin_, key);
      batch.add({"PUBLISH", channel_, message});
    }
    bool existed = false;
    bool wrong_type = false;
    std::optional<ormkit::error> refused;
    auto st = client_.pipeline(batch, "SET (invalidate)", [&](std::size_t i, reply_view r) {
      if (i != 0) return;
      if (r.is_error()) {
        if (r.str().substr(0, 9) == "WRONGTYPE") wrong_type = true;
        else refused = client_.reply_error(r, "SET (invalidate)");
      } else {
        existed = r.type() == reply_type::string && !is_marker(r.str());
      }
    });
    if (st && wrong_type) {  // another Redis type under our key: replace it
      auto del = client_.command({"DEL", full}, "DEL (invalidate)");
      if (del) del = client_.command({"SET", full, mark, "PX", px}, "SET (invalidate)");
      if (!del) st = unexpected(std::move(del).error());
      existed = true;
    }
    if (!st || refused) {
      remember_key(key, hold);
      return counted(with_key(st ? std::move(*refused) : std::move(st).error(), std::span(&key, 1)));
    }
    erases_.fetch_add(existed ? 1 : 0, std::memory_order_relaxed);
    return existed;
  }

  /// Moves the scope key `scope` on (INCR), so that every fill guarded before is refused.
  /// A failure is remembered and replayed (an INCR) before the next command.
  auto invalidate_scope(std::string_view scope) -> status {
    if (auto st = replay_pending(); !st) {
      remember_scope(scope);
      return counted(std::move(st).error());
    }
    const std::string full = full_key_text(scope);
    auto r = client_.command({"INCR", full}, "INCR (invalidate scope)");
    if (!r) {
      remember_scope(scope);
      return counted(with_key(std::move(r).error(), std::span(&scope, 1)));
    }
    return {};
  }

  [[nodiscard]] auto stats() const noexcept -> cache_stats {
    cache_stats s;
    s.hits = hits_.load(std::memory_order_relaxed);
    s.misses = misses_.load(std::memory_order_relaxed);
    s.sets = sets_.load(std::memory_order_relaxed);
    s.erases = erases_.load(std::memory_order_relaxed);
    s.errors = errors_.load(std::memory_order_relaxed);
    s.corrupt = corrupt_.load(std::memory_order_relaxed);
    return s;
  }

  /// The client's connections and counters (`client::resource_metrics`).
  [[nodiscard]] auto resource_metrics() const -> std::vector<resource_metric> { return client_.resource_metrics(); }

  /// Reads `keys` in one round trip and calls `on_hit(index, value, remaining_ttl)`
  /// for each hit. With `with_ttl`, the remaining TTL comes from PTTL in the same
  /// round trip (`no_expiry` for a value without one); without, it is `no_expiry`.
  /// Misses, unreadable values and errors are counted. This is the read path of
  /// every other read, and what `two_level_store` uses to bound its copies' TTLs.
  template <class F>
  auto fetch(std::span<const std::string_view> keys, bool with_ttl, F&& on_hit) -> status {
    if (keys.empty()) return {};
    if (auto st = replay_pending(); !st) return counted_miss(std::move(st).error(), keys.size());
    // Full keys, back to back in one buffer, then views into it.
    std::string arena;
    std::size_t total = 0;
    for (auto k : keys) total += options_.key_prefix.size() + k.size();
    arena.reserve(total);
    for (auto k : keys) {
      arena += options_.key_prefix;
      arena.append(k.data(), k.size());
    }
    std::vector<std::string_view> full(keys.size());
    for (std::size_t i = 0, at = 0; i < keys.size(); ++i) {
      const std::size_t len = options_.key_prefix.size() + keys[i].size();
      full[i] = std::string_view(arena).substr(at, len);
      at += len;
    }
    command_batch batch;
    std::vector<std::string_view> argv;
    if (with_ttl) {
      for (auto k : full) {
        batch.add({"GET", k});
        batch.add({"PTTL", k});
      }
    } else {
      for (std::size_t at = 0; at < full.size(); at += options_.batch_size) {
        const std::size_t n = std::min(options_.batch_size, full.size() - at);
        argv.assign(1, "MGET");
        argv.insert(argv.end(), full.begin() + static_cast<std::ptrdiff_t>(at),
                    full.begin() + static_cast<std::ptrdiff_t>(at + n));
        batch.add(argv);
      }
    }
    std::string pending_value;  // the GET of a GET/PTTL pair, until its PTTL arrives
    bool pending_hit = false;
    std::uint64_t hits = 0, misses = 0, corrupt = 0;
    auto take = [&](std::size_t i, reply_view r, std::chrono::milliseconds ttl, bool copy) -> bool {
      if (r.type() != reply_type::string) {
        if (!r.is_nil()) ++corrupt;
        ++misses;
        return false;
      }
      const auto v = decode_cache_value(full[i], r.str());
      if (!v.ok()) {
        if (!is_marker(r.str())) ++corrupt;
        ++misses;
        return false;
      }
      ++hits;
      if (copy) pending_value.assign(v.payload.data(), v.payload.size());
      else on_hit(i, v.payload, ttl);
      return true;
    };
    std::size_t next_key = 0;
    auto st = client_.pipeline(batch, with_ttl ? "GET/PTTL" : "MGET", [&](std::size_t reply_index, reply_view r) {
      if (with_ttl) {
        const std::size_t i = reply_index / 2;
        if (reply_index % 2 == 0) {
          pending_hit = false;
          if (r.is_error()) {  // WRONGTYPE: another type of value under our key
            ++corrupt;
            ++misses;
          } else {
            pending_hit = take(i, r, no_expiry, true);
          }
        } else if (pending_hit) {
          const long long ms = r.integer();
          if (ms == -2) {  // expired between GET and PTTL
            --hits;
            ++misses;
          } else {
            on_hit(i, std::string_view(pending_value),
                   ms < 0 ? no_expiry : std::chrono::milliseconds(ms < 1 ? 1 : ms));
          }
        }
        return;
      }
      if (r.is_error()) {  // MGET never fails for a key of another type; keep the batch's keys as misses
        misses += std::min(options_.batch_size, keys.size() - next_key);
        next_key += std::min(options_.batch_size, keys.size() - next_key);
        return;
      }
      for (std::size_t e = 0; e < r.size(); ++e, ++next_key) take(next_key, r[e], no_expiry, false);
    });
    hits_.fetch_add(hits, std::memory_order_relaxed);
    misses_.fetch_add(misses, std::memory_order_relaxed);
    corrupt_.fetch_add(corrupt, std::memory_order_relaxed);
    if (!st) return counted_miss(with_key(std::move(st).error(), keys), keys.size() - hits - misses);
    return {};
  }

 private:
  // One key: the hot path of get, get_into and visit. The full key is built in
  // a per-thread buffer and GET goes out with its argv on the stack.
  template <class F>
  auto fetch_one(std::string_view key, bool with_ttl, F&& on_hit) -> result<bool> {
    if (with_ttl) {
      bool hit = false;
      auto st = fetch(std::span(&key, 1), true, [&](std::size_t, std::string_view v, std::chrono::milliseconds ttl) {
        hit = true;
        on_hit(v, ttl);
      });
      if (!st) return unexpected(std::move(st).error());
      return hit;
    }
    if (auto st = replay_pending(); !st) return counted_miss(std::move(st).error(), 1);
    thread_local std::string full;
    full.assign(options_.key_prefix);
    full.append(key.data(), key.size());
    auto r = client_.command({"GET", full}, "GET");
    if (!r) {
      if (r.error().native == "WRONGTYPE") return corrupt_miss();  // another Redis type under our key
      return counted_miss(with_key(std::move(r).error(), std::span(&key, 1)), 1);
    }
    if (r->is_nil()) {
      misses_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (r->type() != reply_type::string) return corrupt_miss();
    const auto v = decode_cache_value(full, r->str());
    if (!v.ok()) {
      if (!is_marker(r->str())) return corrupt_miss();
      misses_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    hits_.fetch_add(1, std::memory_order_relaxed);
    on_hit(v.payload, no_expiry);
    return true;
  }

  // The check-and-set of a guarded fill. KEYS: the key, then the scope key if any.
  // ARGV: per key a flag ("1": the guard saw these bytes, "0": it saw nothing) and
  // the bytes; then the value, PX in ms (0: no expiry), the channel ("" for no
  // message) and the message.
  static constexpr std::string_view fill_script =
      "for i = 1, #KEYS do "
      "local cur = redis.call('GET', KEYS[i]) "
      "if ARGV[2*i-1] == '0' then if cur then return 0 end "
      "elseif cur ~= ARGV[2*i] then return 0 end "
      "end "
      "local b = 2 * #KEYS "
      "if ARGV[b+2] == '0' then redis.call('SET', KEYS[1], ARGV[b+1]) "
      "else redis.call('SET', KEYS[1], ARGV[b+1], 'PX', ARGV[b+2]) end "
      "if ARGV[b+3] ~= '' then redis.call('PUBLISH', ARGV[b+3], ARGV[b+4]) end "
      "return 1";

  // An invalidation marker: "okt", version 1, this store's origin, a sequence number.
  // Never a valid value (the envelope's magic is "okc"), and never the same twice.
  [[nodiscard]] auto marker() -> std::string {
    std::string m("okt\x01", 4);
    m.resize(20);
    ormkit::detail::store_le(m.data() + 4, origin_, 8);
    ormkit::detail::store_le(m.data() + 12, marker_sequence_.fetch_add(1, std::memory_order_relaxed), 8);
    return m;
  }
  static auto is_marker(std::string_view bytes) noexcept -> bool {
    return bytes.size() == 20 && bytes.substr(0, 4) == std::string_view("okt\x01", 4);
  }

  // The reads of get_guarded and get_many_guarded: MGETs of the keys plus a GET of the
  // scope, in one round trip. Calls `on_hit(i, payload)` per hit; `guards` gets one
  // guard per key, armed for the misses. Returns the number of hits.
  template <class F>
  auto guarded_fetch(std::span<const std::string_view> keys, std::string_view scope, std::vector<cache_guard>& guards,
                     F&& on_hit) -> result<std::size_t> {
    guards.assign(keys.size(), cache_guard{});
    if (keys.empty()) return std::size_t{0};
    if (auto st = replay_pending(); !st) return counted_miss(std::move(st).error(), keys.size());
    std::vector<std::string> full(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) full[i] = full_key_text(keys[i]);
    const std::string full_scope = scope.empty() ? std::string() : full_key_text(scope);
    command_batch batch;
    std::vector<std::string_view> argv;
    std::size_t mgets = 0;
    for (std::size_t at = 0; at < full.size(); at += options_.batch_size, ++mgets) {
      const std::size_t n = std::min(options_.batch_size, full.size() - at);
      argv.assign(1, "MGET");
      for (std::size_t i = at; i < at + n; ++i) argv.push_back(full[i]);
      batch.add(argv);
    }
    if (!scope.empty()) batch.add({"GET", full_scope});
    std::size_t hits = 0, misses = 0, corrupt = 0, next = 0;
    bool failed = false;
    std::optional<std::string> scope_state;
    auto st = client_.pipeline(batch, "MGET (guarded)", [&](std::size_t j, reply_view r) {
      if (j == mgets) {  // the scope
        if (r.is_error()) failed = true;
        else if (r.type() == reply_type::string) scope_state.emplace(r.str());
        else if (!r.is_nil()) scope_state.emplace();  // an integer reply cannot come from GET; be safe
        return;
      }
      if (r.is_error()) {
        failed = true;
        next += std::min(options_.batch_size, keys.size() - next);
        return;
      }
      for (std::size_t e = 0; e < r.size(); ++e, ++next) {
        const reply_view v = r[e];
        if (v.type() == reply_type::string) {
          const auto d = decode_cache_value(full[next], v.str());
          if (d.ok()) {
            ++hits;
            on_hit(next, d.payload);
            continue;
          }
          if (!is_marker(v.str())) ++corrupt;
          guards[next].key_state.emplace(v.str());
        }
        ++misses;
        guards[next].armed = true;
      }
    });
    hits_.fetch_add(hits, std::memory_order_relaxed);
    misses_.fetch_add(misses, std::memory_order_relaxed);
    corrupt_.fetch_add(corrupt, std::memory_order_relaxed);
    if (!st) {
      for (auto& g : guards) g = {};
      return counted_miss(with_key(std::move(st).error(), keys), keys.size() - hits - misses);
    }
    for (auto& g : guards) {
      if (failed) g.armed = false;  // a read we could not make: fill nothing
      else if (g.armed) g.scope_state = scope_state;
    }
    if (failed) errors_.fetch_add(1, std::memory_order_relaxed);
    return hits;
  }

  auto corrupt_miss() -> bool {
    corrupt_.fetch_add(1, std::memory_order_relaxed);
    misses_.fetch_add(1, std::memory_order_relaxed);
    return false;
  }

  auto check_value(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) const -> status {
    if (auto st = ormkit::detail::check_cache_ttl("redis cache", full_key_text(key), ttl); !st) return st;
    if (value.size() > options_.max_value_bytes || value.size() > 0xffffffffu - 1)
      return unexpected(errc::invalid_argument,
                        ormkit::detail::concat({"redis cache: key ", ormkit::detail::quote_cache_key(full_key_text(key)),
                                                ": value of ", std::to_string(value.size()),
                                                " bytes exceeds max_value_bytes (",
                                                std::to_string(options_.max_value_bytes), ")"}));
    return {};
  }

  [[nodiscard]] auto full_key_text(std::string_view key) const -> std::string {
    return ormkit::detail::concat({options_.key_prefix, key});
  }

  // Adds the key (or the first key and a count) to a failed call's message.
  [[nodiscard]] auto with_key(ormkit::error e, std::span<const std::string_view> keys) const -> ormkit::error {
    if (keys.empty()) return e;
    e.message += ormkit::detail::concat({" (key ", ormkit::detail::quote_cache_key(full_key_text(keys[0]))});
    if (keys.size() > 1) e.message += ormkit::detail::concat({" and ", std::to_string(keys.size() - 1), " more"});
    e.message += ')';
    return e;
  }

  auto counted(ormkit::error e) -> ormkit::unexpected {
    errors_.fetch_add(1, std::memory_order_relaxed);
    return ormkit::unexpected(std::move(e));
  }
  auto counted_miss(ormkit::error e, std::size_t reads) -> ormkit::unexpected {
    misses_.fetch_add(reads, std::memory_order_relaxed);
    return counted(std::move(e));
  }

  auto set_entries(std::span<const cache_entry> entries, std::chrono::milliseconds ttl, std::string_view what)
      -> status {
    if (entries.empty()) return {};
    if (auto st = replay_pending(); !st) return counted(std::move(st).error());
    const bool publish = options_.publish_invalidations && options_.publish_sets;
    // Every full key, encoded value and message, in one buffer each; views taken after.
    std::vector<std::string> full(entries.size()), encoded(entries.size()), messages(publish ? entries.size() : 0);
    std::vector<std::string> px(entries.size());
    command_batch batch;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      full[i] = full_key_text(entries[i].key);
      encode_cache_value(encoded[i], full[i], entries[i].value);
      const auto effective = jittered_ttl(ttl, options_.ttl_jitter);
      if (effective.count() > 0) {
        px[i] = std::to_string(effective.count());
        batch.add({"SET", full[i], encoded[i], "PX", px[i]});
      } else {
        batch.add({"SET", full[i], encoded[i]});
      }
      if (publish) {
        invalidation::encode(messages[i], invalidation::kind::key, origin_, entries[i].key);
        batch.add({"PUBLISH", channel_, messages[i]});
      }
    }
    std::uint64_t ok = 0;
    std::optional<ormkit::error> refused;
    const std::size_t stride = publish ? 2 : 1;
    auto st = client_.pipeline(batch, what, [&](std::size_t i, reply_view r) {
      if (i % stride != 0) return;  // PUBLISH: the number of receivers
      if (r.is_error()) {
        if (!refused) refused = with_key(client_.reply_error(r, what), std::span(&entries[i / stride].key, 1));
      } else {
        ++ok;
      }
    });
    sets_.fetch_add(ok, std::memory_order_relaxed);
    if (!st) {
      std::vector<std::string_view> keys;
      for (const auto& e : entries) keys.push_back(e.key);
      return counted(with_key(std::move(st).error(), keys));
    }
    if (refused) return counted(std::move(*refused));
    return {};
  }

  auto erase_keys(std::span<const std::string_view> keys, std::string_view what) -> result<std::uint64_t> {
    if (keys.empty()) return std::uint64_t{0};
    if (auto st = replay_pending(); !st) {
      for (auto k : keys) remember_key(k);
      return counted(std::move(st).error());
    }
    auto n = erase_raw(keys, what);
    if (!n) {
      for (auto k : keys) remember_key(k);
      return counted(with_key(std::move(n).error(), keys));
    }
    return n;
  }

  // DEL (+ PUBLISH) without the pending bookkeeping.
  auto erase_raw(std::span<const std::string_view> keys, std::string_view what) -> result<std::uint64_t> {
    std::vector<std::string> full(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) full[i] = full_key_text(keys[i]);
    command_batch batch;
    std::vector<std::string_view> argv;
    std::size_t dels = 0;
    for (std::size_t at = 0; at < full.size(); at += options_.batch_size) {
      const std::size_t n = std::min(options_.batch_size, full.size() - at);
      argv.assign(1, "DEL");
      for (std::size_t i = at; i < at + n; ++i) argv.push_back(full[i]);
      batch.add(argv);
      ++dels;
    }
    std::vector<std::string> messages;
    if (options_.publish_invalidations) {
      messages.resize(keys.size());
      for (std::size_t i = 0; i < keys.size(); ++i) {
        invalidation::encode(messages[i], invalidation::kind::key, origin_, keys[i]);
        batch.add({"PUBLISH", channel_, messages[i]});
      }
    }
    std::uint64_t removed = 0;
    std::optional<ormkit::error> refused;
    auto st = client_.pipeline(batch, what, [&](std::size_t i, reply_view r) {
      if (r.is_error()) {
        if (!refused) refused = client_.reply_error(r, what);
      } else if (i < dels) {
        removed += static_cast<std::uint64_t>(r.integer());
      }
    });
    if (!st) return unexpected(std::move(st).error());
    if (refused) return unexpected(std::move(*refused));
    erases_.fetch_add(removed, std::memory_order_relaxed);
    return removed;
  }

  // SCAN + DEL + PUBLISH without the pending bookkeeping.
  auto clear_raw(std::string_view prefix) -> result<std::uint64_t> {
    const std::string full_prefix = full_key_text(prefix);
    std::string pattern;
    for (char c : full_prefix) {
      if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') pattern += '\\';
      pattern += c;
    }
    pattern += '*';
    const std::string count = std::to_string(options_.batch_size);
    std::string cursor = "0";
    std::uint64_t removed = 0;
    std::vector<std::string> found;
    do {
      auto page = client_.command({"SCAN", cursor, "MATCH", pattern, "COUNT", count}, "SCAN");
      if (!page) return unexpected(std::move(page).error());
      if (page->type() != reply_type::array || page->size() != 2)
        return unexpected(errc::corrupt, ormkit::detail::concat({"redis ", client_.endpoint(),
                                                                 ": SCAN: unexpected reply shape"}));
      cursor = std::string((*page)[0].str());
      found.clear();
      const reply_view keys = (*page)[1];
      for (std::size_t i = 0; i < keys.size(); ++i) {
        const std::string_view k = keys[i].str();
        // The pattern already matches only the prefix; check anyway, DEL is not undoable.
        if (k.substr(0, full_prefix.size()) == full_prefix) found.emplace_back(k);
      }
      if (!found.empty()) {
        std::vector<std::string_view> argv{"DEL"};
        for (const auto& k : found) argv.push_back(k);
        auto del = client_.command(argv, "DEL (clear)");
        if (!del) return unexpected(std::move(del).error());
        removed += static_cast<std::uint64_t>(del->integer());
      }
    } while (cursor != "0");
    erases_.fetch_add(removed, std::memory_order_relaxed);
    if (options_.publish_invalidations) {
      std::string message;
      invalidation::encode(message, invalidation::kind::prefix, origin_, prefix);
      auto pub = client_.command({"PUBLISH", channel_, message}, "PUBLISH");
      if (!pub) return unexpected(std::move(pub).error());
    }
    return removed;
  }

  //--- failed invalidations, replayed before the next command ---//

  struct pending_key {
    std::string key;
    std::chrono::milliseconds hold;  // zero: an erase
  };

  // `hold`: zero for an erase (replayed as DEL), else an invalidation's marker time
  // (replayed as a fresh marker for that long).
  void remember_key(std::string_view key, std::chrono::milliseconds hold = std::chrono::milliseconds(0)) {
    std::lock_guard lock(pending_mu_);
    if (pending_keys_.size() >= options_.max_pending_invalidations) {
      // Too many to keep: clear the whole prefix instead. The markers of the keys dropped
      // here are lost, so fills guarded before them are no longer refused (scopes are kept).
      pending_keys_.clear();
      pending_prefixes_.assign(1, std::string());
    } else if (!(pending_prefixes_.size() == 1 && pending_prefixes_[0].empty())) {
      pending_keys_.push_back({std::string(key), hold});
    }
    pending_.store(true, std::memory_order_release);
  }

  void remember_scope(std::string_view scope) {
    std::lock_guard lock(pending_mu_);
    // A scope moved twice is as good as once: keep each one once.
    if (std::find(pending_scopes_.begin(), pending_scopes_.end(), scope) == pending_scopes_.end())
      pending_scopes_.emplace_back(scope);
    pending_.store(true, std::memory_order_release);
  }

  void remember_prefix(std::string_view prefix) {
    std::lock_guard lock(pending_mu_);
    if (pending_prefixes_.size() >= options_.max_pending_invalidations) pending_prefixes_.assign(1, std::string());
    else pending_prefixes_.emplace_back(prefix);
    pending_.store(true, std::memory_order_release);
  }

  // Replays, in this order: scope moves (so that fills guarded before them are refused
  // from here on), prefix clears, then keys (markers for invalidations, DEL for erases).
  auto replay_pending() -> status {
    if (!pending_.load(std::memory_order_acquire)) return {};
    std::lock_guard replaying(replay_mu_);  // one replay at a time; the others wait for it
    std::vector<pending_key> keys;
    std::vector<std::string> prefixes, scopes;
    {
      std::lock_guard lock(pending_mu_);
      keys.swap(pending_keys_);
      prefixes.swap(pending_prefixes_);
      scopes.swap(pending_scopes_);
      pending_.store(false, std::memory_order_release);
    }
    auto put_back = [&] {
      std::lock_guard lock(pending_mu_);
      for (auto& k : keys) pending_keys_.push_back(std::move(k));
      for (auto& p : prefixes) pending_prefixes_.push_back(std::move(p));
      for (auto& c : scopes)
        if (std::find(pending_scopes_.begin(), pending_scopes_.end(), c) == pending_scopes_.end())
          pending_scopes_.push_back(std::move(c));
      pending_.store(true, std::memory_order_release);
    };
    if (!scopes.empty()) {
      command_batch batch;
      std::vector<std::string> full(scopes.size());
      for (std::size_t i = 0; i < scopes.size(); ++i) {
        full[i] = full_key_text(scopes[i]);
        batch.add({"INCR", full[i]});
      }
      std::optional<ormkit::error> refused;
      auto st = client_.pipeline(batch, "INCR (replaying failed scope moves)", [&](std::size_t, reply_view r) {
        if (r.is_error() && !refused) refused = client_.reply_error(r, "INCR (replaying failed scope moves)");
      });
      if (!st || refused) {
        put_back();
        return unexpected(st ? std::move(*refused) : std::move(st).error());
      }
      scopes.clear();
    }
    for (std::size_t i = 0; i < prefixes.size(); ++i) {
      if (auto n = clear_raw(prefixes[i]); !n) {
        prefixes.erase(prefixes.begin(), prefixes.begin() + static_cast<std::ptrdiff_t>(i));
        put_back();
        return unexpected(std::move(n).error());
      }
    }
    prefixes.clear();
    std::vector<std::string_view> erased;
    std::vector<const pending_key*> marked;
    for (const auto& k : keys) {
      if (k.hold.count() > 0) marked.push_back(&k);
      else erased.push_back(k.key);
    }
    if (!erased.empty()) {
      if (auto n = erase_raw(erased, "DEL (replaying failed invalidations)"); !n) {
        put_back();
        return unexpected(std::move(n).error());
      }
    }
    if (!marked.empty()) {
      if (auto st = mark_raw(marked); !st) {
        put_back();
        return st;
      }
    }
    return {};
  }

  // SET <fresh marker> PX hold (+ PUBLISH) per key, without the pending bookkeeping.
  // SET without GET replaces a value of any Redis type.
  auto mark_raw(std::span<const pending_key* const> keys) -> status {
    constexpr std::string_view what = "SET (replaying failed invalidations)";
    const std::size_t n = keys.size();
    std::vector<std::string> full(n), marks(n), px(n), messages;
    if (options_.publish_invalidations) messages.resize(n);
    command_batch batch;
    for (std::size_t i = 0; i < n; ++i) {
      full[i] = full_key_text(keys[i]->key);
      marks[i] = marker();
      px[i] = std::to_string(keys[i]->hold.count());
      batch.add({"SET", full[i], marks[i], "PX", px[i]});
      if (options_.publish_invalidations) {
        invalidation::encode(messages[i], invalidation::kind::key, origin_, keys[i]->key);
        batch.add({"PUBLISH", channel_, messages[i]});
      }
    }
    std::optional<ormkit::error> refused;
    auto st = client_.pipeline(batch, what, [&](std::size_t, reply_view r) {
      if (r.is_error() && !refused) refused = client_.reply_error(r, what);
    });
    if (!st) return st;
    if (refused) return unexpected(std::move(*refused));
    return {};
  }

  static auto make_origin() noexcept -> std::uint64_t {
    static std::atomic<std::uint64_t> sequence{0};
    std::uint64_t h = static_cast<std::uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
    h ^= static_cast<std::uint64_t>(::getpid()) << 32;
    h ^= sequence.fetch_add(1, std::memory_order_relaxed) * 0x9e3779b97f4a7c15ull;
    h ^= static_cast<std::uint64_t>(ormkit::detail::jitter_unit() * 0x1.0p53);
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    return h == 0 ? 1 : h;
  }

  store_options options_;
  client client_;
  std::string channel_;
  std::uint64_t origin_;
  mutable std::mutex pending_mu_;
  std::mutex replay_mu_;
  std::vector<pending_key> pending_keys_;
  std::vector<std::string> pending_prefixes_;
  std::vector<std::string> pending_scopes_;
  std::atomic<bool> pending_{false};
  std::atomic<std::uint64_t> hits_{0}, misses_{0}, sets_{0}, erases_{0}, errors_{0}, corrupt_{0};
  std::atomic<std::uint64_t> marker_sequence_{0};
};

static_assert(guarded_cache_store<store>);

}  // namespace ormkit::redis
