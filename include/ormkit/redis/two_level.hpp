// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/redis/two_level.hpp
//
// `ormkit::redis::two_level_store`: an in-process `cache::memory_store` (L1) in
// front of a `redis::store` (L2), kept coherent across processes.
//
// Reads try L1, then L2; an L2 hit is copied into L1 for the value's remaining
// Redis TTL, capped by `l1_ttl`. Writes go to L1 and then L2; erase and clear
// remove from both, and L2 publishes an invalidation (redis/store.hpp).
//
// Coherence. A subscriber thread, on its own connection, listens on L2's
// channel and drops each key another process invalidates (or sets) from L1,
// within one pub/sub delivery (well under a millisecond on a LAN). It pings
// every `heartbeat` and counts a missing answer within the client's `timeout`
// as a lost subscription. While the subscription is down L1 is not filled from
// L2 (its copies could not be invalidated), and on every (re)subscription L1 is
// cleared, since invalidations may have been missed. What L1 holds while the
// subscription is down is still served when `serve_l1_while_disconnected` is
// set (the default; "degrade to L1"): those values are at most `l1_ttl` old,
// which is therefore the bound on staleness across processes when Redis
// fails. Within this process, a read never returns a value older than the last
// completed set or erase made through this store: every write and every
// received invalidation advances an epoch (one per stripe of keys) before it
// drops the key from L1, a fill from L2 stores into L1 only if its key's epoch
// has not moved since it started (checked under L1's lock for the key, so the
// fill and the drop cannot interleave), and a write updates L1 again
// once L2 has answered (so a fill that read L2 before the write landed cannot
// leave the older value behind).
//
// Failures. A read never fails: when L2 cannot be reached it degrades to L1 or
// a miss, and the error is counted. Writes update L1, then return L2's error
// (also counted), so a caller may log that other processes were not told; the
// value stays in L1 meanwhile (this process reads its own write). A value too
// large for L1 (`l1().max_entry_bytes()`) is kept in L2 only.
//
// A call that has to connect first may take `connect_timeout` + `timeout`.
//
// Thread-safe. Create it after any fork(): the subscriber thread does not
// survive one.
//
// Example:
//
//   ormkit::redis::two_level_store cache({
//       .l1 = {.max_entries = 10'000},
//       .l2 = {.server = {.host = "127.0.0.1", .port = 6379}, .key_prefix = "shop:"}});
//   cache.set("users:42", bytes, std::chrono::seconds(60)).value();
//   auto hit = cache.get("users:42").value();   // from L1 in this process

#include <ormkit/cache.hpp>
#include <ormkit/cache/memory.hpp>
#include <ormkit/error.hpp>
#include <ormkit/redis/client.hpp>
#include <ormkit/redis/store.hpp>
#include <ormkit/result.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

namespace ormkit::redis {

/// How to run a `two_level_store`.
struct two_level_options {
  /// The in-process level. Its `ttl_jitter` is replaced by `ttl_jitter` below.
  cache::memory_options l1{};
  /// The Redis level. Its `ttl_jitter` is replaced by `ttl_jitter` below, and
  /// `publish_invalidations` is forced on (the other processes rely on it).
  store_options l2{};
  /// Longest time a value stays in L1: the staleness bound across processes
  /// while invalidations cannot be delivered.
  std::chrono::milliseconds l1_ttl{std::chrono::seconds(60)};
  /// Fraction of each TTL that jitter may take off, in both levels.
  double ttl_jitter = 0.1;
  /// How often the subscriber checks that its connection is alive.
  std::chrono::milliseconds heartbeat{std::chrono::seconds(1)};
  /// Serve what L1 holds while the subscription is down (see the header comment).
  bool serve_l1_while_disconnected = true;
};

/// What the subscriber has counted.
struct coherence_stats {
  std::uint64_t subscriptions = 0;    ///< successful (re)subscriptions (each clears L1)
  std::uint64_t disconnects = 0;      ///< subscriptions lost (connection closed, ping unanswered)
  std::uint64_t invalidations = 0;    ///< messages from other stores applied to L1
  std::uint64_t own_messages = 0;     ///< messages from this store, ignored
  std::uint64_t foreign_messages = 0; ///< messages on the channel that are not invalidations, ignored
  std::uint64_t errors = 0;           ///< failed connection or subscription attempts
};

/// L1 in process in front of L2 in Redis. See the header comment. Satisfies `ormkit::cache_store`.
class two_level_store {
 public:
  /// Starts the subscriber thread; it connects in the background (see `wait_coherent`).
  /// Throws: as `cache::memory_store` for bad L1 options; `std::system_error` when
  /// the thread or its wake-up pipe cannot be created.
  explicit two_level_store(two_level_options o)
      : options_(prepare(std::move(o))), l1_(options_.l1), l2_(options_.l2) {
    if (::pipe(wake_) != 0) throw std::system_error(errno, std::generic_category(), "two_level_store: pipe");
    for (int fd : wake_) ::fcntl(fd, F_SETFD, FD_CLOEXEC);
    ::fcntl(wake_[0], F_SETFL, ::fcntl(wake_[0], F_GETFL) | O_NONBLOCK);
    try {
      subscriber_ = std::thread([this] { subscriber_loop(); });
    } catch (...) {
      ::close(wake_[0]);
      ::close(wake_[1]);
      throw;
    }
  }

  two_level_store(const two_level_store&) = delete;
  auto operator=(const two_level_store&) -> two_level_store& = delete;

  /// Stops the subscriber: at once while it listens or waits to retry (it is
  /// woken); within the connection budgets while it is connecting or subscribing.
  ~two_level_store() {
    stopping_.store(true);
    const char byte = 1;
    while (::write(wake_[1], &byte, 1) < 0 && errno == EINTR) {
    }
    subscriber_.join();
    ::close(wake_[0]);
    ::close(wake_[1]);
  }

  [[nodiscard]] auto name() const noexcept -> std::string_view { return "two_level"; }
  [[nodiscard]] auto l1() noexcept -> cache::memory_store& { return l1_; }
  [[nodiscard]] auto l2() noexcept -> store& { return l2_; }
  [[nodiscard]] auto config() const noexcept -> const two_level_options& { return options_; }

  /// Whether the subscription is up (L1 is being kept coherent).
  [[nodiscard]] auto coherent() const noexcept -> bool { return coherent_.load(std::memory_order_acquire); }

  /// Waits up to `timeout` for the subscription to be up; returns `coherent()`.
  auto wait_coherent(std::chrono::milliseconds timeout) -> bool {
    std::unique_lock lock(state_mu_);
    state_cv_.wait_for(lock, timeout, [&] { return coherent(); });
    return coherent();
  }

  /// Returns the value under `key`, from L1 or else L2. Never fails: L2 errors
  /// are counted and read as a miss.
  auto get(std::string_view key) -> result<std::optional<std::string>> {
    std::optional<std::string> out;
    (void)read(key, [&](std::string_view v) { out.emplace(v); });
    return out;
  }

  /// Copies the value under `key` into `out` (reusing its capacity); false on a miss.
  auto get_into(std::string_view key, std::string& out) -> result<bool> {
    return read(key, [&](std::string_view v) { out.assign(v.data(), v.size()); });
  }

  /// Calls `f(value)` on a hit (from L1 under its shard lock, or from the Redis
  /// reply); no copy is made for the caller.
  auto visit(std::string_view key, cache_visitor f) -> result<bool> { return read(key, f); }

  /// Stores in L1 (for at most `l1_ttl`) and in L2 (for `ttl`). A value too
  /// large for L1 (over `l1().max_entry_bytes()`) is kept in L2 only.
  /// Errors: L2's. errc::invalid_argument (negative TTL, too large for L2):
  /// nothing is stored and the old value is erased from both levels; any other
  /// (L2 unreachable): the value stays in L1, so this process reads its write.
  auto set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) -> status {
    sets_.fetch_add(1, std::memory_order_relaxed);
    const std::uint64_t mine = bump(key);
    const bool fits = fits_l1(key, value);
    if (fits) (void)l1_.set(key, value, l1_ttl_for(ttl));  // a negative TTL: L1 refuses and drops its copy
    else (void)l1_.erase(key);
    auto st = l2_.set(key, value, ttl);
    settle(key, fits && keeps_value(st) ? &value : nullptr, ttl, mine);
    if (!st) return counted(std::move(st).error());
    return {};
  }

  /// Removes `key` from both levels and tells the other processes. Returns whether
  /// either level held it. Errors: L2's (L1 is erased regardless).
  auto erase(std::string_view key) -> result<bool> {
    bump(key);
    const bool in_l1 = *l1_.erase(key);
    auto in_l2 = l2_.erase(key);
    bump(key);  // a fill that read L2 before the DEL landed is undone (see settle)
    (void)l1_.erase(key);
    erases_.fetch_add(1, std::memory_order_relaxed);
    if (!in_l2) return counted(std::move(in_l2).error());
    return in_l1 || *in_l2;
  }

  /// One optional per key, in order: L1 first, the rest from L2 in one round trip.
  /// Never fails (L2 errors are counted and read as misses).
  auto get_many(std::span<const std::string_view> keys) -> result<std::vector<std::optional<std::string>>> {
    std::vector<std::optional<std::string>> out(keys.size());
    std::vector<std::size_t> missing;
    std::vector<std::string_view> missing_keys;
    read_l1(keys, out, missing, missing_keys);
    std::uint64_t hits = keys.size() - missing.size();
    if (!missing.empty()) {
      std::vector<std::uint64_t> before(missing.size());
      for (std::size_t j = 0; j < missing.size(); ++j) before[j] = epoch(missing_keys[j]);
      const bool fill = coherent();
      auto st = l2_.fetch(missing_keys, fill, [&](std::size_t j, std::string_view v, std::chrono::milliseconds left) {
        out[missing[j]].emplace(v);
        ++hits;
        if (fill) fill_l1(missing_keys[j], v, left, before[j]);
      });
      if (!st) errors_.fetch_add(1, std::memory_order_relaxed);
    }
    hits_.fetch_add(hits, std::memory_order_relaxed);
    misses_.fetch_add(keys.size() - hits, std::memory_order_relaxed);
    return out;
  }

  /// Stores every entry in both levels (L2 in one round trip); returns the first error.
  auto set_many(std::span<const cache_entry> entries, std::chrono::milliseconds ttl) -> status {
    sets_.fetch_add(entries.size(), std::memory_order_relaxed);
    std::vector<std::uint64_t> mine(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
      mine[i] = bump(entries[i].key);
      if (fits_l1(entries[i].key, entries[i].value)) (void)l1_.set(entries[i].key, entries[i].value, l1_ttl_for(ttl));
      else (void)l1_.erase(entries[i].key);
    }
    auto st = l2_.set_many(entries, ttl);
    // On invalid_argument some entries were refused (and erased from L2): drop all from L1.
    const bool keep = keeps_value(st);
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const bool fits = fits_l1(entries[i].key, entries[i].value);
      settle(entries[i].key, keep && fits ? &entries[i].value : nullptr, ttl, mine[i]);
    }
    if (!st) return counted(std::move(st).error());
    return {};
  }

  /// Removes each key from both levels; returns how many either level held.
  auto erase_many(std::span<const std::string_view> keys) -> result<std::uint64_t> {
    for (auto k : keys) bump(k);
    const std::uint64_t in_l1 = *l1_.erase_many(keys);
    auto in_l2 = l2_.erase_many(keys);
    for (auto k : keys) bump(k);
    (void)l1_.erase_many(keys);
    erases_.fetch_add(keys.size(), std::memory_order_relaxed);
    if (!in_l2) return counted(std::move(in_l2).error());
    return std::max(in_l1, *in_l2);
  }

  /// Removes every key starting with `prefix` from both levels and tells the
  /// other processes. Returns how many L2 held (L1 holds a subset).
  auto clear(std::string_view prefix = {}) -> result<std::uint64_t> {
    bump_all();
    const std::uint64_t in_l1 = *l1_.clear(prefix);
    auto in_l2 = l2_.clear(prefix);
    bump_all();
    (void)l1_.clear(prefix);
    if (!in_l2) return counted(std::move(in_l2).error());
    erases_.fetch_add(*in_l2, std::memory_order_relaxed);
    return std::max(in_l1, *in_l2);
  }

  //=== guarded fills (ormkit::guarded_cache_store), for the cache-aside layer ===//

  /// L1, then L2's `get_guarded` (the guard is L2's; L1 holds nothing a guard needs).
  auto get_guarded(std::string_view key, std::string_view scope, std::string& out, cache_guard& guard)
      -> result<bool> {
    guard = {};
    if (l1_readable() && *l1_.get_into(key, out)) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    auto got = l2_.get_guarded(key, scope, out, guard);
    if (!got) errors_.fetch_add(1, std::memory_order_relaxed);
    const bool hit = got && *got;
    (hit ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
    return hit;  // like `get`, a read never fails: L2's error is counted and reads as a miss
  }

  /// `get_guarded` per key: L1 first, the rest from L2 in one round trip.
  auto get_many_guarded(std::span<const std::string_view> keys, std::string_view scope,
                        std::vector<cache_guard>& guards) -> result<std::vector<std::optional<std::string>>> {
    guards.assign(keys.size(), cache_guard{});
    std::vector<std::optional<std::string>> out(keys.size());
    std::vector<std::size_t> missing;
    std::vector<std::string_view> missing_keys;
    read_l1(keys, out, missing, missing_keys);
    std::uint64_t hits = keys.size() - missing.size();
    if (!missing.empty()) {
      std::vector<cache_guard> got_guards;
      auto got = l2_.get_many_guarded(missing_keys, scope, got_guards);
      if (!got) {
        errors_.fetch_add(1, std::memory_order_relaxed);
      } else {
        for (std::size_t j = 0; j < missing.size(); ++j) {
          if ((*got)[j]) {
            out[missing[j]] = std::move((*got)[j]);
            ++hits;
          }
          guards[missing[j]] = std::move(got_guards[j]);
        }
      }
    }
    hits_.fetch_add(hits, std::memory_order_relaxed);
    misses_.fetch_add(keys.size() - hits, std::memory_order_relaxed);
    return out;
  }

  /// L2's `set_guarded`; when it stored, L1 takes the value too (as `set` does),
  /// otherwise L1 drops the key.
  auto set_guarded(std::string_view key, std::string_view scope, std::string_view value,
                   std::chrono::milliseconds ttl, const cache_guard& guard) -> result<bool> {
    const std::uint64_t mine = bump(key);
    auto stored = l2_.set_guarded(key, scope, value, ttl, guard);
    const bool ok = stored && *stored;
    if (ok) sets_.fetch_add(1, std::memory_order_relaxed);
    settle(key, ok && fits_l1(key, value) ? &value : nullptr, ttl, mine);
    if (!stored) return counted(std::move(stored).error());
    return ok;
  }

  /// L2's `set_many_guarded`; L1 drops the keys (the next reads copy what L2 stored).
  auto set_many_guarded(std::span<const cache_entry> entries, std::string_view scope, std::chrono::milliseconds ttl,
                        std::span<const cache_guard> guards) -> result<std::uint64_t> {
    for (const auto& e : entries) bump(e.key);
    auto stored = l2_.set_many_guarded(entries, scope, ttl, guards);
    for (const auto& e : entries) {
      bump(e.key);
      (void)l1_.erase(e.key);
    }
    if (!stored) return counted(std::move(stored).error());
    sets_.fetch_add(*stored, std::memory_order_relaxed);
    return stored;
  }

  /// Like `erase`, with L2's `invalidate` (a marker that refuses older guarded fills).
  auto invalidate(std::string_view key, std::chrono::milliseconds hold) -> result<bool> {
    bump(key);
    const bool in_l1 = *l1_.erase(key);
    auto in_l2 = l2_.invalidate(key, hold);
    bump(key);
    (void)l1_.erase(key);
    erases_.fetch_add(1, std::memory_order_relaxed);
    if (!in_l2) return counted(std::move(in_l2).error());
    return in_l1 || *in_l2;
  }

  /// L2's `invalidate_scope`.
  auto invalidate_scope(std::string_view scope) -> status {
    auto st = l2_.invalidate_scope(scope);
    if (!st) return counted(std::move(st).error());
    return {};
  }

  /// This store's counters: hits and misses of reads through it (from either
  /// level), its own sets, erases and errors; evictions, expirations, entries
  /// and bytes of L1; corrupt values of L2. `l1().stats()` and `l2().stats()`
  /// have each level's own.
  [[nodiscard]] auto stats() const -> cache_stats {
    const cache_stats one = l1_.stats();
    cache_stats s;
    s.hits = hits_.load(std::memory_order_relaxed);
    s.misses = misses_.load(std::memory_order_relaxed);
    s.sets = sets_.load(std::memory_order_relaxed);
    s.erases = erases_.load(std::memory_order_relaxed);
    s.errors = errors_.load(std::memory_order_relaxed);
    s.corrupt = l2_.stats().corrupt;
    s.evictions = one.evictions;
    s.expirations = one.expirations;
    s.entries = one.entries;
    s.bytes = one.bytes;
    return s;
  }

  /// L2's connections and counters, then the subscriber's (`coherence()`) as
  /// `subscriptions`, `subscription_losses`, `invalidations_received`, `subscriber_errors`.
  [[nodiscard]] auto resource_metrics() const -> std::vector<resource_metric> {
    auto out = l2_.resource_metrics();
    const auto c = coherence();
    using k = resource_metric::kind;
    out.push_back({"subscriptions", "Invalidation channel (re)subscriptions (each clears L1).", k::counter,
                   c.subscriptions});
    out.push_back({"subscription_losses", "Invalidation subscriptions lost.", k::counter, c.disconnects});
    out.push_back({"invalidations_received", "Invalidations from other processes applied to L1.", k::counter,
                   c.invalidations});
    out.push_back({"subscriber_errors", "Failed subscription attempts.", k::counter, c.errors});
    return out;
  }

  /// The subscriber's counters.
  [[nodiscard]] auto coherence() const noexcept -> coherence_stats {
    coherence_stats c;
    c.subscriptions = subscriptions_.load(std::memory_order_relaxed);
    c.disconnects = disconnects_.load(std::memory_order_relaxed);
    c.invalidations = invalidations_.load(std::memory_order_relaxed);
    c.own_messages = own_messages_.load(std::memory_order_relaxed);
    c.foreign_messages = foreign_messages_.load(std::memory_order_relaxed);
    c.errors = subscriber_errors_.load(std::memory_order_relaxed);
    return c;
  }

 private:
  static constexpr std::size_t stripes = 256;

  static auto prepare(two_level_options o) -> two_level_options {
    o.l1.ttl_jitter = o.ttl_jitter;
    o.l2.ttl_jitter = o.ttl_jitter;
    o.l2.publish_invalidations = true;
    if (o.l1_ttl.count() <= 0) o.l1_ttl = std::chrono::milliseconds(1);
    if (o.heartbeat.count() <= 0) o.heartbeat = std::chrono::milliseconds(1000);
    return o;
  }

  [[nodiscard]] auto l1_ttl_for(std::chrono::milliseconds ttl) const noexcept -> std::chrono::milliseconds {
    if (ttl.count() < 0) return ttl;  // rejected by L1 with its message
    return ttl.count() == 0 ? options_.l1_ttl : std::min(ttl, options_.l1_ttl);
  }

  [[nodiscard]] auto l1_readable() const noexcept -> bool {
    return options_.serve_l1_while_disconnected || coherent();
  }

  // Invalidation epochs, one per stripe of keys. A fill records its key's epoch
  // before reading L2 and undoes itself when the epoch moved meanwhile.
  [[nodiscard]] auto stripe(std::string_view key) const noexcept -> std::size_t {
    return std::hash<std::string_view>{}(key) & (stripes - 1);
  }
  [[nodiscard]] auto epoch(std::string_view key) const noexcept -> std::uint64_t {
    return epochs_[stripe(key)].load(std::memory_order_acquire);
  }
  // Returns the stripe's new epoch.
  auto bump(std::string_view key) noexcept -> std::uint64_t {
    return epochs_[stripe(key)].fetch_add(1, std::memory_order_acq_rel) + 1;
  }
  void bump_all() noexcept {
    for (auto& e : epochs_) e.fetch_add(1, std::memory_order_acq_rel);
  }

  // Copies an L2 hit into L1, unless an invalidation of the key (or a lost
  // subscription) happened since `before` was read. The check runs under L1's lock
  // for the key (set_if): an invalidation bumps the epoch and then drops the key
  // under that lock, so either this fill stored first and the drop removes it, or the
  // check sees the bump. (Storing first and checking after left a moment in which
  // another thread could read the older value after the invalidation had returned.)
  void fill_l1(std::string_view key, std::string_view value, std::chrono::milliseconds left, std::uint64_t before) {
    if (!fits_l1(key, value)) return;
    (void)l1_.set_if(key, value, l1_ttl_for(left), [&] { return coherent() && epoch(key) == before; });
  }

  [[nodiscard]] auto fits_l1(std::string_view key, std::string_view value) const noexcept -> bool {
    return key.size() + value.size() <= l1_.max_entry_bytes();
  }

  // Whether L1 should keep a value whose L2 write ended with `st`: yes on
  // success, and when L2 could not be reached (read-your-writes); no when L2
  // refused the value itself.
  static auto keeps_value(const status& st) -> bool {
    return st.has_value() || !st.error().is(errc::invalid_argument);
  }

  // The second half of a write, after L2 answered. A concurrent fill may have
  // read L2 before this write landed there and put the older value into L1
  // after this write's first L1 update. So: when nothing else moved the key's
  // epoch since this write's own bump (`mine`), advance it (any such fill's
  // check now fails and undoes it) and put `value` into L1 again; otherwise
  // another write or invalidation is in flight, and L1 just drops the key.
  void settle(std::string_view key, const std::string_view* value, std::chrono::milliseconds ttl,
              std::uint64_t mine) {
    auto& e = epochs_[stripe(key)];
    if (value != nullptr && e.compare_exchange_strong(mine, mine + 1, std::memory_order_acq_rel)) {
      // Checked again under L1's lock, as in fill_l1: an invalidation after the CAS wins.
      (void)l1_.set_if(key, *value, l1_ttl_for(ttl),
                       [&] { return e.load(std::memory_order_acquire) == mine + 1; });
      return;
    }
    e.fetch_add(1, std::memory_order_acq_rel);
    (void)l1_.erase(key);
  }

  // L1's share of a batch read: its hits go into `out`, the other keys (and their
  // positions) into `missing_keys` (`missing`).
  void read_l1(std::span<const std::string_view> keys, std::vector<std::optional<std::string>>& out,
               std::vector<std::size_t>& missing, std::vector<std::string_view>& missing_keys) {
    const bool use_l1 = l1_readable();
    for (std::size_t i = 0; i < keys.size(); ++i) {
      if (use_l1 && *l1_.visit(keys[i], [&](std::string_view v) { out[i].emplace(v); })) continue;
      missing.push_back(i);
      missing_keys.push_back(keys[i]);
    }
  }

  template <class F>
  auto read(std::string_view key, F&& on_hit) -> result<bool> {
    if (l1_readable() && *l1_.visit(key, on_hit)) {
      hits_.fetch_add(1, std::memory_order_relaxed);
      return true;
    }
    const std::uint64_t before = epoch(key);
    const bool fill = coherent();
    bool hit = false;
    auto st = l2_.fetch(std::span(&key, 1), fill, [&](std::size_t, std::string_view v, std::chrono::milliseconds left) {
      hit = true;
      on_hit(v);
      if (fill) fill_l1(key, v, left, before);
    });
    if (!st) errors_.fetch_add(1, std::memory_order_relaxed);
    (hit ? hits_ : misses_).fetch_add(1, std::memory_order_relaxed);
    return hit;
  }

  auto counted(ormkit::error e) -> ormkit::unexpected {
    errors_.fetch_add(1, std::memory_order_relaxed);
    return ormkit::unexpected(std::move(e));
  }

  //--- the subscriber ---//

  void set_coherent(bool up) {
    {
      std::lock_guard lock(state_mu_);
      if (up) {
        // Invalidations may have been missed while unsubscribed: start L1 afresh.
        (void)l1_.clear();
        bump_all();
        coherent_.store(true, std::memory_order_release);
      } else {
        coherent_.store(false, std::memory_order_release);
        bump_all();
        if (!options_.serve_l1_while_disconnected) (void)l1_.clear();
      }
    }
    state_cv_.notify_all();
  }

  // Sleeps for `d` unless woken by the destructor; false when stopping.
  auto pause(std::chrono::milliseconds d) -> bool {
    pollfd p{wake_[0], POLLIN, 0};
    const auto end = std::chrono::steady_clock::now() + d;
    while (!stopping_.load()) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(end - std::chrono::steady_clock::now()).count();
      if (left <= 0) return true;
      ::poll(&p, 1, static_cast<int>(left));
    }
    return false;
  }

  void subscriber_loop() {
    const auto retry = std::max(options_.l2.server.retry_interval, std::chrono::milliseconds(10));
    while (!stopping_.load()) {
      auto opened = l2_.connection_pool().open_connection();
      if (!opened) {
        subscriber_errors_.fetch_add(1, std::memory_order_relaxed);
        if (!pause(retry)) return;
        continue;
      }
      detail::connection& c = **opened;
      if (!subscribe(c)) {
        subscriber_errors_.fetch_add(1, std::memory_order_relaxed);
        if (!pause(retry)) return;
        continue;
      }
      subscriptions_.fetch_add(1, std::memory_order_relaxed);
      set_coherent(true);
      listen(c);
      set_coherent(false);
      if (stopping_.load()) return;
      disconnects_.fetch_add(1, std::memory_order_relaxed);
    }
  }

  auto subscribe(detail::connection& c) -> bool {
    const std::string_view argv[2] = {"SUBSCRIBE", l2_.channel()};
    const char* ptrs[2] = {argv[0].data(), argv[1].data()};
    const std::size_t lens[2] = {argv[0].size(), argv[1].size()};
    c.out.clear();
    if (!c.append(2, ptrs, lens)) return false;
    bool confirmed = false;
    std::size_t received = 0;
    const auto deadline = detail::clock::now() + options_.l2.server.timeout;
    const auto s = c.exchange(1, deadline, [&](void* raw) {
      reply r(raw);
      confirmed = r.type() == reply_type::array && r.size() >= 1 && r[0].str() == "subscribe";
    }, received);
    return s == detail::io_status::ok && confirmed;
  }

  // Applies messages until the connection is lost or the store is destroyed.
  void listen(detail::connection& c) {
    using clock = detail::clock;
    const auto timeout = options_.l2.server.timeout;
    auto next_ping = clock::now() + options_.heartbeat;
    std::optional<clock::time_point> pong_due;
    char buf[16384];
    for (;;) {
      for (;;) {  // every complete reply already read
        void* raw = nullptr;
        if (redisReaderGetReply(c.ctx->reader, &raw) != REDIS_OK) return;
        if (raw == nullptr) break;
        reply r(raw);
        if (r.type() != reply_type::array || r.size() < 2) continue;
        const std::string_view kind = r[0].str();
        if (kind == "message" && r.size() == 3) apply(r[2].str());
        else if (kind == "pong") pong_due.reset();
      }
      auto now = clock::now();
      if (pong_due && now >= *pong_due) return;  // no answer: hung or gone
      if (!pong_due && now >= next_ping) {
        const char* ptrs[1] = {"PING"};
        const std::size_t lens[1] = {4};
        c.out.clear();
        if (!c.append(1, ptrs, lens) || c.flush(now + timeout) != detail::io_status::ok) return;
        pong_due = now + timeout;
        next_ping = now + options_.heartbeat;
      }
      const auto until = pong_due ? std::min(*pong_due, next_ping) : next_ping;
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(until - clock::now()).count();
      pollfd p[2] = {{c.fd(), POLLIN, 0}, {wake_[0], POLLIN, 0}};
      const int rc = ::poll(p, 2, static_cast<int>(std::max<long long>(left, 0)));
      if (stopping_.load()) return;
      if (rc < 0 && errno != EINTR) return;
      if (rc > 0 && (p[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        if (c.receive(buf, sizeof buf) != detail::io_status::ok) return;
      }
    }
  }

  void apply(std::string_view payload) {
    const auto m = invalidation::parse(payload);
    if (!m) {
      foreign_messages_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (m->origin == l2_.origin()) {
      own_messages_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    invalidations_.fetch_add(1, std::memory_order_relaxed);
    if (m->what == invalidation::kind::key) {
      bump(m->key);  // before the drop: see fill_l1
      (void)l1_.erase(m->key);
    } else {
      bump_all();
      (void)l1_.clear(m->key);
    }
  }

  two_level_options options_;
  cache::memory_store l1_;
  store l2_;
  std::array<std::atomic<std::uint64_t>, stripes> epochs_{};
  std::atomic<bool> coherent_{false};
  std::atomic<bool> stopping_{false};
  std::mutex state_mu_;
  std::condition_variable state_cv_;
  int wake_[2] = {-1, -1};
  std::thread subscriber_;
  std::atomic<std::uint64_t> hits_{0}, misses_{0}, sets_{0}, erases_{0}, errors_{0};
  std::atomic<std::uint64_t> subscriptions_{0}, disconnects_{0}, invalidations_{0}, own_messages_{0},
      foreign_messages_{0}, subscriber_errors_{0};
};

static_assert(guarded_cache_store<two_level_store>);

}  // namespace ormkit::redis
