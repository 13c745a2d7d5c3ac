// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// tests/support/entities.hpp
//
// Entities shared by the unit and conformance suites, one per concern:
//
//   person      queries, ordering, NULL semantics, paging (no rules, no keys but the id)
//   user        rules, a unique column, a secret unique column, version, created_at/updated_at
//   document    soft delete through a time point, a nullable unique column
//   task        soft delete through a bool
//   all_types   every built-in column type
//   tenant, membership
//               composite primary key, references<>, default_value, since, indexes, a
//               composite unique key
//   widget      a transient member
//   counter     a plain (not generated) key and a value, for concurrency tests
//
// Every member has a default initializer and every entity a `make_*` helper, so tests
// build entities without designated initializers that skip members
// (-Wmissing-field-initializers). `fake_clock` is a deterministic repository clock.

#include <ormkit/describe.hpp>
#include <ormkit/entity.hpp>
#include <ormkit/rules.hpp>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ormkit_test {

using time_point = std::chrono::system_clock::time_point;

//=== a deterministic clock ===//

/// The instant the fake clock starts from: 2024-01-01T00:00:00Z.
inline constexpr auto fake_epoch = time_point(std::chrono::seconds(1'704'067'200));

inline auto fake_ticks() -> std::atomic<std::int64_t>& {
  static std::atomic<std::int64_t> ticks{0};
  return ticks;
}

/// A repository clock that advances by one second (and 1 µs, to prove microsecond
/// precision survives) on every call: `repository_options{.clock = &fake_clock}`.
inline auto fake_clock() -> time_point {
  auto n = ++fake_ticks();
  return fake_epoch + std::chrono::seconds(n) + std::chrono::microseconds(n);
}

/// The value `fake_clock()` returns next, without advancing it.
inline auto fake_clock_next() -> time_point {
  auto n = fake_ticks().load() + 1;
  return fake_epoch + std::chrono::seconds(n) + std::chrono::microseconds(n);
}

//=== person: queries and ordering ===//

struct person {
  std::int64_t id{};
  std::string name{};
  std::optional<int> age{};
  std::optional<std::string> city{};
  double score{};

  friend constexpr auto ormkit_describe(std::type_identity<person>) {
    using namespace ormkit;
    return describe<person>("people")
        .column(&person::id, "id", primary_key, auto_increment)
        .column(&person::name, "name")
        .column(&person::age, "age")
        .column(&person::city, "city")
        .column(&person::score, "score")
        .index("ix_people_age", &person::age);
  }
  friend auto operator==(const person&, const person&) -> bool = default;
};

inline auto make_person(std::string name, std::optional<int> age = std::nullopt,
                        std::optional<std::string> city = std::nullopt, double score = 0) -> person {
  person p;
  p.name = std::move(name);
  p.age = age;
  p.city = std::move(city);
  p.score = score;
  return p;
}

//=== user: rules, unique and secret columns, version, timestamps ===//

struct user {
  std::int64_t id{};
  std::string email{};
  std::string name{};
  int age{};
  std::optional<std::string> bio{};
  std::string token{};
  std::int64_t version{};
  time_point created{};
  time_point updated{};

  friend constexpr auto ormkit_describe(std::type_identity<user>) {
    using namespace ormkit;
    return describe<user>("users")
        .column(&user::id, "id", primary_key, auto_increment)
        .column(&user::email, "email", unique, rules::email{})
        .column(&user::name, "name", rules::length{1, 64})
        .column(&user::age, "age", rules::range{0, 150})
        .column(&user::bio, "bio")
        .column(&user::token, "token", secret, unique)
        .column(&user::version, "version", version_column)
        .column(&user::created, "created_at", created_at)
        .column(&user::updated, "updated_at", updated_at);
  }
  friend auto operator==(const user&, const user&) -> bool = default;
};

/// A valid user; the token is derived from the e-mail so it is unique too.
inline auto make_user(std::string email, std::string name, int age = 30) -> user {
  user u;
  u.token = "tok-" + email;
  u.email = std::move(email);
  u.name = std::move(name);
  u.age = age;
  return u;
}

//=== soft delete ===//

struct document {
  std::int64_t id{};
  std::string title{};
  std::optional<std::string> slug{};
  std::optional<time_point> deleted_at{};

  friend constexpr auto ormkit_describe(std::type_identity<document>) {
    using namespace ormkit;
    return describe<document>("documents")
        .column(&document::id, "id", primary_key, auto_increment)
        .column(&document::title, "title")
        .column(&document::slug, "slug", unique)
        .column(&document::deleted_at, "deleted_at", soft_delete);
  }
  friend auto operator==(const document&, const document&) -> bool = default;
};

inline auto make_document(std::string title, std::optional<std::string> slug = std::nullopt) -> document {
  document d;
  d.title = std::move(title);
  d.slug = std::move(slug);
  return d;
}

struct task {
  std::int64_t id{};
  std::string title{};
  bool archived{};

  friend constexpr auto ormkit_describe(std::type_identity<task>) {
    using namespace ormkit;
    return describe<task>("tasks")
        .column(&task::id, "id", primary_key, auto_increment)
        .column(&task::title, "title")
        .column(&task::archived, "archived", soft_delete);
  }
  friend auto operator==(const task&, const task&) -> bool = default;
};

inline auto make_task(std::string title) -> task {
  task t;
  t.title = std::move(title);
  return t;
}

//=== every column type ===//

/// Stored as text through ormkit_enum_names.
enum class color { red, green, blue };

constexpr auto ormkit_enum_names(std::type_identity<color>) {
  return std::array{std::pair{color::red, std::string_view("red")},
                    std::pair{color::green, std::string_view("green")},
                    std::pair{color::blue, std::string_view("blue")}};
}

/// Stored as its integer value.
enum class level : std::int16_t { low = -1, mid = 5, high = 300 };

struct all_types {
  std::int64_t id{};
  std::int8_t i8{};
  std::int16_t i16{};
  std::int32_t i32{};
  std::int64_t i64{};
  std::uint8_t u8{};
  std::uint16_t u16{};
  std::uint32_t u32{};
  std::uint64_t u64{};
  float f32{};
  double f64{};
  bool flag{};
  std::string text{};
  std::vector<std::byte> bytes{};
  std::vector<unsigned char> ubytes{};
  std::optional<std::int32_t> maybe_int{};
  std::optional<std::string> maybe_text{};
  std::optional<double> maybe_real{};
  time_point when{};
  std::optional<time_point> maybe_when{};
  std::chrono::milliseconds timeout{};
  std::chrono::duration<double> seconds{};
  color shade{};
  level lvl{};
  std::optional<color> maybe_shade{};

  friend constexpr auto ormkit_describe(std::type_identity<all_types>) {
    using namespace ormkit;
    return describe<all_types>("all_types")
        .column(&all_types::id, "id", primary_key, auto_increment)
        .column(&all_types::i8, "i8")
        .column(&all_types::i16, "i16")
        .column(&all_types::i32, "i32")
        .column(&all_types::i64, "i64")
        .column(&all_types::u8, "u8")
        .column(&all_types::u16, "u16")
        .column(&all_types::u32, "u32")
        .column(&all_types::u64, "u64")
        .column(&all_types::f32, "f32")
        .column(&all_types::f64, "f64")
        .column(&all_types::flag, "flag")
        .column(&all_types::text, "text")
        .column(&all_types::bytes, "bytes")
        .column(&all_types::ubytes, "ubytes")
        .column(&all_types::maybe_int, "maybe_int")
        .column(&all_types::maybe_text, "maybe_text")
        .column(&all_types::maybe_real, "maybe_real")
        .column(&all_types::when, "when_at")
        .column(&all_types::maybe_when, "maybe_when")
        .column(&all_types::timeout, "timeout_ms")
        .column(&all_types::seconds, "seconds")
        .column(&all_types::shade, "shade")
        .column(&all_types::lvl, "lvl")
        .column(&all_types::maybe_shade, "maybe_shade");
  }
  friend auto operator==(const all_types&, const all_types&) -> bool = default;
};

/// Bytes from small integers: `bytes_of({0, 255})`.
inline auto bytes_of(std::initializer_list<int> values) -> std::vector<std::byte> {
  std::vector<std::byte> out;
  for (int v : values) out.push_back(static_cast<std::byte>(v));
  return out;
}

//=== composite key, references, defaults, indexes ===//

struct tenant {
  std::int64_t id{};
  std::string name{};

  friend constexpr auto ormkit_describe(std::type_identity<tenant>) {
    using namespace ormkit;
    return describe<tenant>("tenants")
        .column(&tenant::id, "id", primary_key, auto_increment)
        .column(&tenant::name, "name", unique);
  }
  friend auto operator==(const tenant&, const tenant&) -> bool = default;
};

struct membership {
  std::int64_t tenant_id{};
  std::string user_name{};
  std::string role{};
  int position{};
  std::optional<std::string> note{};

  friend constexpr auto ormkit_describe(std::type_identity<membership>) {
    using namespace ormkit;
    return describe<membership>("memberships")
        .column(&membership::tenant_id, "tenant_id", primary_key, references<&tenant::id>)
        .column(&membership::user_name, "user_name", primary_key)
        .column(&membership::role, "role", default_value("member"), rules::one_of{"admin", "member"})
        .column(&membership::position, "position", default_value(0))
        .column(&membership::note, "note", since(2))
        .index("ix_memberships_role_position", &membership::role, &membership::position)
        .unique("uq_memberships_tenant_position", &membership::tenant_id, &membership::position);
  }
  friend auto operator==(const membership&, const membership&) -> bool = default;
};

inline auto make_membership(std::int64_t tenant_id, std::string user_name, std::string role, int position)
    -> membership {
  membership m;
  m.tenant_id = tenant_id;
  m.user_name = std::move(user_name);
  m.role = std::move(role);
  m.position = position;
  return m;
}

//=== widget: a transient member ===//

struct widget {
  std::int64_t id{};
  std::string label{};
  int scratch{};  // not persisted
  std::int64_t hits{};

  friend constexpr auto ormkit_describe(std::type_identity<widget>) {
    using namespace ormkit;
    return describe<widget>("widgets")
        .column(&widget::id, "id", primary_key)
        .column(&widget::label, "label")
        .transient(&widget::scratch)
        .column(&widget::hits, "hits");
  }
  friend auto operator==(const widget&, const widget&) -> bool = default;
};

//=== counter: concurrency ===//

struct counter {
  std::int64_t id{};
  std::int64_t value{};

  friend constexpr auto ormkit_describe(std::type_identity<counter>) {
    using namespace ormkit;
    return describe<counter>("counters")
        .column(&counter::id, "id", primary_key)
        .column(&counter::value, "value");
  }
  friend auto operator==(const counter&, const counter&) -> bool = default;
};

inline auto make_counter(std::int64_t id, std::int64_t value) -> counter {
  counter c;
  c.id = id;
  c.value = value;
  return c;
}

//=== helpers ===//

/// True when `text` contains `part`; pair with CAPTURE(text) so a failure shows both.
inline auto contains(std::string_view text, std::string_view part) -> bool {
  return text.find(part) != std::string_view::npos;
}

/// The primary keys of `items`, in order.
template <class Range>
auto ids_of(const Range& items) -> std::vector<std::int64_t> {
  std::vector<std::int64_t> out;
  for (const auto& e : items) out.push_back(e.id);
  return out;
}

/// The names of `items`, in order.
template <class Range>
auto names_of(const Range& items) -> std::vector<std::string> {
  std::vector<std::string> out;
  for (const auto& e : items) out.push_back(e.name);
  return out;
}

}  // namespace ormkit_test
