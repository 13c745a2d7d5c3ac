// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/transaction.hpp
//
// Transactions over any backend: an RAII guard (`transaction`, rolled back
// unless committed) and `transact(backend, fn)`, which commits when `fn`
// succeeds, rolls back when it fails or throws, retries transient failures
// (busy, unavailable, timeout) by policy, and turns a nested call on the same
// backend and thread into a savepoint.
//
// Example:
//
//   auto st = ormkit::transact(db, [&](ormkit::transaction&) -> ormkit::status {
//     ORMKIT_TRY(accounts.update(from));
//     ORMKIT_TRY(accounts.update(to));
//     return {};
//   });

#include <ormkit/backend.hpp>
#include <ormkit/result.hpp>

#include <cerrno>
#include <chrono>
#include <cstddef>
#include <ctime>

#include <time.h>  // nanosleep (POSIX)
#include <functional>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace ormkit {

/// How `transact` retries transient failures.
struct retry_policy {
  int max_attempts = 3;                           ///< total tries, including the first
  std::chrono::milliseconds initial_backoff{2};   ///< doubled after each failed try
};

namespace detail {
// Sleeps between retries. <thread> would do, but costs every includer ~0.4 s of
// compile time for this one call.
inline void sleep_for(std::chrono::milliseconds d) {
  if (d.count() <= 0) return;  // nanosleep rejects a negative time (EINVAL): do not spin
  std::timespec ts{};
  ts.tv_sec = static_cast<std::time_t>(d.count() / 1000);
  ts.tv_nsec = static_cast<long>((d.count() % 1000) * 1000000);
  while (::nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

inline auto is_transient_error(const error& e) -> bool {
  return e.code.category() == error_category() && is_transient(static_cast<errc>(e.code.value()));
}

// Open transaction depth per backend on this thread (0: none).
inline auto transaction_depth(const void* backend) -> int& {
  thread_local std::map<const void*, int> depth;
  return depth[backend];
}

// Transactions open on this thread over all backends: a cheap "none at all" test
// for hot paths (the cache-aside read) before looking at one backend's depth.
inline auto open_transaction_count() noexcept -> int& {
  thread_local int n = 0;
  return n;
}

// Actions waiting for the outermost transaction of one backend on this thread to commit.
inline auto commit_actions(const void* backend) -> std::vector<std::function<void()>>& {
  thread_local std::map<const void*, std::vector<std::function<void()>>> actions;
  return actions[backend];
}

inline void run_commit_actions(const void* backend) {
  auto& list = commit_actions(backend);
  if (list.empty()) return;
  std::vector<std::function<void()>> todo;
  todo.swap(list);
  for (auto& f : todo) {
    try {
      f();
    } catch (...) {  // NOLINT(bugprone-empty-catch): the transaction has committed; an action cannot undo it
    }
  }
}
}  // namespace detail

/// Whether a transaction over `b` is open on the calling thread.
[[nodiscard]] inline auto in_transaction(backend_ref b) -> bool {
  return detail::open_transaction_count() > 0 && detail::transaction_depth(b.address()) > 0;
}

/// Runs `action` once the outermost transaction over `b` open on this thread
/// (begun through `transaction` / `transact`) has committed, or at once when
/// none is open. When that transaction rolls back, or the savepoint that was
/// innermost when `action` was registered rolls back, `action` is dropped.
/// This is how caches invalidate after commit and never after a rollback.
/// An exception from `action` is swallowed (the commit has happened).
inline void after_commit(backend_ref b, std::function<void()> action) {
  if (!in_transaction(b)) {
    action();
    return;
  }
  detail::commit_actions(b.address()).push_back(std::move(action));
}

/// An open transaction or savepoint; rolled back on destruction unless committed.
class transaction {
 public:
  /// Begins a transaction on `b`, or a savepoint when one is already open on this thread.
  /// Errors: those of the backend's begin (busy, unavailable, ...).
  static auto begin(backend_ref b) -> result<transaction> {
    int& depth = detail::transaction_depth(b.address());
    if (depth == 0) {
      ORMKIT_TRY(b.begin());
    } else {
      ORMKIT_TRY(b.savepoint(savepoint_name(depth)));
    }
    ++depth;
    ++detail::open_transaction_count();
    return transaction(b, depth, detail::commit_actions(b.address()).size());
  }

  transaction(transaction&& o) noexcept
      : backend_(o.backend_), level_(o.level_), active_(o.active_), actions_mark_(o.actions_mark_) {
    o.active_ = false;
  }
  transaction(const transaction&) = delete;
  auto operator=(const transaction&) -> transaction& = delete;
  auto operator=(transaction&&) -> transaction& = delete;
  ~transaction() {
    if (active_) (void)rollback();
  }

  /// Commits (or releases the savepoint). Errors: the backend's; the transaction is closed either way.
  auto commit() -> status {
    if (!active_) return unexpected(errc::transaction_state, "transaction: commit after commit or rollback");
    close();
    if (level_ == 1) {
      auto st = backend_.commit();
      // Run even when COMMIT reported an error: an action (a cache invalidation) is
      // harmless when nothing was committed, and needed when the outcome is unknown.
      detail::run_commit_actions(backend_.address());
      return st;
    }
    return backend_.release(savepoint_name(level_ - 1));
  }

  /// Rolls back (to the savepoint, for a nested scope).
  auto rollback() -> status {
    if (!active_) return unexpected(errc::transaction_state, "transaction: rollback after commit or rollback");
    close();
    auto& actions = detail::commit_actions(backend_.address());
    if (actions.size() > actions_mark_) actions.resize(actions_mark_);
    if (level_ == 1) return backend_.rollback();
    auto name = savepoint_name(level_ - 1);
    ORMKIT_TRY(backend_.rollback_to(name));
    return backend_.release(name);
  }

  [[nodiscard]] auto active() const noexcept -> bool { return active_; }
  /// 1 for the outermost transaction, 2 and more for savepoints inside it.
  [[nodiscard]] auto level() const noexcept -> int { return level_; }
  [[nodiscard]] auto backend() const noexcept -> backend_ref { return backend_; }

 private:
  transaction(backend_ref b, int level, std::size_t actions_mark)
      : backend_(b), level_(level), active_(true), actions_mark_(actions_mark) {}

  static auto savepoint_name(int depth) -> std::string { return "ormkit_sp_" + std::to_string(depth); }

  void close() {
    active_ = false;
    --detail::transaction_depth(backend_.address());
    --detail::open_transaction_count();
  }

  backend_ref backend_;
  int level_;
  bool active_;
  std::size_t actions_mark_ = 0;  // commit actions registered before this scope began
};

/// Runs `fn(transaction&)` in a transaction (a savepoint when nested) and commits if it
/// returns success; rolls back if it returns an error or throws (the exception propagates).
/// The outermost call retries transient errors (busy, unavailable, timeout) per `policy`,
/// running `fn` again from the start; `fn` must therefore be safe to re-run.
/// Returns: what `fn` returned (`status` or `result<R>`), or the begin/commit error.
template <class F>
auto transact(backend_ref b, F&& fn, retry_policy policy = {}) {
  using R = std::remove_cvref_t<std::invoke_result_t<F&, transaction&>>;
  static_assert(detail::is_result<R>::value, "ormkit: transact() needs a function returning ormkit::status or ormkit::result<T>");
  const bool nested = detail::transaction_depth(b.address()) > 0;
  auto backoff = policy.initial_backoff;
  for (int attempt = 1;; ++attempt) {
    auto tx = transaction::begin(b);
    if (!tx) {
      if (!nested && attempt < policy.max_attempts && detail::is_transient_error(tx.error())) {
        detail::sleep_for(backoff);
        backoff *= 2;
        continue;
      }
      return R(std::move(tx).error());
    }
    R out = [&]() -> R {
      try {
        return fn(*tx);
      } catch (...) {
        if (tx->active()) (void)tx->rollback();
        throw;
      }
    }();
    if (out.has_value()) {
      if (auto st = tx->commit(); !st) out = R(std::move(st).error());
    } else if (tx->active()) {
      (void)tx->rollback();
    }
    if (out.has_value() || nested || attempt >= policy.max_attempts) return out;
    if (!detail::is_transient_error(out.error())) return out;
    detail::sleep_for(backoff);
    backoff *= 2;
  }
}

}  // namespace ormkit
