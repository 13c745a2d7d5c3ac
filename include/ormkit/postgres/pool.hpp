// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/postgres/pool.hpp
//
// A thread-safe pool of PostgreSQL connections that is itself a backend: hand one
// `pool` to every repository and use it from any number of threads.
//
// Each call borrows a connection, runs, and gives it back; a transaction (`begin()`,
// or `ormkit::transact`) keeps its connection for the calling thread until commit or
// rollback, so the calls of one transaction all run on one connection and other
// threads never see it. Cursors hold their whole result, not a connection.
//
// Borrowing checks the connection: one that a failure or timeout closed is reopened
// (counted as a reconnect), and one idle for longer than `check_after_idle` is asked
// `SELECT 1` first, so a server restart costs the first caller after it nothing but
// a reconnect. While the server is down, calls fail with errc::unavailable (within
// `connect_timeout`), never hang. When every connection is busy a caller waits up to
// `acquire_timeout`, then gets errc::timeout.
//
// Example:
//
//   auto db = ormkit::postgres::pool::open({.connection = {.conninfo = "dbname=app"}, .max_size = 16}).value();
//   ormkit::repository<user> users(*db);        // safe to share between threads
//   auto st = ormkit::transact(*db, [&](ormkit::transaction&) -> ormkit::status { ... });
//   db->statistics().waits;

#include <ormkit/backend.hpp>
#include <ormkit/postgres/backend.hpp>
#include <ormkit/postgres/connection.hpp>
#include <ormkit/resource_metrics.hpp>
#include <ormkit/result.hpp>
#include <ormkit/statement_observer.hpp>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ormkit::postgres {

/// How to size and check a pool.
struct pool_options {
  /// How each connection is opened (conninfo, schema, deadlines, statement cache) and
  /// used: every connection the pool opens guards its transactions' writes with
  /// `connection.write_guard` (savepoint by default; see `write_guard`).
  options connection;
  /// At most this many connections.
  std::size_t max_size = 8;
  /// Connections opened by `open` and kept open while idle.
  std::size_t min_idle = 1;
  /// How long a caller waits for a free connection before errc::timeout.
  std::chrono::milliseconds acquire_timeout{5000};
  /// A connection idle for longer than this is checked (`SELECT 1`) when borrowed.
  std::chrono::milliseconds check_after_idle{1000};
};

/// Pool counters; a consistent snapshot.
struct pool_statistics {
  std::size_t size = 0;               ///< connections that exist
  std::size_t in_use = 0;             ///< borrowed right now (calls and transactions)
  std::size_t idle = 0;               ///< waiting in the pool
  std::uint64_t borrows = 0;          ///< connections handed out
  std::uint64_t waits = 0;            ///< borrows that had to wait for a free connection
  std::uint64_t timeouts = 0;         ///< borrows that gave up after acquire_timeout
  std::uint64_t reconnects = 0;       ///< closed or failed connections opened again
  std::uint64_t failed_checks = 0;    ///< health checks that found a dead connection
};

/// A pool of `postgres::backend` connections; satisfies `ormkit::backend` and may be
/// used from any number of threads at once.
class pool {
 public:
  /// Opens `min_idle` connections. Errors: those of `backend::open` (the first failure),
  /// invalid_argument (max_size 0, or min_idle above max_size).
  static auto open(pool_options opts) -> result<std::unique_ptr<pool>> {
    if (opts.max_size == 0 || opts.min_idle > opts.max_size)
      return unexpected(errc::invalid_argument, "postgres pool: max_size must be at least 1 and at least min_idle (got " +
                                                    std::to_string(opts.max_size) + " and " +
                                                    std::to_string(opts.min_idle) + ")");
    std::unique_ptr<pool> p(new pool(std::move(opts)));
    for (std::size_t i = 0; i < p->opts_.min_idle; ++i) {
      auto b = backend::open(p->opts_.connection);
      if (!b) return std::move(b).error();
      p->idle_.push_back({b->get(), std::chrono::steady_clock::now()});
      p->all_.push_back(std::move(*b));
    }
    return p;
  }

  pool(const pool&) = delete;
  auto operator=(const pool&) -> pool& = delete;
  ~pool() = default;

  /// A borrowed connection, returned to the pool on destruction.
  class lease {
   public:
    lease() = default;
    lease(lease&& o) noexcept : pool_(std::exchange(o.pool_, nullptr)), b_(std::exchange(o.b_, nullptr)) {}
    auto operator=(lease&& o) noexcept -> lease& {
      if (this != &o) {
        reset();
        pool_ = std::exchange(o.pool_, nullptr);
        b_ = std::exchange(o.b_, nullptr);
      }
      return *this;
    }
    ~lease() { reset(); }
    [[nodiscard]] auto operator*() const noexcept -> backend& { return *b_; }
    [[nodiscard]] auto operator->() const noexcept -> backend* { return b_; }
    void reset() {
      if (pool_ && b_) pool_->give_back(b_);
      pool_ = nullptr;
      b_ = nullptr;
    }

   private:
    friend class pool;
    lease(pool* p, backend* b) : pool_(p), b_(b) {}
    pool* pool_ = nullptr;
    backend* b_ = nullptr;
  };

  /// Borrows a connection for work the backend interface does not cover (execute,
  /// query, isolation levels). Errors: timeout (none free within acquire_timeout),
  /// unavailable / cannot_open (a connection could not be opened).
  auto acquire() -> result<lease> {
    auto b = borrow();
    if (!b) return std::move(b).error();
    return lease(this, *b);
  }

  [[nodiscard]] auto statistics() const -> pool_statistics {
    std::lock_guard lock(mutex_);
    auto s = stats_;
    s.size = all_.size();
    s.idle = idle_.size();
    s.in_use = all_.size() - idle_.size();
    return s;
  }
  [[nodiscard]] auto settings() const noexcept -> const pool_options& { return opts_; }

  /// `statistics()` as resource metrics, for persistence_manager's metrics.
  [[nodiscard]] auto resource_metrics() const -> std::vector<resource_metric> {
    const auto s = statistics();
    using k = resource_metric::kind;
    return {
        {"connections", "Connections the pool holds open.", k::gauge, s.size},
        {"in_use", "Connections borrowed right now.", k::gauge, s.in_use},
        {"idle", "Connections waiting in the pool.", k::gauge, s.idle},
        {"max_connections", "The pool's limit on open connections.", k::gauge, opts_.max_size},
        {"borrows", "Connections handed out.", k::counter, s.borrows},
        {"waits", "Borrows that waited for a free connection.", k::counter, s.waits},
        {"acquire_timeouts", "Borrows that gave up after acquire_timeout.", k::counter, s.timeouts},
        {"reconnects", "Closed or failed connections opened again.", k::counter, s.reconnects},
        {"failed_checks", "Health checks on borrow that found a dead connection.", k::counter, s.failed_checks},
    };
  }

  /// Tells `o` about every statement of every connection from now on (null: no one), as
  /// `backend::observe_statements` does; it is called on the thread that ran the statement,
  /// so it must be thread-safe. A call takes the observer in effect when it borrows its
  /// connection (a transaction: at `begin()`). Not owned; it must outlive its use.
  void observe_statements(statement_observer* o) noexcept { observer_.store(o, std::memory_order_release); }

  //=== the backend interface ===//

  [[nodiscard]] auto name() const -> std::string_view { return "postgres"; }
  auto ensure_table(const table_schema& s) -> status {
    return with([&](backend& b) { return b.ensure_table(s); });
  }
  auto insert(const table_schema& s, std::span<const value_view> r) -> result<std::int64_t> {
    return with([&](backend& b) { return b.insert(s, r); });
  }
  auto insert_many(const table_schema& s, std::span<const value_view> rows, std::size_t count,
                   std::vector<std::int64_t>& ids) -> status {
    return with([&](backend& b) { return b.insert_many(s, rows, count, ids); });
  }
  auto upsert(const table_schema& s, std::span<const value_view> r, std::span<const std::size_t> c)
      -> result<std::int64_t> {
    return with([&](backend& b) { return b.upsert(s, r, c); });
  }
  auto update(const table_schema& s, std::span<const std::size_t> c, std::span<const value_view> v, const expr& f)
      -> result<std::uint64_t> {
    return with([&](backend& b) { return b.update(s, c, v, f); });
  }
  auto erase(const table_schema& s, const expr& f) -> result<std::uint64_t> {
    return with([&](backend& b) { return b.erase(s, f); });
  }
  auto select(const table_schema& s, const query_spec& q) -> result<cursor> {
    return with([&](backend& b) { return b.select(s, q); });
  }
  auto aggregate(const table_schema& s, const aggregate_spec& a) -> result<value_rows> {
    return with([&](backend& b) { return b.aggregate(s, a); });
  }
  auto get_key(const table_schema& s, const key_spec& k, row_sink sink) -> result<bool> {
    return with([&](backend& b) { return b.get_key(s, k, sink); });
  }
  auto update_key(const table_schema& s, const key_spec& k, std::span<const std::size_t> c,
                  std::span<const value_view> v) -> result<std::uint64_t> {
    return with([&](backend& b) { return b.update_key(s, k, c, v); });
  }
  auto erase_key(const table_schema& s, const key_spec& k) -> result<std::uint64_t> {
    return with([&](backend& b) { return b.erase_key(s, k); });
  }
  auto update_keys(const table_schema& s, std::span<const key_spec> keys, std::span<const std::size_t> c,
                   std::span<const value_view> v, std::span<std::uint64_t> affected, std::size_t* failed) -> status {
    return with([&](backend& b) { return b.update_keys(s, keys, c, v, affected, failed); });
  }

  /// Begins a transaction on a connection that stays with the calling thread until
  /// commit or rollback. Errors: transaction_state (this thread already has one), those
  /// of borrowing and of `backend::begin`.
  auto begin() -> status { return begin(opts_.connection.default_isolation); }
  auto begin(isolation level) -> status {
    if (pinned()) return unexpected(errc::transaction_state,
                                    "postgres pool: this thread already has a transaction; use a savepoint");
    auto b = borrow();
    if (!b) return std::move(b).error();
    if (auto st = (*b)->begin(level); !st) {
      give_back(*b);
      return st;
    }
    std::lock_guard lock(mutex_);
    pinned_[std::this_thread::get_id()] = *b;
    return {};
  }
  auto commit() -> status { return finish(true); }
  auto rollback() -> status { return finish(false); }
  auto savepoint(std::string_view n) -> status { return on_pinned("savepoint", [&](backend& b) { return b.savepoint(n); }); }
  auto release(std::string_view n) -> status { return on_pinned("release", [&](backend& b) { return b.release(n); }); }
  auto rollback_to(std::string_view n) -> status {
    return on_pinned("rollback_to", [&](backend& b) { return b.rollback_to(n); });
  }

 private:
  explicit pool(pool_options opts) : opts_(std::move(opts)), observer_(opts_.connection.observer) {}

  // Hands `b` out with the observer in effect.
  auto lent(backend* b) -> backend* {
    statement_observer* o = observer_.load(std::memory_order_acquire);
    if (b->settings().observer != o) b->observe_statements(o);
    return b;
  }

  struct idle_connection {
    backend* b;
    std::chrono::steady_clock::time_point since;
  };

  auto pinned() const -> backend* {
    std::lock_guard lock(mutex_);
    auto it = pinned_.find(std::this_thread::get_id());
    return it == pinned_.end() ? nullptr : it->second;
  }

  template <class F>
  auto with(F&& fn) -> decltype(fn(std::declval<backend&>())) {
    if (backend* b = pinned()) return fn(*b);
    auto b = borrow();
    if (!b) return std::move(b).error();
    auto out = fn(**b);
    give_back(*b);
    return out;
  }

  template <class F>
  auto on_pinned(std::string_view what, F&& fn) -> status {
    backend* b = pinned();
    if (!b)
      return unexpected(errc::transaction_state,
                        "postgres pool: " + std::string(what) + " without a transaction on this thread");
    return fn(*b);
  }

  auto finish(bool commit) -> status {
    backend* b = nullptr;
    {
      std::lock_guard lock(mutex_);
      auto it = pinned_.find(std::this_thread::get_id());
      if (it != pinned_.end()) {
        b = it->second;
        pinned_.erase(it);
      }
    }
    if (!b)
      return unexpected(errc::transaction_state, std::string("postgres pool: ") + (commit ? "commit" : "rollback") +
                                                     " without a transaction on this thread");
    auto st = commit ? b->commit() : b->rollback();
    give_back(b);
    return st;
  }

  // Takes an idle connection (checking it), opens a new one below max_size, or waits.
  auto borrow() -> result<backend*> {
    const auto deadline = std::chrono::steady_clock::now() + opts_.acquire_timeout;
    std::unique_lock lock(mutex_);
    bool waited = false;
    for (;;) {
      if (!idle_.empty()) {
        auto c = idle_.back();
        idle_.pop_back();
        ++stats_.borrows;
        if (waited) ++stats_.waits;
        lock.unlock();
        if (auto st = check(*c.b, c.since); !st) {
          give_back(c.b);
          return std::move(st).error();
        }
        return lent(c.b);
      }
      if (all_.size() + opening_ < opts_.max_size) {
        ++opening_;
        lock.unlock();
        auto b = backend::open(opts_.connection);
        lock.lock();
        --opening_;
        if (!b) {
          cv_.notify_one();
          return std::move(b).error();
        }
        ++stats_.borrows;
        if (waited) ++stats_.waits;
        all_.push_back(std::move(*b));
        return lent(all_.back().get());
      }
      waited = true;
      if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
          all_.size() + opening_ >= opts_.max_size) {
        ++stats_.timeouts;
        return unexpected(errc::timeout, "postgres pool: no connection became free within " +
                                             std::to_string(opts_.acquire_timeout.count()) + " ms (all " +
                                             std::to_string(all_.size()) + " in use)");
      }
    }
  }

  // Reopens a closed connection; asks one idle for a while whether it still works.
  auto check(backend& b, std::chrono::steady_clock::time_point since) -> status {
    if (b.connected() && std::chrono::steady_clock::now() - since > opts_.check_after_idle) {
      if (!b.query("SELECT 1::int8")) {
        std::lock_guard lock(mutex_);
        ++stats_.failed_checks;
      }
    }
    if (b.connected()) return {};
    {
      std::lock_guard lock(mutex_);
      ++stats_.reconnects;
    }
    return b.reconnect();
  }

  void give_back(backend* b) {
    // A connection must never go back with a transaction open (a caller's bug or a
    // failed rollback): end it here rather than hand it to someone else.
    if (b->in_transaction()) (void)b->rollback();
    {
      std::lock_guard lock(mutex_);
      idle_.push_back({b, std::chrono::steady_clock::now()});
    }
    cv_.notify_one();
  }

  pool_options opts_;
  std::atomic<statement_observer*> observer_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<backend>> all_;
  std::vector<idle_connection> idle_;
  std::unordered_map<std::thread::id, backend*> pinned_;
  std::size_t opening_ = 0;
  pool_statistics stats_;
};

static_assert(ormkit::backend<pool>);

}  // namespace ormkit::postgres
