// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/cache/memory.hpp
//
// `ormkit::cache::memory_store`: the in-process cache store. A sharded LRU:
// keys are spread over `shards` independent LRU lists by hash, each behind its
// own mutex, so threads working on different keys rarely wait for each other.
// A write moves its value to the hot end; so does a read, unless the value is
// already within the hottest quarter of its shard (reordering is the costliest
// part of a hit, and it cannot change what is evicted next). Shards of under
// 4 values therefore keep an exact LRU order.
//
// - Capacity: at most `max_entries` values and `max_bytes` bytes (key + value
//   sizes; the per-entry bookkeeping of roughly 150 bytes is not counted, which
//   `max_entries` bounds). Each shard gets an equal share of both limits and
//   evicts its least recently used values when a write would exceed its share,
//   so the store as a whole never exceeds either limit; the price is that one
//   shard may evict while another still has room. A value larger than a
//   shard's byte share (max_bytes / shards) is rejected with
//   errc::invalid_argument.
// - TTL: per entry, on a steady clock (wall-clock jumps do not expire
//   anything). An expired value is dropped when it is next read or when
//   eviction reaches it, or by `purge_expired()`; until then it still counts in
//   `entries` and `bytes`. The clock can be replaced (`memory_options::clock`)
//   for deterministic tests.
// - TTL jitter: every TTL is shortened by up to `ttl_jitter` of itself
//   (default 10%), so that values written together do not expire together.
// - Hits cost one hash, one lock and copying the value out; `visit` hands the
//   callback a view of the stored value instead (no copy), under the shard's
//   lock.
//
// Thread-safe: every member function may be called from any thread.
//
// Example:
//
//   ormkit::cache::memory_store cache({.max_entries = 10'000, .max_bytes = 16 << 20});
//   cache.set("users:42", bytes, std::chrono::seconds(30)).value();
//   cache.visit("users:42", [&](std::string_view v) { decode(v); }).value();  // true on a hit

#include <ormkit/cache.hpp>
#include <ormkit/error.hpp>
#include <ormkit/result.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ormkit::cache {

/// How to size and run a `memory_store`.
struct memory_options {
  /// Most values held at once. Must be at least 1.
  std::size_t max_entries = 100'000;
  /// Most key + value bytes held at once. Must be at least 1.
  std::size_t max_bytes = std::size_t{64} << 20;
  /// Number of independent LRU shards; rounded down to a power of two, and to
  /// at most `max_entries`. 1 gives one LRU order (see the header comment).
  std::size_t shards = 16;
  /// Fraction of each TTL that jitter may take off (0 = none, at most 1).
  double ttl_jitter = 0.1;
  /// The clock TTLs are measured on; nullptr means `std::chrono::steady_clock::now`.
  std::chrono::steady_clock::time_point (*clock)() = nullptr;
};

/// The in-process cache store: a sharded LRU with TTLs and a capacity bound.
/// Satisfies `ormkit::cache_store`.
class memory_store {
 public:
  using time_point = std::chrono::steady_clock::time_point;

  /// Throws: `ormkit::exception` (errc::invalid_argument) when `max_entries` or
  /// `max_bytes` is 0.
  explicit memory_store(memory_options options = {}) : options_(options) {
    if (options_.max_entries == 0)
      throw exception({errc::invalid_argument, "memory cache: max_entries must be at least 1 (got 0)"});
    if (options_.max_bytes == 0)
      throw exception({errc::invalid_argument, "memory cache: max_bytes must be at least 1 (got 0)"});
    std::size_t n = 1;
    while (n * 2 <= options_.shards && n * 2 <= options_.max_entries && n < 4096) n *= 2;
    shard_count_ = n;
    entry_cap_ = options_.max_entries / n;
    byte_cap_ = options_.max_bytes / n;
    if (byte_cap_ == 0) byte_cap_ = 1;  // max_bytes < shards: values of 1 byte still fit somewhere
    shards_ = std::make_unique<shard[]>(n);
  }

  memory_store(const memory_store&) = delete;
  auto operator=(const memory_store&) -> memory_store& = delete;

  [[nodiscard]] auto name() const noexcept -> std::string_view { return "memory"; }
  [[nodiscard]] auto options() const noexcept -> const memory_options& { return options_; }
  /// The number of shards in use (a power of two).
  [[nodiscard]] auto shard_count() const noexcept -> std::size_t { return shard_count_; }
  /// The largest key + value size one entry may have (max_bytes / shards).
  [[nodiscard]] auto max_entry_bytes() const noexcept -> std::size_t { return byte_cap_; }

  /// Returns the value under `key`, or an empty optional. Never fails.
  auto get(std::string_view key) -> result<std::optional<std::string>> {
    std::optional<std::string> out;
    lookup(key, [&](std::string_view v) { out.emplace(v); });
    return out;
  }

  /// Copies the value under `key` into `out` (reusing its capacity); false on a miss.
  auto get_into(std::string_view key, std::string& out) -> result<bool> {
    return lookup(key, [&](std::string_view v) { out.assign(v.data(), v.size()); });
  }

  /// Calls `f(value)` on a hit, under the shard's lock (so `f` must not call
  /// this store). Returns whether it was a hit.
  auto visit(std::string_view key, cache_visitor f) -> result<bool> { return lookup(key, f); }

  /// Whether `key` holds an unexpired value; touches neither the LRU order nor the counters.
  [[nodiscard]] auto contains(std::string_view key) const -> bool {
    const hashed_key hk = hash_key(key);
    shard& s = shard_for(hk);
    std::lock_guard lock(s.mu);
    const node_iterator* found = s.index.find(hk);
    return found != nullptr && !expired(**found);
  }

  /// Stores `value` under `key` for `ttl` (`no_expiry`: until evicted or erased),
  /// replacing any value there, and evicts least recently used values as needed.
  ///
  /// Errors: errc::invalid_argument for a negative TTL, or a key + value larger
  /// than `max_entry_bytes()`. Nothing is stored, and a value previously under
  /// the key is removed, so that a failed update never leaves the old value readable.
  auto set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) -> status {
    const std::size_t size = key.size() + value.size();
    const hashed_key hk = hash_key(key);
    shard& s = shard_for(hk);
    status invalid = detail::check_cache_ttl("memory cache", key, ttl);
    if (invalid && size > byte_cap_) {
      invalid = unexpected(errc::invalid_argument,
                           detail::concat({"memory cache: key ", detail::quote_cache_key(key), ": entry of ",
                                           std::to_string(size), " bytes (key + value) exceeds the ",
                                           std::to_string(byte_cap_),
                                           " bytes one shard may hold (max_bytes / shards); raise max_bytes or "
                                           "lower shards"}));
    }
    if (!invalid) {
      errors_.fetch_add(1, std::memory_order_relaxed);
      std::lock_guard lock(s.mu);
      if (const node_iterator* found = s.index.find(hk)) remove(s, *found);
      return invalid;
    }
    const auto effective = jittered_ttl(ttl, options_.ttl_jitter);
    const time_point expires = effective.count() == 0 ? time_point::max() : now() + effective;

    std::lock_guard lock(s.mu);
    ++s.sets;
    if (const node_iterator* found = s.index.find(hk)) {
      const node_iterator it = *found;
      node& n = *it;
      s.bytes -= n.kv.size();
      n.kv.resize(n.key_size);
      n.kv.append(value.data(), value.size());
      s.bytes += n.kv.size();
      n.expires = expires;
      n.stamp = ++s.clock;
      s.lru.splice(s.lru.begin(), s.lru, it);
    } else {
      std::string kv;
      kv.reserve(size);
      kv.append(key.data(), key.size()).append(value.data(), value.size());
      s.lru.push_front(node{std::move(kv), key.size(), expires, hk.hash, ++s.clock});
      try {
        s.index.insert(hashed_key{s.lru.front().key(), hk.hash}, s.lru.begin());
      } catch (...) {
        s.lru.pop_front();
        throw;
      }
      s.bytes += size;
    }
    // Evict from the cold end; the value just written is at the hot end and fits.
    while (s.lru.size() > entry_cap_ || s.bytes > byte_cap_) {
      auto victim = std::prev(s.lru.end());
      if (expired(*victim)) ++s.expirations;
      else ++s.evictions;
      remove(s, victim);
    }
    return {};
  }

  /// Removes the value under `key`; returns whether there was one (an expired
  /// value counts as none).
  auto erase(std::string_view key) -> result<bool> {
    const hashed_key hk = hash_key(key);
    shard& s = shard_for(hk);
    std::lock_guard lock(s.mu);
    const node_iterator* found = s.index.find(hk);
    if (found == nullptr) return false;
    const node_iterator it = *found;
    const bool live = !expired(*it);
    if (live) ++s.erases;
    else ++s.expirations;
    remove(s, it);
    return live;
  }

  /// One optional per key, in order. Never fails.
  auto get_many(std::span<const std::string_view> keys) -> result<std::vector<std::optional<std::string>>> {
    std::vector<std::optional<std::string>> out(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i)
      lookup(keys[i], [&](std::string_view v) { out[i].emplace(v); });
    return out;
  }

  /// Stores every entry; returns the first error (the other entries are stored).
  auto set_many(std::span<const cache_entry> entries, std::chrono::milliseconds ttl) -> status {
    status first;
    for (const auto& e : entries) {
      auto st = set(e.key, e.value, ttl);
      if (!st && first) first = std::move(st);
    }
    return first;
  }

  /// Removes each key; returns how many held a value.
  auto erase_many(std::span<const std::string_view> keys) -> result<std::uint64_t> {
    std::uint64_t n = 0;
    for (auto k : keys)
      if (*erase(k)) ++n;
    return n;
  }

  /// Removes every value whose key starts with `prefix` (all of them for "");
  /// returns how many unexpired values were removed.
  auto clear(std::string_view prefix = {}) -> result<std::uint64_t> {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < shard_count_; ++i) {
      shard& s = shards_[i];
      std::lock_guard lock(s.mu);
      for (auto it = s.lru.begin(); it != s.lru.end();) {
        auto next = std::next(it);
        if (it->key().substr(0, prefix.size()) == prefix) {
          if (expired(*it)) {
            ++s.expirations;
          } else {
            ++s.erases;
            ++n;
          }
          remove(s, it);
        }
        it = next;
      }
    }
    return n;
  }

  /// Drops every expired value now; returns how many.
  auto purge_expired() -> std::uint64_t {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < shard_count_; ++i) {
      shard& s = shards_[i];
      std::lock_guard lock(s.mu);
      for (auto it = s.lru.begin(); it != s.lru.end();) {
        auto next = std::next(it);
        if (expired(*it)) {
          ++s.expirations;
          ++n;
          remove(s, it);
        }
        it = next;
      }
    }
    return n;
  }

  /// A snapshot of the counters (each shard is read under its lock, one after another).
  [[nodiscard]] auto stats() const -> cache_stats {
    cache_stats out;
    for (std::size_t i = 0; i < shard_count_; ++i) {
      const shard& s = shards_[i];
      std::lock_guard lock(s.mu);
      out.hits += s.hits;
      out.misses += s.misses;
      out.sets += s.sets;
      out.erases += s.erases;
      out.evictions += s.evictions;
      out.expirations += s.expirations;
      out.entries += s.lru.size();
      out.bytes += s.bytes;
    }
    out.errors = errors_.load(std::memory_order_relaxed);
    return out;
  }

 private:
  // One value: its key and bytes in one buffer (a hit reads them together).
  struct node {
    std::string kv;  // key, then value
    std::size_t key_size;
    time_point expires;
    std::size_t hash;
    std::uint64_t stamp = 0;  // the shard's clock when the node last moved to the hot end

    [[nodiscard]] auto key() const noexcept -> std::string_view { return {kv.data(), key_size}; }
    [[nodiscard]] auto value() const noexcept -> std::string_view { return {kv.data() + key_size, kv.size() - key_size}; }
  };
  using node_iterator = std::list<node>::iterator;

  // A key with its hash computed once: the shard is chosen from the high bits,
  // the index uses the same value (its slots use the low bits).
  struct hashed_key {
    std::string_view key;
    std::size_t hash;  // never 0 (0 marks an empty slot)
  };

  // A shard's index: open addressing with linear probing over (hash, node) slots, at
  // most half full, so a lookup reads one slot (usually) and then the node itself.
  class node_index {
   public:
    [[nodiscard]] auto find(const hashed_key& k) const noexcept -> const node_iterator* {
      if (slots_.empty()) return nullptr;
      for (std::size_t i = k.hash & mask();; i = (i + 1) & mask()) {
        const slot& x = slots_[i];
        if (x.hash == 0) return nullptr;
        if (x.hash == k.hash && x.it->key() == k.key) return &x.it;
      }
    }

    void insert(const hashed_key& k, node_iterator it) {
      if ((size_ + 1) * 2 > slots_.size()) grow();
      place(k.hash, it);
      ++size_;
    }

    void erase(const hashed_key& k) noexcept {
      if (slots_.empty()) return;
      std::size_t i = k.hash & mask();
      for (;; i = (i + 1) & mask()) {
        const slot& x = slots_[i];
        if (x.hash == 0) return;
        if (x.hash == k.hash && x.it->key() == k.key) break;
      }
      // Backward-shift deletion: pull later entries of the probe run into the hole.
      for (std::size_t j = (i + 1) & mask();; j = (j + 1) & mask()) {
        if (slots_[j].hash == 0) break;
        const std::size_t home = slots_[j].hash & mask();
        const bool movable = i <= j ? (home <= i || home > j) : (home <= i && home > j);
        if (movable) {
          slots_[i] = slots_[j];
          i = j;
        }
      }
      slots_[i] = slot{};
      --size_;
    }

   private:
    struct slot {
      std::size_t hash = 0;
      node_iterator it{};
    };
    [[nodiscard]] auto mask() const noexcept -> std::size_t { return slots_.size() - 1; }
    void place(std::size_t hash, node_iterator it) noexcept {
      std::size_t i = hash & mask();
      while (slots_[i].hash != 0) i = (i + 1) & mask();
      slots_[i] = slot{hash, it};
    }
    void grow() {
      std::vector<slot> old(slots_.empty() ? 16 : slots_.size() * 2);
      old.swap(slots_);
      for (const slot& x : old)
        if (x.hash != 0) place(x.hash, x.it);
    }

    std::vector<slot> slots_;
    std::size_t size_ = 0;
  };

  struct alignas(64) shard {
    mutable std::mutex mu;
    std::list<node> lru;  // front: most recently used
    node_index index;  // keys view into `lru`
    std::size_t bytes = 0;
    std::uint64_t clock = 0;  // counts moves to the hot end
    std::uint64_t hits = 0, misses = 0, sets = 0, erases = 0, evictions = 0, expirations = 0;
  };

  static auto hash_key(std::string_view key) noexcept -> hashed_key {
    const std::size_t h = std::hash<std::string_view>{}(key);
    return {key, h == 0 ? 1 : h};
  }
  [[nodiscard]] auto shard_for(const hashed_key& k) const noexcept -> shard& {
    // Fold the high half in: the map's buckets already use the low bits.
    const std::uint64_t h = static_cast<std::uint64_t>(k.hash);
    return shards_[static_cast<std::size_t>((h >> 32) ^ (h >> 16)) & (shard_count_ - 1)];
  }

  [[nodiscard]] auto now() const -> time_point {
    return options_.clock ? options_.clock() : std::chrono::steady_clock::now();
  }
  [[nodiscard]] auto expired(const node& n) const -> bool {
    return n.expires != time_point::max() && n.expires <= now();
  }

  static void remove(shard& s, node_iterator it) {
    s.index.erase(hashed_key{it->key(), it->hash});
    s.bytes -= it->kv.size();
    s.lru.erase(it);
  }

  // The read path of get, get_into, visit and get_many.
  template <class F>
  auto lookup(std::string_view key, F&& on_hit) -> bool {
    const hashed_key hk = hash_key(key);
    shard& s = shard_for(hk);
    std::lock_guard lock(s.mu);
    const node_iterator* found = s.index.find(hk);
    if (found == nullptr) {
      ++s.misses;
      return false;
    }
    node_iterator n = *found;
    if (expired(*n)) {
      ++s.expirations;
      ++s.misses;
      remove(s, n);
      return false;
    }
    ++s.hits;
    // At most `clock - stamp` nodes moved ahead of n since it last did, so n is at least
    // that near the hot end; within the hottest quarter a read leaves the order alone
    // (relinking touches two more nodes, the costliest part of a hit).
    if (s.clock - n->stamp > s.lru.size() / 4) {
      s.lru.splice(s.lru.begin(), s.lru, n);
      n->stamp = ++s.clock;
    }
    on_hit(n->value());
    return true;
  }

  memory_options options_;
  std::size_t shard_count_ = 1;
  std::size_t entry_cap_ = 1;
  std::size_t byte_cap_ = 1;
  std::unique_ptr<shard[]> shards_;
  std::atomic<std::uint64_t> errors_{0};
};

static_assert(cache_store<memory_store>);

}  // namespace ormkit::cache
