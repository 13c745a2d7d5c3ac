// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/detail/repository_core.hpp
//
// The untyped half of repository<T> (fmt's format -> vformat split): every
// operation works on `void*` entities through a per-entity table of function
// pointers (`entity_ops`), so this code is compiled once per translation unit
// however many entities there are. repository.hpp is the thin typed half.

#include <ormkit/backend.hpp>
#include <ormkit/query.hpp>
#include <ormkit/result.hpp>
#include <ormkit/schema.hpp>
#include <ormkit/value.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace ormkit {

/// Returns `std::chrono::system_clock::now()`; the default repository clock.
inline auto system_now() -> std::chrono::system_clock::time_point { return std::chrono::system_clock::now(); }

/// Per-repository settings.
struct repository_options {
  /// The time written to created_at / updated_at / soft_delete columns (UTC).
  std::chrono::system_clock::time_point (*clock)() = &system_now;
  /// Largest text or blob value a write accepts, in bytes (SQLite's default limit).
  std::size_t max_value_bytes = 1'000'000'000;
};

namespace detail {

using time_point = std::chrono::system_clock::time_point;

// What the untyped core needs to know about one entity type.
// entity: a T* passed as void*; key: a primary_key_t<T>* passed as void*.
struct entity_ops {
  const table_schema& (*schema)();
  status (*encode)(const void* entity, std::span<value> scratch, std::span<value_view> views);
  status (*decode)(std::span<const value_view> row, void* entity);
  status (*validate)(const void* entity);
  void (*stamp)(void* entity, time_point now, bool inserting);  // timestamps; version 0 -> 1 on insert
  void (*set_generated)(void* entity, std::int64_t id);
  std::int64_t (*version)(const void* entity);                  // 0 without a version column
  void (*set_version)(void* entity, std::int64_t v);
  status (*encode_key)(const void* key, std::vector<value>& out);
  status (*entity_key)(const void* entity, std::vector<value>& out);
  status (*deleted_value)(time_point now, bool deleted, value& out);  // soft-delete column value
};

// Receives decoded rows: `fn(context, row)`.
struct row_sink {
  void* context;
  status (*fn)(void* context, std::span<const value_view> row);
};

// Encoding buffers for one row; small rows stay on the stack.
class row_buffer {
 public:
  explicit row_buffer(std::size_t width) : width_(width) {
    if (width > inline_columns) {
      heap_values_.resize(width);
      heap_views_.resize(width);
    }
  }
  auto values() -> std::span<value> {
    return width_ > inline_columns ? std::span<value>(heap_values_) : std::span<value>(values_.data(), width_);
  }
  auto views() -> std::span<value_view> {
    return width_ > inline_columns ? std::span<value_view>(heap_views_) : std::span<value_view>(views_.data(), width_);
  }

 private:
  static constexpr std::size_t inline_columns = 16;
  std::size_t width_;
  std::array<value, inline_columns> values_{};
  std::array<value_view, inline_columns> views_{};
  std::vector<value> heap_values_;
  std::vector<value_view> heap_views_;
};

class repository_core {
 public:
  repository_core(backend_ref b, const entity_ops& ops, repository_options opts)
      : backend_(b), ops_(&ops), opts_(opts) {}

  [[nodiscard]] auto backend() const -> backend_ref { return backend_; }
  [[nodiscard]] auto schema() const -> const table_schema& { return ops_->schema(); }

  auto insert(void* e) -> status {
    ops_->stamp(e, opts_.clock(), true);
    ORMKIT_TRY(ops_->validate(e));
    row_buffer buf(width());
    ORMKIT_TRY(ops_->encode(e, buf.values(), buf.views()));
    ORMKIT_TRY(check_sizes(buf.views()));
    auto id = backend_.insert(schema(), buf.views());
    if (!id) return std::move(id).error();
    ops_->set_generated(e, *id);
    return {};
  }

  // `items` points at `count` entities `stride` bytes apart (a std::vector<T>'s data).
  auto insert_many(void* items, std::size_t count, std::size_t stride) -> status {
    const std::size_t w = width();
    std::vector<value> scratch(count * w);
    std::vector<value_view> views(count * w);
    auto* base = static_cast<unsigned char*>(items);
    auto now = opts_.clock();
    for (std::size_t i = 0; i < count; ++i) {
      void* e = base + i * stride;
      ops_->stamp(e, now, true);
      if (auto st = ops_->validate(e); !st) return with_suffix(std::move(st).error(), i);
      auto st = ops_->encode(e, std::span(scratch).subspan(i * w, w), std::span(views).subspan(i * w, w));
      if (st) st = check_sizes(std::span(views).subspan(i * w, w));
      if (!st) return with_suffix(std::move(st).error(), i);
    }
    std::vector<std::int64_t> ids;
    ORMKIT_TRY(backend_.insert_many(schema(), views, count, ids));
    for (std::size_t i = 0; i < count && i < ids.size(); ++i) ops_->set_generated(base + i * stride, ids[i]);
    return {};
  }

  // Updates `chosen` columns (plus version and updated_at) of the row with e's key.
  auto update(void* e, std::span<const std::size_t> chosen) -> status {
    const auto& s = schema();
    std::int64_t old_version = ops_->version(e);
    ops_->stamp(e, opts_.clock(), false);
    std::vector<value> key;
    ORMKIT_TRY(ops_->entity_key(e, key));
    expr filter = key_filter(key);
    if (s.version) {
      filter = make_and(std::move(filter), expr{op::eq, *s.version, {value(old_version)}, {}, {}});
      ops_->set_version(e, old_version + 1);
    }
    filter = live(std::move(filter), false);
    if (auto st = ops_->validate(e); !st) {
      if (s.version) ops_->set_version(e, old_version);
      return st;
    }
    row_buffer buf(width());
    ORMKIT_TRY(ops_->encode(e, buf.values(), buf.views()));
    ORMKIT_TRY(check_sizes(buf.views()));
    std::vector<std::size_t> cols;
    std::vector<value_view> vals;
    auto add = [&](std::size_t c) {
      for (std::size_t k : s.primary_key)
        if (k == c) return;
      for (std::size_t have : cols)
        if (have == c) return;
      if (s.created_at && c == *s.created_at) return;
      cols.push_back(c);
      vals.push_back(buf.views()[c]);
    };
    for (std::size_t c : chosen) add(c);
    if (s.version) add(*s.version);
    if (s.updated_at) add(*s.updated_at);
    if (cols.empty()) return {};
    auto n = backend_.update(s, cols, vals, filter);
    if (!n) return std::move(n).error();
    if (*n > 0) return {};
    // Nothing matched: tell a missing row from a stale version.
    query_spec q;
    q.where = live(key_filter(key), false);
    q.limit = 1;
    std::vector<value> stored;
    auto c = backend_.select(s, q);
    if (!c) return std::move(c).error();
    auto more = c->next();
    if (!more) return std::move(more).error();
    if (!*more) return not_found(key);
    if (!s.version) return not_found(key);
    auto row = c->row();
    return unexpected(errc::conflict, std::string(s.name) + ": " + describe_key(key) +
                                          " was changed by someone else (version " + std::to_string(old_version) +
                                          " is stale, stored version is " + to_display(row[*s.version]) + ")");
  }

  auto upsert(void* e) -> status {
    const auto& s = schema();
    if (s.version) {
      auto v = ops_->version(e);
      if (v != 0) ops_->set_version(e, v + 1);
    }
    ops_->stamp(e, opts_.clock(), true);
    ORMKIT_TRY(ops_->validate(e));
    row_buffer buf(width());
    ORMKIT_TRY(ops_->encode(e, buf.values(), buf.views()));
    ORMKIT_TRY(check_sizes(buf.views()));
    std::vector<std::size_t> cols;
    for (std::size_t i = 0; i < s.columns.size(); ++i) {
      bool key = false;
      for (std::size_t k : s.primary_key) key = key || k == i;
      if (!key && !(s.created_at && i == *s.created_at)) cols.push_back(i);
    }
    auto id = backend_.upsert(s, buf.views(), cols);
    if (!id) return std::move(id).error();
    ops_->set_generated(e, *id);
    if (s.created_at) {
      // An update kept the stored created_at; read the row back so `e` is what is stored.
      std::vector<value> key;
      ORMKIT_TRY(ops_->entity_key(e, key));
      query_spec q;
      q.where = key_filter(key);
      q.limit = 1;
      auto c = backend_.select(s, q);
      if (!c) return std::move(c).error();
      auto more = c->next();
      if (!more) return std::move(more).error();
      if (*more) ORMKIT_TRY(ops_->decode(c->row(), e));
    }
    return {};
  }

  // Erases (or soft-deletes) rows matching `filter`.
  auto erase(expr filter) -> result<std::uint64_t> {
    const auto& s = schema();
    filter = live(std::move(filter), false);
    ORMKIT_TRY(check_expr(filter));
    if (s.soft_delete) {
      value v;
      ORMKIT_TRY(ops_->deleted_value(opts_.clock(), true, v));
      std::array<std::size_t, 1> cols{*s.soft_delete};
      std::array<value_view, 1> vals{view(v)};
      return backend_.update(s, cols, vals, filter);
    }
    return backend_.erase(s, filter);
  }

  auto erase_key(const void* key) -> status {
    std::vector<value> k;
    ORMKIT_TRY(ops_->encode_key(key, k));
    auto n = erase(key_filter(k));
    if (!n) return std::move(n).error();
    if (*n == 0) return not_found(k);
    return {};
  }

  auto restore(const void* key) -> status {
    const auto& s = schema();
    std::vector<value> k;
    ORMKIT_TRY(ops_->encode_key(key, k));
    value v;
    ORMKIT_TRY(ops_->deleted_value(opts_.clock(), false, v));
    std::array<std::size_t, 1> cols{*s.soft_delete};
    std::array<value_view, 1> vals{view(v)};
    auto n = backend_.update(s, cols, vals, key_filter(k));
    if (!n) return std::move(n).error();
    if (*n == 0) return not_found(k);
    return {};
  }

  // Reads the row with `key` into `out`; false when there is none.
  auto get(const void* key, void* out) const -> result<bool> {
    std::vector<value> k;
    ORMKIT_TRY(ops_->encode_key(key, k));
    query_spec q;
    q.where = live(key_filter(k), false);
    q.limit = 1;
    ORMKIT_TRY(check_expr(q.where));
    auto c = backend_.select(schema(), q);
    if (!c) return std::move(c).error();
    auto more = c->next();
    if (!more) return std::move(more).error();
    if (!*more) return false;
    ORMKIT_TRY(ops_->decode(c->row(), out));
    return true;
  }

  auto not_found_key(const void* key) const -> ormkit::error {
    std::vector<value> k;
    (void)ops_->encode_key(key, k);
    return not_found(k);
  }

  auto fetch(const query_spec& q, row_sink sink) const -> status {
    ORMKIT_TRY(check_expr(q.where));
    auto c = backend_.select(schema(), q);
    if (!c) return std::move(c).error();
    for (;;) {
      auto more = c->next();
      if (!more) return std::move(more).error();
      if (!*more) return {};
      ORMKIT_TRY(sink.fn(sink.context, c->row()));
    }
  }

  auto open(const query_spec& q) const -> result<cursor> {
    ORMKIT_TRY(check_expr(q.where));
    return backend_.select(schema(), q);
  }

  auto count(expr where) const -> result<std::uint64_t> {
    aggregate_spec a;
    a.where = std::move(where);
    a.terms.push_back({aggregate_fn::count_all, 0});
    ORMKIT_TRY(check_expr(a.where));
    auto rows = backend_.aggregate(schema(), a);
    if (!rows) return std::move(rows).error();
    const auto* n = std::get_if<std::int64_t>(&rows->at(0).at(0));
    return n ? static_cast<std::uint64_t>(*n) : std::uint64_t{0};
  }

  auto aggregate(aggregate_spec a, bool include_deleted) const -> result<value_rows> {
    a.where = live(std::move(a.where), include_deleted);
    ORMKIT_TRY(check_expr(a.where));
    return backend_.aggregate(schema(), a);
  }

  // A filter matching any of the (encoded) keys in `keys`, `count` keys of `key_width` values.
  auto keys_filter(const std::vector<value>& keys, std::size_t count) const -> expr {
    const auto& s = schema();
    if (s.primary_key.size() == 1) return expr{op::in, s.primary_key[0], keys, {}, {}};
    expr any{op::or_, 0, {}, {}, {}};
    const std::size_t w = s.primary_key.size();
    for (std::size_t i = 0; i < count; ++i)
      any.children.push_back(key_filter(std::span<const value>(keys).subspan(i * w, w)));
    return any;
  }

  // Adds "not soft-deleted" to `e` unless `include_deleted`.
  auto live(expr e, bool include_deleted) const -> expr {
    const auto& s = schema();
    if (!s.soft_delete || include_deleted) return e;
    const auto& c = s.columns[*s.soft_delete];
    expr alive = c.kind == sql_kind::boolean ? expr{op::eq, *s.soft_delete, {value(std::int64_t{0})}, {}, {}}
                                             : expr{op::is_null, *s.soft_delete, {}, {}, {}};
    return make_and(std::move(e), std::move(alive));
  }

  auto key_filter(std::span<const value> key) const -> expr {
    const auto& s = schema();
    expr out;
    for (std::size_t i = 0; i < s.primary_key.size() && i < key.size(); ++i)
      out = make_and(std::move(out), expr{op::eq, s.primary_key[i], {key[i]}, {}, {}});
    return out;
  }

  auto check_expr(const expr& e) const -> status {
    if (auto m = first_error(e); !m.empty())
      return unexpected(errc::invalid_argument, std::string(schema().name) + ": query value: " + m);
    return {};
  }

  [[nodiscard]] auto ops() const -> const entity_ops& { return *ops_; }

 private:
  [[nodiscard]] auto width() const -> std::size_t { return schema().columns.size(); }

  // Rejects text and blobs over opts_.max_value_bytes before they reach the backend.
  auto check_sizes(std::span<const value_view> row) const -> status {
    const auto& s = schema();
    for (std::size_t i = 0; i < row.size(); ++i) {
      std::size_t n = 0;
      if (const auto* t = std::get_if<std::string_view>(&row[i])) n = t->size();
      else if (const auto* b = std::get_if<blob_view>(&row[i])) n = b->size();
      if (n <= opts_.max_value_bytes) continue;
      const auto& c = s.columns[i];
      std::string msg = std::string(s.name) + "." + std::string(c.name) + ": value exceeds the limit of " +
                        std::to_string(opts_.max_value_bytes) + " bytes";
      if (!c.has(column_flags::secret)) msg += " (got " + std::to_string(n) + " bytes)";
      return unexpected(errc::invalid_argument, std::move(msg));
    }
    return {};
  }

  static auto with_suffix(ormkit::error e, std::size_t i) -> ormkit::error {
    e.message += " (batch item " + std::to_string(i) + ")";
    return e;
  }

  auto describe_key(std::span<const value> key) const -> std::string {
    const auto& s = schema();
    std::string out;
    for (std::size_t i = 0; i < s.primary_key.size() && i < key.size(); ++i) {
      if (i) out += ", ";
      const auto& col = s.columns[s.primary_key[i]];
      out += std::string(col.name) + "=" + (col.has(column_flags::secret) ? "<secret>" : to_display(key[i]));
    }
    return out;
  }

  auto not_found(std::span<const value> key) const -> ormkit::error {
    return {errc::not_found, std::string(schema().name) + ": no row with " + describe_key(key)};
  }

  backend_ref backend_;
  const entity_ops* ops_;
  repository_options opts_;
};

}  // namespace detail
}  // namespace ormkit
