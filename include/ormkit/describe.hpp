// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit/describe.hpp
//
// The descriptor builder an entity's `ormkit_describe` returns: table name,
// columns (member pointer, name, attributes, rules) in declaration order,
// transient members, indexes, composite unique keys and entity-level rules.
// Descriptors are constexpr values; entity.hpp checks them against the struct.
//
// Example:
//
//   friend constexpr auto ormkit_describe(std::type_identity<user>) {
//     using namespace ormkit;
//     return describe<user>("users")
//         .column(&user::id, "id", primary_key, auto_increment)
//         .column(&user::email, "email", unique, rules::email{})
//         .transient(&user::scratch)
//         .index("ix_users_email_name", &user::email, &user::name);
//   }

#include <ormkit/detail/list.hpp>
#include <ormkit/rules.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>
#include <utility>

namespace ormkit {

//=== column attributes ===//

/// Bits of `column_def::flags`.
namespace column_flags {
inline constexpr std::uint32_t primary_key = 1u << 0;
inline constexpr std::uint32_t auto_increment = 1u << 1;
inline constexpr std::uint32_t unique = 1u << 2;
inline constexpr std::uint32_t version = 1u << 3;
inline constexpr std::uint32_t created_at = 1u << 4;
inline constexpr std::uint32_t updated_at = 1u << 5;
inline constexpr std::uint32_t soft_delete = 1u << 6;
inline constexpr std::uint32_t secret = 1u << 7;
inline constexpr std::uint32_t not_null = 1u << 8;
}  // namespace column_flags

/// A set of column flags; combine attributes freely in `.column(...)`.
struct column_attribute {
  std::uint32_t bits;
};

/// Part of the primary key; several columns marked so form a composite key in declaration order.
inline constexpr column_attribute primary_key{column_flags::primary_key};
/// The backend generates the value when the entity's member is 0 (integer primary key only).
inline constexpr column_attribute auto_increment{column_flags::auto_increment};
/// No two rows share the value (errc::conflict otherwise).
inline constexpr column_attribute unique{column_flags::unique};
/// Optimistic locking: updates require the stored value to match and increment it.
inline constexpr column_attribute version_column{column_flags::version};
/// Set to the current time on insert.
inline constexpr column_attribute created_at{column_flags::created_at};
/// Set to the current time on insert and on every update.
inline constexpr column_attribute updated_at{column_flags::updated_at};
/// `erase` sets this column (a time point or bool) instead of deleting; queries skip such rows.
inline constexpr column_attribute soft_delete{column_flags::soft_delete};
/// Never shown in messages, logs or statistics, and left out of JSON exports unless asked.
inline constexpr column_attribute secret{column_flags::secret};
/// NOT NULL; implied for every non-optional member.
inline constexpr column_attribute not_null{column_flags::not_null};

/// A constant default for DDL: integer, real, bool or text.
struct default_value {
  enum class kind { integer, real, text } type = kind::integer;
  std::int64_t integer = 0;
  double real = 0;
  std::string_view text;

  constexpr default_value(bool v) : integer(v ? 1 : 0) {}  // NOLINT
  template <class I>
    requires(std::is_integral_v<I> && !std::is_same_v<I, bool>)
  constexpr default_value(I v) : integer(static_cast<std::int64_t>(v)) {}  // NOLINT
  template <class F>
    requires std::is_floating_point_v<F>
  constexpr default_value(F v) : type(kind::real), real(static_cast<double>(v)) {}  // NOLINT
  constexpr default_value(const char* v) : type(kind::text), text(v) {}  // NOLINT
  constexpr default_value(std::string_view v) : type(kind::text), text(v) {}  // NOLINT
};

/// The schema version in which the column was added; drives `add_column` migrations.
struct since {
  int version;
  constexpr explicit since(int v) : version(v) {}
};

/// Where a foreign key points, resolved lazily (the target may be declared later).
struct foreign_key_ref {
  std::string_view table;
  std::string_view column;
};

namespace detail {
template <auto Member>
constexpr auto resolve_reference() -> foreign_key_ref;  // defined in entity.hpp
}  // namespace detail

/// The attribute `references<&other::column>`: a foreign key (ON DELETE RESTRICT).
template <auto Member>
struct references_attr {
  static_assert(std::is_member_object_pointer_v<decltype(Member)>,
                "ormkit: references<...> takes a member pointer such as &tenant::id");
  static constexpr auto member = Member;
};
template <auto Member>
inline constexpr references_attr<Member> references{};

/// Opts a member out of persistence: `.transient(&user::scratch)`.
template <class Entity, class Member>
struct transient_def {
  using member_type = Member;
  Member Entity::*member;
  std::size_t position;
};

//=== descriptor parts ===//

/// One described column. `Rules` are the rule objects attached to it.
template <class Entity, class Member, class... Rules>
struct column_def {
  using entity_type = Entity;
  using member_type = Member;

  Member Entity::*member = nullptr;
  std::string_view name;
  std::size_t position = 0;  // declaration index among all described members
  std::uint32_t flags = 0;
  int since_version = 1;
  bool has_default = false;
  default_value default_val{0};
  foreign_key_ref (*references)() = nullptr;
  detail::list<Rules...> rules;

  [[nodiscard]] constexpr auto has(std::uint32_t flag) const -> bool { return (flags & flag) != 0; }

  template <class Rule>
  [[nodiscard]] constexpr auto with_rule(const Rule& r) const -> column_def<Entity, Member, Rules..., Rule> {
    return {member,      name,       position, flags, since_version, has_default,
            default_val, references, detail::append(rules, r)};
  }
};

/// An index or composite unique key over up to 8 columns.
struct index_def {
  static constexpr std::size_t max_columns = 8;
  std::string_view name;
  std::array<std::string_view, max_columns> columns{};
  std::size_t size = 0;
  bool unique = false;
  bool resolved = true;  // false when a member pointer is not a described column
};

/// A cross-field rule: `fn(entity)` returns bool (true = valid) or `std::optional<std::string>`.
template <class F>
struct entity_rule {
  std::string_view name;
  F fn;
  std::string_view message;
};

namespace detail {
template <class T>
struct is_references : std::false_type {};
template <auto M>
struct is_references<references_attr<M>> : std::true_type {};

template <class C>
constexpr auto apply_attrs(C c) {
  return c;
}

// Folds attributes into the column's fields; rules become part of its type.
template <class C, class Attr, class... Attrs>
constexpr auto apply_attrs(C c, const Attr& a, const Attrs&... rest) {
  if constexpr (std::is_base_of_v<rules::rule_tag, Attr>) {
    return apply_attrs(c.with_rule(a), rest...);
  } else {
    if constexpr (std::is_same_v<Attr, column_attribute>) {
      c.flags |= a.bits;
    } else if constexpr (std::is_same_v<Attr, since>) {
      c.since_version = a.version;
    } else if constexpr (std::is_same_v<Attr, default_value>) {
      c.has_default = true;
      c.default_val = a;
    } else if constexpr (is_references<Attr>::value) {
      c.references = &resolve_reference<Attr::member>;
    } else {
      static_assert(sizeof(Attr) == 0,
                    "ormkit: unknown column attribute; use one of primary_key, auto_increment, unique, "
                    "version_column, created_at, updated_at, soft_delete, secret, not_null, since(n), "
                    "default_value(v), references<&t::m>, or a rule from ormkit::rules");
    }
    return apply_attrs(c, rest...);
  }
}
}  // namespace detail

//=== the builder ===//

/// A constexpr description of `Entity`. Built with `describe<Entity>("table")`.
/// Columns:   detail::list of column_def, in declaration order
/// Transient: detail::list of transient_def
/// Indexes:   number of indexes and unique keys
/// Checks:    detail::list of entity_rule
template <class Entity, class Columns = detail::list<>, class Transients = detail::list<>, std::size_t Indexes = 0,
          class Checks = detail::list<>>
struct descriptor {
  using entity_type = Entity;
  static constexpr std::size_t column_count = Columns::size;
  static constexpr std::size_t transient_count = Transients::size;

  std::string_view table;
  Columns columns;
  Transients transients;
  std::array<index_def, Indexes> indexes;
  Checks checks;

  /// Describes the next member: `.column(&T::m, "name", attributes-and-rules...)`.
  template <class Owner, class Member, class... Attrs>
  [[nodiscard]] constexpr auto column(Member Owner::*member, std::string_view name, const Attrs&... attrs) const {
    static_assert(std::is_same_v<Owner, Entity>,
                  "ormkit: column() member pointer belongs to another type; describe members of the entity itself");
    column_def<Entity, Member> c{};
    c.member = member;
    c.name = name;
    c.position = column_count + transient_count;
    if constexpr (sizeof...(Attrs) > 0) return add_column(detail::apply_attrs(c, attrs...));
    else return add_column(c);
  }

  /// Marks the next member as not persisted.
  template <class Owner, class Member>
  [[nodiscard]] constexpr auto transient(Member Owner::*member) const {
    static_assert(std::is_same_v<Owner, Entity>,
                  "ormkit: transient() member pointer belongs to another type; name a member of the entity itself");
    auto t = detail::append(transients, transient_def<Entity, Member>{member, column_count + transient_count});
    return descriptor<Entity, Columns, decltype(t), Indexes, Checks>{table, columns, t, indexes, checks};
  }

  /// Adds an index over already described columns.
  template <class... Members>
  [[nodiscard]] constexpr auto index(std::string_view name, Members Entity::*... members) const {
    return add_index(name, false, members...);
  }

  /// Adds a composite (or single) unique key over already described columns.
  template <class... Members>
  [[nodiscard]] constexpr auto unique(std::string_view name, Members Entity::*... members) const {
    return add_index(name, true, members...);
  }

  /// Adds an entity-level rule. `fn(const Entity&)` returns bool (valid) or
  /// `std::optional<std::string>` (the problem); `message` is used for a false bool.
  template <class F>
  [[nodiscard]] constexpr auto rule(std::string_view name, F fn, std::string_view message = "is not valid") const {
    auto c = detail::append(checks, entity_rule<F>{name, fn, message});
    return descriptor<Entity, Columns, Transients, Indexes, decltype(c)>{table, columns, transients, indexes, c};
  }

 private:
  template <class C>
  constexpr auto add_column(const C& c) const {
    auto cols = detail::append(columns, c);
    return descriptor<Entity, decltype(cols), Transients, Indexes, Checks>{table, cols, transients, indexes, checks};
  }

  template <class Member>
  constexpr auto column_name(Member Entity::*m) const -> std::string_view {
    std::string_view found;
    detail::apply(
        [&](const auto&... c) {
          (
              [&] {
                if constexpr (std::is_same_v<typename std::remove_cvref_t<decltype(c)>::member_type, Member>)
                  if (c.member == m) found = c.name;
              }(),
              ...);
        },
        columns);
    return found;
  }

  template <class... Members>
  constexpr auto add_index(std::string_view name, bool is_unique, Members Entity::*... members) const {
    static_assert(sizeof...(Members) >= 1 && sizeof...(Members) <= index_def::max_columns,
                  "ormkit: an index names 1 to 8 columns; split wider indexes");
    index_def def{name, {}, sizeof...(Members), is_unique, true};
    std::size_t i = 0;
    ((def.columns[i++] = column_name(members)), ...);
    for (std::size_t k = 0; k < def.size; ++k)
      if (def.columns[k].empty()) def.resolved = false;
    std::array<index_def, Indexes + 1> all{};
    for (std::size_t k = 0; k < Indexes; ++k) all[k] = indexes[k];
    all[Indexes] = def;
    return descriptor<Entity, Columns, Transients, Indexes + 1, Checks>{table, columns, transients, all, checks};
  }
};

/// Starts the description of `Entity` stored in table `table`.
template <class Entity>
[[nodiscard]] constexpr auto describe(std::string_view table) -> descriptor<Entity> {
  return descriptor<Entity>{table, {}, {}, {}, {}};
}

}  // namespace ormkit
