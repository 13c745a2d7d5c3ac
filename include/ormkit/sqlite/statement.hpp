// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/sqlite/statement.hpp
//
// Prepared statements and the per-connection statement cache. The cache is
// keyed by the SQL text, which the backend generates from the statement's
// shape only (table, columns, operators, number of values: never a value), so
// the everyday repository calls prepare each shape once per connection and
// then only bind and step.
//
// A statement is used through a `lease`: `acquire` checks it out of the cache,
// and the lease's destructor resets it, clears its bindings and puts it back.
// While checked out, nobody else gets it: a second `acquire` of the same text
// (say, a point lookup while a cursor over the same query is still open)
// prepares a private copy, which is finalized instead of cached. Cursors hold
// their lease for as long as they are open.
//
// Example:
//
//   ormkit::sqlite::statement_cache cache(db, 128);
//   ormkit::sqlite::lease st;
//   if (int rc = cache.acquire("SELECT 1", st); rc != SQLITE_OK) { /* sqlite3_errmsg(db) */ }
//   sqlite3_step(st.get());
//   // ~lease: sqlite3_reset + sqlite3_clear_bindings, back into the cache

#include <sqlite3.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>

namespace ormkit::sqlite {

/// Counters of one connection's statement cache.
struct statistics {
  std::uint64_t prepares = 0;    ///< calls to sqlite3_prepare_v3 (cache misses and private copies)
  std::uint64_t cache_hits = 0;  ///< statements served from the cache without preparing
  std::uint64_t evictions = 0;   ///< cached statements finalized to stay within the capacity
  std::size_t cached = 0;        ///< statements in the cache now
};

class statement_cache;

namespace detail {
// A cached statement. `pinned` slots are never evicted: their owner (the backend's
// per-table state) keeps a pointer to skip the lookup by text, and rebinds every
// parameter before each step, so their bindings need no clearing.
struct statement_slot {
  sqlite3_stmt* stmt = nullptr;
  bool in_use = false;
  bool pinned = false;
  std::uint64_t last_used = 0;
  // A pinned slot's cache hits, counted here rather than in the cache's statistics: the
  // everyday call then touches only this slot's memory (see statement_cache::stats).
  std::uint64_t pinned_hits = 0;
};
}  // namespace detail

/// A checked-out prepared statement. Move-only; on destruction the statement is
/// reset (releasing any read lock it held), its bindings are cleared, and it goes
/// back to the cache (or is finalized when it was a private copy).
class lease {
 public:
  lease() = default;
  lease(lease&& o) noexcept
      : stmt_(std::exchange(o.stmt_, nullptr)), slot_(std::exchange(o.slot_, nullptr)), rewound_(o.rewound_) {}
  auto operator=(lease&& o) noexcept -> lease& {
    if (this != &o) {
      reset();
      stmt_ = std::exchange(o.stmt_, nullptr);
      slot_ = std::exchange(o.slot_, nullptr);
      rewound_ = o.rewound_;
    }
    return *this;
  }
  lease(const lease&) = delete;
  auto operator=(const lease&) -> lease& = delete;
  [[gnu::always_inline]] ~lease() { reset(); }

  /// The statement. Whoever steps it leaves it to be reset (by `rewind` or on release).
  [[nodiscard, gnu::always_inline]] auto get() noexcept -> sqlite3_stmt* {
    rewound_ = false;
    return stmt_;
  }

  /// Resets the statement now (keeping it checked out and its bindings), so that
  /// releasing it has nothing left to do.
  [[gnu::always_inline]] void rewind() noexcept {
    if (stmt_ && !rewound_) sqlite3_reset(stmt_);
    rewound_ = true;
  }
  explicit operator bool() const noexcept { return stmt_ != nullptr; }

  /// Returns the statement now (what the destructor does).
  void reset() noexcept;

 private:
  [[gnu::noinline]] void release() noexcept {
    if (!rewound_) sqlite3_reset(stmt_);
    rewound_ = false;
    if (!slot_ || !slot_->pinned) sqlite3_clear_bindings(stmt_);
    if (slot_) slot_->in_use = false;
    else sqlite3_finalize(stmt_);
    stmt_ = nullptr;
    slot_ = nullptr;
  }

  friend class statement_cache;
  using slot = detail::statement_slot;
  // Statements in the cache are reset, and new ones have never run.
  lease(sqlite3_stmt* s, slot* sl) noexcept : stmt_(s), slot_(sl), rewound_(true) {}

  sqlite3_stmt* stmt_ = nullptr;
  slot* slot_ = nullptr;  // null: a private statement, finalized on reset
  bool rewound_ = false;  // reset since it was last handed out by get()
};

/// The prepared statements of one connection, by SQL text, least recently used
/// evicted first. Not thread-safe: it belongs to one connection, which one thread
/// uses at a time. Must outlive every lease it handed out.
class statement_cache {
 public:
  /// `capacity` 0 disables caching: every acquire prepares, every release finalizes.
  statement_cache(sqlite3* db, std::size_t capacity) : db_(db), capacity_(capacity) {}
  statement_cache(const statement_cache&) = delete;
  auto operator=(const statement_cache&) -> statement_cache& = delete;
  ~statement_cache() {
    // Every lease is back by now (the owner keeps the cache alive for them).
    for (auto& [sql, s] : slots_) sqlite3_finalize(s->stmt);
  }

  /// Checks out the statement for `sql` into `out`, preparing it when it is not
  /// cached or already checked out. Returns SQLITE_OK or the prepare error code
  /// (the message is then in sqlite3_errmsg).
  auto acquire(const std::string& sql, lease& out) -> int {
    out.reset();
    if (auto it = slots_.find(sql); it != slots_.end() && !it->second->in_use) {
      ++stats_.cache_hits;
      it->second->in_use = true;
      it->second->last_used = ++tick_;
      out = lease(it->second->stmt, it->second.get());
      return SQLITE_OK;
    }
    const bool cache_it = capacity_ > 0 && !slots_.count(sql);
    sqlite3_stmt* stmt = nullptr;
    ++stats_.prepares;
    // PERSISTENT tells SQLite the statement lives long, so it does not take its
    // memory from the small lookaside pool.
    int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                cache_it ? static_cast<unsigned>(SQLITE_PREPARE_PERSISTENT) : 0u, &stmt, nullptr);
    if (rc != SQLITE_OK) {
      sqlite3_finalize(stmt);
      return rc;
    }
    if (stmt == nullptr) return SQLITE_MISUSE;  // empty SQL text: nothing to run
    if (!cache_it) {
      out = lease(stmt, nullptr);
      return SQLITE_OK;
    }
    if (slots_.size() >= capacity_) evict_one();
    auto s = std::make_unique<lease::slot>();
    s->stmt = stmt;
    s->in_use = true;
    s->last_used = ++tick_;
    out = lease(stmt, s.get());
    slots_.emplace(sql, std::move(s));
    return SQLITE_OK;
  }

  /// Like `acquire`, and remembers the cached statement in `pin` (which then stays
  /// cached for the connection's life), so that later calls with the same `pin`
  /// skip the lookup by text. `pin` starts null; `sql` must be the same text each time.
  /// (The everyday answer is inlined into the caller; the rest is out of line.)
  [[gnu::always_inline]] auto acquire_pinned(const std::string& sql, detail::statement_slot*& pin, lease& out)
      -> int {
    if (pin != nullptr && !pin->in_use) [[likely]] {
      if (out) out.reset();
      take_pinned(pin, out);
      return SQLITE_OK;
    }
    return acquire_and_pin(sql, pin, out);
  }

  /// The everyday half of `acquire_pinned`, for an empty `out`: checks out the statement
  /// `pin` remembers when there is one and it is free, and says whether it did (when
  /// not, call `acquire_pinned`).
  [[gnu::always_inline]] auto try_pinned(detail::statement_slot* pin, lease& out) -> bool {
    if (pin == nullptr || pin->in_use) [[unlikely]]
      return false;
    take_pinned(pin, out);
    return true;
  }

 private:
  [[gnu::always_inline]] void take_pinned(detail::statement_slot* pin, lease& out) {
    // Pinned slots are never evicted, so their last use need not be tracked.
    ++pin->pinned_hits;
    pin->in_use = true;
    out.stmt_ = pin->stmt;
    out.slot_ = pin;
    out.rewound_ = true;  // statements come back reset
  }

  [[gnu::noinline]] auto acquire_and_pin(const std::string& sql, detail::statement_slot*& pin, lease& out) -> int {
    int rc = acquire(sql, out);
    if (rc == SQLITE_OK && pin == nullptr && out.slot_ != nullptr) {
      out.slot_->pinned = true;
      pin = out.slot_;
    }
    return rc;
  }

 public:
  /// Finalizes every statement neither checked out nor pinned.
  void clear() noexcept {
    for (auto it = slots_.begin(); it != slots_.end();) {
      if (it->second->in_use || it->second->pinned) {
        ++it;
        continue;
      }
      sqlite3_finalize(it->second->stmt);
      it = slots_.erase(it);
    }
  }

  [[nodiscard]] auto stats() const noexcept -> statistics {
    statistics s = stats_;
    s.cached = slots_.size();
    for (const auto& [sql, slot] : slots_) s.cache_hits += slot->pinned_hits;
    return s;
  }

 private:
  // Called when a new statement must fit: finalizes the least recently used
  // one that is not checked out. A linear scan, but only on a prepare, which
  // costs far more; when every statement is checked out the cache grows.
  void evict_one() noexcept {
    auto victim = slots_.end();
    for (auto it = slots_.begin(); it != slots_.end(); ++it)
      if (!it->second->in_use && !it->second->pinned &&
          (victim == slots_.end() || it->second->last_used < victim->second->last_used))
        victim = it;
    if (victim == slots_.end()) return;
    sqlite3_finalize(victim->second->stmt);
    slots_.erase(victim);
    ++stats_.evictions;
  }

  sqlite3* db_;
  std::size_t capacity_;
  std::uint64_t tick_ = 0;
  statistics stats_;
  std::unordered_map<std::string, std::unique_ptr<lease::slot>> slots_;
};

// The everyday release (a pinned statement, already rewound) inline; the rest out of line.
[[gnu::always_inline]] inline void lease::reset() noexcept {
  if (!stmt_) return;
  if (rewound_ && slot_ != nullptr && slot_->pinned) [[likely]] {
    slot_->in_use = false;
    rewound_ = false;
    stmt_ = nullptr;
    slot_ = nullptr;
    return;
  }
  release();
}

}  // namespace ormkit::sqlite
