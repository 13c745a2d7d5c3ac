// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/statement_observer.hpp
//
// Statement observers: told about every statement a SQL backend runs, with its SQL
// text (placeholders, never values), its parameters as display text with the values
// of `secret` columns redacted, the rows it read or changed, how long it took and
// how it failed. For logs, traces and slow-statement reports.
//
// Example:
//
//   struct slow_log : ormkit::statement_observer {
//     void executed(const ormkit::statement_event& e) override {
//       if (e.duration > std::chrono::milliseconds(50)) std::clog << e.sql << '\n';
//     }
//   } log;
//   db.observe_statements(&log);   // ormkit::sqlite::backend
//
// An observer costs one branch per statement while none is set.

#include <ormkit/error.hpp>
#include <ormkit/schema.hpp>
#include <ormkit/value.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace ormkit {

/// One statement a backend ran.
struct statement_event {
  std::string_view backend;                 ///< "sqlite", "postgres"
  std::string_view sql;                     ///< as prepared: placeholders, never values
  std::span<const std::string> parameters;  ///< bound values as text, in order; `secret` columns "<secret>"
  std::uint64_t rows = 0;                   ///< rows read (queries) or changed (writes)
  std::chrono::nanoseconds duration{};      ///< from the first step to the last (a cursor: to its end)
  const error* failure = nullptr;           ///< null when it succeeded
};

/// Receives a `statement_event` per statement, on the thread that ran it, after it
/// ran. Must not call back into the backend. What it throws is swallowed: the
/// statement has already run and its caller gets its own result.
class statement_observer {
 public:
  statement_observer() = default;
  statement_observer(const statement_observer&) = delete;
  auto operator=(const statement_observer&) -> statement_observer& = delete;
  virtual ~statement_observer() = default;

  virtual void executed(const statement_event& e) = 0;
};

/// The text a statement event shows for parameter value `v` bound for `column` of
/// `table` (null table or column out of range: not tied to a column, shown as is).
[[nodiscard]] inline auto parameter_text(const table_schema* table, std::size_t column, const value_view& v)
    -> std::string {
  if (table != nullptr && column < table->columns.size() && table->columns[column].has(column_flags::secret))
    return "<secret>";
  return to_display(v);
}

}  // namespace ormkit
