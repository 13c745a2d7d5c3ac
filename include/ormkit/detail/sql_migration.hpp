// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/detail/sql_migration.hpp
//
// What the SQL migration drivers (migration/sqlite.hpp, migration/postgres.hpp) share:
// the history table `ormkit_migrations` (version, name, checksum, applied_at in unix
// seconds, duration_ms) read and written with bound values, and the statements of a
// step joined by ";\n". A driver supplies whether the table exists, and its dialect's
// integer type and placeholders.

#include <ormkit/backend.hpp>
#include <ormkit/detail/drift.hpp>
#include <ormkit/detail/sqlgen.hpp>
#include <ormkit/error.hpp>
#include <ormkit/migration.hpp>
#include <ormkit/migration/migrator.hpp>
#include <ormkit/result.hpp>
#include <ormkit/value.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ormkit::detail {

inline auto text_of(const value& v) -> std::string {
  const auto* s = std::get_if<std::string>(&v);
  return s ? *s : std::string();
}

inline auto int_of(const value& v) -> std::int64_t {
  const auto* i = std::get_if<std::int64_t>(&v);
  return i ? *i : 0;
}

/// The live table of `s` from the rows (name, type, not null) of a dialect's column query,
/// or nullopt after reporting the table missing when there are none.
inline auto live_columns(const value_rows& rows, const table_schema& s, std::vector<schema_difference>& out)
    -> std::optional<live_table> {
  if (rows.empty()) {
    const std::string table(s.name);
    out.push_back({schema_difference::kind::missing_table, table, {}, table + ": table is missing"});
    return std::nullopt;
  }
  live_table live;
  for (const auto& r : rows)
    if (r.size() >= 3) live.columns.push_back({text_of(r[0]), text_of(r[1]), int_of(r[2]) != 0});
  return live;
}

/// The statements of `a` where both SQL dialects read the same (drop table, renames,
/// create and drop index, SQL text, a C++ function's comment line); nullopt for create
/// table, add column and drop column, which each dialect renders itself.
inline auto common_statements(const migration_op& a) -> std::optional<std::vector<std::string>> {
  using namespace migration_ops;
  auto quoted = [](std::string_view name) {
    std::string out;
    sqlgen::append_identifier(out, name);
    return out;
  };
  std::string sql;
  if (const auto* x = std::get_if<drop_table>(&a)) {
    sql = "DROP TABLE IF EXISTS " + quoted(x->table);
  } else if (const auto* x = std::get_if<rename_column>(&a)) {
    sql = "ALTER TABLE " + quoted(x->table) + " RENAME COLUMN " + quoted(x->from) + " TO " + quoted(x->to);
  } else if (const auto* x = std::get_if<rename_table>(&a)) {
    sql = "ALTER TABLE " + quoted(x->from) + " RENAME TO " + quoted(x->to);
  } else if (const auto* x = std::get_if<create_index>(&a)) {
    const auto& ix = x->index;
    sql = sqlgen::create_index(ix.unique, ix.name, x->table, ix.columns.size(),
                               [&](std::size_t k) -> std::string_view { return ix.columns[k]; });
  } else if (const auto* x = std::get_if<drop_index>(&a)) {
    sql = "DROP INDEX IF EXISTS " + quoted(x->name);
  } else if (const auto* x = std::get_if<migration_ops::sql>(&a)) {
    sql = x->text;
  } else if (std::holds_alternative<code>(a)) {
    return describe_action(a);  // a comment
  } else {
    return std::nullopt;
  }
  return std::vector<std::string>{std::move(sql)};
}

/// The statements of `a` in a SQL dialect: `common_statements`, else for create table
/// `table(view)` (`view`: the table as a `table_schema`), for add column `ALTER TABLE "t"
/// ADD COLUMN "c"` followed by what `column(sql, view)` appends (`view`: a table of that
/// one column), for drop column `drop(table, column)`.
template <class Table, class Column, class Drop>
auto dialect_statements(const migration_op& a, Table&& table, Column&& column, Drop&& drop)
    -> result<std::vector<std::string>> {
  using namespace migration_ops;
  if (auto common = common_statements(a)) return std::move(*common);
  if (const auto* x = std::get_if<create_table>(&a)) return table(schema_view(x->table));
  if (const auto* x = std::get_if<add_column>(&a)) {
    table_definition d;
    d.name = x->table;
    d.columns.push_back(x->column);
    const table_schema view = schema_view(d);
    std::string sql = "ALTER TABLE ";
    sqlgen::append_identifier(sql, x->table);
    sql += " ADD COLUMN ";
    sqlgen::append_identifier(sql, x->column.name);
    ORMKIT_TRY(column(sql, view));
    return std::vector<std::string>{std::move(sql)};
  }
  const auto& x = std::get<drop_column>(a);
  return drop(x.table, x.column);
}

/// The statements `statements(op)` gives for each action of `action`, joined by ";\n".
template <class Statements>
auto join_statements(const migration_action& action, Statements&& statements) -> result<std::string> {
  std::string out;
  for (const auto& a : action) {
    auto st = statements(a);
    if (!st) return std::move(st).error();
    for (const auto& s : *st) {
      if (!out.empty()) out += ";\n";
      out += s;
    }
  }
  return out;
}

/// The history of a SQL backend `B` (`query(sql, values) -> result<value_rows>`,
/// `execute(sql)`, `begin()`, `commit()`, `rollback()`).
template <class B>
class sql_migration_driver : public ormkit::migration_driver {
 public:
  [[nodiscard]] auto supports(const migration_op&) const -> status override { return {}; }
  [[nodiscard]] auto in_transaction() const -> bool override { return db_.in_transaction(); }
  [[nodiscard]] auto separator() const -> std::string_view override { return ";\n"; }

  auto read_history() -> result<migration_history> override {
    auto exists = history_exists();
    if (!exists) return std::move(exists).error();
    migration_history out;
    if (!*exists) return out;
    auto rows = db_.query("SELECT \"version\", \"name\", \"checksum\", \"applied_at\", \"duration_ms\" FROM " +
                          table() + " ORDER BY \"version\"");
    if (!rows) return std::move(rows).error();
    for (const auto& r : *rows) {
      if (r.size() < 5) continue;
      out[static_cast<int>(int_of(r[0]))] = {text_of(r[1]), text_of(r[2]), int_of(r[3]), int_of(r[4])};
    }
    return out;
  }

  auto history_checksum(int version) -> result<std::optional<std::string>> override {
    const std::array<value_view, 1> key{static_cast<std::int64_t>(version)};
    auto row = db_.query("SELECT \"checksum\" FROM " + table() + " WHERE \"version\" = " + param(1), key);
    if (!row) return std::move(row).error();
    if (row->empty()) return std::optional<std::string>();
    return std::optional<std::string>(text_of(row->front().at(0)));
  }

  auto record(int version, const migration_history_row& h) -> status override {
    const std::array<value_view, 5> values{static_cast<std::int64_t>(version), std::string_view(h.name),
                                           std::string_view(h.checksum), h.applied_at, h.duration_ms};
    auto ins = db_.query("INSERT INTO " + table() +
                             " (\"version\", \"name\", \"checksum\", \"applied_at\", \"duration_ms\") VALUES (" +
                             param(1) + ", " + param(2) + ", " + param(3) + ", " + param(4) + ", " + param(5) + ")",
                         values);
    if (!ins) return std::move(ins).error();
    return {};
  }

  /// Creates the history table in a transaction of its own (after `lock_history()`).
  auto ensure_history() -> status override {
    auto exists = history_exists();
    if (!exists) return std::move(exists).error();
    if (*exists) return {};
    ORMKIT_TRY(db_.begin());
    auto made = lock_history();
    if (made)
      made = db_.execute("CREATE TABLE IF NOT EXISTS " + table() + " (\"version\" " + integer_ +
                         " PRIMARY KEY, \"name\" TEXT NOT NULL, \"checksum\" TEXT NOT NULL, \"applied_at\" " +
                         integer_ + " NOT NULL, \"duration_ms\" " + integer_ + " NOT NULL)");
    if (!made) {
      (void)db_.rollback();
      return made;
    }
    return db_.commit();
  }

  auto forget(int version) -> status override {
    const std::array<value_view, 1> key{static_cast<std::int64_t>(version)};
    auto del = db_.query("DELETE FROM " + table() + " WHERE \"version\" = " + param(1), key);
    if (!del) return std::move(del).error();
    return {};
  }

 protected:
  /// `integer`: the dialect's integer type; `numbered`: placeholders `$1, $2...`
  /// (PostgreSQL), else `?` (SQLite).
  sql_migration_driver(B& db, std::string_view integer, bool numbered)
      : ormkit::migration_driver(db), db_(db), integer_(integer), numbered_(numbered) {}

  /// Whether the history table exists. Creates nothing.
  virtual auto history_exists() -> result<bool> = 0;

  /// Inside the transaction that creates the history table, before it does.
  virtual auto lock_history() -> status { return {}; }

  B& db_;

 private:
  static auto table() -> std::string { return "\"" + std::string(migration_history_table) + "\""; }
  [[nodiscard]] auto param(int n) const -> std::string { return numbered_ ? "$" + std::to_string(n) : "?"; }

  std::string integer_;
  bool numbered_;
};

}  // namespace ormkit::detail
