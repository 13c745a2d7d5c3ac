// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/migration/sqlite.hpp
//
// Migrations on SQLite: the driver that lets `ormkit::migrator` (migration/
// migrator.hpp) run on one `sqlite::backend` connection, and `drift()` there.
//
// - Structured actions become SQLite DDL (identifiers always quoted; the only
//   constants in the text are descriptor DDL defaults). SQL text runs as given;
//   a C++ step gets the connection (`migration_context::native<sqlite::backend>()`,
//   or a function taking `sqlite::backend&`).
// - History: the table
//     ormkit_migrations(version INTEGER PRIMARY KEY, name TEXT, checksum TEXT,
//                       applied_at INTEGER /* unix seconds */, duration_ms INTEGER)
// - Each step runs in BEGIN IMMEDIATE with its history row (SQLite's DDL is
//   transactional); migrators on other connections, threads or processes wait
//   for the write lock (up to the busy timeout) and then see the step applied.
// - Drop column rebuilds the table as SQLite's documentation prescribes
//   ("Making Other Kinds Of Table Schema Changes"), so indexed, unique and
//   foreign-key columns can be dropped (ALTER TABLE DROP COLUMN refuses them):
//   foreign keys are switched off before the step's transaction begins (the
//   pragma cannot change inside one), then, inside it: CREATE TABLE of the new
//   shape under a temporary name (the live CREATE TABLE text without the column
//   and the table constraints over it), INSERT ... SELECT of the rows, the
//   AUTOINCREMENT counter carried over, DROP TABLE, ALTER TABLE ... RENAME (with
//   legacy_alter_table on, so other tables' triggers and views referring to the
//   table are left as they are), the indexes and triggers recreated (those over
//   the column go with it); `PRAGMA foreign_key_check` runs before COMMIT and
//   fails the step on a violation; foreign keys are switched back on after it.
//   Refused, naming what is in the way: the primary key column, a column a
//   CHECK constraint, a trigger or a view uses, a virtual table.
// - `plan()` shows the statements migrate() runs (BEGIN/COMMIT, history and the
//   schema reads aside). A rebuild's statements depend on the table as it is when
//   the step runs; the plan renders them against a private in-memory copy of the
//   live schema to which the earlier pending steps are applied (C++ steps are not
//   run there, so a plan cannot see schema changes made by C++ code).
//
// Example:
//
//   ormkit::sqlite::backend db({.path = "app.db"});
//   ormkit::migrator m(db, ormkit::steps_for<user, post>());
//   m.migrate().value();
//   auto diffs = ormkit::drift<user, post>(db).value();

#include <ormkit/detail/drift.hpp>
#include <ormkit/detail/sql_migration.hpp>
#include <ormkit/entity.hpp>
#include <ormkit/error.hpp>
#include <ormkit/migration.hpp>
#include <ormkit/migration/migrator.hpp>
#include <ormkit/result.hpp>
#include <ormkit/schema.hpp>
#include <ormkit/sqlite/backend.hpp>
#include <ormkit/sqlite/sql.hpp>
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

namespace ormkit::sqlite {

namespace detail::migration {

using ormkit::detail::int_of;
using ormkit::detail::text_of;

inline auto same_name(std::string_view a, std::string_view b) -> bool {  // SQLite names: ASCII case-insensitive
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

//--- a tokenizer for the schema's SQL text (enough to take a column out of a CREATE TABLE) ---//

struct token {
  enum class kind { word, quoted, string, punct } what = kind::punct;
  std::size_t begin = 0;  // byte range in the text
  std::size_t end = 0;
  std::string name;  // the identifier (unquoted) for words and quoted identifiers; the character for punct

  [[nodiscard]] auto is_name() const -> bool { return what == kind::word || what == kind::quoted; }
  [[nodiscard]] auto is_word(std::string_view w) const -> bool { return what == kind::word && same_name(name, w); }
  [[nodiscard]] auto is(char c) const -> bool { return what == kind::punct && name.size() == 1 && name[0] == c; }
};

inline auto tokenize(std::string_view sql) -> std::vector<token> {
  std::vector<token> out;
  std::size_t i = 0;
  auto word_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ||
           static_cast<unsigned char>(c) >= 0x80;
  };
  while (i < sql.size()) {
    char c = sql[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      ++i;
    } else if (c == '-' && i + 1 < sql.size() && sql[i + 1] == '-') {
      while (i < sql.size() && sql[i] != '\n') ++i;
    } else if (c == '/' && i + 1 < sql.size() && sql[i + 1] == '*') {
      auto end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else if (c == '\'' || c == '"' || c == '`' || c == '[') {
      const char close = c == '[' ? ']' : c;
      token t{c == '\'' ? token::kind::string : token::kind::quoted, i, i, {}};
      ++i;
      while (i < sql.size()) {
        if (sql[i] == close) {
          if (close != ']' && i + 1 < sql.size() && sql[i + 1] == close) {
            t.name += close;
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        t.name += sql[i++];
      }
      t.end = i;
      out.push_back(std::move(t));
    } else if (word_char(c)) {
      token t{token::kind::word, i, i, {}};
      while (i < sql.size() && word_char(sql[i])) ++i;
      t.end = i;
      t.name = std::string(sql.substr(t.begin, t.end - t.begin));
      out.push_back(std::move(t));
    } else {
      out.push_back({token::kind::punct, i, i + 1, std::string(1, c)});
      ++i;
    }
  }
  return out;
}

// True when a name token in [first, last) is `name`.
inline auto mentions(const std::vector<token>& toks, std::size_t first, std::size_t last, std::string_view name)
    -> bool {
  for (std::size_t i = first; i < last && i < toks.size(); ++i)
    if (toks[i].is_name() && same_name(toks[i].name, name)) return true;
  return false;
}

// The first name of each comma-separated element of the parenthesised list that starts
// at toks[open] (which is "("); `close` receives the index of its ")".
inline auto list_names(const std::vector<token>& toks, std::size_t open, std::size_t& close)
    -> std::vector<std::string> {
  std::vector<std::string> out;
  int depth = 0;
  bool want = true;
  for (std::size_t i = open; i < toks.size(); ++i) {
    if (toks[i].is('(')) {
      ++depth;
      continue;
    }
    if (toks[i].is(')')) {
      if (--depth == 0) {
        close = i;
        return out;
      }
      continue;
    }
    if (depth == 1 && toks[i].is(',')) {
      want = true;
      continue;
    }
    if (depth == 1 && want && toks[i].is_name()) {
      out.push_back(toks[i].name);
      want = false;
    }
  }
  close = toks.size();
  return out;
}

inline auto schema_error(std::string message) -> ormkit::error {
  return {errc::schema_mismatch, std::move(message)};
}

/// The statements that drop `column` from `table` by rebuilding it, from the live
/// schema of `db` (see the header comment). Reads the schema; changes nothing.
inline auto rebuild_without(backend& db, std::string_view table, std::string_view column)
    -> result<std::vector<std::string>> {
  const std::string subject = std::string(table) + "." + std::string(column);
  std::array<value_view, 1> tname{table};
  auto created = db.query("SELECT \"sql\" FROM sqlite_master WHERE \"type\" = 'table' AND \"name\" = ?", tname);
  if (!created) return std::move(created).error();
  if (created->empty()) return schema_error(subject + ": no such table " + std::string(table));
  const std::string create = text_of(created->front().at(0));
  const auto toks = tokenize(create);

  // CREATE [TEMP] TABLE [IF NOT EXISTS] name ( items ) tail
  std::size_t open = 0;
  while (open < toks.size() && !toks[open].is('(')) {
    if (toks[open].is_word("VIRTUAL"))
      return unexpected(errc::unsupported, subject + ": " + std::string(table) +
                                               " is a virtual table; drop column cannot rebuild it");
    ++open;
  }
  if (open == toks.size()) return schema_error(subject + ": cannot read the definition of " + std::string(table));
  std::vector<std::pair<std::size_t, std::size_t>> items;  // token ranges [first, last)
  std::size_t close = toks.size();
  {
    int depth = 0;
    std::size_t first = open + 1;
    for (std::size_t i = open; i < toks.size(); ++i) {
      if (toks[i].is('(')) ++depth;
      else if (toks[i].is(')') && --depth == 0) {
        items.emplace_back(first, i);
        close = i;
        break;
      } else if (depth == 1 && toks[i].is(',')) {
        items.emplace_back(first, i);
        first = i + 1;
      }
    }
  }
  if (close == toks.size()) return schema_error(subject + ": cannot read the definition of " + std::string(table));

  std::vector<std::string> kept;
  bool found = false;
  bool autoincrement = false;
  for (const auto& [first, last] : items) {
    if (first >= last) continue;
    const std::string text = create.substr(toks[first].begin, toks[last - 1].end - toks[first].begin);
    const token& head = toks[first];
    for (std::size_t i = first; i < last; ++i)
      if (toks[i].is_word("AUTOINCREMENT")) autoincrement = true;
    const bool constraint = head.what == token::kind::word &&
                            (head.is_word("CONSTRAINT") || head.is_word("PRIMARY") || head.is_word("UNIQUE") ||
                             head.is_word("CHECK") || head.is_word("FOREIGN"));
    if (!constraint) {
      if (same_name(head.name, column)) {
        found = true;
        for (std::size_t i = first + 1; i < last; ++i)
          if (toks[i].is_word("PRIMARY"))
            return unexpected(errc::invalid_argument, subject + ": is the primary key; drop column cannot remove it");
        continue;  // the column goes
      }
      kept.push_back(text);
      continue;
    }
    std::size_t k = first;
    if (toks[k].is_word("CONSTRAINT")) k += 2;  // CONSTRAINT name
    if (k >= last) {
      kept.push_back(text);
      continue;
    }
    if (toks[k].is_word("CHECK")) {
      if (mentions(toks, k + 1, last, column))
        return unexpected(errc::invalid_argument, subject + ": a CHECK constraint of " + std::string(table) +
                                                      " uses it; change the table by hand");
      kept.push_back(text);
      continue;
    }
    std::size_t paren = k;
    while (paren < last && !toks[paren].is('(')) ++paren;
    std::size_t end = last;
    const auto names = paren < last ? list_names(toks, paren, end) : std::vector<std::string>{};
    const bool covers =
        std::any_of(names.begin(), names.end(), [&](const std::string& n) { return same_name(n, column); });
    if (covers && toks[k].is_word("PRIMARY"))
      return unexpected(errc::invalid_argument, subject + ": is part of the primary key; drop column cannot remove it");
    if (!covers) kept.push_back(text);  // a UNIQUE or FOREIGN KEY over the column goes with it
  }
  if (!found) return schema_error(subject + ": no such column");
  if (kept.empty() || std::all_of(kept.begin(), kept.end(), [](const std::string& k) {
        auto t = tokenize(k);
        return !t.empty() && t[0].what == token::kind::word &&
               (t[0].is_word("CONSTRAINT") || t[0].is_word("PRIMARY") || t[0].is_word("UNIQUE") ||
                t[0].is_word("CHECK") || t[0].is_word("FOREIGN"));
      }))
    return unexpected(errc::invalid_argument, subject + ": is the only column of " + std::string(table));

  const std::string temp = "ormkit_rebuild_" + std::string(table);
  std::array<value_view, 1> temp_name{std::string_view(temp)};
  auto clash = db.query("SELECT 1 FROM sqlite_master WHERE \"name\" = ?", temp_name);
  if (!clash) return std::move(clash).error();
  if (!clash->empty()) return schema_error(subject + ": a table named " + temp + " is in the way of the rebuild");

  // Columns to copy: stored ones (generated columns compute themselves).
  auto cols = db.query("SELECT \"name\" FROM pragma_table_xinfo(?) WHERE \"hidden\" = 0 ORDER BY \"cid\"", tname);
  if (!cols) return std::move(cols).error();
  std::string list;
  for (const auto& r : *cols) {
    const std::string c = text_of(r.at(0));
    if (same_name(c, column)) continue;
    if (!list.empty()) list += ", ";
    append_identifier(list, c);
  }

  // Indexes (their SQL: automatic ones come back with the table's constraints) and
  // triggers on the table; views and other triggers must not use the column.
  auto others = db.query(
      "SELECT \"type\", \"name\", \"tbl_name\", \"sql\" FROM sqlite_master WHERE \"sql\" IS NOT NULL AND "
      "\"type\" IN ('index', 'trigger', 'view') "
      "ORDER BY CASE \"type\" WHEN 'index' THEN 0 WHEN 'trigger' THEN 1 ELSE 2 END, rowid");  // as in a plan's copy
  if (!others) return std::move(others).error();
  std::vector<std::string> recreate;
  for (const auto& r : *others) {
    const std::string type = text_of(r.at(0));
    const std::string name = text_of(r.at(1));
    const bool own = same_name(text_of(r.at(2)), table);
    const std::string sql = text_of(r.at(3));
    const auto t = tokenize(sql);
    if (type == "index") {
      if (!own) continue;
      std::size_t on = 0;
      while (on < t.size() && !t[on].is_word("ON")) ++on;
      if (!mentions(t, on + 2, t.size(), column)) recreate.push_back(sql);  // else it goes with the column
      continue;
    }
    if (type == "trigger" && own) {
      if (mentions(t, 0, t.size(), column))
        return unexpected(errc::invalid_argument,
                          subject + ": trigger " + name + " uses it; drop or change the trigger first");
      recreate.push_back(sql);
      continue;
    }
    if (mentions(t, 0, t.size(), table) && mentions(t, 0, t.size(), column))
      return unexpected(errc::invalid_argument,
                        subject + ": " + type + " " + name + " uses it; drop or change the " + type + " first");
  }

  std::vector<std::string> out;
  std::string sql = "CREATE TABLE ";
  append_identifier(sql, temp);
  sql += " (";
  for (std::size_t i = 0; i < kept.size(); ++i) {
    if (i) sql += ", ";
    sql += kept[i];
  }
  sql += ')';
  sql += create.substr(toks[close].end);
  out.push_back(std::move(sql));

  sql = "INSERT INTO ";
  append_identifier(sql, temp);
  sql += " (" + list + ") SELECT " + list + " FROM ";
  append_identifier(sql, table);
  out.push_back(std::move(sql));

  if (autoincrement) {  // keys are never reused: carry the counter over
    sql = "DELETE FROM \"sqlite_sequence\" WHERE \"name\" = ";
    append_literal(sql, value(temp));
    out.push_back(std::move(sql));
    sql = "INSERT INTO \"sqlite_sequence\" (\"name\", \"seq\") SELECT ";
    append_literal(sql, value(temp));
    sql += ", \"seq\" FROM \"sqlite_sequence\" WHERE \"name\" = ";
    append_literal(sql, value(std::string(table)));
    out.push_back(std::move(sql));
  }

  out.push_back("DROP TABLE " + quote_identifier(table));
  out.push_back("PRAGMA legacy_alter_table = ON");
  out.push_back("ALTER TABLE " + quote_identifier(temp) + " RENAME TO " + quote_identifier(table));
  out.push_back("PRAGMA legacy_alter_table = OFF");
  out.insert(out.end(), recreate.begin(), recreate.end());
  return out;
}

/// The statements of `a`; `live` is the connection whose schema a table rebuild reads
/// (null: a drop column is an error).
inline auto statements(backend* live, const migration_op& a) -> result<std::vector<std::string>> {
  return ormkit::detail::dialect_statements(
      a, [](const table_schema& s) -> result<std::vector<std::string>> { return schema_sql(s); },
      // SQLite refuses a NOT NULL column without a default, and a PRIMARY KEY or UNIQUE one
      // (unique keys are separate indexes here).
      [](std::string& sql, const table_schema& s) -> status {
        append_column_definition(sql, s.columns.front());
        return {};
      },
      [&](const std::string& table, const std::string& column) -> result<std::vector<std::string>> {
        if (!live)
          return unexpected(errc::invalid_argument, "drop column " + table + "." + column +
                                                        ": the table rebuild depends on the live table; see "
                                                        "migrator::plan()");
        return rebuild_without(*live, table, column);
      });
}

}  // namespace detail::migration

/// The SQL of `action` joined by ";\n", for actions whose SQL does not depend on the
/// live schema (everything but drop column; use `migrator::plan()` for that).
/// Errors: invalid_argument (a drop column).
[[nodiscard]] inline auto migration_sql(const migration_action& action) -> result<std::string> {
  return ormkit::detail::join_statements(action, [](const migration_op& a) { return detail::migration::statements(nullptr, a); });
}

/// The migration driver for one SQLite connection (see the header comment).
class migration_driver final : public ormkit::detail::sql_migration_driver<sqlite::backend> {
 public:
  // The history table is created under BEGIN IMMEDIATE like every write here: a
  // racing migrator waits for it.
  explicit migration_driver(sqlite::backend& db) : sql_migration_driver(db, "INTEGER", false) {}

  // A step that drops a column runs with foreign keys off (they cannot be switched
  // inside a transaction, and DROP TABLE of a referenced table would trip them).
  auto prepare_step(const migration_action& action) -> status override {
    const bool rebuilds = std::any_of(action.begin(), action.end(), [](const migration_op& a) {
      return std::holds_alternative<migration_ops::drop_column>(a);
    });
    if (!rebuilds) return {};
    auto on = db_.query("PRAGMA foreign_keys");
    if (!on) return std::move(on).error();
    if (on->empty() || detail::migration::int_of(on->front().at(0)) == 0) return {};
    ORMKIT_TRY(db_.execute("PRAGMA foreign_keys = OFF"));
    restore_foreign_keys_ = true;
    return {};
  }

  auto before_commit() -> status override {
    if (!restore_foreign_keys_) return {};
    auto bad = db_.query("PRAGMA foreign_key_check");
    if (!bad) return std::move(bad).error();
    if (bad->empty()) return {};
    using detail::migration::int_of;
    using detail::migration::text_of;
    const auto& r = bad->front();
    return unexpected(errc::conflict, "foreign key check failed: " + text_of(r.at(0)) + " row " +
                                          std::to_string(int_of(r.at(1))) + " has no matching row in " +
                                          text_of(r.at(2)) + " (" + std::to_string(bad->size()) + " violation" +
                                          (bad->size() == 1 ? ")" : "s)"),
                      "foreign key");
  }

  void finish_step() override {
    if (!restore_foreign_keys_) return;
    restore_foreign_keys_ = false;
    (void)db_.execute("PRAGMA foreign_keys = ON");
  }

  auto run(const migration_op& a) -> status override {
    auto st = detail::migration::statements(&db_, a);
    if (!st) return std::move(st).error();
    for (const auto& s : *st) ORMKIT_TRY(db_.execute(s));
    return {};
  }

  auto start_plan() -> status override {
    scratch_.reset();
    planned_.clear();
    return {};
  }

  auto plan(const migration_action& action) -> result<std::vector<std::string>> override {
    std::vector<std::string> out;
    for (const auto& a : action) {
      const bool rebuild = std::holds_alternative<migration_ops::drop_column>(a);
      if (rebuild && !scratch_) ORMKIT_TRY(open_scratch());
      auto st = detail::migration::statements(rebuild ? scratch_.get() : nullptr, a);
      if (!st) return std::move(st).error();
      if (!is_code(a)) {
        for (const auto& s : *st) {
          if (scratch_) (void)scratch_->execute(s);  // data-dependent failures do not matter here
          else planned_.push_back(s);
        }
      }
      out.insert(out.end(), st->begin(), st->end());
    }
    return out;
  }

  void end_plan() override {
    scratch_.reset();
    planned_.clear();
  }

  auto drift(const table_schema& s, std::vector<schema_difference>& out) -> status override;

 private:
  auto history_exists() -> result<bool> override {
    std::array<value_view, 1> name{migration_history_table};
    auto rows = db_.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", name);
    if (!rows) return std::move(rows).error();
    return !rows->empty();
  }

  // A private in-memory database with the live schema (no data) and what the plan
  // has rendered so far, on which a rebuild's statements are worked out.
  auto open_scratch() -> status {
    auto scratch = sqlite::backend::open({.path = ":memory:"});
    if (!scratch) return std::move(scratch).error();
    ORMKIT_TRY((*scratch)->execute("PRAGMA foreign_keys = OFF"));
    auto schema = db_.query(
        "SELECT \"sql\" FROM sqlite_master WHERE \"sql\" IS NOT NULL AND \"name\" NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
        "ORDER BY CASE \"type\" WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'view' THEN 2 ELSE 3 END, rowid");
    if (!schema) return std::move(schema).error();
    for (const auto& r : *schema) (void)(*scratch)->execute(detail::migration::text_of(r.at(0)));  // best effort
    for (const auto& s : planned_) (void)(*scratch)->execute(s);
    planned_.clear();
    scratch_ = std::move(*scratch);
    return {};
  }

  bool restore_foreign_keys_ = false;
  std::unique_ptr<sqlite::backend> scratch_;
  std::vector<std::string> planned_;  // statements rendered before the scratch was needed
};

/// The SQLite driver for `db` (found by `ormkit::migrator` and `ormkit::drift`).
inline auto make_migration_driver(backend& db) -> std::unique_ptr<ormkit::migration_driver> {
  return std::make_unique<migration_driver>(db);
}

//=== drift ===//

inline auto migration_driver::drift(const table_schema& s, std::vector<schema_difference>& out) -> status {
  using detail::migration::int_of;
  using detail::migration::same_name;
  using detail::migration::text_of;
  std::array<value_view, 1> name{s.name};
  auto cols = db_.query("SELECT \"name\", \"type\", \"notnull\" FROM pragma_table_info(?)", name);
  if (!cols) return std::move(cols).error();
  auto found = ormkit::detail::live_columns(*cols, s, out);
  if (!found) return {};
  ormkit::detail::live_table& live = *found;

  // Indexes: those of UNIQUE / PRIMARY KEY constraints are automatic (origin other than "c").
  auto indexes = db_.query("SELECT \"name\", \"unique\", \"origin\" FROM pragma_index_list(?) ORDER BY \"name\"", name);
  if (!indexes) return std::move(indexes).error();
  live.indexes.emplace();
  for (const auto& r : *indexes) {
    ormkit::detail::live_index ix{text_of(r.at(0)), int_of(r.at(1)) != 0, text_of(r.at(2)) != "c", {}};
    std::array<value_view, 1> ixname{std::string_view(ix.name)};
    auto ixcols = db_.query("SELECT \"name\" FROM pragma_index_info(?) ORDER BY \"seqno\"", ixname);
    if (!ixcols) return std::move(ixcols).error();
    for (const auto& c : *ixcols) ix.columns.push_back(c.at(0).index() == 0 ? std::string("<expression>") : text_of(c[0]));
    live.indexes->push_back(std::move(ix));
  }

  auto fks = db_.query("SELECT \"table\", \"from\", \"to\" FROM pragma_foreign_key_list(?) ORDER BY \"id\", \"seq\"", name);
  if (!fks) return std::move(fks).error();
  live.foreign_keys.emplace();
  for (const auto& r : *fks) {
    std::string target = text_of(r.at(0)) + ".";
    if (r.at(2).index() != 0) {
      target += text_of(r[2]);
    } else {  // REFERENCES parent without a column: the parent's primary key
      std::array<value_view, 1> p{std::string_view(std::get<std::string>(r.at(0)))};
      auto pk = db_.query("SELECT \"name\" FROM pragma_table_info(?) WHERE \"pk\" > 0 ORDER BY \"pk\"", p);
      if (!pk) return std::move(pk).error();
      target += pk->empty() ? std::string("rowid") : text_of(pk->front().at(0));
    }
    live.foreign_keys->push_back({text_of(r.at(1)), std::move(target)});
  }
  ormkit::detail::compare_table(
      s, live,
      {[](const column_schema& c) { return std::string(column_type(c)); }, &same_name, false}, out);
  return {};
}

}  // namespace ormkit::sqlite
