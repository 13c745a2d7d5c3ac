// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/observer.hpp
//
// What a repository tells an observer about each operation: before a write
// (a chance to veto it), after every operation (outcome, rows, duration), and
// for each entity it loads. The persistence manager installs one observer per
// entity for its lifecycle hooks and metrics; a repository without one pays a
// null-pointer test per call and reads no clock.
//
// Example:
//
//   struct audit final : ormkit::repository_observer {
//     auto before(const ormkit::operation_event& e) -> ormkit::status override {
//       if (e.op == ormkit::operation::erase) return ormkit::unexpected(ormkit::errc::rejected, "read-only");
//       return {};
//     }
//   };
//   audit a;
//   ormkit::repository<user> users(db, {.observer = &a});

#include <ormkit/error.hpp>
#include <ormkit/result.hpp>
#include <ormkit/schema.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ormkit {

/// The repository operations an observer sees.
enum class operation : unsigned char {
  insert,       ///< insert, insert_many (one event per entity before, one per call after)
  update,       ///< update, update_columns
  upsert,       ///< upsert
  erase,        ///< erase by key, erase_many, erase_where (soft delete included)
  restore,      ///< restore of a soft-deleted row
  get,          ///< get, find_by_key, get_many
  find,         ///< find, find_one, page_of, page_after, stream, count, exists, aggregates
};
inline constexpr std::size_t operation_count = 7;

/// "insert", "update", ... (the label used in metrics).
[[nodiscard]] constexpr auto to_string(operation op) noexcept -> std::string_view {
  switch (op) {
    case operation::insert: return "insert";
    case operation::update: return "update";
    case operation::upsert: return "upsert";
    case operation::erase: return "erase";
    case operation::restore: return "restore";
    case operation::get: return "get";
    case operation::find: return "find";
  }
  return "unknown";
}

/// One operation on one table, as an observer sees it.
struct operation_event {
  operation op{};
  const table_schema* table = nullptr;
  /// before: the entity about to be written (a `T*` as `const void*`); after: the
  /// entity written or loaded; null when the operation has no single entity.
  const void* entity = nullptr;
  /// The key an erase / restore / get by key addresses (a `primary_key_t<T>` as
  /// `const void*`), or null.
  const void* key = nullptr;
  /// after: rows written, erased or loaded.
  std::uint64_t rows = 0;
  /// after: how long the operation took.
  std::chrono::nanoseconds duration{0};
  /// after: the failure, or null on success.
  const error* failure = nullptr;
};

/// Receives the events of the repositories it is installed in (repository_options::observer).
/// Calls come on the thread doing the operation; an observer shared by threads must
/// synchronise itself. An exception thrown by `before` vetoes the operation
/// (errc::rejected with the exception's message); one thrown by `after` or `loaded`
/// is swallowed: the operation has already happened.
class repository_observer {
 public:
  repository_observer() = default;
  repository_observer(const repository_observer&) = default;
  auto operator=(const repository_observer&) -> repository_observer& = default;
  virtual ~repository_observer() = default;

  /// Before an insert, update, upsert, erase or restore: an error vetoes it (nothing is written).
  virtual auto before(const operation_event& e) -> status {
    (void)e;
    return {};
  }
  /// After every operation, successful or not.
  virtual void after(const operation_event& e) { (void)e; }
  /// For each entity a read materialised (get, find, pages; not streams).
  virtual void loaded(const operation_event& e) { (void)e; }
};

}  // namespace ormkit
