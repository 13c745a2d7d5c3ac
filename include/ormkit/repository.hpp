// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/repository.hpp
//
// `repository<T>`: the typed API for one entity over any backend. It is the
// only per-entity code: it turns an entity into a span of value views
// (borrowing strings and blobs), validates before every write, maintains
// created_at / updated_at / version / soft_delete, and decodes rows straight
// into members. Everything below it is untyped (backend.hpp).
//
// Example:
//
//   ormkit::memory::backend db;
//   ormkit::repository<user> users(db);
//   auto ann = users.insert({.email = "ann@example.com", .name = "Ann", .age = 31}).value();
//   auto same = users.get(ann.id).value();
//   auto adults = users.find(ormkit::col(&user::age) >= 18).value();

#include <ormkit/backend.hpp>
#include <ormkit/cache.hpp>
#include <ormkit/cache/aside.hpp>
#include <ormkit/cache_key.hpp>
#include <ormkit/column_traits.hpp>
#include <ormkit/detail/repository_core.hpp>
#include <ormkit/entity.hpp>
#include <ormkit/query.hpp>
#include <ormkit/result.hpp>
#include <ormkit/validator.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace ormkit {

/// A page of results from offset paging.
template <class T>
struct page {
  std::vector<T> items;
  std::uint64_t number = 1;  ///< 1-based
  std::uint64_t size = 0;    ///< requested page size
  std::uint64_t total = 0;   ///< matching rows on all pages
  [[nodiscard]] auto page_count() const -> std::uint64_t { return size == 0 ? 0 : (total + size - 1) / size; }
  [[nodiscard]] auto has_next() const -> bool { return number < page_count(); }
};

/// A page from keyset paging; pass `items.back()` to the next call.
template <class T>
struct keyset_page {
  std::vector<T> items;
  bool has_more = false;
};

template <class T>
class entity_stream;

namespace detail {

template <class M>
inline constexpr bool is_time_point = false;
template <class D>
inline constexpr bool is_time_point<std::chrono::time_point<std::chrono::system_clock, D>> = true;

// Writes `now` into a timestamp member of any supported type.
template <class M>
void assign_time(M& member, time_point now) {
  auto us = std::chrono::floor<std::chrono::microseconds>(now);
  if constexpr (is_time_point<M>) {
    member = std::chrono::time_point_cast<typename M::duration>(us);
  } else if constexpr (is_nullable_v<M>) {
    typename M::value_type inner{};
    assign_time(inner, now);
    member = inner;
  } else if constexpr (std::is_same_v<M, std::int64_t>) {
    member = us.time_since_epoch().count();
  } else {
    static_assert(sizeof(M) == 0,
                  "ormkit: created_at / updated_at / soft_delete columns must be a system_clock time point, "
                  "std::int64_t microseconds, or std::optional of those");
  }
}

// Per-type codecs, out of line so that every column of every entity with the same
// C++ type shares one copy. member: the address of an entity's member of type M.
// The everyday pair returns only whether it worked (a `status` per column would cost
// a check of a non-trivial object); the `_status` pair, called after a failure, says why.
template <class M>
[[gnu::noinline]] auto encode_member_status(const void* member, value* scratch, value_view& out) -> status {
  if constexpr (has_to_view<M>) {
    out = column_traits<M>::to_view(*static_cast<const M*>(member));
    return {};
  }
  auto v = encode_view(*static_cast<const M*>(member), *scratch);
  if (!v) return std::move(v).error();
  out = *v;
  return {};
}

template <class M>
[[gnu::noinline]] auto encode_member(const void* member, value* scratch, value_view& out) -> bool {
  if constexpr (has_to_view<M>) {
    out = column_traits<M>::to_view(*static_cast<const M*>(member));
    return true;
  }
  auto v = encode_view(*static_cast<const M*>(member), *scratch);
  if (!v) return false;
  out = *v;
  return true;
}

template <class M>
[[gnu::noinline]] auto decode_member_status(const value_view& in, void* member) -> status {
  auto v = ormkit::decode<M>(in);
  if (!v) return std::move(v).error();
  *static_cast<M*>(member) = std::move(*v);
  return {};
}

// Text longer than `m`'s capacity: a new buffer is needed whatever we do, so `m` itself is
// built anew from the bytes (one allocation and copy, as std::string(p, n) does), rather
// than a temporary built and then moved in (the move assignment and the temporary's
// destruction cost about as much again per column). `m` is replaced in place (a member
// of a live entity may be: C++20 [basic.life]); if the allocation throws, `m` is left
// empty, a valid string, and the exception goes on.
[[gnu::noinline]] inline void replace_text(std::string& m, std::string_view t) {
  std::destroy_at(&m);
  try {
    std::construct_at(&m, t.data(), t.size());
  } catch (...) {
    std::construct_at(&m);
    throw;
  }
}

template <class M>
[[gnu::noinline]] auto decode_member(const value_view& in, void* member) -> bool {
  // The everyday cases straight into the member (the trait decides everything else,
  // errors included): text into a std::string's own buffer, in-range integers, reals.
  if constexpr (std::is_same_v<M, std::string>) {
    if (const auto* t = std::get_if<std::string_view>(&in)) {
      auto& m = *static_cast<M*>(member);
      if (t->size() <= m.capacity()) {
        // Into the string's own buffer (get_into, or SSO room): no allocation.
        m.clear();
        m.append(t->data(), t->size());
      } else {
        replace_text(m, *t);  // cheaper than assign()'s general replace path, or a move
      }
      return true;
    }
  } else if constexpr (std::is_same_v<M, std::int64_t> || std::is_same_v<M, double>) {
    if (const auto* x = std::get_if<M>(&in)) {
      *static_cast<M*>(member) = *x;
      return true;
    }
  } else if constexpr (std::is_integral_v<M> && !std::is_same_v<M, bool> && sizeof(M) < sizeof(std::int64_t)) {
    if (const auto* i = std::get_if<std::int64_t>(&in);
        i && *i >= static_cast<std::int64_t>(std::numeric_limits<M>::min()) &&
        *i <= static_cast<std::int64_t>(std::numeric_limits<M>::max())) {
      *static_cast<M*>(member) = static_cast<M>(*i);
      return true;
    }
  }
  auto v = ormkit::decode<M>(in);
  if (!v) return false;
  *static_cast<M*>(member) = std::move(*v);
  return true;
}

template <class T, std::size_t I>
auto member_address(void* entity) -> void* {
  return &(static_cast<T*>(entity)->*(column_v<T, I>.member));
}

// Per column: whether its member type converts to a view without scratch room.
template <class T>
inline constexpr auto column_has_view_v = []<std::size_t... I>(std::index_sequence<I...>) {
  return std::array<bool, sizeof...(I)>{has_to_view<column_member_t<T, I>>...};
}(std::make_index_sequence<column_count_v<T>>{});

template <class T>
inline constexpr auto column_access_v = []<std::size_t... I>(std::index_sequence<I...>) {
  return std::array<column_access, sizeof...(I)>{
      column_access{&member_address<T, I>, &encode_member<column_member_t<T, I>>,
                    &decode_member<column_member_t<T, I>>, &encode_member_status<column_member_t<T, I>>,
                    &decode_member_status<column_member_t<T, I>>}...};
}(std::make_index_sequence<column_count_v<T>>{});

// The per-entity functions behind entity_ops. T: the entity type.
template <class T>
struct entity_functions {
  static constexpr std::size_t width = column_count_v<T>;
  static constexpr std::size_t version_index = column_with_v<T, column_flags::version>;
  static constexpr std::size_t created_index = column_with_v<T, column_flags::created_at>;
  static constexpr std::size_t updated_index = column_with_v<T, column_flags::updated_at>;
  static constexpr std::size_t soft_delete_index = column_with_v<T, column_flags::soft_delete>;
  static constexpr std::size_t auto_index = column_with_v<T, column_flags::auto_increment>;
  static constexpr std::size_t key_width = primary_key_indexes_v<T>.size();

  static constexpr bool needs_scratch = []<std::size_t... I>(std::index_sequence<I...>) {
    return !(has_to_view<column_member_t<T, I>> && ...);
  }(std::make_index_sequence<width>{});
  static constexpr bool key_needs_scratch = [] {
    bool any = false;
    for (std::size_t k : primary_key_indexes_v<T>) any = any || !column_has_view_v<T>[k];
    return any;
  }();

  static auto decode(std::span<const value_view> row, void* p) -> status {
    if (row.size() == width && decode_row(row, p)) [[likely]]
      return {};
    return decode_columns(column_access_v<T>, schema_of<T>(), row, p);  // says why
  }

  // The whole row in one call: conversions that cannot fail (column_traits::to_view) are
  // inlined, the rest go to the per-type codecs. False: a column failed (encode_columns
  // and decode_columns in the core then say which and why).
  // `max_bytes`: the largest text or blob accepted (only text and blob columns are checked).
  // room: where a converted value goes (only used when the member needs one).
  // `out` need not hold a view yet: it is constructed here (callers leave their view
  // buffers unconstructed for these encoders).
  template <std::size_t I>
  static auto encode_column(const T& e, value* room, value_view& out, std::size_t max_bytes) -> bool {
    using M = column_member_t<T, I>;
    const M& m = e.*(column_v<T, I>.member);
    if constexpr (has_to_view<M>) {
      (void)room;
      std::construct_at(&out, column_traits<M>::to_view(m));
    } else {
      std::construct_at(&out);
      if (!encode_member<M>(&m, room, out)) return false;  // needs_scratch: room is a value
    }
    constexpr auto stored = column_traits<M>::storage;
    if constexpr (stored == storage::text) {
      if (const auto* t = std::get_if<std::string_view>(&out)) return t->size() <= max_bytes;
    } else if constexpr (stored == storage::blob) {
      if (const auto* b = std::get_if<blob_view>(&out)) return b->size() <= max_bytes;
    }
    return true;
  }
  static auto encode_row(const void* p, std::span<value> scratch, std::span<value_view> views, std::size_t max_bytes)
      -> bool {
    return encode_row_inline(p, scratch, views, max_bytes);
  }
  [[gnu::always_inline]] static auto encode_row_inline(const void* p, std::span<value> scratch,
                                                       std::span<value_view> views, std::size_t max_bytes) -> bool {
    const T& e = *static_cast<const T*>(p);
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return (encode_column<I>(e, needs_scratch ? scratch.data() + I : nullptr, views[I], max_bytes) && ...);
    }(std::make_index_sequence<width>{});
  }

  // Column `c` (a runtime index) through the inlined encoders.
  static auto encode_at(const T& e, std::size_t c, value* room, value_view& out, std::size_t max_bytes) -> bool {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      bool ok = false;
      (void)((c == I ? (ok = encode_column<I>(e, room, out, max_bytes), true) : false) || ...);
      return ok;
    }(std::make_index_sequence<width>{});
  }

  // An update's views in one call: `cols` into views [0, n), then the key's columns
  // (not size-checked: a key is only compared). scratch: one value per view, or empty.
  static auto encode_update(const void* p, std::span<const std::size_t> cols, std::span<value> scratch,
                            std::span<value_view> views, std::size_t max_bytes) -> bool {
    return encode_update_inline(p, cols, scratch, views, max_bytes);
  }
  [[gnu::always_inline]] static auto encode_update_inline(const void* p, std::span<const std::size_t> cols,
                                                          std::span<value> scratch, std::span<value_view> views,
                                                          std::size_t max_bytes) -> bool {
    const T& e = *static_cast<const T*>(p);
    const std::size_t n = cols.size();
    auto room = [&](std::size_t i) { return i < scratch.size() ? &scratch[i] : nullptr; };
    for (std::size_t i = 0; i < n; ++i)
      if (!encode_at(e, cols[i], room(i), views[i], max_bytes)) return false;
    return [&]<std::size_t... K>(std::index_sequence<K...>) {
      return (encode_column<primary_key_indexes_v<T>[K]>(e, room(n + K), views[n + K],
                                                         std::numeric_limits<std::size_t>::max()) &&
              ...);
    }(std::make_index_sequence<key_width>{});
  }

  // The everyday cases inline (the same conversions as decode_member's, which takes
  // everything else, errors included).
  template <std::size_t I>
  static auto decode_column(const value_view& in, T& e) -> bool {
    using M = column_member_t<T, I>;
    M& m = e.*(column_v<T, I>.member);
    if constexpr (std::is_same_v<M, std::int64_t> || std::is_same_v<M, double>) {
      if (const auto* x = std::get_if<M>(&in)) [[likely]] {
        m = *x;
        return true;
      }
    } else if constexpr (std::is_same_v<M, bool>) {
      if (const auto* x = std::get_if<std::int64_t>(&in); x && (*x == 0 || *x == 1)) [[likely]] {
        m = *x != 0;
        return true;
      }
    } else if constexpr (std::is_integral_v<M> && sizeof(M) < sizeof(std::int64_t)) {
      if (const auto* i = std::get_if<std::int64_t>(&in);
          i && *i >= static_cast<std::int64_t>(std::numeric_limits<M>::min()) &&
          *i <= static_cast<std::int64_t>(std::numeric_limits<M>::max())) [[likely]] {
        m = static_cast<M>(*i);
        return true;
      }
    } else if constexpr (std::is_same_v<M, std::string>) {
      // Into the string's own buffer when it fits (get_into, or SSO room): no allocation;
      // longer text into a new buffer of its own (a fresh entity's longer strings).
      if (const auto* t = std::get_if<std::string_view>(&in)) [[likely]] {
        if (t->size() <= m.capacity()) {
          m.clear();
          m.append(t->data(), t->size());
        } else {
          replace_text(m, *t);
        }
        return true;
      }
    }
    return decode_member<M>(in, &m);
  }
  // Always inlined: its callers are the per-row paths (an out-of-line copy of the fold
  // costs a call and the row's span per row).
  template <std::size_t... I>
  [[gnu::always_inline]] static auto decode_columns_inline(std::span<const value_view> row, T& e,
                                                           std::index_sequence<I...>) -> bool {
    return (decode_column<I>(row[I], e) && ...);
  }
  static auto decode_row(std::span<const value_view> row, void* p) -> bool {
    return decode_columns_inline(row, *static_cast<T*>(p), std::make_index_sequence<width>{});
  }

  static auto validate(const void* p) -> status { return ormkit::check(*static_cast<const T*>(p)); }

  static void stamp(void* p, time_point now, bool inserting) {
    T& e = *static_cast<T*>(p);
    if constexpr (created_index < width)
      if (inserting) assign_time(e.*(column_v<T, created_index>.member), now);
    if constexpr (updated_index < width) assign_time(e.*(column_v<T, updated_index>.member), now);
    if constexpr (version_index < width) {
      auto& v = e.*(column_v<T, version_index>.member);
      if (inserting && v == 0) v = 1;
    }
  }

  // The members stamp() and an update's version bump write, copied out and back
  // (bytes, not the entity; none of them owns memory).
  static constexpr bool has_stamps = version_index < width || created_index < width || updated_index < width;
  template <std::size_t I, std::size_t Slot>
  static void save_stamp(const T& e, detail::stamp_backup& out) {
    if constexpr (I < width) {
      using M = column_member_t<T, I>;
      static_assert(std::is_trivially_copyable_v<M> && sizeof(M) <= sizeof(out.bytes) / 3);
      std::memcpy(out.bytes + Slot * (sizeof(out.bytes) / 3), &(e.*(column_v<T, I>.member)), sizeof(M));
    }
  }
  template <std::size_t I, std::size_t Slot>
  static void restore_stamp(T& e, const detail::stamp_backup& in) {
    if constexpr (I < width) {
      using M = column_member_t<T, I>;
      std::memcpy(&(e.*(column_v<T, I>.member)), in.bytes + Slot * (sizeof(in.bytes) / 3), sizeof(M));
    }
  }
  static void save_stamps(const void* p, detail::stamp_backup& out) {
    const T& e = *static_cast<const T*>(p);
    save_stamp<version_index, 0>(e, out);
    save_stamp<created_index, 1>(e, out);
    save_stamp<updated_index, 2>(e, out);
  }
  static void restore_stamps(void* p, const detail::stamp_backup& in) {
    T& e = *static_cast<T*>(p);
    restore_stamp<version_index, 0>(e, in);
    restore_stamp<created_index, 1>(e, in);
    restore_stamp<updated_index, 2>(e, in);
  }

  static void set_generated(void* p, std::int64_t id) {
    if constexpr (auto_index < width) {
      auto& m = static_cast<T*>(p)->*(column_v<T, auto_index>.member);
      if (m == 0 && id != 0) m = static_cast<std::remove_cvref_t<decltype(m)>>(id);
    }
  }

  static auto version(const void* p) -> std::int64_t {
    if constexpr (version_index < width)
      return static_cast<std::int64_t>(static_cast<const T*>(p)->*(column_v<T, version_index>.member));
    return 0;
  }

  static void set_version(void* p, std::int64_t v) {
    if constexpr (version_index < width) {
      auto& m = static_cast<T*>(p)->*(column_v<T, version_index>.member);
      m = static_cast<std::remove_cvref_t<decltype(m)>>(v);
    }
  }

  template <std::size_t K>
  static auto key_part(const primary_key_t<T>& key) -> const auto& {
    if constexpr (key_width == 1) return key;
    else return std::get<K>(key);
  }

  static auto encode_key(const void* p, std::vector<value>& out) -> status {
    if constexpr (key_width == 0) {
      return unexpected(errc::unsupported, detail::concat({table_name_v<T>, ": entity has no primary key"}));
    } else {
      const auto& key = *static_cast<const primary_key_t<T>*>(p);
      status st;
      [&]<std::size_t... K>(std::index_sequence<K...>) {
        (
            [&] {
              auto v = ormkit::encode(key_part<K>(key));
              if (v) {
                out.push_back(std::move(*v));
              } else {
                if (st) st = column_error(schema_of<T>(), primary_key_indexes_v<T>[K], v.error());
                out.emplace_back();
              }
            }(),
            ...);
      }(std::make_index_sequence<key_width>{});
      return st;
    }
  }

  static auto key_views(const void* p, std::span<value> scratch, std::span<value_view> views) -> status {
    return key_views_inline(p, scratch, views);
  }
  [[gnu::always_inline]] static auto key_views_inline(const void* p, std::span<value> scratch,
                                                      std::span<value_view> views) -> status {
    if constexpr (key_width == 0) {
      return unexpected(errc::unsupported, detail::concat({table_name_v<T>, ": entity has no primary key"}));
    } else {
      const auto& key = *static_cast<const primary_key_t<T>*>(p);
      status st;
      [&]<std::size_t... K>(std::index_sequence<K...>) {
        (
            [&] {
              if (!st) return;
              using P = std::remove_cvref_t<decltype(key_part<K>(key))>;
              // The views are constructed here (the core leaves them unconstructed).
              if constexpr (has_to_view<P>) {
                std::construct_at(&views[K], column_traits<P>::to_view(key_part<K>(key)));  // no scratch needed
              } else {
                auto v = encode_view(key_part<K>(key), scratch[K]);
                std::construct_at(&views[K]);
                if (v) views[K] = *v;
                else st = column_error(schema_of<T>(), primary_key_indexes_v<T>[K], v.error());
              }
            }(),
            ...);
      }(std::make_index_sequence<key_width>{});
      return st;
    }
  }

  static auto key_of(const T& e) -> primary_key_t<T> {
    return [&]<std::size_t... K>(std::index_sequence<K...>) {
      if constexpr (key_width == 1) return e.*(column_v<T, primary_key_indexes_v<T>[0]>.member);
      else return primary_key_t<T>(e.*(column_v<T, primary_key_indexes_v<T>[K]>.member)...);
    }(std::make_index_sequence<key_width>{});
  }

  static auto entity_key(const void* p, std::vector<value>& out) -> status {
    if constexpr (key_width == 0) {
      return unexpected(errc::unsupported, detail::concat({table_name_v<T>, ": entity has no primary key"}));
    } else {
      auto key = key_of(*static_cast<const T*>(p));
      return encode_key(&key, out);
    }
  }

  static auto deleted_value(time_point now, bool deleted, value& out) -> status {
    if constexpr (soft_delete_index < width) {
      using M = column_member_t<T, soft_delete_index>;
      M m{};
      if constexpr (std::is_same_v<M, bool>) m = deleted;
      else if (deleted) assign_time(m, now);
      auto v = ormkit::encode(m);
      if (!v) return std::move(v).error();
      out = std::move(*v);
      return {};
    } else {
      return unexpected(errc::unsupported, detail::concat({table_name_v<T>, ": entity has no soft_delete column"}));
    }
  }

  static auto schema() -> const table_schema& { return schema_of<T>(); }

  // What repository_core::insert_as, get_as, update_as and erase_key_as need (as
  // dynamic_ops has it through entity_ops), known at compile time so that a per-row call
  // inlines it all.
  struct inline_ops {
    static constexpr auto has_stamps() -> bool { return entity_functions::has_stamps; }
    static void save_stamps(const void* e, stamp_backup& out) { entity_functions::save_stamps(e, out); }
    static void restore_stamps(void* e, const stamp_backup& in) { entity_functions::restore_stamps(e, in); }
    static auto version(const void* e) -> std::int64_t { return entity_functions::version(e); }
    static void set_version(void* e, std::int64_t v) { entity_functions::set_version(e, v); }
    static void stamp(void* e, time_point now, bool inserting) { entity_functions::stamp(e, now, inserting); }
    static auto validate(const void* e) -> status { return entity_functions::validate(e); }
    static constexpr auto needs_scratch() -> bool { return entity_functions::needs_scratch; }
    [[gnu::always_inline]] static auto encode_row(const void* e, std::span<value> scratch, std::span<value_view> views,
                                                  std::size_t max_bytes) -> bool {
      return entity_functions::encode_row_inline(e, scratch, views, max_bytes);
    }
    static void set_generated(void* e, std::int64_t id) { entity_functions::set_generated(e, id); }
    static constexpr auto key_needs_scratch() -> bool { return entity_functions::key_needs_scratch; }
    [[gnu::always_inline]] static auto key_views(const void* key, std::span<value> scratch,
                                                 std::span<value_view> views) -> status {
      return entity_functions::key_views_inline(key, scratch, views);
    }
    static constexpr auto width(const table_schema&) -> std::size_t { return entity_functions::width; }
    static constexpr auto key_width(const table_schema&) -> std::size_t { return entity_functions::key_width; }
    [[gnu::always_inline]] static auto encode_update(const void* e, std::span<const std::size_t> cols,
                                                     std::span<value> scratch, std::span<value_view> views,
                                                     std::size_t max_bytes) -> bool {
      return entity_functions::encode_update_inline(e, cols, scratch, views, max_bytes);
    }
    [[gnu::always_inline]] static auto update_columns(const table_schema&, std::span<const std::size_t> chosen,
                                                      std::span<std::size_t> cols) -> std::size_t {
      return update_columns_for(entity_functions::width, primary_key_indexes_v<T>, created_index, version_index,
                                updated_index, chosen, cols);
    }
  };

  //=== typed writes (ormkit::row_writing_backend) ===//

  // Column I's value put into writer `w` as parameter `index`, with no row of views in
  // between: the member's to_view is inlined, so for the built-in types the variant's
  // switch and the fit check fold away. False when the value cannot be written as it is
  // (its codec failed, it is longer than max_bytes, or it is not of the column's storage
  // class, which only a faulty column_traits gives); the general path then says why.
  template <std::size_t I, class W>
  [[gnu::always_inline]] static auto put_column(const T& e, W& w, int index, std::size_t max_bytes) -> bool {
    using M = column_member_t<T, I>;
    if constexpr (has_to_view<M>) {
      value_view v;  // a view of the member: no `value` to build or destroy
      return put_view<I>(e, w, index, max_bytes, nullptr, v);
    } else {
      value room;
      value_view v;
      return put_view<I>(e, w, index, max_bytes, &room, v);
    }
  }
  template <std::size_t I, class W>
  [[gnu::always_inline]] static auto put_view(const T& e, W& w, int index, std::size_t max_bytes, value* room,
                                              value_view& v) -> bool {
    using M = column_member_t<T, I>;
    if (!encode_column<I>(e, room, v, max_bytes)) [[unlikely]]
      return false;
    constexpr auto stored = static_cast<std::size_t>(column_traits<M>::storage);
    const std::size_t got = v.index();
    if (got != stored && !(stored == static_cast<std::size_t>(storage::real) && got == 1) &&
        !(got == 0 && is_nullable_v<M>)) [[unlikely]]
      return false;
    w.put(index, v, !has_to_view<M>);  // a converted value lives in `room`: SQLite copies it
    return true;
  }

  // Column `c` (a runtime index) through put_column.
  template <class W>
  static auto put_at(const T& e, std::size_t c, W& w, int index, std::size_t max_bytes) -> bool {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      bool ok = false;
      (void)((c == I ? (ok = put_column<I>(e, w, index, max_bytes), true) : false) || ...);
      return ok;
    }(std::make_index_sequence<width>{});
  }

  // Whether inserting `e` has the backend generate its key (as the backends decide it
  // from the row: the auto-increment column NULL or 0).
  static auto generates_key(const T& e) -> bool {
    if constexpr (auto_index < width) {
      using M = column_member_t<T, auto_index>;
      if constexpr (std::is_integral_v<M>) {
        return e.*(column_v<T, auto_index>.member) == 0;
      } else {
        value room;
        value_view v;
        (void)encode_column<auto_index>(e, &room, v, std::numeric_limits<std::size_t>::max());
        const auto* id = std::get_if<std::int64_t>(&v);
        return id == nullptr || *id == 0;
      }
    } else {
      (void)e;
      return false;
    }
  }

  // The failure exits of the typed writes: the row's views for the backend's message.
  template <class B>
  [[gnu::noinline, gnu::cold]] static auto insert_failed(B& b, typename B::row_writer& w, const table_schema& s,
                                                         const T& e) -> ormkit::error {
    std::vector<value> room(width);
    std::vector<value_view> views(width);
    (void)encode_row_inline(&e, room, views, std::numeric_limits<std::size_t>::max());
    return b.write_failed(w, s, views, {});
  }
  template <class B>
  [[gnu::noinline, gnu::cold]] static auto update_failed(B& b, typename B::row_writer& w, const table_schema& s,
                                                         const T& e, std::span<const std::size_t> cols)
      -> ormkit::error {
    std::vector<value> room(cols.size());
    std::vector<value_view> views(cols.size());
    for (std::size_t i = 0; i < cols.size(); ++i)
      (void)encode_at(e, cols[i], &room[i], views[i], std::numeric_limits<std::size_t>::max());
    return b.write_failed(w, s, views, cols);
  }

  // inline_ops plus the writes of a row-writing backend B, which repository_core's
  // insert_stamped and update_stamped use when they can (see write_insert, write_update).
  template <class B>
  struct typed_ops : inline_ops {
    B* b;

    // Inserts the validated, stamped `p`. True when done, with the outcome in `out`;
    // false when the backend's everyday case does not apply (nothing written).
    [[gnu::always_inline]] auto write_insert(void* p, const table_schema& s, std::size_t max_bytes,
                                             status& out) const -> bool {
      const T& e = *static_cast<const T*>(p);
      const bool generated = generates_key(e);
      auto w = b->begin_insert(s, generated);
      if (!w) [[unlikely]]
        return false;
      bool ok = true;
      [&]<std::size_t... I>(std::index_sequence<I...>) {
        // The generated key's column has no parameter; those after it close up.
        (
            [&] {
              if (generated && I == auto_index) return;
              ok &= put_column<I>(e, w, static_cast<int>(I) - (generated && I > auto_index ? 1 : 0), max_bytes);
            }(),
            ...);
      }(std::make_index_sequence<width>{});
      if (!ok) [[unlikely]]
        w.fail();
      const int done = b->finish(w);
      if (done > 0) [[likely]] {
        if (generated) set_generated(p, b->last_insert_id());
        return true;
      }
      if (done == 0) return false;
      out = insert_failed(*b, w, s, e);
      return true;
    }

    // Sets `cols` of the row with the validated, stamped `p`'s key (and `old_version`,
    // when versioned). True when done, with the outcome in `out`; false when the
    // backend's everyday case does not apply or no row matched (nothing written: the
    // general path then tells a missing row from a stale version).
    [[gnu::always_inline]] auto write_update(void* p, const table_schema& s, std::span<const std::size_t> cols,
                                             std::int64_t old_version, std::size_t max_bytes, status& out) const
        -> bool {
      const T& e = *static_cast<const T*>(p);
      constexpr bool versioned = version_index < width;
      auto w = b->begin_update_key(s, cols, versioned);
      if (!w) [[unlikely]]
        return false;
      const int n = static_cast<int>(cols.size());
      bool ok = true;
      for (int i = 0; i < n; ++i) ok &= put_at(e, cols[static_cast<std::size_t>(i)], w, i, max_bytes);
      [&]<std::size_t... K>(std::index_sequence<K...>) {
        ((ok &= put_column<primary_key_indexes_v<T>[K]>(e, w, n + static_cast<int>(K),
                                                         std::numeric_limits<std::size_t>::max())),
         ...);
      }(std::make_index_sequence<key_width>{});
      if constexpr (versioned) w.put(n + static_cast<int>(key_width), value_view(old_version), false);
      else (void)old_version;
      if (!ok) [[unlikely]]
        w.fail();
      const int done = b->finish(w);
      if (done > 0 && b->changes() > 0) [[likely]]
        return true;
      if (done >= 0) return false;
      out = update_failed(*b, w, s, e, cols);
      return true;
    }
  };

  static constexpr entity_ops ops{&schema,     column_access_v<T>, &encode_row,    &encode_update, &decode_row,
                                  &validate,   &stamp,
                                  has_stamps ? &save_stamps : nullptr,
                                  has_stamps ? &restore_stamps : nullptr,
                                  &set_generated, &version,
                                  &set_version, &encode_key,       &key_views,     &entity_key,
                                  &deleted_value, needs_scratch,  key_needs_scratch};

  // Sink that decodes rows into a std::vector<T>.
  static auto push_row(void* context, std::span<const value_view> row) -> status {
    auto& out = *static_cast<std::vector<T>*>(context);
    // Decoded in place: no entity moved per row.
    auto st = decode(row, &out.emplace_back());
    if (!st) out.pop_back();
    return st;
  }
};

}  // namespace detail

/// The typed repository of entity `T`. Cheap to copy; holds a reference to the backend.
///
/// Every write validates first (errc::validation_failed; nothing written) and reports
/// key conflicts as errc::conflict with nothing changed. Soft-deleted rows are
/// invisible to reads unless a query asks for them with `with_deleted()`.
template <class T>
class repository {
  static_assert(entity<T>, "ormkit: repository<T> needs a described entity; see the error above");
  static_assert(std::is_default_constructible_v<T>,
                "ormkit: entities are decoded into a default-constructed T; give every member a default");
  using fns = detail::entity_functions<T>;

 public:
  using entity_type = T;

  explicit repository(backend_ref b, repository_options opts = {}) : core_(b, fns::ops, opts) {}

  /// A repository on the backend itself rather than a `backend_ref`: the same, and on a
  /// backend that takes rows value by value (`row_writing_backend`, as SQLite's does)
  /// insert and update bind each member straight into the backend's statement.
  template <ormkit::backend B>
    requires(!std::same_as<B, backend_ref>)
  explicit repository(B& b, repository_options opts = {}) : core_(backend_ref(b), fns::ops, opts) {
    write_typed(b);
  }

  /// A repository reading through `cache` (see `use_cache`).
  repository(backend_ref b, cache_ref cache, cache_policy policy = {}, repository_options opts = {})
      : core_(b, fns::ops, opts) {
    use_cache(cache, policy);
  }
  /// The same on the backend itself (see above).
  template <ormkit::backend B>
    requires(!std::same_as<B, backend_ref>)
  repository(B& b, cache_ref cache, cache_policy policy = {}, repository_options opts = {})
      : core_(backend_ref(b), fns::ops, opts) {
    write_typed(b);
    use_cache(cache, policy);
  }

  [[nodiscard]] auto backend() const -> backend_ref { return core_.backend(); }
  /// Whether insert and update bind the members straight into the backend's statements
  /// (constructed on a `row_writing_backend` itself, not on a `backend_ref`).
  [[nodiscard]] auto writes_typed() const noexcept -> bool { return typed_ != nullptr; }

  //=== cache-aside (ormkit/cache/aside.hpp) ===//

  /// Reads through `store` from now on, with keys `cache_key<T>(pk, key_namespace)`;
  /// writes invalidate after commit. A policy whose tier is `off` removes the cache.
  /// `store` must outlive the repository (and its copies, which share the cache state).
  /// Not thread-safe against concurrent operations: configure before sharing.
  void use_cache(cache_ref store, cache_policy policy = {},
                 std::string_view key_namespace = default_cache_namespace) {
    if constexpr (has_primary_key_v<T>) {
      if (!policy.enabled()) {
        cache_.reset();
        return;
      }
      cache_ = std::make_shared<entity_cache>(store, core_.backend(), fns::ops, schema_hash_v<T>,
                                              std::string(key_namespace), key_prefix(key_namespace), policy);
      cache_->decode_rows_with(&decode_cached_row);
    } else {
      (void)store;
      (void)policy;
      (void)key_namespace;
    }
  }

  /// Reads through a private in-process store of `policy.capacity` entries (10 000 when 0).
  void use_cache(cache_policy policy, std::string_view key_namespace = default_cache_namespace) {
    if constexpr (has_primary_key_v<T>) {
      if (!policy.enabled()) {
        cache_.reset();
        return;
      }
      cache_ = std::make_shared<entity_cache>(core_.backend(), fns::ops, schema_hash_v<T>,
                                              std::string(key_namespace), key_prefix(key_namespace), policy);
      cache_->decode_rows_with(&decode_cached_row);
    } else {
      (void)policy;
      (void)key_namespace;
    }
  }

  /// Stops reading through a cache.
  void disable_cache() noexcept { cache_.reset(); }

  /// The cache-aside state, or null when no cache is configured.
  [[nodiscard]] auto cache() const noexcept -> entity_cache* { return cache_.get(); }

  /// The cache-aside counters (all zero without a cache).
  [[nodiscard]] auto cache_stats() const noexcept -> cache_aside_stats {
    return cache_ ? cache_->stats() : cache_aside_stats{};
  }

  /// Like `find(q)`, but the result is cached under `key` (build it with
  /// `cache_key_builder`, naming the query and its parameters: two queries
  /// must never share a key). Invalidated by every write to the table; see
  /// cache/aside.hpp. Without a cache, or inside a transaction, this is `find(q)`.
  auto find_cached(const query<T>& q, std::string_view key) const -> result<std::vector<T>> {
    if (!cache_ || cache_->bypass()) return find(q);
    std::uint64_t generation = 0;
    const std::string full = cache_->query_key(key, generation);
    if (full.empty()) return find(q);
    std::vector<T> out;
    const bool hit = cache_->read_rows(full, [&](std::span<const value_view> row) -> bool {
      if (!fns::decode(row, &out.emplace_back())) {
        out.pop_back();
        return false;
      }
      return true;
    });
    if (hit) {
      notify_loaded(out);
      return out;
    }
    auto rows = find(q);
    if (rows) cache_->fill_rows(full, rows->data(), rows->size(), sizeof(T), generation);
    return rows;
  }
  [[nodiscard]] static auto schema() -> const table_schema& { return schema_of<T>(); }

  //=== writes ===//

  /// Inserts `e` and returns it as stored: generated key, version 1, timestamps set.
  /// Errors: validation_failed, conflict, invalid_argument (a value cannot be stored).
  auto insert(T e) -> result<T> {
    ORMKIT_TRY(insert_in_place(e));
    return e;
  }

  /// `insert` for hot loops: `e` itself becomes the entity as stored (generated key,
  /// version, timestamps filled in), with no entity moved in or out. On failure `e` is
  /// exactly as it was and nothing is written.
  auto insert_in_place(T& e) -> status {
    auto st = typed_ != nullptr ? typed_->insert(core_, typed_backend_, e)
                                : core_.insert_as(typename fns::inline_ops{}, &e);
    if (cache_) [[unlikely]] invalidate(e, st);
    return st;
  }

  /// Inserts all of `items` or none. Returns them as stored.
  auto insert_many(std::vector<T> items) -> result<std::vector<T>> {
    auto st = core_.insert_many(items.data(), items.size(), sizeof(T));
    if (cache_) [[unlikely]]
      for (const auto& e : items) invalidate(e, st);
    ORMKIT_TRY(std::move(st));
    return items;
  }

  /// Replaces the stored row that has `e`'s key with `e`.
  /// With a version column the stored version must equal `e`'s, and is incremented.
  /// Errors: not_found, conflict (stale version or unique key), validation_failed.
  auto update(T e) -> result<T> {
    ORMKIT_TRY(update_in_place(e));
    return e;
  }

  /// `update` for hot loops: `e` gets its new version and updated_at. On failure `e` is
  /// exactly as it was and nothing is written.
  auto update_in_place(T& e) -> status {
    static_assert(has_primary_key_v<T>, "ormkit: update() needs a primary key; mark a column ormkit::primary_key");
    return update_chosen(e, all_columns);
  }

  /// Updates every entity of `items` as `update` does (version-checked, stamped,
  /// validated, hooks and observers per item) in one transaction, or a savepoint inside
  /// an open one: all of them or none. Returns them as stored.
  /// Errors: the first failing item's (not_found, conflict, validation_failed, ...), its
  /// position in the message ("(batch item 3)"); nothing is written then.
  auto update_many(std::vector<T> items) -> result<std::vector<T>> {
    static_assert(has_primary_key_v<T>, "ormkit: update_many() needs a primary key; mark a column ormkit::primary_key");
    ORMKIT_TRY(core_.update_many(items.data(), items.size(), sizeof(T), all_columns, [&](void* e, const status& st) {
      if (cache_) [[unlikely]] invalidate(*static_cast<const T*>(e), st);  // after the commit; dropped on rollback
    }));
    return items;
  }

  /// Updates only the named columns (plus version and updated_at) from `e`.
  template <class... Members>
  auto update_columns(T e, Members T::*... members) -> result<T> {
    ORMKIT_TRY(update_columns_in_place(e, members...));
    return e;
  }

  /// `update_columns` for hot loops: `e` gets its new version and updated_at. On failure
  /// `e` is exactly as it was and nothing is written.
  template <class... Members>
  auto update_columns_in_place(T& e, Members T::*... members) -> status {
    static_assert(has_primary_key_v<T>, "ormkit: update_columns() needs a primary key");
    static_assert(sizeof...(Members) > 0, "ormkit: update_columns needs at least one member");
    const std::array<std::size_t, sizeof...(Members)> cols{detail::column_index_of<T>(members)...};
    return update_chosen(e, cols);
  }

 private:
  // Every column, in schema order (update and update_many).
  static constexpr auto all_columns = [] {
    std::array<std::size_t, fns::width> a{};
    for (std::size_t i = 0; i < fns::width; ++i) a[i] = i;
    return a;
  }();

  // The columns an update of `chosen` sets are worked out here, where `chosen` is
  // usually known at compile time (so this folds away), and passed on resolved (as
  // repository_core::update_stamped takes them from typed_ops).
  [[gnu::always_inline]] auto update_typed_now(T& e, std::span<const std::size_t> chosen) -> status {
    std::array<std::size_t, fns::width> set;  // written by update_columns
    const std::size_t n = fns::inline_ops::update_columns(core_.schema(), chosen, set);
    return typed_->update(core_, typed_backend_, e, std::span<const std::size_t>(set.data(), n));
  }

  // update / update_columns: one path, `e` stamped in place (and put back on failure).
  [[gnu::always_inline]] auto update_chosen(T& e, std::span<const std::size_t> cols) -> status {
    auto st = typed_ != nullptr ? update_typed_now(e, cols) : core_.update_as(typename fns::inline_ops{}, &e, cols);
    if (cache_) [[unlikely]] invalidate(e, st);
    return st;
  }

 public:
  /// Inserts `e`, or replaces the row with its key. Last writer wins: the version is
  /// not checked (a non-zero version becomes version + 1); created_at of an existing row is kept.
  auto upsert(T e) -> result<T> {
    static_assert(has_primary_key_v<T>, "ormkit: upsert() needs a primary key; mark a column ormkit::primary_key");
    auto st = core_.upsert(&e);
    if (cache_) [[unlikely]] invalidate(e, st);
    ORMKIT_TRY(std::move(st));
    return e;
  }

  /// Inserts (or with `replace`, upserts) `e` exactly as given: created_at, updated_at
  /// and version are kept, not stamped. For imports and restores; validated like insert.
  auto insert_as_stored(T e, bool replace = false) -> result<T> {
    auto st = replace ? core_.upsert(&e, true) : core_.insert(&e, true);
    if (cache_) [[unlikely]] invalidate(e, st);
    ORMKIT_TRY(std::move(st));
    return e;
  }

  /// Erases the row with `key` (sets the soft-delete column when there is one). Errors: not_found.
  auto erase(const primary_key_t<T>& key) -> status {
    static_assert(has_primary_key_v<T>, "ormkit: erase(key) needs a primary key; use erase_where()");
    auto st = core_.erase_key_as(typename fns::inline_ops{}, &key);
    if (cache_) [[unlikely]] invalidate_key(key, st);
    return st;
  }

  /// Erases every row whose key is in `keys`; returns how many existed. All or nothing,
  /// however many keys (a long list goes in several statements in one transaction).
  auto erase_many(std::span<const primary_key_t<T>> keys) -> result<std::uint64_t> {
    if (keys.empty()) return std::uint64_t{0};
    std::vector<value> encoded;
    for (const auto& k : keys) ORMKIT_TRY(fns::encode_key(&k, encoded));
    auto n = core_.erase_keys(encoded, keys.size());  // in chunks, all or nothing
    if (cache_) [[unlikely]] {
      const status st = n ? status{} : status(unexpected(n.error()));
      for (const auto& k : keys) invalidate_key(k, st);
    }
    return n;
  }

  /// Erases every row matching `c`; returns how many.
  auto erase_where(condition<T> c) -> result<std::uint64_t> {
    auto n = core_.erase(std::move(c.node));
    if (cache_) [[unlikely]] cache_->invalidate_all(cache_);
    return n;
  }

  /// Clears the soft-delete column of the row with `key`. Errors: not_found.
  auto restore(const primary_key_t<T>& key) -> status {
    static_assert(fns::soft_delete_index < fns::width, "ormkit: restore() needs a soft_delete column");
    auto st = core_.restore(&key);
    if (cache_) [[unlikely]] invalidate_key(key, st);
    return st;
  }

  //=== reads ===//

  /// Returns the entity with `key` (a `primary_key_t<T>`: the key member's type, or a
  /// std::tuple for a composite key). Errors: not_found.
  template <class Key = primary_key_t<T>>
  auto get(const Key& key) const -> result<T> {
    static_assert(has_primary_key_v<T>,
                  "ormkit: get() needs a primary key; mark a column ormkit::primary_key or use find()");
    if constexpr (has_primary_key_v<T>) {
      static_assert(std::is_convertible_v<const Key&, primary_key_t<T>>,
                    "ormkit: get() takes the primary key's type (a std::tuple for a composite key)");
      const primary_key_t<T> k = key;
      T e{};
      auto found = get_into(k, e);
      if (!found) return std::move(found).error();
      if (!*found) return core_.not_found_key(&k);
      return e;
    } else {
      return unexpected(errc::unsupported, "no primary key");
    }
  }

  /// Reads the row with `key` straight into `out` (its strings keep their capacity):
  /// `get` for hot loops. False, with `out` untouched, when there is no such row. On an
  /// error `out` may hold some columns of the row.
  auto get_into(const primary_key_t<T>& key, T& out) const -> result<bool> {
    static_assert(has_primary_key_v<T>, "ormkit: get_into() needs a primary key; use find()");
    return cache_ ? cached_get(key, out) : core_.get_as(typename fns::inline_ops{}, &key, &out);
  }

  /// Returns the entity with `key`, or an empty optional.
  auto find_by_key(const primary_key_t<T>& key) const -> result<std::optional<T>> {
    static_assert(has_primary_key_v<T>, "ormkit: find_by_key() needs a primary key; use find()");
    T e{};
    auto found = get_into(key, e);
    if (!found) return std::move(found).error();
    if (!*found) return std::optional<T>{};
    return std::optional<T>(std::move(e));
  }

  /// Returns the entities whose keys are in `keys`, in the order of `keys`; missing keys are skipped.
  auto get_many(std::span<const primary_key_t<T>> keys) const -> result<std::vector<T>> {
    static_assert(has_primary_key_v<T>, "ormkit: get_many() needs a primary key; use find()");
    if (cache_ && !keys.empty()) [[unlikely]]
      if (!cache_->bypass()) return cached_get_many(keys);
    return load_many(keys);
  }

 private:
  // get_many from the backend: statements of at most keys_per_statement() keys each
  // (a database takes only so many bound parameters in one).
  auto load_many(std::span<const primary_key_t<T>> keys) const -> result<std::vector<T>> {
    std::vector<T> out;
    if (keys.empty()) return out;
    std::vector<value> encoded;
    for (const auto& k : keys) ORMKIT_TRY(fns::encode_key(&k, encoded));
    const std::size_t w = fns::key_width;
    const std::size_t per = core_.keys_per_statement();
    std::vector<T> rows;
    for (std::size_t at = 0; at < keys.size(); at += per) {
      const std::size_t n = std::min(per, keys.size() - at);
      query_spec q;
      q.where = core_.live(core_.keys_filter(std::span<const value>(encoded).subspan(at * w, n * w), n), false);
      ORMKIT_TRY(core_.fetch(q, {&rows, &fns::push_row}));
    }
    notify_loaded(rows);
    std::map<std::vector<value>, std::size_t, row_less> by_key;
    for (std::size_t i = 0; i < rows.size(); ++i) {
      std::vector<value> k;
      ORMKIT_TRY(fns::entity_key(&rows[i], k));
      by_key.emplace(std::move(k), i);  // a key asked for twice (in two chunks): its first row
    }
    // Which row each key gets, and how many keys get each row: the last one takes it by move.
    constexpr std::size_t none = std::numeric_limits<std::size_t>::max();
    std::vector<std::size_t> row_of(keys.size(), none);
    std::vector<std::size_t> uses(rows.size(), 0);
    std::size_t found = 0;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      std::vector<value> k(encoded.begin() + static_cast<std::ptrdiff_t>(i * w),
                           encoded.begin() + static_cast<std::ptrdiff_t>((i + 1) * w));
      if (auto it = by_key.find(k); it != by_key.end()) {
        row_of[i] = it->second;
        ++uses[it->second];
        ++found;
      }
    }
    out.reserve(found);
    for (std::size_t i = 0; i < keys.size(); ++i) {
      const std::size_t r = row_of[i];
      if (r == none) continue;
      if (--uses[r] == 0) out.push_back(std::move(rows[r]));
      else out.push_back(rows[r]);
    }
    return out;
  }

  // The cache key of `key`; empty when it cannot be built (the caller then skips the cache).
  auto key_text(const primary_key_t<T>& key) const -> std::string {
    using K = primary_key_t<T>;
    if constexpr (std::is_integral_v<K> && !std::is_same_v<K, bool>) {
      // The everyday key: the stored prefix and the decimal, exactly as cache_key<T> writes it.
      const std::string& prefix = cache_->prefix();
      char digits[24];
      const auto end = std::to_chars(digits, digits + sizeof digits, key).ptr;
      std::string out;
      out.reserve(prefix.size() + static_cast<std::size_t>(end - digits));
      out.append(prefix).append(digits, end);
      return out;
    } else {
      try {
        return cache_key<T>(key, cache_->key_namespace());
      } catch (...) {
        return {};
      }
    }
  }

  // A cached row (detail::put_cached_row's format) straight into the members. The
  // everyday member types are read in place (text into a std::string reuses its
  // capacity); anything else, or a tag they do not expect, goes through a view and the
  // row decoder's conversions (decode_column), so the outcome is the same.
  template <std::size_t I>
  static auto decode_cached_column(std::string_view& in, T& e) -> bool {
    using M = column_member_t<T, I>;
    M& m = e.*(column_v<T, I>.member);
    if (!in.empty()) [[likely]] {
      const char tag = in.front();
      if constexpr (std::is_same_v<M, std::string>) {
        if (tag == 3 && in.size() >= 2 && static_cast<unsigned char>(in[1]) < 0x80u &&
            static_cast<unsigned char>(in[1]) <= in.size() - 2) [[likely]] {
          const auto len = static_cast<std::size_t>(static_cast<unsigned char>(in[1]));
          if (len <= m.capacity()) m.assign(in.data() + 2, len);
          else m = std::string(in.data() + 2, len);  // cheaper than growing through assign
          in.remove_prefix(2 + len);
          return true;
        }
      } else if constexpr (std::is_same_v<M, double>) {
        if (tag == 2 && in.size() >= 9) [[likely]] {
          m = std::bit_cast<double>(detail::load_le64(in.data() + 1));
          in.remove_prefix(9);
          return true;
        }
      } else if constexpr (std::is_integral_v<M>) {
        if (tag == 1) [[likely]] {
          std::string_view rest = in.substr(1);
          std::uint64_t z = 0;
          if (!detail::get_varint(rest, z)) return false;
          const auto x = static_cast<std::int64_t>((z >> 1) ^ (~(z & 1u) + 1u));
          if constexpr (std::is_same_v<M, bool>) {
            if (x != 0 && x != 1) return false;
            m = x != 0;
          } else {
            if (!std::in_range<M>(x)) return false;
            m = static_cast<M>(x);
          }
          in = rest;
          return true;
        }
      }
    }
    value_view v;
    if (!detail::get_cached_value(in, v)) return false;
    return fns::template decode_column<I>(v, e);
  }
  static auto decode_cached_row(std::string_view& in, void* p) -> bool {
    std::uint64_t n = 0;
    if (!detail::get_varint(in, n) || n != fns::width) return false;
    T& e = *static_cast<T*>(p);
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return (decode_cached_column<I>(in, e) && ...);
    }(std::make_index_sequence<fns::width>{});
  }

  static auto key_prefix(std::string_view ns) -> std::string {
    cache_key_builder b(ns);
    b.add_entity<T>();
    return std::move(b).str() + ":";
  }

  auto cached_get(const primary_key_t<T>& k, T& e) const -> result<bool> {
    if (cache_->bypass()) return core_.get(&k, &e);
    using K = primary_key_t<T>;
    std::string text;
    std::string_view key;
    char small[128];
    if constexpr (std::is_integral_v<K> && !std::is_same_v<K, bool>) {
      // The everyday key, built on the stack: the stored prefix and the decimal.
      const std::string& prefix = cache_->prefix();
      if (prefix.size() + 24 <= sizeof small) [[likely]] {
        std::memcpy(small, prefix.data(), prefix.size());
        const auto end = std::to_chars(small + prefix.size(), small + sizeof small, k).ptr;
        key = std::string_view(small, static_cast<std::size_t>(end - small));
      }
    }
    if (key.empty()) {
      text = key_text(k);
      if (text.empty()) return core_.get(&k, &e);
      key = text;
    }
    bool from_backend = false;
    auto found = cache_->read(key, &e, core_, &k, from_backend);
    if (found && *found && !from_backend) core_.notify_loaded(&e);
    return found;
  }

  auto cached_get_many(std::span<const primary_key_t<T>> keys) const -> result<std::vector<T>> {
    std::vector<std::string> texts(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) {
      texts[i] = key_text(keys[i]);
      if (texts[i].empty()) return load_many(keys);
    }
    std::vector<T> found(keys.size());
    std::vector<void*> slots(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i) slots[i] = &found[i];
    const auto verdicts = cache_->read_many(texts, slots);
    std::vector<bool> present(keys.size(), false);
    std::vector<std::size_t> missed;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      present[i] = verdicts[i] == 1;
      if (verdicts[i] == 1) core_.notify_loaded(&found[i]);
      if (verdicts[i] < 0) missed.push_back(i);
    }
    if (!missed.empty()) {
      // Single flight: load the keys nobody else is loading, in one backend call, and
      // hand each row to whoever waits for it; then take the rows others loaded.
      auto batch = cache_->claim(texts, missed, slots);
      for (const auto& [i, v] : batch->settled) {
        present[i] = v == 1;
        if (v == 1) core_.notify_loaded(&found[i]);
      }
      std::vector<primary_key_t<T>> mine;
      for (std::size_t i : batch->lead) mine.push_back(keys[i]);
      if (!mine.empty()) {
        auto loaded = load_many(mine);
        if (!loaded) {
          cache_->fail(*batch, loaded.error());
          return std::move(loaded).error();
        }
        // load_many keeps the order of `mine` and skips absent keys.
        std::vector<const void*> rows(mine.size(), nullptr);
        std::size_t next = 0;
        for (std::size_t j = 0; j < mine.size(); ++j) {
          const std::size_t i = batch->lead[j];
          if (next < loaded->size() && fns::key_of((*loaded)[next]) == mine[j]) {
            found[i] = std::move((*loaded)[next++]);
            present[i] = true;
            rows[j] = &found[i];
          }
        }
        cache_->complete_all(*batch, rows);  // one store call for all of them
      }
      std::vector<primary_key_t<T>> retry;  // joined loads that could not hand their row over
      std::vector<std::size_t> retry_at;
      for (std::size_t k = 0; k < batch->joined.size(); ++k) {
        const std::size_t i = batch->joined[k];
        auto got = cache_->await(*batch, k, &found[i]);
        if (!got) return std::move(got).error();
        if (*got == 1) {
          present[i] = true;
          core_.notify_loaded(&found[i]);
        } else if (*got < 0) {
          retry.push_back(keys[i]);
          retry_at.push_back(i);
        }
      }
      if (!retry.empty()) {
        auto loaded = load_many(retry);
        if (!loaded) return std::move(loaded).error();
        std::size_t next = 0;
        for (std::size_t j = 0; j < retry.size() && next < loaded->size(); ++j)
          if (fns::key_of((*loaded)[next]) == retry[j]) {
            found[retry_at[j]] = std::move((*loaded)[next++]);
            present[retry_at[j]] = true;
          }
      }
    }
    std::vector<T> out;
    out.reserve(keys.size());
    for (std::size_t i = 0; i < keys.size(); ++i)
      if (present[i]) out.push_back(std::move(found[i]));
    return out;
  }

  // After a write of `e` (outcome `st`): invalidates its key unless the write surely changed nothing.
  void invalidate(const T& e, const status& st) const {
    if constexpr (has_primary_key_v<T>) invalidate_key(fns::key_of(e), st);
  }

  void invalidate_key(const primary_key_t<T>& k, const status& st) const {
    if (!st) {
      const auto code = st.error().code;
      if (code == errc::validation_failed || code == errc::rejected || code == errc::conflict ||
          code == errc::not_found || code == errc::invalid_argument)
        return;
    }
    std::string key = key_text(k);
    if (key.empty()) cache_->invalidate_all(cache_);
    else cache_->invalidate(std::move(key), cache_);
  }

 public:
  /// Returns every matching entity.
  auto find(const query<T>& q) const -> result<std::vector<T>> {
    std::vector<T> out;
    ORMKIT_TRY(core_.fetch(finish(q), {&out, &fns::push_row}));
    notify_loaded(out);
    return out;
  }
  auto find(condition<T> c) const -> result<std::vector<T>> { return find(query<T>(std::move(c))); }
  auto find_all() const -> result<std::vector<T>> { return find(query<T>()); }

  /// Returns the first match in the query's order, or an empty optional.
  auto find_one(query<T> q) const -> result<std::optional<T>> {
    auto rows = find(q.limit(1));
    if (!rows) return std::move(rows).error();
    if (rows->empty()) return std::optional<T>{};
    return std::optional<T>(std::move(rows->front()));
  }
  auto find_one(condition<T> c) const -> result<std::optional<T>> { return find_one(query<T>(std::move(c))); }

  /// Counts matching rows (soft-deleted rows excluded unless the query includes them).
  auto count(const query<T>& q = query<T>()) const -> result<std::uint64_t> { return core_.count(finish(q).where); }
  auto count(condition<T> c) const -> result<std::uint64_t> { return count(query<T>(std::move(c))); }

  /// True when at least one row matches.
  auto exists(condition<T> c) const -> result<bool> {
    auto r = find_one(query<T>(std::move(c)));
    if (!r) return std::move(r).error();
    return r->has_value();
  }

  /// Offset paging: page `number` (1-based) of `size` items, with the total count.
  auto page_of(const query<T>& q, std::uint64_t number, std::uint64_t size) const -> result<page<T>> {
    if (number == 0 || size == 0)
      return unexpected(errc::invalid_argument, std::string(schema().name) + ": page number and size start at 1");
    page<T> p;
    p.number = number;
    p.size = size;
    auto total = count(q);
    if (!total) return std::move(total).error();
    p.total = *total;
    auto copy = q;
    auto items = find(copy.offset((number - 1) * size).limit(size));
    if (!items) return std::move(items).error();
    p.items = std::move(*items);
    return p;
  }

  /// Keyset paging: up to `size` items after `last` (or from the start) in `q`'s order.
  auto page_after(const query<T>& q, const std::optional<T>& last, std::uint64_t size) const
      -> result<keyset_page<T>> {
    if (size == 0) return unexpected(errc::invalid_argument, std::string(schema().name) + ": page size starts at 1");
    auto copy = q;
    if (last) copy.after(*last);
    auto items = find(copy.limit(size + 1));
    if (!items) return std::move(items).error();
    keyset_page<T> p;
    p.has_more = items->size() > size;
    if (p.has_more) items->pop_back();
    p.items = std::move(*items);
    return p;
  }

  /// A lazily decoded range over matching rows; rows are read one at a time.
  /// Iterating throws ormkit::exception if a row cannot be read or decoded.
  auto stream(const query<T>& q = query<T>()) const -> result<entity_stream<T>> {
    auto c = core_.open(finish(q));
    if (!c) return std::move(c).error();
    return entity_stream<T>(std::move(*c));
  }

  /// Runs an aggregate; rows are the group values followed by the term values.
  auto run(const ormkit::aggregate<T>& a) const -> result<value_rows> {
    return core_.aggregate(a.spec(), a.include_deleted());
  }

  /// Decodes one row (one view per column, table order) into an entity.
  static auto decode_row(std::span<const value_view> row) -> result<T> {
    T e{};
    ORMKIT_TRY(fns::decode(row, &e));
    return e;
  }

  /// The primary key of `e`.
  static auto key_of(const T& e) -> primary_key_t<T> { return fns::key_of(e); }

 private:
  void notify_loaded(const std::vector<T>& rows) const {
    if (core_.observer() == nullptr) return;
    for (const auto& e : rows) core_.notify_loaded(&e);
  }

  auto finish(const query<T>& q) const -> query_spec {
    auto s = q.spec();
    s.where = core_.live(std::move(s.where), q.include_deleted());
    return s;
  }

  // The writes typed for the backend this repository was constructed on, when that is a
  // row_writing_backend: each the core's everyday path with typed_ops<B>, one function
  // per (T, B) with it all inlined.
  struct typed_writes {
    status (*insert)(detail::repository_core&, void* backend, T& e);
    status (*update)(detail::repository_core&, void* backend, T& e, std::span<const std::size_t> cols);
  };
  // Named functions, not lambdas (whose function pointers are thunks: one more call).
  template <class B>
  static auto insert_typed(detail::repository_core& core, void* b, T& e) -> status {
    return core.insert_as(typename fns::template typed_ops<B>{{}, static_cast<B*>(b)}, &e);
  }
  template <class B>
  static auto update_typed(detail::repository_core& core, void* b, T& e, std::span<const std::size_t> cols)
      -> status {
    return core.update_as(typename fns::template typed_ops<B>{{}, static_cast<B*>(b)}, &e, cols);
  }
  template <class B>
  static constexpr typed_writes typed_writes_for{&insert_typed<B>, &update_typed<B>};
  template <class B>
  void write_typed(B& b) {
    if constexpr (row_writing_backend<B>) {
      typed_ = &typed_writes_for<B>;
      typed_backend_ = &b;
    }
  }

  detail::repository_core core_;
  std::shared_ptr<entity_cache> cache_;  // null: no cache (the everyday case: one test per call)
  const typed_writes* typed_ = nullptr;  // null: every write through core_'s backend_ref
  void* typed_backend_ = nullptr;
};

/// A single-pass range of entities decoded from a cursor one row at a time.
template <class T>
class entity_stream {
 public:
  explicit entity_stream(cursor c) : cursor_(std::move(c)) {}

  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using reference = const T&;
    using iterator_concept = std::input_iterator_tag;

    iterator() = default;
    explicit iterator(entity_stream* s) : stream_(s) { advance(); }
    auto operator*() const -> const T& { return *stream_->current_; }
    auto operator->() const -> const T* { return &*stream_->current_; }
    auto operator++() -> iterator& {
      advance();
      return *this;
    }
    void operator++(int) { advance(); }
    friend auto operator==(const iterator& it, std::default_sentinel_t) -> bool { return it.stream_ == nullptr; }

   private:
    void advance() {
      auto more = stream_->cursor_.next();
      if (!more) throw exception(std::move(more).error());
      if (!*more) {
        stream_ = nullptr;
        return;
      }
      auto e = repository<T>::decode_row(stream_->cursor_.row());
      if (!e) throw exception(std::move(e).error());
      stream_->current_ = std::move(*e);
    }
    entity_stream* stream_ = nullptr;
  };

  auto begin() -> iterator { return iterator(this); }
  auto end() -> std::default_sentinel_t { return {}; }

 private:
  cursor cursor_;
  std::optional<T> current_;
};

}  // namespace ormkit
