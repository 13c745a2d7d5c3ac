// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/cache/aside.hpp
//
// Cache-aside for one entity's repository: what `repository<T>` does between
// the caller and the backend when a cache is configured for it
// (`repository<T>::use_cache`, or the persistence manager's cache).
//
// - Reads (`get`, `find_by_key`, `get_many`) look under the entity's cache key
//   (`cache_key<T>(pk, ns)`: table and schema hash are part of it) and decode
//   the cached row; a miss loads from the backend and fills the cache for the
//   policy's TTL, shortened by jitter.
// - Single flight: concurrent misses of one key make one backend load; the
//   other callers wait for it and decode its bytes (its error reaches them too).
// - Negative caching: with `negative_ttl > 0` a key the backend does not have
//   is remembered as absent for that long; an insert of that key drops it.
// - Writes invalidate after commit: at once outside a transaction, at the
//   commit of the outermost `ormkit::transaction` otherwise (`after_commit`);
//   a rollback invalidates nothing. Reads on a thread with a transaction open
//   over the same backend bypass the cache (they must see the transaction's
//   own writes, and must not publish uncommitted rows).
// - Stale sets are refused: a filler remembers its key's stripe generation
//   before it loads, and stores only if no invalidation of that stripe has
//   happened since (checked and stored under the stripe's lock, which the
//   invalidation also takes). So a read that starts after a write of this
//   process committed never returns the older row.
// - Across processes sharing a store that guards fills (the Redis stores,
//   `guarded_cache_store`): an invalidation leaves a marker under the key (and a
//   table-wide write moves the entity's scope key, `<prefix>\#epoch` without the
//   final ':'), and a fill is a check-and-set against what the leader's second
//   look saw. So a row another process loaded before our commit is never stored
//   after our invalidation (unless its load took longer than the marker lasts:
//   the longest of the row TTL, the negative TTL and 30 s). Refused fills count in
//   `stale_fills`.
// - Failures never fail a read or a write: a store error is counted and the
//   operation goes to the backend. Bytes under a key that are not a row of
//   this entity's current schema (corrupt, foreign, older layout) are a miss,
//   counted in `corrupt`.
// - Query results (`repository<T>::find_cached`) are cached under
//   `<prefix>\#q:<generation>:<token>:<your key>`: the process-local generation
//   moves on every write of this process to the table, and the token (a random
//   value stored under `<prefix>\#gen`, erased by writes) moves when another
//   process sharing the store writes to it (with `cache_policy::shared_queries`,
//   or once that process cached a query itself). No escaped key segment
//   contains `\#`, so these keys never collide with a row's key.
//
// Cached bytes (the payload inside a store's own envelope):
//
//   byte 0      'E' (an entity payload)
//   byte 1      format version (1)
//   byte 2      kind: 'R' one row, 'N' known absent, 'Q' a list of rows
//   bytes 3-10  the entity's schema hash (little-endian)
//   then        'R': one row; 'Q': varint row count, then the rows
//   a row       varint column count, then per column a tag byte and its value:
//               0 NULL, 1 integer (zigzag varint), 2 real (8 bytes LE),
//               3 text (varint length, bytes), 4 blob (varint length, bytes)

#include <ormkit/backend.hpp>
#include <ormkit/cache.hpp>
#include <ormkit/cache/memory.hpp>
#include <ormkit/detail/repository_core.hpp>
#include <ormkit/error.hpp>
#include <ormkit/result.hpp>
#include <ormkit/schema.hpp>
#include <ormkit/transaction.hpp>
#include <ormkit/value.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ormkit {

/// How long an entity's rows stay cached.
enum class cache_tier : unsigned char {
  off,          ///< not cached
  short_lived,  ///< 5 s
  standard,     ///< 60 s
  long_lived,   ///< 1 h
};

/// The per-entity cache policy.
struct cache_policy {
  /// The TTL tier; `off` disables the cache for the entity.
  cache_tier tier = cache_tier::standard;
  /// When positive, replaces the tier's TTL.
  std::chrono::milliseconds ttl{0};
  /// When positive, a key the backend does not have is cached as absent for this long.
  std::chrono::milliseconds negative_ttl{0};
  /// Fraction of each TTL that jitter may take off (against synchronized expiry).
  double jitter = 0.1;
  /// When positive and the repository is given no store of its own, the entity gets a
  /// private in-process store holding at most this many entries. (With a shared store,
  /// the store's own bounds apply.)
  std::size_t capacity = 0;
  /// TTL of cached query results (`find_cached`).
  std::chrono::milliseconds query_ttl{std::chrono::seconds(5)};
  /// Other processes cache this entity's query results: every write also erases the
  /// table's query token in the shared store (one more store call per write).
  bool shared_queries = false;

  /// A policy that caches nothing.
  [[nodiscard]] static constexpr auto off() noexcept -> cache_policy { return cache_policy{cache_tier::off}; }

  [[nodiscard]] constexpr auto enabled() const noexcept -> bool { return tier != cache_tier::off; }

  /// The TTL rows are stored with, before jitter.
  [[nodiscard]] constexpr auto row_ttl() const noexcept -> std::chrono::milliseconds {
    if (ttl.count() > 0) return ttl;
    switch (tier) {
      case cache_tier::off: return std::chrono::milliseconds(0);
      case cache_tier::short_lived: return std::chrono::seconds(5);
      case cache_tier::standard: return std::chrono::seconds(60);
      case cache_tier::long_lived: return std::chrono::hours(1);
    }
    return std::chrono::seconds(60);
  }
};

/// What the cache-aside layer of one entity counted. Counters only grow.
struct cache_aside_stats {
  std::uint64_t hits = 0;            ///< reads answered from the cache (rows and known-absent keys)
  std::uint64_t negative_hits = 0;   ///< of `hits`: keys answered "absent" from the cache
  std::uint64_t misses = 0;          ///< reads that went to the backend (or joined a load)
  std::uint64_t loads = 0;           ///< backend loads made for misses
  std::uint64_t coalesced = 0;       ///< misses that waited for another caller's load (single flight)
  std::uint64_t fills = 0;           ///< values stored after a load
  std::uint64_t stale_fills = 0;     ///< fills refused because the key was invalidated during the load
  std::uint64_t invalidations = 0;   ///< keys (or whole tables) invalidated after a committed write
  std::uint64_t deferred = 0;        ///< invalidations that waited for a transaction to commit
  std::uint64_t bypassed = 0;        ///< reads inside a transaction, sent to the backend
  std::uint64_t errors = 0;          ///< store failures (the operation fell back to the backend)
  std::uint64_t corrupt = 0;         ///< unreadable bytes under a key, read as misses
  std::uint64_t query_hits = 0;      ///< query results answered from the cache
  std::uint64_t query_misses = 0;    ///< query results loaded from the backend

  /// hits / (hits + misses), or 0 before the first read.
  [[nodiscard]] auto hit_rate() const noexcept -> double {
    const auto reads = hits + misses;
    return reads == 0 ? 0.0 : static_cast<double>(hits) / static_cast<double>(reads);
  }
};

namespace detail {

//=== the row encoding ===//

inline constexpr char cached_row = 'R';
inline constexpr char cached_absent = 'N';
inline constexpr char cached_rows = 'Q';
inline constexpr std::size_t cached_header_size = 11;

inline void put_varint(std::string& out, std::uint64_t v) {
  while (v >= 0x80) {
    out += static_cast<char>(static_cast<unsigned char>((v & 0x7fu) | 0x80u));
    v >>= 7;
  }
  out += static_cast<char>(static_cast<unsigned char>(v));
}

inline auto get_varint(std::string_view& in, std::uint64_t& v) noexcept -> bool {
  if (!in.empty() && static_cast<unsigned char>(in.front()) < 0x80u) [[likely]] {  // one byte: the usual case
    v = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    return true;
  }
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (in.empty()) return false;
    const auto b = static_cast<unsigned char>(in.front());
    in.remove_prefix(1);
    v |= static_cast<std::uint64_t>(b & 0x7fu) << shift;
    if ((b & 0x80u) == 0) return true;
  }
  return false;
}

inline void put_cached_header(std::string& out, char kind, std::uint64_t schema_hash) {
  out.clear();
  out += 'E';
  out += '\x01';
  out += kind;
  char h[8];
  store_le(h, schema_hash, 8);
  out.append(h, 8);
}

inline void put_cached_row(std::string& out, std::span<const value_view> row) {
  put_varint(out, row.size());
  for (const auto& v : row) {
    switch (v.index()) {
      case 0: out += '\x00'; break;
      case 1: {
        out += '\x01';
        const auto i = std::get<1>(v);
        put_varint(out, (static_cast<std::uint64_t>(i) << 1) ^ static_cast<std::uint64_t>(i >> 63));
        break;
      }
      case 2: {
        out += '\x02';
        char b[8];
        store_le(b, std::bit_cast<std::uint64_t>(std::get<2>(v)), 8);
        out.append(b, 8);
        break;
      }
      case 3: {
        out += '\x03';
        const auto t = std::get<3>(v);
        put_varint(out, t.size());
        out.append(t.data(), t.size());
        break;
      }
      default: {
        out += '\x04';
        const auto b = std::get<4>(v);
        put_varint(out, b.size());
        if (!b.empty()) out.append(reinterpret_cast<const char*>(b.data()), b.size());
        break;
      }
    }
  }
}

// Reads one column's value; the view points into `in`'s bytes.
inline auto get_cached_value(std::string_view& in, value_view& v) noexcept -> bool {
  if (in.empty()) return false;
  const char tag = in.front();
  in.remove_prefix(1);
  switch (tag) {
    case 0: v.emplace<0>(); return true;
    case 1: {
      std::uint64_t z = 0;
      if (!get_varint(in, z)) return false;
      v.emplace<1>(static_cast<std::int64_t>((z >> 1) ^ (~(z & 1u) + 1u)));
      return true;
    }
    case 2: {
      if (in.size() < 8) return false;
      v.emplace<2>(std::bit_cast<double>(load_le64(in.data())));
      in.remove_prefix(8);
      return true;
    }
    case 3:
    case 4: {
      std::uint64_t len = 0;
      if (!get_varint(in, len) || len > in.size()) return false;
      const auto size = static_cast<std::size_t>(len);
      if (tag == 3) v.emplace<3>(in.data(), size);
      else v.emplace<4>(reinterpret_cast<const std::byte*>(in.data()), size);
      in.remove_prefix(size);
      return true;
    }
    default: return false;
  }
}

// Reads one row of exactly `width` columns; the views point into `in`'s bytes.
inline auto get_cached_row(std::string_view& in, std::span<value_view> row) noexcept -> bool {
  std::uint64_t n = 0;
  if (!get_varint(in, n) || n != row.size()) return false;
  for (auto& v : row)
    if (!get_cached_value(in, v)) return false;
  return true;
}

// Checks the header; returns the kind ('R', 'N', 'Q') or 0 when the bytes are not ours.
inline auto cached_kind(std::string_view& in, std::uint64_t schema_hash) noexcept -> char {
  if (in.size() < cached_header_size || in[0] != 'E' || in[1] != '\x01') return 0;
  const char kind = in[2];
  if (kind != cached_row && kind != cached_absent && kind != cached_rows) return 0;
  if (load_le64(in.data() + 3) != schema_hash) return 0;
  in.remove_prefix(cached_header_size);
  return kind;
}

inline auto key_stripe_hash(std::string_view key) noexcept -> std::size_t {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (char c : key) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ull;
  return static_cast<std::size_t>(h ^ (h >> 29));
}

}  // namespace detail

/// The cache-aside state of one entity over one store: counters, single-flight
/// table, stripe generations. Untyped (rows as value views through the entity's
/// `entity_ops`); shared by copies of a repository. Thread-safe.
class entity_cache {
 public:
  /// `store`: must outlive this object and every pending after-commit invalidation.
  /// `prefix`: the entity's key prefix (`<ns>:<table>:<hash>:`).
  entity_cache(cache_ref store, backend_ref backend, const detail::entity_ops& ops, std::uint64_t schema_hash,
               std::string key_namespace, std::string prefix, cache_policy policy)
      : store_(store), backend_(backend), ops_(&ops), hash_(schema_hash), ns_(std::move(key_namespace)),
        prefix_(std::move(prefix)), scope_(scope_of(prefix_)), policy_(policy) {}

  /// Like the other constructor, with a private in-process store of `policy.capacity` entries.
  entity_cache(backend_ref backend, const detail::entity_ops& ops, std::uint64_t schema_hash,
               std::string key_namespace, std::string prefix, cache_policy policy)
      : own_(std::make_unique<cache::memory_store>(
            cache::memory_options{.max_entries = policy.capacity > 0 ? policy.capacity : 10'000})),
        store_(*own_), backend_(backend), ops_(&ops), hash_(schema_hash), ns_(std::move(key_namespace)),
        prefix_(std::move(prefix)), scope_(scope_of(prefix_)), policy_(policy) {}

  entity_cache(const entity_cache&) = delete;
  auto operator=(const entity_cache&) -> entity_cache& = delete;

  [[nodiscard]] auto store() const noexcept -> cache_ref { return store_; }
  [[nodiscard]] auto policy() const noexcept -> const cache_policy& { return policy_; }
  [[nodiscard]] auto prefix() const noexcept -> const std::string& { return prefix_; }
  [[nodiscard]] auto key_namespace() const noexcept -> const std::string& { return ns_; }
  /// The private store, when the entity has one (else null).
  [[nodiscard]] auto own_store() const noexcept -> const cache::memory_store* { return own_.get(); }

  /// Decodes a cached row (`in` after the header) straight into an entity, advancing
  /// `in`; false when the bytes are not a row of the entity. Without one, rows are
  /// decoded through views and `entity_ops::decode_row`.
  using row_decoder = bool (*)(std::string_view& in, void* entity);
  void decode_rows_with(row_decoder decoder) noexcept { row_decoder_ = decoder; }

  [[nodiscard]] auto stats() const noexcept -> cache_aside_stats {
    cache_aside_stats s;
    s.hits = c_.hits.load(std::memory_order_relaxed);
    s.negative_hits = c_.negative_hits.load(std::memory_order_relaxed);
    s.misses = c_.misses.load(std::memory_order_relaxed);
    s.loads = c_.loads.load(std::memory_order_relaxed);
    s.coalesced = c_.coalesced.load(std::memory_order_relaxed);
    s.fills = c_.fills.load(std::memory_order_relaxed);
    s.stale_fills = c_.stale_fills.load(std::memory_order_relaxed);
    s.invalidations = c_.invalidations.load(std::memory_order_relaxed);
    s.deferred = c_.deferred.load(std::memory_order_relaxed);
    s.bypassed = c_.bypassed.load(std::memory_order_relaxed);
    s.errors = c_.errors.load(std::memory_order_relaxed);
    s.corrupt = c_.corrupt.load(std::memory_order_relaxed);
    s.query_hits = c_.query_hits.load(std::memory_order_relaxed);
    s.query_misses = c_.query_misses.load(std::memory_order_relaxed);
    return s;
  }

  /// Whether reads on this thread must bypass the cache (a transaction over the backend is open).
  [[nodiscard]] auto bypass() const -> bool {
    if (detail::open_transaction_count() == 0) [[likely]] return false;
    if (!in_transaction(backend_)) return false;
    c_.bypassed.fetch_add(1, std::memory_order_relaxed);
    return true;
  }

  /// Reads the row under `key` into `entity`: from the cache, or through
  /// `core.get(primary_key, entity)` (single flight; the loaded row is cached).
  /// Returns whether the row exists. `from_backend` is set when the load ran on this
  /// thread (it then told the observer). Not a template, so that it is compiled once
  /// per translation unit rather than once per entity.
  auto read(std::string_view key_view, void* entity, const detail::repository_core& core, const void* primary_key,
            bool& from_backend) -> result<bool> {
    auto load = [&](void* out) { return core.get(primary_key, out); };
    from_backend = false;
    // 1. The cache.
    int verdict = lookup(key_view, entity);  // 1 hit, 0 absent (negative), -1 miss
    if (verdict >= 0) [[likely]] return verdict == 1;
    c_.misses.fetch_add(1, std::memory_order_relaxed);
    const std::string key(key_view);
    // 2. Join or lead the load of this key.
    auto& s = stripe_of(key);
    std::shared_ptr<flight> f;
    std::uint64_t generation = 0;
    bool leader = false;
    {
      std::unique_lock lock(s.mu);
      auto it = s.flights.find(key);
      if (it != s.flights.end()) {
        f = it->second;
      } else {
        f = std::make_shared<flight>();
        s.flights.emplace(key, f);
        generation = s.generation;
        leader = true;
      }
    }
    if (!leader) {
      c_.coalesced.fetch_add(1, std::memory_order_relaxed);
      std::unique_lock lock(f->mu);
      f->cv.wait(lock, [&] { return f->done; });
      if (f->thrown) std::rethrow_exception(f->thrown);
      if (f->failure) return unexpected(*f->failure);
      if (!f->found) return false;
      std::string_view in = f->bytes;
      if (detail::cached_kind(in, hash_) == detail::cached_row && decode_row(in, entity)) return true;
      // Could not decode what the leader encoded (cannot happen for a well-formed entity): load ourselves.
      from_backend = true;
      return load(entity);
    }
    // 3. Lead. A load that finished between our lookup and our taking the lead has
    // filled the cache: look once more before going to the backend. With a store
    // shared between processes this look also guards the fill (see `fill`).
    cache_guard guard;
    {
      std::string raw;
      auto again = store_.get_guarded(key, scope_, raw, guard);
      if (!again) c_.errors.fetch_add(1, std::memory_order_relaxed);
      if (again && *again) {
        const int v = accept(raw, entity, false);
        if (v >= 0) {
          finish(s, key, f, [&](flight& x) {
            x.found = v == 1;
            x.bytes = std::move(raw);
          });
          return v == 1;
        }
      }
    }
    // Load, encode, store unless invalidated meanwhile, hand the result over.
    from_backend = true;
    c_.loads.fetch_add(1, std::memory_order_relaxed);
    result<bool> r = false;
    try {
      r = load(entity);
    } catch (...) {
      finish(s, key, f, [&](flight& x) { x.thrown = std::current_exception(); });
      throw;
    }
    if (!r) {
      finish(s, key, f, [&](flight& x) { x.failure = r.error(); });
      return r;
    }
    std::string bytes;
    bool encoded = false;
    if (*r) encoded = encode_entity(bytes, entity);
    else if (policy_.negative_ttl.count() > 0) {
      detail::put_cached_header(bytes, detail::cached_absent, hash_);
      encoded = true;
    }
    {
      std::unique_lock lock(s.mu);
      if (encoded) {
        if (s.generation == generation) {
          fill(key, bytes, *r ? policy_.row_ttl() : policy_.negative_ttl, guard);
        } else {
          c_.stale_fills.fetch_add(1, std::memory_order_relaxed);
        }
      }
      if (auto it = s.flights.find(key); it != s.flights.end() && it->second == f) s.flights.erase(it);
    }
    {
      std::lock_guard lock(f->mu);
      f->found = *r;
      if (*r && !encoded) {
        // The row could not be encoded: the waiters load themselves.
        f->found = true;
        f->bytes.clear();
      } else {
        f->bytes = std::move(bytes);
      }
      f->done = true;
    }
    f->cv.notify_all();
    return r;
  }

  /// Looks `keys` up in one store call. For each key: 1 hit (decoded into
  /// `entities[i]`), 0 known absent, -1 miss. On a store error all are misses.
  auto read_many(std::span<const std::string> keys, std::span<void*> entities) -> std::vector<int> {
    std::vector<int> out(keys.size(), -1);
    std::vector<std::string_view> views(keys.begin(), keys.end());
    auto got = store_.get_many(views);
    if (!got) {
      c_.errors.fetch_add(1, std::memory_order_relaxed);
      c_.misses.fetch_add(keys.size(), std::memory_order_relaxed);
      return out;
    }
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const auto& v = (*got)[i];
      if (v) out[i] = accept(*v, entities[i]);
      if (out[i] >= 0) c_.hits.fetch_add(1, std::memory_order_relaxed);
      else c_.misses.fetch_add(1, std::memory_order_relaxed);
    }
    return out;
  }

 private:
  struct flight;  // one load in progress; below

 public:
  /// The single-flight share of one `get_many` call: the missed keys it loads itself
  /// (`lead`, positions in the caller's key list) and those another caller is loading
  /// now (`joined`), to wait for. Whatever it leads and does not `complete` (an error, an
  /// exception) is handed back on destruction as "load it yourself", so no waiter hangs.
  class batch_flight {
   public:
    batch_flight(const batch_flight&) = delete;
    auto operator=(const batch_flight&) -> batch_flight& = delete;
    batch_flight(batch_flight&&) = delete;
    auto operator=(batch_flight&&) -> batch_flight& = delete;
    ~batch_flight() {
      for (std::size_t j = 0; j < lead.size(); ++j)
        if (led_[j]) cache_->finish(cache_->stripe_of(*keys_[j]), *keys_[j], led_[j], [](flight& x) {
            x.found = true;  // empty bytes: the waiters cannot decode them and load themselves
            x.bytes.clear();
          });
    }

    std::vector<std::size_t> lead;    ///< positions this call loads from the backend
    std::vector<std::size_t> joined;  ///< positions another call is loading
    std::vector<std::pair<std::size_t, int>> settled;  ///< positions found on the second look: 1 row, 0 absent

   private:
    friend class entity_cache;
    explicit batch_flight(entity_cache* c) : cache_(c) {}
    entity_cache* cache_;
    std::vector<const std::string*> keys_;           // per lead
    std::vector<std::shared_ptr<flight>> led_;       // per lead; null once completed
    std::vector<std::uint64_t> generations_;         // per lead
    std::vector<cache_guard> guards_;                // per lead: what the second look saw
    std::vector<std::shared_ptr<flight>> awaited_;   // per joined
  };

  /// Claims the misses `missed` (positions in `keys`) for one batch load: each key
  /// nobody is loading is led by this call, each key another call is loading is joined.
  /// A load that finished between the caller's lookup and this claim has filled the
  /// cache, so the led keys are looked up once more (one store call): those found are
  /// decoded into `entities` and reported in `settled` (1 row, 0 known absent) instead
  /// of being led.
  auto claim(std::span<const std::string> keys, std::span<const std::size_t> missed, std::span<void*> entities)
      -> std::unique_ptr<batch_flight> {
    std::unique_ptr<batch_flight> b(new batch_flight(this));
    for (std::size_t i : missed) {
      const std::string& key = keys[i];
      auto& s = stripe_of(key);
      std::lock_guard lock(s.mu);
      auto it = s.flights.find(key);
      if (it != s.flights.end()) {
        b->joined.push_back(i);
        b->awaited_.push_back(it->second);
        continue;
      }
      auto f = std::make_shared<flight>();
      s.flights.emplace(key, f);
      b->lead.push_back(i);
      b->keys_.push_back(&key);
      b->led_.push_back(std::move(f));
      b->generations_.push_back(s.generation);
    }
    c_.coalesced.fetch_add(b->joined.size(), std::memory_order_relaxed);
    if (!b->lead.empty()) recheck(*b, entities);
    c_.loads.fetch_add(b->lead.size(), std::memory_order_relaxed);
    return b;
  }

  /// Ends every led load at once: `entities[j]` is the j-th led key's row (null: absent).
  /// Rows are stored with one `set_many` (one round trip to Redis however many keys), and
  /// absent keys with another when the policy caches them; a key invalidated since the
  /// claim is left out. The stripes involved are held, in index order, from the
  /// generation check to the store call, so an invalidation cannot slip in between.
  void complete_all(batch_flight& b, std::span<const void* const> entities) {
    const std::size_t n = b.lead.size();
    std::vector<std::string> bytes(n);
    std::vector<signed char> kind(n, -1);  // 1 row, 0 absent, -1 nothing to store
    for (std::size_t j = 0; j < n; ++j) {
      if (entities[j] != nullptr) {
        if (encode_entity(bytes[j], entities[j])) kind[j] = 1;
      } else if (policy_.negative_ttl.count() > 0) {
        detail::put_cached_header(bytes[j], detail::cached_absent, hash_);
        kind[j] = 0;
      }
    }
    std::vector<std::size_t> stripe_ids;
    stripe_ids.reserve(n);
    for (std::size_t j = 0; j < n; ++j) stripe_ids.push_back(stripe_index(*b.keys_[j]));
    std::vector<std::size_t> order = stripe_ids;
    std::sort(order.begin(), order.end());
    order.erase(std::unique(order.begin(), order.end()), order.end());
    {
      std::vector<std::unique_lock<std::mutex>> held;
      held.reserve(order.size());
      for (std::size_t id : order) held.emplace_back(stripes_[id].mu);
      std::vector<cache_entry> rows, absent;
      std::vector<cache_guard> row_guards, absent_guards;
      const bool guarded = store_.guards_fills();
      for (std::size_t j = 0; j < n; ++j) {
        stripe& s = stripes_[stripe_ids[j]];
        if (kind[j] >= 0 && (!guarded || b.guards_[j].armed)) {
          if (s.generation == b.generations_[j]) {
            (kind[j] == 1 ? rows : absent).push_back({*b.keys_[j], bytes[j]});
            (kind[j] == 1 ? row_guards : absent_guards).push_back(std::move(b.guards_[j]));
          } else {
            c_.stale_fills.fetch_add(1, std::memory_order_relaxed);
          }
        }
        if (auto it = s.flights.find(*b.keys_[j]); it != s.flights.end() && it->second == b.led_[j]) s.flights.erase(it);
      }
      auto store = [&](const std::vector<cache_entry>& entries, const std::vector<cache_guard>& guards,
                       std::chrono::milliseconds ttl) {
        if (entries.empty()) return;
        auto stored = store_.set_many_guarded(entries, scope_, jittered_ttl(ttl, policy_.jitter), guards);
        if (!stored) {
          c_.errors.fetch_add(1, std::memory_order_relaxed);
          return;
        }
        c_.fills.fetch_add(*stored, std::memory_order_relaxed);
        c_.stale_fills.fetch_add(entries.size() - std::min<std::uint64_t>(*stored, entries.size()),
                                 std::memory_order_relaxed);
      };
      store(rows, row_guards, policy_.row_ttl());
      store(absent, absent_guards, policy_.negative_ttl);
    }
    for (std::size_t j = 0; j < n; ++j) {
      auto f = std::move(b.led_[j]);
      {
        std::lock_guard lock(f->mu);
        f->found = entities[j] != nullptr;
        if (entities[j] != nullptr && kind[j] != 1) f->bytes.clear();  // could not encode: waiters load themselves
        else f->bytes = std::move(bytes[j]);
        f->done = true;
      }
      f->cv.notify_all();
    }
  }

  /// Ends every led load not yet completed with `failure`; their waiters get it too.
  void fail(batch_flight& b, const ormkit::error& failure) {
    for (std::size_t j = 0; j < b.led_.size(); ++j) {
      if (!b.led_[j]) continue;
      auto f = std::move(b.led_[j]);
      finish(stripe_of(*b.keys_[j]), *b.keys_[j], f, [&](flight& x) { x.failure = failure; });
    }
  }

  /// Waits for the `k`-th joined load and decodes its row into `entity`: 1 found, 0
  /// absent, -1 not usable (the leader gave up or could not encode it; load it yourself).
  /// Errors: the leader's load error.
  auto await(batch_flight& b, std::size_t k, void* entity) -> result<int> {
    const auto& f = b.awaited_[k];
    std::unique_lock lock(f->mu);
    f->cv.wait(lock, [&] { return f->done; });
    if (f->thrown || f->failure) {
      if (f->failure) return unexpected(*f->failure);
      return -1;
    }
    if (!f->found) return 0;
    std::string_view in = f->bytes;
    if (detail::cached_kind(in, hash_) == detail::cached_row && decode_row(in, entity)) return 1;
    return -1;
  }

  /// Invalidates `key` after the commit of the transaction open on this thread, or now.
  void invalidate(std::string key, const std::shared_ptr<entity_cache>& self) {
    if (in_transaction(backend_)) {
      c_.deferred.fetch_add(1, std::memory_order_relaxed);
      after_commit(backend_, [self, k = std::move(key)] { self->invalidate_now(k); });
      return;
    }
    invalidate_now(key);
  }

  /// Invalidates every cached row and query of the entity, after commit or now.
  void invalidate_all(const std::shared_ptr<entity_cache>& self) {
    if (in_transaction(backend_)) {
      c_.deferred.fetch_add(1, std::memory_order_relaxed);
      after_commit(backend_, [self] { self->invalidate_all_now(); });
      return;
    }
    invalidate_all_now();
  }

  // The key's loads in flight are forgotten (and their fills refused) both before and
  // after the store forgets the key: a load that began in between may have taken its
  // second look at the store before the invalidation reached it, and must not hand
  // that value to a reader who arrives after this call returned.
  void invalidate_now(std::string_view key) {
    forget_flight(key);
    query_generation_.fetch_add(1, std::memory_order_acq_rel);
    c_.invalidations.fetch_add(1, std::memory_order_relaxed);
    if (!store_.invalidate(key, hold())) c_.errors.fetch_add(1, std::memory_order_relaxed);
    forget_flight(key);
    if ((policy_.shared_queries || queries_used_.load(std::memory_order_relaxed)) && !store_.erase(token_key()))
      c_.errors.fetch_add(1, std::memory_order_relaxed);
  }

  void forget_flight(std::string_view key) {
    auto& s = stripe_of(key);
    std::lock_guard lock(s.mu);
    ++s.generation;
    if (auto it = s.flights.find(std::string(key)); it != s.flights.end()) s.flights.erase(it);
  }

  void forget_all_flights() {
    for (auto& s : stripes_) {
      std::lock_guard lock(s.mu);
      ++s.generation;
      s.flights.clear();
    }
  }

  void invalidate_all_now() {
    forget_all_flights();  // and again after the store's clear (see invalidate_now)
    query_generation_.fetch_add(1, std::memory_order_acq_rel);
    c_.invalidations.fetch_add(1, std::memory_order_relaxed);
    // The scope first: a fill another process guarded before it is refused even for a
    // key the clear below finds nothing under.
    if (!store_.invalidate_scope(scope_)) c_.errors.fetch_add(1, std::memory_order_relaxed);
    if (!store_.clear(prefix_)) c_.errors.fetch_add(1, std::memory_order_relaxed);
    forget_all_flights();
  }

  //=== query results ===//

  /// The key a query result is cached under, or empty when the cache cannot be used now.
  auto query_key(std::string_view user_key, std::uint64_t& generation) -> std::string {
    queries_used_.store(true, std::memory_order_relaxed);
    generation = query_generation_.load(std::memory_order_acquire);
    std::string token;
    const std::string tk = token_key();
    auto got = store_.get_into(tk, token);
    if (!got) {
      c_.errors.fetch_add(1, std::memory_order_relaxed);
      return {};
    }
    if (!*got || token.empty()) {
      token = std::to_string(static_cast<std::uint64_t>(detail::jitter_unit() * 9007199254740992.0));
      if (!store_.set(tk, token, no_expiry)) {
        c_.errors.fetch_add(1, std::memory_order_relaxed);
        return {};
      }
    }
    std::string out = prefix_;
    out += "\\#q:";  // a backslash before '#': no escaped key segment can produce it
    out += std::to_string(generation);
    out += ':';
    out += token;
    out += ':';
    out += user_key;
    return out;
  }

  /// Decodes a cached query result: calls `row(views)` per row. False on a miss or unreadable bytes.
  template <class Row>
  auto read_rows(const std::string& key, Row&& row) -> bool {
    bool ok = false;
    std::string bytes;
    auto got = store_.get_into(key, bytes);
    if (!got) {
      c_.errors.fetch_add(1, std::memory_order_relaxed);
    } else if (*got) {
      std::string_view in = bytes;
      if (detail::cached_kind(in, hash_) == detail::cached_rows) ok = decode_rows(in, row);
      if (!ok) c_.corrupt.fetch_add(1, std::memory_order_relaxed);
    }
    (ok ? c_.query_hits : c_.query_misses).fetch_add(1, std::memory_order_relaxed);
    return ok;
  }

  /// Stores `count` entities (`stride` bytes apart) as a query result, unless a write
  /// happened since `generation`.
  void fill_rows(const std::string& key, const void* items, std::size_t count, std::size_t stride,
                 std::uint64_t generation) {
    std::string bytes;
    detail::put_cached_header(bytes, detail::cached_rows, hash_);
    detail::put_varint(bytes, count);
    const auto* base = static_cast<const unsigned char*>(items);
    for (std::size_t i = 0; i < count; ++i)
      if (!append_entity(bytes, base + i * stride)) return;
    if (query_generation_.load(std::memory_order_acquire) != generation) {
      c_.stale_fills.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (store_.set(key, bytes, jittered_ttl(policy_.query_ttl, policy_.jitter)))
      c_.fills.fetch_add(1, std::memory_order_relaxed);
    else
      c_.errors.fetch_add(1, std::memory_order_relaxed);
  }

  [[nodiscard]] auto query_generation() const noexcept -> std::uint64_t {
    return query_generation_.load(std::memory_order_acquire);
  }

  /// Decodes a cached row payload (after the header) into `entity`.
  auto decode_row(std::string_view in, void* entity) const -> bool {
    if (row_decoder_ != nullptr) [[likely]]
      return row_decoder_(in, entity) && in.empty();
    detail::view_buffer views(width());
    if (!detail::get_cached_row(in, views.views()) || !in.empty()) return false;
    return ops_->decode_row(views.views(), entity);
  }

 private:
  struct flight {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    bool found = false;
    std::string bytes;
    std::optional<ormkit::error> failure;
    std::exception_ptr thrown;
  };

  struct stripe {
    std::mutex mu;
    std::uint64_t generation = 0;
    std::unordered_map<std::string, std::shared_ptr<flight>> flights;
  };

  struct counters {
    std::atomic<std::uint64_t> hits{0}, negative_hits{0}, misses{0}, loads{0}, coalesced{0}, fills{0},
        stale_fills{0}, invalidations{0}, deferred{0}, bypassed{0}, errors{0}, corrupt{0}, query_hits{0},
        query_misses{0};
  };

  static constexpr std::size_t stripe_count = 64;

  [[nodiscard]] auto width() const -> std::size_t { return ops_->schema().columns.size(); }

  static auto stripe_index(std::string_view key) noexcept -> std::size_t {
    return detail::key_stripe_hash(key) & (stripe_count - 1);
  }
  auto stripe_of(std::string_view key) -> stripe& { return stripes_[stripe_index(key)]; }

  [[nodiscard]] auto token_key() const -> std::string { return prefix_ + "\\#gen"; }

  // The entity's scope key, moved on by `invalidate_all`: the prefix with its final
  // ':' replaced by "\#epoch", so that `clear(prefix)` never removes it.
  static auto scope_of(const std::string& prefix) -> std::string {
    std::string out = prefix;
    if (!out.empty() && out.back() == ':') out.pop_back();
    out += "\\#epoch";
    return out;
  }

  // How long an invalidation refuses fills guarded before it: at least the longest
  // TTL a fill uses, so that only a load slower than that could still store its row.
  [[nodiscard]] auto hold() const noexcept -> std::chrono::milliseconds {
    return std::max({policy_.row_ttl(), policy_.negative_ttl, std::chrono::milliseconds(std::chrono::seconds(30))});
  }

  // Stores a loaded row (or "absent") for `ttl`, guarded by what the leader's second
  // look saw: a store shared between processes refuses it when another process
  // invalidated the key (or the table) since, so a row read before another
  // process's commit is never stored after that commit's invalidation.
  void fill(std::string_view key, std::string_view bytes, std::chrono::milliseconds ttl, const cache_guard& guard) {
    if (store_.guards_fills() && !guard.armed) return;  // the second look failed (counted): no fill
    auto stored = store_.set_guarded(key, scope_, bytes, jittered_ttl(ttl, policy_.jitter), guard);
    if (!stored) c_.errors.fetch_add(1, std::memory_order_relaxed);
    else if (*stored) c_.fills.fetch_add(1, std::memory_order_relaxed);
    else c_.stale_fills.fetch_add(1, std::memory_order_relaxed);
  }

  // 1: row decoded into entity; 0: known absent; -1: unreadable (counted as corrupt).
  auto accept(std::string_view stored, void* entity, bool count = true) -> int {
    std::string_view in = stored;
    const char kind = detail::cached_kind(in, hash_);
    if (kind == detail::cached_absent && in.empty()) {
      if (count) c_.negative_hits.fetch_add(1, std::memory_order_relaxed);
      return 0;
    }
    if (kind == detail::cached_row && decode_row(in, entity)) return 1;
    if (count) c_.corrupt.fetch_add(1, std::memory_order_relaxed);
    return -1;
  }

  // 1 hit, 0 known absent, -1 miss (absent, unreadable, or the store failed).
  auto lookup(std::string_view key, void* entity) -> int {
    int verdict = -1;
    auto hit = store_.visit(key, [&](std::string_view stored) { verdict = accept(stored, entity); });
    if (!hit) {
      c_.errors.fetch_add(1, std::memory_order_relaxed);
      return -1;
    }
    if (verdict >= 0) c_.hits.fetch_add(1, std::memory_order_relaxed);
    return verdict;
  }


  auto append_entity(std::string& out, const void* entity) const -> bool {
    detail::row_buffer buf(width(), ops_->encode_needs_scratch);
    if (!ops_->encode_row(entity, buf.values(), buf.views(), static_cast<std::size_t>(-1))) return false;
    detail::put_cached_row(out, buf.views());
    return true;
  }

  auto encode_entity(std::string& out, const void* entity) const -> bool {
    detail::put_cached_header(out, detail::cached_row, hash_);
    return append_entity(out, entity);
  }

  template <class Row>
  auto decode_rows(std::string_view in, Row& row) const -> bool {
    std::uint64_t n = 0;
    if (!detail::get_varint(in, n) || n > in.size()) return false;
    detail::view_buffer views(width());
    for (std::uint64_t i = 0; i < n; ++i) {
      if (!detail::get_cached_row(in, views.views())) return false;
      if (!row(std::span<const value_view>(views.views()))) return false;
    }
    return in.empty();
  }

  // The second look of `claim`: led keys found in the store now are settled from there.
  void recheck(batch_flight& b, std::span<void*> entities) {
    std::vector<std::string_view> views;
    views.reserve(b.lead.size());
    for (const auto* k : b.keys_) views.push_back(*k);
    auto got = store_.get_many_guarded(views, scope_, b.guards_);
    b.guards_.resize(b.lead.size());  // a store without guards leaves them unarmed
    if (!got) {
      c_.errors.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    std::size_t kept = 0;
    for (std::size_t j = 0; j < b.lead.size(); ++j) {
      const std::size_t i = b.lead[j];
      const int v = (*got)[j] ? accept(*(*got)[j], entities[i], false) : -1;
      if (v < 0) {
        if (kept != j) {
          b.lead[kept] = i;
          b.keys_[kept] = b.keys_[j];
          b.led_[kept] = std::move(b.led_[j]);
          b.generations_[kept] = b.generations_[j];
          b.guards_[kept] = std::move(b.guards_[j]);
        }
        ++kept;
        continue;
      }
      b.settled.emplace_back(i, v);
      auto f = std::move(b.led_[j]);
      finish(stripe_of(*b.keys_[j]), *b.keys_[j], f, [&](flight& x) {
        x.found = v == 1;
        x.bytes = std::move(*(*got)[j]);
      });
    }
    b.lead.resize(kept);
    b.keys_.resize(kept);
    b.led_.resize(kept);
    b.generations_.resize(kept);
    b.guards_.resize(kept);
  }

  template <class F>
  void finish(stripe& s, const std::string& key, const std::shared_ptr<flight>& f, F&& set) {
    {
      std::lock_guard lock(s.mu);
      if (auto it = s.flights.find(key); it != s.flights.end() && it->second == f) s.flights.erase(it);
    }
    {
      std::lock_guard lock(f->mu);
      set(*f);
      f->done = true;
    }
    f->cv.notify_all();
  }

  std::unique_ptr<cache::memory_store> own_;  // when the entity has a private store
  cache_ref store_;
  backend_ref backend_;
  const detail::entity_ops* ops_;
  std::uint64_t hash_;
  std::string ns_;
  std::string prefix_;
  std::string scope_;  // scope_of(prefix_)
  cache_policy policy_;
  row_decoder row_decoder_ = nullptr;  // decode_rows_with
  mutable counters c_;
  std::array<stripe, stripe_count> stripes_;
  std::atomic<std::uint64_t> query_generation_{0};
  std::atomic<bool> queries_used_{false};
};

}  // namespace ormkit
