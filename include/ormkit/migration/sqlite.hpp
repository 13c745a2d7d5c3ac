// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/migration/sqlite.hpp
//
// The migration engine on SQLite: `ormkit::migrator` runs the steps of
// ormkit/migration.hpp against one `sqlite::backend` connection and records
// them in the history table
//
//   ormkit_migrations(version INTEGER PRIMARY KEY, name TEXT, checksum TEXT,
//                     applied_at INTEGER /* unix seconds */, duration_ms INTEGER)
//
// and `ormkit::drift<T...>(db)` compares the live schema with descriptors.
//
// Guarantees:
// - Each step runs in its own transaction (BEGIN IMMEDIATE) together with its
//   history row: SQLite's DDL is transactional, so a failing step (an SQL
//   error, a C++ step returning an error or throwing) leaves schema and history
//   as they were, and the error says `migration <version> "<name>": <why>`.
// - Migrators on several connections (threads or processes) serialise on the
//   write lock: BEGIN IMMEDIATE waits up to the connection's busy timeout, and
//   the history row is read again inside the transaction, so each step runs
//   once however many migrators race.
// - Before anything runs, the history is checked: an applied step whose
//   checksum changed, or an applied version this program does not know, is
//   errc::schema_mismatch; a destructive step (or, on rollback, a destructive
//   down) is errc::invalid_argument unless `allow_destructive(true)`; a step
//   to roll back without a down is errc::unsupported. Nothing runs then.
// - `plan()`, `status()` and `drift()` change nothing (not even the history
//   table is created).
//
// Example:
//
//   ormkit::sqlite::backend db({.path = "app.db"});
//   ormkit::migrator m(db, ormkit::steps_for<user, post>());
//   for (const auto& p : m.plan().value()) fmt::print("{}: {}\n", p.version, p.sql);
//   m.migrate().value();
//   auto diffs = ormkit::drift<user, post>(db).value();   // empty when in step

#include <ormkit/entity.hpp>
#include <ormkit/error.hpp>
#include <ormkit/migration.hpp>
#include <ormkit/result.hpp>
#include <ormkit/schema.hpp>
#include <ormkit/sqlite/backend.hpp>
#include <ormkit/sqlite/sql.hpp>
#include <ormkit/value.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ormkit {

/// The name of the history table.
inline constexpr std::string_view migration_history_table = "ormkit_migrations";

/// One step as `status()` sees it.
struct migration_state {
  enum class kind {
    applied,  ///< in the history with the same checksum
    pending,  ///< not applied yet
    changed,  ///< applied, but the step's checksum differs now
    unknown,  ///< applied, but not among this migrator's steps
  };
  int version = 0;
  std::string name;
  kind state = kind::pending;
  std::int64_t applied_at = 0;  ///< unix seconds; 0 when pending
  std::int64_t duration_ms = 0;
};

/// What `status()` reports: every known and every applied version, in order.
struct migration_status {
  int current_version = 0;  ///< highest applied version, 0 for none
  int latest_version = 0;   ///< highest version among the steps
  std::vector<migration_state> steps;

  [[nodiscard]] auto count(migration_state::kind k) const -> std::size_t {
    return static_cast<std::size_t>(
        std::count_if(steps.begin(), steps.end(), [&](const migration_state& s) { return s.state == k; }));
  }
};

/// One entry of a dry run: what would run, in order.
struct planned_step {
  int version = 0;
  std::string name;
  std::string sql;           ///< `action_text` of the up (or down, for a rollback plan)
  bool destructive = false;  ///< refused unless allow_destructive(true)
};

/// Called before each step runs: the step, its position among the steps this
/// call runs (0-based), and their number.
using migration_progress = std::function<void(const migration_step&, std::size_t index, std::size_t total)>;

/// Runs migration steps on one SQLite connection. Not thread-safe itself (one
/// connection, one thread); run one migrator per connection to migrate concurrently.
class migrator {
 public:
  /// Takes the steps in any order; they run in version order.
  migrator(sqlite::backend& db, std::vector<migration_step> steps) : db_(db), steps_(std::move(steps)) {
    std::stable_sort(steps_.begin(), steps_.end(),
                     [](const migration_step& a, const migration_step& b) { return a.version < b.version; });
  }

  /// Permits destructive ups (and destructive downs on rollback). Off by default.
  auto allow_destructive(bool allow = true) -> migrator& {
    allow_destructive_ = allow;
    return *this;
  }

  /// Sets the progress callback, called before each step runs.
  auto on_progress(migration_progress fn) -> migrator& {
    progress_ = std::move(fn);
    return *this;
  }

  [[nodiscard]] auto steps() const noexcept -> const std::vector<migration_step>& { return steps_; }

  /// Applies every pending step. Returns how many this call ran (steps another
  /// migrator applied meanwhile are skipped, not counted).
  /// Errors: schema_mismatch (changed checksum, unknown applied version),
  /// invalid_argument (destructive step not allowed, duplicate or non-positive
  /// version), busy (the write lock not granted within the busy timeout), and a
  /// failing step's own error, its message prefixed `migration <v> "<name>": `.
  auto migrate() -> result<std::size_t> { return migrate_to(latest_version()); }

  /// Applies the pending steps with version <= `version`. Errors: as migrate().
  auto migrate_to(int version) -> result<std::size_t> {
    ORMKIT_TRY(check_steps());
    ORMKIT_TRY(ensure_history());
    auto history = read_history();
    if (!history) return std::move(history).error();
    ORMKIT_TRY(verify(*history));
    std::vector<const migration_step*> todo;
    for (const auto& s : steps_)
      if (s.version <= version && !history->count(s.version)) todo.push_back(&s);
    for (const auto* s : todo)
      if (s->destructive && !allow_destructive_)
        return step_error(
            *s, {errc::invalid_argument, "is destructive (it drops data); call allow_destructive(true) to run it"});
    std::size_t ran = 0;
    for (std::size_t i = 0; i < todo.size(); ++i) {
      if (progress_) progress_(*todo[i], i, todo.size());
      auto done = apply(*todo[i], true);
      if (!done) return std::move(done).error();
      if (*done) ++ran;
    }
    return ran;
  }

  /// Undoes the applied steps with version > `version`, newest first, each with
  /// its down. Returns how many this call undid.
  /// Errors: unsupported (a step without a down, named), invalid_argument (a
  /// destructive down not allowed), schema_mismatch, busy, a down's own error.
  auto rollback_to(int version) -> result<std::size_t> {
    ORMKIT_TRY(check_steps());
    auto history = read_history();
    if (!history) return std::move(history).error();
    ORMKIT_TRY(verify(*history));
    auto todo = to_undo(*history, version);
    if (!todo) return std::move(todo).error();
    std::size_t ran = 0;
    for (std::size_t i = 0; i < todo->size(); ++i) {
      if (progress_) progress_(*(*todo)[i], i, todo->size());
      auto done = apply(*(*todo)[i], false);
      if (!done) return std::move(done).error();
      if (*done) ++ran;
    }
    return ran;
  }

  /// Applied and pending steps, without changing anything.
  /// Errors: those of reading the history.
  auto status() -> result<migration_status> {
    auto history = read_history();
    if (!history) return std::move(history).error();
    migration_status out;
    out.latest_version = latest_version();
    for (const auto& s : steps_) {
      migration_state st{s.version, s.name, migration_state::kind::pending, 0, 0};
      if (auto h = history->find(s.version); h != history->end()) {
        st.state = h->second.checksum == s.checksum() ? migration_state::kind::applied : migration_state::kind::changed;
        st.applied_at = h->second.applied_at;
        st.duration_ms = h->second.duration_ms;
      }
      out.steps.push_back(std::move(st));
    }
    for (const auto& [v, h] : *history) {
      out.current_version = std::max(out.current_version, v);
      if (!find(v)) out.steps.push_back({v, h.name, migration_state::kind::unknown, h.applied_at, h.duration_ms});
    }
    std::stable_sort(out.steps.begin(), out.steps.end(),
                     [](const migration_state& a, const migration_state& b) { return a.version < b.version; });
    return out;
  }

  /// Dry run of migrate(): the pending steps and their SQL, in the order
  /// migrate() would run them; nothing runs. Errors: as status().
  auto plan() -> result<std::vector<planned_step>> { return plan_to(latest_version()); }

  /// Dry run of migrate_to(version).
  auto plan_to(int version) -> result<std::vector<planned_step>> {
    auto history = read_history();
    if (!history) return std::move(history).error();
    std::vector<planned_step> out;
    for (const auto& s : steps_)
      if (s.version <= version && !history->count(s.version))
        out.push_back({s.version, s.name, action_text(s.up), s.destructive});
    return out;
  }

  /// Dry run of rollback_to(version): the downs, newest first.
  /// Errors: unsupported (a step without a down), schema_mismatch.
  auto plan_rollback(int version) -> result<std::vector<planned_step>> {
    auto history = read_history();
    if (!history) return std::move(history).error();
    ORMKIT_TRY(verify(*history));
    std::vector<planned_step> out;
    for (auto it = history->rbegin(); it != history->rend(); ++it) {
      if (it->first <= version) break;
      const auto* s = find(it->first);
      if (!s->down) return step_error(*s, {errc::unsupported, "has no down step; it cannot be rolled back"});
      out.push_back({s->version, s->name, action_text(*s->down), s->destructive_down});
    }
    return out;
  }

  /// The highest version among the steps (0 for none).
  [[nodiscard]] auto latest_version() const noexcept -> int { return steps_.empty() ? 0 : steps_.back().version; }

 private:
  struct history_row {
    std::string name;
    std::string checksum;
    std::int64_t applied_at = 0;
    std::int64_t duration_ms = 0;
  };
  using history = std::map<int, history_row>;

  static auto step_error(const migration_step& s, const ormkit::error& why) -> ormkit::error {
    ormkit::error e = why;
    e.message = "migration " + std::to_string(s.version) + " \"" + s.name + "\": " + why.message;
    return e;
  }

  auto find(int version) const -> const migration_step* {
    auto it = std::lower_bound(steps_.begin(), steps_.end(), version,
                               [](const migration_step& s, int v) { return s.version < v; });
    return it != steps_.end() && it->version == version ? &*it : nullptr;
  }

  auto check_steps() const -> ormkit::status {
    for (std::size_t i = 0; i < steps_.size(); ++i) {
      if (steps_[i].version <= 0) return step_error(steps_[i], {errc::invalid_argument, "version must be positive"});
      if (i && steps_[i - 1].version == steps_[i].version)
        return step_error(steps_[i], {errc::invalid_argument, "version " + std::to_string(steps_[i].version) +
                                                                  " is also used by \"" + steps_[i - 1].name + "\""});
    }
    return {};
  }

  auto history_exists() -> result<bool> {
    std::array<value_view, 1> name{migration_history_table};
    auto rows = db_.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", name);
    if (!rows) return std::move(rows).error();
    return !rows->empty();
  }

  auto ensure_history() -> ormkit::status {
    auto exists = history_exists();
    if (!exists) return std::move(exists).error();
    if (*exists) return {};
    // Under BEGIN IMMEDIATE like every write here: a racing migrator waits for it.
    ORMKIT_TRY(db_.begin());
    auto made = db_.execute("CREATE TABLE IF NOT EXISTS " + sqlite::quote_identifier(migration_history_table) +
                            " (\"version\" INTEGER PRIMARY KEY, \"name\" TEXT NOT NULL, \"checksum\" TEXT NOT NULL, "
                            "\"applied_at\" INTEGER NOT NULL, \"duration_ms\" INTEGER NOT NULL)");
    if (!made) {
      (void)db_.rollback();
      return made;
    }
    return db_.commit();
  }

  static auto as_int(const value& v) -> std::int64_t {
    const auto* i = std::get_if<std::int64_t>(&v);
    return i ? *i : 0;
  }
  static auto as_text(const value& v) -> std::string {
    const auto* s = std::get_if<std::string>(&v);
    return s ? *s : std::string();
  }

  auto read_history() -> result<history> {
    auto exists = history_exists();
    if (!exists) return std::move(exists).error();
    history out;
    if (!*exists) return out;
    auto rows = db_.query("SELECT \"version\", \"name\", \"checksum\", \"applied_at\", \"duration_ms\" FROM " +
                          sqlite::quote_identifier(migration_history_table) + " ORDER BY \"version\"");
    if (!rows) return std::move(rows).error();
    for (const auto& r : *rows) {
      if (r.size() < 5) continue;
      out[static_cast<int>(as_int(r[0]))] = {as_text(r[1]), as_text(r[2]), as_int(r[3]), as_int(r[4])};
    }
    return out;
  }

  auto check_applied(const migration_step& s, const std::string& stored) const -> ormkit::status {
    if (stored == s.checksum()) return {};
    return step_error(s, {errc::schema_mismatch, "was applied with checksum " + stored + " but the step's is now " +
                                                     s.checksum() + "; applied steps must not change"});
  }

  auto verify(const history& h) const -> ormkit::status {
    for (const auto& [v, row] : h) {
      const auto* s = find(v);
      if (!s)
        return unexpected(errc::schema_mismatch, "migration " + std::to_string(v) + " \"" + row.name +
                                                     "\": applied in the database but unknown to this program");
      ORMKIT_TRY(check_applied(*s, row.checksum));
    }
    return {};
  }

  auto to_undo(const history& h, int version) const -> result<std::vector<const migration_step*>> {
    std::vector<const migration_step*> out;
    for (auto it = h.rbegin(); it != h.rend() && it->first > version; ++it) {
      const auto* s = find(it->first);  // verify() made sure it is known
      if (!s->down) return step_error(*s, {errc::unsupported, "has no down step; it cannot be rolled back"});
      if (s->destructive_down && !allow_destructive_)
        return step_error(*s, {errc::invalid_argument,
                               "rolling it back is destructive (it drops data); call allow_destructive(true)"});
      out.push_back(s);
    }
    return out;
  }

  auto run_action(const migration_action& a) -> ormkit::status {
    if (const auto* sql = std::get_if<std::string>(&a)) return db_.execute(*sql);
    const auto& code = std::get<migration_code>(a);
    if (!code.run) return unexpected(errc::invalid_argument, "has no function to run");
    try {
      ORMKIT_TRY(code.run(db_));
    } catch (const ormkit::exception& e) {
      return e.error();
    } catch (const std::exception& e) {
      return unexpected(errc::backend_error, std::string("threw: ") + e.what());
    } catch (...) {
      return unexpected(errc::backend_error, "threw an exception");
    }
    if (!db_.in_transaction())
      return unexpected(errc::transaction_state,
                        "ended the migration's transaction; a step must not commit or roll back");
    return {};
  }

  // Runs one step (up or down) with its history change in one transaction.
  // Returns false when the history shows another migrator did it meanwhile.
  auto apply(const migration_step& s, bool up) -> result<bool> {
    if (auto st = db_.begin(); !st) return step_error(s, st.error());
    auto failed = [&](const ormkit::error& why) -> ormkit::error {
      if (db_.in_transaction()) (void)db_.rollback();
      return step_error(s, why);
    };
    const auto table = sqlite::quote_identifier(migration_history_table);
    const std::array<value_view, 1> key{static_cast<std::int64_t>(s.version)};
    auto row = db_.query("SELECT \"checksum\" FROM " + table + " WHERE \"version\" = ?", key);
    if (!row) return failed(row.error());
    if (up != row->empty()) {  // already applied (up) or already undone (down) by someone else
      ormkit::status same = row->empty() ? ormkit::status{} : check_applied(s, as_text(row->front().at(0)));
      (void)db_.rollback();
      if (!same) return std::move(same).error();
      return false;
    }
    if (!up && as_text(row->front().at(0)) != s.checksum()) {
      auto e = check_applied(s, as_text(row->front().at(0)));
      (void)db_.rollback();
      return std::move(e).error();
    }
    const auto started = std::chrono::steady_clock::now();
    if (auto st = run_action(up ? s.up : *s.down); !st) return failed(st.error());
    if (up) {
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
      const auto now =
          std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch());
      const std::string checksum = s.checksum();
      const std::array<value_view, 5> values{static_cast<std::int64_t>(s.version), std::string_view(s.name),
                                             std::string_view(checksum), static_cast<std::int64_t>(now.count()),
                                             static_cast<std::int64_t>(ms.count())};
      auto ins = db_.query("INSERT INTO " + table +
                               " (\"version\", \"name\", \"checksum\", \"applied_at\", \"duration_ms\") "
                               "VALUES (?, ?, ?, ?, ?)",
                           values);
      if (!ins) return failed(ins.error());
    } else {
      auto del = db_.query("DELETE FROM " + table + " WHERE \"version\" = ?", key);
      if (!del) return failed(del.error());
    }
    if (auto st = db_.commit(); !st) return step_error(s, st.error());
    return true;
  }

  sqlite::backend& db_;
  std::vector<migration_step> steps_;
  bool allow_destructive_ = false;
  migration_progress progress_;
};

//=== drift ===//

/// One way the live schema differs from a descriptor.
struct schema_difference {
  enum class kind {
    missing_table,
    missing_column,
    extra_column,          ///< in the database, not in the descriptor
    type_mismatch,         ///< declared type differs from sqlite::column_type
    nullability_mismatch,  ///< NOT NULL in one, nullable in the other
    missing_index,
    index_mismatch,  ///< unique in one, not in the other
  };
  kind what = kind::missing_table;
  std::string table;
  std::string object;   ///< the column or index; empty for the table
  std::string message;  ///< e.g. `users.age: type is TEXT, the descriptor says INTEGER`
};

namespace detail {

inline auto same_type(std::string_view a, std::string_view b) -> bool {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

inline auto drift_of(sqlite::backend& db, const table_schema& s, std::vector<schema_difference>& out) -> status {
  using kind = schema_difference::kind;
  const std::string table(s.name);
  std::array<value_view, 1> name{s.name};
  auto cols = db.query("SELECT \"name\", \"type\", \"notnull\" FROM pragma_table_info(?)", name);
  if (!cols) return std::move(cols).error();
  if (cols->empty()) {
    out.push_back({kind::missing_table, table, {}, table + ": table is missing"});
    return {};
  }
  auto text = [](const value& v) {
    const auto* p = std::get_if<std::string>(&v);
    return p ? *p : std::string();
  };
  auto live_column = [&](std::string_view c) -> const std::vector<value>* {
    for (const auto& r : *cols)
      if (r.size() >= 3 && text(r[0]) == c) return &r;
    return nullptr;
  };
  for (std::size_t i = 0; i < s.columns.size(); ++i) {
    const auto& c = s.columns[i];
    const std::string subject = table + "." + std::string(c.name);
    const auto* live = live_column(c.name);
    if (!live) {
      out.push_back({kind::missing_column, table, std::string(c.name), subject + ": column is missing"});
      continue;
    }
    const std::string type = text((*live)[1]);
    const auto want = sqlite::column_type(c);
    if (!same_type(type, want))
      out.push_back({kind::type_mismatch, table, std::string(c.name),
                     subject + ": type is " + (type.empty() ? "(none)" : type) + ", the descriptor says " +
                         (want.empty() ? "(none)" : std::string(want))});
    const auto* nn = std::get_if<std::int64_t>(&(*live)[2]);
    const bool live_not_null = nn && *nn != 0;
    const bool want_not_null = !c.nullable && !(s.auto_increment && *s.auto_increment == i);
    if (live_not_null != want_not_null)
      out.push_back({kind::nullability_mismatch, table, std::string(c.name),
                     subject + (live_not_null ? ": NOT NULL in the database, nullable in the descriptor"
                                              : ": nullable in the database, NOT NULL in the descriptor")});
  }
  for (const auto& r : *cols) {
    const std::string c = text(r.at(0));
    if (!s.find(c))
      out.push_back({kind::extra_column, table, c, table + "." + c + ": column is not in the descriptor"});
  }
  auto indexes = db.query("SELECT \"name\", \"unique\" FROM pragma_index_list(?)", name);
  if (!indexes) return std::move(indexes).error();
  for (const auto& ix : s.indexes) {
    const std::vector<value>* live = nullptr;
    for (const auto& r : *indexes)
      if (r.size() >= 2 && text(r[0]) == ix.name) live = &r;
    if (!live) {
      out.push_back({kind::missing_index, table, ix.name, table + ": index " + ix.name + " is missing"});
      continue;
    }
    const auto* u = std::get_if<std::int64_t>(&(*live)[1]);
    if ((u && *u != 0) != ix.unique)
      out.push_back({kind::index_mismatch, table, ix.name,
                     table + ": index " + ix.name +
                         (ix.unique ? " is not unique in the database, unique in the descriptor"
                                    : " is unique in the database, not in the descriptor")});
  }
  return {};
}

}  // namespace detail

/// Compares the live schema (PRAGMA table_info, index_list) with the
/// descriptors of `Ts...` and lists the differences, tables in the order given;
/// empty when they agree. Changes nothing. Tables not described are ignored.
/// Errors: those of the PRAGMA queries.
template <entity... Ts>
auto drift(sqlite::backend& db) -> result<std::vector<schema_difference>> {
  std::vector<schema_difference> out;
  status st;
  ((st ? (void)(st = detail::drift_of(db, schema_of<Ts>(), out)) : void()), ...);
  if (!st) return std::move(st).error();
  return out;
}

}  // namespace ormkit
