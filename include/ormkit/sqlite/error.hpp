// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/sqlite/error.hpp
//
// SQLite result codes in ormkit's error vocabulary. Every SQLite failure the
// backend reports goes through `make_error`: the category (`errc`) comes from
// the extended result code, `error::native` keeps that code as
// "<number> <symbolic name>" (for logs and for telling, say, BUSY_SNAPSHOT from
// BUSY), and unique-key failures are rewritten into the memory backend's
// message shape so that both backends report a conflict the same way.
//
// Example:
//
//   auto e = ormkit::sqlite::make_error(SQLITE_BUSY, "users: database is locked");
//   e.is(ormkit::errc::busy);   // true
//   e.native;                   // "5 SQLITE_BUSY"

#include <ormkit/error.hpp>
#include <ormkit/schema.hpp>
#include <ormkit/value.hpp>

#include <sqlite3.h>

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ormkit::sqlite {

/// Returns the symbolic name of a primary or extended result code
/// ("SQLITE_CONSTRAINT_UNIQUE"), or "SQLITE_UNKNOWN" for a code this SQLite
/// version does not define.
[[nodiscard]] inline auto code_name(int code) noexcept -> std::string_view {
  // One case per code of SQLite 3.40; the #ifdefs keep older headers building.
#define ORMKIT_SQLITE_CODE(x) \
  case x: return #x;
  switch (code) {
    ORMKIT_SQLITE_CODE(SQLITE_OK)
    ORMKIT_SQLITE_CODE(SQLITE_ERROR)
    ORMKIT_SQLITE_CODE(SQLITE_INTERNAL)
    ORMKIT_SQLITE_CODE(SQLITE_PERM)
    ORMKIT_SQLITE_CODE(SQLITE_ABORT)
    ORMKIT_SQLITE_CODE(SQLITE_BUSY)
    ORMKIT_SQLITE_CODE(SQLITE_LOCKED)
    ORMKIT_SQLITE_CODE(SQLITE_NOMEM)
    ORMKIT_SQLITE_CODE(SQLITE_READONLY)
    ORMKIT_SQLITE_CODE(SQLITE_INTERRUPT)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR)
    ORMKIT_SQLITE_CODE(SQLITE_CORRUPT)
    ORMKIT_SQLITE_CODE(SQLITE_NOTFOUND)
    ORMKIT_SQLITE_CODE(SQLITE_FULL)
    ORMKIT_SQLITE_CODE(SQLITE_CANTOPEN)
    ORMKIT_SQLITE_CODE(SQLITE_PROTOCOL)
    ORMKIT_SQLITE_CODE(SQLITE_EMPTY)
    ORMKIT_SQLITE_CODE(SQLITE_SCHEMA)
    ORMKIT_SQLITE_CODE(SQLITE_TOOBIG)
    ORMKIT_SQLITE_CODE(SQLITE_CONSTRAINT)
    ORMKIT_SQLITE_CODE(SQLITE_MISMATCH)
    ORMKIT_SQLITE_CODE(SQLITE_MISUSE)
    ORMKIT_SQLITE_CODE(SQLITE_NOLFS)
    ORMKIT_SQLITE_CODE(SQLITE_AUTH)
    ORMKIT_SQLITE_CODE(SQLITE_FORMAT)
    ORMKIT_SQLITE_CODE(SQLITE_RANGE)
    ORMKIT_SQLITE_CODE(SQLITE_NOTADB)
    ORMKIT_SQLITE_CODE(SQLITE_NOTICE)
    ORMKIT_SQLITE_CODE(SQLITE_WARNING)
    ORMKIT_SQLITE_CODE(SQLITE_ROW)
    ORMKIT_SQLITE_CODE(SQLITE_DONE)
    ORMKIT_SQLITE_CODE(SQLITE_ERROR_MISSING_COLLSEQ)
    ORMKIT_SQLITE_CODE(SQLITE_ERROR_RETRY)
    ORMKIT_SQLITE_CODE(SQLITE_ERROR_SNAPSHOT)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_READ)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_SHORT_READ)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_WRITE)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_FSYNC)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_DIR_FSYNC)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_TRUNCATE)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_FSTAT)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_UNLOCK)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_RDLOCK)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_DELETE)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_BLOCKED)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_NOMEM)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_ACCESS)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_CHECKRESERVEDLOCK)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_LOCK)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_CLOSE)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_DIR_CLOSE)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_SHMOPEN)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_SHMSIZE)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_SHMLOCK)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_SHMMAP)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_SEEK)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_DELETE_NOENT)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_MMAP)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_GETTEMPPATH)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_CONVPATH)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_VNODE)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_AUTH)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_BEGIN_ATOMIC)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_COMMIT_ATOMIC)
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_ROLLBACK_ATOMIC)
#ifdef SQLITE_IOERR_DATA
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_DATA)
#endif
#ifdef SQLITE_IOERR_CORRUPTFS
    ORMKIT_SQLITE_CODE(SQLITE_IOERR_CORRUPTFS)
#endif
    ORMKIT_SQLITE_CODE(SQLITE_LOCKED_SHAREDCACHE)
    ORMKIT_SQLITE_CODE(SQLITE_LOCKED_VTAB)
    ORMKIT_SQLITE_CODE(SQLITE_BUSY_RECOVERY)
    ORMKIT_SQLITE_CODE(SQLITE_BUSY_SNAPSHOT)
#ifdef SQLITE_BUSY_TIMEOUT
    ORMKIT_SQLITE_CODE(SQLITE_BUSY_TIMEOUT)
#endif
    ORMKIT_SQLITE_CODE(SQLITE_CANTOPEN_NOTEMPDIR)
    ORMKIT_SQLITE_CODE(SQLITE_CANTOPEN_ISDIR)
    ORMKIT_SQLITE_CODE(SQLITE_CANTOPEN_FULLPATH)
    ORMKIT_SQLITE_CODE(SQLITE_CANTOPEN_CONVPATH)
#ifdef SQLITE_CANTOPEN_SYMLINK
    ORMKIT_SQLITE_CODE(SQLITE_CANTOPEN_SYMLINK)
#endif
    ORMKIT_SQLITE_CODE(SQLITE_CORRUPT_VTAB)
#ifdef SQLITE_CORRUPT_SEQUENCE
    ORMKIT_SQLITE_CODE(SQLITE_CORRUPT_SEQUENCE)
#endif
#ifdef SQLITE_CORRUPT_INDEX
    ORMKIT_SQLITE_CODE(SQLITE_CORRUPT_INDEX)
#endif
    ORMKIT_SQLITE_CODE(SQLITE_READONLY_RECOVERY)
    ORMKIT_SQLITE_CODE(SQLITE_READONLY_CANTLOCK)
    ORMKIT_SQLITE_CODE(SQLITE_READONLY_ROLLBACK)
    ORMKIT_SQLITE_CODE(SQLITE_READONLY_DBMOVED)
#ifdef SQLITE_READONLY_CANTINIT
    ORMKIT_SQLITE_CODE(SQLITE_READONLY_CANTINIT)
#endif
#ifdef SQLITE_READONLY_DIRECTORY
    ORMKIT_SQLITE_CODE(SQLITE_READONLY_DIRECTORY)
#endif
    ORMKIT_SQLITE_CODE(SQLITE_ABORT_ROLLBACK)
    ORMKIT_SQLITE_CODE(SQLITE_CONSTRAINT_CHECK)
    ORMKIT_SQLITE_CODE(SQLITE_CONSTRAINT_COMMITHOOK)
    ORMKIT_SQLITE_CODE(SQLITE_CONSTRAINT_FOREIGNKEY)
    ORMKIT_SQLITE_CODE(SQLITE_CONSTRAINT_FUNCTION)
    ORMKIT_SQLITE_CODE(SQLITE_CONSTRAINT_NOTNULL)
    ORMKIT_SQLITE_CODE(SQLITE_CONSTRAINT_PRIMARYKEY)
    ORMKIT_SQLITE_CODE(SQLITE_CONSTRAINT_TRIGGER)
    ORMKIT_SQLITE_CODE(SQLITE_CONSTRAINT_UNIQUE)
    ORMKIT_SQLITE_CODE(SQLITE_CONSTRAINT_VTAB)
    ORMKIT_SQLITE_CODE(SQLITE_CONSTRAINT_ROWID)
#ifdef SQLITE_CONSTRAINT_PINNED
    ORMKIT_SQLITE_CODE(SQLITE_CONSTRAINT_PINNED)
#endif
#ifdef SQLITE_CONSTRAINT_DATATYPE
    ORMKIT_SQLITE_CODE(SQLITE_CONSTRAINT_DATATYPE)
#endif
    ORMKIT_SQLITE_CODE(SQLITE_NOTICE_RECOVER_WAL)
    ORMKIT_SQLITE_CODE(SQLITE_NOTICE_RECOVER_ROLLBACK)
    ORMKIT_SQLITE_CODE(SQLITE_WARNING_AUTOINDEX)
    ORMKIT_SQLITE_CODE(SQLITE_AUTH_USER)
    ORMKIT_SQLITE_CODE(SQLITE_OK_LOAD_PERMANENTLY)
#ifdef SQLITE_OK_SYMLINK
    ORMKIT_SQLITE_CODE(SQLITE_OK_SYMLINK)
#endif
    default: return "SQLITE_UNKNOWN";
  }
#undef ORMKIT_SQLITE_CODE
}

/// Returns what `error::native` holds for `code`: "2067 SQLITE_CONSTRAINT_UNIQUE".
[[nodiscard]] inline auto native_code(int code) -> std::string {
  return std::to_string(code) + " " + std::string(code_name(code));
}

/// Maps a (primary or extended) result code to an `errc`:
/// unique / primary key / foreign key and other constraints → conflict, except
/// NOT NULL, CHECK and datatype → invalid_argument; BUSY and LOCKED → busy;
/// READONLY → readonly; FULL → full; CORRUPT and NOTADB → corrupt; CANTOPEN →
/// cannot_open; IOERR → io_error; TOOBIG, RANGE, MISMATCH → invalid_argument;
/// anything else → backend_error.
[[nodiscard]] constexpr auto errc_of(int code) noexcept -> errc {
  switch (code) {
    case SQLITE_CONSTRAINT_NOTNULL:
    case SQLITE_CONSTRAINT_CHECK:
#ifdef SQLITE_CONSTRAINT_DATATYPE
    case SQLITE_CONSTRAINT_DATATYPE:
#endif
      return errc::invalid_argument;
    default: break;
  }
  switch (code & 0xff) {
    case SQLITE_CONSTRAINT: return errc::conflict;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return errc::busy;
    case SQLITE_READONLY: return errc::readonly;
    case SQLITE_FULL: return errc::full;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return errc::corrupt;
    case SQLITE_CANTOPEN: return errc::cannot_open;
    case SQLITE_IOERR: return errc::io_error;
    case SQLITE_TOOBIG:
    case SQLITE_RANGE:
    case SQLITE_MISMATCH: return errc::invalid_argument;
    default: return errc::backend_error;
  }
}

/// True for the codes after which SQLite may already have rolled the whole
/// transaction back (FULL, IOERR, BUSY, NOMEM: reliability.md finding 3). The
/// backend does not rely on this list: after every failure inside a transaction it
/// asks `sqlite3_get_autocommit` (a field read), which covers these and any other.
[[nodiscard]] constexpr auto may_roll_back(int code) noexcept -> bool {
  const int primary = code & 0xff;
  return primary == SQLITE_FULL || primary == SQLITE_IOERR || primary == SQLITE_BUSY || primary == SQLITE_NOMEM;
}

/// True for failures of the environment (file, disk, locks) rather than of the
/// statement; their messages name the database file.
[[nodiscard]] constexpr auto is_environmental(int code) noexcept -> bool {
  switch (errc_of(code)) {
    case errc::busy:
    case errc::readonly:
    case errc::full:
    case errc::corrupt:
    case errc::cannot_open:
    case errc::io_error: return true;
    default: return false;
  }
}

/// Builds the error for a SQLite failure: `errc_of(code)`, `message` as given,
/// `native_code(code)`.
[[nodiscard]] inline auto make_error(int code, std::string message) -> ormkit::error {
  return {errc_of(code), std::move(message), native_code(code)};
}

/// The values a failed write tried to store, for conflict messages: either a
/// whole row in table order (`columns` empty) or `values[i]` for column
/// `columns[i]` (an UPDATE's SET list).
struct written_values {
  std::span<const value_view> values;
  std::span<const std::size_t> columns;

  /// The value written to column `c`, if this write set it.
  [[nodiscard]] auto find(std::size_t c) const -> const value_view* {
    if (columns.empty()) return c < values.size() ? &values[c] : nullptr;
    for (std::size_t i = 0; i < columns.size() && i < values.size(); ++i)
      if (columns[i] == c) return &values[i];
    return nullptr;
  }
};

/// Rewrites SQLite's "UNIQUE constraint failed: users.email" into the memory
/// backend's wording: `users.email: value "a@b.c" already exists (uq_users_email)`,
/// with `(primary key)` for the primary key, `users.(a, b): value ("x", 1) ...` for
/// a composite key, `<secret>` for secret columns. When a value is not known (an
/// UPDATE that did not set every key column) the value part is left out:
/// `users.email: value already exists (uq_users_email)`. Returns nothing when
/// `sqlite_message` names columns that `s` does not have.
[[nodiscard]] inline auto unique_conflict(const table_schema& s, std::string_view sqlite_message,
                                          const written_values& written, int code)
    -> std::optional<ormkit::error> {
  auto colon = sqlite_message.find(": ");
  if (colon == std::string_view::npos) return std::nullopt;
  std::string_view list = sqlite_message.substr(colon + 2);
  std::vector<std::size_t> cols;
  while (!list.empty()) {
    auto comma = list.find(", ");
    std::string_view item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 2);
    // "table.column"; the table part is the one we wrote to, so only the column matters.
    auto dot = item.find('.');
    auto c = s.find(dot == std::string_view::npos ? item : item.substr(dot + 1));
    if (!c) return std::nullopt;
    cols.push_back(*c);
  }
  if (cols.empty()) return std::nullopt;

  std::string what;
  if (cols == s.primary_key) what = "primary key";
  for (const auto& ix : s.indexes)
    if (what.empty() && ix.unique && ix.columns == cols) what = ix.name;
  if (what.empty()) what = "unique key";

  std::string subject = std::string(s.name) + ".";
  std::string shown;
  bool known = true;
  if (cols.size() > 1) subject += "(", shown += "(";
  for (std::size_t i = 0; i < cols.size(); ++i) {
    if (i) subject += ", ", shown += ", ";
    const auto& col = s.columns[cols[i]];
    subject += col.name;
    const value_view* v = written.find(cols[i]);
    if (!v) known = false;
    else shown += col.has(column_flags::secret) ? std::string("<secret>") : to_display(*v);
  }
  if (cols.size() > 1) subject += ")", shown += ")";
  std::string message = subject + ": value " + (known ? shown + " " : std::string()) + "already exists (" + what + ")";
  return ormkit::error(errc::conflict, std::move(message), native_code(code));
}

}  // namespace ormkit::sqlite
