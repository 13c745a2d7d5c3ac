// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/postgres/backend.hpp
//
// The PostgreSQL backend: a peer of the memory and SQLite backends that answers
// every call the same way (the conformance suite runs all of them), for
// applications whose processes on many hosts share one database.
//
// A `backend` is one connection (postgres/connection.hpp: non-blocking libpq with a
// deadline on every call, prepared statements cached per connection, values bound
// in binary form). `pool` (postgres/pool.hpp) shares a set of them between threads.
//
// Tables are created on first use, as on the other backends: the first call that
// names a schema looks its table and indexes up in the catalog and, when something
// is missing, creates it (CREATE ... IF NOT EXISTS under an advisory lock, so that
// processes starting together do not race), once per schema per connection.
//
// Writes inside a transaction run under a savepoint of their own, so that a failed
// write (a unique-key conflict, say) changes nothing and leaves the transaction
// usable, as on the other backends; PostgreSQL would otherwise abort the whole
// transaction at the first error. SAVEPOINT, the write and RELEASE travel in one libpq
// pipeline: one round trip (a failure costs a second, for ROLLBACK TO). With
// `options::write_guard = write_guard::native` there is no such savepoint: cheaper, no
// subtransactions, and PostgreSQL's rule instead (a failed statement aborts the
// transaction; later calls get errc::transaction_state until rollback; see connection.hpp).
// `insert_many` is one binary COPY. `observe_statements` reports every statement
// (statement_observer.hpp).
//
// get and erase by key take a short path once their statement is prepared on the
// connection and nothing else is asked of the call (no statement observer, no savepoint to
// open, bigint or text key values): the key straight into the prepared statement, one wait,
// one result, the result's column types read once per prepared statement. Its answers and
// errors are the general path's (tests/unit/postgres_keyed_path.cpp).
//
// Errors carry the SQLSTATE in `error::native`; unique-key conflicts are worded as
// on the memory backend (`users.email: value "a@b.c" already exists (uq_users_email)`,
// `<secret>` for secret columns), and never include the server's DETAIL (which would
// show a secret value). Serialization failures and deadlocks are errc::busy, which
// `ormkit::transact` retries; a connection lost during COMMIT is errc::commit_unknown.
//
// Where this backend differs from the memory backend, by design:
// - text must be valid UTF-8 without NUL bytes (PostgreSQL's text type), and time
//   points must be after 4714 BC: other values are rejected before anything is sent;
// - rows with explicit keys come back in key order, not insertion order, when no
//   ORDER BY decides; tables without a primary key in the server's order;
// - a query's cursor holds its whole result (read at once), so writes on the same
//   connection while it is open cannot change what it returns.
//
// Threads: one backend is one connection; use it from one thread at a time, or use
// `postgres::pool`.
//
// Example:
//
//   auto db = ormkit::postgres::backend::open({.conninfo = "host=db dbname=app user=app"}).value();
//   ormkit::repository<user> users(*db);
//   auto ann = users.insert({.email = "ann@example.com", .name = "Ann", .age = 31}).value();

#include <ormkit/backend.hpp>
#include <ormkit/detail/backend_common.hpp>
#include <ormkit/error.hpp>
#include <ormkit/postgres/connection.hpp>
#include <ormkit/postgres/error.hpp>
#include <ormkit/postgres/sql.hpp>
#include <ormkit/query.hpp>
#include <ormkit/result.hpp>
#include <ormkit/schema.hpp>
#include <ormkit/statement_observer.hpp>
#include <ormkit/value.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace ormkit::postgres {

namespace common = ::ormkit::detail::backend_common;

/// The advisory lock key (pg_advisory_xact_lock) that serialises table creation.
inline constexpr std::int64_t ensure_lock_key = 0x6f726d6b69740001;  // "ormkit" 0001

namespace detail {

// A cursor over a whole result: decodes one row per `next()`.
class result_cursor final : public cursor_source {
 public:
  result_cursor(result_ptr r, std::size_t width, std::string context)
      : result_(std::move(r)), row_(width), context_(std::move(context)) {}

  auto next() -> result<bool> override {
    if (!result_ || row_index_ >= PQntuples(result_.get())) {
      result_.reset();
      return false;
    }
    const int n = std::min(PQnfields(result_.get()), static_cast<int>(row_.size()));
    for (int c = 0; c < n; ++c) {
      if (read_field(result_.get(), row_index_, c, row_[static_cast<std::size_t>(c)])) [[likely]]
        continue;
      auto v = field(result_.get(), row_index_, c);
      if (!v) return std::move(v).error();
      row_[static_cast<std::size_t>(c)] = *v;
    }
    ++row_index_;
    return true;
  }
  [[nodiscard]] auto row() const -> std::span<const value_view> override { return row_; }

 private:
  result_ptr result_;
  int row_index_ = 0;
  std::vector<value_view> row_;
  std::string context_;
};

// PostgreSQL's side of the plumbing shared with SQLite (detail/backend_common.hpp).
struct sql_dialect {
  static void identifier(std::string& out, std::string_view name) { append_identifier(out, name); }
  static void placeholder(std::string& out, std::size_t n) {
    out += '$';
    out += std::to_string(n);
  }
  static auto not_deleted(const column_schema& c) -> std::string_view {
    return column_oid(c) == oid::boolean ? " = FALSE" : " IS NULL";
  }
};

inline auto affected(const PGresult* r) -> std::uint64_t { return connection::changed(r); }

}  // namespace detail

/// The PostgreSQL backend. Satisfies `ormkit::backend`; see the header comment.
class backend {
 public:
  /// Connects. Throws: `ormkit::exception` with the errors of `open`.
  explicit backend(options opts) : opts_(std::move(opts)) {
    params_.describe(opts_.observer != nullptr);
    if (auto st = conn_.open(opts_); !st) throw exception(std::move(st).error());
  }

  /// Connects within `opts.connect_timeout`.
  /// Errors: cannot_open (wrong password, unknown user, missing database), unavailable
  /// (unreachable server), timeout, invalid_argument (malformed connection string);
  /// messages name host, port, database and user, never the password.
  static auto open(options opts) -> result<std::unique_ptr<backend>> {
    std::unique_ptr<backend> b(new backend(deferred{}, std::move(opts)));
    ORMKIT_TRY(b->conn_.open(b->opts_));
    return b;
  }

  backend(const backend&) = delete;
  auto operator=(const backend&) -> backend& = delete;
  /// Rolls back an open transaction (by closing the connection).
  ~backend() = default;

  [[nodiscard]] auto name() const -> std::string_view { return "postgres"; }

  /// Creates the table and its indexes when they do not exist; otherwise a no-op.
  auto ensure_table(const table_schema& s) -> status {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    return {};
  }

  /// Inserts one row; see `ormkit::backend`. An auto-increment key of 0 is generated
  /// by the server (RETURNING); an explicit one moves the key sequence past it, so
  /// generated keys never collide with it. Errors: conflict (message as the memory
  /// backend's), invalid_argument (NULL in a NOT NULL column, wrong storage class, text
  /// PostgreSQL cannot store), timeout, unavailable.
  auto insert(const table_schema& s, std::span<const value_view> r) -> result<std::int64_t> {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    ORMKIT_TRY(check_row(s, r));
    ORMKIT_TRY(references_ready(s, **t));
    return insert_row(s, **t, r, (*t)->insert_sql, (*t)->insert_generated_sql, true);
  }

  /// Inserts `count` rows, all or nothing: one `COPY ... FROM STDIN (FORMAT binary)`
  /// (generated keys taken from the key sequence first, in the same round trip; under a
  /// savepoint inside an open transaction), about two round trips whatever `count`. A
  /// batch mixing generated and explicit keys, or a table whose stored column types differ
  /// from the entity's, goes row by row in pipelines. Errors: as insert, with " (batch item
  /// i)" added to the message (a failed COPY is run again row by row to name the item).
  auto insert_many(const table_schema& s, std::span<const value_view> rows, std::size_t count,
                   std::vector<std::int64_t>& ids) -> status {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    const std::size_t width = s.columns.size();
    if (rows.size() != width * count)
      return unexpected(errc::invalid_argument, std::string(s.name) + ": insert_many got a malformed batch");
    if (count == 0) return {};
    ORMKIT_TRY(references_ready(s, **t));
    for (std::size_t i = 0; i < count; ++i)
      if (auto st = check_row(s, rows.subspan(i * width, width)); !st) return batch_error(std::move(st).error(), i);
    if (count == 1) {  // one statement: all or nothing already, one round trip
      auto id = insert_row(s, **t, rows, (*t)->insert_sql, (*t)->insert_generated_sql, true);
      if (!id) return batch_error(std::move(id).error(), 0);
      ids.push_back(*id);
      return {};
    }
    std::vector<std::int64_t> out;
    out.reserve(count);
    bool all_generated = true, none_generated = true;
    for (std::size_t i = 0; i < count; ++i) {
      const bool g = generates_key(s, rows.subspan(i * width, width));
      all_generated = all_generated && g;
      none_generated = none_generated && !g;
    }
    if (all_generated || none_generated) {
      auto copyable = copy_fits(s, **t);
      if (!copyable) return std::move(copyable).error();
      if (*copyable) {
        auto fast = copy_rows(s, **t, rows, count, all_generated && s.auto_increment.has_value(), out);
        if (fast) {
          ids.insert(ids.end(), out.begin(), out.end());
          return {};
        }
        // COPY does not say which row failed: run the batch row by row (it is all undone
        // already) to name the item, or to hit a transient error again. Not when the failure
        // aborted the caller's transaction (write_guard::native).
        if (!fast.error().is(errc::conflict) && !fast.error().is(errc::invalid_argument)) return fast;
        if (conn_.transaction_failed()) return native_failure(std::move(fast).error());
        out.clear();
      }
    }
    auto st = scoped(s.name, [&]() -> status { return insert_pipelined(s, **t, rows, count, out); });
    if (!st) return st;
    ids.insert(ids.end(), out.begin(), out.end());
    return {};
  }

  /// Inserts, or on a primary-key conflict updates `update_columns`
  /// (`INSERT ... ON CONFLICT (key) DO UPDATE SET c = EXCLUDED.c`). Returns the key as
  /// `insert` does. Errors: as insert (another unique key is a conflict, not an update).
  auto upsert(const table_schema& s, std::span<const value_view> r, std::span<const std::size_t> update_columns)
      -> result<std::int64_t> {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    ORMKIT_TRY(check_row(s, r));
    ORMKIT_TRY(references_ready(s, **t));
    if (s.primary_key.empty())
      return insert_row(s, **t, r, (*t)->insert_sql, (*t)->insert_generated_sql, true);
    std::string suffix = " ON CONFLICT (";
    for (std::size_t k = 0; k < s.primary_key.size(); ++k) {
      if (k) suffix += ", ";
      append_identifier(suffix, s.columns[s.primary_key[k]].name);
    }
    if (update_columns.empty()) {
      suffix += ") DO NOTHING";
    } else {
      suffix += ") DO UPDATE SET ";
      for (std::size_t i = 0; i < update_columns.size(); ++i) {
        if (update_columns[i] >= s.columns.size()) return bad_column(s);
        if (i) suffix += ", ";
        append_identifier(suffix, s.columns[update_columns[i]].name);
        suffix += " = EXCLUDED.";
        append_identifier(suffix, s.columns[update_columns[i]].name);
      }
    }
    std::string given = (*t)->insert_sql + suffix;
    std::string generated = (*t)->insert_generated_sql;
    if (!generated.empty()) {
      // RETURNING goes last: after the ON CONFLICT clause.
      auto at = generated.rfind(" RETURNING ");
      generated.insert(at, suffix);
    }
    return insert_row(s, **t, r, given, generated);
  }

  /// Sets `columns[i] = values[i]` in every row matching `filter`; returns how many rows
  /// matched. Errors: conflict (unique key), invalid_argument.
  auto update(const table_schema& s, std::span<const std::size_t> columns, std::span<const value_view> values,
              const expr& filter) -> result<std::uint64_t> {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    ORMKIT_TRY(check_set(s, columns, values));
    if (columns.empty()) return count_matching(s, filter);
    ORMKIT_TRY(references_ready(s, **t));
    sql_ = "UPDATE ";
    append_identifier(sql_, s.name);
    sql_ += " SET ";
    params_.clear();
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i) sql_ += ", ";
      append_identifier(sql_, s.columns[columns[i]].name);
      ORMKIT_TRY(params_.add_column(s, columns[i], values[i]));
      sql_ += " = $" + std::to_string(params_.size());
    }
    ORMKIT_TRY(append_where(sql_, s, filter, params_));
    return change(s, values, columns);
  }

  /// Deletes matching rows; returns how many. Errors: conflict (rows elsewhere still
  /// reference a deleted row).
  auto erase(const table_schema& s, const expr& filter) -> result<std::uint64_t> {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    sql_ = "DELETE FROM ";
    append_identifier(sql_, s.name);
    params_.clear();
    ORMKIT_TRY(append_where(sql_, s, filter, params_));
    return change(s, {}, {});
  }

  /// A cursor over matching rows, all columns, in `q` order (NULLs first ascending, last
  /// descending, text bytewise, ties by the generated key). The whole result is read
  /// when the call returns; a row's views are valid until the next `next()`.
  auto select(const table_schema& s, const query_spec& q) -> result<cursor> {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    sql_ = (*t)->select_sql;
    params_.clear();
    ORMKIT_TRY(append_where(sql_, s, q.where, params_));
    ORMKIT_TRY(append_order(sql_, s, q.order));
    if (q.limit || q.offset > 0) {
      constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
      value_view limit = q.limit ? value_view(static_cast<std::int64_t>(std::min(*q.limit, max))) : value_view();
      ORMKIT_TRY(params_.add(oid::int8, limit, s.name));
      sql_ += " LIMIT $" + std::to_string(params_.size());
      ORMKIT_TRY(params_.add(oid::int8, static_cast<std::int64_t>(std::min(q.offset, max)), s.name));
      sql_ += " OFFSET $" + std::to_string(params_.size());
    }
    auto r = run(sql_, s);
    if (!r) return std::move(r).error();
    return cursor(std::make_unique<detail::result_cursor>(std::move(*r), s.columns.size(), std::string(s.name)));
  }

  /// The row `k` addresses, passed to `sink`; false when there is none. One prepared
  /// statement per table (and soft-delete choice).
  auto get_key(const table_schema& s, const key_spec& k, row_sink sink) -> result<bool> {
    fast_call f;
    if (fast_keyed(s, k, keyed_kind::get, f)) [[likely]] {
      auto r = conn_.run_prepared(f.statement, f.n, f.values.data(), f.lengths.data(), s.name);
      if (!r) [[unlikely]]
        return keyed_failure(std::move(r).error(), s, false);
      return read_row(s, f.ks->extra, r->get(), sink);
    }
    return get_key_general(s, k, sink);
  }

  /// `erase` of the row `k` addresses: one prepared statement per table.
  auto erase_key(const table_schema& s, const key_spec& k) -> result<std::uint64_t> {
    fast_call f;
    if (fast_keyed(s, k, keyed_kind::erase, f)) [[likely]] {
      auto r = conn_.run_prepared(f.statement, f.n, f.values.data(), f.lengths.data(), s.name);
      if (!r) [[unlikely]]
        return keyed_failure(std::move(r).error(), s, true);
      return connection::deleted(r->get());
    }
    return erase_key_general(s, k);
  }

 private:
  // get_key and erase_key when fast_keyed declines (first uses, observers, errors, ...).
  [[gnu::noinline]] auto get_key_general(const table_schema& s, const key_spec& k, row_sink sink) -> result<bool> {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    ORMKIT_TRY(check_key(s, k));
    auto& ks = (*t)->keyed(s, keyed_kind::get, k, {});
    params_.clear();
    ORMKIT_TRY(bind_key(s, k));
    auto r = run(ks.sql, s, {}, {}, &ks.extra.slot);
    if (!r) return std::move(r).error();
    return read_row(s, ks.extra, r->get(), sink);
  }

  [[gnu::noinline]] auto erase_key_general(const table_schema& s, const key_spec& k) -> result<std::uint64_t> {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    ORMKIT_TRY(check_key(s, k));
    auto& ks = (*t)->keyed(s, keyed_kind::erase, k, {});
    params_.clear();
    ORMKIT_TRY(bind_key(s, k));
    auto r = write(ks.sql, s, {}, {}, nullptr, &ks.extra.slot);
    if (!r) return std::move(r).error();
    return detail::affected(r->get());
  }

 public:
  /// `update` of the row `k` addresses: one prepared statement per table and column list.
  auto update_key(const table_schema& s, const key_spec& k, std::span<const std::size_t> columns,
                  std::span<const value_view> values) -> result<std::uint64_t> {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    ORMKIT_TRY(check_key(s, k));
    ORMKIT_TRY(check_set(s, columns, values));
    if (columns.empty()) return count_matching(s, key_filter_of(s, k));
    ORMKIT_TRY(references_ready(s, **t));
    auto& ks = (*t)->keyed(s, keyed_kind::update, k, columns);
    params_.clear();
    for (std::size_t i = 0; i < columns.size(); ++i)
      ORMKIT_TRY(params_.add_column(s, columns[i], values[i]));
    ORMKIT_TRY(bind_key(s, k));
    auto r = write(ks.sql, s, values, columns, nullptr, &ks.extra.slot);
    if (!r) return std::move(r).error();
    return detail::affected(r->get());
  }

  /// `update_key` for many rows in one round trip: the UPDATEs go in one libpq pipeline,
  /// without a savepoint each (the caller's transaction is all or nothing: repository
  /// update_many opens one and rolls it back on failure; outside a transaction the pipeline
  /// is one implicit transaction). Row r sets `columns` to `values[r * columns.size() ...]`
  /// where `keys[r]` matches; `affected[r]` gets its count. Errors: the first failing row's,
  /// its index in `*failed`; invalid_argument for mismatched spans.
  auto update_keys(const table_schema& s, std::span<const key_spec> keys, std::span<const std::size_t> columns,
                   std::span<const value_view> values, std::span<std::uint64_t> affected, std::size_t* failed)
      -> status {
    ORMKIT_TRY(usable());
    const std::size_t w = columns.size();
    if (values.size() != keys.size() * w || affected.size() != keys.size())
      return unexpected(errc::invalid_argument, std::string(s.name) + ": update_keys got " +
                                                    std::to_string(keys.size()) + " keys, " +
                                                    std::to_string(values.size()) + " values and " +
                                                    std::to_string(affected.size()) + " counts for " +
                                                    std::to_string(w) + " columns");
    if (keys.empty()) return {};
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    auto fail_at = [&](std::size_t r, ormkit::error e) -> status {
      if (failed) *failed = r;
      return unexpected(std::move(e));
    };
    if (w == 0) {  // nothing to set: count the matching rows, as update_key does
      for (std::size_t r = 0; r < keys.size(); ++r) {
        auto n = update_key(s, keys[r], columns, {});
        if (!n) return fail_at(r, std::move(n).error());
        affected[r] = *n;
      }
      return {};
    }
    ORMKIT_TRY(references_ready(s, **t));
    std::vector<const std::string*> sqls(keys.size());
    std::vector<parameters> params(keys.size());
    std::vector<connection::step> steps(keys.size());
    for (std::size_t r = 0; r < keys.size(); ++r) {
      const auto row = values.subspan(r * w, w);
      if (auto st = check_key(s, keys[r]); !st) return fail_at(r, std::move(st).error());
      if (auto st = check_set(s, columns, row); !st) return fail_at(r, std::move(st).error());
      // The keyed statements stay where they are while more are added (a deque): no copy.
      auto& ks = (*t)->keyed(s, keyed_kind::update, keys[r], columns);
      sqls[r] = &ks.sql;
      params[r].describe(params_.describing());
      for (std::size_t i = 0; i < w; ++i)
        if (auto st = params[r].add_column(s, columns[i], row[i]); !st) return fail_at(r, std::move(st).error());
      if (auto st = bind_key(params[r], s, keys[r]); !st) return fail_at(r, std::move(st).error());
      steps[r] = connection::step{&ks.sql, &params[r], &ks.extra.slot};
    }
    statement_observer* o = opts_.observer;
    const auto start = o ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    std::vector<result_ptr> out(keys.size());
    std::size_t bad = 0;
    auto st = conn_.pipeline(steps, out, s.name, &bad);
    if (o) [[unlikely]]
      for (std::size_t r = 0; r < keys.size(); ++r) {
        if (st || r < bad) connection::notify(*o, *sqls[r], params[r].shown(), detail::affected(out[r].get()), start, nullptr);
        else if (r == bad) connection::notify(*o, *sqls[r], params[r].shown(), 0, start, &st.error());
      }
    if (!st) {
      const std::size_t r = bad < keys.size() ? bad : 0;
      return fail_at(r, describe(std::move(st).error(), s, values.subspan(r * w, w), columns));
    }
    for (std::size_t r = 0; r < keys.size(); ++r) affected[r] = detail::affected(out[r].get());
    return {};
  }

  /// Aggregate rows: group values then term values, ordered by the group values.
  /// COUNT(*), COUNT(c), SUM (bigint for integer columns), AVG (double precision), MIN,
  /// MAX with SQL's NULL rules. Errors: invalid_argument ("<table>: sum: integer overflow").
  auto aggregate(const table_schema& s, const aggregate_spec& a) -> result<value_rows> {
    ORMKIT_TRY(usable());
    auto t = table_for(s);
    if (!t) return std::move(t).error();
    if (a.group_by.empty() && a.terms.empty()) return value_rows{std::vector<value>{}};
    sql_ = "SELECT ";
    ORMKIT_TRY(common::append_aggregate_list<detail::sql_dialect>(
        sql_, s, a, [](std::string& sql, const aggregate_term& term, const column_schema& c) {
          const Oid type = column_oid(c);
          std::string col = quote_identifier(c.name);
          // Booleans are 0/1 integers everywhere else; PostgreSQL has no MIN/SUM of boolean.
          if (type == oid::boolean) col += "::int4";
          switch (term.fn) {
            case aggregate_fn::count: sql += "COUNT(" + col + ")"; break;
            case aggregate_fn::sum: sql += type == oid::float8 ? "SUM(" + col + ")" : "SUM(" + col + ")::int8"; break;
            case aggregate_fn::avg: sql += "AVG(" + col + ")::float8"; break;
            case aggregate_fn::min: sql += "MIN(" + col + ")"; break;
            default: sql += "MAX(" + col + ")"; break;
          }
        }));
    sql_ += " FROM ";
    append_identifier(sql_, s.name);
    params_.clear();
    ORMKIT_TRY(append_where(sql_, s, a.where, params_));
    if (auto order = common::append_group_by<detail::sql_dialect>(sql_, s, a); !order.empty())
      ORMKIT_TRY(append_order(sql_, s, order, false));
    auto r = run(sql_, s);
    if (!r) {
      auto e = std::move(r).error();
      if (e.native == "22003") e.message = std::string(s.name) + ": sum: integer overflow";
      return e;
    }
    return rows_of(r->get());
  }

  //=== transactions ===//

  /// BEGIN with `opts.default_isolation`. Errors: transaction_state (already in a
  /// transaction: use a savepoint), unavailable, timeout.
  auto begin() -> status { return begin(opts_.default_isolation); }

  /// BEGIN ISOLATION LEVEL `level`. Under repeatable_read and serializable a transaction
  /// can fail with errc::busy (SQLSTATE 40001); `ormkit::transact` runs it again.
  auto begin(isolation level) -> status {
    if (tx_ != tx::none)
      return unexpected(errc::transaction_state,
                        "postgres: a transaction is already active on this connection; use a savepoint");
    ORMKIT_TRY(reconnect_if_needed());
    const char* sql = level == isolation::serializable      ? "BEGIN ISOLATION LEVEL SERIALIZABLE"
                      : level == isolation::repeatable_read ? "BEGIN ISOLATION LEVEL REPEATABLE READ"
                                                            : "BEGIN ISOLATION LEVEL READ COMMITTED";
    auto r = conn_.simple(sql, "postgres");
    if (!r) return std::move(r).error();
    tx_ = tx::active;
    savepoints_.clear();
    return {};
  }

  /// Commits. The transaction is over either way. Errors: transaction_state (none active,
  /// or an earlier error aborted it: it is rolled back), busy (serialization failure at
  /// commit), commit_unknown (the connection failed while the COMMIT was in flight:
  /// it may or may not have been applied), unavailable.
  auto commit() -> status {
    if (tx_ == tx::none) return unexpected(errc::transaction_state, "postgres: commit without an active transaction");
    if (!conn_.is_open()) {
      end_transaction(false);
      return unexpected(errc::transaction_state,
                        "postgres: the connection was lost during the transaction, which the server rolled back; "
                        "run it again");
    }
    if (conn_.transaction_failed()) {
      (void)conn_.simple("ROLLBACK", "postgres");
      end_transaction(false);
      return unexpected(errc::transaction_state,
                        "postgres: the transaction was aborted by an earlier error and has been rolled back");
    }
    auto r = conn_.simple("COMMIT", "postgres", true);
    if (!r) {
      if (conn_.is_open() && conn_.in_server_transaction()) (void)conn_.simple("ROLLBACK", "postgres");
      end_transaction(false);
      return std::move(r).error();
    }
    if (std::string_view(PQcmdStatus(r->get())) == "ROLLBACK") {
      end_transaction(false);
      return unexpected(errc::transaction_state, "postgres: the server rolled the transaction back at COMMIT");
    }
    end_transaction(true);
    return {};
  }

  /// Rolls back (just ends the transaction when the connection is already gone: the
  /// server rolled it back). Errors: transaction_state (none active).
  auto rollback() -> status {
    if (tx_ == tx::none)
      return unexpected(errc::transaction_state, "postgres: rollback without an active transaction");
    status st;
    if (conn_.is_open() && conn_.in_server_transaction()) {
      auto r = conn_.simple("ROLLBACK", "postgres");
      if (!r && !r.error().is(errc::unavailable) && !r.error().is(errc::timeout)) st = std::move(r).error();
    }
    end_transaction(false);
    return st;
  }

  /// SAVEPOINT "name" inside the active transaction. Errors: transaction_state.
  auto savepoint(std::string_view name) -> status {
    if (tx_ == tx::none)
      return unexpected(errc::transaction_state, "postgres: savepoint " + std::string(name) + " outside a transaction");
    ORMKIT_TRY(usable());
    auto r = conn_.simple("SAVEPOINT " + quote_identifier(name), "postgres");
    if (!r) return std::move(r).error();
    savepoints_.emplace_back(name);
    return {};
  }

  /// RELEASE SAVEPOINT "name" (and every savepoint opened after it).
  auto release(std::string_view name) -> status {
    auto i = find_savepoint(name);
    if (!i) return unexpected(errc::transaction_state, "postgres: no savepoint named " + std::string(name));
    ORMKIT_TRY(usable());
    auto r = conn_.simple("RELEASE SAVEPOINT " + quote_identifier(name), "postgres");
    if (!r) return std::move(r).error();
    savepoints_.resize(*i);
    return {};
  }

  /// ROLLBACK TO SAVEPOINT "name": undoes everything since it; the savepoint stays open.
  /// Also recovers a transaction that an error aborted after the savepoint.
  auto rollback_to(std::string_view name) -> status {
    auto i = find_savepoint(name);
    if (!i) return unexpected(errc::transaction_state, "postgres: no savepoint named " + std::string(name));
    if (!conn_.is_open())
      return unexpected(errc::transaction_state, "postgres: the connection was lost; the transaction is gone");
    auto r = conn_.simple("ROLLBACK TO SAVEPOINT " + quote_identifier(name), "postgres");
    if (!r) return std::move(r).error();
    savepoints_.resize(*i + 1);
    forget_tables_made_in_transaction();
    return {};
  }

  /// True between begin() and commit()/rollback().
  [[nodiscard]] auto in_transaction() const noexcept -> bool { return tx_ != tx::none; }

  //=== beyond the backend concept ===//

  /// Runs SQL text without values (DDL, several statements allowed). For migrations and
  /// tools; never put a value into `sql`, and do not control transactions this way.
  auto execute(std::string_view sql) -> status {
    ORMKIT_TRY(usable());
    auto r = conn_.simple(std::string(sql), "postgres");
    if (!r) return std::move(r).error();
    return {};
  }

  /// Runs one statement with `params` bound to `$1`, `$2`... (typed by their storage
  /// class: bigint, double precision, text, bytea) and returns every row. Result columns
  /// must be of a type ormkit reads (see `field`). Errors: those of the statement.
  auto query(std::string_view sql, std::span<const value_view> params = {}) -> result<value_rows> {
    ORMKIT_TRY(usable());
    parameters p;
    p.describe(params_.describing());
    for (std::size_t i = 0; i < params.size(); ++i)
      ORMKIT_TRY(p.add(storage_oid(storage_of(params[i])), params[i], "postgres: parameter $" + std::to_string(i + 1)));
    auto r = conn_.run_once(std::string(sql), p, "postgres");
    if (!r) return std::move(r).error();
    return rows_of(r->get());
  }

  /// Tells `o` about every statement from now on (null: no one): SQL text with `$n`
  /// placeholders, parameters as text (`secret` columns "<secret>"), rows read or changed,
  /// duration, failure. Not owned; it must outlive its use. Same thread rules as every
  /// other call. A query's rows are reported when it ran (the cursor holds its result).
  void observe_statements(statement_observer* o) noexcept {
    opts_.observer = o;
    params_.describe(o != nullptr);
  }

  /// Prepared-statement counters of the connection.
  [[nodiscard]] auto statistics() const -> statement_statistics { return conn_.statistics(); }
  /// Whether the connection is open (a failed or timed-out call closes it; the next call
  /// outside a transaction opens a new one).
  [[nodiscard]] auto connected() const noexcept -> bool { return conn_.is_open(); }
  /// Opens the connection again when it was closed. Errors: those of `open`.
  auto reconnect() -> status {
    if (tx_ != tx::none) end_transaction(false);
    forget_tables();
    return conn_.open(opts_);
  }
  /// Where the connection goes (never the password).
  [[nodiscard]] auto where() const noexcept -> const endpoint& { return conn_.where(); }
  [[nodiscard]] auto settings() const noexcept -> const options& { return opts_; }
  /// The libpq handle, for what ormkit does not wrap. Do not close it, and do not begin
  /// or end transactions through it. It changes when the connection is reopened.
  [[nodiscard]] auto native_handle() const noexcept -> PGconn* { return conn_.native_handle(); }

 private:
  struct deferred {};
  explicit backend(deferred, options opts) : opts_(std::move(opts)) { params_.describe(opts_.observer != nullptr); }

  enum class tx { none, active };
  using keyed_kind = common::keyed_kind;

  // Key columns the short path of get_key and erase_key binds (more: the general path).
  static constexpr std::size_t fast_keys = 4;

  // What a keyed statement keeps: the slot of its prepared statement and, for a get, the
  // types of its result columns as the server gave them for the statement the slot named
  // when `types_epoch` was the slot's epoch (a prepared statement's result types never
  // change: the server refuses to run it instead), so that they are read once, not per value.
  struct keyed_extra {
    statement_slot slot;
    std::uint64_t types_epoch = 0;
    std::vector<Oid> types;
  };

  struct table_state {
    std::uint64_t hash = 0;
    std::string_view name;
    std::string insert_sql;            // INSERT INTO "t" ("a", "b") VALUES ($1, $2)
    std::string insert_generated_sql;  // without the auto-increment column, RETURNING it
    std::string select_sql;            // SELECT "a", "b" FROM "t"
    std::string bump_sql;              // moves the key sequence past an explicit key
    std::string sequence_sql;          // the key sequence (pg_get_serial_sequence)
    std::string copy_sql;              // COPY "t" (<all columns>) FROM STDIN (FORMAT binary)
    std::optional<bool> copy_fits;     // binary COPY may write the stored table
    std::string absent_reference;      // a table a foreign key references, not there yet
    // Which prepared statement runs insert_sql, insert_generated_sql and bump_sql (their
    // text stays as it is while the table state lives).
    statement_slot insert_slot, insert_generated_slot, bump_slot;
    // Each keyed statement keeps the slot of its prepared statement as its extra.
    common::keyed_statements<keyed_extra> keyed_statements;
    // For the short path of get_key and erase_key (see fast_keyed): each key column's
    // parameter type (0 past the first fast_keys columns), and the keyed statement without
    // a version per kind and include_deleted, once found.
    std::array<Oid, fast_keys> key_types{};
    std::size_t key_count = 0;  // the key's columns; 0 when more than fast_keys
    std::array<common::keyed_statement<keyed_extra>*, 6> plain{};

    // The statement addressing one row by key (detail/backend_common.hpp): its text in
    // `.sql`, the slot of its prepared statement in `.extra.slot`. The reference stays
    // valid while the table state lives (the statements are kept in a deque).
    auto keyed(const table_schema& s, keyed_kind kind, const key_spec& k, std::span<const std::size_t> columns)
        -> common::keyed_statement<keyed_extra>& {
      return keyed_statements.find<detail::sql_dialect>(s, kind, k, columns, select_sql);
    }
  };

  //--- connection state ---//

  auto reconnect_if_needed() -> status {
    if (conn_.is_open()) return {};
    forget_tables();
    return conn_.open(opts_);
  }

  // Refuses to run inside a transaction the server no longer has; reconnects outside one.
  auto usable() -> status {
    if (tx_ == tx::active) {
      if (!conn_.is_open())
        return unexpected(errc::transaction_state,
                          "postgres: the connection was lost during the transaction, which the server rolled back; "
                          "roll back and run it again");
      if (conn_.transaction_failed())
        return unexpected(errc::transaction_state,
                          std::string("postgres: the transaction was aborted by an earlier error") +
                              (savepoint_guard() ? "" : " (write_guard::native: a failed statement aborts it)") +
                              "; roll back (or to a savepoint) and start again");
      return {};
    }
    return reconnect_if_needed();
  }

  void end_transaction(bool committed) {
    if (!committed) forget_tables_made_in_transaction();
    tables_made_in_tx_.clear();
    savepoints_.clear();
    tx_ = tx::none;
  }

  void forget_tables() {
    tables_.clear();
    tables_made_in_tx_.clear();
    last_schema_ = nullptr;
    last_table_ = nullptr;
  }

  void forget_tables_made_in_transaction() {
    for (const auto* s : tables_made_in_tx_) tables_.erase(s);
    last_schema_ = nullptr;
    last_table_ = nullptr;
    tables_made_in_tx_.clear();
  }

  [[nodiscard]] auto find_savepoint(std::string_view name) const -> std::optional<std::size_t> {
    if (tx_ == tx::none) return std::nullopt;
    for (std::size_t i = savepoints_.size(); i-- > 0;)
      if (savepoints_[i] == name) return i;
    return std::nullopt;
  }

  // Runs `fn` all or nothing: in a transaction of its own, or a savepoint inside one.
  template <class F>
  auto scoped(std::string_view context, F&& fn) -> status {
    const bool own = !conn_.in_server_transaction();
    if (!own && !savepoint_guard()) {  // the caller's transaction is all or nothing already
      status st = fn();
      if (!st && conn_.transaction_failed()) return native_failure(std::move(st).error());
      return st;
    }
    if (auto b = conn_.simple(own ? "BEGIN" : "SAVEPOINT ormkit_batch", context); !b) return std::move(b).error();
    status st = fn();
    if (st) {
      auto done = conn_.simple(own ? "COMMIT" : "RELEASE SAVEPOINT ormkit_batch", context, own);
      if (done) return {};
      st = std::move(done).error();
    }
    if (conn_.is_open() && conn_.in_server_transaction())
      (void)conn_.simple(own ? "ROLLBACK" : "ROLLBACK TO SAVEPOINT ormkit_batch; RELEASE SAVEPOINT ormkit_batch",
                         context);
    return st;
  }

  //--- statements ---//

  // The short path of get_key and erase_key (see `fast_keyed`): the prepared statement
  // and the key's values in binary form.
  struct fast_call {
    common::keyed_statement<keyed_extra>* ks = nullptr;
    const char* statement = nullptr;
    int n = 0;
    std::array<const char*, fast_keys> values;
    std::array<int, fast_keys> lengths;
    std::array<std::array<char, 8>, fast_keys> numbers;
  };

  // Whether a get_key or erase_key by `k` can skip the general path, and if so fills `f`:
  // no statement observer, the table the last one used, the connection open and its
  // transaction as this backend left it (none, or an open one; for a write, with
  // write_guard::native), no version to compare, the statement prepared on this connection,
  // and every key value an integer for a bigint column or storable text for a text one.
  // Anything else (and every error it would find) is the general path's.
  [[gnu::always_inline]] auto fast_keyed(const table_schema& s, const key_spec& k, keyed_kind kind, fast_call& f)
      -> bool {
    if (opts_.observer != nullptr || last_schema_ != &s || last_table_->hash != s.hash) return false;
    const auto ts = conn_.transaction_status();
    if (tx_ == tx::none ? ts != PQTRANS_IDLE
                        : ts != PQTRANS_INTRANS || (kind != keyed_kind::get && savepoint_guard()))
      return false;
    table_state& t = *last_table_;
    const std::size_t keys = t.key_count;
    if (keys == 0 || k.key.size() != keys || (k.version && s.version)) return false;
    for (std::size_t i = 0; i < keys; ++i) {
      const Oid type = t.key_types[i];
      if (const auto* v = std::get_if<std::int64_t>(&k.key[i]); v != nullptr && type == oid::int8) [[likely]] {
        postgres::detail::put_be64(f.numbers[i].data(), static_cast<std::uint64_t>(*v));
        f.values[i] = f.numbers[i].data();
        f.lengths[i] = 8;
      } else if (const auto* text = std::get_if<std::string_view>(&k.key[i]);
                 text != nullptr && type == oid::text &&
                 text->size() < static_cast<std::size_t>(std::numeric_limits<int>::max()) &&
                 postgres::detail::storable_text(*text)) {
        f.values[i] = text->data() != nullptr ? text->data() : "";
        f.lengths[i] = static_cast<int>(text->size());
      } else {
        return false;
      }
    }
    auto*& plain = t.plain[static_cast<std::size_t>(kind) * 2 + (!s.soft_delete || k.include_deleted ? 1 : 0)];
    if (plain == nullptr) [[unlikely]]
      plain = &t.keyed(s, kind, k, {});
    f.ks = plain;
    f.statement = conn_.slot_statement(f.ks->extra.slot);
    f.n = static_cast<int>(keys);
    return f.statement != nullptr;
  }

  // A failure of the short path, as the general path words it.
  [[gnu::noinline]] auto keyed_failure(ormkit::error e, const table_schema& s, bool write) -> ormkit::error {
    e = describe(std::move(e), s, {}, {});
    if (write && tx_ != tx::none && conn_.transaction_failed()) return native_failure(std::move(e));
    return e;
  }

  // get_key's row from `r` (the result of the statement `x.slot` names) to `sink`; false
  // when there is none.
  auto read_row(const table_schema& s, keyed_extra& x, const PGresult* r, row_sink sink) -> result<bool> {
    if (PQntuples(r) == 0) return false;
    const std::size_t width = s.columns.size();
    // The row's views: up to 16 on the stack, only `width` of them constructed.
    constexpr std::size_t on_stack = 16;
    alignas(value_view) unsigned char small[on_stack * sizeof(value_view)];
    std::vector<value_view> large;
    std::span<value_view> row;
    if (width <= on_stack) [[likely]] {
      auto* p = reinterpret_cast<value_view*>(small);
      for (std::size_t i = 0; i < width; ++i) ::new (static_cast<void*>(p + i)) value_view();
      row = std::span<value_view>(std::launder(p), width);
    } else {
      large.resize(width);
      row = large;
    }
    static_assert(std::is_trivially_destructible_v<value_view>);  // nothing to destroy in `small`
    if (x.types_epoch != x.slot.epoch) [[unlikely]] {
      // The statement's first result on this connection: its column types, once.
      x.types_epoch = 0;
      if (static_cast<std::size_t>(PQnfields(r)) == width) {
        x.types.resize(width);
        for (std::size_t i = 0; i < width; ++i) x.types[i] = PQftype(r, static_cast<int>(i));
        x.types_epoch = x.slot.epoch;
      }
    }
    const bool typed = x.types_epoch != 0 && x.types_epoch == x.slot.epoch;
    for (std::size_t i = 0; i < width; ++i) {
      const int c = static_cast<int>(i);
      if (typed) [[likely]] {
        const int n = PQgetlength(r, 0, c);
        // Only a NULL or an empty value has length 0: ask libpq which only then.
        if (n == 0 && PQgetisnull(r, 0, c)) {
          row[i] = std::monostate{};
          continue;
        }
        if (read_value(x.types[i], PQgetvalue(r, 0, c), n, row[i])) [[likely]]
          continue;
      } else if (read_field(r, 0, c, row[i])) {
        continue;
      }
      auto v = field(r, 0, c);
      if (!v) return std::move(v).error();
      row[i] = *v;
    }
    ORMKIT_TRY(sink.fn(sink.context, row));
    return true;
  }

  // Runs a prepared statement with params_; maps a failure with the table's context.
  auto run(const std::string& sql, const table_schema& s, std::span<const value_view> written = {},
           std::span<const std::size_t> columns = {}, statement_slot* slot = nullptr) -> result<result_ptr> {
    statement_observer* o = opts_.observer;
    const auto start = o ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    auto r = conn_.run(sql, params_, s.name, false, slot);
    if (!r) r = describe(std::move(r).error(), s, written, columns);
    if (o) [[unlikely]]
      connection::report(*o, sql, params_.shown(), r, start);
    return r;
  }

  // Runs a write: the prepared `sql` with params_, then `then` when set (all or nothing),
  // so that a failure changes nothing and leaves an open transaction usable. Inside a
  // transaction under a savepoint of its own, in one round trip (SAVEPOINT, the write and
  // RELEASE in one pipeline; a failure costs a second one, for ROLLBACK TO).
  // With write_guard::native there is no savepoint: a failure aborts the transaction.
  // `slot`: of `sql` when its text stays put (see statement_slot).
  auto write(const std::string& sql, const table_schema& s, std::span<const value_view> written = {},
             std::span<const std::size_t> columns = {}, const connection::step* then = nullptr,
             statement_slot* slot = nullptr) -> result<result_ptr> {
    const bool guarded = conn_.in_server_transaction() && savepoint_guard();
    if (!guarded && then == nullptr) {
      auto r = run(sql, s, written, columns, slot);
      if (!r && tx_ != tx::none && conn_.transaction_failed()) return native_failure(std::move(r).error());
      return r;
    }
    statement_observer* o = opts_.observer;
    const auto start = o ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    result<result_ptr> r = result_ptr();
    if (guarded) {
      r = conn_.run_guarded(sql, params_, s.name, then, slot);
    } else {
      // Outside a transaction a pipeline runs in one implicit transaction: all or nothing;
      // inside one (write_guard::native) a failure aborts the transaction.
      const std::array<connection::step, 2> steps{connection::step{&sql, &params_, slot}, *then};
      std::array<result_ptr, 2> out;
      if (auto st = conn_.pipeline(steps, out, s.name); !st) r = std::move(st).error();
      else r = std::move(out[0]);
    }
    if (!r) r = describe(std::move(r).error(), s, written, columns);
    if (o) [[unlikely]]
      connection::report(*o, sql, params_.shown(), r, start);
    if (!r && tx_ != tx::none && conn_.transaction_failed()) return native_failure(std::move(r).error());
    return r;
  }

  [[nodiscard]] auto savepoint_guard() const noexcept -> bool {
    return opts_.write_guard == postgres::write_guard::savepoint;
  }

  // The error of a statement that aborted the caller's transaction, saying so: with
  // write_guard::native any failure does; with savepoints only one whose savepoint failed.
  auto native_failure(ormkit::error e) const -> ormkit::error {
    e.message += savepoint_guard() ? "; the transaction is aborted: roll back"
                                   : "; the transaction is aborted (write_guard::native): roll back";
    return e;
  }

  // Rewrites a server error for table `s` in the other backends' words.
  auto describe(ormkit::error e, const table_schema& s, std::span<const value_view> written,
                std::span<const std::size_t> columns) -> ormkit::error {
    const std::string state = e.native;
    const std::string constraint = conn_.last_diagnostics().constraint;
    if (!constraint.empty()) e.native += " " + constraint;
    if (state == "23505") return unique_conflict(s, constraint, written, columns, std::move(e));
    if (state == "23503") {
      const std::string table = conn_.last_diagnostics().table;
      if (table == s.name && !written.empty()) {
        for (std::size_t c = 0; c < s.columns.size(); ++c) {
          const auto& ref = s.columns[c].references;
          if (!ref) continue;
          const value_view* v = find_written(written, columns, c);
          if (!v || v->index() == 0) continue;
          if (!constraint.empty() && constraint != std::string(s.name) + "_" + std::string(s.columns[c].name) + "_fkey")
            continue;
          std::string shown = s.columns[c].has(column_flags::secret) ? std::string("<secret>") : to_display(*v);
          e.message = std::string(s.name) + "." + std::string(s.columns[c].name) + ": value " + shown +
                      " has no matching " + std::string(ref->table) + "." + std::string(ref->column) +
                      " (foreign key " + constraint + ")";
          return e;
        }
      }
      e.message = std::string(s.name) + ": rows of " + table + " still reference it (foreign key " + constraint + ")";
      if (table == s.name)
        e.message = std::string(s.name) + ": foreign key " + constraint +
                    " failed (the referenced row does not exist, or other rows still reference this one)";
      return e;
    }
    if (state == "23502") {
      const std::string column = conn_.last_diagnostics().column;
      if (!column.empty()) e.message = std::string(s.name) + "." + column + ": NULL in a NOT NULL column";
      return e;
    }
    if (state == "42P01" || state == "42703")
      e.message += " (the stored table differs from the entity)";
    return e;
  }

  static auto find_written(std::span<const value_view> written, std::span<const std::size_t> columns, std::size_t c)
      -> const value_view* {
    if (columns.empty()) return c < written.size() ? &written[c] : nullptr;
    for (std::size_t i = 0; i < columns.size() && i < written.size(); ++i)
      if (columns[i] == c) return &written[i];
    return nullptr;
  }

  // `users.email: value "a@b.c" already exists (uq_users_email)`, `(primary key)` for the
  // primary key, `<secret>` for secret columns, no value when the write did not set it.
  auto unique_conflict(const table_schema& s, const std::string& constraint, std::span<const value_view> written,
                       std::span<const std::size_t> columns, ormkit::error e) -> ormkit::error {
    std::vector<std::size_t> cols;
    std::string what;
    for (const auto& ix : s.indexes)
      if (ix.unique && ix.name == constraint) {
        cols = ix.columns;
        what = ix.name;
      }
    if (cols.empty()) {
      cols = s.primary_key;
      what = "primary key";
    }
    if (cols.empty()) return e;
    std::string subject = std::string(s.name) + ".";
    std::string shown;
    bool known = true;
    if (cols.size() > 1) subject += "(", shown += "(";
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (i) subject += ", ", shown += ", ";
      const auto& col = s.columns[cols[i]];
      subject += col.name;
      const value_view* v = find_written(written, columns, cols[i]);
      if (!v) known = false;
      else shown += col.has(column_flags::secret) ? std::string("<secret>") : to_display(*v);
    }
    if (cols.size() > 1) subject += ")", shown += ")";
    e.code = make_error_code(errc::conflict);
    e.message = subject + ": value " + (known ? shown + " " : std::string()) + "already exists (" + what + ")";
    return e;
  }

  auto check_key(const table_schema& s, const key_spec& k) -> status {
    if (s.primary_key.empty())
      return unexpected(errc::unsupported, std::string(s.name) + ": the table has no primary key");
    if (k.key.size() != s.primary_key.size())
      return unexpected(errc::invalid_argument, std::string(s.name) + ": key has " + std::to_string(k.key.size()) +
                                                    " values for " + std::to_string(s.primary_key.size()) +
                                                    " key columns");
    return {};
  }

  auto bind_key(const table_schema& s, const key_spec& k) -> status { return bind_key(params_, s, k); }
  static auto bind_key(parameters& p, const table_schema& s, const key_spec& k) -> status {
    for (std::size_t i = 0; i < k.key.size(); ++i)
      ORMKIT_TRY(p.add_column(s, s.primary_key[i], k.key[i]));
    if (k.version && s.version)
      ORMKIT_TRY(p.add_column(s, *s.version, *k.version));
    return {};
  }

  auto check_set(const table_schema& s, std::span<const std::size_t> columns, std::span<const value_view> values)
      -> status {
    if (columns.size() != values.size())
      return unexpected(errc::invalid_argument, std::string(s.name) + ": update got " +
                                                    std::to_string(columns.size()) + " columns and " +
                                                    std::to_string(values.size()) + " values");
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (columns[i] >= s.columns.size()) return bad_column(s);
      if (!fits(s.columns[columns[i]], values[i])) return misfit(s, columns[i], values[i]);
    }
    return {};
  }

  // Runs the UPDATE / DELETE in sql_ with params_ (under a savepoint in a transaction).
  auto change(const table_schema& s, std::span<const value_view> written, std::span<const std::size_t> columns)
      -> result<std::uint64_t> {
    auto r = write(sql_, s, written, columns);
    if (!r) return std::move(r).error();
    return detail::affected(r->get());
  }

  auto count_matching(const table_schema& s, const expr& filter) -> result<std::uint64_t> {
    sql_ = "SELECT COUNT(*) FROM ";
    append_identifier(sql_, s.name);
    params_.clear();
    ORMKIT_TRY(append_where(sql_, s, filter, params_));
    auto r = run(sql_, s);
    if (!r) return std::move(r).error();
    auto v = field(r->get(), 0, 0);
    if (!v) return std::move(v).error();
    const auto* n = std::get_if<std::int64_t>(&*v);
    return n ? static_cast<std::uint64_t>(*n) : std::uint64_t{0};
  }

  static auto rows_of(const PGresult* r) -> result<value_rows> {
    value_rows out;
    const int rows = PQntuples(r), cols = PQnfields(r);
    out.reserve(static_cast<std::size_t>(rows));
    for (int i = 0; i < rows; ++i) {
      std::vector<value> row;
      row.reserve(static_cast<std::size_t>(cols));
      for (int c = 0; c < cols; ++c) {
        auto v = field(r, i, c);
        if (!v) return std::move(v).error();
        row.push_back(own(*v));
      }
      out.push_back(std::move(row));
    }
    return out;
  }

  // Binds and runs an INSERT of `r`: `generated_sql` (RETURNING the key) when the
  // auto-increment key is to be generated, else `given_sql`.
  // `own`: the SQL is the table state's own insert_sql and insert_generated_sql (their
  // slots apply).
  auto insert_row(const table_schema& s, table_state& t, std::span<const value_view> r, const std::string& given_sql,
                  const std::string& generated_sql, bool own = false) -> result<std::int64_t> {
    const bool generated = generates_key(s, r);
    params_.clear();
    for (std::size_t i = 0; i < r.size(); ++i) {
      if (generated && i == *s.auto_increment) continue;
      ORMKIT_TRY(params_.add_column(s, i, r[i]));
    }
    const std::string& sql = generated ? generated_sql : given_sql;
    statement_slot* slot = !own ? nullptr : generated ? &t.insert_generated_slot : &t.insert_slot;
    if (!s.auto_increment || generated) {
      auto res = write(sql, s, r, {}, nullptr, slot);
      if (!res) return std::move(res).error();
      if (!s.auto_increment) return std::int64_t{0};
      if (PQntuples(res->get()) < 1) return unexpected(errc::backend_error, std::string(s.name) + ": no key returned");
      auto v = field(res->get(), 0, 0);
      if (!v) return std::move(v).error();
      const auto* id = std::get_if<std::int64_t>(&*v);
      if (!id) return unexpected(errc::backend_error, std::string(s.name) + ": the returned key is not an integer");
      return *id;
    }
    // An explicit key: the INSERT, then the key sequence moved past it, in one round trip.
    const auto id = std::get<std::int64_t>(r[*s.auto_increment]);
    bump_params_.clear();
    ORMKIT_TRY(bump_params_.add(oid::int8, id, s.name));
    const connection::step bump{&t.bump_sql, &bump_params_, &t.bump_slot};
    auto res = write(sql, s, r, {}, &bump, slot);
    if (!res) return std::move(res).error();
    return id;
  }

  // Rows per pipeline of insert_many's row-by-row path.
  static constexpr std::size_t pipeline_rows = 512;

  // Whether binary COPY may write `s`: every column stored with the type ormkit binds (a
  // table made elsewhere may differ; binary COPY does not convert). Asked once per table.
  auto copy_fits(const table_schema& s, table_state& t) -> result<bool> {
    if (t.copy_fits) return *t.copy_fits;
    parameters p;
    p.describe(params_.describing());
    ORMKIT_TRY(p.add(oid::text, std::string_view(s.name), s.name));
    auto r = conn_.run(
        "SELECT a.attname::text, a.atttypid::int8 FROM pg_catalog.pg_attribute a WHERE a.attrelid = "
        "pg_catalog.to_regclass(pg_catalog.quote_ident($1)) AND a.attnum > 0 AND NOT a.attisdropped",
        p, s.name);
    if (!r) return std::move(r).error();
    std::size_t matched = 0;
    for (int i = 0; i < PQntuples(r->get()); ++i) {
      std::string_view name(PQgetvalue(r->get(), i, 0), static_cast<std::size_t>(PQgetlength(r->get(), i, 0)));
      auto type = field(r->get(), i, 1);
      if (!type) return std::move(type).error();
      for (const auto& c : s.columns)
        if (c.name == name && std::get_if<std::int64_t>(&*type) &&
            *std::get_if<std::int64_t>(&*type) == static_cast<std::int64_t>(column_oid(c)))
          ++matched;
    }
    t.copy_fits = matched == s.columns.size();
    return *t.copy_fits;
  }

  // The binary COPY of `count` rows in one script: [SAVEPOINT;] [SELECT nextval(...) for the
  // generated keys;] COPY; [the key sequence moved past explicit keys;] [RELEASE]. Outside a
  // transaction the script is one implicit transaction. Appends the keys to `out`.
  auto copy_rows(const table_schema& s, table_state& t, std::span<const value_view> rows, std::size_t count,
                 bool generated, std::vector<std::int64_t>& out) -> status {
    const std::size_t width = s.columns.size();
    // Encode first (a value PostgreSQL cannot take fails before anything is sent); the
    // generated keys are patched in when the sequence has given them.
    std::string data;
    data.reserve(19 + count * (2 + width * 16) + 2);
    data.append("PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0", 19);
    std::vector<std::size_t> key_at;
    if (generated) key_at.reserve(count);
    auto put32 = [&](std::uint32_t v) {
      const char b[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8),
                         static_cast<char>(v)};
      data.append(b, 4);
    };
    const bool describing = params_.describing();
    params_.describe(false);
    for (std::size_t r = 0; r < count; ++r) {
      auto row = rows.subspan(r * width, width);
      params_.clear();
      for (std::size_t c = 0; c < width; ++c) {
        if (generated && c == *s.auto_increment) continue;
        if (auto st = params_.add_column(s, c, row[c]); !st) {
          params_.describe(describing);
          return batch_error(std::move(st).error(), r);
        }
      }
      data.push_back(static_cast<char>(width >> 8));
      data.push_back(static_cast<char>(width & 0xffu));
      std::size_t p = 0;
      for (std::size_t c = 0; c < width; ++c) {
        if (generated && c == *s.auto_increment) {
          put32(8);
          key_at.push_back(data.size());
          data.append(8, '\0');
          continue;
        }
        const char* v = params_.values()[p];
        const int n = params_.lengths()[p];
        ++p;
        if (v == nullptr) {
          put32(0xffffffffu);
          continue;
        }
        put32(static_cast<std::uint32_t>(n));
        data.append(v, static_cast<std::size_t>(n));
      }
    }
    params_.describe(describing);
    params_.clear();
    data.append("\xff\xff", 2);

    if (t.copy_sql.empty()) {
      t.copy_sql = "COPY ";
      append_identifier(t.copy_sql, s.name);
      t.copy_sql += " (";
      for (std::size_t c = 0; c < width; ++c) {
        if (c) t.copy_sql += ", ";
        append_identifier(t.copy_sql, s.columns[c].name);
      }
      t.copy_sql += ") FROM STDIN (FORMAT binary)";
    }
    const bool in_transaction = conn_.in_server_transaction();
    const bool guarded = in_transaction && savepoint_guard();
    std::string keys_sql;
    std::string script = guarded ? "SAVEPOINT ormkit_batch; " : "";
    if (generated) {
      // The count is ours, not a value of the caller's.
      // The sequence looked up once (an InitPlan), not per row: seven times faster.
      keys_sql = "SELECT pg_catalog.nextval((SELECT " + t.sequence_sql +
                 "::regclass)) FROM pg_catalog.generate_series(1, " + std::to_string(count) + ")";
      script += keys_sql + "; ";
    }
    script += t.copy_sql;
    if (s.auto_increment && !generated) {
      // Past the highest explicit key (read from the table: no value in the SQL text).
      script += "; SELECT pg_catalog.setval(" + t.sequence_sql + ", m) FROM (SELECT MAX(" +
                quote_identifier(s.columns[*s.auto_increment].name) + ") AS m FROM " + quote_identifier(s.name) +
                ") AS k WHERE m > COALESCE(pg_catalog.pg_sequence_last_value(" + t.sequence_sql + "), 0)";
    }
    if (guarded) script += "; RELEASE SAVEPOINT ormkit_batch";

    statement_observer* o = opts_.observer;
    const auto start = o ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
    std::vector<std::int64_t> keys;
    auto done = conn_.copy_in(
        script, s.name, !in_transaction,
        [&](const PGresult* r) -> status {
          if (!generated || PQresultStatus(r) != PGRES_TUPLES_OK) return {};
          const int n = PQntuples(r);
          keys.reserve(static_cast<std::size_t>(n));
          for (int i = 0; i < n; ++i) {
            const char* text = PQgetvalue(r, i, 0);
            std::int64_t k = 0;
            auto [end, ec] = std::from_chars(text, text + PQgetlength(r, i, 0), k);
            if (ec != std::errc{})
              return unexpected(errc::backend_error, std::string(s.name) + ": the key sequence gave a non-integer");
            keys.push_back(k);
          }
          return {};
        },
        [&](std::string& buffer) -> status {
          if (generated) {
            if (keys.size() != count)
              return unexpected(errc::backend_error, std::string(s.name) + ": the key sequence gave " +
                                                         std::to_string(keys.size()) + " keys for " +
                                                         std::to_string(count) + " rows");
            for (std::size_t r = 0; r < count; ++r)
              postgres::detail::put_be64(data.data() + key_at[r], static_cast<std::uint64_t>(keys[r]));
          }
          buffer.swap(data);
          return {};
        });
    if (!done) {
      if (guarded && conn_.is_open() && conn_.in_server_transaction()) {
        const auto diagnostics = conn_.last_diagnostics();
        (void)conn_.simple("ROLLBACK TO SAVEPOINT ormkit_batch; RELEASE SAVEPOINT ormkit_batch", s.name);
        conn_.restore_diagnostics(diagnostics);
      }
      done = describe(std::move(done).error(), s, {}, {});
    }
    if (o) [[unlikely]] {
      if (generated) connection::notify(*o, keys_sql, {}, keys.size(), start, nullptr);
      connection::notify(*o, t.copy_sql, {}, done ? count : 0, start, done ? nullptr : &done.error());
    }
    if (!done) return std::move(done).error();
    for (std::size_t r = 0; r < count; ++r)
      out.push_back(!s.auto_increment ? 0
                    : generated       ? keys[r]
                                      : std::get<std::int64_t>(rows[r * width + *s.auto_increment]));
    return {};
  }

  // insert_many row by row, `pipeline_rows` INSERTs per round trip (inside `scoped`).
  auto insert_pipelined(const table_schema& s, table_state& t, std::span<const value_view> rows, std::size_t count,
                        std::vector<std::int64_t>& out) -> status {
    const std::size_t width = s.columns.size();
    std::int64_t highest = 0;
    statement_observer* o = opts_.observer;
    std::vector<parameters> params(std::min(count, pipeline_rows));
    std::vector<connection::step> steps;
    std::vector<result_ptr> results;
    for (std::size_t done = 0; done < count;) {
      const std::size_t n = std::min(pipeline_rows, count - done);
      steps.clear();
      for (std::size_t i = 0; i < n; ++i) {
        auto row = rows.subspan((done + i) * width, width);
        const bool generated = generates_key(s, row);
        auto& p = params[i];
        p.clear();
        p.describe(o != nullptr);
        p.for_table(&s);
        for (std::size_t c = 0; c < width; ++c) {
          if (generated && c == *s.auto_increment) continue;
          if (auto st = p.add_column(s, c, row[c]); !st) return batch_error(std::move(st).error(), done + i);
        }
        steps.push_back({generated ? &t.insert_generated_sql : &t.insert_sql, &p});
      }
      results.clear();
      results.resize(n);
      const auto start = o ? std::chrono::steady_clock::now() : std::chrono::steady_clock::time_point{};
      std::size_t failed = n;
      auto st = conn_.pipeline(steps, results, s.name, &failed);
      if (o) [[unlikely]]
        for (std::size_t i = 0; i < n && i <= failed; ++i) {
          result<result_ptr> r = i == failed ? result<result_ptr>(st.error()) : result<result_ptr>(std::move(results[i]));
          connection::report(*o, *steps[i].sql, params[i].shown(), r, start);
          if (r) results[i] = std::move(*r);
        }
      if (!st) {
        const std::size_t at = failed < n ? failed : 0;
        return batch_error(describe(std::move(st).error(), s, rows.subspan((done + at) * width, width), {}),
                           done + at);
      }
      for (std::size_t i = 0; i < n; ++i) {
        auto row = rows.subspan((done + i) * width, width);
        if (!s.auto_increment) {
          out.push_back(0);
        } else if (generates_key(s, row)) {
          if (!results[i] || PQntuples(results[i].get()) < 1)
            return unexpected(errc::backend_error, std::string(s.name) + ": no key returned");
          auto v = field(results[i].get(), 0, 0);
          if (!v) return std::move(v).error();
          const auto* id = std::get_if<std::int64_t>(&*v);
          if (!id) return unexpected(errc::backend_error, std::string(s.name) + ": the returned key is not an integer");
          out.push_back(*id);
        } else {
          const auto id = std::get<std::int64_t>(row[*s.auto_increment]);
          highest = std::max(highest, id);
          out.push_back(id);
        }
      }
      done += n;
    }
    if (s.auto_increment && highest > 0) {
      params_.clear();
      ORMKIT_TRY(params_.add(oid::int8, highest, s.name));
      auto bumped = run(t.bump_sql, s);
      if (!bumped) return std::move(bumped).error();
    }
    return {};
  }

  static auto generates_key(const table_schema& s, std::span<const value_view> r) -> bool {
    if (!s.auto_increment) return false;
    const auto* id = std::get_if<std::int64_t>(&r[*s.auto_increment]);
    return !id || *id == 0;
  }

  static auto fits(const column_schema& col, const value_view& v) noexcept -> bool {
    if (v.index() == 0) return col.nullable;
    auto got = storage_of(v);
    return got == col.storage || (col.storage == storage::real && got == storage::integer);
  }

  static auto misfit(const table_schema& s, std::size_t c, const value_view& v) -> ormkit::error {
    const auto& col = s.columns[c];
    std::string subject = std::string(s.name) + "." + std::string(col.name) + ": ";
    if (v.index() == 0) return {errc::invalid_argument, subject + "NULL in a NOT NULL column"};
    return {errc::invalid_argument, subject + "expected " + std::string(to_string(col.storage)) + ", got " +
                                        std::string(to_string(storage_of(v)))};
  }

  static auto check_row(const table_schema& s, std::span<const value_view> r) -> status {
    if (r.size() != s.columns.size())
      return unexpected(errc::invalid_argument, std::string(s.name) + ": row has " + std::to_string(r.size()) +
                                                    " values for " + std::to_string(s.columns.size()) + " columns");
    const bool generated = generates_key(s, r);
    for (std::size_t c = 0; c < r.size(); ++c) {
      if (generated && c == *s.auto_increment) continue;
      if (!fits(s.columns[c], r[c])) return misfit(s, c, r[c]);
    }
    return {};
  }

  static auto batch_error(ormkit::error e, std::size_t i) -> ormkit::error {
    e.message += " (batch item " + std::to_string(i) + ")";
    return e;
  }

  static auto bad_column(const table_schema& s) -> ormkit::error { return common::bad_column(s); }

  //--- tables ---//

  auto table_for(const table_schema& s) -> result<table_state*> {
    params_.for_table(&s);
    if (last_schema_ == &s && last_table_->hash == s.hash) return last_table_;
    if (auto it = tables_.find(&s); it != tables_.end() && it->second.hash == s.hash && it->second.name == s.name) {
      last_schema_ = &s;
      last_table_ = &it->second;
      return &it->second;
    }
    auto absent = ensure(s);
    if (!absent) return std::move(absent).error();
    table_state t;
    t.absent_reference = std::move(*absent);
    t.hash = s.hash;
    t.name = s.name;
    auto built = common::build_table_statements<detail::sql_dialect>(s);
    t.insert_sql = std::move(built.insert_sql);
    t.insert_generated_sql = std::move(built.insert_generated_sql);
    t.select_sql = std::move(built.select_sql);
    if (s.auto_increment) {
      const auto& key = s.columns[*s.auto_increment].name;
      t.insert_generated_sql += " RETURNING ";
      append_identifier(t.insert_generated_sql, key);
      // setval only ever moves the sequence forward; it is not undone by a rollback, so
      // keys are never reused (as on the other backends).
      std::string seq = "pg_catalog.pg_get_serial_sequence(" + sql_string(quote_identifier(s.name)) + ", " +
                        sql_string(key) + ")";
      t.bump_sql = "SELECT pg_catalog.setval(" + seq + ", $1) WHERE $1 > COALESCE(pg_catalog.pg_sequence_last_value(" +
                   seq + "), 0)";
      t.sequence_sql = std::move(seq);
    }
    for (std::size_t i = 0; i < s.primary_key.size() && i < fast_keys; ++i)
      t.key_types[i] = column_oid(s.columns[s.primary_key[i]]);
    t.key_count = s.primary_key.size() <= fast_keys ? s.primary_key.size() : 0;
    if (tx_ != tx::none) tables_made_in_tx_.push_back(&s);
    auto& slot = tables_[&s];
    slot = std::move(t);
    last_schema_ = &s;
    last_table_ = &slot;
    return &slot;
  }

  // A SQL string literal of a name from a descriptor (checked identifiers).
  static auto sql_string(std::string_view s) -> std::string {
    std::string out = "'";
    for (char c : s) {
      if (c == '\'') out += '\'';
      out += c;
    }
    out += '\'';
    return out;
  }

  // Creates what of `s` the catalog does not show: the table, its indexes, its foreign
  // keys. A foreign key whose table does not exist yet is left out (reads of the table
  // work, as on the other backends; writes wait for it, see references_ready). Returns the
  // name of such a missing table, or "".
  auto ensure(const table_schema& s) -> result<std::string> {
    if (s.columns.empty())
      return unexpected(errc::invalid_argument, std::string(s.name) + ": a table needs at least one column");
    parameters p;
    p.describe(params_.describing());
    ORMKIT_TRY(p.add(oid::text, std::string_view(s.name), s.name));
    auto present = conn_.run(
        "SELECT c.relname::text FROM pg_catalog.pg_class c WHERE c.relnamespace = (SELECT n.oid FROM "
        "pg_catalog.pg_namespace n WHERE n.nspname = pg_catalog.current_schema()) AND (c.relname = $1 OR c.oid IN "
        "(SELECT i.indexrelid FROM pg_catalog.pg_index i WHERE i.indrelid = "
        "pg_catalog.to_regclass(pg_catalog.quote_ident($1)))) UNION ALL SELECT k.conname::text FROM "
        "pg_catalog.pg_constraint k WHERE k.contype = 'f' AND k.conrelid = "
        "pg_catalog.to_regclass(pg_catalog.quote_ident($1))",
        p, s.name);
    if (!present) return std::move(present).error();
    auto has = [&](std::string_view n) {
      for (int i = 0; i < PQntuples(present->get()); ++i)
        if (std::string_view(PQgetvalue(present->get(), i, 0),
                             static_cast<std::size_t>(PQgetlength(present->get(), i, 0))) == n)
          return true;
      return false;
    };
    const bool table = has(s.name);
    bool complete = table;
    for (const auto& ix : s.indexes) complete = complete && has(ix.name);
    std::vector<std::size_t> missing_references;  // foreign keys not in the catalog
    for (std::size_t c = 0; c < s.columns.size(); ++c)
      if (s.columns[c].references && !has(foreign_key_name(s, c))) missing_references.push_back(c);
    if (complete && missing_references.empty()) return std::string();

    // Which of the referenced tables exist (a table referencing itself will).
    std::vector<std::size_t> without;
    std::string absent;
    for (std::size_t c : missing_references) {
      const auto parent = s.columns[c].references->table;
      if (parent == s.name) continue;
      parameters q;
      q.describe(params_.describing());
      ORMKIT_TRY(q.add(oid::text, parent, s.name));
      auto exists = conn_.run("SELECT (pg_catalog.to_regclass(pg_catalog.quote_ident($1)) IS NOT NULL)", q, s.name);
      if (!exists) return std::move(exists).error();
      auto v = field(exists->get(), 0, 0);
      if (!v) return std::move(v).error();
      if (const auto* yes = std::get_if<std::int64_t>(&*v); yes && *yes == 0) {
        without.push_back(c);
        if (absent.empty()) absent = std::string(parent);
      }
    }
    const bool own = !conn_.in_server_transaction();
    std::string script = own ? "BEGIN; " : "SAVEPOINT ormkit_ensure; ";
    script += "SELECT pg_catalog.pg_advisory_xact_lock(" + std::to_string(ensure_lock_key) + "); ";
    if (!table) {
      auto statements = schema_sql(s, without);
      if (!statements) return std::move(statements).error();
      for (const auto& st : *statements) script += st + "; ";
    } else {
      for (const auto& ix : s.indexes) script += create_index_sql(s, ix) + "; ";
      for (std::size_t c : missing_references)
        if (std::find(without.begin(), without.end(), c) == without.end())
          // Another connection may have added it meanwhile: that is success too.
          script += "DO $ormkit$ BEGIN " + add_foreign_key_sql(s, c) +
                    "; EXCEPTION WHEN duplicate_object THEN NULL; END $ormkit$; ";
    }
    script += own ? "COMMIT" : "RELEASE SAVEPOINT ormkit_ensure";
    auto done = conn_.simple(script, s.name);
    if (!done) {
      if (conn_.is_open() && conn_.in_server_transaction())
        (void)conn_.simple(own ? "ROLLBACK" : "ROLLBACK TO SAVEPOINT ormkit_ensure; RELEASE SAVEPOINT ormkit_ensure",
                           s.name);
      auto e = std::move(done).error();
      e.message = std::string(s.name) + ": cannot create the table or its indexes: " + e.message;
      return e;
    }
    return absent;
  }

  // Before a write: the foreign keys of the table must exist, so the write is checked.
  // Errors: schema_mismatch (a referenced table does not exist yet), as on SQLite.
  auto references_ready(const table_schema& s, table_state& t) -> status {
    if (t.absent_reference.empty()) return {};
    auto absent = ensure(s);
    if (!absent) return std::move(absent).error();
    t.absent_reference = std::move(*absent);
    if (t.absent_reference.empty()) return {};
    return unexpected(errc::schema_mismatch, std::string(s.name) + ": the table " + t.absent_reference +
                                                 " that a foreign key references does not exist yet; use its "
                                                 "repository (or ensure_table) first");
  }

  options opts_;
  connection conn_;
  tx tx_ = tx::none;
  std::vector<std::string> savepoints_;
  std::unordered_map<const table_schema*, table_state> tables_;
  const table_schema* last_schema_ = nullptr;
  table_state* last_table_ = nullptr;
  std::vector<const table_schema*> tables_made_in_tx_;
  std::string sql_;
  parameters params_;
  parameters bump_params_;
};

static_assert(ormkit::backend<backend>);

}  // namespace ormkit::postgres
