// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/postgres/connection.hpp
//
// One libpq connection with client-side deadlines: the layer under the PostgreSQL
// backend. Every exchange with the server is non-blocking libpq driven by poll(2)
// against a deadline, because a stopped server does not time out by itself: over
// loopback the kernel still acknowledges the bytes, and statement_timeout needs a
// running server (reliability.md finding 8). When a deadline passes the connection
// is closed (errc::timeout) and reopened by the next call. libpq 15's PQcancel would
// block without a deadline of its own on a stopped postmaster, so it is not used;
// instead every session sets `client_connection_check_interval`, with which the
// server ends the work of a client that went away even while a query runs.
//
// The short path of calls by key (`run_prepared`) waits with the ppoll system call on
// Linux, which reports the time left of its timeout: no clock is read unless a second
// wait is needed.
//
// Values travel as bound parameters in binary form, typed by the column they are
// written to or compared with (int8, float8, bool, text, bytea, timestamptz, jsonb);
// results come back in binary form and are read in place (text and bytea views point
// into the libpq result). Statements are prepared once per connection and kept in a
// cache keyed by their text and parameter types.
//
// Text reaches PostgreSQL only when it is valid UTF-8 without NUL bytes (the server
// rejects both; reliability.md finding 14); otherwise the call fails before anything
// is sent, naming the column and the byte offset.
//
// Passwords never appear in a message: errors name the host, port, database and
// user, and libpq's own text only where it cannot contain the password.

#include <ormkit/error.hpp>
#include <ormkit/postgres/error.hpp>
#include <ormkit/result.hpp>
#include <ormkit/schema.hpp>
#include <ormkit/statement_observer.hpp>
#include <ormkit/value.hpp>

#include <libpq-fe.h>
#include <poll.h>

// The first wait of a call by key reads no clock where the ppoll system call reports the
// time left of its timeout (Linux, with a 64-bit timespec; see connection::first_wait).
#if !defined(ORMKIT_POSTGRES_PPOLL)
#if defined(__linux__) && defined(__LP64__)
#define ORMKIT_POSTGRES_PPOLL 1
#else
#define ORMKIT_POSTGRES_PPOLL 0
#endif
#endif
#if ORMKIT_POSTGRES_PPOLL
#include <sys/syscall.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ormkit::postgres {

/// Transaction isolation levels (`SET TRANSACTION ISOLATION LEVEL ...`).
enum class isolation { read_committed, repeatable_read, serializable };

/// How a write inside an open transaction is kept from aborting it when it fails.
enum class write_guard {
  /// Every write (insert, update, erase, upsert, and the batches) runs under a savepoint of
  /// its own: SAVEPOINT, the statement and RELEASE travel in one pipeline (one round trip;
  /// a failure costs a second one, for ROLLBACK TO). A failed write (a unique-key conflict,
  /// say) changes nothing and the transaction goes on, as on the memory and SQLite backends:
  /// the backend contract the conformance suite checks. The default.
  savepoint,
  /// No savepoint of ormkit's: each write is just its statement, which costs the client and
  /// the server less, and a long transaction never overflows the server's cache of 64
  /// subtransactions per backend (past it every snapshot reads pg_subtrans). PostgreSQL's own
  /// rule applies instead: a failed write (or a failed read) aborts the whole transaction.
  /// The failing call returns its own error (errc::conflict, ...); every later call in that
  /// transaction, reads too, is refused with errc::transaction_state before anything is sent,
  /// until `rollback()` (or `rollback_to` a savepoint of the caller's, opened before the
  /// failure); `commit()` rolls it back and says so. `insert_many` then cannot say which
  /// batch item failed a COPY (it cannot run the batch again row by row): its error names no
  /// item. Choose it for transactions that do not recover from a failed write by going on.
  /// Outside a transaction both modes are the same (each statement is atomic on its own).
  native,
};

/// How to connect.
struct options {
  /// A libpq connection string, "host=db.example port=5432 dbname=app user=app" or a URI
  /// "postgresql://app@db.example/app?sslmode=verify-full". TLS and every other libpq
  /// setting pass through unchanged. A password in it is used, never shown.
  std::string conninfo;
  /// The schema tables are created in and looked up from (`SET search_path`); empty keeps
  /// the server's default (usually "public").
  std::string schema;
  /// Deadline for opening a connection (DNS, TCP, TLS, authentication).
  std::chrono::milliseconds connect_timeout{5000};
  /// Client-side deadline of every call: past it the call returns errc::timeout and the
  /// connection is closed (the next call opens a new one), even when the server is stopped.
  std::chrono::milliseconds call_timeout{30000};
  /// Server-side `statement_timeout` (0: the server's default). A statement running longer
  /// is canceled by the server: errc::timeout, SQLSTATE 57014, the connection stays usable.
  std::chrono::milliseconds statement_timeout{0};
  /// Isolation of transactions begun with `begin()`.
  isolation default_isolation = isolation::read_committed;
  /// Prepared statements kept per connection (least recently used ones are deallocated).
  std::size_t statement_cache = 256;
  /// Told about every statement the connection runs (not owned; see statement_observer.hpp).
  statement_observer* observer = nullptr;
  /// How writes inside a transaction are guarded (see `write_guard`); a pool's connections
  /// all use its `connection.write_guard`.
  postgres::write_guard write_guard = postgres::write_guard::savepoint;
};

namespace oid {
// Built-in type OIDs (src/include/catalog/pg_type.dat); stable across server versions.
inline constexpr Oid boolean = 16;
inline constexpr Oid bytea = 17;
inline constexpr Oid char_ = 18;
inline constexpr Oid name = 19;
inline constexpr Oid int8 = 20;
inline constexpr Oid int2 = 21;
inline constexpr Oid int4 = 23;
inline constexpr Oid text = 25;
inline constexpr Oid oid = 26;
inline constexpr Oid json = 114;
inline constexpr Oid float4 = 700;
inline constexpr Oid float8 = 701;
inline constexpr Oid bpchar = 1042;
inline constexpr Oid varchar = 1043;
inline constexpr Oid timestamp = 1114;
inline constexpr Oid timestamptz = 1184;
inline constexpr Oid jsonb = 3802;
}  // namespace oid

/// The PostgreSQL type a column is stored as, from its `sql_kind` and storage class.
[[nodiscard]] constexpr auto column_oid(const column_schema& c) noexcept -> Oid {
  switch (c.storage) {
    case storage::integer:
      if (c.kind == sql_kind::boolean) return oid::boolean;
      if (c.kind == sql_kind::timestamp) return oid::timestamptz;
      return oid::int8;
    case storage::real: return oid::float8;
    case storage::text: return c.kind == sql_kind::json ? oid::jsonb : oid::text;
    case storage::blob: return oid::bytea;
    case storage::null: break;
  }
  return oid::text;
}

/// The parameter type for a value of storage class `s` with no column to follow.
[[nodiscard]] constexpr auto storage_oid(storage s) noexcept -> Oid {
  switch (s) {
    case storage::integer: return oid::int8;
    case storage::real: return oid::float8;
    case storage::blob: return oid::bytea;
    default: return oid::text;
  }
}

/// Microseconds between 1970-01-01 and 2000-01-01, PostgreSQL's timestamp epoch.
inline constexpr std::int64_t epoch_offset_us = 946'684'800'000'000;
/// The earliest instant a timestamptz holds (4714-11-24 BC), in microseconds since 1970.
inline constexpr std::int64_t min_timestamp_us = -211'813'488'000'000'000 + epoch_offset_us;

namespace detail {

/// The byte offset of the first invalid UTF-8 sequence in `s`, or npos (overlongs,
/// surrogates and code points above U+10FFFF are invalid, as PostgreSQL says).
[[nodiscard]] inline auto invalid_utf8_at(std::string_view s) noexcept -> std::size_t {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const std::size_t n = s.size();
  std::size_t i = 0;
  while (i < n) {
    // Eight ASCII bytes at a time (most text is ASCII).
    while (n - i >= 8) {
      std::uint64_t word = 0;
      std::memcpy(&word, p + i, 8);
      if ((word & 0x8080808080808080u) != 0) break;
      i += 8;
    }
    if (i >= n) break;
    const unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c == 0xe0) len = 3, lo = 0xa0;
    else if (c >= 0xe1 && c <= 0xec) len = 3;
    else if (c == 0xed) len = 3, hi = 0x9f;
    else if (c >= 0xee && c <= 0xef) len = 3;
    else if (c == 0xf0) len = 4, lo = 0x90;
    else if (c >= 0xf1 && c <= 0xf3) len = 4;
    else if (c == 0xf4) len = 4, hi = 0x8f;
    else return i;
    if (i + len > n) return i;
    if (p[i + 1] < lo || p[i + 1] > hi) return i;
    for (std::size_t k = 2; k < len; ++k)
      if (p[i + k] < 0x80 || p[i + k] > 0xbf) return i;
    i += len;
  }
  return std::string_view::npos;
}

/// Whether `s` can be PostgreSQL text (valid UTF-8, no NUL byte): one pass, eight ASCII
/// bytes at a time, the rest by `text_problem`'s rules. The check of every text value bound.
[[nodiscard]] inline auto storable_text(std::string_view s) noexcept -> bool {
  const char* p = s.data();
  std::size_t n = s.size();
  constexpr std::uint64_t ones = 0x0101010101010101u, highs = 0x8080808080808080u;
  while (n >= 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, p, 8);
    // A byte with its high bit set (not ASCII), or a zero byte: the careful path from here.
    if (((word | ((word - ones) & ~word)) & highs) != 0) break;
    p += 8;
    n -= 8;
  }
  for (std::size_t i = 0; i < n; ++i) {  // the last few bytes, while they are ASCII
    const auto c = static_cast<unsigned char>(p[i]);
    if (c == 0) return false;
    if (c >= 0x80) {
      const std::string_view rest(p + i, n - i);  // starts on a character boundary: all before is ASCII
      return rest.find('\0') == std::string_view::npos && invalid_utf8_at(rest) == std::string_view::npos;
    }
  }
  return true;
}

/// Why `s` cannot be PostgreSQL text, or empty when it can.
[[nodiscard]] inline auto text_problem(std::string_view s) -> std::string {
  if (auto z = s.find('\0'); z != std::string_view::npos)
    return "text contains a NUL byte at offset " + std::to_string(z) +
           ", which PostgreSQL text cannot store (use a byte-vector column for binary data)";
  if (auto b = invalid_utf8_at(s); b != std::string_view::npos)
    return "text is not valid UTF-8 at byte offset " + std::to_string(b) +
           ", which PostgreSQL text cannot store (use a byte-vector column for binary data)";
  return {};
}

// Network byte order, one load or store and a byte swap (the loops they replace cost a
// few dozen instructions per value on the per-row path).
[[nodiscard]] constexpr auto to_big_endian(std::uint64_t v) noexcept -> std::uint64_t {
  if constexpr (std::endian::native == std::endian::big) {
    return v;
  } else {
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_bswap64(v);
#else
    std::uint64_t out = 0;
    for (int i = 0; i < 8; ++i, v >>= 8) out = (out << 8) | (v & 0xffu);
    return out;
#endif
  }
}

inline void put_be64(char* out, std::uint64_t v) noexcept {
  v = to_big_endian(v);
  std::memcpy(out, &v, 8);
}

/// The big-endian unsigned number in the `n` (1 to 8) bytes at `p`.
[[nodiscard]] inline auto get_be(const char* p, int n) noexcept -> std::uint64_t {
  if (n == 8) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, 8);
    return to_big_endian(v);
  }
  std::uint64_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

struct result_deleter {
  void operator()(PGresult* r) const noexcept { PQclear(r); }
};

}  // namespace detail

/// An owned libpq result.
using result_ptr = std::unique_ptr<PGresult, detail::result_deleter>;

/// The bound parameters of one statement, in binary form. Text and bytea point at the
/// caller's data (which must live until the statement has run); numbers are encoded
/// into storage the object owns.
class parameters {
 public:
  void clear() {
    types_.clear();
    values_.clear();
    lengths_.clear();
    // The number slots are reused (their addresses stay valid in the deque): no node freed
    // and allocated again per statement; a large batch's slots are let go.
    if (scratch_used_ > 1024) scratch_.clear();
    scratch_used_ = 0;
    if (!owned_.empty()) owned_.clear();
    if (!shown_.empty()) shown_.clear();
  }
  /// While on, each added value is also kept as display text for statement observers,
  /// `secret` columns redacted: the column is the one `add_column` names, or the one
  /// `subject` ("<table>.<column>") names in `table` (see `for_table`).
  void describe(bool on) noexcept { describing_ = on; }
  [[nodiscard]] auto describing() const noexcept -> bool { return describing_; }
  /// The table whose columns `subject`s name (for redaction while describing).
  void for_table(const table_schema* s) noexcept { table_ = s; }
  /// The display text of each value added while describing (else empty).
  [[nodiscard]] auto shown() const noexcept -> std::span<const std::string> { return shown_; }
  [[nodiscard]] auto size() const noexcept -> std::size_t { return types_.size(); }
  /// Keeps `text` alive as long as the parameters (for values the SQL generator derives).
  auto keep(std::string text) -> std::string_view { return owned_.emplace_back(std::move(text)); }
  [[nodiscard]] auto types() const noexcept -> std::span<const Oid> { return types_; }
  [[nodiscard]] auto values() const noexcept -> const char* const* { return values_.data(); }
  [[nodiscard]] auto lengths() const noexcept -> const int* { return lengths_.data(); }
  [[nodiscard]] auto formats() const -> const int* {
    if (formats_.size() < types_.size()) formats_.resize(types_.size(), 1);
    return formats_.data();
  }

  /// Adds `v` as a parameter of type `type`. `subject` ("users.email") names the value in
  /// errors. Errors: invalid_argument (a value the type cannot hold: NUL or invalid UTF-8
  /// in text, a timestamp before 4714 BC, a storage class the column does not take).
  auto add(Oid type, const value_view& v, std::string_view subject) -> status {
    if (describing_) [[unlikely]]
      shown_.push_back(parameter_text(table_, column_named(subject), v));
    return add_value(type, v, subject, nullptr, 0);
  }

  /// Adds `v` as a parameter for column `c` of `s` (typed by the column, named
  /// "<table>.<column>" in errors, which is built only for an error).
  auto add_column(const table_schema& s, std::size_t c, const value_view& v) -> status {
    if (describing_) [[unlikely]]
      shown_.push_back(parameter_text(&s, c, v));
    return add_value(column_oid(s.columns[c]), v, {}, &s, c);
  }

 private:
  // `subject`, or "<table>.<column>" of (`s`, `c`) when `s` is set.
  static auto name_of(std::string_view subject, const table_schema* s, std::size_t c) -> std::string {
    if (s == nullptr) return std::string(subject);
    return std::string(s->name) + "." + std::string(s->columns[c].name);
  }

  [[nodiscard]] auto column_named(std::string_view subject) const noexcept -> std::size_t {
    if (table_ == nullptr || subject.size() <= table_->name.size() + 1 ||
        subject.substr(0, table_->name.size()) != table_->name || subject[table_->name.size()] != '.')
      return std::size_t(-1);
    subject.remove_prefix(table_->name.size() + 1);
    for (std::size_t c = 0; c < table_->columns.size(); ++c)
      if (table_->columns[c].name == subject) return c;
    return std::size_t(-1);
  }

  auto add_value(Oid type, const value_view& v, std::string_view subject_text, const table_schema* table,
                 std::size_t column) -> status {
    if (v.index() == 0) {
      push(type, nullptr, 0);
      return {};
    }
    switch (type) {
      case oid::int8: {
        if (const auto* i = std::get_if<std::int64_t>(&v)) return push_be(type, static_cast<std::uint64_t>(*i));
        break;
      }
      case oid::float8: {
        if (const auto* d = std::get_if<double>(&v)) return push_be(type, std::bit_cast<std::uint64_t>(*d));
        if (const auto* i = std::get_if<std::int64_t>(&v))
          return push_be(type, std::bit_cast<std::uint64_t>(static_cast<double>(*i)));
        break;
      }
      case oid::boolean: {
        if (const auto* i = std::get_if<std::int64_t>(&v)) {
          push(type, *i != 0 ? "\x01" : "\x00", 1);
          return {};
        }
        break;
      }
      case oid::timestamptz: {
        if (const auto* i = std::get_if<std::int64_t>(&v)) {
          if (*i < min_timestamp_us)
            return unexpected(errc::invalid_argument,
                              name_of(subject_text, table, column) + ": timestamp " + std::to_string(*i) +
                                  " us since 1970 is before 4714-11-24 BC, the earliest PostgreSQL can store");
          return push_be(type, static_cast<std::uint64_t>(*i - epoch_offset_us));
        }
        break;
      }
      case oid::text:
      case oid::jsonb: {
        if (const auto* s = std::get_if<std::string_view>(&v)) {
          if (!detail::storable_text(*s)) [[unlikely]]
            return unexpected(errc::invalid_argument,
                              name_of(subject_text, table, column) + ": " + detail::text_problem(*s));
          if (s->size() > static_cast<std::size_t>(std::numeric_limits<int>::max() - 1))
            return unexpected(errc::invalid_argument, name_of(subject_text, table, column) + ": text of " +
                                                          std::to_string(s->size()) + " bytes is too long");
          if (type == oid::jsonb) {
            auto& j = owned_.emplace_back("\x01", 1);  // jsonb's binary form: version 1, then the text
            j.append(*s);
            push(type, j.data(), static_cast<int>(j.size()));
          } else {
            push(type, s->data() ? s->data() : "", static_cast<int>(s->size()));
          }
          return {};
        }
        break;
      }
      case oid::bytea: {
        if (const auto* b = std::get_if<blob_view>(&v)) {
          if (b->size() > static_cast<std::size_t>(std::numeric_limits<int>::max()))
            return unexpected(errc::invalid_argument, name_of(subject_text, table, column) + ": a blob of " +
                                                          std::to_string(b->size()) + " bytes is too long");
          push(type, b->empty() ? "" : reinterpret_cast<const char*>(b->data()), static_cast<int>(b->size()));
          return {};
        }
        break;
      }
      default: break;
    }
    return unexpected(errc::invalid_argument, name_of(subject_text, table, column) + ": a " + std::string(to_string(storage_of(v))) +
                                                  " value cannot be bound as PostgreSQL type oid " +
                                                  std::to_string(type));
  }

  void push(Oid type, const char* data, int length) {
    types_.push_back(type);
    values_.push_back(data);
    lengths_.push_back(length);
  }
  auto push_be(Oid type, std::uint64_t bits) -> status {
    char* slot = scratch_used_ < scratch_.size() ? scratch_[scratch_used_].data() : scratch_.emplace_back().data();
    ++scratch_used_;
    detail::put_be64(slot, bits);
    push(type, slot, 8);
    return {};
  }

  std::vector<Oid> types_;
  std::vector<const char*> values_;
  std::vector<int> lengths_;
  mutable std::vector<int> formats_;
  std::deque<std::array<char, 8>> scratch_;  // a deque: pointers into it stay valid
  std::size_t scratch_used_ = 0;              // the slots of scratch_ in use
  std::deque<std::string> owned_;
  std::vector<std::string> shown_;
  const table_schema* table_ = nullptr;
  bool describing_ = false;
};

/// Reads the `n` bytes at `p`, the binary form of a non-NULL value of type `type`, into
/// `out` (pointing at `p`); false when the type is not one ormkit reads or the value is
/// malformed (`field` says which).
[[nodiscard]] inline auto read_value(Oid type, const char* p, int n, value_view& out) noexcept -> bool {
  switch (type) {
    case oid::int8:
      if (n != 8) return false;
      out = static_cast<std::int64_t>(detail::get_be(p, 8));
      return true;
    case oid::int4:
      if (n != 4) return false;
      out = static_cast<std::int64_t>(static_cast<std::int32_t>(detail::get_be(p, 4)));
      return true;
    case oid::int2:
      if (n != 2) return false;
      out = static_cast<std::int64_t>(static_cast<std::int16_t>(detail::get_be(p, 2)));
      return true;
    case oid::oid:
      if (n != 4) return false;
      out = static_cast<std::int64_t>(detail::get_be(p, 4));
      return true;
    case oid::float8:
      if (n != 8) return false;
      out = std::bit_cast<double>(detail::get_be(p, 8));
      return true;
    case oid::float4:
      if (n != 4) return false;
      out = static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(detail::get_be(p, 4))));
      return true;
    case oid::boolean:
      if (n != 1) return false;
      out = std::int64_t{p[0] != 0 ? 1 : 0};
      return true;
    case oid::timestamptz:
    case oid::timestamp: {
      if (n != 8) return false;
      auto t = static_cast<std::int64_t>(detail::get_be(p, 8));
      // +-infinity are INT64_MAX / INT64_MIN; anything else is in range after the shift.
      if (t != std::numeric_limits<std::int64_t>::max() && t != std::numeric_limits<std::int64_t>::min())
        t += epoch_offset_us;
      out = t;
      return true;
    }
    case oid::text:
    case oid::varchar:
    case oid::bpchar:
    case oid::name:
    case oid::char_:
    case oid::json: out = std::string_view(p, static_cast<std::size_t>(n)); return true;
    case oid::jsonb:
      if (n < 1 || p[0] != 1) return false;
      out = std::string_view(p + 1, static_cast<std::size_t>(n - 1));
      return true;
    case oid::bytea: out = blob_view(reinterpret_cast<const std::byte*>(p), static_cast<std::size_t>(n)); return true;
    default: return false;
  }
}

/// Reads field (`row`, `col`) of a binary-format result into `out`, pointing into `r`;
/// false when its type is not one ormkit reads or its value is malformed (`field` says which).
[[nodiscard]] inline auto read_field(const PGresult* r, int row, int col, value_view& out) noexcept -> bool {
  const int n = PQgetlength(r, row, col);
  // Only a NULL or an empty value has length 0: ask libpq which only then.
  if (n == 0 && PQgetisnull(r, row, col)) {
    out = std::monostate{};
    return true;
  }
  return read_value(PQftype(r, col), PQgetvalue(r, row, col), n, out);
}

/// Reads field (`row`, `col`) of a binary-format result as a `value_view` pointing into
/// `r`. Errors: unsupported (a type ormkit does not read: cast it in SQL), corrupt (a
/// malformed binary value).
[[nodiscard]] inline auto field(const PGresult* r, int row, int col) -> result<value_view> {
  value_view v;
  if (read_field(r, row, col, v)) return v;
  switch (PQftype(r, col)) {
    case oid::int8:
    case oid::int4:
    case oid::int2:
    case oid::oid:
    case oid::float8:
    case oid::float4:
    case oid::boolean:
    case oid::timestamptz:
    case oid::timestamp:
    case oid::jsonb:
      return unexpected(errc::corrupt, std::string("postgres: result column \"") + PQfname(r, col) +
                                           "\" has a malformed binary value of " +
                                           std::to_string(PQgetlength(r, row, col)) + " bytes");
    default:
      return unexpected(errc::unsupported, std::string("postgres: result column \"") + PQfname(r, col) +
                                               "\" has type oid " + std::to_string(PQftype(r, col)) +
                                               ", which ormkit does not read; cast it to bigint, double "
                                               "precision, boolean, text, bytea, timestamptz or jsonb");
  }
}

/// Where a connection goes, for messages: host, port, database, user; never the password.
struct endpoint {
  std::string host;
  std::string port;
  std::string dbname;
  std::string user;

  [[nodiscard]] auto describe() const -> std::string {
    std::string out = "database \"" + dbname + "\" on " + (host.empty() ? std::string("the default host") : host);
    if (!port.empty()) out += ":" + port;
    if (!user.empty()) out += " as user \"" + user + "\"";
    return out;
  }
};

/// Names the server attached to its last error (empty when it named none).
struct diagnostics {
  std::string constraint;
  std::string table;
  std::string column;
};

/// Statement cache counters of one connection.
struct statement_statistics {
  std::uint64_t prepares = 0;
  std::uint64_t hits = 0;
  std::uint64_t evictions = 0;
  std::size_t cached = 0;
};

/// Remembers which prepared statement of a connection runs a given SQL text, for a caller
/// whose text stays the same (and in the same place) while the slot lives: a call with the
/// slot skips the statement cache's lookup. Any connection's slot is safe to pass to any
/// other: a slot is trusted only by the connection that filled it, and only until that
/// connection forgets a statement (closed, or one evicted from its cache).
struct statement_slot {
  std::uint64_t epoch = 0;
  void* entry = nullptr;
};

/// One libpq connection with deadlines and a prepared-statement cache. Not thread-safe:
/// one thread at a time (the pool hands connections to threads).
class connection {
 public:
  connection() = default;
  connection(const connection&) = delete;
  auto operator=(const connection&) -> connection& = delete;
  ~connection() { close(); }

  /// Opens a connection within `opts.connect_timeout` and applies the session settings
  /// (search_path, statement_timeout, client_connection_check_interval).
  /// Errors: cannot_open (wrong password, unknown user, missing database), unavailable
  /// (server unreachable), timeout (no answer within the deadline), invalid_argument (a
  /// malformed connection string). Each message names host, port, database and user.
  auto open(const options& opts) -> status {
    close();
    opts_ = &opts;
    ORMKIT_TRY(parse(opts.conninfo));
    const auto deadline = std::chrono::steady_clock::now() + opts.connect_timeout;
    const char* const keys[] = {"dbname", "client_encoding", "fallback_application_name", nullptr};
    const char* const vals[] = {opts.conninfo.c_str(), "UTF8", "ormkit", nullptr};
    conn_ = PQconnectStartParams(keys, vals, 1);
    if (!conn_) return unexpected(errc::unavailable, "postgres: cannot allocate a connection");
    if (PQstatus(conn_) == CONNECTION_BAD) return connect_failure();
    PostgresPollingStatusType st = PGRES_POLLING_WRITING;
    fresh_deadline_ = false;  // the waits below read the clock against the connect deadline
    while (st != PGRES_POLLING_OK) {
      if (st == PGRES_POLLING_FAILED) return connect_failure();
      const int ready = wait_socket(static_cast<short>(st == PGRES_POLLING_READING ? POLLIN : POLLOUT), deadline);
      if (ready < 0) {
        close();
        return unexpected(errc::unavailable, "postgres: cannot connect to " + where_.describe() + ": poll failed");
      }
      if (ready == 0) {
        close();
        return unexpected(errc::timeout, "postgres: cannot connect to " + where_.describe() + ": no answer within " +
                                             std::to_string(opts.connect_timeout.count()) + " ms");
      }
      st = PQconnectPoll(conn_);
    }
    if (PQsetnonblocking(conn_, 1) != 0) return connect_failure();
    socket_ = PQsocket(conn_);
    const std::int64_t ms = std::max<std::int64_t>(opts.call_timeout.count(), 0);
    timeout_ts_.tv_sec = static_cast<decltype(timeout_ts_.tv_sec)>(ms / 1000);
    timeout_ts_.tv_nsec = static_cast<decltype(timeout_ts_.tv_nsec)>(ms % 1000 * 1'000'000);
    // NOTICEs ("drop cascades to ...") are not errors: keep them off stderr.
    PQsetNoticeProcessor(conn_, [](void*, const char*) {}, nullptr);
    where_.host = PQhost(conn_) ? PQhost(conn_) : where_.host;
    where_.port = PQport(conn_) ? PQport(conn_) : where_.port;
    std::string setup = "SET client_connection_check_interval = 1000";
    if (opts.statement_timeout.count() > 0)
      setup += "; SET statement_timeout = " + std::to_string(opts.statement_timeout.count());
    if (!opts.schema.empty()) {
      setup += "; SET search_path TO ";
      append_quoted(setup, opts.schema);
    }
    auto r = simple(setup, "postgres");
    if (!r) {
      close();
      return std::move(r).error();
    }
    return {};
  }

  [[nodiscard]] auto is_open() const noexcept -> bool { return conn_ != nullptr && PQstatus(conn_) == CONNECTION_OK; }
  [[nodiscard]] auto native_handle() const noexcept -> PGconn* { return conn_; }
  [[nodiscard]] auto where() const noexcept -> const endpoint& { return where_; }
  /// The constraint, table and column the server named in its last error.
  [[nodiscard]] auto last_diagnostics() const noexcept -> const diagnostics& { return diag_; }
  /// Puts back what `last_diagnostics()` said (after a clean-up statement).
  void restore_diagnostics(diagnostics d) noexcept { diag_ = std::move(d); }
  [[nodiscard]] auto statistics() const noexcept -> statement_statistics {
    auto s = stats_;
    s.cached = cache_.size();
    return s;
  }
  /// True when the server has an open transaction on this connection (idle, or aborted).
  [[nodiscard]] auto in_server_transaction() const noexcept -> bool {
    if (!conn_) return false;
    auto t = PQtransactionStatus(conn_);
    return t == PQTRANS_INTRANS || t == PQTRANS_INERROR;
  }
  /// True when the server has aborted the open transaction (an error happened in it).
  [[nodiscard]] auto transaction_failed() const noexcept -> bool {
    return conn_ != nullptr && PQtransactionStatus(conn_) == PQTRANS_INERROR;
  }

  void close() noexcept {
    if (conn_) PQfinish(conn_);
    conn_ = nullptr;
    socket_ = -1;
    hot_ = {};
    cache_.clear();
    epoch_ = next_epoch();
  }

  /// Runs `sql` (several statements allowed, no parameters) through the simple query
  /// protocol; returns the last result. For session settings and transaction control.
  auto simple(const std::string& sql, std::string_view context, bool committing = false) -> result<result_ptr> {
    ORMKIT_TRY(ready(context));
    statement_observer* o = observer();
    const auto start = o ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    auto out = PQsendQuery(conn_, sql.c_str()) ? finish(context, committing, call_deadline())
                                               : result<result_ptr>(lost(context, committing));
    if (o) [[unlikely]]
      report(*o, sql, {}, out, start);
    return out;
  }

  /// Runs the prepared form of `sql` with `params` (preparing it on first use) and returns
  /// its result, binary format. Errors: those of the statement (see `errc_of`), timeout,
  /// unavailable (connection lost), commit_unknown (lost during a COMMIT).
  /// With `reported` false the caller tells the statement observer itself (with its own
  /// wording of a failure).
  /// `slot`: see `statement_slot` (null: the cache is searched by the text).
  auto run(const std::string& sql, const parameters& params, std::string_view context, bool reported = true,
           statement_slot* slot = nullptr) -> result<result_ptr> {
    ORMKIT_TRY(ready(context));
    const auto deadline = call_deadline(true);
    auto name = prepared(sql, params.types(), context, deadline, slot);
    if (!name) return std::move(name).error();
    statement_observer* o = reported ? observer() : nullptr;
    const auto start = o ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    auto out = PQsendQueryPrepared(conn_, (*name)->c_str(), static_cast<int>(params.size()), params.values(),
                                   params.lengths(), params.formats(), 1)
                   ? finish(context, false, deadline)
                   : result<result_ptr>(lost(context, false));
    if (o) [[unlikely]]
      report(*o, sql, params.shown(), out, start);
    return out;
  }

  /// libpq's state of the connection's transaction: PQTRANS_UNKNOWN when the connection is
  /// closed or broken, PQTRANS_ACTIVE while a command is in flight. One call says both
  /// whether the connection is usable and whether a transaction is open (or aborted).
  [[nodiscard]] auto transaction_status() const noexcept -> PGTransactionStatusType {
    return conn_ != nullptr ? PQtransactionStatus(conn_) : PQTRANS_UNKNOWN;
  }

  /// The name of the prepared statement `slot` names on this connection (counted as a
  /// cache hit), or null when this connection does not trust the slot (then `run` with the
  /// slot prepares the statement again). For a caller whose slot is only ever filled for
  /// one SQL text with one list of parameter types (so the types need no comparing).
  [[nodiscard]] auto slot_statement(const statement_slot& slot) noexcept -> const char* {
    if (slot.epoch != epoch_) return nullptr;
    auto* e = static_cast<cache_entry*>(slot.entry);
    ++stats_.hits;
    e->second.used = ++clock_;
    return e->second.name.c_str();
  }

  /// Runs the prepared statement `name` (from `slot_statement`, on this open connection)
  /// with `n` (at most 8) parameters in binary form, typed as when it was prepared: the
  /// short path of calls by key. One send and one read, with the deadline, errors and
  /// connection handling of `run`. Not reported to the statement observer.
  [[gnu::always_inline]] auto run_prepared(const char* name, int n, const char* const* values, const int* lengths,
                                           std::string_view context) -> result<result_ptr> {
    static constexpr std::array<int, 8> binary{1, 1, 1, 1, 1, 1, 1, 1};
    // The diagnostics are not cleared here: a failure below clears them (or the server's
    // error sets them) before anyone reads them.
    if (!PQsendQueryPrepared(conn_, name, n, values, lengths, binary.data(), 1)) [[unlikely]]
      return prepared_failed(context, 0, {});
    // Everything is sent, so the end of the answer (ReadyForQuery, the reply to the Sync
    // sent last) cannot be in libpq's buffer yet: wait for the socket first, without asking
    // libpq to parse an empty buffer.
    const auto timeout = call_timeout();
    if (PQflush(conn_) != 0) [[unlikely]]
      return prepared_failed(context, 1, std::chrono::steady_clock::now() + timeout);
    first_wait wait(timeout, timeout_ts_);
    if (!wait.readable(socket_)) [[unlikely]]
      return prepared_failed(context, 2, wait.deadline());
    if (!PQconsumeInput(conn_)) [[unlikely]]
      return prepared_failed(context, 0, {});
    // One result, then the end of the command; anything else is collect's.
    if (PQisBusy(conn_)) [[unlikely]]
      return prepared_failed(context, 3, wait.deadline());
    result_ptr out(PQgetResult(conn_));
    const auto st = out ? PQresultStatus(out.get()) : PGRES_FATAL_ERROR;
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) [[unlikely]]
      return prepared_failed(context, 4, wait.deadline(), out.release());
    if (PQisBusy(conn_)) [[unlikely]]
      return prepared_failed(context, 5, wait.deadline(), out.release());
    // The end of the command parsed, libpq is idle (PQgetResult would say null): no
    // command in progress. Else a later result is there, and it is the outcome (`finish`'s
    // rule: the first failure, else the last).
    if (PQtransactionStatus(conn_) == PQTRANS_ACTIVE) [[unlikely]] {
      clear_diagnostics();
      return collect(context, false, wait.deadline(), PQgetResult(conn_));
    }
    return out;
  }

  /// Runs `sql` once without preparing it (DDL, one-off statements), binary results.
  auto run_once(const std::string& sql, const parameters& params, std::string_view context) -> result<result_ptr> {
    ORMKIT_TRY(ready(context));
    statement_observer* o = observer();
    const auto start = o ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    auto out = PQsendQueryParams(conn_, sql.c_str(), static_cast<int>(params.size()), params.types().data(),
                                 params.values(), params.lengths(), params.formats(), 1)
                   ? finish(context, false, call_deadline())
                   : result<result_ptr>(lost(context, false));
    if (o) [[unlikely]]
      report(*o, sql, params.shown(), out, start);
    return out;
  }

  /// One statement of a pipeline: the prepared form of `sql` with `params` (null: none;
  /// SAVEPOINT and RELEASE are prepared too, so the server parses them once).
  struct step {
    const std::string* sql = nullptr;
    const parameters* params = nullptr;
    statement_slot* slot = nullptr;  // see `statement_slot`; null: looked up by the text
  };

  /// Sends `steps` in one libpq pipeline (one round trip; statements are prepared first
  /// when not cached) and reads every result into `out[i]`. Outside a transaction the
  /// steps run in one implicit transaction: all or nothing. Stops at the first failing
  /// statement (the server skips the rest): returns its error, its index in `*failed`.
  /// Not reported to the statement observer (the caller does that).
  auto pipeline(std::span<const step> steps, std::span<result_ptr> out, std::string_view context,
                std::size_t* failed = nullptr) -> status {
    ORMKIT_TRY(ready(context));
    const auto deadline = call_deadline();
    names_.clear();
    protect_after_ = clock_;  // statements used by this pipeline stay prepared
    for (const auto& st : steps) {
      auto name =
          prepared(*st.sql, st.params ? st.params->types() : std::span<const Oid>(), context, deadline, st.slot);
      if (!name) {
        protect_after_ = std::numeric_limits<std::uint64_t>::max();
        return std::move(name).error();
      }
      names_.push_back(*name);
    }
    protect_after_ = std::numeric_limits<std::uint64_t>::max();
    if (!PQenterPipelineMode(conn_)) return lost(context, false);
    for (std::size_t i = 0; i < steps.size(); ++i) {
      const auto& st = steps[i];
      const int sent = st.params == nullptr
                           ? PQsendQueryPrepared(conn_, names_[i]->c_str(), 0, nullptr, nullptr, nullptr, 1)
                           : PQsendQueryPrepared(conn_, names_[i]->c_str(), static_cast<int>(st.params->size()),
                                                 st.params->values(), st.params->lengths(), st.params->formats(), 1);
      if (!sent) return lost(context, false);
      // Keep the socket moving on long pipelines: send what fits, read what came back.
      if ((i & 63) == 63 && PQflush(conn_) < 0) return lost(context, false);
    }
    if (!PQpipelineSync(conn_)) return lost(context, false);
    ORMKIT_TRY(flush_all(context, false, deadline));
    std::optional<std::size_t> first_failure;
    result_ptr failure;
    std::size_t i = 0;  // the statement whose results come next; steps.size(): the sync
    for (int nulls = 0;;) {
      ORMKIT_TRY(wait_result(context, deadline));
      PGresult* r = PQgetResult(conn_);
      if (r == nullptr) {  // the end of statement i's results
        if (i < steps.size()) ++i;
        if (++nulls > 1 && (i == steps.size() || PQstatus(conn_) != CONNECTION_OK))
          return lost(context, false, failure.get());  // no sync coming
        continue;
      }
      nulls = 0;
      const auto status = PQresultStatus(r);
      if (status == PGRES_PIPELINE_SYNC) {
        PQclear(r);
        break;
      }
      if ((status == PGRES_FATAL_ERROR || status == PGRES_BAD_RESPONSE) && !first_failure) {
        first_failure = i;
        failure.reset(r);
      } else if (i < steps.size()) {
        out[i].reset(r);
      } else {
        PQclear(r);
      }
    }
    if (i != steps.size()) return lost(context, false, failure.get());  // out of step with the server
    if (!PQexitPipelineMode(conn_) || PQstatus(conn_) != CONNECTION_OK) return lost(context, false, failure.get());
    if (first_failure) {
      if (failed) *failed = *first_failure;
      return server_error(failure.get(), context);
    }
    return {};
  }

  /// Runs the prepared `sql` with `params` under a savepoint of its own inside the open
  /// transaction, in one round trip (SAVEPOINT, the statement and RELEASE in a pipeline),
  /// followed by `then` when set. When a statement fails the transaction is rolled back
  /// to the savepoint (a second round trip): it changed nothing and the transaction stays
  /// usable. Returns the result of `sql`; the server's names of the failure are kept in
  /// `last_diagnostics()`.
  auto run_guarded(const std::string& sql, const parameters& params, std::string_view context,
                   const step* then = nullptr, statement_slot* slot = nullptr) -> result<result_ptr> {
    static const std::string savepoint = "SAVEPOINT ormkit_write";
    static const std::string release = "RELEASE SAVEPOINT ormkit_write";
    static const std::string undo = "ROLLBACK TO SAVEPOINT ormkit_write; RELEASE SAVEPOINT ormkit_write";
    auto rollback = [&] {
      if (!is_open()) return;
      const diagnostics keep = diag_;
      (void)simple(undo, context);
      diag_ = keep;
    };
    // A statement's first use prepares it, which can fail too (a table that differs from
    // the entity) and would abort the transaction: then the savepoint goes first, on its own.
    const bool cold = !cached(sql, params.types(), slot) ||
                      (then && !cached(*then->sql, then->params ? then->params->types() : std::span<const Oid>(),
                                       then->slot));
    std::array<step, 4> steps{};
    std::size_t n = 0;
    if (cold) {
      if (auto sp = simple(savepoint, context); !sp) return std::move(sp).error();
      auto name = prepared(sql, params.types(), context, call_deadline(), slot);
      if (name && then)
        name = prepared(*then->sql, then->params ? then->params->types() : std::span<const Oid>(), context,
                        call_deadline(), then->slot);
      if (!name) {
        rollback();
        return std::move(name).error();
      }
    } else {
      steps[n++] = step{&savepoint, nullptr, &savepoint_slot_};
    }
    const std::size_t statement = n;
    steps[n++] = step{&sql, &params, slot};
    if (then) steps[n++] = *then;
    steps[n++] = step{&release, nullptr, &release_slot_};
    std::array<result_ptr, 4> out;
    std::size_t failed = 0;
    auto st = pipeline(std::span(steps).first(n), std::span(out).first(n), context, &failed);
    if (!st) {
      // A failed SAVEPOINT (warm) leaves nothing to roll back to; a failed RELEASE, nothing to undo.
      if ((cold || failed > 0) && failed + 1 < n) rollback();
      return std::move(st).error();
    }
    if (!out[statement]) return unexpected(errc::backend_error, std::string(context) + ": the server sent no result");
    return std::move(out[statement]);
  }

  /// Whether the prepared form of (`sql`, `types`) is cached on this connection.
  [[nodiscard]] auto cached(const std::string& sql, std::span<const Oid> types, statement_slot* slot = nullptr)
      -> bool {
    if (slot && slot->epoch == epoch_ && same_types(*static_cast<cache_entry*>(slot->entry), sql, types)) return true;
    return lookup(sql, types) != nullptr;
  }

  /// Runs `sql` through the simple query protocol: statements, one of them `COPY ... FROM
  /// STDIN`. Each result before the COPY goes to `before(const PGresult*)` (a status: an
  /// error ends the COPY); then `data(std::string&)` (a status) gives the COPY's data, which
  /// is sent in pieces; then the rest runs. `committing`: a connection lost after the data
  /// was sent is commit_unknown (a script that commits, or runs in an implicit transaction).
  /// Returns the first error, or the last result. Not reported to the statement observer.
  template <class Before, class Data>
  auto copy_in(const std::string& sql, std::string_view context, bool committing, Before&& before, Data&& data)
      -> result<result_ptr> {
    ORMKIT_TRY(ready(context));
    const auto deadline = call_deadline();
    if (!PQsendQuery(conn_, sql.c_str())) return lost(context, false);
    ORMKIT_TRY(flush_all(context, false, deadline));
    status early;
    for (;;) {
      ORMKIT_TRY(wait_result(context, deadline));
      result_ptr r(PQgetResult(conn_));
      if (!r) return finish(context, false, deadline);  // ended before the COPY: an error
      const auto st = PQresultStatus(r.get());
      if (st == PGRES_COPY_IN) break;
      if (st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE) {
        auto e = server_error(r.get(), context);
        auto rest = finish(context, false, deadline);  // the end of the script
        if (!rest && !is_open()) return std::move(rest).error();
        return e;
      }
      if (early) early = before(static_cast<const PGresult*>(r.get()));
    }
    std::string buffer;
    if (early) early = data(buffer);
    if (early) {
      constexpr std::size_t piece = std::size_t{1} << 18;
      for (std::size_t at = 0; at < buffer.size();) {
        const std::size_t n = std::min(piece, buffer.size() - at);
        const int put = PQputCopyData(conn_, buffer.data() + at, static_cast<int>(n));
        if (put < 0) return lost(context, committing);
        if (put > 0) {
          at += n;
          continue;
        }
        const int w = wait_socket(static_cast<short>(POLLOUT | POLLIN), deadline);
        if (w == 0) return timed_out(context, committing);
        if (w < 0 || !PQconsumeInput(conn_)) return lost(context, committing);
      }
    }
    for (;;) {
      const int end = PQputCopyEnd(conn_, early ? nullptr : "ormkit: batch abandoned");
      if (end < 0) return lost(context, committing);
      if (end > 0) break;
      const int w = wait_socket(static_cast<short>(POLLOUT | POLLIN), deadline);
      if (w == 0) return timed_out(context, committing);
      if (w < 0 || !PQconsumeInput(conn_)) return lost(context, committing);
    }
    auto out = finish(context, committing && early.has_value(), deadline);
    if (!early) return std::move(early).error();
    return out;
  }

  /// The statement observer of the options the connection was opened with, or null.
  [[nodiscard]] auto observer() const noexcept -> statement_observer* { return opts_ ? opts_->observer : nullptr; }

  /// The rows a result read (a query, RETURNING) or changed (a write).
  [[nodiscard]] static auto rows_in(const PGresult* r) noexcept -> std::uint64_t {
    if (r == nullptr) return 0;
    if (PQresultStatus(r) == PGRES_TUPLES_OK) return static_cast<std::uint64_t>(PQntuples(r));
    return changed(r);
  }

  /// The rows a write changed (its command tag's count), 0 when it gives none.
  [[nodiscard]] static auto changed(const PGresult* r) noexcept -> std::uint64_t {
    // The count is the tag's last word ("DELETE 1", "INSERT 0 1", "SELECT 5"); tags without
    // one ("BEGIN", "CREATE TABLE") end in a word that is no number. Read here rather than
    // by PQcmdTuples, which compares the tag with every command it knows first.
    const char* tag = r ? PQcmdStatus(const_cast<PGresult*>(r)) : nullptr;
    const char* p = tag ? std::strrchr(tag, ' ') : nullptr;
    if (p == nullptr || *++p == '\0') return 0;
    std::uint64_t v = 0;
    for (; *p != '\0'; ++p) {
      if (*p < '0' || *p > '9') return 0;
      v = v * 10 + static_cast<std::uint64_t>(*p - '0');
    }
    return v;
  }

  /// `changed` of a DELETE's result: its tag "DELETE <n>" compared a character at a time
  /// (stopping at a shorter tag's end), the count read without taking the length first.
  [[nodiscard]] static auto deleted(const PGresult* r) noexcept -> std::uint64_t {
    const char* t = r ? PQcmdStatus(const_cast<PGresult*>(r)) : nullptr;
    if (t == nullptr || t[0] != 'D' || t[1] != 'E' || t[2] != 'L' || t[3] != 'E' || t[4] != 'T' || t[5] != 'E' ||
        t[6] != ' ' || t[7] == '\0') [[unlikely]]
      return changed(r);
    std::uint64_t v = 0;
    for (const char* p = t + 7; *p != '\0'; ++p) {
      if (*p < '0' || *p > '9') [[unlikely]]
        return changed(r);
      v = v * 10 + static_cast<std::uint64_t>(*p - '0');
    }
    return v;
  }

  /// Tells `o` about a statement that ran from `start` with outcome `out`; what the
  /// observer throws is swallowed.
  static void report(statement_observer& o, std::string_view sql, std::span<const std::string> parameters,
                     const result<result_ptr>& out, std::chrono::steady_clock::time_point start) noexcept {
    notify(o, sql, parameters, out ? rows_in(out->get()) : 0, start, out ? nullptr : &out.error());
  }
  static void notify(statement_observer& o, std::string_view sql, std::span<const std::string> parameters,
                     std::uint64_t rows, std::chrono::steady_clock::time_point start,
                     const ormkit::error* failure) noexcept {
    statement_event e{"postgres", sql, parameters, rows, std::chrono::steady_clock::now() - start, failure};
    try {
      o.executed(e);
    } catch (...) {  // NOLINT(bugprone-empty-catch): the statement has run; its caller has its result
    }
  }

  /// The SQLSTATE of a failed result, or "" when there is none.
  [[nodiscard]] static auto sqlstate(const PGresult* r) -> std::string_view {
    const char* s = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
    return s ? std::string_view(s) : std::string_view();
  }

  /// Appends `name` double-quoted, embedded quotes doubled.
  static void append_quoted(std::string& out, std::string_view name) {
    out += '"';
    for (char c : name) {
      if (c == '"') out += '"';
      out += c;
    }
    out += '"';
  }

 private:
  // run_prepared's other paths: `step` 0 the connection failed, 1 not all sent, 2 the
  // first wait did not end with the socket readable, 3 the result not all there, 4 not the
  // result expected (`first`, owned from here; null: none), 5 the end of the command not
  // there after `first`, a good result.
  [[gnu::noinline, gnu::cold]] auto prepared_failed(std::string_view context, int step,
                                                    std::chrono::steady_clock::time_point deadline,
                                                    PGresult* first = nullptr) -> result<result_ptr> {
    result_ptr good(step == 5 ? first : nullptr);
    clear_diagnostics();
    fresh_deadline_ = false;
    switch (step) {
      case 0: return lost(context, false);
      case 1: return finish(context, false, deadline);
      case 2: {
        const int w = wait_socket(POLLIN, deadline);
        if (w == 0) return timed_out(context, false);
        if (w < 0 || !PQconsumeInput(conn_)) return lost(context, false);
        return collect(context, false, deadline);
      }
      case 3: return collect(context, false, deadline);
      case 4: return collect(context, false, deadline, first);
      default: {
        auto rest = collect(context, false, deadline);
        // Only the end was missing: collect found nothing more ("no result"), so `good` it is.
        if (!rest && rest.error().is(errc::backend_error) && is_open()) return good;
        return rest;
      }
    }
  }

  void clear_diagnostics() noexcept {
    if (!diag_.constraint.empty() || !diag_.table.empty() || !diag_.column.empty()) diag_ = {};
  }

  // The first wait of a call, the whole call timeout, without reading the clock: on Linux
  // the ppoll system call itself says how much of its timeout is left (glibc's wrapper
  // hides that), from which the deadline of any later wait follows; elsewhere the clock is
  // read first, as call_deadline does.
  class first_wait {
   public:
    first_wait(std::chrono::milliseconds timeout, const timespec& left) noexcept : timeout_(timeout) {
#if ORMKIT_POSTGRES_PPOLL
      left_ = left;
#else
      (void)left;
      deadline_ = std::chrono::steady_clock::now() + timeout;
#endif
    }
    // Whether `fd` became readable within the timeout (false: timed out, failed, a signal).
    [[nodiscard]] auto readable(int fd) noexcept -> bool {
      pollfd p{fd, POLLIN, 0};
      if (fd < 0) return false;
#if ORMKIT_POSTGRES_PPOLL
      waited_ = true;
      return ::syscall(SYS_ppoll, &p, 1UL, &left_, nullptr, 0UL) > 0;
#else
      const auto ms = timeout_.count();
      return ms < 60'000 && ::poll(&p, 1, static_cast<int>(std::max<std::chrono::milliseconds::rep>(ms, 0)) + 1) > 0;
#endif
    }
    // The call's deadline.
    [[nodiscard]] auto deadline() const noexcept -> std::chrono::steady_clock::time_point {
#if ORMKIT_POSTGRES_PPOLL
      const auto now = std::chrono::steady_clock::now();
      if (!waited_) return now + timeout_;
      return now + std::chrono::seconds(left_.tv_sec) + std::chrono::nanoseconds(left_.tv_nsec);
#else
      return deadline_;
#endif
    }

   private:
    std::chrono::milliseconds timeout_;
#if ORMKIT_POSTGRES_PPOLL
    timespec left_{};
    bool waited_ = false;
#else
    std::chrono::steady_clock::time_point deadline_;
#endif
  };

  struct cached_statement {
    std::string name;
    std::uint64_t used = 0;
  };

  [[nodiscard]] auto call_timeout() const noexcept -> std::chrono::milliseconds {
    return opts_ ? opts_->call_timeout : std::chrono::milliseconds(30000);
  }

  // The deadline of a call that starts now. `fresh`: the call's first wait comes right
  // after (a statement sent, nothing else done), so it waits the whole timeout without
  // reading the clock again; later waits read it.
  [[nodiscard]] auto call_deadline(bool fresh = false) const -> std::chrono::steady_clock::time_point {
    fresh_deadline_ = fresh;
    return std::chrono::steady_clock::now() + call_timeout();
  }

  auto ready(std::string_view context) -> status {
    if (!diag_.constraint.empty() || !diag_.table.empty() || !diag_.column.empty()) diag_ = {};
    if (!conn_ || PQstatus(conn_) != CONNECTION_OK)
      return unexpected(errc::unavailable, std::string(context) + ": not connected to " + where_.describe(), "08003");
    return {};
  }

  // Waits until the socket is ready for `events` or the deadline passes: 1 ready, 0 timed
  // out, -1 failed.
  auto wait_socket(short events, std::chrono::steady_clock::time_point deadline) const -> int {
    for (;;) {
      const auto left =
          fresh_deadline_ ? call_timeout()
                          : std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      fresh_deadline_ = false;
      if (left.count() <= 0) return 0;
      pollfd p{PQsocket(conn_), events, 0};
      if (p.fd < 0) return -1;
      const int ms = static_cast<int>(std::min<std::chrono::milliseconds::rep>(left.count() + 1, 60'000));
      const int n = ::poll(&p, 1, ms);
      if (n > 0) return 1;
      if (n < 0 && errno != EINTR) return -1;
    }
  }

  // The name of the prepared statement for (sql, types), preparing it when needed.
  auto prepared(const std::string& sql, std::span<const Oid> types, std::string_view context,
                std::chrono::steady_clock::time_point deadline, statement_slot* slot = nullptr)
      -> result<const std::string*> {
    if (slot && slot->epoch == epoch_) [[likely]] {
      auto* e = static_cast<cache_entry*>(slot->entry);
      if (same_types(*e, sql, types)) [[likely]] {
        ++stats_.hits;
        e->second.used = ++clock_;
        return &e->second.name;
      }
    }
    if (auto* e = lookup(sql, types)) {
      ++stats_.hits;
      e->second.used = ++clock_;
      if (slot) *slot = {epoch_, e};
      return &e->second.name;
    }
    const std::size_t capacity = opts_ ? std::max<std::size_t>(opts_->statement_cache, 1) : 256;
    auto oldest = cache_.begin();
    if (cache_.size() >= capacity)
      for (auto it = cache_.begin(); it != cache_.end(); ++it)
        if (it->second.used < oldest->second.used) oldest = it;
    // The least recently used goes, unless the pipeline being built uses it (then all are).
    if (cache_.size() >= capacity && oldest->second.used <= protect_after_) {
      std::string dealloc = "DEALLOCATE ";
      append_quoted(dealloc, oldest->second.name);
      hot_ = {};
      cache_.erase(oldest);
      epoch_ = next_epoch();  // slots may name the statement that went
      ++stats_.evictions;
      if (!PQsendQuery(conn_, dealloc.c_str())) return lost(context, false);
      auto done = finish(context, false, deadline);
      if (!done) return std::move(done).error();
    }
    std::string name = "ormkit_" + std::to_string(++serial_);
    if (!PQsendPrepare(conn_, name.c_str(), sql.c_str(), static_cast<int>(types.size()), types.data()))
      return lost(context, false);
    auto done = finish(context, false, deadline);
    if (!done) return std::move(done).error();
    ++stats_.prepares;
    auto& entry = *cache_.try_emplace(key_).first;
    entry.second.name = std::move(name);
    entry.second.used = ++clock_;
    remember(sql, entry);
    if (slot) *slot = {epoch_, &entry};
    return &entry.second.name;
  }

  using cache_entry = std::pair<const std::string, cached_statement>;

  // The cache entry of (sql, types), or null; leaves the cache key of the pair in key_ when
  // it has to build it. The statements of the last calls are found by the address of their
  // text first (a few compares instead of building and hashing the key), and are checked
  // by content: a buffer reused for another statement is not mistaken for it.
  auto lookup(const std::string& sql, std::span<const Oid> types) -> cache_entry* {
    for (const auto& h : hot_)
      if (h.sql == &sql && same_key(h.entry->first, sql, types)) return h.entry;
    key_.assign(sql);
    key_.push_back('\0');
    key_.append(reinterpret_cast<const char*>(types.data()), types.size_bytes());
    auto it = cache_.find(key_);
    if (it == cache_.end()) return nullptr;
    remember(sql, *it);
    return &*it;
  }

  // Puts (the address of `sql`, `entry`) among the hot statements, in place of the entry
  // the same address had, else of the oldest.
  void remember(const std::string& sql, cache_entry& entry) noexcept {
    for (auto& h : hot_)
      if (h.sql == &sql) {
        h.entry = &entry;
        return;
      }
    hot_[hot_next_] = {&sql, &entry};
    hot_next_ = (hot_next_ + 1) % hot_.size();
  }

  // Whether `e`, found through a slot for `sql` (whose text is the entry's), is for `types`.
  [[nodiscard]] static auto same_types(const cache_entry& e, const std::string& sql, std::span<const Oid> types) noexcept
      -> bool {
    const std::string& key = e.first;
    const std::size_t n = sql.size();
    if (key.size() != n + 1 + types.size_bytes()) return false;
    const char* stored = key.data() + n + 1;
    for (std::size_t i = 0; i < types.size(); ++i) {
      Oid t{};
      std::memcpy(&t, stored + i * sizeof(Oid), sizeof(Oid));
      if (t != types[i]) return false;
    }
    return true;
  }

  // A number no connection of this process has used as its epoch.
  static auto next_epoch() noexcept -> std::uint64_t {
    static std::atomic<std::uint64_t> last{0};
    return last.fetch_add(1, std::memory_order_relaxed) + 1;
  }

  [[nodiscard]] static auto same_key(const std::string& key, const std::string& sql, std::span<const Oid> types) noexcept
      -> bool {
    const std::size_t n = sql.size();
    return key.size() == n + 1 + types.size_bytes() && key[n] == '\0' &&
           std::memcmp(key.data(), sql.data(), n) == 0 &&
           (types.empty() || std::memcmp(key.data() + n + 1, types.data(), types.size_bytes()) == 0);
  }

  // Sends everything buffered, reading what the server sends meanwhile.
  auto flush_all(std::string_view context, bool committing, std::chrono::steady_clock::time_point deadline)
      -> status {
    for (;;) {
      const int f = PQflush(conn_);
      if (f == 0) return {};
      if (f < 0) return lost(context, committing);
      const int w = wait_socket(static_cast<short>(POLLOUT | POLLIN), deadline);
      if (w == 0) return timed_out(context, committing);
      if (w < 0 || !PQconsumeInput(conn_)) return lost(context, committing);
    }
  }

  // Waits until PQgetResult would not block.
  [[gnu::always_inline]] auto wait_result(std::string_view context, std::chrono::steady_clock::time_point deadline,
                                          bool committing = false) -> status {
    while (PQisBusy(conn_)) {
      const int w = wait_socket(POLLIN, deadline);
      if (w == 0) return timed_out(context, committing);
      if (w < 0 || !PQconsumeInput(conn_)) return lost(context, committing);
    }
    return {};
  }

  // Sends what is buffered and collects every result of the command; returns the first
  // error, or the last result.
  auto finish(std::string_view context, bool committing, std::chrono::steady_clock::time_point deadline)
      -> result<result_ptr> {
    if (PQflush(conn_) != 0) [[unlikely]]
      ORMKIT_TRY(flush_all(context, committing, deadline));
    return collect(context, committing, deadline);
  }

  // `finish` once everything is sent; `first`: a result already read (owned from here).
  auto collect(std::string_view context, bool committing, std::chrono::steady_clock::time_point deadline,
               PGresult* first = nullptr) -> result<result_ptr> {
    result_ptr last, failed;
    for (PGresult* r = first;; r = nullptr) {
      if (r == nullptr) {
        ORMKIT_TRY(wait_result(context, deadline, committing));
        r = PQgetResult(conn_);
        if (!r) break;
      }
      const auto st = PQresultStatus(r);
      if ((st == PGRES_FATAL_ERROR || st == PGRES_BAD_RESPONSE) && !failed) failed.reset(r);
      else last.reset(r);
      if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) break;  // caller drives COPY
    }
    if (PQstatus(conn_) != CONNECTION_OK) return lost(context, committing, failed.get());
    if (failed) return server_error(failed.get(), context);
    if (!last) return unexpected(errc::backend_error, std::string(context) + ": the server sent no result");
    return last;
  }

  auto server_error(const PGresult* r, std::string_view context) -> ormkit::error {
    const auto state = sqlstate(r);
    auto get = [&](int code) {
      const char* v = PQresultErrorField(r, code);
      return v ? std::string(v) : std::string();
    };
    diag_ = {get(PG_DIAG_CONSTRAINT_NAME), get(PG_DIAG_TABLE_NAME), get(PG_DIAG_COLUMN_NAME)};
    const char* primary = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    std::string msg = std::string(context) + ": " + (primary ? primary : "the statement failed");
    return {errc_of(state), std::move(msg), std::string(state)};
  }

  auto timed_out(std::string_view context, bool committing) -> ormkit::error {
    const auto ms = opts_ ? opts_->call_timeout.count() : 0;
    close();
    if (committing)
      return {errc::commit_unknown,
              std::string(context) + ": no answer to COMMIT within " + std::to_string(ms) + " ms from " +
                  where_.describe() + "; the transaction may or may not have been committed (connection closed)",
              "08006"};
    return {errc::timeout,
            std::string(context) + ": no answer within " + std::to_string(ms) + " ms from " + where_.describe() +
                " (connection closed; the server rolls back its open transaction)",
            "57014"};
  }

  auto lost(std::string_view context, bool committing, const PGresult* r = nullptr) -> ormkit::error {
    std::string why = conn_ ? PQerrorMessage(conn_) : "";
    if (auto nl = why.find('\n'); nl != std::string::npos) why.erase(nl);
    std::string state(r ? sqlstate(r) : std::string_view());
    close();
    if (committing)
      return {errc::commit_unknown,
              std::string(context) + ": the connection to " + where_.describe() +
                  " was lost during COMMIT; the transaction may or may not have been committed" +
                  (why.empty() ? std::string() : " (" + why + ")"),
              state.empty() ? std::string("08006") : state};
    return {errc::unavailable,
            std::string(context) + ": the connection to " + where_.describe() + " was lost" +
                (why.empty() ? std::string() : " (" + why + ")"),
            state.empty() ? std::string("08006") : state};
  }

  // Host, port, database and user for messages, from the connection string and libpq's
  // defaults. libpq's parse message is kept only without quoted parts (which could be a
  // misplaced password).
  auto parse(const std::string& conninfo) -> status {
    where_ = {};
    char* err = nullptr;
    PQconninfoOption* parsed = PQconninfoParse(conninfo.c_str(), &err);
    if (!parsed) {
      std::string why = err ? err : "out of memory";
      PQfreemem(err);
      if (auto nl = why.find('\n'); nl != std::string::npos) why.erase(nl);
      if (why.find('"') != std::string::npos) why = "a keyword or value is malformed";
      return unexpected(errc::invalid_argument, "postgres: invalid connection string: " + why);
    }
    for (auto* o = parsed; o->keyword; ++o) {
      if (!o->val) continue;
      std::string_view k = o->keyword;
      if (k == "host" || (k == "hostaddr" && where_.host.empty())) where_.host = o->val;
      else if (k == "port") where_.port = o->val;
      else if (k == "dbname") where_.dbname = o->val;
      else if (k == "user") where_.user = o->val;
    }
    PQconninfoFree(parsed);
    if (PQconninfoOption* defaults = PQconndefaults()) {
      for (auto* o = defaults; o->keyword; ++o) {
        if (!o->val) continue;
        std::string_view k = o->keyword;
        if (k == "host" && where_.host.empty()) where_.host = o->val;
        else if (k == "port" && where_.port.empty()) where_.port = o->val;
        else if (k == "user" && where_.user.empty()) where_.user = o->val;
      }
      PQconninfoFree(defaults);
    }
    if (where_.dbname.empty()) where_.dbname = where_.user;
    return {};
  }

  auto connect_failure() -> ormkit::error {
    std::string why = conn_ ? PQerrorMessage(conn_) : "cannot allocate a connection";
    if (conn_) {
      if (const char* h = PQhost(conn_); h && *h) where_.host = h;
      if (const char* p = PQport(conn_); p && *p) where_.port = p;
    }
    close();
    // libpq: 'connection to server at "h" (addr), port p failed: FATAL:  <server message>'.
    if (auto p = why.find("failed: "); p != std::string::npos) why.erase(0, p + 8);
    if (why.rfind("FATAL:", 0) == 0) why.erase(0, 6);
    while (!why.empty() && (why.front() == ' ')) why.erase(0, 1);
    if (auto nl = why.find('\n'); nl != std::string::npos) why.erase(nl);
    const std::string subject = "postgres: cannot connect to " + where_.describe() + ": ";
    if (why.find("password authentication failed") != std::string::npos ||
        why.find("no password supplied") != std::string::npos || why.find("password") != std::string::npos)
      return {errc::cannot_open,
              subject + "authentication failed: the password is wrong or missing (passwords are never shown)",
              "28P01"};
    if (why.find("role") != std::string::npos && why.find("does not exist") != std::string::npos)
      return {errc::cannot_open, subject + "the user does not exist", "28000"};
    if (why.find("database") != std::string::npos && why.find("does not exist") != std::string::npos)
      return {errc::cannot_open, subject + "the database does not exist", "3D000"};
    if (why.find("authentication") != std::string::npos || why.find("pg_hba.conf") != std::string::npos)
      return {errc::cannot_open, subject + why, "28000"};
    return {errc::unavailable, subject + "the server cannot be reached (" + why + ")", "08001"};
  }

  PGconn* conn_ = nullptr;
  const options* opts_ = nullptr;
  endpoint where_;
  diagnostics diag_;
  std::unordered_map<std::string, cached_statement> cache_;
  // The statements of the last calls, by the address of their text (see `lookup`).
  struct hot_statement {
    const std::string* sql = nullptr;
    cache_entry* entry = nullptr;
  };
  std::array<hot_statement, 8> hot_{};
  std::size_t hot_next_ = 0;
  std::string key_;
  std::uint64_t serial_ = 0;
  std::uint64_t clock_ = 0;
  std::uint64_t protect_after_ = std::numeric_limits<std::uint64_t>::max();
  std::vector<const std::string*> names_;  // a pipeline's prepared statements
  // Changes whenever a cached statement is forgotten: slots of an older epoch are not trusted.
  std::uint64_t epoch_ = next_epoch();
  statement_slot savepoint_slot_, release_slot_;  // run_guarded's SAVEPOINT and RELEASE
  mutable bool fresh_deadline_ = false;            // see call_deadline
  int socket_ = -1;                                // PQsocket of the open connection
  timespec timeout_ts_{};                          // options::call_timeout, for first_wait
  statement_statistics stats_;
};

}  // namespace ormkit::postgres
