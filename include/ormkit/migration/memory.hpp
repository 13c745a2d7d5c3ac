// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/migration/memory.hpp
//
// Migrations on the memory backend: the driver that lets `ormkit::migrator`
// (migration/migrator.hpp) run on an `ormkit::memory::backend`, and `drift()`
// there.
//
// - Structured actions change the stored tables and rows (memory/backend.hpp,
//   "schema changes"): create and drop tables, add columns (every row gets the
//   default, or NULL; placed after the column the descriptor puts before it, so a
//   migrated table has the entity's column order), drop and rename columns,
//   rename tables, create indexes (a unique one checked against the rows) and
//   drop them.
// - SQL text cannot run here: a step with SQL text is refused before anything
//   runs, naming the step (`migration 3 "x": is SQL text; the memory backend runs
//   only structured and C++ steps`).
// - A C++ step gets the backend (`migration_context::backend()` for repositories,
//   `native<memory::backend>()`, or a function taking `memory::backend&`).
// - History: a table `ormkit_migrations` in the backend (version, name, checksum,
//   applied_at, duration_ms), saved with everything else (in the JSON file when
//   the backend has one).
// - Each step is one memory transaction with its history row: a failing step
//   leaves tables, rows and history as they were. Migrators on other threads wait
//   for it (the memory backend's transactions are serializable).
// - `plan()` shows each action's canonical text (`describe_action`).
// - `drift()` compares tables, column names and indexes (names, columns,
//   uniqueness); the memory backend keeps no declared types, nullability or
//   foreign keys (they live in the descriptors), so those are not compared.
//
// Example:
//
//   ormkit::memory::backend db({.store = ormkit::memory::json_file("app.json")});
//   ormkit::migrator m(db, ormkit::steps_for<user, post>());
//   m.migrate().value();

#include <ormkit/detail/drift.hpp>
#include <ormkit/describe.hpp>
#include <ormkit/entity.hpp>
#include <ormkit/error.hpp>
#include <ormkit/memory/backend.hpp>
#include <ormkit/migration.hpp>
#include <ormkit/migration/migrator.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/result.hpp>
#include <ormkit/schema.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

namespace ormkit::memory {

/// One row of the memory backend's migration history.
struct migration_record {
  std::int64_t version{};
  std::string name{};
  std::string checksum{};
  std::int64_t applied_at{};
  std::int64_t duration_ms{};

  friend constexpr auto ormkit_describe(std::type_identity<migration_record>) {
    return describe<migration_record>("ormkit_migrations")
        .column(&migration_record::version, "version", primary_key)
        .column(&migration_record::name, "name")
        .column(&migration_record::checksum, "checksum")
        .column(&migration_record::applied_at, "applied_at")
        .column(&migration_record::duration_ms, "duration_ms");
  }
};

/// The migration driver for a memory backend (see the header comment).
class migration_driver final : public ormkit::migration_driver {
 public:
  explicit migration_driver(memory::backend& db) : ormkit::migration_driver(db), db_(db), history_(db) {}

  [[nodiscard]] auto supports(const migration_op& a) const -> status override {
    if (is_sql(a))
      return unexpected(errc::unsupported, "is SQL text; the memory backend runs only structured and C++ steps");
    return {};
  }

  auto read_history() -> result<migration_history> override {
    migration_history out;
    if (!db_.has_table(migration_history_table)) return out;
    auto rows = history_.find_all();
    if (!rows) return std::move(rows).error();
    for (const auto& r : *rows) out[static_cast<int>(r.version)] = {r.name, r.checksum, r.applied_at, r.duration_ms};
    return out;
  }

  auto ensure_history() -> status override { return db_.ensure_table(schema_of<migration_record>()); }

  [[nodiscard]] auto in_transaction() const -> bool override { return db_.in_transaction(); }

  auto history_checksum(int version) -> result<std::optional<std::string>> override {
    auto row = history_.find_by_key(static_cast<std::int64_t>(version));
    if (!row) return std::move(row).error();
    if (!*row) return std::optional<std::string>();
    return std::optional<std::string>((*row)->checksum);
  }

  auto record(int version, const migration_history_row& h) -> status override {
    auto ins = history_.insert({version, h.name, h.checksum, h.applied_at, h.duration_ms});
    if (!ins) return std::move(ins).error();
    return {};
  }

  auto forget(int version) -> status override { return history_.erase(static_cast<std::int64_t>(version)); }

  auto run(const migration_op& a) -> status override {
    using namespace migration_ops;
    if (const auto* x = std::get_if<create_table>(&a)) {
      std::vector<std::string> columns;
      for (const auto& c : x->table.columns) columns.push_back(c.name);
      ORMKIT_TRY(db_.create_table(x->table.name, std::move(columns)));
      for (const auto& ix : x->table.indexes) ORMKIT_TRY(db_.create_index(x->table.name, {ix.name, ix.columns, ix.unique}));
      return {};
    }
    if (const auto* x = std::get_if<drop_table>(&a)) return db_.drop_table(x->table);
    if (const auto* x = std::get_if<add_column>(&a))
      return db_.add_column(x->table, x->column.name, x->column.default_value.value_or(value{}), x->column.nullable,
                            x->after);
    if (const auto* x = std::get_if<drop_column>(&a)) return db_.drop_column(x->table, x->column);
    if (const auto* x = std::get_if<rename_column>(&a)) return db_.rename_column(x->table, x->from, x->to);
    if (const auto* x = std::get_if<rename_table>(&a)) return db_.rename_table(x->from, x->to);
    if (const auto* x = std::get_if<create_index>(&a))
      return db_.create_index(x->table, {x->index.name, x->index.columns, x->index.unique});
    if (const auto* x = std::get_if<drop_index>(&a)) return db_.drop_index(x->name);
    return supports(a);  // SQL text (refused before anything runs); C++ runs in the migrator
  }

  auto plan(const migration_action& action) -> result<std::vector<std::string>> override {
    std::vector<std::string> out;
    for (const auto& a : action) {
      auto lines = describe_action(a);
      out.insert(out.end(), lines.begin(), lines.end());
    }
    return out;
  }

  // The memory backend keeps column names and (once recorded) indexes: no types,
  // nullability or foreign keys to compare.
  auto drift(const table_schema& s, std::vector<schema_difference>& out) -> status override {
    auto stored = db_.describe_table(s.name);
    if (!stored) {
      const std::string table(s.name);
      out.push_back({schema_difference::kind::missing_table, table, {}, table + ": table is missing"});
      return {};
    }
    ormkit::detail::live_table live;
    live.types_known = false;
    for (const auto& c : stored->columns) live.columns.push_back({c, {}, false});
    if (stored->indexes_known) {
      live.indexes.emplace();
      for (const auto& ix : stored->indexes) live.indexes->push_back({ix.name, ix.unique, false, ix.columns});
    }
    ormkit::detail::compare_table(s, live, {}, out);
    return {};
  }

 private:
  memory::backend& db_;
  repository<migration_record> history_;
};

/// The memory driver for `db` (found by `ormkit::migrator` and `ormkit::drift`).
inline auto make_migration_driver(backend& db) -> std::unique_ptr<ormkit::migration_driver> {
  return std::make_unique<migration_driver>(db);
}

}  // namespace ormkit::memory
