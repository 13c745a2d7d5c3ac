// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/backend.hpp
//
// The contract between the typed layer (repository<T>) and a storage engine.
// Everything here is untyped: a `table_schema`, spans of `value_view`, the
// query AST. A backend is any type satisfying `backend`; `backend_ref` erases
// it so that `repository<user>` is one nameable type whatever the backend.
//
// Example:
//
//   ormkit::memory::backend db;
//   static_assert(ormkit::backend<ormkit::memory::backend>);
//   ormkit::backend_ref ref(db);   // what repositories hold

#include <ormkit/query.hpp>
#include <ormkit/result.hpp>
#include <ormkit/schema.hpp>
#include <ormkit/value.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <utility>
#include <vector>

namespace ormkit {

/// A forward-only cursor over result rows. Backends implement `cursor_source`;
/// callers hold the movable `cursor`.
class cursor_source {
 public:
  virtual ~cursor_source() = default;
  /// Advances to the next row; false at the end.
  virtual auto next() -> result<bool> = 0;
  /// The current row's columns in table order; valid until the next `next()`.
  [[nodiscard]] virtual auto row() const -> std::span<const value_view> = 0;
};

/// An owning handle on a backend cursor.
class cursor {
 public:
  cursor() = default;
  explicit cursor(std::unique_ptr<cursor_source> source) : source_(std::move(source)) {}
  auto next() -> result<bool> { return source_ ? source_->next() : result<bool>(false); }
  [[nodiscard]] auto row() const -> std::span<const value_view> { return source_->row(); }

 private:
  std::unique_ptr<cursor_source> source_;
};

/// Rows of an aggregate: group values, then term values.
using value_rows = std::vector<std::vector<value>>;

/// Receives rows without a cursor: `fn(context, row)`, the row's views valid during the call.
struct row_sink {
  void* context;
  status (*fn)(void* context, std::span<const value_view> row);

  /// Passes every row of `c` on, in order; stops at the first error (the cursor's or the sink's).
  auto drain(cursor& c) const -> status {
    for (;;) {
      auto more = c.next();
      if (!more) return std::move(more).error();
      if (!*more) return {};
      if (auto st = fn(context, c.row()); !st) return st;
    }
  }
};

/// One row addressed by its primary key: the everyday get / update / erase.
struct key_spec {
  /// The key's values, one per `table_schema::primary_key` column, in that order.
  std::span<const value_view> key;
  /// When set, the row matches only if its version column holds this value.
  std::optional<std::int64_t> version;
  /// Match a soft-deleted row too (by default only live rows match).
  bool include_deleted = false;
};

/// The filter a `key_spec` stands for, as a query expression (for backends without
/// keyed operations of their own, and for messages).
[[nodiscard]] inline auto key_filter_of(const table_schema& s, const key_spec& k) -> expr {
  expr out;
  for (std::size_t i = 0; i < s.primary_key.size() && i < k.key.size(); ++i)
    out = make_and(std::move(out), expr{op::eq, s.primary_key[i], {own(k.key[i])}, {}, {}});
  if (k.version && s.version) out = make_and(std::move(out), expr{op::eq, *s.version, {value(*k.version)}, {}, {}});
  if (s.soft_delete && !k.include_deleted) {
    const auto& c = s.columns[*s.soft_delete];
    out = make_and(std::move(out), c.kind == sql_kind::boolean
                                       ? expr{op::eq, *s.soft_delete, {value(std::int64_t{0})}, {}, {}}
                                       : expr{op::is_null, *s.soft_delete, {}, {}, {}});
  }
  return out;
}

/// A storage engine. Each requirement, in order:
///
/// - `b.name()`: a short name for messages and metrics ("memory", "sqlite").
/// - `b.ensure_table(schema)`: makes the table and its indexes exist (no-op when they do).
/// - `b.insert(schema, row)`: inserts one row (one view per column, table order). When the
///   schema has an auto-increment column whose value is 0, the backend generates the key.
///   Returns the row's key for an auto-increment table, else 0.
///   Errors: conflict (primary or unique key taken; nothing changed).
/// - `b.insert_many(schema, rows, count, ids)`: inserts `count` rows stored back to back in
///   `rows`, all or nothing; appends each generated key to `ids`.
/// - `b.upsert(schema, row, update_columns)`: inserts, or on a primary-key conflict updates
///   `update_columns` of the existing row to the given values. Returns the key as `insert`.
/// - `b.update(schema, columns, values, filter)`: sets `columns[i] = values[i]` in every row
///   matching `filter`; returns the number of rows changed. Errors: conflict (unique key).
/// - `b.erase(schema, filter)`: deletes matching rows; returns how many.
/// - `b.select(schema, spec)`: a cursor over matching rows, all columns, in `spec` order.
/// - `b.aggregate(schema, spec)`: aggregate rows per `aggregate_spec`.
/// - `b.begin()`, `b.commit()`, `b.rollback()`: a transaction on the calling thread.
/// - `b.savepoint(name)`, `b.release(name)`, `b.rollback_to(name)`: nested scopes inside it.
///
/// Optional keyed operations (a backend may implement them for speed; `backend_ref`
/// otherwise runs them through `select` / `update` / `erase` with `key_filter_of`):
///
/// - `b.fetch(schema, spec, sink)`: calls `sink` with each row `select(schema, spec)` would
///   give, in order; stops at the first error (a failing `sink`'s included) and returns it.
///   Without it, `backend_ref` runs the cursor of `select` (one virtual call per row).
/// - `b.get_key(schema, key, sink)`: calls `sink` with the row `key` addresses; false when none.
/// - `b.update_key(schema, key, columns, values)`: `update` of the row `key` addresses.
/// - `b.erase_key(schema, key)`: `erase` of the row `key` addresses.
/// - `b.update_keys(schema, keys, columns, values, affected, failed)`: `update_key` for many
///   rows at once (PostgreSQL: one pipeline). Row r sets `columns` to
///   `values[r * columns.size() ...]` where `keys[r]` matches; `affected[r]` gets its count.
///   Called inside a transaction the caller rolls back on failure; stops at the first
///   failing row, whose index goes to `*failed`. Otherwise `update_key` row by row.
///
/// Every call returns `result`/`status`; a failed write changes nothing. Query
/// evaluation follows SQL: three-valued logic around NULL, case-sensitive LIKE, NULLs
/// first when ascending and last when descending, text compared bytewise.
template <class B>
concept backend = requires(B& b, const table_schema& schema, std::span<const value_view> row,
                           std::span<const std::size_t> columns, const expr& filter, const query_spec& q,
                           const aggregate_spec& a, std::vector<std::int64_t>& ids, std::string_view name) {
  { b.name() } -> std::convertible_to<std::string_view>;
  { b.ensure_table(schema) } -> std::same_as<status>;
  { b.insert(schema, row) } -> std::same_as<result<std::int64_t>>;
  { b.insert_many(schema, row, std::size_t{}, ids) } -> std::same_as<status>;
  { b.upsert(schema, row, columns) } -> std::same_as<result<std::int64_t>>;
  { b.update(schema, columns, row, filter) } -> std::same_as<result<std::uint64_t>>;
  { b.erase(schema, filter) } -> std::same_as<result<std::uint64_t>>;
  { b.select(schema, q) } -> std::same_as<result<cursor>>;
  { b.aggregate(schema, a) } -> std::same_as<result<value_rows>>;
  { b.begin() } -> std::same_as<status>;
  { b.commit() } -> std::same_as<status>;
  { b.rollback() } -> std::same_as<status>;
  { b.savepoint(name) } -> std::same_as<status>;
  { b.release(name) } -> std::same_as<status>;
  { b.rollback_to(name) } -> std::same_as<status>;
};

/// Optional, for speed: a backend whose everyday writes take their values one at a
/// time from a caller that knows the entity's type, with no row of `value_view`s built
/// first. A `repository<T>` constructed on such a backend itself (not on a
/// `backend_ref`) writes through it; everything else, and every case the backend does
/// not call everyday, takes the `backend` calls above. Each requirement, in order:
///
/// - `b.begin_insert(schema, generated)`: a writer for `insert` of one full row, or an
///   empty one (false) when the call is not the backend's everyday case. `generated`:
///   the auto-increment column's value is 0 or NULL, so the backend generates the key;
///   that column then has no parameter, and the other columns' parameters close up.
/// - `b.begin_update_key(schema, columns, versioned)`: a writer for `update_key` of
///   `columns`, or an empty one. Parameters: the values of `columns`, then the primary
///   key's columns in `schema.primary_key` order, then the expected version when
///   `versioned`. The row must be live (not soft-deleted).
/// - `w.put(i, view, copy)`: binds parameter `i` (0-based). `copy`: the view's bytes
///   die before `finish` (otherwise they must live until then). `w.fail()`: marks the
///   row as one the caller could not encode; `finish` then writes nothing.
/// - `b.finish(w)`: 1, written (`b.last_insert_id()`, `b.changes()` tell the rest);
///   0, nothing written because a `put` failed or `fail()` was called (the caller then
///   takes the general path, which reports why); -1, the write failed: the caller
///   returns `b.write_failed(w, schema, values, columns)` (values as `insert`'s row, or
///   `update_key`'s values with their `columns`), made while `w` is still alive.
///   The writer owns its statement until it is destroyed.
template <class B>
concept row_writing_backend =
    backend<B> && requires(B& b, const table_schema& s, std::span<const std::size_t> columns,
                           typename B::row_writer& w, const value_view& v, std::span<const value_view> values) {
      { b.begin_insert(s, bool{}) } -> std::same_as<typename B::row_writer>;
      { b.begin_update_key(s, columns, bool{}) } -> std::same_as<typename B::row_writer>;
      w.put(int{}, v, bool{});
      w.fail();
      static_cast<bool>(w);
      { b.finish(w) } -> std::same_as<int>;
      { b.last_insert_id() } -> std::same_as<std::int64_t>;
      { b.changes() } -> std::same_as<std::uint64_t>;
      { b.write_failed(w, s, values, columns) } -> std::same_as<ormkit::error>;
    };

/// A non-owning, type-erased reference to a `backend`. Cheap to copy; the
/// referenced backend must outlive it.
class backend_ref {
 public:
  template <backend B>
    requires(!std::same_as<B, backend_ref>)
  backend_ref(B& b) noexcept : self_(&b), vtable_(&vtable_for<B>) {}  // NOLINT: implicit by design

  [[nodiscard]] auto name() const -> std::string_view { return vtable_->name(self_); }
  auto ensure_table(const table_schema& s) const -> status { return vtable_->ensure_table(self_, s); }
  auto insert(const table_schema& s, std::span<const value_view> row) const -> result<std::int64_t> {
    return vtable_->insert(self_, s, row);
  }
  auto insert_many(const table_schema& s, std::span<const value_view> rows, std::size_t count,
                   std::vector<std::int64_t>& ids) const -> status {
    return vtable_->insert_many(self_, s, rows, count, ids);
  }
  auto upsert(const table_schema& s, std::span<const value_view> row, std::span<const std::size_t> cols) const
      -> result<std::int64_t> {
    return vtable_->upsert(self_, s, row, cols);
  }
  auto update(const table_schema& s, std::span<const std::size_t> cols, std::span<const value_view> values,
              const expr& filter) const -> result<std::uint64_t> {
    return vtable_->update(self_, s, cols, values, filter);
  }
  auto erase(const table_schema& s, const expr& filter) const -> result<std::uint64_t> {
    return vtable_->erase(self_, s, filter);
  }
  auto select(const table_schema& s, const query_spec& q) const -> result<cursor> {
    return vtable_->select(self_, s, q);
  }
  auto aggregate(const table_schema& s, const aggregate_spec& a) const -> result<value_rows> {
    return vtable_->aggregate(self_, s, a);
  }
  auto fetch(const table_schema& s, const query_spec& q, row_sink sink) const -> status {
    return vtable_->fetch(self_, s, q, sink);
  }
  auto get_key(const table_schema& s, const key_spec& k, row_sink sink) const -> result<bool> {
    return vtable_->get_key(self_, s, k, sink);
  }
  auto update_key(const table_schema& s, const key_spec& k, std::span<const std::size_t> cols,
                  std::span<const value_view> values) const -> result<std::uint64_t> {
    return vtable_->update_key(self_, s, k, cols, values);
  }
  auto erase_key(const table_schema& s, const key_spec& k) const -> result<std::uint64_t> {
    return vtable_->erase_key(self_, s, k);
  }
  auto update_keys(const table_schema& s, std::span<const key_spec> keys, std::span<const std::size_t> cols,
                   std::span<const value_view> values, std::span<std::uint64_t> affected, std::size_t* failed) const
      -> status {
    return vtable_->update_keys(self_, s, keys, cols, values, affected, failed);
  }
  /// Whether the backend updates many keyed rows in one go (`update_keys` of its own).
  [[nodiscard]] auto batches_updates() const noexcept -> bool { return vtable_->batches_updates; }
  auto begin() const -> status { return vtable_->begin(self_); }
  auto commit() const -> status { return vtable_->commit(self_); }
  auto rollback() const -> status { return vtable_->rollback(self_); }
  auto savepoint(std::string_view n) const -> status { return vtable_->savepoint(self_, n); }
  auto release(std::string_view n) const -> status { return vtable_->release(self_, n); }
  auto rollback_to(std::string_view n) const -> status { return vtable_->rollback_to(self_, n); }

  /// The referenced backend object (for identity checks).
  [[nodiscard]] auto address() const noexcept -> const void* { return self_; }

 private:
  struct vtable {
    std::string_view (*name)(void*);
    status (*ensure_table)(void*, const table_schema&);
    result<std::int64_t> (*insert)(void*, const table_schema&, std::span<const value_view>);
    status (*insert_many)(void*, const table_schema&, std::span<const value_view>, std::size_t,
                          std::vector<std::int64_t>&);
    result<std::int64_t> (*upsert)(void*, const table_schema&, std::span<const value_view>,
                                   std::span<const std::size_t>);
    result<std::uint64_t> (*update)(void*, const table_schema&, std::span<const std::size_t>,
                                    std::span<const value_view>, const expr&);
    result<std::uint64_t> (*erase)(void*, const table_schema&, const expr&);
    result<cursor> (*select)(void*, const table_schema&, const query_spec&);
    result<value_rows> (*aggregate)(void*, const table_schema&, const aggregate_spec&);
    status (*fetch)(void*, const table_schema&, const query_spec&, row_sink);
    result<bool> (*get_key)(void*, const table_schema&, const key_spec&, row_sink);
    result<std::uint64_t> (*update_key)(void*, const table_schema&, const key_spec&, std::span<const std::size_t>,
                                        std::span<const value_view>);
    result<std::uint64_t> (*erase_key)(void*, const table_schema&, const key_spec&);
    status (*update_keys)(void*, const table_schema&, std::span<const key_spec>, std::span<const std::size_t>,
                          std::span<const value_view>, std::span<std::uint64_t>, std::size_t*);
    bool batches_updates;
    status (*begin)(void*);
    status (*commit)(void*);
    status (*rollback)(void*);
    status (*savepoint)(void*, std::string_view);
    status (*release)(void*, std::string_view);
    status (*rollback_to)(void*, std::string_view);
  };

  // The everyday per-row entries are named functions rather than lambdas: a lambda's
  // function pointer is a thunk that calls its operator(), one more call and one more
  // cache line of code per row when the backend's call is inlined into the operator().
  template <class B>
  static auto insert_of(void* p, const table_schema& s, std::span<const value_view> r) -> result<std::int64_t> {
    return static_cast<B*>(p)->insert(s, r);
  }
  template <class B>
  static auto get_key_of(void* p, const table_schema& s, const key_spec& k, row_sink sink) -> result<bool> {
    B& b = *static_cast<B*>(p);
    if constexpr (requires { { b.get_key(s, k, sink) } -> std::same_as<result<bool>>; }) {
      return b.get_key(s, k, sink);
    } else {
      query_spec q;
      q.where = key_filter_of(s, k);
      q.limit = 1;
      auto c = b.select(s, q);
      if (!c) return std::move(c).error();
      auto more = c->next();
      if (!more || !*more) return more;
      if (auto st = sink.fn(sink.context, c->row()); !st) return std::move(st).error();
      return true;
    }
  }
  template <class B>
  static auto update_key_of(void* p, const table_schema& s, const key_spec& k, std::span<const std::size_t> c,
                            std::span<const value_view> v) -> result<std::uint64_t> {
    B& b = *static_cast<B*>(p);
    if constexpr (requires { { b.update_key(s, k, c, v) } -> std::same_as<result<std::uint64_t>>; })
      return b.update_key(s, k, c, v);
    else
      return b.update(s, c, v, key_filter_of(s, k));
  }
  template <class B>
  static auto erase_key_of(void* p, const table_schema& s, const key_spec& k) -> result<std::uint64_t> {
    B& b = *static_cast<B*>(p);
    if constexpr (requires { { b.erase_key(s, k) } -> std::same_as<result<std::uint64_t>>; })
      return b.erase_key(s, k);
    else
      return b.erase(s, key_filter_of(s, k));
  }

  template <class B>
  static constexpr vtable vtable_for{
      [](void* p) -> std::string_view { return static_cast<B*>(p)->name(); },
      [](void* p, const table_schema& s) { return static_cast<B*>(p)->ensure_table(s); },
      &insert_of<B>,
      [](void* p, const table_schema& s, std::span<const value_view> r, std::size_t n, std::vector<std::int64_t>& ids) {
        return static_cast<B*>(p)->insert_many(s, r, n, ids);
      },
      [](void* p, const table_schema& s, std::span<const value_view> r, std::span<const std::size_t> c) {
        return static_cast<B*>(p)->upsert(s, r, c);
      },
      [](void* p, const table_schema& s, std::span<const std::size_t> c, std::span<const value_view> v,
         const expr& f) { return static_cast<B*>(p)->update(s, c, v, f); },
      [](void* p, const table_schema& s, const expr& f) { return static_cast<B*>(p)->erase(s, f); },
      [](void* p, const table_schema& s, const query_spec& q) { return static_cast<B*>(p)->select(s, q); },
      [](void* p, const table_schema& s, const aggregate_spec& a) { return static_cast<B*>(p)->aggregate(s, a); },
      [](void* p, const table_schema& s, const query_spec& q, row_sink sink) -> status {
        B& b = *static_cast<B*>(p);
        if constexpr (requires { { b.fetch(s, q, sink) } -> std::same_as<status>; }) {
          return b.fetch(s, q, sink);
        } else {
          auto c = b.select(s, q);
          if (!c) return std::move(c).error();
          return sink.drain(*c);
        }
      },
      &get_key_of<B>,
      &update_key_of<B>,
      &erase_key_of<B>,
      [](void* p, const table_schema& s, std::span<const key_spec> ks, std::span<const std::size_t> c,
         std::span<const value_view> v, std::span<std::uint64_t> affected, std::size_t* failed) -> status {
        B& b = *static_cast<B*>(p);
        if constexpr (requires {
                        { b.update_keys(s, ks, c, v, affected, failed) } -> std::same_as<status>;
                      }) {
          return b.update_keys(s, ks, c, v, affected, failed);
        } else {
          const std::size_t w = c.size();
          for (std::size_t r = 0; r < ks.size(); ++r) {
            result<std::uint64_t> n = std::uint64_t{0};
            if constexpr (requires { { b.update_key(s, ks[r], c, v) } -> std::same_as<result<std::uint64_t>>; })
              n = b.update_key(s, ks[r], c, v.subspan(r * w, w));
            else
              n = b.update(s, c, v.subspan(r * w, w), key_filter_of(s, ks[r]));
            if (!n) {
              if (failed) *failed = r;
              return std::move(n).error();
            }
            affected[r] = *n;
          }
          return {};
        }
      },
      requires(B& b, const table_schema& s, std::span<const key_spec> ks, std::span<const std::size_t> c,
               std::span<const value_view> v, std::span<std::uint64_t> a, std::size_t* f) {
        { b.update_keys(s, ks, c, v, a, f) } -> std::same_as<status>;
      },
      [](void* p) { return static_cast<B*>(p)->begin(); },
      [](void* p) { return static_cast<B*>(p)->commit(); },
      [](void* p) { return static_cast<B*>(p)->rollback(); },
      [](void* p, std::string_view n) { return static_cast<B*>(p)->savepoint(n); },
      [](void* p, std::string_view n) { return static_cast<B*>(p)->release(n); },
      [](void* p, std::string_view n) { return static_cast<B*>(p)->rollback_to(n); },
  };

  void* self_;
  const vtable* vtable_;
};

}  // namespace ormkit
