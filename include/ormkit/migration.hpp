// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/migration.hpp
//
// The migration step model: numbered steps, each with an up and (where it can
// be undone) a down, written as SQL text or as a C++ function (data
// migrations), and the generators that derive steps from descriptors
// (`steps_for<T...>()`) or build the usual hand-written ones (rename column,
// rename table, drop column). The engine that runs them against a database is
// `ormkit::migrator` in ormkit/migration/sqlite.hpp; this header includes no
// backend (C++ steps name `sqlite::backend` only by reference).
//
// The generated SQL is SQLite's dialect (the only backend with migrations so
// far); identifiers are always quoted, and no value other than a descriptor's
// DDL default is ever written into it.
//
// A step's checksum is FNV-1a over its name and its up SQL (or, for a C++ step,
// the checksum string its author gives and changes whenever the function's
// meaning changes). The migrator refuses to run against a database whose
// history holds a different checksum for an applied version.
//
// Versions are unique: `steps_for` folds everything one version brings
// (tables, columns, indexes, over all the entities given) into one step.
//
// Example:
//
//   std::vector<ormkit::migration_step> steps = ormkit::steps_for<user, post>();
//   steps.push_back(ormkit::rename_column_step(3, "users", "name", "full_name"));
//   steps.push_back(ormkit::code_step(4, "backfill nicknames", "v1",
//       [](ormkit::sqlite::backend& db) { return db.execute("UPDATE ..."); }));

#include <ormkit/entity.hpp>
#include <ormkit/result.hpp>
#include <ormkit/schema.hpp>
#include <ormkit/sqlite/sql.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ormkit {

namespace sqlite {
class backend;
}  // namespace sqlite

/// A C++ migration body: runs inside the step's transaction on the migrating
/// connection; returns an error (or throws) to fail the step and undo it.
using migration_function = std::function<status(sqlite::backend&)>;

/// A C++ action with the string that stands for its meaning in the checksum
/// (change it whenever the function's effect changes).
struct migration_code {
  migration_function run;
  std::string checksum;
};

/// What one direction of a step does: SQL text (one or more statements) or C++.
using migration_action = std::variant<std::string, migration_code>;

/// One numbered schema change.
struct migration_step {
  int version = 0;   ///< unique, > 0; steps run in version order
  std::string name;  ///< shown in status, plans and errors
  migration_action up;
  std::optional<migration_action> down;  ///< none: the step cannot be rolled back
  bool destructive = false;              ///< up loses data (drop column, drop table)
  bool destructive_down = false;         ///< down loses data (undoing a create or add)

  /// FNV-1a (64-bit, hex) of the name and the up SQL, or of the name and the
  /// C++ action's checksum string.
  [[nodiscard]] auto checksum() const -> std::string {
    std::uint64_t h = 14695981039346656037ull;
    auto add = [&](std::string_view s) {
      for (char c : s) {
        h ^= static_cast<unsigned char>(c);
        h *= 1099511628211ull;
      }
    };
    add(name);
    add(std::string_view("\0", 1));
    if (const auto* sql = std::get_if<std::string>(&up)) {
      add("sql:");
      add(*sql);
    } else {
      add("code:");
      add(std::get<migration_code>(up).checksum);
    }
    constexpr char hex[] = "0123456789abcdef";
    std::string out(16, '0');
    for (std::size_t i = 0; i < 16; ++i) out[15 - i] = hex[(h >> (4 * i)) & 15];
    return out;
  }
};

/// The text a plan shows for `a`: the SQL, or a comment naming a C++ action.
[[nodiscard]] inline auto action_text(const migration_action& a) -> std::string {
  if (const auto* sql = std::get_if<std::string>(&a)) return *sql;
  return "-- C++ function (checksum \"" + std::get<migration_code>(a).checksum + "\")";
}

//=== hand-written steps ===//

/// A step of SQL text; `down` empty means it cannot be rolled back.
[[nodiscard]] inline auto sql_step(int version, std::string name, std::string up, std::string down = {},
                                   bool destructive = false) -> migration_step {
  migration_step s{version, std::move(name), std::move(up), std::nullopt, destructive, false};
  if (!down.empty()) s.down = std::move(down);
  return s;
}

/// A data migration in C++; `checksum` stands for the function's meaning.
[[nodiscard]] inline auto code_step(int version, std::string name, std::string checksum, migration_function up,
                                    migration_function down = {}) -> migration_step {
  migration_step s{version, std::move(name), migration_code{std::move(up), checksum}, std::nullopt, false, false};
  if (down) s.down = migration_code{std::move(down), std::move(checksum)};
  return s;
}

/// `ALTER TABLE "t" RENAME COLUMN "from" TO "to"`; down renames it back.
[[nodiscard]] inline auto rename_column_step(int version, std::string_view table, std::string_view from,
                                             std::string_view to) -> migration_step {
  auto sql = [&](std::string_view a, std::string_view b) {
    return "ALTER TABLE " + sqlite::quote_identifier(table) + " RENAME COLUMN " + sqlite::quote_identifier(a) + " TO " +
           sqlite::quote_identifier(b);
  };
  return sql_step(version, "rename column " + std::string(table) + "." + std::string(from) + " to " + std::string(to),
                  sql(from, to), sql(to, from));
}

/// `ALTER TABLE "from" RENAME TO "to"`; down renames it back.
[[nodiscard]] inline auto rename_table_step(int version, std::string_view from, std::string_view to) -> migration_step {
  auto sql = [&](std::string_view a, std::string_view b) {
    return "ALTER TABLE " + sqlite::quote_identifier(a) + " RENAME TO " + sqlite::quote_identifier(b);
  };
  return sql_step(version, "rename table " + std::string(from) + " to " + std::string(to), sql(from, to),
                  sql(to, from));
}

/// `ALTER TABLE "t" DROP COLUMN "c"` (SQLite 3.35+; fails while an index or a
/// constraint uses the column). Destructive: refused unless allowed. The data
/// cannot come back; `down`, when given, restores the column's shape, e.g.
/// `ALTER TABLE "t" ADD COLUMN "c" TEXT`.
[[nodiscard]] inline auto drop_column_step(int version, std::string_view table, std::string_view column,
                                           std::string down = {}) -> migration_step {
  return sql_step(version, "drop column " + std::string(table) + "." + std::string(column),
                  "ALTER TABLE " + sqlite::quote_identifier(table) + " DROP COLUMN " + sqlite::quote_identifier(column),
                  std::move(down), true);
}

//=== steps from descriptors ===//

namespace detail {

/// The columns of `s` that exist at `version`, with keys and indexes remapped;
/// indexes over a later column are left out.
inline auto schema_at(const table_schema& s, int version) -> table_schema {
  table_schema out;
  out.name = s.name;
  out.hash = s.hash;
  std::vector<std::optional<std::size_t>> remap(s.columns.size());
  for (std::size_t i = 0; i < s.columns.size(); ++i) {
    if (s.columns[i].since > version) continue;
    remap[i] = out.columns.size();
    out.columns.push_back(s.columns[i]);
  }
  for (std::size_t k : s.primary_key)
    if (remap[k]) out.primary_key.push_back(*remap[k]);
  if (s.auto_increment && remap[*s.auto_increment]) out.auto_increment = remap[*s.auto_increment];
  for (const auto& ix : s.indexes) {
    index_schema copy{ix.name, {}, ix.unique};
    bool all = true;
    for (std::size_t c : ix.columns) {
      if (!remap[c]) all = false;
      else copy.columns.push_back(*remap[c]);
    }
    if (all) out.indexes.push_back(std::move(copy));
  }
  return out;
}

/// The version an index can be created in: that of its newest column.
inline auto index_version(const table_schema& s, const index_schema& ix) -> int {
  int v = 1;
  for (std::size_t c : ix.columns) v = std::max(v, s.columns.at(c).since);
  return v;
}

/// `ALTER TABLE "t" ADD COLUMN ...` for column `c` of `s`. SQLite refuses a NOT
/// NULL column without a default, and a PRIMARY KEY or UNIQUE one (unique keys
/// are separate indexes here, so those work).
inline auto add_column_sql(const table_schema& s, const column_schema& c) -> std::string {
  std::string sql = "ALTER TABLE ";
  sqlite::append_identifier(sql, s.name);
  sql += " ADD COLUMN ";
  sqlite::append_identifier(sql, c.name);
  if (auto type = sqlite::column_type(c); !type.empty()) {
    sql += ' ';
    sql += type;
  }
  if (!c.nullable) sql += " NOT NULL";
  if (c.default_value) {
    sql += " DEFAULT ";
    sqlite::append_literal(sql, *c.default_value);
  }
  if (c.references) {
    sql += " REFERENCES ";
    sqlite::append_identifier(sql, c.references->table);
    sql += '(';
    sqlite::append_identifier(sql, c.references->column);
    sql += ") ON DELETE RESTRICT";
  }
  return sql;
}

inline auto drop_index_sql(const index_schema& ix) -> std::string {
  return "DROP INDEX IF EXISTS " + sqlite::quote_identifier(ix.name);
}

// What one version of one or more tables brings, collected before it becomes a step.
struct version_parts {
  std::vector<std::string> names;
  std::vector<std::string> up;
  std::vector<std::vector<std::string>> downs;  // per table, run in reverse table order
  bool loses_data = false;                      // a down drops a table or a column
};

inline auto join_statements(const std::vector<std::string>& statements) -> std::string {
  std::string out;
  for (const auto& s : statements) {
    if (!out.empty()) out += ";\n";
    out += s;
  }
  return out;
}

inline void collect_steps(const table_schema& s, std::map<int, version_parts>& parts) {
  if (s.columns.empty()) return;
  int base = s.columns.front().since;
  for (const auto& c : s.columns) base = std::min(base, c.since);
  std::vector<int> versions;
  for (const auto& c : s.columns) versions.push_back(c.since);
  for (const auto& ix : s.indexes) versions.push_back(std::max(base, index_version(s, ix)));
  std::sort(versions.begin(), versions.end());
  versions.erase(std::unique(versions.begin(), versions.end()), versions.end());

  const std::string table(s.name);
  for (int v : versions) {
    auto& p = parts[v];
    std::vector<std::string> down;
    if (v == base) {
      auto at = schema_at(s, base);
      p.names.push_back("create table " + table);
      p.up.push_back(sqlite::create_table_sql(at));
      for (auto ix = at.indexes.rbegin(); ix != at.indexes.rend(); ++ix)
        p.up.push_back(sqlite::create_index_sql(at, *ix));
      down.push_back("DROP TABLE IF EXISTS " + sqlite::quote_identifier(table));
      p.loses_data = true;
    } else {
      std::vector<std::string> drop_columns;
      for (const auto& c : s.columns) {
        if (c.since != v) continue;
        p.names.push_back("add column " + table + "." + std::string(c.name));
        p.up.push_back(add_column_sql(s, c));
        drop_columns.insert(drop_columns.begin(), "ALTER TABLE " + sqlite::quote_identifier(table) + " DROP COLUMN " +
                                                      sqlite::quote_identifier(c.name));
      }
      for (auto ix = s.indexes.rbegin(); ix != s.indexes.rend(); ++ix) {
        if (index_version(s, *ix) != v) continue;
        p.names.push_back("create index " + ix->name);
        p.up.push_back(sqlite::create_index_sql(s, *ix));
        down.push_back(drop_index_sql(*ix));  // indexes first: a column under an index cannot be dropped
      }
      if (!drop_columns.empty()) p.loses_data = true;
      down.insert(down.end(), drop_columns.begin(), drop_columns.end());
    }
    p.downs.push_back(std::move(down));
  }
}

}  // namespace detail

/// The steps that build the tables of `Ts...` from nothing, one per schema
/// version: the lowest `since` of each table creates it (with the columns and
/// indexes of that version), every later `since(n)` adds its columns (ALTER TABLE
/// ADD COLUMN) and the indexes over them. What several entities bring in one
/// version is one step, named after all of it ("create table users, create
/// table posts"). Downs drop what the up made (destructive_down when that drops
/// a table or a column: its data is lost).
///
/// Example: `migrator m(db, ormkit::steps_for<user, post>());`
template <entity... Ts>
[[nodiscard]] auto steps_for() -> std::vector<migration_step> {
  std::map<int, detail::version_parts> parts;
  (detail::collect_steps(schema_of<Ts>(), parts), ...);
  std::vector<migration_step> out;
  for (auto& [version, p] : parts) {
    migration_step step;
    step.version = version;
    for (const auto& n : p.names) step.name += (step.name.empty() ? "" : ", ") + n;
    step.up = detail::join_statements(p.up);
    std::vector<std::string> down;
    for (auto d = p.downs.rbegin(); d != p.downs.rend(); ++d) down.insert(down.end(), d->begin(), d->end());
    step.down = detail::join_statements(down);
    step.destructive_down = p.loses_data;
    out.push_back(std::move(step));
  }
  return out;
}

}  // namespace ormkit
