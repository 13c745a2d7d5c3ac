// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/sqlite/backend.hpp
//
// The SQLite backend: the embedded default, a peer of the memory backend that
// answers every call the same way (the conformance suite runs both).
//
// A `backend` is one connection, opened with the settings reliability.md
// measured as necessary: WAL (except for :memory: and read-only databases),
// synchronous NORMAL (or FULL), a busy timeout, foreign keys on, double-quoted
// string literals off (a misspelt column is an error, not a string), extended
// result codes, and write transactions that start with BEGIN IMMEDIATE (a
// deferred transaction that upgrades to a write fails with BUSY_SNAPSHOT
// without waiting for the busy timeout).
//
// Tables are created on first use, as the memory backend does: the first call
// that names a schema runs CREATE TABLE / CREATE INDEX IF NOT EXISTS (after a
// read-only check that finds them already there), once per schema per
// connection. Migrations are the tool for changing existing tables; this
// backend never alters one.
//
// Every statement is generated from the schema and the query AST with `?` for
// every value, and prepared once per connection through the statement cache
// (sqlite/statement.hpp). Text and blobs of a write are bound without copying
// (they point into the caller's entity for the duration of the call); a
// query's values are copied, because its cursor outlives the call.
//
// LIKE is the registered function `ormkit_like`, which runs the memory
// backend's own `memory::like`: case-sensitive, `%` / `_` (one UTF-8
// character) / backslash escapes, over the full bytes of the text. SQLite's
// LIKE differs in ways a conformance test finds: it is case-insensitive for
// ASCII unless the deprecated `PRAGMA case_sensitive_like` is set (and that
// pragma changes every LIKE on the connection), it stops at an embedded NUL,
// it treats a trailing escape character as no match, and it matches numbers
// by their text. When the pattern starts with literal characters, a range test
// on that prefix goes in front of the call, so an index on the column still
// narrows the search.
//
// Rows come back in the memory backend's order too: every SELECT ends its
// ORDER BY with the rowid, which is insertion order for generated keys (the
// memory backend keeps ties, and unordered results, in insertion order).
//
// Where the backends still differ (by design, or not yet resolved):
// - both enforce foreign keys (`references<>`), but here a parent table must
//   exist (have been used) before a child row is written, and the message of a
//   violation does not name the value;
// - rows with explicit integer keys come back in key order, not insertion
//   order, when no ORDER BY decides (the key is the rowid);
// - a cursor sees the database as it steps, not a snapshot taken when it
//   was opened: finish reading before writing on the same connection;
// - averages of reals may differ in the last bits (summation order).
//
// Needs SQLite 3.37 or newer (checked at compile time and when opening).
//
// Threads: one backend is one connection; use it from one thread at a time
// (with external locking if you must share it). Its transactions, savepoints
// and cached statements belong to the connection, so two threads sharing it
// would run inside each other's transactions. For concurrency open one backend
// per thread (or keep a small pool) on the same file: in WAL mode readers run
// alongside the one writer, and writers wait for the write lock for up to
// `busy_timeout`, then fail with errc::busy, which `ormkit::transact` retries.
// A cursor belongs to the thread of its backend; it keeps the connection
// alive, so it may outlive the backend object.
//
// Example:
//
//   auto db = ormkit::sqlite::backend::open({.path = "app.db"}).value();
//   ormkit::repository<user> users(*db);
//   auto ann = users.insert({.email = "ann@example.com", .name = "Ann", .age = 31}).value();
//   db->backup_to("app-backup.db").value();

#include <ormkit/backend.hpp>
#include <ormkit/detail/backend_common.hpp>
#include <ormkit/error.hpp>
#include <ormkit/memory/eval.hpp>
#include <ormkit/query.hpp>
#include <ormkit/result.hpp>
#include <ormkit/schema.hpp>
#include <ormkit/sqlite/error.hpp>
#include <ormkit/sqlite/sql.hpp>
#include <ormkit/sqlite/statement.hpp>
#include <ormkit/statement_observer.hpp>
#include <ormkit/value.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ormkit::sqlite {

static_assert(SQLITE_VERSION_NUMBER >= 3037000,
              "ormkit: the SQLite backend needs SQLite 3.37 or newer (NULLS FIRST, sqlite3_changes64); "
              "install a newer libsqlite3-dev");

/// `PRAGMA synchronous`. NORMAL in WAL mode keeps the database consistent but may
/// lose the last commits on power loss; FULL syncs the WAL on every commit.
enum class synchronous { normal, full };

/// How to open a database.
struct options {
  /// A file path, ":memory:", or with `uri` a URI such as "file:app.db?mode=ro".
  std::string path = ":memory:";
  /// Interpret `path` as a URI (SQLITE_OPEN_URI).
  bool uri = false;
  synchronous sync = synchronous::normal;
  /// How long a statement waits for another connection's lock before errc::busy.
  std::chrono::milliseconds busy_timeout{5000};
  /// Open read-only: every write fails with errc::readonly.
  bool read_only = false;
  /// Prepared statements kept per connection (0: prepare every time).
  std::size_t statement_cache = 128;
  /// Open in SQLite's "serialized" mode (SQLITE_OPEN_FULLMUTEX): SQLite then locks
  /// the connection's mutex in every API call. Off by default ("multi-thread" mode,
  /// SQLITE_OPEN_NOMUTEX), which the thread model already requires: one thread uses
  /// a backend at a time. Turn on only to share the native handle across threads.
  bool serialized = false;
  /// Told about every statement this backend runs (not owned; see statement_observer.hpp).
  statement_observer* observer = nullptr;
};

namespace detail {

// Closes the database after everything else of the connection is gone.
struct db_handle {
  sqlite3* db = nullptr;
  explicit db_handle(sqlite3* d) noexcept : db(d) {}
  db_handle(const db_handle&) = delete;
  auto operator=(const db_handle&) -> db_handle& = delete;
  ~db_handle() { sqlite3_close_v2(db); }
};

// The connection and its statements. Shared by the backend and its open
// cursors, so a cursor's statement stays valid even if the backend goes first.
struct connection {
  db_handle handle;
  statement_cache cache;
  std::string path;

  connection(sqlite3* db, std::size_t cache_capacity, std::string p)
      : handle(db), cache(db, cache_capacity), path(std::move(p)) {}
  [[nodiscard]] auto db() const noexcept -> sqlite3* { return handle.db; }
};

// The most specific code SQLite has for the failure `rc` just returned.
inline auto extended_code(sqlite3* db, int rc) -> int {
  int ext = sqlite3_extended_errcode(db);
  return (ext & 0xff) == (rc & 0xff) ? ext : rc;
}

inline auto starts_with(std::string_view s, std::string_view prefix) -> bool {
  return s.substr(0, prefix.size()) == prefix;
}

// Turns the failure `rc` of a statement on `c` into an ormkit error. `context`
// is the subject ("users", or "sqlite" for connection-level work); `s` and
// `written` allow conflict messages in the memory backend's shape; `generated`
// says the SQL came from a schema (so a missing column means the stored table
// differs from the entity).
inline auto describe_failure(const connection& c, int rc, std::string_view context, const table_schema* s,
                             const written_values& written, bool generated) -> ormkit::error {
  const int code = extended_code(c.db(), rc);
  const std::string_view msg = sqlite3_errmsg(c.db());
  const std::string subject(context);
  if (s && (code == SQLITE_CONSTRAINT_UNIQUE || code == SQLITE_CONSTRAINT_PRIMARYKEY))
    if (auto e = unique_conflict(*s, msg, written, code)) return std::move(*e);
  if (code == SQLITE_CONSTRAINT_NOTNULL) {
    auto colon = msg.find(": ");
    if (colon != std::string_view::npos)
      return make_error(code, std::string(msg.substr(colon + 2)) + ": NULL in a NOT NULL column");
  }
  if (code == SQLITE_CONSTRAINT_FOREIGNKEY)
    return make_error(code, subject + ": foreign key constraint failed (the referenced row does not exist, or "
                                      "other rows still reference this one)");
  if ((code & 0xff) == SQLITE_ERROR && msg == "integer overflow")
    return {errc::invalid_argument, subject + ": sum: integer overflow", native_code(code)};
  if (generated && (code & 0xff) == SQLITE_ERROR && starts_with(msg, "no such table: main.") &&
      msg.substr(20) != context) {
    // The table exists (it was ensured), so the missing one is a foreign key's parent.
    return {errc::schema_mismatch,
            subject + ": the table " + std::string(msg.substr(20)) +
                " that a foreign key references does not exist yet; use its repository (or ensure_table) first",
            native_code(code)};
  }
  if (generated && (code & 0xff) == SQLITE_ERROR &&
      (starts_with(msg, "no such column") || msg.find("has no column named") != std::string_view::npos))
    return {errc::schema_mismatch, subject + ": the stored table differs from the entity (" + std::string(msg) + ")",
            native_code(code)};
  std::string text = subject + ": " + std::string(msg);
  if (is_environmental(code)) text += " (database \"" + c.path + "\")";
  return make_error(code, std::move(text));
}

// Binds `v` to parameter `index`. `copy`: SQLite keeps its own copy of text and
// blobs (for statements that outlive the caller's values); otherwise they are
// bound in place (SQLITE_STATIC) and must live until the statement is reset.
[[gnu::always_inline]] inline auto bind(sqlite3_stmt* st, int index, const value_view& v, bool copy) -> int {
  switch (v.index()) {
    case 1: return sqlite3_bind_int64(st, index, std::get<1>(v));
    case 2: return sqlite3_bind_double(st, index, std::get<2>(v));
    case 3: {
      auto t = std::get<3>(v);
      // Explicit byte length: embedded NULs and invalid UTF-8 are stored as given.
      // A null data pointer would bind NULL, so an empty view points at "".
      return sqlite3_bind_text64(st, index, t.data() ? t.data() : "", t.size(),
                                 copy ? SQLITE_TRANSIENT : SQLITE_STATIC, SQLITE_UTF8);
    }
    case 4: {
      auto b = std::get<4>(v);
      if (b.empty()) return sqlite3_bind_zeroblob(st, index, 0);  // a null pointer would bind NULL
      return sqlite3_bind_blob64(st, index, b.data(), b.size(), copy ? SQLITE_TRANSIENT : SQLITE_STATIC);
    }
    default: return sqlite3_bind_null(st, index);
  }
}

// `bind(st, index, v, false)` for a value written to column `col`, checking first that
// it fits the column as backend::fits does (NULL only where nullable, the column's
// storage class, an integer for a real): -1, with nothing bound, when it does not.
// One switch does both, for the write paths that bind a whole row.
inline constexpr int misfit_rc = -1;
[[gnu::always_inline]] inline auto bind_fitting(sqlite3_stmt* st, int index, const column_schema& col,
                                                const value_view& v) -> int {
  switch (v.index()) {
    case 1:
      if (col.storage != storage::integer && col.storage != storage::real) [[unlikely]]
        return misfit_rc;
      return sqlite3_bind_int64(st, index, std::get<1>(v));
    case 2:
      if (col.storage != storage::real) [[unlikely]]
        return misfit_rc;
      return sqlite3_bind_double(st, index, std::get<2>(v));
    case 3: {
      if (col.storage != storage::text) [[unlikely]]
        return misfit_rc;
      auto t = std::get<3>(v);
      return sqlite3_bind_text64(st, index, t.data() ? t.data() : "", t.size(), SQLITE_STATIC, SQLITE_UTF8);
    }
    case 4:
      if (col.storage != storage::blob) [[unlikely]]
        return misfit_rc;
      return bind(st, index, v, false);
    default:
      if (!col.nullable) [[unlikely]]
        return misfit_rc;
      return sqlite3_bind_null(st, index);
  }
}

// A view of result column `i` of the current row; valid until the next step.
// Reads through sqlite3_column_value: one call that takes the connection's mutex
// per column, where sqlite3_column_type + _text + _bytes would take it three
// times. SQLite documents the sqlite3_value_* calls on that value as not
// thread-safe, which is the contract here anyway (one thread per connection).
[[gnu::always_inline]] inline auto column_view(sqlite3_stmt* st, int i) -> value_view {
  sqlite3_value* v = sqlite3_column_value(st, i);
  switch (sqlite3_value_type(v)) {
    case SQLITE_INTEGER: return sqlite3_value_int64(v);
    case SQLITE_FLOAT: return sqlite3_value_double(v);
    case SQLITE_TEXT: {
      // text first, then bytes: the documented order that avoids a conversion.
      const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
      auto n = static_cast<std::size_t>(sqlite3_value_bytes(v));
      return std::string_view(p ? p : "", p ? n : 0);
    }
    case SQLITE_BLOB: {
      const auto* p = static_cast<const std::byte*>(sqlite3_value_blob(v));
      auto n = static_cast<std::size_t>(sqlite3_value_bytes(v));
      return p ? blob_view(p, n) : blob_view();
    }
    default: return std::monostate{};
  }
}

// ormkit_like(text, pattern): memory::like over the full bytes of both.
// NULL text gives NULL (unknown), like every SQL comparison; a non-text value
// or pattern gives false, as in the memory backend.
inline void like_function_impl(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (argc != 2 || sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  if (sqlite3_value_type(argv[0]) != SQLITE_TEXT || sqlite3_value_type(argv[1]) != SQLITE_TEXT) {
    sqlite3_result_int(ctx, 0);
    return;
  }
  const auto* t = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  auto tn = static_cast<std::size_t>(sqlite3_value_bytes(argv[0]));
  const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(argv[1]));
  auto pn = static_cast<std::size_t>(sqlite3_value_bytes(argv[1]));
  if (!t || !p) {
    sqlite3_result_error_nomem(ctx);
    return;
  }
  sqlite3_result_int(ctx, memory::like(std::string_view(t, tn), std::string_view(p, pn)) ? 1 : 0);
}

// A streaming cursor: steps its statement one row at a time. It holds the
// statement checked out of the cache until the end (or destruction), when it
// resets the statement at once so the read lock is released.
// What a cursor tells a statement observer when it ends (or is dropped unfinished).
struct cursor_observation {
  statement_observer* observer = nullptr;
  std::string sql;
  std::vector<std::string> parameters;
  std::uint64_t rows = 0;
  std::chrono::steady_clock::time_point start;
};

// Tells `o` about a statement; what the observer throws is swallowed.
inline void notify(statement_observer& o, std::string_view sql, std::span<const std::string> parameters,
                   std::uint64_t rows, std::chrono::steady_clock::time_point start,
                   const ormkit::error* failure) noexcept {
  statement_event e{"sqlite", sql, parameters, rows, std::chrono::steady_clock::now() - start, failure};
  try {
    o.executed(e);
  } catch (...) {  // NOLINT(bugprone-empty-catch): the statement has run; its caller has its result
  }
}

// A streaming cursor: steps its statement one row at a time. It holds the
// statement checked out of the cache until the end (or destruction), when it
// resets the statement at once so the read lock is released.
class row_cursor final : public cursor_source {
 public:
  row_cursor(std::shared_ptr<connection> conn, lease st, std::size_t width, std::string context,
             std::unique_ptr<cursor_observation> observation = nullptr)
      : conn_(std::move(conn)),
        stmt_(std::move(st)),
        row_(width),
        context_(std::move(context)),
        observation_(std::move(observation)) {}
  row_cursor(const row_cursor&) = delete;
  auto operator=(const row_cursor&) -> row_cursor& = delete;
  ~row_cursor() override { finish(nullptr); }

  auto next() -> result<bool> override {
    if (!stmt_) return false;
    int rc = sqlite3_step(stmt_.get());
    if (rc == SQLITE_ROW) {
      for (std::size_t i = 0; i < row_.size(); ++i) row_[i] = column_view(stmt_.get(), static_cast<int>(i));
      if (observation_) [[unlikely]]
        ++observation_->rows;
      return true;
    }
    std::optional<ormkit::error> failed;
    if (rc != SQLITE_DONE) failed = describe_failure(*conn_, rc, context_, nullptr, {}, true);
    stmt_.reset();
    finish(failed ? &*failed : nullptr);
    if (failed) return std::move(*failed);
    return false;
  }

  [[nodiscard]] auto row() const -> std::span<const value_view> override { return row_; }

 private:
  void finish(const ormkit::error* failure) noexcept {
    if (!observation_) return;
    auto o = std::move(observation_);
    notify(*o->observer, o->sql, o->parameters, o->rows, o->start, failure);
  }

  std::shared_ptr<connection> conn_;  // declared first: outlives the lease below
  lease stmt_;
  std::vector<value_view> row_;
  std::string context_;
  std::unique_ptr<cursor_observation> observation_;  // null unless a statement observer is set
};

// SQLite's side of the plumbing shared with PostgreSQL (detail/backend_common.hpp).
struct sql_dialect {
  static void identifier(std::string& out, std::string_view name) { append_identifier(out, name); }
  static void placeholder(std::string& out, std::size_t) { out += '?'; }
  static auto not_deleted(const column_schema& c) -> std::string_view {
    return c.kind == sql_kind::boolean ? " = 0" : " IS NULL";
  }
};

}  // namespace detail

namespace common = ::ormkit::detail::backend_common;

/// The SQLite backend. Satisfies `ormkit::backend`; see the header comment for the
/// settings, the thread model and the choices behind them.
class alignas(64) backend {
 public:
  /// Opens `opts.path`. Throws: `ormkit::exception` with the errors of `open`.
  explicit backend(options opts = {}) : observer_(opts.observer), opts_(std::move(opts)) {
    if (auto st = connect(); !st) throw exception(std::move(st).error());
  }

  /// Opens a database and applies the connection settings.
  /// Errors: cannot_open (missing directory, no permission, ...), corrupt (not a
  /// SQLite database), busy (another connection holds a lock past busy_timeout),
  /// io_error; each message names the path.
  static auto open(options opts) -> result<std::unique_ptr<backend>> {
    std::unique_ptr<backend> b(new backend(deferred{}, std::move(opts)));
    ORMKIT_TRY(b->connect());
    return b;
  }

  backend(const backend&) = delete;
  auto operator=(const backend&) -> backend& = delete;
  /// Rolls back an open transaction and closes the connection (open cursors keep it
  /// alive until they are destroyed).
  ~backend() {
    if (!conn_) return;
    if (tx_ != tx::none && sqlite3_get_autocommit(db()) == 0) sqlite3_exec(db(), "ROLLBACK", nullptr, nullptr, nullptr);
    // Open cursors may keep the connection: it must not call back into this object.
    sqlite3_commit_hook(db(), nullptr, nullptr);
    sqlite3_rollback_hook(db(), nullptr, nullptr);
  }

  [[nodiscard]] auto name() const -> std::string_view { return "sqlite"; }

  /// Creates the table and its indexes when they do not exist; otherwise a no-op.
  /// Every other call does this implicitly on first use of a schema.
  /// Errors: readonly (a missing table in a read-only database), busy, transaction_state.
  auto ensure_table(const table_schema& s) -> status {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    return {};
  }

  /// Inserts one row; see `ormkit::backend`. An auto-increment key of 0 (or NULL) is
  /// generated by SQLite (AUTOINCREMENT: never reused, like the memory backend's).
  /// Errors: conflict (key taken; message as the memory backend's), invalid_argument
  /// (NULL in a NOT NULL column, a value of the wrong storage class), busy, readonly, full.
  // Always inlined (into backend_ref's call, for one): the everyday per-row calls. The
  // everyday case (no statement observer, a usable transaction, the table used last, a
  // full row, its statement cached and free) is run inline; the rest goes to insert_general.
  [[gnu::always_inline]] auto insert(const table_schema& s, std::span<const value_view> r) -> result<std::int64_t> {
    if (auto* t = everyday_table(s); t != nullptr && r.size() == t->width) [[likely]] {
      const bool omit = generates_key(s, r);
      lease st;
      if (conn_->cache.try_pinned(omit ? t->insert_generated_pin : t->insert_pin, st)) [[likely]]
        return insert_row(s, st, r, omit, omit);
    }
    return insert_general(s, r);
  }

 private:
  [[gnu::noinline]] auto insert_general(const table_schema& s, std::span<const value_view> r) -> result<std::int64_t> {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    if (r.size() != s.columns.size()) [[unlikely]] {
      auto bad = check_row(s, r);
      return std::move(bad).error();
    }
    const bool omit = generates_key(s, r);
    lease st;
    ORMKIT_TRY(omit ? acquire_pinned((*t)->insert_generated_sql, (*t)->insert_generated_pin, st, s.name)
                    : acquire_pinned((*t)->insert_sql, (*t)->insert_pin, st, s.name));
    return insert_row(s, st, r, omit, omit);
  }

 public:
  /// Inserts `count` rows in one transaction (a savepoint inside an open one): all or
  /// nothing. Errors: as insert, with " (batch item i)" added to the message.
  auto insert_many(const table_schema& s, std::span<const value_view> rows, std::size_t count,
                   std::vector<std::int64_t>& ids) -> status {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    const std::size_t width = s.columns.size();
    if (rows.size() != width * count)
      return unexpected(errc::invalid_argument, std::string(s.name) + ": insert_many got a malformed batch");
    if (count == 0) return {};
    // Rows with a key given and rows with a key to generate use different statements.
    lease given, generated;
    const bool own = sqlite3_get_autocommit(db()) != 0;
    ORMKIT_TRY(run(own ? "BEGIN IMMEDIATE" : "SAVEPOINT ormkit_batch", s.name));
    std::vector<std::int64_t> out;
    out.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      auto r = rows.subspan(i * width, width);
      const bool omit = generates_key(s, r);
      lease& st = omit ? generated : given;
      status ready = check_row(s, r);
      if (ready && !st)
        ready = omit ? acquire_pinned((*t)->insert_generated_sql, (*t)->insert_generated_pin, st, s.name)
                     : acquire_pinned((*t)->insert_sql, (*t)->insert_pin, st, s.name);
      auto id = ready.and_then([&] { return insert_row(s, st, r, omit, omit); });
      if (!id) {
        undo_batch(own, s.name);
        auto e = std::move(id).error();
        e.message += " (batch item " + std::to_string(i) + ")";
        return e;
      }
      out.push_back(*id);
    }
    given.reset();
    generated.reset();
    if (auto done = run(own ? "COMMIT" : "RELEASE ormkit_batch", s.name); !done) {
      undo_batch(own, s.name);
      return done;
    }
    ids.insert(ids.end(), out.begin(), out.end());
    return {};
  }

  /// Inserts, or on a primary-key conflict updates `update_columns` from `r`
  /// (`INSERT ... ON CONFLICT (key) DO UPDATE SET c = excluded.c`). Returns the key
  /// as `insert` does. Errors: as insert (a unique key other than the primary key
  /// is a conflict, not an update).
  auto upsert(const table_schema& s, std::span<const value_view> r, std::span<const std::size_t> update_columns)
      -> result<std::int64_t> {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    ORMKIT_TRY(check_row(s, r));
    if (s.primary_key.empty()) {
      lease st;
      ORMKIT_TRY(acquire((*t)->insert_sql, st, s.name));
      return insert_row(s, st, r, generates_key(s, r));
    }
    sql_ = (*t)->insert_sql;
    sql_ += " ON CONFLICT (";
    for (std::size_t k = 0; k < s.primary_key.size(); ++k) {
      if (k) sql_ += ", ";
      append_identifier(sql_, s.columns[s.primary_key[k]].name);
    }
    if (update_columns.empty()) {
      sql_ += ") DO NOTHING";
    } else {
      sql_ += ") DO UPDATE SET ";
      for (std::size_t i = 0; i < update_columns.size(); ++i) {
        if (update_columns[i] >= s.columns.size()) return bad_column(s);
        if (i) sql_ += ", ";
        append_identifier(sql_, s.columns[update_columns[i]].name);
        sql_ += " = excluded.";
        append_identifier(sql_, s.columns[update_columns[i]].name);
      }
    }
    lease st;
    ORMKIT_TRY(acquire(sql_, st, s.name));
    return insert_row(s, st, r, generates_key(s, r));
  }

  /// Sets `columns[i] = values[i]` in every row matching `filter`; returns how many
  /// rows matched (sqlite3_changes64). Errors: conflict (unique key), invalid_argument.
  auto update(const table_schema& s, std::span<const std::size_t> columns, std::span<const value_view> values,
              const expr& filter) -> result<std::uint64_t> {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    if (columns.size() != values.size())
      return unexpected(errc::invalid_argument, std::string(s.name) + ": update got " +
                                                    std::to_string(columns.size()) + " columns and " +
                                                    std::to_string(values.size()) + " values");
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] >= s.columns.size()) return bad_column(s);
      if (!fits(s.columns[columns[i]], values[i])) return misfit(s, columns[i], values[i]);
    }
    if (columns.empty()) return count_matching(s, filter);  // nothing to set: the memory backend counts
    sql_ = "UPDATE ";
    append_identifier(sql_, s.name);
    sql_ += " SET ";
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i) sql_ += ", ";
      append_identifier(sql_, s.columns[columns[i]].name);
      sql_ += " = ?";
    }
    params_.clear();
    for (std::size_t i = 0; i < values.size(); ++i) params_.add(values[i], columns[i]);
    ORMKIT_TRY(append_where(sql_, s, filter, params_));
    return change(s, written_values{values, columns});
  }

  /// Deletes matching rows; returns how many.
  auto erase(const table_schema& s, const expr& filter) -> result<std::uint64_t> {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    sql_ = "DELETE FROM ";
    append_identifier(sql_, s.name);
    params_.clear();
    ORMKIT_TRY(append_where(sql_, s, filter, params_));
    return change(s, {});
  }

  /// A streaming cursor over matching rows, all columns, in `q` order (NULLs first
  /// ascending, last descending, text bytewise, ties in rowid order). Rows are read
  /// as the cursor advances; a row's views are valid until the next `next()`.
  /// Writes on this connection while the cursor is open may or may not be seen
  /// by it (the memory backend's cursor reads a snapshot): finish reading first.
  auto select(const table_schema& s, const query_spec& q) -> result<cursor> {
    lease st;
    ORMKIT_TRY(prepare_select(s, q, st));
    const bool paged = q.limit || q.offset > 0;
    std::unique_ptr<detail::cursor_observation> seen;
    if (observer_) [[unlikely]] {
      seen = std::make_unique<detail::cursor_observation>();
      seen->observer = observer_;
      const char* text = sqlite3_sql(st.get());
      seen->sql = text ? text : "";
      seen->parameters = parameter_texts(&s, params_.values, params_.columns);
      if (paged) {
        seen->parameters.push_back(q.limit ? std::to_string(*q.limit) : std::string("-1"));
        seen->parameters.push_back(std::to_string(q.offset));
      }
      seen->start = std::chrono::steady_clock::now();
    }
    return cursor(std::make_unique<detail::row_cursor>(conn_, std::move(st), s.columns.size(), std::string(s.name),
                                                       std::move(seen)));
  }

  /// Every row `select(s, q)` would give, passed to `sink` in order, without a cursor:
  /// the statement is stepped here and each row's views are built on the stack. Stops
  /// at the first error (a failing sink's included). With a statement observer set, the
  /// rows go through `select`'s cursor, which reports the statement when it ends.
  auto fetch(const table_schema& s, const query_spec& q, row_sink sink) -> status {
    if (observer_) [[unlikely]] {
      auto c = select(s, q);
      if (!c) return std::move(c).error();
      return sink.drain(*c);
    }
    lease st;
    ORMKIT_TRY(prepare_select(s, q, st));
    sqlite3_stmt* stmt = st.get();
    const std::size_t width = s.columns.size();
    constexpr std::size_t inline_width = 16;
    alignas(value_view) unsigned char small[inline_width * sizeof(value_view)];
    std::vector<value_view> large;
    value_view* row = std::launder(reinterpret_cast<value_view*>(small));
    if (width > inline_width) {
      large.resize(width);
      row = large.data();
    }
    for (;;) {
      const int rc = sqlite3_step(stmt);
      if (rc != SQLITE_ROW) [[unlikely]] {
        if (rc == SQLITE_DONE) return {};
        // As the cursor reports a failed step (it never ends the caller's transaction itself).
        return detail::describe_failure(*conn_, rc, s.name, nullptr, {}, true);
      }
      for (std::size_t i = 0; i < width; ++i)
        ::new (static_cast<void*>(row + i)) value_view(detail::column_view(stmt, static_cast<int>(i)));
      if (auto done = sink.fn(sink.context, std::span<const value_view>(row, width)); !done) [[unlikely]]
        return done;
    }
  }

  /// The row `k` addresses, passed to `sink`; false when there is none. One cached
  /// statement per table (and soft-delete choice): `SELECT ... WHERE "pk" = ?`.
  // Always inlined (into backend_ref's call, for one): the everyday per-row calls. The
  // everyday case (see everyday_table) is run inline; the rest goes to get_key_general.
  [[gnu::always_inline]] auto get_key(const table_schema& s, const key_spec& k, row_sink sink) -> result<bool> {
    if (auto* t = everyday_table(s, k); t != nullptr && t->width <= row_views_inline) [[likely]] {
      lease st;
      if (auto* ks = t->keyed_statements.last_match(s, keyed_kind::get, k, {});
          ks != nullptr && conn_->cache.try_pinned(ks->extra, st)) [[likely]] {
        sqlite3_stmt* stmt = st.get();
        if (int rc = bind_key_values(stmt, s, k, 1); rc != SQLITE_OK) [[unlikely]]
          return failed<bool>(rc, s);
        const int rc = sqlite3_step(stmt);
        if (rc != SQLITE_ROW) [[unlikely]] {
          if (rc == SQLITE_DONE) return false;
          return step_failed<bool>(rc, s);
        }
        const std::size_t width = t->width;
        alignas(value_view) unsigned char small[row_views_inline * sizeof(value_view)];
        auto* row = std::launder(reinterpret_cast<value_view*>(small));
        for (std::size_t i = 0; i < width; ++i)
          ::new (static_cast<void*>(row + i)) value_view(detail::column_view(stmt, static_cast<int>(i)));
        auto read = sink.fn(sink.context, std::span<const value_view>(row, width));
        st.rewind();  // after the sink (the views point into the row)
        if (!read) [[unlikely]]
          return pass_on<bool>(std::move(read));
        return true;
      }
    }
    return get_key_general(s, k, sink);
  }

 private:
  static constexpr std::size_t row_views_inline = 16;  // a row's views on the stack up to this width

  [[gnu::noinline]] auto get_key_general(const table_schema& s, const key_spec& k, row_sink sink) -> result<bool> {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    ORMKIT_TRY(check_key(s, k));
    auto& slot = (*t)->keyed(s, keyed_kind::get, k, {});
    lease st;
    ORMKIT_TRY(acquire_pinned(slot.sql, slot.extra, st, s.name));
    ORMKIT_TRY(bind_key(st, s, k, 1));
    const auto start = observer_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    int rc = sqlite3_step(st.get());
    if (rc == SQLITE_DONE) {
      if (observer_) [[unlikely]]
        report_keyed(st, s, k, {}, {}, 0, start, nullptr);
      return false;
    }
    if (rc != SQLITE_ROW) {
      auto e = fail(rc, s.name, &s);
      if (observer_) [[unlikely]]
        report_keyed(st, s, k, {}, {}, 0, start, &e);
      return e;
    }
    if (observer_) [[unlikely]]
      report_keyed(st, s, k, {}, {}, 1, start, nullptr);
    const std::size_t width = s.columns.size();
    constexpr std::size_t inline_width = 16;
    // Up to 16 views on the stack, constructed straight from the columns.
    alignas(value_view) unsigned char small[inline_width * sizeof(value_view)];
    std::vector<value_view> large;
    value_view* row = nullptr;
    if (width > inline_width) {
      large.reserve(width);
      for (std::size_t i = 0; i < width; ++i) large.push_back(detail::column_view(st.get(), static_cast<int>(i)));
      row = large.data();
    } else {
      row = std::launder(reinterpret_cast<value_view*>(small));
      for (std::size_t i = 0; i < width; ++i)
        ::new (static_cast<void*>(row + i)) value_view(detail::column_view(st.get(), static_cast<int>(i)));
    }
    auto read = sink.fn(sink.context, std::span<const value_view>(row, width));
    st.rewind();  // after the sink (the views point into the row); the lease's release is then the inlined one
    ORMKIT_TRY(std::move(read));
    return true;
  }

 public:

  /// `update` of the row `k` addresses: one cached statement per table and column list.
  // Always inlined (into backend_ref's call, for one): the everyday per-row calls. The
  // everyday case (see everyday_table; every column in range and every value fitting) is
  // checked and run inline; everything else goes to update_key_general.
  [[gnu::always_inline]] auto update_key(const table_schema& s, const key_spec& k,
                                        std::span<const std::size_t> columns, std::span<const value_view> values)
      -> result<std::uint64_t> {
    // No empty column list gets this far: no keyed update statement has one (see
    // update_key_general), so last_match finds none for it.
    if (auto* t = everyday_table(s, k); t != nullptr && columns.size() == values.size()) [[likely]] {
      lease st;
      // A statement for exactly these columns was built after they were found in range
      // (update_key_general), so s.columns[columns[i]] is safe. Each value is checked
      // against its column as it is bound; a misfit leaves the rest to the general path
      // (which reports it, and binds every value again before any step).
      if (auto* ks = t->keyed_statements.last_match(s, keyed_kind::update, k, columns);
          ks != nullptr && conn_->cache.try_pinned(ks->extra, st)) [[likely]] {
        sqlite3_stmt* stmt = st.get();
        int bound = SQLITE_OK;
        for (std::size_t i = 0; i < values.size() && bound == SQLITE_OK; ++i)
          bound = detail::bind_fitting(stmt, static_cast<int>(i) + 1, s.columns[columns[i]], values[i]);
        if (bound == detail::misfit_rc) [[unlikely]] {
          st.reset();  // back into the cache before the general path looks for it
          return update_key_general(s, k, columns, values);
        }
        if (bound == SQLITE_OK) [[likely]]
          bound = bind_key_values(stmt, s, k, static_cast<int>(values.size()) + 1);
        if (bound != SQLITE_OK) [[unlikely]]
          return failed<std::uint64_t>(bound, s);
        if (int rc = sqlite3_step(stmt); rc != SQLITE_DONE) [[unlikely]]
          return step_failed<std::uint64_t>(rc, s, written_values{values, columns});
        const auto changed = static_cast<std::uint64_t>(sqlite3_changes64(db()));
        st.rewind();
        return changed;
      }
    }
    return update_key_general(s, k, columns, values);
  }

 private:
  [[gnu::noinline]] auto update_key_general(const table_schema& s, const key_spec& k,
                                            std::span<const std::size_t> columns, std::span<const value_view> values)
      -> result<std::uint64_t> {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    ORMKIT_TRY(check_key(s, k));
    if (columns.size() != values.size())
      return unexpected(errc::invalid_argument, std::string(s.name) + ": update got " +
                                                    std::to_string(columns.size()) + " columns and " +
                                                    std::to_string(values.size()) + " values");
    // One pass over the columns: a column out of range is reported before any misfit value.
    bool bad = false;
    std::size_t misfit_at = values.size();
    for (std::size_t i = 0; i < values.size(); ++i) {
      const std::size_t c = columns[i];
      if (c >= s.columns.size()) [[unlikely]] {
        bad = true;
        break;
      }
      if (!fits(s.columns[c], values[i]) && misfit_at == values.size()) [[unlikely]]
        misfit_at = i;
    }
    if (bad) [[unlikely]]
      return bad_column(s);
    if (columns.empty()) return update(s, columns, values, key_filter_of(s, k));  // counts the match
    if (misfit_at != values.size()) [[unlikely]]
      return misfit(s, columns[misfit_at], values[misfit_at]);
    auto& slot = (*t)->keyed(s, keyed_kind::update, k, columns);
    lease st;
    ORMKIT_TRY(acquire_pinned(slot.sql, slot.extra, st, s.name));
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (int rc = detail::bind(st.get(), static_cast<int>(i) + 1, values[i], false); rc != SQLITE_OK)
        return fail(rc, s.name);
    }
    ORMKIT_TRY(bind_key(st, s, k, static_cast<int>(values.size()) + 1));
    const auto start = observer_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    int rc = sqlite3_step(st.get());
    if (rc != SQLITE_DONE) {
      auto e = fail(rc, s.name, &s, written_values{values, columns});
      if (observer_) [[unlikely]]
        report_keyed(st, s, k, columns, values, 0, start, &e);
      return e;
    }
    const auto changed = static_cast<std::uint64_t>(sqlite3_changes64(db()));
    if (observer_) [[unlikely]]
      report_keyed(st, s, k, columns, values, changed, start, nullptr);
    st.rewind();  // now, so that the lease's release is the inlined one
    return changed;
  }

 public:

  /// `erase` of the row `k` addresses: one cached statement per table.
  // Always inlined (into backend_ref's call, for one): the everyday per-row calls. The
  // everyday case (see everyday_table) is checked and run inline; everything else,
  // first uses and errors included, goes to erase_key_general, which checks it all again.
  [[gnu::always_inline]] auto erase_key(const table_schema& s, const key_spec& k) -> result<std::uint64_t> {
    if (auto* t = everyday_table(s, k); t != nullptr) [[likely]] {
      lease st;
      if (auto* ks = t->keyed_statements.last_match(s, keyed_kind::erase, k, {});
          ks != nullptr && conn_->cache.try_pinned(ks->extra, st)) [[likely]] {
        sqlite3_stmt* stmt = st.get();
        if (int rc = bind_key_values(stmt, s, k, 1); rc != SQLITE_OK) [[unlikely]]
          return failed<std::uint64_t>(rc, s);
        if (int rc = sqlite3_step(stmt); rc != SQLITE_DONE) [[unlikely]]
          return step_failed<std::uint64_t>(rc, s);
        const auto changed = static_cast<std::uint64_t>(sqlite3_changes64(db()));
        st.rewind();
        return changed;
      }
    }
    return erase_key_general(s, k);
  }

 private:
  [[gnu::noinline]] auto erase_key_general(const table_schema& s, const key_spec& k) -> result<std::uint64_t> {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    ORMKIT_TRY(check_key(s, k));
    auto& slot = (*t)->keyed(s, keyed_kind::erase, k, {});
    lease st;
    ORMKIT_TRY(acquire_pinned(slot.sql, slot.extra, st, s.name));
    ORMKIT_TRY(bind_key(st, s, k, 1));
    const auto start = observer_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    int rc = sqlite3_step(st.get());
    if (rc != SQLITE_DONE) {
      auto e = fail(rc, s.name, &s);
      if (observer_) [[unlikely]]
        report_keyed(st, s, k, {}, {}, 0, start, &e);
      return e;
    }
    const auto changed = static_cast<std::uint64_t>(sqlite3_changes64(db()));
    if (observer_) [[unlikely]]
      report_keyed(st, s, k, {}, {}, changed, start, nullptr);
    st.rewind();  // now, so that the lease's release is the inlined one
    return changed;
  }

 public:
  //=== typed writes (ormkit::row_writing_backend) ===//

  /// One row's values, bound one at a time straight into the cached statement by a
  /// caller that knows the entity's type (repository<T> built on this backend).
  class row_writer {
   public:
    row_writer() = default;
    [[nodiscard]] explicit operator bool() const noexcept { return stmt_ != nullptr; }
    /// Binds parameter `i` (0-based); `copy`: SQLite keeps its own copy of text and blobs.
    [[gnu::always_inline]] void put(int i, const value_view& v, bool copy) noexcept {
      rc_ |= detail::bind(stmt_, i + 1, v, copy);
    }
    /// The row cannot be written as given: finish() writes nothing.
    void fail() noexcept { rc_ |= SQLITE_MISUSE; }

   private:
    friend class backend;
    lease st_;
    sqlite3_stmt* stmt_ = nullptr;
    int rc_ = SQLITE_OK;  // the bind failures, or'ed; on a failed step, the step's code
  };

  /// A writer for `insert` of a full row (see `ormkit::row_writing_backend`): the cached
  /// INSERT, with no parameter for the auto-increment column when `generated`. Empty
  /// unless the call is the everyday case (as `insert` finds it).
  [[gnu::always_inline]] auto begin_insert(const table_schema& s, bool generated) -> row_writer {
    row_writer w;
    if (auto* t = everyday_table(s)) [[likely]]
      if (conn_->cache.try_pinned(generated ? t->insert_generated_pin : t->insert_pin, w.st_)) [[likely]]
        w.stmt_ = w.st_.get();
    return w;
  }

  /// A writer for `update_key` of `columns` on a live row (see
  /// `ormkit::row_writing_backend`). Empty unless the call is the everyday case and the
  /// statement for these columns is the one used last (the first update of a column
  /// list goes the general way, which checks the columns and builds it).
  [[gnu::always_inline]] auto begin_update_key(const table_schema& s, std::span<const std::size_t> columns,
                                               bool versioned) -> row_writer {
    row_writer w;
    if (auto* t = everyday_table(s); t != nullptr && t->key_width != 0) [[likely]] {
      const key_spec k{{}, versioned ? std::optional<std::int64_t>(0) : std::nullopt, false};
      if (auto* ks = t->keyed_statements.last_match(s, keyed_kind::update, k, columns);
          ks != nullptr && conn_->cache.try_pinned(ks->extra, w.st_)) [[likely]]
        w.stmt_ = w.st_.get();
    }
    return w;
  }

  /// Steps the writer's statement: 1 written, 0 nothing written (a bind failed: take the
  /// general path), -1 failed (report with write_failed while `w` lives).
  [[gnu::always_inline]] auto finish(row_writer& w) -> int {
    if (w.rc_ != SQLITE_OK) [[unlikely]] {
      w.st_.reset();  // back into the cache for the general path
      w.stmt_ = nullptr;
      return 0;
    }
    if (int rc = sqlite3_step(w.stmt_); rc != SQLITE_DONE) [[unlikely]] {
      w.rc_ = rc;
      return -1;
    }
    w.st_.rewind();
    return 1;
  }
  /// The key SQLite generated for the last insert.
  [[nodiscard]] auto last_insert_id() const -> std::int64_t {
    return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db()));
  }
  /// The rows the last write changed.
  [[nodiscard]] auto changes() const -> std::uint64_t { return static_cast<std::uint64_t>(sqlite3_changes64(db())); }

  /// The error of a writer whose step failed: as insert's or update_key's.
  [[gnu::noinline, gnu::cold]] auto write_failed(row_writer& w, const table_schema& s,
                                                 std::span<const value_view> values,
                                                 std::span<const std::size_t> columns) -> ormkit::error {
    auto e = fail(w.rc_, s.name, &s, written_values{values, columns});
    w.st_.rewind();
    return e;
  }

  /// Aggregate rows: group values then term values, ordered by the group values.
  /// COUNT(*), COUNT(c), SUM, AVG (real), MIN, MAX with SQL's NULL rules (SUM of no
  /// rows is NULL). Errors: invalid_argument ("<table>: sum: integer overflow").
  auto aggregate(const table_schema& s, const aggregate_spec& a) -> result<value_rows> {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    if (a.group_by.empty() && a.terms.empty()) return value_rows{std::vector<value>{}};
    sql_ = "SELECT ";
    ORMKIT_TRY(common::append_aggregate_list<detail::sql_dialect>(
        sql_, s, a, [](std::string& sql, const aggregate_term& term, const column_schema& c) {
          switch (term.fn) {
            case aggregate_fn::count: sql += "COUNT("; break;
            case aggregate_fn::sum: sql += "SUM("; break;
            case aggregate_fn::avg: sql += "AVG("; break;
            case aggregate_fn::min: sql += "MIN("; break;
            default: sql += "MAX("; break;
          }
          append_identifier(sql, c.name);
          sql += ')';
        }));
    sql_ += " FROM ";
    append_identifier(sql_, s.name);
    params_.clear();
    ORMKIT_TRY(append_where(sql_, s, a.where, params_));
    if (auto order = common::append_group_by<detail::sql_dialect>(sql_, s, a); !order.empty())
      ORMKIT_TRY(append_order(sql_, s, order, {}));
    ORMKIT_TRY(check_parameters(s));
    return rows_of(sql_, params_.values, s.name, &s, params_.columns);
  }

  //=== transactions ===//

  /// BEGIN IMMEDIATE: takes the write lock now (waiting up to busy_timeout), so
  /// the transaction cannot fail later with BUSY_SNAPSHOT when it first writes.
  /// Errors: busy, transaction_state (already in a transaction: use a savepoint).
  auto begin() -> status {
    if (tx_ == tx::lost) return usable();
    if (tx_ != tx::none || sqlite3_get_autocommit(db()) == 0)
      return unexpected(errc::transaction_state,
                        "sqlite: a transaction is already active on this connection; use a savepoint");
    ORMKIT_TRY(run("BEGIN IMMEDIATE", "sqlite"));
    tx_ = tx::active;
    tx_may_have_ended_ = false;
    savepoints_.clear();
    lost_reason_.clear();
    return {};
  }

  /// Commits. The transaction is over either way: when COMMIT fails it is rolled
  /// back (as the memory backend does), and the error is returned.
  /// Errors: transaction_state (none active, or SQLite already rolled it back),
  /// busy, full, io_error.
  auto commit() -> status {
    if (tx_ == tx::none) return unexpected(errc::transaction_state, "sqlite: commit without an active transaction");
    auto st = usable();
    if (!st) {
      end_transaction(false);
      return st;
    }
    st = run("COMMIT", "sqlite");
    if (!st && sqlite3_get_autocommit(db()) == 0) (void)run("ROLLBACK", "sqlite");
    end_transaction(static_cast<bool>(st));
    return st;
  }

  /// Rolls back. After SQLite rolled the transaction back on its own (a FULL,
  /// IOERR, BUSY or NOMEM error), this just ends it. Errors: transaction_state.
  auto rollback() -> status {
    if (tx_ == tx::none) return unexpected(errc::transaction_state, "sqlite: rollback without an active transaction");
    status st;
    if (sqlite3_get_autocommit(db()) == 0) st = run("ROLLBACK", "sqlite");
    end_transaction(false);
    return st;
  }

  /// SAVEPOINT "name" inside the active transaction. Errors: transaction_state.
  auto savepoint(std::string_view name) -> status {
    if (tx_ == tx::none)
      return unexpected(errc::transaction_state, "sqlite: savepoint " + std::string(name) + " outside a transaction");
    ORMKIT_TRY(usable());
    ORMKIT_TRY(run("SAVEPOINT " + quote_identifier(name), "sqlite"));
    savepoints_.emplace_back(name);
    return {};
  }

  /// RELEASE "name" (and every savepoint opened after it). Errors: transaction_state.
  auto release(std::string_view name) -> status {
    auto i = find_savepoint(name);
    if (!i) return unexpected(errc::transaction_state, "sqlite: no savepoint named " + std::string(name));
    ORMKIT_TRY(usable());
    ORMKIT_TRY(run("RELEASE " + quote_identifier(name), "sqlite"));
    savepoints_.resize(*i);
    return {};
  }

  /// ROLLBACK TO "name": undoes everything since it; the savepoint stays open.
  /// Errors: transaction_state.
  auto rollback_to(std::string_view name) -> status {
    auto i = find_savepoint(name);
    if (!i) return unexpected(errc::transaction_state, "sqlite: no savepoint named " + std::string(name));
    ORMKIT_TRY(usable());
    ORMKIT_TRY(run("ROLLBACK TO " + quote_identifier(name), "sqlite"));
    savepoints_.resize(*i + 1);
    forget_tables_made_in_transaction();
    return {};
  }

  /// True between begin() and commit()/rollback().
  [[nodiscard]] auto in_transaction() const noexcept -> bool { return tx_ != tx::none; }

  //=== beyond the backend concept ===//

  /// Runs SQL text without values (DDL, PRAGMA; several statements allowed). For
  /// migrations and tools; never put a value into `sql`, and do not control
  /// transactions this way (use begin/commit). Errors: those of the statements.
  auto execute(std::string_view sql) -> status {
    ORMKIT_TRY(usable());
    std::string text(sql);
    char* message = nullptr;
    int rc = sqlite3_exec(db(), text.c_str(), nullptr, nullptr, &message);
    sqlite3_free(message);  // sqlite3_errmsg has the same text
    if (rc != SQLITE_OK) return fail(rc, "sqlite", nullptr, {}, false);
    return {};
  }

  /// Runs one statement with `params` bound to its `?`s and returns every row (text
  /// after the first statement is ignored). For tools, tests and migrations
  /// (PRAGMA table_info ...). Errors: those of the statement.
  auto query(std::string_view sql, std::span<const value_view> params = {}) -> result<value_rows> {
    ORMKIT_TRY(usable());
    return rows_of(std::string(sql), params, "sqlite", nullptr);
  }

  /// Copies the database to `path` with SQLite's online backup API: a consistent
  /// copy of everything committed (WAL content included, unlike a file copy,
  /// reliability.md finding 6). Waits for locks up to busy_timeout.
  /// Errors: cannot_open (destination), busy, readonly, full, io_error; messages name `path`.
  auto backup_to(const std::string& path) -> status {
    return backup_to(path, [](std::uint64_t, std::uint64_t) {}, -1);
  }

  /// `backup_to(path)`, copying `pages_per_step` pages at a time (-1: all at once) and
  /// calling `progress(pages_done, pages_total)` after each step. Between steps other
  /// connections may write; SQLite then restarts the copy, so the result is still one
  /// consistent state. A throwing `progress` ends the backup with that exception (the
  /// partial copy is left at `path`).
  template <class Progress>
  auto backup_to(const std::string& path, Progress&& progress, int pages_per_step) -> status {
    ORMKIT_TRY(usable());
    sqlite3* dest = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | (opts_.uri ? SQLITE_OPEN_URI : 0);
    int rc = sqlite3_open_v2(path.c_str(), &dest, flags, nullptr);
    detail::db_handle closer(dest);
    auto failed = [&](int code) -> ormkit::error {
      std::string msg = dest ? sqlite3_errmsg(dest) : sqlite3_errstr(code);
      return make_error(code, "sqlite: backup to \"" + path + "\" failed: " + msg);
    };
    if (rc != SQLITE_OK) return failed(rc);
    sqlite3_busy_timeout(dest, busy_ms());
    sqlite3_backup* b = sqlite3_backup_init(dest, "main", db(), "main");
    if (!b) return failed(sqlite3_extended_errcode(dest));
    struct finisher {  // finishes the backup however this scope is left
      sqlite3_backup* b;
      ~finisher() {
        if (b) sqlite3_backup_finish(b);
      }
    } guard{b};
    auto deadline = std::chrono::steady_clock::now() + opts_.busy_timeout;
    for (;;) {
      rc = sqlite3_backup_step(b, pages_per_step == 0 ? -1 : pages_per_step);
      if (rc == SQLITE_OK || rc == SQLITE_DONE) {
        const auto total = static_cast<std::uint64_t>(sqlite3_backup_pagecount(b));
        const auto left = static_cast<std::uint64_t>(sqlite3_backup_remaining(b));
        progress(total - std::min(left, total), total);
        if (rc == SQLITE_DONE) break;
        deadline = std::chrono::steady_clock::now() + opts_.busy_timeout;  // progress: wait afresh
        continue;
      }
      if ((rc == SQLITE_BUSY || rc == SQLITE_LOCKED) && std::chrono::steady_clock::now() < deadline) {
        sqlite3_sleep(10);
        continue;
      }
      break;
    }
    guard.b = nullptr;
    int finish = sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE) return failed(rc == SQLITE_OK ? finish : rc);
    if (finish != SQLITE_OK) return failed(finish);
    return {};
  }

  /// Statement cache counters: prepares, cache hits, evictions, cached statements.
  [[nodiscard]] auto statistics() const -> ::ormkit::sqlite::statistics { return conn_->cache.stats(); }

  /// The journal mode in effect ("wal", or "memory" for :memory:, or what a
  /// read-only database already had).
  [[nodiscard]] auto journal_mode() const -> const std::string& { return journal_mode_; }

  /// Tells `o` about every statement from now on (null: no one). Not owned; it must
  /// outlive its use. Same thread rules as every other call.
  void observe_statements(statement_observer* o) noexcept { observer_ = o; }

  [[nodiscard]] auto path() const -> const std::string& { return opts_.path; }

  /// The sqlite3 handle, for what ormkit does not wrap. Do not close it, do not begin
  /// or end transactions through it, and do not replace its commit or rollback hook:
  /// the backend keeps them to notice a transaction that ended without it (SQLite
  /// rolling back on its own after FULL, IOERR, BUSY or NOMEM, or a COMMIT or ROLLBACK
  /// run on this handle), so that it never goes on writing in autocommit mode.
  [[nodiscard]] auto native_handle() const noexcept -> sqlite3* { return conn_->db(); }

 private:
  struct deferred {};
  explicit backend(deferred, options opts) : observer_(opts.observer), opts_(std::move(opts)) {}

  enum class tx { none, active, lost };

  using keyed_kind = common::keyed_kind;
  // A keyed statement keeps its pinned cache slot.
  using keyed_statement = common::keyed_statement<detail::statement_slot*>;

  // What the backend keeps per schema: ensured once, SQL built once.
  // Aligned to a cache line, what an everyday call reads first: one line of memory.
  struct alignas(64) table_state {
    std::uint64_t hash = 0;
    std::size_t key_width = 0;  // the schema's primary_key.size()
    std::size_t width = 0;      // its columns.size()
    detail::statement_slot* insert_pin = nullptr;
    detail::statement_slot* insert_generated_pin = nullptr;
    common::keyed_statements<detail::statement_slot*> keyed_statements;
    std::string_view name;
    std::string insert_sql;  // INSERT INTO "t" ("a", "b") VALUES (?, ?)
    std::string select_sql;  // SELECT "a", "b" FROM "t"
    std::string_view rowid;
    std::string insert_generated_sql;  // the same without the auto-increment column

    // The statement addressing one row by key (detail/backend_common.hpp).
    [[gnu::always_inline]] auto keyed(const table_schema& s, keyed_kind kind, const key_spec& k,
                                      std::span<const std::size_t> columns) -> keyed_statement& {
      return keyed_statements.find<detail::sql_dialect>(s, kind, k, columns, select_sql);
    }
  };

  [[nodiscard]] auto db() const noexcept -> sqlite3* { return db_; }
  [[nodiscard]] auto busy_ms() const -> int {
    auto ms = std::clamp<std::chrono::milliseconds::rep>(opts_.busy_timeout.count(), 0,
                                                         std::numeric_limits<int>::max());
    return static_cast<int>(ms);
  }

  auto connect() -> status {
    // The header may be newer than the library the program runs with.
    if (sqlite3_libversion_number() < 3037000)
      return unexpected(errc::unsupported, std::string("sqlite: the SQLite library is version ") +
                                               sqlite3_libversion() + "; ormkit needs 3.37 or newer");
    int flags = opts_.read_only ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    if (opts_.uri) flags |= SQLITE_OPEN_URI;
    flags |= opts_.serialized ? SQLITE_OPEN_FULLMUTEX : SQLITE_OPEN_NOMUTEX;
    sqlite3* raw = nullptr;
    int rc = sqlite3_open_v2(opts_.path.c_str(), &raw, flags, nullptr);
    if (rc != SQLITE_OK) {
      int code = raw ? sqlite3_extended_errcode(raw) : rc;
      std::string msg = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
      sqlite3_close_v2(raw);
      return make_error(code, "sqlite: cannot open \"" + opts_.path + "\": " + msg);
    }
    conn_ = std::make_shared<detail::connection>(raw, opts_.statement_cache, opts_.path);
    db_ = raw;
    sqlite3_commit_hook(raw, &backend::transaction_ending, this);
    sqlite3_rollback_hook(raw, &backend::transaction_rolled_back, this);
    sqlite3_extended_result_codes(raw, 1);
    // Before the first statement: the WAL switch below may wait for other connections.
    sqlite3_busy_timeout(raw, busy_ms());
    sqlite3_db_config(raw, SQLITE_DBCONFIG_DQS_DML, 0, static_cast<int*>(nullptr));
    sqlite3_db_config(raw, SQLITE_DBCONFIG_DQS_DDL, 0, static_cast<int*>(nullptr));
    int fn_flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC;
#ifdef SQLITE_INNOCUOUS
    fn_flags |= SQLITE_INNOCUOUS;
#endif
    rc = sqlite3_create_function_v2(raw, like_function.data(), 2, fn_flags, nullptr, &detail::like_function_impl,
                                    nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return open_failure(rc);
    // The first read: a file that is not a database fails here, with its path.
    if (rc = exec_retrying_busy(raw, "SELECT count(*) FROM sqlite_master"); rc != SQLITE_OK) return open_failure(rc);
    if (rc = sqlite3_exec(raw, "PRAGMA foreign_keys = ON", nullptr, nullptr, nullptr); rc != SQLITE_OK)
      return open_failure(rc);
    // WAL cannot be switched on by a read-only connection; it keeps the file's mode.
    const bool read_only = sqlite3_db_readonly(raw, "main") == 1;
    const char* journal = read_only ? "PRAGMA journal_mode" : "PRAGMA journal_mode = WAL";
    auto mode = rows_of(journal, {}, "sqlite", nullptr);
    // Two connections opening a new file at once: the switch to WAL needs a lock that
    // SQLite does not wait for through the busy handler, so wait here, as long as it would.
    const auto deadline = std::chrono::steady_clock::now() + opts_.busy_timeout;
    for (int pause = 1; !mode && mode.error().code == errc::busy && std::chrono::steady_clock::now() < deadline;
         pause = std::min(pause * 2, 50)) {
      sqlite3_sleep(pause);
      mode = rows_of(journal, {}, "sqlite", nullptr);
    }
    if (!mode) return open_failure(mode.error());
    if (!mode->empty() && !mode->front().empty())
      if (const auto* m = std::get_if<std::string>(&mode->front().front())) journal_mode_ = *m;
    const char* sync = opts_.sync == synchronous::full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL";
    if (rc = sqlite3_exec(raw, sync, nullptr, nullptr, nullptr); rc != SQLITE_OK) return open_failure(rc);
    return {};
  }

  // sqlite3_exec, run again while it reports busy (for up to the busy timeout): the
  // busy handler does not cover every lock taken while another connection sets up the file.
  auto exec_retrying_busy(sqlite3* raw, const char* sql) const -> int {
    const auto deadline = std::chrono::steady_clock::now() + opts_.busy_timeout;
    for (int pause = 1;; pause = std::min(pause * 2, 50)) {
      int rc = sqlite3_exec(raw, sql, nullptr, nullptr, nullptr);
      if ((rc & 0xff) != SQLITE_BUSY || std::chrono::steady_clock::now() >= deadline) return rc;
      sqlite3_sleep(pause);
    }
  }

  auto open_failure(int rc) -> ormkit::error {
    int code = detail::extended_code(db(), rc);
    return make_error(code, "sqlite: cannot open \"" + opts_.path + "\": " + sqlite3_errmsg(db()));
  }
  auto open_failure(const ormkit::error& e) -> ormkit::error {
    // "sqlite: file is not a database (database "x")" -> "sqlite: cannot open "x": file is not a database"
    std::string msg = e.message;
    if (detail::starts_with(msg, "sqlite: ")) msg.erase(0, 8);
    if (auto p = msg.find(" (database \""); p != std::string::npos) msg.erase(p);
    return {e.code, "sqlite: cannot open \"" + opts_.path + "\": " + msg, e.native};
  }

  // Maps a failure and notes whether SQLite ended our transaction with it.
  [[gnu::noinline, gnu::cold]] auto fail(int rc, std::string_view context, const table_schema* s = nullptr,
                                         const written_values& w = {}, bool generated = true) -> ormkit::error {
    auto e = detail::describe_failure(*conn_, rc, context, s, w, generated);
    if (tx_ == tx::active && sqlite3_get_autocommit(db()) != 0) {
      // Finding 3: after FULL / IOERR / BUSY / NOMEM (and a few others) SQLite may
      // have rolled the whole transaction back already. Later calls must not run in
      // autocommit mode as if they were still inside it.
      tx_ = tx::lost;
      lost_reason_ = e.message;
      forget_tables_made_in_transaction();
    }
    return e;
  }

  // The everyday state of a per-row call on `s` addressing a row by `k`, checked inline
  // with no side effect: no statement observer, a usable transaction state (as usable()
  // finds it), `s` the table used last (as table_for finds it) and a key of the
  // table's width. Null otherwise: the call then takes its general path.
  [[gnu::always_inline]] auto everyday_table(const table_schema& s, const key_spec& k) -> table_state* {
    if (auto* t = everyday_table(s); t != nullptr && t->key_width != 0 && k.key.size() == t->key_width) [[likely]]
      return t;
    return nullptr;
  }
  // The same without a key. The transaction state is taken as usable() would find it
  // without asking SQLite: no commit or rollback hook has run since the last check
  // (see tx_may_have_ended_).
  [[gnu::always_inline]] auto everyday_table(const table_schema& s) -> table_state* {
    if (observer_ == nullptr && last_schema_ == &s && last_table_->hash == s.hash &&
        (tx_ == tx::none || (tx_ == tx::active && !tx_may_have_ended_))) [[likely]]
      return last_table_;
    return nullptr;
  }

  // Refuses to run while the caller believes a transaction is open that SQLite
  // has already rolled back. The everyday answer is inlined into every call.
  [[gnu::always_inline]] auto usable() -> status {
    if (tx_ == tx::none || (tx_ == tx::active && sqlite3_get_autocommit(db()) == 0)) [[likely]] {
      tx_may_have_ended_ = false;  // asked SQLite: it has not
      return {};
    }
    return check_usable();
  }

  // The connection's commit and rollback hooks: inside our transaction, either means it
  // may be over without us (our own COMMIT and ROLLBACK end it right after). The next
  // everyday call then takes its general path, whose usable() asks SQLite.
  static auto transaction_ending(void* self) noexcept -> int {
    auto* b = static_cast<backend*>(self);
    if (b->tx_ == tx::active) b->tx_may_have_ended_ = true;
    return 0;  // let the commit go on
  }
  static void transaction_rolled_back(void* self) noexcept { (void)transaction_ending(self); }
  [[gnu::noinline]] auto check_usable() -> status {
    if (tx_ == tx::active && sqlite3_get_autocommit(db()) != 0) {
      tx_ = tx::lost;
      lost_reason_ = "an earlier error";
      forget_tables_made_in_transaction();
    }
    if (tx_ == tx::lost)
      return unexpected(errc::transaction_state, "sqlite: the transaction was already rolled back by SQLite after " +
                                                     lost_reason_ + "; roll back and start again");
    return {};
  }

  void end_transaction(bool committed) {
    if (!committed) forget_tables_made_in_transaction();
    tables_made_in_tx_.clear();
    savepoints_.clear();
    lost_reason_.clear();
    tx_ = tx::none;
    tx_may_have_ended_ = false;
  }

  // DDL run inside a transaction is undone by its rollback: look again next time.
  void forget_tables_made_in_transaction() {
    for (const auto* s : tables_made_in_tx_) tables_.erase(s);
    last_schema_ = nullptr;
    last_table_ = nullptr;
    tables_made_in_tx_.clear();
  }

  auto find_savepoint(std::string_view name) const -> std::optional<std::size_t> {
    if (tx_ == tx::none) return std::nullopt;
    for (std::size_t i = savepoints_.size(); i-- > 0;)
      if (savepoints_[i] == name) return i;
    return std::nullopt;
  }

  auto acquire(const std::string& sql, lease& out, std::string_view context) -> status {
    if (int rc = conn_->cache.acquire(sql, out); rc != SQLITE_OK) return fail(rc, context);
    return {};
  }

  [[gnu::always_inline]] auto acquire_pinned(const std::string& sql, detail::statement_slot*& pin, lease& out,
                                             std::string_view context) -> status {
    if (int rc = conn_->cache.acquire_pinned(sql, pin, out); rc != SQLITE_OK) return fail(rc, context);
    return {};
  }

  static auto check_key(const table_schema& s, const key_spec& k) -> status {
    if (!s.primary_key.empty() && k.key.size() == s.primary_key.size()) [[likely]]
      return {};
    return bad_key(s, k);
  }
  [[gnu::noinline]] static auto bad_key(const table_schema& s, const key_spec& k) -> ormkit::error {
    if (s.primary_key.empty()) return {errc::unsupported, std::string(s.name) + ": the table has no primary key"};
    return {errc::invalid_argument, std::string(s.name) + ": key has " + std::to_string(k.key.size()) +
                                        " values for " + std::to_string(s.primary_key.size()) + " key columns"};
  }

  // Binds the key's values (and the version, when the statement checks it) from `first` on.
  [[gnu::always_inline]] auto bind_key(lease& st, const table_schema& s, const key_spec& k, int first) -> status {
    if (int rc = bind_key_values(st.get(), s, k, first); rc != SQLITE_OK) [[unlikely]]
      return fail(rc, s.name);
    return {};
  }
  // The same, giving SQLite's code: SQLITE_OK, or the first bind's failure.
  [[gnu::always_inline]] static auto bind_key_values(sqlite3_stmt* st, const table_schema& s, const key_spec& k,
                                                     int first) -> int {
    for (std::size_t i = 0; i < k.key.size(); ++i)
      if (int rc = detail::bind(st, first + static_cast<int>(i), k.key[i], false); rc != SQLITE_OK) [[unlikely]]
        return rc;
    if (k.version && s.version) return sqlite3_bind_int64(st, first + static_cast<int>(k.key.size()), *k.version);
    return SQLITE_OK;
  }

  // The failure exits of the everyday per-row paths (insert, get_key, update_key,
  // erase_key). Out of line and building the caller's result themselves, so that
  // moving an error is not inlined into those paths: they stay small, and so does
  // their share of the instruction cache.
  template <class T>
  [[gnu::noinline, gnu::cold]] auto failed(int rc, const table_schema& s) -> result<T> {
    return fail(rc, s.name);
  }
  template <class T>
  [[gnu::noinline, gnu::cold]] auto step_failed(int rc, const table_schema& s, const written_values& w = {})
      -> result<T> {
    return fail(rc, s.name, &s, w);
  }
  template <class T>
  [[gnu::noinline, gnu::cold]] static auto pass_on(status&& st) -> result<T> {
    return std::move(st).error();
  }

  // Runs a statement without values or results (transaction control, DDL).
  auto run(const std::string& sql, std::string_view context) -> status {
    lease st;
    if (int rc = conn_->cache.acquire(sql, st); rc != SQLITE_OK) return fail(rc, context, nullptr, {}, false);
    const auto start = observer_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    int rc = SQLITE_ROW;
    while (rc == SQLITE_ROW) rc = sqlite3_step(st.get());
    if (rc != SQLITE_DONE) {
      auto e = fail(rc, context, nullptr, {}, false);
      if (observer_) [[unlikely]]
        report(st, {}, 0, start, &e);
      return e;
    }
    if (observer_) [[unlikely]]
      report(st, {}, 0, start, nullptr);
    return {};
  }

  //=== statement observers (called only while observer_ is set) ===//

  // Each parameter as an observer sees it: `columns[i]` says which column of `s` it
  // belongs to (secret ones are redacted); missing or no_column: shown as is.
  static auto parameter_texts(const table_schema* s, std::span<const value_view> values,
                              std::span<const std::size_t> columns) -> std::vector<std::string> {
    std::vector<std::string> out;
    out.reserve(values.size());
    for (std::size_t i = 0; i < values.size(); ++i)
      out.push_back(parameter_text(s, i < columns.size() ? columns[i] : parameters::no_column, values[i]));
    return out;
  }

  void report(lease& st, const std::vector<std::string>& parameters, std::uint64_t rows,
              std::chrono::steady_clock::time_point start, const ormkit::error* failure) noexcept {
    const char* sql = sqlite3_sql(st.get());
    detail::notify(*observer_, sql ? sql : "", parameters, rows, start, failure);
  }

  // A keyed statement: the SET values (update), then the key, then the version.
  void report_keyed(lease& st, const table_schema& s, const key_spec& k, std::span<const std::size_t> columns,
                    std::span<const value_view> values, std::uint64_t rows,
                    std::chrono::steady_clock::time_point start, const ormkit::error* failure) noexcept {
    try {
      auto texts = parameter_texts(&s, values, columns);
      for (std::size_t i = 0; i < k.key.size(); ++i)
        texts.push_back(parameter_text(&s, s.primary_key[i], k.key[i]));
      if (k.version && s.version) texts.push_back(std::to_string(*k.version));
      report(st, texts, rows, start, failure);
    } catch (...) {  // NOLINT(bugprone-empty-catch): out of memory while describing; the statement has run
    }
  }

  void report_insert(lease& st, const table_schema& s, std::span<const value_view> r, bool generated, bool omits_key,
                     std::uint64_t rows, std::chrono::steady_clock::time_point start,
                     const ormkit::error* failure) noexcept {
    try {
      std::vector<std::string> texts;
      for (std::size_t i = 0; i < r.size(); ++i) {
        const bool key = generated && i == *s.auto_increment;
        if (key && omits_key) continue;
        texts.push_back(key ? std::string("NULL") : parameter_text(&s, i, r[i]));
      }
      report(st, texts, rows, start, failure);
    } catch (...) {  // NOLINT(bugprone-empty-catch): as above
    }
  }

  auto bind_all(lease& st, const table_schema& s, std::span<const value_view> values, bool copy, int first = 1)
      -> status {
    for (std::size_t i = 0; i < values.size(); ++i)
      if (int rc = detail::bind(st.get(), first + static_cast<int>(i), values[i], copy); rc != SQLITE_OK)
        return fail(rc, s.name);
    return {};
  }

  // Runs `sql` and collects every row as owning values.
  // `columns[i]`: the column of `s` parameter i belongs to (for statement observers).
  auto rows_of(const std::string& sql, std::span<const value_view> params, std::string_view context,
               const table_schema* s, std::span<const std::size_t> columns = {}) -> result<value_rows> {
    lease st;
    if (int rc = conn_->cache.acquire(sql, st); rc != SQLITE_OK) return fail(rc, context, s, {}, s != nullptr);
    for (std::size_t i = 0; i < params.size(); ++i)
      if (int rc = detail::bind(st.get(), static_cast<int>(i) + 1, params[i], false); rc != SQLITE_OK)
        return fail(rc, context);
    value_rows out;
    const int n = sqlite3_column_count(st.get());
    const auto start = observer_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    for (;;) {
      int rc = sqlite3_step(st.get());
      if (rc == SQLITE_DONE) {
        if (observer_) [[unlikely]]
          report(st, parameter_texts(s, params, columns), out.size(), start, nullptr);
        return out;
      }
      if (rc != SQLITE_ROW) {
        auto e = fail(rc, context, s, {}, s != nullptr);
        if (observer_) [[unlikely]]
          report(st, parameter_texts(s, params, columns), out.size(), start, &e);
        return e;
      }
      std::vector<value> r;
      r.reserve(static_cast<std::size_t>(n));
      for (int i = 0; i < n; ++i) r.push_back(own(detail::column_view(st.get(), i)));
      out.push_back(std::move(r));
    }
  }

  // Finds (or ensures and builds) the state of schema `s`; the last one used is found inline.
  [[gnu::always_inline]] auto table_for(const table_schema& s) -> result<table_state*> {
    if (last_schema_ == &s && last_table_->hash == s.hash) [[likely]]
      return last_table_;
    return find_table(s);
  }
  [[gnu::noinline]] auto find_table(const table_schema& s) -> result<table_state*> {
    if (auto it = tables_.find(&s); it != tables_.end() && it->second.hash == s.hash && it->second.name == s.name) {
      last_schema_ = &s;
      last_table_ = &it->second;
      return &it->second;
    }
    ORMKIT_TRY(ensure(s));
    table_state t;
    t.hash = s.hash;
    t.key_width = s.primary_key.size();
    t.width = s.columns.size();
    t.name = s.name;
    t.rowid = rowid_name(s);
    auto built = common::build_table_statements<detail::sql_dialect>(s);
    t.insert_sql = std::move(built.insert_sql);
    t.insert_generated_sql = std::move(built.insert_generated_sql);
    t.select_sql = std::move(built.select_sql);
    if (tx_ != tx::none) tables_made_in_tx_.push_back(&s);
    auto& slot = tables_[&s];
    slot = std::move(t);
    last_schema_ = &s;
    last_table_ = &slot;
    return &slot;
  }

  // CREATE TABLE / INDEX IF NOT EXISTS, unless a read of the schema shows them all
  // present already (so a read-only database with its tables works, and the
  // everyday first use takes no write lock).
  auto ensure(const table_schema& s) -> status {
    if (s.columns.empty())
      return unexpected(errc::invalid_argument, std::string(s.name) + ": a table needs at least one column");
    std::array<value_view, 1> name{std::string_view(s.name)};
    auto present = rows_of("SELECT name FROM sqlite_master WHERE tbl_name = ? AND type IN ('table', 'index')", name,
                           s.name, nullptr);
    if (!present) return std::move(present).error();
    auto has = [&](std::string_view n) {
      return std::any_of(present->begin(), present->end(), [&](const std::vector<value>& r) {
        const auto* v = r.empty() ? nullptr : std::get_if<std::string>(&r[0]);
        return v && *v == n;
      });
    };
    bool complete = has(s.name);
    for (const auto& ix : s.indexes) complete = complete && has(ix.name);
    if (complete) return {};
    // A read-only database cannot gain an index; the table is usable without it.
    if (has(s.name) && sqlite3_db_readonly(db(), "main") == 1) return {};

    const bool own = sqlite3_get_autocommit(db()) != 0;
    ORMKIT_TRY(run(own ? "BEGIN IMMEDIATE" : "SAVEPOINT ormkit_ensure", s.name));
    for (const auto& stmt : schema_sql(s)) {
      // DDL is prepared once per connection: keep it out of the cache.
      char* message = nullptr;
      int rc = sqlite3_exec(db(), stmt.c_str(), nullptr, nullptr, &message);
      sqlite3_free(message);
      if (rc != SQLITE_OK) {
        auto e = fail(rc, std::string(s.name) + ": cannot create the table or its indexes", nullptr, {}, false);
        undo_batch(own, s.name, "ormkit_ensure");
        return e;
      }
    }
    if (auto done = run(own ? "COMMIT" : "RELEASE ormkit_ensure", s.name); !done) {
      undo_batch(own, s.name, "ormkit_ensure");
      return done;
    }
    return {};
  }

  // Undoes a batch scope opened with BEGIN IMMEDIATE (`own`) or SAVEPOINT `name`,
  // unless SQLite already rolled everything back.
  void undo_batch(bool own, std::string_view context, const char* name = "ormkit_batch") {
    if (sqlite3_get_autocommit(db()) != 0) return;
    if (own) {
      (void)run("ROLLBACK", context);
      return;
    }
    (void)run(std::string("ROLLBACK TO ") + name, context);
    (void)run(std::string("RELEASE ") + name, context);
  }

  auto bad_column(const table_schema& s) -> ormkit::error { return common::bad_column(s); }

  // The memory backend's value check: NULL only where nullable, and the column's
  // storage class (an integer is accepted for a real). A plain bool, because it runs
  // for every value of every write and a `status` costs a string and a vector.
  static auto fits(const column_schema& col, const value_view& v) noexcept -> bool {
    if (v.index() == 0) return col.nullable;
    auto got = storage_of(v);
    return got == col.storage || (col.storage == storage::real && got == storage::integer);
  }

  // Why `v` does not fit column `c`, message for message as the memory backend.
  [[gnu::noinline, gnu::cold]] static auto misfit(const table_schema& s, std::size_t c, const value_view& v) -> ormkit::error {
    const auto& col = s.columns[c];
    std::string subject = std::string(s.name) + "." + std::string(col.name) + ": ";
    if (v.index() == 0) return {errc::invalid_argument, subject + "NULL in a NOT NULL column"};
    return {errc::invalid_argument, subject + "expected " + std::string(to_string(col.storage)) + ", got " +
                                        std::string(to_string(storage_of(v)))};
  }

  static auto generates_key(const table_schema& s, std::span<const value_view> r) -> bool {
    if (!s.auto_increment) return false;
    const auto* id = std::get_if<std::int64_t>(&r[*s.auto_increment]);
    return !id || *id == 0;
  }

  // The row's width; each value's fit to its column is checked as it is bound (insert_row).
  [[gnu::noinline]] static auto check_row(const table_schema& s, std::span<const value_view> r) -> status {
    if (r.size() != s.columns.size())
      return unexpected(errc::invalid_argument, std::string(s.name) + ": row has " + std::to_string(r.size()) +
                                                    " values for " + std::to_string(s.columns.size()) + " columns");
    return {};
  }

  // Binds and steps an INSERT (or upsert) of `r` on the leased statement. `generated`:
  // generates_key(s, r), worked out by the caller (which chose the statement by it).
  // `omits_key`: the statement has no parameter for the auto-increment column
  // (insert_generated_sql). Inlined into its callers: insert() is then one frame.
  [[gnu::always_inline]] auto insert_row(const table_schema& s, lease& st, std::span<const value_view> r,
                                         bool generated, bool omits_key = false) -> result<std::int64_t> {
    const std::size_t width = r.size();
    // The column SQLite fills in (none: the width), bound as NULL or, when the statement
    // has no parameter for it, skipped. The loop runs up to it, then on to the end.
    const std::size_t filled = generated ? *s.auto_increment : width;
    sqlite3_stmt* stmt = st.get();
    const column_schema* cols = s.columns.data();
    const value_view* values = r.data();
    std::size_t i = 0;
    std::size_t stop = filled;
    int index = 1;
    for (;;) {
      // Checked here, in the switch that binds, so a row is walked once. A value that does
      // not fit leaves earlier ones bound, which is harmless: every step rebinds them all.
      for (; i < stop; ++i)
        if (int rc = detail::bind_fitting(stmt, index++, cols[i], values[i]); rc != SQLITE_OK) [[unlikely]]
          return bind_failed(rc, s, i, r);
      if (i == width) break;
      if (!omits_key)
        if (int rc = sqlite3_bind_null(stmt, index++); rc != SQLITE_OK) [[unlikely]]
          return failed<std::int64_t>(rc, s);
      ++i;
      stop = width;
    }
    const auto start = observer_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    if (int rc = sqlite3_step(stmt); rc != SQLITE_DONE) [[unlikely]]
      return insert_failed(rc, st, s, r, generated, omits_key, start);
    if (observer_) [[unlikely]]
      report_insert(st, s, r, generated, omits_key, 1, start, nullptr);
    st.rewind();
    if (!s.auto_increment) return std::int64_t{0};
    if (generated) return static_cast<std::int64_t>(sqlite3_last_insert_rowid(db()));
    return std::get<std::int64_t>(r[*s.auto_increment]);
  }

  // insert_row's failure exits, out of line (see `failed`).
  [[gnu::noinline, gnu::cold]] auto bind_failed(int rc, const table_schema& s, std::size_t column,
                                                std::span<const value_view> r) -> result<std::int64_t> {
    if (rc == detail::misfit_rc) return misfit(s, column, r[column]);
    return fail(rc, s.name);
  }
  [[gnu::noinline, gnu::cold]] auto insert_failed(int rc, lease& st, const table_schema& s,
                                                  std::span<const value_view> r, bool generated, bool omits_key,
                                                  std::chrono::steady_clock::time_point start)
      -> result<std::int64_t> {
    auto e = fail(rc, s.name, &s, written_values{r, {}});
    if (observer_) [[unlikely]]
      report_insert(st, s, r, generated, omits_key, 0, start, &e);
    st.rewind();
    return e;
  }

  // The SELECT of `q` (built in sql_, with params_), checked out and bound in `st`.
  // Values are copied (SQLITE_TRANSIENT): a cursor outlives `q`.
  auto prepare_select(const table_schema& s, const query_spec& q, lease& st) -> status {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    sql_ = (*t)->select_sql;
    params_.clear();
    ORMKIT_TRY(append_where(sql_, s, q.where, params_));
    ORMKIT_TRY(append_order(sql_, s, q.order, (*t)->rowid));
    const bool paged = q.limit || q.offset > 0;
    if (paged) sql_ += " LIMIT ? OFFSET ?";
    ORMKIT_TRY(check_parameters(s));
    ORMKIT_TRY(acquire(sql_, st, s.name));
    ORMKIT_TRY(bind_all(st, s, params_.values, true));
    if (paged) {
      constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
      auto next = static_cast<int>(params_.values.size()) + 1;
      // LIMIT -1 is SQLite's "no limit".
      std::int64_t limit = q.limit ? static_cast<std::int64_t>(std::min(*q.limit, max)) : -1;
      auto offset = static_cast<std::int64_t>(std::min(q.offset, max));
      if (sqlite3_bind_int64(st.get(), next, limit) != SQLITE_OK ||
          sqlite3_bind_int64(st.get(), next + 1, offset) != SQLITE_OK)
        return fail(sqlite3_errcode(db()), s.name);
    }
    return {};
  }

  // Runs the UPDATE / DELETE in sql_ with params_; returns the rows changed.
  auto change(const table_schema& s, const written_values& w) -> result<std::uint64_t> {
    ORMKIT_TRY(check_parameters(s));
    lease st;
    ORMKIT_TRY(acquire(sql_, st, s.name));
    ORMKIT_TRY(bind_all(st, s, params_.values, false));
    const auto start = observer_ ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    int rc = sqlite3_step(st.get());
    if (rc != SQLITE_DONE) {
      auto e = fail(rc, s.name, &s, w);
      if (observer_) [[unlikely]]
        report(st, parameter_texts(&s, params_.values, params_.columns), 0, start, &e);
      return e;
    }
    const auto changed = static_cast<std::uint64_t>(sqlite3_changes64(db()));
    if (observer_) [[unlikely]]
      report(st, parameter_texts(&s, params_.values, params_.columns), changed, start, nullptr);
    return changed;
  }

  auto count_matching(const table_schema& s, const expr& filter) -> result<std::uint64_t> {
    sql_ = "SELECT COUNT(*) FROM ";
    append_identifier(sql_, s.name);
    params_.clear();
    ORMKIT_TRY(append_where(sql_, s, filter, params_));
    auto rows = rows_of(sql_, params_.values, s.name, &s, params_.columns);
    if (!rows) return std::move(rows).error();
    const auto* n = rows->empty() || rows->front().empty() ? nullptr : std::get_if<std::int64_t>(&rows->front()[0]);
    return n ? static_cast<std::uint64_t>(*n) : std::uint64_t{0};
  }

  // SQLite refuses statements with more `?` than SQLITE_LIMIT_VARIABLE_NUMBER
  // (32766 by default); say so in ormkit's words.
  auto check_parameters(const table_schema& s) -> status {
    if (params_.values.size() + 2 <= 999) return {};  // below every SQLite's limit: skip the call
    const int limit = sqlite3_limit(db(), SQLITE_LIMIT_VARIABLE_NUMBER, -1);
    if (params_.values.size() + 2 > static_cast<std::size_t>(limit))
      return unexpected(errc::invalid_argument, std::string(s.name) + ": the query has " +
                                                    std::to_string(params_.values.size()) +
                                                    " values, more than SQLite's limit of " + std::to_string(limit) +
                                                    " bound parameters; split it");
    return {};
  }

  // What every per-row call reads first (see everyday_table), together at the start of
  // the object: one cache line rather than four.
  // The last table used: most calls in a row are on one table.
  const table_schema* last_schema_ = nullptr;
  table_state* last_table_ = nullptr;
  sqlite3* db_ = nullptr;                   // conn_->db(), here as well
  statement_observer* observer_ = nullptr;  // options::observer, then what observe_statements says
  tx tx_ = tx::none;
  // Set by the commit and rollback hooks inside a transaction; cleared when usable()
  // has asked SQLite (sqlite3_get_autocommit) or the transaction ends. While it is
  // clear, the everyday calls need not ask SQLite on every row.
  bool tx_may_have_ended_ = false;
  std::shared_ptr<detail::connection> conn_;

  options opts_;
  std::string journal_mode_;
  std::string lost_reason_;
  std::vector<std::string> savepoints_;
  std::unordered_map<const table_schema*, table_state> tables_;
  std::vector<const table_schema*> tables_made_in_tx_;
  // Reused for every generated statement: no allocation once they have grown.
  std::string sql_;
  parameters params_;
};

static_assert(ormkit::backend<backend>);

}  // namespace ormkit::sqlite
