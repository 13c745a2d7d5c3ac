// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/cache/memory.hpp
//
// `ormkit::cache::memory_store`: the in-process cache store. A sharded LRU:
// keys are spread over `shards` independent LRU lists by hash, each behind its
// own mutex, so threads working on different keys rarely wait for each other.
// The order is kept the CLOCK way (second chance), an approximation of LRU
// that lets a read leave the list alone: a write moves its value to the hot
// end; a read only marks the value as used. Eviction looks at the cold end: a
// used value is unmarked and moved to the hot end (as if it had been read just
// then), the first unused one is evicted. So a value read since it last
// reached the hot end outlives every value not read since then, and a hit
// touches no other entry (relinking a node on every read was the costliest part
// of a hit). The value just written is never the one evicted.
//
// - Capacity: at most `max_entries` values and `max_bytes` bytes (key + value
//   sizes; the per-entry bookkeeping of roughly 100 bytes is not counted, which
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
#include <cstring>
#include <functional>
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
    const node* found = s.index.find(hk);
    return found != nullptr && !expired(*found);
  }

  /// Stores `value` under `key` for `ttl` (`no_expiry`: until evicted or erased),
  /// replacing any value there, and evicts least recently used values as needed.
  ///
  /// Errors: errc::invalid_argument for a negative TTL, or a key + value larger
  /// than `max_entry_bytes()`. Nothing is stored, and a value previously under
  /// the key is removed, so that a failed update never leaves the old value readable.
  auto set(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) -> status {
    auto stored = set_if(key, value, ttl, [] { return true; });
    if (!stored) return unexpected(std::move(stored).error());
    return {};
  }

  /// `set`, if `still_wanted()` returns true when called under the lock that every other
  /// call on `key` takes: so a caller that makes `still_wanted` false and then erases the
  /// key knows that no value stored by a `set_if` whose check passed before is left.
  /// Returns whether it stored. Errors: as `set`'s (checked first, whatever `still_wanted`).
  template <class Pred>
  auto set_if(std::string_view key, std::string_view value, std::chrono::milliseconds ttl, Pred&& still_wanted)
      -> result<bool> {
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
      if (node* found = s.index.find(hk)) remove(s, found);
      return unexpected(std::move(invalid).error());
    }
    const auto effective = jittered_ttl(ttl, options_.ttl_jitter);
    const time_point expires = effective.count() == 0 ? time_point::max() : now() + effective;

    std::lock_guard lock(s.mu);
    if (!still_wanted()) return false;
    ++s.sets;
    if (node* n = s.index.find(hk)) {
      // A value too big for the node goes into a new one, which takes the old one's
      // place in the index and the list (made first: if that throws, nothing changed).
      node* target = size > n->capacity ? node::make(key, value, expires, hk.hash) : n;
      s.bytes -= n->size();
      s.lru.unlink(n);
      if (target != n) {
        s.index.replace(n, target);
        node::destroy(n);
      } else {
        n->assign_value(value);
        n->expires = expires;
      }
      target->used = false;
      s.lru.push_front(target);
      s.bytes += size;
    } else {
      node* fresh = node::make(key, value, expires, hk.hash);
      try {
        s.index.insert(hk.hash, fresh);
      } catch (...) {
        node::destroy(fresh);
        throw;
      }
      s.lru.push_front(fresh);
      s.bytes += size;
    }
    evict(s, s.lru.front());
    return true;
  }

  /// Removes the value under `key`; returns whether there was one (an expired
  /// value counts as none).
  auto erase(std::string_view key) -> result<bool> {
    const hashed_key hk = hash_key(key);
    shard& s = shard_for(hk);
    std::lock_guard lock(s.mu);
    node* found = s.index.find(hk);
    if (found == nullptr) return false;
    const bool live = !expired(*found);
    if (live) ++s.erases;
    else ++s.expirations;
    remove(s, found);
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
      for (node* it = s.lru.front(); it != nullptr;) {
        node* next = it->next;
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
      for (node* it = s.lru.front(); it != nullptr;) {
        node* next = it->next;
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
  // One value: a header, then the key and the value bytes, in one allocation (a hit
  // reads the header, compares the key and reads the value from neighbouring lines).
  struct node {
    node* prev = nullptr;  // towards the hot end
    node* next = nullptr;  // towards the cold end
    std::size_t hash = 0;
    bool used = false;        // read since it last reached the hot end
    time_point expires{};
    std::size_t key_size = 0;
    std::size_t value_size = 0;
    std::size_t capacity = 0;  // bytes after the header, for key + value

    [[nodiscard]] auto bytes() noexcept -> char* { return reinterpret_cast<char*>(this + 1); }
    [[nodiscard]] auto bytes() const noexcept -> const char* { return reinterpret_cast<const char*>(this + 1); }
    [[nodiscard]] auto key() const noexcept -> std::string_view { return {bytes(), key_size}; }
    [[nodiscard]] auto value() const noexcept -> std::string_view { return {bytes() + key_size, value_size}; }
    [[nodiscard]] auto size() const noexcept -> std::size_t { return key_size + value_size; }

    void assign_value(std::string_view v) noexcept {  // fits: the caller checked capacity
      if (!v.empty()) std::memcpy(bytes() + key_size, v.data(), v.size());
      value_size = v.size();
    }

    static auto make(std::string_view k, std::string_view v, time_point expires, std::size_t hash) -> node* {
      const std::size_t capacity = k.size() + v.size();
      void* raw = ::operator new(sizeof(node) + capacity);
      node* n = ::new (raw) node();
      n->hash = hash;
      n->expires = expires;
      n->key_size = k.size();
      n->capacity = capacity;
      if (!k.empty()) std::memcpy(n->bytes(), k.data(), k.size());
      n->assign_value(v);
      return n;
    }
    static void destroy(node* n) noexcept {
      n->~node();
      ::operator delete(static_cast<void*>(n));
    }
  };
  static_assert(alignof(node) <= __STDCPP_DEFAULT_NEW_ALIGNMENT__);

  // A shard's LRU order: an intrusive doubly linked list of the nodes it owns.
  class lru_list {
   public:
    lru_list() = default;
    lru_list(const lru_list&) = delete;
    auto operator=(const lru_list&) -> lru_list& = delete;
    ~lru_list() {
      for (node* n = head_; n != nullptr;) {
        node* next = n->next;
        node::destroy(n);
        n = next;
      }
    }
    [[nodiscard]] auto front() const noexcept -> node* { return head_; }
    [[nodiscard]] auto back() const noexcept -> node* { return tail_; }
    [[nodiscard]] auto size() const noexcept -> std::size_t { return size_; }
    void push_front(node* n) noexcept {
      n->prev = nullptr;
      n->next = head_;
      if (head_ != nullptr) head_->prev = n;
      else tail_ = n;
      head_ = n;
      ++size_;
    }
    void unlink(node* n) noexcept {
      if (n->prev != nullptr) n->prev->next = n->next;
      else head_ = n->next;
      if (n->next != nullptr) n->next->prev = n->prev;
      else tail_ = n->prev;
      n->prev = n->next = nullptr;
      --size_;
    }

   private:
    node* head_ = nullptr;
    node* tail_ = nullptr;
    std::size_t size_ = 0;
  };

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
    [[nodiscard]] auto find(const hashed_key& k) const noexcept -> node* {
      if (slots_.empty()) return nullptr;
      for (std::size_t i = k.hash & mask();; i = (i + 1) & mask()) {
        const slot& x = slots_[i];
        if (x.hash == 0) return nullptr;
        if (x.hash == k.hash && x.n->key() == k.key) return x.n;
      }
    }

    void insert(std::size_t hash, node* n) {
      if ((size_ + 1) * 2 > slots_.size()) grow();
      place(hash, n);
      ++size_;
    }

    // Points the slot of `from` (indexed) at `to` (same key and hash).
    void replace(const node* from, node* to) noexcept {
      for (std::size_t i = from->hash & mask();; i = (i + 1) & mask())
        if (slots_[i].n == from) {
          slots_[i].n = to;
          return;
        }
    }

    void erase(const node* n) noexcept {
      std::size_t i = n->hash & mask();
      while (slots_[i].n != n) i = (i + 1) & mask();
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
      node* n = nullptr;
    };
    [[nodiscard]] auto mask() const noexcept -> std::size_t { return slots_.size() - 1; }
    void place(std::size_t hash, node* n) noexcept {
      std::size_t i = hash & mask();
      while (slots_[i].hash != 0) i = (i + 1) & mask();
      slots_[i] = slot{hash, n};
    }
    void grow() {
      std::vector<slot> old(slots_.empty() ? 16 : slots_.size() * 2);
      old.swap(slots_);
      for (const slot& x : old)
        if (x.hash != 0) place(x.hash, x.n);
    }

    std::vector<slot> slots_;
    std::size_t size_ = 0;
  };

  struct alignas(64) shard {
    mutable std::mutex mu;
    lru_list lru;      // front: most recently used; owns the nodes
    node_index index;  // keys view into the nodes
    std::size_t bytes = 0;
    std::uint64_t hits = 0, misses = 0, sets = 0, erases = 0, evictions = 0, expirations = 0;
  };

  // Eight bytes at a time, each word folded in with a multiply and a shift, then a
  // final mix so that the low bits (the index's) and the high ones (the shard's)
  // depend on every byte. About a third of std::hash's cost on a typical cache key.
  static auto hash_key(std::string_view key) noexcept -> hashed_key {
    constexpr std::uint64_t m1 = 0x9E3779B97F4A7C15ULL;
    constexpr std::uint64_t m2 = 0xFF51AFD7ED558CCDULL;
    const char* p = key.data();
    std::size_t n = key.size();
    std::uint64_t h = m1 ^ static_cast<std::uint64_t>(n);
    for (; n >= 8; p += 8, n -= 8) {
      std::uint64_t w = 0;
      std::memcpy(&w, p, 8);
      h = (h ^ w) * m2;
      h ^= h >> 32;
    }
    if (n > 0) {
      // The last (partial) word: the key's last eight bytes when it has them (overlapping
      // the previous word), else its bytes one by one.
      std::uint64_t w = 0;
      if (key.size() >= 8) std::memcpy(&w, key.data() + key.size() - 8, 8);
      else
        for (std::size_t i = 0; i < n; ++i) w |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
      h = (h ^ w) * m2;
      h ^= h >> 32;
    }
    h *= m1;
    h ^= h >> 29;
    const auto out = static_cast<std::size_t>(h);
    return {key, out == 0 ? 1 : out};
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

  static void remove(shard& s, node* n) noexcept {
    s.index.erase(n);
    s.bytes -= n->size();
    s.lru.unlink(n);
    node::destroy(n);
  }

  // The read path of get, get_into, visit and get_many.
  template <class F>
  auto lookup(std::string_view key, F&& on_hit) -> bool {
    const hashed_key hk = hash_key(key);
    shard& s = shard_for(hk);
    std::lock_guard lock(s.mu);
    node* n = hit(s, hk);
    if (n == nullptr) return false;
    on_hit(n->value());
    return true;
  }

  // The live node under `hk` (counted as a hit and touched), or null (a miss; an
  // expired node is dropped). The caller holds s.mu.
  auto hit(shard& s, const hashed_key& hk) -> node* {
    node* n = s.index.find(hk);
    if (n == nullptr) {
      ++s.misses;
      return nullptr;
    }
    if (expired(*n)) {
      ++s.expirations;
      ++s.misses;
      remove(s, n);
      return nullptr;
    }
    ++s.hits;
    n->used = true;
    return n;
  }

  // Evicts from the cold end until the shard is within its limits, giving used values a
  // second chance (see the header comment) and never evicting `kept` (the value just
  // written, which fits). Each pass either evicts or unmarks one value, so this ends.
  void evict(shard& s, const node* kept) {
    while (s.lru.size() > entry_cap_ || s.bytes > byte_cap_) {
      node* victim = s.lru.back();
      if (victim == kept) victim = victim->prev;  // there is another: kept alone fits
      const bool live = !expired(*victim);
      if (live && victim->used) {
        victim->used = false;
        s.lru.unlink(victim);
        s.lru.push_front(victim);
        continue;
      }
      if (live) ++s.evictions;
      else ++s.expirations;
      remove(s, victim);
    }
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
