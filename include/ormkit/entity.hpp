// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/entity.hpp
//
// The one funnel: library code asks `entity_traits<T>` and nothing else.
// `entity_traits<T>::descriptor` comes from the hidden friend
// `ormkit_describe(std::type_identity<T>)` found by ADL, or from a user
// specialization of `entity_traits` for types that cannot be edited.
// `descriptor_of<T>` checks the descriptor against the struct with Boost.PFR
// (every member described exactly once, in declaration order, with its type;
// identifiers safe; keys sound) and `schema_of<T>()` builds the run-time view.
//
// Example:
//
//   template <> struct ormkit::entity_traits<vendor::invoice> {
//     static constexpr auto descriptor = ormkit::describe<vendor::invoice>("invoices")
//         .column(&vendor::invoice::number, "number", ormkit::primary_key)
//         .column(&vendor::invoice::total, "total");
//   };

#include <ormkit/column_traits.hpp>
#include <ormkit/describe.hpp>
#include <ormkit/detail/hash.hpp>
#include <ormkit/detail/identifier.hpp>
#include <ormkit/detail/reflect.hpp>
#include <ormkit/fwd.hpp>
#include <ormkit/schema.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace ormkit {

/// Primary template. If you see an error here: `T` is not an entity. Add
/// `friend constexpr auto ormkit_describe(std::type_identity<T>)` to it, or
/// specialize `ormkit::entity_traits<T>` with a `static constexpr descriptor`.
template <class T, class Enable>
struct entity_traits {
  static constexpr bool ormkit_unspecialized = true;
};

template <class T>
  requires requires { ormkit_describe(std::type_identity<T>{}); }
struct entity_traits<T> {
  static constexpr auto descriptor = ormkit_describe(std::type_identity<T>{});
};

/// `T` has a descriptor (through the hook or a specialization).
template <class T>
concept described = requires { entity_traits<T>::descriptor.table; };

namespace detail {

// Diagnostic codes, in the order checks run; the first failure wins so the
// compiler reports one ormkit static_assert and nothing after it.
enum class entity_problem {
  none,
  not_aggregate,
  too_few_described,
  too_many_described,
  described_twice,
  type_mismatch,
  bad_identifier,
  index_unresolved,
  bad_auto_increment,
  bad_version_column,
  optional_primary_key,
  duplicate_column_name,
  soft_delete_type,
};

template <class Column>
using member_t = typename std::remove_cvref_t<Column>::member_type;

template <class T, const auto& D, std::size_t... I, std::size_t... J>
consteval auto positions_have_types(std::index_sequence<I...>, std::index_sequence<J...>) -> bool {
  return (std::is_same_v<member_t<decltype(detail::get<I>(D.columns))>,
                         field_type<detail::get<I>(D.columns).position, T>> &&
          ...) &&
         (std::is_same_v<member_t<decltype(detail::get<J>(D.transients))>,
                         field_type<detail::get<J>(D.transients).position, T>> &&
          ...);
}

template <class A, class B>
constexpr auto same_member(const A& a, const B& b) -> bool {
  if constexpr (std::is_same_v<decltype(a.member), decltype(b.member)>) return a.member == b.member;
  else return false;
}

template <class D>
consteval auto any_described_twice(const D& d) -> bool {
  bool twice = false;
  auto against = [&](const auto& x, std::size_t skip) {
    std::size_t j = 0;
    detail::apply([&](const auto&... b) { ((twice = twice || (j++ != skip && same_member(x, b))), ...); }, d.columns);
    detail::apply([&](const auto&... b) { ((twice = twice || (j++ != skip && same_member(x, b))), ...); }, d.transients);
  };
  std::size_t i = 0;
  detail::apply([&](const auto&... a) { (against(a, i++), ...); }, d.columns);
  detail::apply([&](const auto&... a) { (against(a, i++), ...); }, d.transients);
  return twice;
}

template <class D>
consteval auto identifiers_ok(const D& d) -> bool {
  bool ok = is_identifier(d.table);
  detail::apply([&](const auto&... c) { ((ok = ok && is_identifier(c.name)), ...); }, d.columns);
  for (const auto& ix : d.indexes) ok = ok && is_identifier(ix.name);
  return ok;
}

template <class D>
consteval auto duplicate_names(const D& d) -> bool {
  bool dup = false;
  detail::apply(
      [&](const auto&... a) {
        std::size_t i = 0;
        (
            [&](std::string_view x) {
              std::size_t j = 0;
              detail::apply([&](const auto&... b) { ((dup = dup || (j++ != i && b.name == x)), ...); }, d.columns);
              ++i;
            }(a.name),
            ...);
      },
      d.columns);
  for (std::size_t i = 0; i < d.indexes.size(); ++i)
    for (std::size_t j = i + 1; j < d.indexes.size(); ++j)
      if (d.indexes[i].name == d.indexes[j].name) dup = true;
  return dup;
}

template <class D>
consteval auto auto_increment_ok(const D& d) -> bool {
  std::size_t pk = 0, ai = 0;
  bool ai_on_int_pk = true;
  detail::apply(
      [&](const auto&... c) {
        (
            [&] {
              using M = member_t<decltype(c)>;
              if (c.has(column_flags::primary_key)) ++pk;
              if (c.has(column_flags::auto_increment)) {
                ++ai;
                if (!c.has(column_flags::primary_key) || !std::is_integral_v<M> || std::is_same_v<M, bool>)
                  ai_on_int_pk = false;
              }
            }(),
            ...);
      },
      d.columns);
  return ai == 0 || (ai == 1 && pk == 1 && ai_on_int_pk);
}

template <class D>
consteval auto version_ok(const D& d) -> bool {
  bool ok = true;
  detail::apply(
      [&](const auto&... c) {
        ((ok = ok && (!c.has(column_flags::version) ||
                      (std::is_integral_v<member_t<decltype(c)>> && !std::is_same_v<member_t<decltype(c)>, bool>))),
         ...);
      },
      d.columns);
  return ok;
}

template <class D>
consteval auto optional_pk(const D& d) -> bool {
  bool bad = false;
  detail::apply(
      [&](const auto&... c) {
        ((bad = bad || (c.has(column_flags::primary_key) && is_nullable_v<member_t<decltype(c)>>)), ...);
      },
      d.columns);
  return bad;
}

template <class M>
inline constexpr bool soft_delete_member =
    std::is_same_v<M, bool> || (is_nullable_v<M> && !std::is_same_v<M, std::optional<std::string>>);

template <class D>
consteval auto soft_delete_ok(const D& d) -> bool {
  bool ok = true;
  std::size_t n = 0;
  detail::apply(
      [&](const auto&... c) {
        (
            [&] {
              if (c.has(column_flags::soft_delete)) {
                ++n;
                ok = ok && soft_delete_member<member_t<decltype(c)>>;
              }
            }(),
            ...);
      },
      d.columns);
  return ok && n <= 1;
}

template <class T, const auto& D>
consteval auto first_problem() -> entity_problem {
  using Desc = std::remove_cvref_t<decltype(D)>;
  if constexpr (!std::is_aggregate_v<T>) {
    return entity_problem::not_aggregate;
  } else {
    constexpr std::size_t described = Desc::column_count + Desc::transient_count;
    if constexpr (described < field_count<T>) return entity_problem::too_few_described;
    else if constexpr (described > field_count<T>) return entity_problem::too_many_described;
    else if constexpr (any_described_twice(D)) return entity_problem::described_twice;
    else if constexpr (!positions_have_types<T, D>(std::make_index_sequence<Desc::column_count>{},
                                                   std::make_index_sequence<Desc::transient_count>{}))
      return entity_problem::type_mismatch;
    else if constexpr (!identifiers_ok(D)) return entity_problem::bad_identifier;
    else if constexpr (duplicate_names(D)) return entity_problem::duplicate_column_name;
    else {
      for (const auto& ix : D.indexes)
        if (!ix.resolved) return entity_problem::index_unresolved;
      if (!auto_increment_ok(D)) return entity_problem::bad_auto_increment;
      if (!version_ok(D)) return entity_problem::bad_version_column;
      if (optional_pk(D)) return entity_problem::optional_primary_key;
      if (!soft_delete_ok(D)) return entity_problem::soft_delete_type;
      return entity_problem::none;
    }
  }
}

template <class T, bool = described<T>>
struct checked_entity {
  // If you see an error here: T has no descriptor. See entity_traits above.
  static_assert(described<T>,
                "ormkit: type is not an entity; add `friend constexpr auto ormkit_describe(std::type_identity<T>)` "
                "returning ormkit::describe<T>(\"table\")... or specialize ormkit::entity_traits<T>");
  static constexpr bool ok = false;
};

template <class T>
struct checked_entity<T, true> {
  static constexpr const auto& descriptor = entity_traits<T>::descriptor;
  static constexpr entity_problem problem = first_problem<T, descriptor>();
  // Each assertion below names one rule and its remedy; the entity is named in
  // the "In instantiation of checked_entity<...>" line above the error.
  static_assert(problem != entity_problem::not_aggregate,
                "ormkit: an entity must be an aggregate (no constructors, bases or private members); "
                "make it a plain struct or describe a separate record type");
  static_assert(problem != entity_problem::too_few_described,
                "ormkit: the struct has more members than the descriptor describes; describe every member "
                "with .column(...) or mark it .transient(...)");
  static_assert(problem != entity_problem::too_many_described,
                "ormkit: the descriptor describes more members than the struct has; remove the extra entries "
                "(C arrays count one member per element: use std::array)");
  static_assert(problem != entity_problem::described_twice,
                "ormkit: a member is described twice; describe each member exactly once");
  static_assert(problem != entity_problem::type_mismatch,
                "ormkit: a described member's type differs from the struct member at the same position; "
                "describe members in declaration order");
  static_assert(problem != entity_problem::bad_identifier,
                "ormkit: a table, column or index name is not a safe identifier; use [A-Za-z_][A-Za-z0-9_]* "
                "of at most 63 bytes");
  static_assert(problem != entity_problem::duplicate_column_name,
                "ormkit: two columns (or two indexes) share a name; give each a distinct name");
  static_assert(problem != entity_problem::index_unresolved,
                "ormkit: an index names a member that is not a described column; describe the member before "
                "the index, or drop it from the index");
  static_assert(problem != entity_problem::bad_auto_increment,
                "ormkit: auto_increment needs a single integer primary key column; remove auto_increment or "
                "make that column the only primary_key");
  static_assert(problem != entity_problem::bad_version_column,
                "ormkit: version_column must be an integer member; use std::int64_t");
  static_assert(problem != entity_problem::optional_primary_key,
                "ormkit: a primary key column must not be std::optional; use a non-nullable type");
  static_assert(problem != entity_problem::soft_delete_type,
                "ormkit: soft_delete needs one column of type bool or std::optional<time point / integer>; "
                "change its type or remove the attribute");
  static constexpr bool ok = problem == entity_problem::none;
};

}  // namespace detail

/// A described entity whose descriptor passes every check.
template <class T>
concept entity = described<T> && detail::checked_entity<T>::ok;

/// The checked descriptor of `T`. Requires: `T` is described (a static_assert explains otherwise).
template <class T>
inline constexpr const auto& descriptor_of = detail::checked_entity<T>::descriptor;

/// The descriptor's type, for metaprogramming.
template <class T>
using descriptor_t = std::remove_cvref_t<decltype(entity_traits<T>::descriptor)>;

/// Number of persisted columns of `T`.
template <class T>
inline constexpr std::size_t column_count_v = descriptor_t<T>::column_count;

/// The column descriptor `I` of `T`.
template <class T, std::size_t I>
inline constexpr const auto& column_v = detail::get<I>(descriptor_of<T>.columns);

/// The member type of column `I`.
template <class T, std::size_t I>
using column_member_t = typename std::remove_cvref_t<decltype(detail::get<I>(entity_traits<T>::descriptor.columns))>::member_type;

/// Calls `f(column, std::integral_constant<std::size_t, I>{})` for every column of `T`.
template <class T, class F>
constexpr void for_each_column(F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (f(detail::get<I>(descriptor_of<T>.columns), std::integral_constant<std::size_t, I>{}), ...);
  }(std::make_index_sequence<column_count_v<T>>{});
}

/// The table name of `T`.
template <class T>
inline constexpr std::string_view table_name_v = descriptor_of<T>.table;

namespace detail {
template <class T>
consteval auto primary_key_count() -> std::size_t {
  std::size_t n = 0;
  for_each_column<T>([&](const auto& c, auto) { if (c.has(column_flags::primary_key)) ++n; });
  return n;
}
template <class T>
consteval auto column_index_with(std::uint32_t flag) -> std::size_t {
  std::size_t found = column_count_v<T>;
  for_each_column<T>([&](const auto& c, auto i) {
    if (found == column_count_v<T> && c.has(flag)) found = i;
  });
  return found;
}
template <class T, std::size_t N>
consteval auto primary_key_indexes() -> std::array<std::size_t, N> {
  std::array<std::size_t, N> out{};
  std::size_t k = 0;
  for_each_column<T>([&](const auto& c, auto i) {
    if (c.has(column_flags::primary_key)) out[k++] = i;
  });
  return out;
}
}  // namespace detail

/// True when `T` has a primary key.
template <class T>
inline constexpr bool has_primary_key_v = detail::primary_key_count<T>() > 0;

/// Column indexes of the primary key, in declaration order.
template <class T>
inline constexpr auto primary_key_indexes_v = detail::primary_key_indexes<T, detail::primary_key_count<T>()>();

/// Index of the first column carrying `flag`, or `column_count_v<T>` when none does.
template <class T, std::uint32_t Flag>
inline constexpr std::size_t column_with_v = detail::column_index_with<T>(Flag);

namespace detail {
template <class T, std::size_t... K>
auto primary_key_tuple(std::index_sequence<K...>) -> std::tuple<column_member_t<T, primary_key_indexes_v<T>[K]>...>;
template <class Tuple>
struct unwrap_single {
  using type = Tuple;
};
template <class One>
struct unwrap_single<std::tuple<One>> {
  using type = One;
};
}  // namespace detail

/// The key type `get` takes: the member type for a single-column key, a
/// `std::tuple` of member types for a composite key.
template <class T>
using primary_key_t = typename detail::unwrap_single<
    decltype(detail::primary_key_tuple<T>(std::make_index_sequence<primary_key_indexes_v<T>.size()>{}))>::type;

/// The schema hash of `T`: stable across builds and compilers; changes when a
/// table, column or index name, a column's type or nullability, or a key changes.
template <class T>
inline constexpr std::uint64_t schema_hash_v = [] {
  detail::fnv1a h;
  h.add(descriptor_of<T>.table);
  for_each_column<T>([&](const auto& c, auto) {
    using M = typename std::remove_cvref_t<decltype(c)>::member_type;
    h.add(c.name).add(column_traits<M>::name).add(static_cast<std::uint64_t>(is_nullable_v<M>));
    h.add(static_cast<std::uint64_t>(c.flags & (column_flags::primary_key | column_flags::unique |
                                                column_flags::auto_increment)));
  });
  for (const auto& ix : descriptor_of<T>.indexes) {
    h.add(ix.name).add(static_cast<std::uint64_t>(ix.unique));
    for (std::size_t i = 0; i < ix.size; ++i) h.add(ix.columns[i]);
  }
  return h.state;
}();

namespace detail {
template <auto Member>
constexpr auto resolve_reference() -> foreign_key_ref {
  using owner = decltype([]<class M, class C>(M C::*) -> C* { return nullptr; }(Member));
  using target = std::remove_pointer_t<owner>;
  foreign_key_ref ref{descriptor_of<target>.table, {}};
  for_each_column<target>([&](const auto& c, auto) {
    if constexpr (std::is_same_v<decltype(c.member), decltype(Member)>)
      if (c.member == Member) ref.column = c.name;
  });
  return ref;
}

inline auto to_value(const default_value& d) -> value {
  switch (d.type) {
    case default_value::kind::integer: return d.integer;
    case default_value::kind::real: return d.real;
    case default_value::kind::text: return std::string(d.text);
  }
  return {};
}

// What build_schema needs of one column, computed at compile time so that the
// run-time schema is built by one non-template function from constant data.
struct column_info {
  std::string_view name;
  ormkit::storage storage = ormkit::storage::null;
  sql_kind kind = sql_kind::text;
  std::string_view type_name;
  bool nullable = false;
  std::uint32_t flags = 0;
  int since = 1;
  bool has_default = false;
  default_value default_val{0};
  foreign_key_ref (*references)() = nullptr;
};

template <class T>
inline constexpr auto column_infos_v = [] {
  std::array<column_info, column_count_v<T>> out{};
  for_each_column<T>([&](const auto& c, auto index) {
    using M = typename std::remove_cvref_t<decltype(c)>::member_type;
    out[index] = column_info{c.name,       column_traits<M>::storage, sql_kind_of<M>(), column_traits<M>::name,
                             is_nullable_v<M>, c.flags,                c.since_version,  c.has_default,
                             c.default_val, c.references};
  });
  return out;
}();

inline auto build_schema(std::string_view table, std::uint64_t hash, std::span<const column_info> cols,
                         std::span<const index_def> indexes) -> table_schema {
  table_schema s;
  s.name = table;
  s.hash = hash;
  for (std::size_t i = 0; i < cols.size(); ++i) {
    const auto& c = cols[i];
    column_schema col;
    col.name = c.name;
    col.storage = c.storage;
    col.kind = c.kind;
    col.type_name = c.type_name;
    col.nullable = c.nullable;
    col.flags = c.flags | (c.nullable ? 0u : column_flags::not_null);
    col.since = c.since;
    if (c.has_default) col.default_value = to_value(c.default_val);
    if (c.references) col.references = c.references();
    if (col.has(column_flags::primary_key)) s.primary_key.push_back(i);
    if (col.has(column_flags::auto_increment)) s.auto_increment = i;
    if (col.has(column_flags::version)) s.version = i;
    if (col.has(column_flags::created_at)) s.created_at = i;
    if (col.has(column_flags::updated_at)) s.updated_at = i;
    if (col.has(column_flags::soft_delete)) s.soft_delete = i;
    if (c.since > s.version_number) s.version_number = c.since;
    s.columns.push_back(std::move(col));
  }
  for (std::size_t i = 0; i < s.columns.size(); ++i)
    if (s.columns[i].has(column_flags::unique) && !(s.primary_key.size() == 1 && s.primary_key[0] == i))
      s.indexes.push_back({"uq_" + std::string(s.name) + "_" + std::string(s.columns[i].name), {i}, true});
  for (const auto& ix : indexes) {
    index_schema out{std::string(ix.name), {}, ix.unique};
    for (std::size_t k = 0; k < ix.size; ++k) out.columns.push_back(*s.find(ix.columns[k]));
    s.indexes.push_back(std::move(out));
  }
  return s;
}
}  // namespace detail

/// The run-time schema of `T`, built once (thread-safe) and kept for the program's life.
template <entity T>
auto schema_of() -> const table_schema& {
  static const table_schema schema = detail::build_schema(descriptor_of<T>.table, schema_hash_v<T>,
                                                          detail::column_infos_v<T>, descriptor_of<T>.indexes);
  return schema;
}

}  // namespace ormkit
