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
#include <ormkit/transaction.hpp>
#include <ormkit/value.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <memory>
#include <new>
#include <optional>
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

// One column of one entity: where its member is and how to convert it.
// `encode` and `decode` return whether they worked; after a failure the `_status`
// pair is called to say why (so the everyday path carries no error object).
struct column_access {
  void* (*member)(void* entity);
  // scratch: room for a converted value; null when the entity's encoders need none.
  bool (*encode)(const void* member, value* scratch, value_view& out);
  bool (*decode)(const value_view& in, void* member);
  status (*encode_status)(const void* member, value* scratch, value_view& out);
  status (*decode_status)(const value_view& in, void* member);
};

// "users.age: <problem>", or for a secret column a message that shows nothing of the value.
inline auto column_error(const table_schema& s, std::size_t column, const ormkit::error& e) -> ormkit::error {
  const auto& c = s.columns[column];
  std::string subject = std::string(s.name) + "." + std::string(c.name) + ": ";
  if (c.has(column_flags::secret)) return {e.code, subject + "value cannot be stored as " + std::string(c.type_name)};
  return {e.code, subject + e.message, e.native};
}

// Decodes `row` into `entity` column by column, saying which column failed and why.
inline auto decode_columns(std::span<const column_access> cols, const table_schema& s,
                           std::span<const value_view> row, void* entity) -> status {
  if (row.size() != cols.size())
    return unexpected(errc::invalid_argument, std::string(s.name) + ": row has " + std::to_string(row.size()) +
                                                  " values for " + std::to_string(cols.size()) + " columns");
  for (std::size_t i = 0; i < cols.size(); ++i) {
    void* m = cols[i].member(entity);
    if (!cols[i].decode(row[i], m))
      if (auto st = cols[i].decode_status(row[i], m); !st) return column_error(s, i, st.error());
  }
  return {};
}

// The members a write stamps (version, created_at, updated_at), saved before it stamps
// them so that a failed write can put them back: three small trivially copyable members,
// so a few bytes copied, never the entity.
struct stamp_backup {
  alignas(std::max_align_t) unsigned char bytes[3 * 32];
};

// What the untyped core needs to know about one entity type.
// entity: a T* passed as void*; key: a primary_key_t<T>* passed as void*.
struct entity_ops {
  const table_schema& (*schema)();
  std::span<const column_access> columns;  // one per column, in schema order
  // Every column at once (inlined conversions); false when one failed or a text or blob
  // is over `max_bytes`: encoding column by column through `columns` then says which.
  bool (*encode_row)(const void* entity, std::span<value> scratch, std::span<value_view> views, std::size_t max_bytes);
  // An update's values at once: the columns `cols` into views [0, cols.size()), then the
  // entity's key; false as encode_row (encode_column then says which and why).
  bool (*encode_update)(const void* entity, std::span<const std::size_t> cols, std::span<value> scratch,
                        std::span<value_view> views, std::size_t max_bytes);
  bool (*decode_row)(std::span<const value_view> row, void* entity);
  status (*validate)(const void* entity);
  void (*stamp)(void* entity, time_point now, bool inserting);  // timestamps; version 0 -> 1 on insert
  // What `stamp` and a version bump change, saved into / restored from a stamp_backup
  // (null when the entity has none of those columns).
  void (*save_stamps)(const void* entity, stamp_backup& out);
  void (*restore_stamps)(void* entity, const stamp_backup& in);
  void (*set_generated)(void* entity, std::int64_t id);
  std::int64_t (*version)(const void* entity);                  // 0 without a version column
  void (*set_version)(void* entity, std::int64_t v);
  status (*encode_key)(const void* key, std::vector<value>& out);
  // The key's views into `views` (one per key column), `scratch` holding what they borrow.
  status (*key_views)(const void* key, std::span<value> scratch, std::span<value_view> views);
  status (*entity_key)(const void* entity, std::vector<value>& out);
  status (*deleted_value)(time_point now, bool deleted, value& out);  // soft-delete column value
  bool encode_needs_scratch;  // false: every column encodes to a view of the entity (no `value`s needed)
  bool key_needs_scratch;     // the same for the key's columns
};

// update_columns_for's step: adds column `c` to cols[0, n) unless it is out of range,
// created_at, a key column or there already. A function, not a lambda, so that it is
// inlined (a lambda's call operator is not always_inline).
[[gnu::always_inline]] inline void add_update_column(std::size_t c, std::size_t width, std::span<const std::size_t> key,
                                                     std::size_t created, std::span<std::size_t> cols,
                                                     std::size_t& n) {
  if (c >= width || c == created) return;
  for (std::size_t k : key)
    if (k == c) return;
  for (std::size_t i = 0; i < n; ++i)
    if (cols[i] == c) return;
  cols[n++] = c;
}

// The columns an update of `chosen` sets, written to `cols`, their count returned: each
// chosen column in range once, then the version and updated_at columns; never a key
// column nor created_at. Absent columns are `width` or more. One rule for both callers:
// dynamic_ops passes the schema's facts; a typed repository passes constants,
// and the compiler then works the list out where the call is inlined.
[[gnu::always_inline]] inline auto update_columns_for(std::size_t width, std::span<const std::size_t> key,
                                                      std::size_t created, std::size_t version,
                                                      std::size_t updated, std::span<const std::size_t> chosen,
                                                      std::span<std::size_t> cols) -> std::size_t {
  std::size_t n = 0;
  for (std::size_t c : chosen) add_update_column(c, width, key, created, cols, n);
  add_update_column(version, width, key, created, cols, n);
  add_update_column(updated, width, key, created, cols, n);
  return n;
}

// What the per-row calls (insert, get, update and erase by key) need of an entity's
// functions, through entity_ops' pointers: the repository core's own path. A typed
// repository passes its own (the same members, known at compile time) to
// repository_core::insert_as, get_as, update_as and erase_key_as.
struct dynamic_ops {
  const entity_ops* p;
  [[nodiscard]] auto has_stamps() const -> bool { return p->save_stamps != nullptr; }
  void save_stamps(const void* e, stamp_backup& out) const { p->save_stamps(e, out); }
  void restore_stamps(void* e, const stamp_backup& in) const { p->restore_stamps(e, in); }
  [[nodiscard]] auto version(const void* e) const -> std::int64_t { return p->version(e); }
  void set_version(void* e, std::int64_t v) const { p->set_version(e, v); }
  void stamp(void* e, time_point now, bool inserting) const { p->stamp(e, now, inserting); }
  [[nodiscard]] auto validate(const void* e) const -> status { return p->validate(e); }
  [[nodiscard]] auto needs_scratch() const -> bool { return p->encode_needs_scratch; }
  [[nodiscard]] static auto width(const table_schema& s) -> std::size_t { return s.columns.size(); }
  [[nodiscard]] static auto key_width(const table_schema& s) -> std::size_t { return s.primary_key.size(); }
  [[nodiscard]] auto encode_row(const void* e, std::span<value> scratch, std::span<value_view> views,
                                std::size_t max_bytes) const -> bool {
    return p->encode_row(e, scratch, views, max_bytes);
  }
  void set_generated(void* e, std::int64_t id) const { p->set_generated(e, id); }
  [[nodiscard]] auto key_needs_scratch() const -> bool { return p->key_needs_scratch; }
  [[nodiscard]] auto key_views(const void* key, std::span<value> scratch, std::span<value_view> views) const
      -> status {
    return p->key_views(key, scratch, views);
  }
  [[nodiscard]] auto encode_update(const void* e, std::span<const std::size_t> cols, std::span<value> scratch,
                                   std::span<value_view> views, std::size_t max_bytes) const -> bool {
    return p->encode_update(e, cols, scratch, views, max_bytes);
  }
  [[nodiscard]] static auto update_columns(const table_schema& s, std::span<const std::size_t> chosen,
                                           std::span<std::size_t> cols) -> std::size_t {
    const std::size_t w = s.columns.size();
    return update_columns_for(w, s.primary_key, s.created_at.value_or(w), s.version.value_or(w),
                              s.updated_at.value_or(w), chosen, cols);
  }
};

// Room for up to N value views, of which only the first `width` are constructed
// (value_view is trivially destructible, so nothing needs destroying).
template <std::size_t N>
class view_storage {
 public:
  static_assert(std::is_trivially_destructible_v<value_view> && std::is_trivially_copyable_v<value_view>);
  auto first(std::size_t width) -> std::span<value_view> {
    auto* p = std::launder(reinterpret_cast<value_view*>(bytes_));
    for (std::size_t i = 0; i < width; ++i) ::new (static_cast<void*>(p + i)) value_view();
    return {p, width};
  }
  // Room for `width` views that the caller constructs itself, each before it is read or
  // assigned (the entity encoders do: encode_row, encode_update and key_views construct
  // every view they write). Saves a store per view on the everyday calls.
  auto first_unconstructed(std::size_t width) -> std::span<value_view> {
    return {reinterpret_cast<value_view*>(bytes_), width};
  }

 private:
  alignas(value_view) unsigned char bytes_[N * sizeof(value_view)];
};

// Encoding buffers for one row (or key); up to `Inline` columns stay on the stack,
// and only `width` values are constructed. `columns()` is room for the column
// indexes an update sets.
template <std::size_t Inline>
class basic_row_buffer {
 public:
  // `scratch`: construct the values too (for encoders that need somewhere to put
  // a converted value); otherwise values() is empty.
  explicit basic_row_buffer(std::size_t width, bool scratch = true) {
    const std::size_t n_values = scratch ? width : 0;
    if (width > Inline) {
      heap_ = std::make_unique<heap>(heap{std::vector<value>(n_values), std::vector<value_view>(width),
                                          std::vector<std::size_t>(width)});
      values_ = heap_->values;
      views_ = heap_->views;
      columns_ = heap_->columns;
    } else {
      auto* v = std::launder(reinterpret_cast<value*>(storage_));
      for (std::size_t i = 0; i < n_values; ++i) ::new (static_cast<void*>(v + i)) value();
      values_ = {v, n_values};
      views_ = inline_views_.first(width);
      columns_ = std::span(inline_columns_).first(width);
    }
  }
  basic_row_buffer(const basic_row_buffer&) = delete;
  auto operator=(const basic_row_buffer&) -> basic_row_buffer& = delete;
  ~basic_row_buffer() {
    if (!heap_)
      for (auto& v : values_) v.~value();
  }

  auto values() -> std::span<value> { return values_; }
  auto views() -> std::span<value_view> { return views_; }
  auto columns() -> std::span<std::size_t> { return columns_; }

 private:
  struct heap {
    std::vector<value> values;
    std::vector<value_view> views;
    std::vector<std::size_t> columns;
  };

  std::span<value> values_;
  std::span<value_view> views_;
  std::span<std::size_t> columns_;
  alignas(value) unsigned char storage_[Inline * sizeof(value)];
  view_storage<Inline> inline_views_;
  std::array<std::size_t, Inline> inline_columns_;
  std::unique_ptr<heap> heap_;  // rows wider than Inline
};
using row_buffer = basic_row_buffer<16>;

// Views only (trivially destructible): up to N on the stack, more on the heap.
template <std::size_t N>
class basic_view_buffer {
 public:
  // `construct` false: the views are left for the caller to construct (see
  // view_storage::first_unconstructed).
  [[gnu::always_inline]] explicit basic_view_buffer(std::size_t width, bool construct = true) {
    if (width <= N) [[likely]] {
      views_ = construct ? inline_.first(width) : inline_.first_unconstructed(width);
    } else {
      heap_ = new value_view[width];
      views_ = {heap_, width};
    }
  }
  basic_view_buffer(const basic_view_buffer&) = delete;
  auto operator=(const basic_view_buffer&) -> basic_view_buffer& = delete;
  // A raw pointer rather than a unique_ptr: its destructor was compiled out of line, one
  // more call and two more cache lines of code on every everyday call.
  [[gnu::always_inline]] ~basic_view_buffer() {
    if (heap_ != nullptr) [[unlikely]]
      delete[] heap_;
  }
  auto views() -> std::span<value_view> { return views_; }

 private:
  view_storage<N> inline_;
  std::span<value_view> views_;
  value_view* heap_ = nullptr;  // wider than N (owned; null otherwise)
};
using view_buffer = basic_view_buffer<16>;

// A key's views (up to 4 on the stack) and, when its encoders need them, scratch values.
// The views are constructed by the entity's key_views.
class key_buffer {
 public:
  [[gnu::always_inline]] key_buffer(std::size_t width, bool scratch) : views_(width, false) {
    if (scratch) [[unlikely]] {
      values_ = std::make_unique<value[]>(width);
      n_values_ = width;
    }
  }
  auto values() -> std::span<value> { return {values_.get(), n_values_}; }
  auto views() -> std::span<value_view> { return views_.views(); }

 private:
  basic_view_buffer<4> views_;
  std::unique_ptr<value[]> values_;  // null unless the key's encoders need room
  std::size_t n_values_ = 0;
};

class repository_core {
 public:
  repository_core(backend_ref b, const entity_ops& ops, repository_options opts)
      : backend_(b), ops_(&ops), schema_(&ops.schema()), opts_(opts) {}

  [[nodiscard]] auto backend() const -> backend_ref { return backend_; }
  [[nodiscard]] auto schema() const -> const table_schema& { return *schema_; }

  // The everyday calls (insert, update, get, erase by key) go through a few layers
  // below; each is always inlined into its entry point (insert, update, get,
  // erase_key), so a call costs one frame here, not one per layer.

  // as_stored: keep the entity's timestamps and version exactly (imports, restores).
  // A failed insert leaves `e` as it was (its stamped members are put back).
  template <class Ops>
  [[gnu::always_inline]] auto insert_impl(const Ops& ops, void* e, bool as_stored = false) -> status {
    if (as_stored || !ops.has_stamps()) return insert_stamped(ops, e);
    stamp_backup saved;
    ops.save_stamps(e, saved);
    ops.stamp(e, now(), true);
    auto st = insert_stamped(ops, e);
    if (!st) [[unlikely]]
      ops.restore_stamps(e, saved);
    return st;
  }

  template <class Ops>
  [[gnu::always_inline]] auto insert_stamped(const Ops& ops, void* e) -> status {
    ORMKIT_TRY(ops.validate(e));
    if constexpr (requires(status& out) { ops.write_insert(e, schema(), std::size_t{}, out); }) {
      // A typed repository on a row-writing backend: the values go straight from the
      // entity to the backend when it can take them so (its everyday case). The general
      // path, for the rest, stays out of line: its buffers would otherwise weigh on every
      // call's frame and code.
      status out;
      if (ops.write_insert(e, schema(), opts_.max_value_bytes, out)) [[likely]]
        return out;
      return insert_unwritten(ops, e);
    } else {
      return insert_general(ops, e);
    }
  }

  template <class Ops>
  [[gnu::noinline]] auto insert_unwritten(const Ops& ops, void* e) -> status {
    return insert_general(ops, e);
  }

  // insert_stamped's general path: the row encoded into views, then the backend's insert.
  template <class Ops>
  [[gnu::always_inline]] auto insert_general(const Ops& ops, void* e) -> status {
    if (ops.needs_scratch()) {
      row_buffer buf(ops.width(schema()), true);
      return insert_encoded(ops, e, buf.values(), buf.views());
    }
    // Every column a view of the entity: no values to build; encode_row constructs the views.
    view_buffer views(ops.width(schema()), false);
    return insert_encoded(ops, e, {}, views.views());
  }

  template <class Ops>
  [[gnu::always_inline]] auto insert_encoded(const Ops& ops, void* e, std::span<value> scratch,
                                            std::span<value_view> views) -> status {
    if (!ops.encode_row(e, scratch, views, opts_.max_value_bytes)) [[unlikely]]
      ORMKIT_TRY(encode_columns(e, scratch, views));  // says which column and why
    auto id = backend_.insert(schema(), views);
    if (!id) return std::move(id).error();
    ops.set_generated(e, *id);
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
      auto st = encode_row(e, std::span(scratch).subspan(i * w, w), std::span(views).subspan(i * w, w));
      if (!st) return with_suffix(std::move(st).error(), i);
    }
    std::vector<std::int64_t> ids;
    ORMKIT_TRY(backend_.insert_many(schema(), views, count, ids));
    for (std::size_t i = 0; i < count && i < ids.size(); ++i) ops_->set_generated(base + i * stride, ids[i]);
    return {};
  }

  // The columns an update of `chosen` sets: those, version and updated_at; never the key
  // or created_at; each once. Returns how many were written to `cols`.
  [[gnu::always_inline]] auto update_columns_of(std::span<const std::size_t> chosen, std::span<std::size_t> cols) const
      -> std::size_t {
    return dynamic_ops{ops_}.update_columns(schema(), chosen, cols);
  }

  // update_impl for `count` entities with one backend call (`update_keys`). Errors name the
  // failing item ("(batch item i)").
  auto update_keys_impl(unsigned char* base, std::size_t count, std::size_t stride,
                        std::span<const std::size_t> chosen) -> status {
    const auto& s = schema();
    std::vector<std::size_t> cols(width());
    const std::size_t w = update_columns_of(chosen, cols);
    cols.resize(w);
    if (w == 0) return {};
    const std::size_t kw = s.primary_key.size();
    std::vector<value> set_room(count * w);
    std::vector<value> key_room(count * kw);
    std::vector<value_view> set_views(count * w);
    std::vector<value_view> key_views(count * kw);
    std::vector<key_spec> keys(count);
    const auto stamp_time = now();
    for (std::size_t i = 0; i < count; ++i) {
      void* e = base + i * stride;
      const std::int64_t old_version = ops_->version(e);
      ops_->stamp(e, stamp_time, false);
      if (s.version) ops_->set_version(e, old_version + 1);
      if (auto st = ops_->validate(e); !st) return with_suffix(std::move(st).error(), i);
      for (std::size_t j = 0; j < w; ++j) {
        auto st = encode_column(e, cols[j], &set_room[i * w + j], set_views[i * w + j]);
        if (!st) return with_suffix(std::move(st).error(), i);
      }
      for (std::size_t k = 0; k < kw; ++k) {
        auto st = encode_column(e, s.primary_key[k], &key_room[i * kw + k], key_views[i * kw + k], false);
        if (!st) return with_suffix(std::move(st).error(), i);
      }
      keys[i] = key_spec{std::span<const value_view>(key_views).subspan(i * kw, kw), std::nullopt, false};
      if (s.version) keys[i].version = old_version;
    }
    std::vector<std::uint64_t> affected(count, 0);
    std::size_t failed = 0;
    if (auto st = backend_.update_keys(s, keys, cols, set_views, affected, &failed); !st)
      return with_suffix(std::move(st).error(), failed < count ? failed : 0);
    for (std::size_t i = 0; i < count; ++i) {
      if (affected[i] > 0) continue;
      // Nothing matched: tell a missing row from a stale version.
      const auto key = keys[i].key;
      stored_version probe{s.version.value_or(0), {}};
      auto found = backend_.get_key(s, key_spec{key, std::nullopt, false}, row_sink{&probe, &stored_version::read});
      if (!found) return with_suffix(std::move(found).error(), i);
      if (!*found || !s.version) return with_suffix(not_found(key), i);
      return with_suffix({errc::conflict, std::string(s.name) + ": " + describe_key(key) +
                                              " was changed by someone else (version " +
                                              std::to_string(*keys[i].version) + " is stale, stored version is " +
                                              probe.text + ")"},
                         i);
    }
    return {};
  }

  // Updates `chosen` columns (plus version and updated_at) of the row with e's key.
  // A failed update leaves `e` as it was (version and updated_at are put back).
  // `ops`: the entity's functions, either through entity_ops (dynamic_ops) or
  // known at compile time (the typed repository's, which then inlines them all).
  template <class Ops>
  [[gnu::always_inline]] auto update_impl(const Ops& ops, void* e, std::span<const std::size_t> chosen) -> status {
    if (!ops.has_stamps()) return update_stamped(ops, e, chosen, 0);
    stamp_backup saved;
    ops.save_stamps(e, saved);
    const std::int64_t old_version = ops.version(e);
    ops.stamp(e, now(), false);
    if (schema().version) ops.set_version(e, old_version + 1);
    auto st = update_stamped(ops, e, chosen, old_version);
    if (!st) [[unlikely]]
      ops.restore_stamps(e, saved);
    return st;
  }

  // update_impl once `e` is stamped; `old_version`: its version before.
  template <class Ops>
  [[gnu::always_inline]] auto update_stamped(const Ops& ops, void* e, std::span<const std::size_t> chosen,
                                            std::int64_t old_version) -> status {
    const auto& s = schema();
    ORMKIT_TRY(ops.validate(e));
    if constexpr (requires(status& out) { ops.write_update(e, s, chosen, old_version, std::size_t{}, out); }) {
      // A typed repository on a row-writing backend (as in insert_stamped). Its caller
      // has resolved the columns to set already (see repository<T>::update_typed_now):
      // `chosen` is that list.
      if (chosen.empty()) return {};
      status out;
      if (ops.write_update(e, s, chosen, old_version, opts_.max_value_bytes, out)) [[likely]]
        return out;
      return update_unwritten(ops, e, chosen, old_version);
    } else {
      // The columns to set: the chosen ones, version and updated_at; never the key or created_at.
      const std::size_t w = ops.width(s);
      std::array<std::size_t, 16> inline_cols;  // written by update_columns
      std::unique_ptr<std::size_t[]> heap_cols;
      if (w > inline_cols.size()) [[unlikely]]
        heap_cols = std::make_unique<std::size_t[]>(w);
      const auto all_cols =
          w > inline_cols.size() ? std::span<std::size_t>(heap_cols.get(), w) : std::span(inline_cols).first(w);
      const std::size_t n_cols = ops.update_columns(s, chosen, all_cols);
      if (n_cols == 0) return {};
      return update_general(ops, e, all_cols.first(n_cols), old_version);
    }
  }

  template <class Ops>
  [[gnu::noinline]] auto update_unwritten(const Ops& ops, void* e, std::span<const std::size_t> cols,
                                          std::int64_t old_version) -> status {
    return update_general(ops, e, cols, old_version);
  }

  // update_stamped's general path for the resolved `cols`: only those columns and the
  // key are encoded (views [0, n_cols) are the values to set, in the order of `cols`, and
  // the key's views follow), then the backend's update_key.
  template <class Ops>
  [[gnu::always_inline]] auto update_general(const Ops& ops, void* e, std::span<const std::size_t> cols,
                                            std::int64_t old_version) -> status {
    const std::size_t n_views = cols.size() + ops.key_width(schema());
    if (ops.needs_scratch()) {
      row_buffer buf(n_views, true);
      return update_encoded(ops, e, cols, buf.values(), buf.views(), old_version);
    }
    view_buffer views(n_views, false);  // encode_update constructs them
    return update_encoded(ops, e, cols, {}, views.views(), old_version);
  }

  // The rest of update_stamped: `views` has room for the set values then the key.
  template <class Ops>
  [[gnu::always_inline]] auto update_encoded(const Ops& ops, void* e, std::span<const std::size_t> cols,
                                            std::span<value> scratch, std::span<value_view> views,
                                            std::int64_t old_version) -> status {
    const auto& s = schema();
    const std::size_t n_cols = cols.size();
    const std::size_t key_width = ops.key_width(s);
    if (!ops.encode_update(e, cols, scratch, views, opts_.max_value_bytes)) [[unlikely]] {
      // Column by column, to say which failed and why.
      for (auto& v : views) std::construct_at(&v);  // the encoders below assign to them
      auto room = [&](std::size_t i) { return i < scratch.size() ? &scratch[i] : nullptr; };
      for (std::size_t i = 0; i < n_cols; ++i) ORMKIT_TRY(encode_column(e, cols[i], room(i), views[i]));
      for (std::size_t i = 0; i < key_width; ++i)
        ORMKIT_TRY(encode_column(e, s.primary_key[i], room(n_cols + i), views[n_cols + i], false));
    }
    const auto set = views.first(n_cols);
    const auto key = views.subspan(n_cols, key_width);
    key_spec where{key, std::nullopt, false};
    if (s.version) where.version = old_version;
    auto n = backend_.update_key(s, where, cols, set);
    if (!n) return std::move(n).error();
    if (*n > 0) [[likely]]
      return {};
    return update_missed(key, old_version);
  }

  // An update matched no row: tell a missing row from a stale version.
  [[gnu::noinline]] auto update_missed(std::span<value_view> key, std::int64_t old_version) -> status {
    const auto& s = schema();
    stored_version probe{s.version.value_or(0), {}};
    auto found = backend_.get_key(s, key_spec{key, std::nullopt, false}, row_sink{&probe, &stored_version::read});
    if (!found) return std::move(found).error();
    if (!*found || !s.version) return not_found(key);
    return unexpected(errc::conflict, std::string(s.name) + ": " + describe_key(key) +
                                          " was changed by someone else (version " + std::to_string(old_version) +
                                          " is stale, stored version is " + probe.text + ")");
  }

  // A failed upsert leaves `e` as it was.
  auto upsert_impl(void* e, bool as_stored = false) -> status {
    if (as_stored || ops_->save_stamps == nullptr) return upsert_stamped(e);
    stamp_backup saved;
    ops_->save_stamps(e, saved);
    if (schema().version) {
      auto v = ops_->version(e);
      if (v != 0) ops_->set_version(e, v + 1);
    }
    ops_->stamp(e, now(), true);
    auto st = upsert_stamped(e);
    if (!st) [[unlikely]]
      ops_->restore_stamps(e, saved);
    return st;
  }

  auto upsert_stamped(void* e) -> status {
    const auto& s = schema();
    ORMKIT_TRY(ops_->validate(e));
    row_buffer buf(width(), ops_->encode_needs_scratch);
    ORMKIT_TRY(encode_row(e, buf.values(), buf.views()));
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
      ORMKIT_TRY(encode_row(e, again.values(), again.views()));
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

  template <class Ops>
  [[gnu::always_inline]] auto erase_key_impl(const Ops& ops, const void* key) -> status {
    const auto& s = schema();
    key_buffer k(ops.key_width(s), ops.key_needs_scratch());
    ORMKIT_TRY(ops.key_views(key, k.values(), k.views()));
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
    if (*n == 0) [[unlikely]]
      return not_found(k.views());
    return {};
  }

  auto restore_impl(const void* key) -> status {
    const auto& s = schema();
    key_buffer k(s.primary_key.size(), ops_->key_needs_scratch);
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
  template <class Ops>
  [[gnu::always_inline]] auto get_impl(const Ops& ops, const void* key, void* out) const -> result<bool> {
    const auto& s = schema();
    key_buffer k(ops.key_width(s), ops.key_needs_scratch());
    ORMKIT_TRY(ops.key_views(key, k.values(), k.views()));
    decode_target into{ops_, out};
    return backend_.get_key(s, key_spec{k.views(), std::nullopt, false}, row_sink{&into, &decode_target::read});
  }

  //=== observed entry points (repository_options::observer) ===//

  auto insert(void* e, bool as_stored = false) -> status {
    const dynamic_ops ops{ops_};
    if (!opts_.observer) [[likely]]
      return insert_impl(ops, e, as_stored);
    return observed(operation::insert, e, nullptr, true, [&] { return insert_impl(ops, e, as_stored); });
  }
  // `insert` with the entity's functions known at compile time (see update_as).
  template <class Ops>
  [[gnu::always_inline]] auto insert_as(const Ops& ops, void* e) -> status {
    if (opts_.observer == nullptr) [[likely]]
      return insert_impl(ops, e);
    return insert(e);
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
    const dynamic_ops ops{ops_};
    if (!opts_.observer) [[likely]]
      return update_impl(ops, e, chosen);
    return observed(operation::update, e, nullptr, true, [&] { return update_impl(ops, e, chosen); });
  }
  // `update` with the entity's functions known at compile time (`Ops`: the typed
  // repository's), inlined into the caller. With an observer it is `update`.
  template <class Ops>
  [[gnu::always_inline]] auto update_as(const Ops& ops, void* e, std::span<const std::size_t> chosen) -> status {
    if (opts_.observer == nullptr) [[likely]]
      return update_impl(ops, e, chosen);
    return update(e, chosen);
  }
  // Updates `count` entities (each as `update` does) in one transaction, or a savepoint
  // inside an open one: all of them or none. `after_each(e, st)` sees every attempt.
  template <class AfterEach>
  auto update_many(void* items, std::size_t count, std::size_t stride, std::span<const std::size_t> chosen,
                   AfterEach&& after_each) -> status {
    if (count == 0) return {};
    auto tx = transaction::begin(backend_);
    if (!tx) return std::move(tx).error();
    auto* base = static_cast<unsigned char*>(items);
    if (backend_.batches_updates() && count > 1) {
      // Hooks veto item by item first; then one batch call; then each item is reported.
      for (std::size_t i = 0; i < count; ++i)
        if (auto st = veto(operation::update, base + i * stride, nullptr); !st) {
          (void)tx->rollback();
          return with_suffix(std::move(st).error(), i);
        }
      const auto t0 = std::chrono::steady_clock::now();
      auto st = update_keys_impl(base, count, stride, chosen);
      for (std::size_t i = 0; i < count; ++i) {
        if (opts_.observer) report(operation::update, st ? base + i * stride : nullptr, nullptr, st ? 1 : 0, t0,
                                   st ? nullptr : &st.error());
        after_each(base + i * stride, st);
      }
      if (!st) {
        (void)tx->rollback();
        return st;
      }
      return tx->commit();
    }
    for (std::size_t i = 0; i < count; ++i) {
      void* e = base + i * stride;
      auto st = update(e, chosen);
      after_each(e, st);
      if (!st) {
        (void)tx->rollback();
        return with_suffix(std::move(st).error(), i);
      }
    }
    return tx->commit();
  }
  auto upsert(void* e, bool as_stored = false) -> status {
    return observed(operation::upsert, e, nullptr, true, [&] { return upsert_impl(e, as_stored); });
  }
  auto erase(expr filter) -> result<std::uint64_t> {
    return observed(operation::erase, nullptr, nullptr, true, [&] { return erase_impl(std::move(filter)); });
  }
  auto erase_key(const void* key) -> status {
    const dynamic_ops ops{ops_};
    if (!opts_.observer) [[likely]]
      return erase_key_impl(ops, key);
    return observed(operation::erase, nullptr, key, true, [&] { return erase_key_impl(ops, key); });
  }
  // `erase_key` with the entity's functions known at compile time (see update_as).
  template <class Ops>
  [[gnu::always_inline]] auto erase_key_as(const Ops& ops, const void* key) -> status {
    if (opts_.observer == nullptr) [[likely]]
      return erase_key_impl(ops, key);
    return erase_key(key);
  }
  auto restore(const void* key) -> status {
    return observed(operation::restore, nullptr, key, true, [&] { return restore_impl(key); });
  }
  auto get(const void* key, void* out) const -> result<bool> {
    if (!opts_.observer) return get_impl(dynamic_ops{ops_}, key, out);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = get_impl(dynamic_ops{ops_}, key, out);
    const bool found = r && *r;
    report(operation::get, found ? out : nullptr, key, found ? 1 : 0, t0, r ? nullptr : &r.error());
    if (found) notify_loaded(out);
    return r;
  }
  // `get` with the entity's functions known at compile time (see update_as).
  template <class Ops>
  [[gnu::always_inline]] auto get_as(const Ops& ops, const void* key, void* out) const -> result<bool> {
    if (opts_.observer == nullptr) [[likely]]
      return get_impl(ops, key, out);
    return get(key, out);
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
    return backend_.fetch(schema(), q, sink);  // the backend's own loop, or select's cursor
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

  // At most this many key values go into one statement (get_many, erase_many): far
  // below SQLite's 32,766 and PostgreSQL's 65,535 bound parameters, padding included.
  static constexpr std::size_t max_key_values_per_statement = 8192;
  // Composite keys become `(a = ? AND b = ?) OR ...`, which SQLite parses into a tree one
  // level deeper per key, and it refuses trees deeper than 1,000 (SQLITE_MAX_EXPR_DEPTH).
  static constexpr std::size_t max_composite_keys_per_statement = 512;

  // How many keys one statement takes (a composite key counts once per column).
  [[nodiscard]] auto keys_per_statement() const -> std::size_t {
    const std::size_t w = schema().primary_key.size();
    if (w <= 1) return max_key_values_per_statement;
    return std::min(max_composite_keys_per_statement, std::max<std::size_t>(1, max_key_values_per_statement / w));
  }

  // A filter matching any of the (encoded) keys in `keys`, `count` keys of `key_width` values.
  auto keys_filter(std::span<const value> keys, std::size_t count) const -> expr {
    const auto& s = schema();
    if (s.primary_key.size() == 1)
      return expr{op::in, s.primary_key[0], std::vector<value>(keys.begin(), keys.end()), {}, {}};
    expr any{op::or_, 0, {}, {}, {}};
    const std::size_t w = s.primary_key.size();
    for (std::size_t i = 0; i < count; ++i)
      any.children.push_back(key_filter(keys.subspan(i * w, w)));
    return any;
  }

  // Erases (or soft-deletes) the rows with any of `count` encoded keys: statements of at
  // most keys_per_statement() keys each, in one transaction (a savepoint inside an open
  // one) when there are several, so all of them or none. Returns how many rows existed.
  auto erase_keys(std::span<const value> keys, std::size_t count) -> result<std::uint64_t> {
    const std::size_t per = keys_per_statement();
    if (count <= per) return erase(keys_filter(keys, count));
    const std::size_t w = schema().primary_key.size();
    auto tx = transaction::begin(backend_);
    if (!tx) return std::move(tx).error();
    std::uint64_t total = 0;
    for (std::size_t at = 0; at < count; at += per) {
      const std::size_t n = std::min(per, count - at);
      auto erased = erase(keys_filter(keys.subspan(at * w, n * w), n));
      if (!erased) {
        (void)tx->rollback();
        return std::move(erased).error();
      }
      total += *erased;
    }
    ORMKIT_TRY(tx->commit());
    return total;
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
      if (row.size() == t.ops->columns.size() && t.ops->decode_row(row, t.entity)) [[likely]]
        return {};
      return decode_columns(t.ops->columns, t.ops->schema(), row, t.entity);
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

  // Encodes column `c` of entity `e` into `out`; `room` holds a converted value for
  // encoders that need one (null when none does). Text and blobs over
  // opts_.max_value_bytes are rejected here, before they reach the backend
  // (`limit` false: a key, which is only compared, never written).
  auto encode_column(const void* e, std::size_t c, value* room, value_view& out, bool limit = true) const
      -> status {
    const auto& a = ops_->columns[c];
    const void* m = a.member(const_cast<void*>(e));
    if (!a.encode(m, room, out)) [[unlikely]] {
      auto st = a.encode_status(m, room, out);
      return column_error(schema(), c, st ? ormkit::error{errc::invalid_argument, "cannot be encoded"} : st.error());
    }
    if (limit && out.index() >= 3) [[unlikely]]
      return check_size(c, out);
    return {};
  }

  // Every column of `e`, in schema order: one call to the entity's inlined encoder; when
  // it fails, column by column to find which column and why.
  // `views` need not be constructed: the entity's encoder constructs each one.
  [[gnu::always_inline]] auto encode_row(const void* e, std::span<value> scratch, std::span<value_view> views) const
      -> status {
    if (ops_->encode_row(e, scratch, views, opts_.max_value_bytes)) [[likely]]
      return {};
    return encode_columns(e, scratch, views);
  }
  [[gnu::noinline]] auto encode_columns(const void* e, std::span<value> scratch, std::span<value_view> views) const
      -> status {
    for (auto& v : views) std::construct_at(&v);  // encode_column assigns to them
    for (std::size_t c = 0; c < views.size(); ++c)
      ORMKIT_TRY(encode_column(e, c, c < scratch.size() ? &scratch[c] : nullptr, views[c]));
    return {};
  }

  // Rejects a text or blob over opts_.max_value_bytes.
  auto check_size(std::size_t c, const value_view& v) const -> status {
    std::size_t n = 0;
    if (const auto* t = std::get_if<std::string_view>(&v)) n = t->size();
    else if (const auto* b = std::get_if<blob_view>(&v)) n = b->size();
    if (n <= opts_.max_value_bytes) [[likely]]
      return {};
    return too_large(c, n);
  }

  [[gnu::noinline]] auto too_large(std::size_t c, std::size_t n) const -> ormkit::error {
    const auto& col = schema().columns[c];
    std::string msg = std::string(schema().name) + "." + std::string(col.name) + ": value exceeds the limit of " +
                      std::to_string(opts_.max_value_bytes) + " bytes";
    if (!col.has(column_flags::secret)) msg += " (got " + std::to_string(n) + " bytes)";
    return {errc::invalid_argument, std::move(msg)};
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
