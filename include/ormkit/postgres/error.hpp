// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/postgres/error.hpp
//
// PostgreSQL SQLSTATEs in ormkit's error vocabulary. `errc_of` maps a SQLSTATE to
// the `errc` callers handle; the backend keeps the SQLSTATE itself in
// `error::native` (with the constraint name, when the server names one, after a
// space: "23505 uq_users_email"), so a caller can still tell a serialization
// failure (40001) from a deadlock (40P01).
//
// Retryable failures are `errc::busy`: serialization failure, deadlock, lock not
// available. `ormkit::transact` retries busy by policy, so a transaction that loses
// a serialization race runs again from the start. A connection that fails or closes
// is `errc::unavailable` (also retried); when that happens while a COMMIT is in
// flight the outcome is `errc::commit_unknown`, which is never retried blindly.
//
// Example:
//
//   ormkit::postgres::errc_of("40001");   // errc::busy
//   ormkit::postgres::errc_of("23505");   // errc::conflict

#include <ormkit/error.hpp>

#include <string_view>

namespace ormkit::postgres {

/// Maps a five-character SQLSTATE to an `errc`:
/// - 23505 unique, 23503 foreign key, 23514 check, 23P01 exclusion → conflict;
///   23502 not null → invalid_argument;
/// - 40001 serialization failure, 40P01 deadlock, 55P03 lock not available → busy;
/// - 57014 query canceled (statement_timeout) → timeout;
/// - class 08 (connection exception), 57P01-57P03 (shutdown, crash, starting up),
///   53300 too many connections → unavailable;
/// - 53100 disk full → full; other class 53 → unavailable;
/// - class 22 (data exception), class 54 (program limit) → invalid_argument;
/// - 42P01 undefined table, 42703 undefined column → schema_mismatch;
/// - class 28 (invalid authorization), 3D000 invalid catalog name → cannot_open;
/// - class 25 (invalid transaction state) → transaction_state, except 25006 → readonly;
/// - XX001, XX002 (data or index corrupted) → corrupt; 58030 → io_error;
/// - anything else → backend_error.
[[nodiscard]] constexpr auto errc_of(std::string_view sqlstate) noexcept -> errc {
  if (sqlstate.size() != 5) return errc::backend_error;
  const std::string_view cls = sqlstate.substr(0, 2);
  if (sqlstate == "23502") return errc::invalid_argument;
  if (cls == "23") return errc::conflict;
  if (sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03") return errc::busy;
  if (sqlstate == "57014") return errc::timeout;
  if (cls == "08" || sqlstate == "57P01" || sqlstate == "57P02" || sqlstate == "57P03") return errc::unavailable;
  if (sqlstate == "53100") return errc::full;
  if (cls == "53") return errc::unavailable;
  if (cls == "22" || cls == "54") return errc::invalid_argument;
  if (sqlstate == "42P01" || sqlstate == "42703") return errc::schema_mismatch;
  if (cls == "28" || sqlstate == "3D000") return errc::cannot_open;
  if (sqlstate == "25006") return errc::readonly;
  if (cls == "25") return errc::transaction_state;
  if (sqlstate == "XX001" || sqlstate == "XX002") return errc::corrupt;
  if (sqlstate == "58030") return errc::io_error;
  return errc::backend_error;
}

/// True for the SQLSTATEs after which running the same transaction again may succeed
/// (serialization failure, deadlock, lock not available).
[[nodiscard]] constexpr auto is_retryable(std::string_view sqlstate) noexcept -> bool {
  return sqlstate == "40001" || sqlstate == "40P01" || sqlstate == "55P03";
}

}  // namespace ormkit::postgres
