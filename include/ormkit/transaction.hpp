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
#include <map>
#include <string>
#include <type_traits>
#include <utility>

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
}  // namespace detail

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
    return transaction(b, depth);
  }

  transaction(transaction&& o) noexcept : backend_(o.backend_), level_(o.level_), active_(o.active_) {
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
    if (level_ == 1) return backend_.commit();
    return backend_.release(savepoint_name(level_ - 1));
  }

  /// Rolls back (to the savepoint, for a nested scope).
  auto rollback() -> status {
    if (!active_) return unexpected(errc::transaction_state, "transaction: rollback after commit or rollback");
    close();
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
  transaction(backend_ref b, int level) : backend_(b), level_(level), active_(true) {}

  static auto savepoint_name(int depth) -> std::string { return "ormkit_sp_" + std::to_string(depth); }

  void close() {
    active_ = false;
    --detail::transaction_depth(backend_.address());
  }

  backend_ref backend_;
  int level_;
  bool active_;
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
