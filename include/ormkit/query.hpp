// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/query.hpp
//
// Typed query building over a run-time AST. `col(&user::age)` is a typed leaf:
// its member pointer fixes the value type, so `col(&user::age) == "x"` does not
// compile. Conditions combine with `&&`, `||`, `!`; `query<T>` adds ordering,
// limit/offset and keyset paging; `aggregate<T>` adds group_by and
// count/sum/avg/min/max. Backends receive only the untyped `expr`,
// `query_spec` and `aggregate_spec` and evaluate them with SQL semantics
// (three-valued logic around NULL).
//
// Example:
//
//   using ormkit::col;
//   auto q = ormkit::query<user>()
//                .where(col(&user::age) >= 18 && col(&user::name).like("a%"))
//                .order_by(&user::name)
//                .limit(20);

#include <ormkit/column_traits.hpp>
#include <ormkit/entity.hpp>
#include <ormkit/value.hpp>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ormkit {

//=== the untyped AST ===//

/// Node kinds. Leaves compare column `column` with `operands`.
enum class op {
  always,       ///< TRUE (an empty where)
  eq, ne, lt, le, gt, ge,
  like,         ///< case-sensitive; % any run, _ one character, backslash escapes
  in,           ///< column IN (operands...)
  is_null,
  is_not_null,
  between,      ///< operands[0] <= column <= operands[1]
  and_, or_, not_,
};

/// A condition tree. `error` is set when a value could not be encoded; the
/// repository reports it (errc::invalid_argument) instead of running the query.
struct expr {
  op kind = op::always;
  std::size_t column = 0;
  std::vector<value> operands;
  std::vector<expr> children;
  std::string error;
};

[[nodiscard]] inline auto make_and(expr a, expr b) -> expr {
  if (a.kind == op::always) return b;
  if (b.kind == op::always) return a;
  expr e{op::and_, 0, {}, {}, {}};
  e.children.push_back(std::move(a));
  e.children.push_back(std::move(b));
  return e;
}

/// Returns the first encoding error inside `e`, or an empty string.
[[nodiscard]] inline auto first_error(const expr& e) -> std::string {
  if (!e.error.empty()) return e.error;
  for (const auto& c : e.children)
    if (auto m = first_error(c); !m.empty()) return m;
  return {};
}

struct order_term {
  std::size_t column;
  bool descending = false;
};

/// A SELECT over one table: where, order (NULLs first ascending, last descending),
/// limit and offset. Soft-deleted rows are already excluded by the repository.
struct query_spec {
  expr where;
  std::vector<order_term> order;
  std::optional<std::uint64_t> limit;
  std::uint64_t offset = 0;
};

enum class aggregate_fn { count_all, count, sum, avg, min, max };

struct aggregate_term {
  aggregate_fn fn;
  std::size_t column = 0;  ///< unused for count_all
};

/// GROUP BY `group_by` computing `terms`; result rows are the group values then the
/// term values, ordered by the group values ascending. SQL semantics: sum of an empty
/// set or of NULLs is NULL, avg is real, count ignores NULLs, count_all counts rows.
struct aggregate_spec {
  expr where;
  std::vector<std::size_t> group_by;
  std::vector<aggregate_term> terms;
};

//=== typed leaves ===//

namespace detail {
// Which C++ values may be compared with a column whose (non-optional) type is C.
template <class C, class V>
inline constexpr bool comparable_value = [] {
  using U = std::remove_cvref_t<V>;
  if constexpr (std::is_arithmetic_v<C> && std::is_arithmetic_v<U>) {
    return std::is_same_v<C, bool> == std::is_same_v<U, bool> &&
           !(std::is_integral_v<C> && std::is_floating_point_v<U>);
  } else if constexpr (std::is_arithmetic_v<C> || std::is_arithmetic_v<U>) {
    return std::is_same_v<C, U>;
  } else {
    return std::is_convertible_v<const V&, C>;
  }
}();

template <class T>
[[noreturn, gnu::noinline, gnu::cold]] void throw_not_a_column() {
  throw exception(ormkit::error(errc::invalid_argument,
                                detail::concat({table_name_v<T>, ": member is not a described column (transient?)"})));
}

// The index of the column described with `member`. Always inlined: where `member` is a
// constant (update_columns(e, &T::m)), the comparisons fold away and the index is one.
template <class T, class Member>
[[gnu::always_inline]] inline auto column_index_of(Member T::*member) -> std::size_t {
  std::size_t found = column_count_v<T>;
  for_each_column<T>([&](const auto& c, auto i) {
    if constexpr (std::is_same_v<decltype(c.member), Member T::*>)
      if (c.member == member) found = i;
  });
  if (found == column_count_v<T>) [[unlikely]]
    throw_not_a_column<T>();
  return found;
}

// The integer types std::in_range accepts (not bool, not the character types).
template <class I>
concept standard_integer = std::is_integral_v<I> && !std::is_same_v<I, bool> && !std::is_same_v<I, char> &&
                           !std::is_same_v<I, wchar_t> && !std::is_same_v<I, char8_t> &&
                           !std::is_same_v<I, char16_t> && !std::is_same_v<I, char32_t>;

template <class C, class V>
auto encode_operand(const V& v, std::string& error) -> value {
  if constexpr (standard_integer<C> && standard_integer<V>) {
    // An integer the column type cannot hold (int8 column == 300) compares by its value,
    // as in SQL; static_cast<C> would wrap it (300 -> 44) and match the wrong rows.
    if (!std::in_range<C>(v)) {
      if (std::in_range<std::int64_t>(v)) return static_cast<std::int64_t>(v);
      if (error.empty()) error = "value " + std::to_string(v) + " exceeds the int64 storage range";
      return {};
    }
  }
  auto r = encode<C>(static_cast<C>(v));
  if (!r) {
    if (error.empty()) error = r.error().message;
    return {};
  }
  return std::move(*r);
}
}  // namespace detail

/// A typed condition over entity `T`'s columns.
template <class T>
struct condition {
  expr node;

  friend auto operator&&(condition a, condition b) -> condition {
    expr e{op::and_, 0, {}, {}, {}};
    e.children.push_back(std::move(a.node));
    e.children.push_back(std::move(b.node));
    return {std::move(e)};
  }
  friend auto operator||(condition a, condition b) -> condition {
    expr e{op::or_, 0, {}, {}, {}};
    e.children.push_back(std::move(a.node));
    e.children.push_back(std::move(b.node));
    return {std::move(e)};
  }
  friend auto operator!(condition a) -> condition {
    expr e{op::not_, 0, {}, {}, {}};
    e.children.push_back(std::move(a.node));
    return {std::move(e)};
  }
};

/// A typed reference to column `Member` of entity `T`. Build it with `col(&T::m)`.
template <class T, class Member>
class column_ref {
 public:
  using entity_type = T;
  using member_type = Member;
  using compare_type = typename detail::unwrap_optional<Member>::type;

  explicit column_ref(std::size_t index) : index_(index) {}
  [[nodiscard]] auto index() const noexcept -> std::size_t { return index_; }

  template <class V>
  friend auto operator==(const column_ref& c, const V& v) -> condition<T> {
    return c.compare(op::eq, v);
  }
  template <class V>
  friend auto operator!=(const column_ref& c, const V& v) -> condition<T> {
    return c.compare(op::ne, v);
  }
  template <class V>
  friend auto operator<(const column_ref& c, const V& v) -> condition<T> {
    return c.compare(op::lt, v);
  }
  template <class V>
  friend auto operator<=(const column_ref& c, const V& v) -> condition<T> {
    return c.compare(op::le, v);
  }
  template <class V>
  friend auto operator>(const column_ref& c, const V& v) -> condition<T> {
    return c.compare(op::gt, v);
  }
  template <class V>
  friend auto operator>=(const column_ref& c, const V& v) -> condition<T> {
    return c.compare(op::ge, v);
  }

  /// SQL LIKE, case-sensitive on every backend: `%` any run, `_` one character, `\` escapes.
  [[nodiscard]] auto like(std::string_view pattern) const -> condition<T> {
    static_assert(std::is_same_v<compare_type, std::string>,
                  "ormkit: like() applies to std::string columns; compare other types with == or between()");
    return {expr{op::like, index_, {value(std::string(pattern))}, {}, {}}};
  }

  /// column IN (values...). An empty list matches nothing.
  template <class V>
  [[nodiscard]] auto in(std::initializer_list<V> values) const -> condition<T> {
    return in_range(values);
  }
  template <class Range>
  [[nodiscard]] auto in(const Range& values) const -> condition<T>
    requires requires { values.begin(); values.end(); }
  {
    return in_range(values);
  }

  [[nodiscard]] auto between(const compare_type& low, const compare_type& high) const -> condition<T> {
    expr e{op::between, index_, {}, {}, {}};
    e.operands.push_back(detail::encode_operand<compare_type>(low, e.error));
    e.operands.push_back(detail::encode_operand<compare_type>(high, e.error));
    return {std::move(e)};
  }

  [[nodiscard]] auto is_null() const -> condition<T> { return {expr{op::is_null, index_, {}, {}, {}}}; }
  [[nodiscard]] auto is_not_null() const -> condition<T> { return {expr{op::is_not_null, index_, {}, {}, {}}}; }

 private:
  template <class V>
  static constexpr void check_value() {
    static_assert(detail::comparable_value<compare_type, V>,
                  "ormkit: a column is compared with a value of another type; pass a value of the "
                  "column's member type (see the column_ref<Entity, Member> in the note above)");
  }

  // The assertion comes first and nothing else is instantiated after it, so a
  // misuse reports one ormkit error, not a cascade from the encoding code.
  template <class V>
  auto compare(op kind, const V& v) const -> condition<T> {
    check_value<V>();
    if constexpr (detail::comparable_value<compare_type, V>) return leaf(kind, v);
    else return {};
  }

  template <class V>
  auto leaf(op kind, const V& v) const -> condition<T> {
    expr e{kind, index_, {}, {}, {}};
    e.operands.push_back(detail::encode_operand<compare_type>(v, e.error));
    return {std::move(e)};
  }

  template <class Range>
  auto in_range(const Range& values) const -> condition<T> {
    expr e{op::in, index_, {}, {}, {}};
    for (const auto& v : values) {
      using V = std::remove_cvref_t<decltype(v)>;
      check_value<V>();
      if constexpr (detail::comparable_value<compare_type, V>)
        e.operands.push_back(detail::encode_operand<compare_type>(v, e.error));
    }
    return {std::move(e)};
  }

  std::size_t index_;
};

/// A typed column reference. Requires: `member` is a described column of `T`
/// (throws `ormkit::exception` for a transient member).
template <class T, class Member>
[[nodiscard]] auto col(Member T::*member) -> column_ref<T, Member> {
  static_assert(described<T>, "ormkit: col() names a member of a type that is not an entity; describe the type first");
  return column_ref<T, Member>(detail::column_index_of<T>(member));
}

/// Ordering direction for `order_by`.
enum class direction { asc, desc };
inline constexpr direction asc = direction::asc;
inline constexpr direction desc = direction::desc;

namespace detail {
// Adds the keyset condition "after `last` in `base`'s order" (primary key appended as a
// tie-breaker): (c1 > v1) OR (c1 = v1 AND c2 > v2) OR ..., with < for descending terms.
inline auto keyset_spec(query_spec s, const std::vector<value>& last, std::span<const std::size_t> primary_key,
                        const std::string& error) -> query_spec {
  for (std::size_t pk : primary_key) {
    bool present = false;
    for (const auto& o : s.order) present = present || o.column == pk;
    if (!present) s.order.push_back({pk, false});
  }
  expr any{op::or_, 0, {}, {}, {}};
  for (std::size_t k = 0; k < s.order.size(); ++k) {
    expr all{op::and_, 0, {}, {}, {}};
    for (std::size_t j = 0; j < k; ++j)
      all.children.push_back(expr{op::eq, s.order[j].column, {last[s.order[j].column]}, {}, {}});
    all.children.push_back(
        expr{s.order[k].descending ? op::lt : op::gt, s.order[k].column, {last[s.order[k].column]}, {}, {}});
    any.children.push_back(std::move(all));
  }
  any.error = error;
  s.where = make_and(std::move(s.where), std::move(any));
  return s;
}
}  // namespace detail

//=== query<T> ===//

/// A SELECT over `T` with paging. Nameable, copyable, cheap to build.
template <class T>
class query {
 public:
  query() = default;
  explicit query(condition<T> c) { spec_.where = std::move(c.node); }

  /// ANDs `c` into the filter.
  auto where(condition<T> c) & -> query& {
    spec_.where = make_and(std::move(spec_.where), std::move(c.node));
    return *this;
  }
  auto where(condition<T> c) && -> query&& { return std::move(where(std::move(c))); }

  template <class Member>
  auto order_by(Member T::*member, direction d = direction::asc) & -> query& {
    spec_.order.push_back({detail::column_index_of<T>(member), d == direction::desc});
    return *this;
  }
  template <class Member>
  auto order_by(Member T::*member, direction d = direction::asc) && -> query&& {
    return std::move(order_by(member, d));
  }

  auto limit(std::uint64_t n) & -> query& {
    spec_.limit = n;
    return *this;
  }
  auto limit(std::uint64_t n) && -> query&& { return std::move(limit(n)); }

  auto offset(std::uint64_t n) & -> query& {
    spec_.offset = n;
    return *this;
  }
  auto offset(std::uint64_t n) && -> query&& { return std::move(offset(n)); }

  /// Keyset paging: rows strictly after `last_seen` in this query's order (the
  /// primary key is appended as a tie-breaker). Use NOT NULL order columns.
  auto after(const T& last_seen) & -> query& {
    after_ = encode_all(last_seen);
    return *this;
  }
  auto after(const T& last_seen) && -> query&& { return std::move(after(last_seen)); }

  /// Includes soft-deleted rows.
  auto with_deleted(bool yes = true) & -> query& {
    with_deleted_ = yes;
    return *this;
  }
  auto with_deleted(bool yes = true) && -> query&& { return std::move(with_deleted(yes)); }

  [[nodiscard]] auto include_deleted() const noexcept -> bool { return with_deleted_; }

  /// The untyped spec, with the primary key appended to the order when keyset
  /// paging is used, and the keyset condition added.
  [[nodiscard]] auto spec() const -> query_spec {
    if (!after_) return spec_;
    if constexpr (has_primary_key_v<T>) return detail::keyset_spec(spec_, *after_, primary_key_indexes_v<T>, after_error_);
    else return detail::keyset_spec(spec_, *after_, {}, after_error_);
  }

 private:
  auto encode_all(const T& e) -> std::vector<value> {
    std::vector<value> out;
    out.reserve(column_count_v<T>);
    for_each_column<T>([&](const auto& c, auto) {
      auto r = encode(e.*(c.member));
      if (!r && after_error_.empty()) after_error_ = r.error().message;
      out.push_back(r ? std::move(*r) : value{});
    });
    return out;
  }

  query_spec spec_;
  std::optional<std::vector<value>> after_;
  std::string after_error_;
  bool with_deleted_ = false;
};

//=== aggregate<T> ===//

/// Aggregates over `T`: `aggregate<user>().group_by(&user::tenant_id).count().avg(&user::age)`.
template <class T>
class aggregate {
 public:
  aggregate() = default;

  auto where(condition<T> c) -> aggregate& {
    spec_.where = make_and(std::move(spec_.where), std::move(c.node));
    return *this;
  }
  template <class Member>
  auto group_by(Member T::*member) -> aggregate& {
    spec_.group_by.push_back(detail::column_index_of<T>(member));
    return *this;
  }
  /// COUNT(*)
  auto count() -> aggregate& {
    spec_.terms.push_back({aggregate_fn::count_all, 0});
    return *this;
  }
  /// COUNT(column): non-NULL values.
  template <class Member>
  auto count(Member T::*member) -> aggregate& { return term(aggregate_fn::count, member); }
  template <class Member>
  auto sum(Member T::*member) -> aggregate& {
    static_assert(std::is_arithmetic_v<typename detail::unwrap_optional<Member>::type>,
                  "ormkit: sum() applies to numeric columns");
    return term(aggregate_fn::sum, member);
  }
  template <class Member>
  auto avg(Member T::*member) -> aggregate& {
    static_assert(std::is_arithmetic_v<typename detail::unwrap_optional<Member>::type>,
                  "ormkit: avg() applies to numeric columns");
    return term(aggregate_fn::avg, member);
  }
  template <class Member>
  auto min(Member T::*member) -> aggregate& { return term(aggregate_fn::min, member); }
  template <class Member>
  auto max(Member T::*member) -> aggregate& { return term(aggregate_fn::max, member); }

  auto with_deleted(bool yes = true) -> aggregate& {
    with_deleted_ = yes;
    return *this;
  }
  [[nodiscard]] auto include_deleted() const noexcept -> bool { return with_deleted_; }
  [[nodiscard]] auto spec() const -> const aggregate_spec& { return spec_; }

 private:
  template <class Member>
  auto term(aggregate_fn fn, Member T::*member) -> aggregate& {
    spec_.terms.push_back({fn, detail::column_index_of<T>(member)});
    return *this;
  }
  aggregate_spec spec_;
  bool with_deleted_ = false;
};

}  // namespace ormkit
