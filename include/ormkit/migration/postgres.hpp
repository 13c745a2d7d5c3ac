// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/migration/postgres.hpp
//
// Migrations on PostgreSQL: the driver that lets `ormkit::migrator` (migration/
// migrator.hpp) run on one `postgres::backend` connection (or on one connection
// borrowed from a `postgres::pool` for the migrator's lifetime), and `drift()` there.
//
// - Structured actions become PostgreSQL DDL from postgres/sql.hpp (the types of
//   `column_type`: BIGINT, DOUBLE PRECISION, BOOLEAN, TEXT COLLATE "C", BYTEA,
//   TIMESTAMPTZ, JSONB; identifiers always quoted; the only constants in the text are
//   descriptor DDL defaults). Drop column is PostgreSQL's own `ALTER TABLE ... DROP
//   COLUMN` (indexes over the column go with it; no table rebuild). SQL text runs as
//   given (several statements allowed); a C++ step gets the connection
//   (`migration_context::native<postgres::backend>()`, or a function taking
//   `postgres::backend&`).
// - History: the table, in the connection's schema (`options::schema`, else the first
//   of the search_path),
//     ormkit_migrations(version BIGINT PRIMARY KEY, name TEXT, checksum TEXT,
//                       applied_at BIGINT /* unix seconds */, duration_ms BIGINT)
// - Each step runs in one transaction with its history row (PostgreSQL's DDL is
//   transactional). Right after BEGIN the step takes
//   `pg_advisory_xact_lock(migration_lock_key)`; a migrator on another connection or
//   process waits there until the first commits, then (under the default READ
//   COMMITTED isolation) reads the history again and sees the step applied, so each
//   step runs once. Under a stricter `options::default_isolation` the history read sees
//   the snapshot taken when the lock was asked for, so the racing migrator runs the step
//   again and then fails (on an object that exists, or on the history's primary key)
//   with nothing changed, instead of skipping it: migrate under the default.
// - `plan()` shows exactly the statements migrate() runs (BEGIN/COMMIT, the lock, history
//   and schema reads aside): none of them depends on the live schema.
// - Drift reads pg_catalog: columns (type as `format_type` spells it, with the text
//   collation; NOT NULL), indexes (unique, key columns; those behind a PRIMARY KEY or
//   UNIQUE constraint are not "extra"), foreign keys column by column.
//
// Example:
//
//   auto db = ormkit::postgres::backend::open({.conninfo = "dbname=app"}).value();
//   ormkit::migrator m(*db, ormkit::steps_for<user, post>());
//   m.migrate().value();
//   auto diffs = ormkit::drift<user, post>(*db).value();

#include <ormkit/detail/drift.hpp>
#include <ormkit/detail/sql_migration.hpp>
#include <ormkit/error.hpp>
#include <ormkit/migration.hpp>
#include <ormkit/migration/migrator.hpp>
#include <ormkit/postgres/backend.hpp>
#include <ormkit/postgres/pool.hpp>
#include <ormkit/postgres/sql.hpp>
#include <ormkit/result.hpp>
#include <ormkit/schema.hpp>
#include <ormkit/value.hpp>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ormkit::postgres {

/// The advisory lock key migration steps serialise on ("ormkit" 0002).
inline constexpr std::int64_t migration_lock_key = 0x6f726d6b69740002;

namespace detail::migration {

using ormkit::detail::int_of;
using ormkit::detail::text_of;

/// The statements of `a` (a C++ function: a comment line naming it).
/// Errors: invalid_argument (a default PostgreSQL cannot store).
inline auto statements(const migration_op& a) -> result<std::vector<std::string>> {
  return ormkit::detail::dialect_statements(
      a, [](const table_schema& s) { return schema_sql(s); },
      [](std::string& sql, const table_schema& s) { return append_column_definition(sql, s, 0); },
      [](const std::string& table, const std::string& column) -> result<std::vector<std::string>> {
        return std::vector<std::string>{"ALTER TABLE " + quote_identifier(table) + " DROP COLUMN " +
                                        quote_identifier(column)};
      });
}

/// The type `format_type` reports for a column made from `c`, with ` COLLATE "C"` for text.
inline auto catalog_type(const column_schema& c) -> std::string {
  switch (column_oid(c)) {
    case oid::boolean: return "boolean";
    case oid::timestamptz: return "timestamp with time zone";
    case oid::float8: return "double precision";
    case oid::jsonb: return "jsonb";
    case oid::bytea: return "bytea";
    case oid::text: return "text COLLATE \"C\"";
    default: return "bigint";
  }
}

// The oid of table $1 in the connection's current schema (NULL when there is none).
inline constexpr std::string_view table_oid =
    "(SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname = $1 AND c.relkind IN ('r', 'p') AND c.relnamespace = "
    "(SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = pg_catalog.current_schema()))";

}  // namespace detail::migration

/// The SQL of `action` joined by ";\n" (what `migrator::plan()` shows for it).
/// Errors: invalid_argument (a default PostgreSQL cannot store).
[[nodiscard]] inline auto migration_sql(const migration_action& action) -> result<std::string> {
  return ormkit::detail::join_statements(action, &detail::migration::statements);
}

/// The migration driver for one PostgreSQL connection (see the header comment).
class migration_driver final : public ormkit::detail::sql_migration_driver<postgres::backend> {
 public:
  explicit migration_driver(postgres::backend& db) : sql_migration_driver(db, "BIGINT", true) {}
  /// On a connection borrowed from a pool, kept until the driver goes.
  explicit migration_driver(pool::lease&& lease)
      : sql_migration_driver(*lease, "BIGINT", true), lease_(std::move(lease)) {}

  auto after_begin() -> status override { return lock(); }

  auto run(const migration_op& a) -> status override {
    auto st = detail::migration::statements(a);
    if (!st) return std::move(st).error();
    for (const auto& s : *st) ORMKIT_TRY(db_.execute(s));
    return {};
  }

  auto plan(const migration_action& action) -> result<std::vector<std::string>> override {
    std::vector<std::string> out;
    for (const auto& a : action) {
      auto st = detail::migration::statements(a);
      if (!st) return std::move(st).error();
      out.insert(out.end(), st->begin(), st->end());
    }
    return out;
  }

  auto drift(const table_schema& s, std::vector<schema_difference>& out) -> status override;

 private:
  // Two concurrent CREATE TABLE IF NOT EXISTS can collide: the history is created under the lock too.
  auto lock_history() -> status override { return lock(); }

  auto lock() -> status {
    return db_.execute("SELECT pg_catalog.pg_advisory_xact_lock(" + std::to_string(migration_lock_key) + ")");
  }

  auto history_exists() -> result<bool> override {
    std::array<value_view, 1> name{migration_history_table};
    auto rows = db_.query("SELECT " + std::string(detail::migration::table_oid) + " IS NOT NULL", name);
    if (!rows) return std::move(rows).error();
    return !rows->empty() && detail::migration::int_of(rows->front().at(0)) != 0;
  }

  pool::lease lease_;
};

/// The PostgreSQL driver for `db` (found by `ormkit::migrator` and `ormkit::drift`).
inline auto make_migration_driver(backend& db) -> std::unique_ptr<ormkit::migration_driver> {
  return std::make_unique<migration_driver>(db);
}

/// The PostgreSQL driver on one connection borrowed from `db` for the driver's (the
/// migrator's) lifetime: steps, history and the lock all run on it.
/// Throws: `ormkit::exception` when no connection can be borrowed (timeout, unavailable,
/// cannot_open), as the driver cannot be made without one.
inline auto make_migration_driver(pool& db) -> std::unique_ptr<ormkit::migration_driver> {
  auto lease = db.acquire();
  if (!lease) throw exception(std::move(lease).error());
  return std::make_unique<migration_driver>(std::move(*lease));
}

//=== drift ===//

inline auto migration_driver::drift(const table_schema& s, std::vector<schema_difference>& out) -> status {
  using detail::migration::int_of;
  using detail::migration::table_oid;
  using detail::migration::text_of;
  std::array<value_view, 1> name{s.name};
  auto cols = db_.query(
      "SELECT a.attname::text, pg_catalog.format_type(a.atttypid, a.atttypmod) || CASE WHEN co.collname IS NULL "
      "THEN '' ELSE ' COLLATE ' || pg_catalog.quote_ident(co.collname::text) END, a.attnotnull "
      "FROM pg_catalog.pg_attribute a LEFT JOIN pg_catalog.pg_collation co ON co.oid = a.attcollation "
      "WHERE a.attrelid = " +
          std::string(table_oid) + " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
      name);
  if (!cols) return std::move(cols).error();
  auto found = ormkit::detail::live_columns(*cols, s, out);
  if (!found) return {};
  ormkit::detail::live_table& live = *found;

  // Indexes: one row per key column, in order; expressions as "<expression>".
  auto ixrows = db_.query(
      "SELECT ic.relname::text, x.indisunique, (x.indisprimary OR EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k "
      "WHERE k.conindid = x.indexrelid AND k.contype IN ('p', 'u', 'x'))), a.attname::text "
      "FROM pg_catalog.pg_index x JOIN pg_catalog.pg_class ic ON ic.oid = x.indexrelid "
      "CROSS JOIN LATERAL pg_catalog.unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord) "
      "LEFT JOIN pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum AND k.attnum <> 0 "
      "WHERE x.indrelid = " +
          std::string(table_oid) + " AND k.ord <= x.indnkeyatts ORDER BY ic.relname::text COLLATE \"C\", k.ord",
      name);
  if (!ixrows) return std::move(ixrows).error();
  live.indexes.emplace();
  for (const auto& r : *ixrows) {
    const std::string n = text_of(r.at(0));
    if (live.indexes->empty() || live.indexes->back().name != n)
      live.indexes->push_back({n, int_of(r.at(1)) != 0, int_of(r.at(2)) != 0, {}});
    live.indexes->back().columns.push_back(r.at(3).index() == 0 ? std::string("<expression>") : text_of(r[3]));
  }

  auto fks = db_.query(
      "SELECT a.attname::text, pc.relname::text || '.' || pa.attname::text FROM pg_catalog.pg_constraint k "
      // unnest of two arrays is FROM-clause syntax (ROWS FROM), not a pg_catalog function
      "CROSS JOIN LATERAL unnest(k.conkey, k.confkey) AS u(src, dst) "
      "JOIN pg_catalog.pg_attribute a ON a.attrelid = k.conrelid AND a.attnum = u.src "
      "JOIN pg_catalog.pg_class pc ON pc.oid = k.confrelid "
      "JOIN pg_catalog.pg_attribute pa ON pa.attrelid = k.confrelid AND pa.attnum = u.dst "
      "WHERE k.contype = 'f' AND k.conrelid = " +
          std::string(table_oid) + " ORDER BY k.conname",
      name);
  if (!fks) return std::move(fks).error();
  live.foreign_keys.emplace();
  for (const auto& r : *fks) live.foreign_keys->push_back({text_of(r.at(0)), text_of(r.at(1))});
  ormkit::detail::compare_table(
      s, live,
      {&detail::migration::catalog_type, [](std::string_view a, std::string_view b) { return a == b; }, true}, out);
  return {};
}

}  // namespace ormkit::postgres
