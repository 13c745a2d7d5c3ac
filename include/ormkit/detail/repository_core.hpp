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
#include <ormkit/observer.hpp>
#include <ormkit/query.hpp>
#include <ormkit/result.hpp>
#include <ormkit/schema.hpp>
#include <ormkit/value.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <new>
#include <span>
#include <string>
#include <type_traits>
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
  /// Told about every operation (hooks, metrics); may veto writes. Not owned.
  repository_observer* observer = nullptr;
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
  // The key's views into `views` (one per key column), `scratch` holding what they borrow.
  status (*key_views)(const void* key, std::span<value> scratch, std::span<value_view> views);
  status (*entity_key)(const void* entity, std::vector<value>& out);
  status (*deleted_value)(time_point now, bool deleted, value& out);  // soft-delete column value
  bool encode_needs_scratch;  // false: every column encodes to a view of the entity (no `value`s needed)
};

// Encoding buffers for one row (or key); up to `Inline` columns stay on the stack,
// and only `width` values are constructed. `columns()` is room for the column
// indexes an update sets.
template <std::size_t Inline>
class basic_row_buffer {
 public:
  // `scratch`: construct the values too (for encoders that need somewhere to put
  // a converted value); otherwise values() is empty.
  explicit basic_row_buffer(std::size_t width, bool scratch = true) : width_(width), values_width_(scratch ? width : 0) {
    if (width > Inline) {
      heap_values_.resize(width);
      heap_views_.resize(width);
      heap_columns_.resize(width);
    } else {
      for (std::size_t i = 0; i < values_width_; ++i) ::new (slot(i)) value();
    }
  }
  basic_row_buffer(const basic_row_buffer&) = delete;
  auto operator=(const basic_row_buffer&) -> basic_row_buffer& = delete;
  ~basic_row_buffer() {
    if (width_ <= Inline)
      for (std::size_t i = 0; i < values_width_; ++i) slot(i)->~value();
  }

  auto values() -> std::span<value> {
    return width_ > Inline ? std::span<value>(heap_values_) : std::span<value>(slot(0), values_width_);
  }
  auto views() -> std::span<value_view> {
    return width_ > Inline ? std::span<value_view>(heap_views_) : std::span<value_view>(views_.data(), width_);
  }
  auto columns() -> std::span<std::size_t> {
    return width_ > Inline ? std::span<std::size_t>(heap_columns_) : std::span<std::size_t>(columns_.data(), width_);
  }

 private:
  auto slot(std::size_t i) -> value* { return std::launder(reinterpret_cast<value*>(storage_ + i * sizeof(value))); }

  std::size_t width_;
  std::size_t values_width_;
  alignas(value) unsigned char storage_[Inline * sizeof(value)];
  std::array<value_view, Inline> views_;
  std::array<std::size_t, Inline> columns_;
  std::vector<value> heap_values_;
  std::vector<value_view> heap_views_;
  std::vector<std::size_t> heap_columns_;
};
using row_buffer = basic_row_buffer<16>;

// Views only (trivially destructible): up to 16 on the stack.
class view_buffer {
 public:
  explicit view_buffer(std::size_t width) : width_(width) {
    if (width > inline_views) heap_.resize(width);
  }
  auto views() -> std::span<value_view> {
    return width_ > inline_views ? std::span<value_view>(heap_) : std::span<value_view>(views_.data(), width_);
  }

 private:
  static constexpr std::size_t inline_views = 16;
  std::size_t width_;
  std::array<value_view, inline_views> views_;
  std::vector<value_view> heap_;
};
using key_buffer = basic_row_buffer<4>;

class repository_core {
 public:
  repository_core(backend_ref b, const entity_ops& ops, repository_options opts)
      : backend_(b), ops_(&ops), schema_(&ops.schema()), opts_(opts) {}

  [[nodiscard]] auto backend() const -> backend_ref { return backend_; }
  [[nodiscard]] auto schema() const -> const table_schema& { return *schema_; }

  // as_stored: keep the entity's timestamps and version exactly (imports, restores).
  auto insert_impl(void* e, bool as_stored = false) -> status {
    if (!as_stored) ops_->stamp(e, now(), true);
    ORMKIT_TRY(ops_->validate(e));
    row_buffer buf(width(), ops_->encode_needs_scratch);
    ORMKIT_TRY(ops_->encode(e, buf.values(), buf.views()));
    ORMKIT_TRY(check_sizes(buf.views()));
    auto id = backend_.insert(schema(), buf.views());
    if (!id) return std::move(id).error();
    ops_->set_generated(e, *id);
    return {};
  }

  // `items` points at `count` entities `stride` bytes apart (a std::vector<T>'s data).
  auto insert_many_impl(void* items, std::size_t count, std::size_t stride) -> status {
    const std::size_t w = width();
    std::vector<value> scratch(count * w);
    std::vector<value_view> views(count * w);
    auto* base = static_cast<unsigned char*>(items);
    const auto stamp_time = now();
    for (std::size_t i = 0; i < count; ++i) {
      void* e = base + i * stride;
      ops_->stamp(e, stamp_time, true);
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
  auto update_impl(void* e, std::span<const std::size_t> chosen) -> status {
    const auto& s = schema();
    const std::int64_t old_version = ops_->version(e);
    ops_->stamp(e, now(), false);
    if (s.version) ops_->set_version(e, old_version + 1);
    if (auto st = ops_->validate(e); !st) {
      if (s.version) ops_->set_version(e, old_version);
      return st;
    }
    row_buffer buf(width(), ops_->encode_needs_scratch);
    ORMKIT_TRY(ops_->encode(e, buf.values(), buf.views()));
    ORMKIT_TRY(check_sizes(buf.views()));
    const auto row = buf.views();
    auto cols = buf.columns();
    std::size_t n_cols = 0;
    auto add = [&](std::size_t c) {
      if (c >= row.size()) return;
      for (std::size_t k : s.primary_key)
        if (k == c) return;
      for (std::size_t i = 0; i < n_cols; ++i)
        if (cols[i] == c) return;
      if (s.created_at && c == *s.created_at) return;
      cols[n_cols++] = c;
    };
    for (std::size_t c : chosen) add(c);
    if (s.version) add(*s.version);
    if (s.updated_at) add(*s.updated_at);
    if (n_cols == 0) return {};
    // The values to set, gathered in the order of `cols`, and the key's views.
    view_buffer set(n_cols);
    for (std::size_t i = 0; i < n_cols; ++i) set.views()[i] = row[cols[i]];
    view_buffer key(s.primary_key.size());
    for (std::size_t i = 0; i < s.primary_key.size(); ++i) key.views()[i] = row[s.primary_key[i]];
    key_spec where{key.views(), std::nullopt, false};
    if (s.version) where.version = old_version;
    auto n = backend_.update_key(s, where, cols.first(n_cols), set.views());
    if (!n) return std::move(n).error();
    if (*n > 0) return {};
    // Nothing matched: tell a missing row from a stale version.
    stored_version probe{s.version.value_or(0), {}};
    auto found = backend_.get_key(s, key_spec{key.views(), std::nullopt, false},
                                  row_sink{&probe, &stored_version::read});
    if (!found) return std::move(found).error();
    if (!*found || !s.version) return not_found(key.views());
    return unexpected(errc::conflict, std::string(s.name) + ": " + describe_key(key.views()) +
                                          " was changed by someone else (version " + std::to_string(old_version) +
                                          " is stale, stored version is " + probe.text + ")");
  }

  auto upsert_impl(void* e, bool as_stored = false) -> status {
    const auto& s = schema();
    if (s.version && !as_stored) {
      auto v = ops_->version(e);
      if (v != 0) ops_->set_version(e, v + 1);
    }
    if (!as_stored) ops_->stamp(e, now(), true);
    ORMKIT_TRY(ops_->validate(e));
    row_buffer buf(width(), ops_->encode_needs_scratch);
    ORMKIT_TRY(ops_->encode(e, buf.values(), buf.views()));
    ORMKIT_TRY(check_sizes(buf.views()));
    auto cols = buf.columns();
    std::size_t n_cols = 0;
    for (std::size_t i = 0; i < s.columns.size(); ++i) {
      bool key = false;
      for (std::size_t k : s.primary_key) key = key || k == i;
      if (!key && !(s.created_at && i == *s.created_at)) cols[n_cols++] = i;
    }
    auto id = backend_.upsert(s, buf.views(), cols.first(n_cols));
    if (!id) return std::move(id).error();
    ops_->set_generated(e, *id);
    if (s.created_at) {
      // An update kept the stored created_at; read the row back so `e` is what is stored.
      // (Encoded again: the generated key may have just been filled in.)
      row_buffer again(width(), ops_->encode_needs_scratch);
      ORMKIT_TRY(ops_->encode(e, again.values(), again.views()));
      view_buffer key(s.primary_key.size());
      for (std::size_t i = 0; i < s.primary_key.size(); ++i) key.views()[i] = again.views()[s.primary_key[i]];
      decode_target into{ops_, e};
      auto found = backend_.get_key(s, key_spec{key.views(), std::nullopt, true}, row_sink{&into, &decode_target::read});
      if (!found) return std::move(found).error();
    }
    return {};
  }

  // Erases (or soft-deletes) rows matching `filter`.
  auto erase_impl(expr filter) -> result<std::uint64_t> {
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

  auto erase_key_impl(const void* key) -> status {
    const auto& s = schema();
    key_buffer k(s.primary_key.size());
    ORMKIT_TRY(ops_->key_views(key, k.values(), k.views()));
    const key_spec where{k.views(), std::nullopt, false};
    result<std::uint64_t> n = std::uint64_t{0};
    if (s.soft_delete) {
      value v;
      ORMKIT_TRY(ops_->deleted_value(opts_.clock(), true, v));
      std::array<std::size_t, 1> cols{*s.soft_delete};
      std::array<value_view, 1> vals{view(v)};
      n = backend_.update_key(s, where, cols, vals);
    } else {
      n = backend_.erase_key(s, where);
    }
    if (!n) return std::move(n).error();
    if (*n == 0) return not_found(k.views());
    return {};
  }

  auto restore_impl(const void* key) -> status {
    const auto& s = schema();
    key_buffer k(s.primary_key.size());
    ORMKIT_TRY(ops_->key_views(key, k.values(), k.views()));
    value v;
    ORMKIT_TRY(ops_->deleted_value(opts_.clock(), false, v));
    std::array<std::size_t, 1> cols{*s.soft_delete};
    std::array<value_view, 1> vals{view(v)};
    auto n = backend_.update_key(s, key_spec{k.views(), std::nullopt, true}, cols, vals);
    if (!n) return std::move(n).error();
    if (*n == 0) return not_found(k.views());
    return {};
  }

  // Reads the row with `key` into `out`; false when there is none.
  auto get_impl(const void* key, void* out) const -> result<bool> {
    const auto& s = schema();
    key_buffer k(s.primary_key.size());
    ORMKIT_TRY(ops_->key_views(key, k.values(), k.views()));
    decode_target into{ops_, out};
    return backend_.get_key(s, key_spec{k.views(), std::nullopt, false}, row_sink{&into, &decode_target::read});
  }

  //=== observed entry points (repository_options::observer) ===//

  auto insert(void* e, bool as_stored = false) -> status {
    return observed(operation::insert, e, nullptr, true, [&] { return insert_impl(e, as_stored); });
  }
  auto insert_many(void* items, std::size_t count, std::size_t stride) -> status {
    if (opts_.observer) {
      auto* base = static_cast<unsigned char*>(items);
      for (std::size_t i = 0; i < count; ++i)
        if (auto st = veto(operation::insert, base + i * stride, nullptr); !st) return with_suffix(std::move(st).error(), i);
    }
    return observed(operation::insert, nullptr, nullptr, false, [&] { return insert_many_impl(items, count, stride); },
                    count);
  }
  auto update(void* e, std::span<const std::size_t> chosen) -> status {
    return observed(operation::update, e, nullptr, true, [&] { return update_impl(e, chosen); });
  }
  auto upsert(void* e, bool as_stored = false) -> status {
    return observed(operation::upsert, e, nullptr, true, [&] { return upsert_impl(e, as_stored); });
  }
  auto erase(expr filter) -> result<std::uint64_t> {
    return observed(operation::erase, nullptr, nullptr, true, [&] { return erase_impl(std::move(filter)); });
  }
  auto erase_key(const void* key) -> status {
    return observed(operation::erase, nullptr, key, true, [&] { return erase_key_impl(key); });
  }
  auto restore(const void* key) -> status {
    return observed(operation::restore, nullptr, key, true, [&] { return restore_impl(key); });
  }
  auto get(const void* key, void* out) const -> result<bool> {
    if (!opts_.observer) return get_impl(key, out);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = get_impl(key, out);
    const bool found = r && *r;
    report(operation::get, found ? out : nullptr, key, found ? 1 : 0, t0, r ? nullptr : &r.error());
    if (found) notify_loaded(out);
    return r;
  }
  auto fetch(const query_spec& q, row_sink sink) const -> status {
    if (!opts_.observer) return fetch_impl(q, sink);
    struct counting {
      row_sink inner;
      std::uint64_t rows = 0;
      static auto fn(void* self, std::span<const value_view> row) -> status {
        auto& c = *static_cast<counting*>(self);
        ++c.rows;
        return c.inner.fn(c.inner.context, row);
      }
    } counter{sink};
    const auto t0 = std::chrono::steady_clock::now();
    auto st = fetch_impl(q, row_sink{&counter, &counting::fn});
    report(operation::find, nullptr, nullptr, counter.rows, t0, st ? nullptr : &st.error());
    return st;
  }

  // Tells the observer about one entity a read materialised.
  void notify_loaded(const void* entity) const noexcept {
    if (!opts_.observer) return;
    operation_event ev{operation::get, schema_, entity, nullptr, 1, {}, nullptr};
    try {
      opts_.observer->loaded(ev);
    } catch (...) {  // NOLINT(bugprone-empty-catch): the read has happened; an observer cannot undo it
    }
  }
  [[nodiscard]] auto observer() const noexcept -> repository_observer* { return opts_.observer; }

  auto not_found_key(const void* key) const -> ormkit::error {
    std::vector<value> k;
    (void)ops_->encode_key(key, k);
    return not_found(k);
  }

  auto fetch_impl(const query_spec& q, row_sink sink) const -> status {
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

  // Asks the observer whether `op` may go ahead. A throwing observer vetoes it.
  auto veto(operation op, const void* entity, const void* key) const -> status {
    if (!opts_.observer) return {};
    operation_event ev{op, schema_, entity, key, 0, {}, nullptr};
    try {
      auto st = opts_.observer->before(ev);
      if (!st) return st;
    } catch (const std::exception& x) {
      return unexpected(errc::rejected, std::string(schema().name) + ": " + std::string(to_string(op)) +
                                            " vetoed by a hook: " + x.what());
    } catch (...) {
      return unexpected(errc::rejected, std::string(schema().name) + ": " + std::string(to_string(op)) +
                                            " vetoed by a hook (a non-standard exception)");
    }
    return {};
  }

  void report(operation op, const void* entity, const void* key, std::uint64_t rows,
              std::chrono::steady_clock::time_point t0, const ormkit::error* failure) const noexcept {
    if (!opts_.observer) return;
    operation_event ev{op, schema_, entity, key, rows,
                       std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0),
                       failure};
    try {
      opts_.observer->after(ev);
    } catch (...) {  // NOLINT(bugprone-empty-catch): the operation has happened; an observer cannot undo it
    }
  }

  template <class R>
  static auto rows_of(const R& r, std::uint64_t single) -> std::uint64_t {
    if constexpr (std::is_same_v<R, status>) return r ? single : 0;
    else if constexpr (std::is_same_v<R, result<std::uint64_t>>) return r ? *r : 0;
    else return 0;
  }

  // Runs `body` between the observer's before (when `check` and it has one) and after.
  // `rows`: what a successful status-returning body reports.
  template <class Body>
  auto observed(operation op, const void* entity, const void* key, bool check, Body&& body,
                std::uint64_t rows = 1) const -> decltype(body()) {
    if (!opts_.observer) return body();
    const auto t0 = std::chrono::steady_clock::now();
    if (check) {
      if (auto st = veto(op, entity, key); !st) {
        report(op, entity, key, 0, t0, &st.error());
        return std::move(st).error();
      }
    }
    auto r = body();
    report(op, entity, key, rows_of(r, rows), t0, r ? nullptr : &r.error());
    return r;
  }

  // The time for timestamp columns; the clock is not read for entities without them.
  [[nodiscard]] auto now() const -> time_point {
    const auto& s = schema();
    return s.created_at || s.updated_at ? opts_.clock() : time_point{};
  }

  // A row_sink target decoding into an entity.
  struct decode_target {
    const entity_ops* ops;
    void* entity;
    static auto read(void* self, std::span<const value_view> row) -> status {
      auto& t = *static_cast<decode_target*>(self);
      return t.ops->decode(row, t.entity);
    }
  };

  // A row_sink target keeping the display text of one column (the stored version).
  struct stored_version {
    std::size_t column = 0;
    std::string text;
    static auto read(void* self, std::span<const value_view> row) -> status {
      auto& t = *static_cast<stored_version*>(self);
      t.text = t.column < row.size() ? to_display(own(row[t.column])) : std::string("?");
      return {};
    }
  };

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

  template <class V>
  auto describe_key(std::span<V> key) const -> std::string {
    const auto& s = schema();
    std::string out;
    for (std::size_t i = 0; i < s.primary_key.size() && i < key.size(); ++i) {
      if (i) out += ", ";
      const auto& col = s.columns[s.primary_key[i]];
      out += std::string(col.name) + "=" + (col.has(column_flags::secret) ? "<secret>" : to_display(key[i]));
    }
    return out;
  }

  template <class V>
  auto not_found(std::span<V> key) const -> ormkit::error {
    return {errc::not_found, std::string(schema().name) + ": no row with " + describe_key(key)};
  }
  auto not_found(const std::vector<value>& key) const -> ormkit::error {
    return not_found(std::span<const value>(key));
  }

  backend_ref backend_;
  const entity_ops* ops_;
  const table_schema* schema_;  // ops_->schema(), looked up once
  repository_options opts_;
};

}  // namespace detail
}  // namespace ormkit
