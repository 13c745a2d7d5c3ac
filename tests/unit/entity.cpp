// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// ormkit::entity_traits, schema_of and the compile-time views of a descriptor: columns
// with their storage, kind, type name, nullability and flags; keys (single, composite,
// generated); indexes including the automatic uq_<table>_<column> ones; references
// resolved to table.column; defaults; since(n); transient members; entity_traits
// specializations; the schema hash (stable: checked against literals).

#include <ormkit/entity.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <vector>

namespace vendor {
// A type we pretend not to own: described through an entity_traits specialization.
struct invoice {
  std::string number;
  double total = 0;
  std::optional<std::string> memo;
};
}  // namespace vendor

template <>
struct ormkit::entity_traits<vendor::invoice> {
  static constexpr auto descriptor = ormkit::describe<vendor::invoice>("invoices")
                                         .column(&vendor::invoice::number, "number", ormkit::primary_key)
                                         .column(&vendor::invoice::total, "total")
                                         .column(&vendor::invoice::memo, "memo");
};

namespace entity_test {

// A primary key that is also marked unique gets no extra unique index.
struct code {
  std::string value;
  friend constexpr auto ormkit_describe(std::type_identity<code>) {
    return ormkit::describe<code>("codes").column(&code::value, "value", ormkit::primary_key, ormkit::unique);
  }
};

// Variants of one table differing in one detail each, for the schema hash.
struct base {
  std::int64_t id{};
  int n{};
  friend constexpr auto ormkit_describe(std::type_identity<base>) {
    return ormkit::describe<base>("things").column(&base::id, "id", ormkit::primary_key).column(&base::n, "n");
  }
};
struct renamed_column {
  std::int64_t id{};
  int n{};
  friend constexpr auto ormkit_describe(std::type_identity<renamed_column>) {
    return ormkit::describe<renamed_column>("things")
        .column(&renamed_column::id, "id", ormkit::primary_key)
        .column(&renamed_column::n, "m");
  }
};
struct other_type {
  std::int64_t id{};
  std::int64_t n{};
  friend constexpr auto ormkit_describe(std::type_identity<other_type>) {
    return ormkit::describe<other_type>("things")
        .column(&other_type::id, "id", ormkit::primary_key)
        .column(&other_type::n, "n");
  }
};
struct nullable {
  std::int64_t id{};
  std::optional<int> n{};
  friend constexpr auto ormkit_describe(std::type_identity<nullable>) {
    return ormkit::describe<nullable>("things").column(&nullable::id, "id", ormkit::primary_key).column(&nullable::n, "n");
  }
};
struct unique_n {
  std::int64_t id{};
  int n{};
  friend constexpr auto ormkit_describe(std::type_identity<unique_n>) {
    return ormkit::describe<unique_n>("things")
        .column(&unique_n::id, "id", ormkit::primary_key)
        .column(&unique_n::n, "n", ormkit::unique);
  }
};
struct indexed {
  std::int64_t id{};
  int n{};
  friend constexpr auto ormkit_describe(std::type_identity<indexed>) {
    return ormkit::describe<indexed>("things")
        .column(&indexed::id, "id", ormkit::primary_key)
        .column(&indexed::n, "n")
        .index("ix_things_n", &indexed::n);
  }
};
struct with_rule {  // rules and secrets do not change the stored shape
  std::int64_t id{};
  int n{};
  friend constexpr auto ormkit_describe(std::type_identity<with_rule>) {
    using namespace ormkit;
    return describe<with_rule>("things").column(&with_rule::id, "id", primary_key).column(&with_rule::n, "n", secret, rules::range{0, 9});
  }
};

struct not_an_entity {
  int x;
};

}  // namespace entity_test

namespace {

using namespace ormkit_test;
namespace flags = ormkit::column_flags;
using ormkit::sql_kind;
using ormkit::storage;

auto column_names(const ormkit::table_schema& s) -> std::vector<std::string> {
  std::vector<std::string> out;
  for (const auto& c : s.columns) out.emplace_back(c.name);
  return out;
}

}  // namespace

TEST_CASE("entity: schema_of lists the columns in declaration order with their types", "[entity]") {
  const auto& s = ormkit::schema_of<user>();
  CHECK(s.name == "users");
  CHECK(column_names(s) ==
        std::vector<std::string>{"id", "email", "name", "age", "bio", "token", "version", "created_at", "updated_at"});

  const auto& id = s.columns[0];
  CHECK(id.storage == storage::integer);
  CHECK(id.kind == sql_kind::integer);
  CHECK(id.type_name == "int64");
  CHECK_FALSE(id.nullable);
  CHECK(id.flags == (flags::primary_key | flags::auto_increment | flags::not_null));

  CHECK(s.columns[1].storage == storage::text);
  CHECK(s.columns[1].type_name == "string");
  CHECK(s.columns[1].flags == (flags::unique | flags::not_null));
  CHECK(s.columns[3].type_name == "int32");

  const auto& bio = s.columns[4];
  CHECK(bio.nullable);
  CHECK(bio.flags == 0u);  // optional: no not_null
  CHECK(bio.storage == storage::text);

  CHECK(s.columns[5].flags == (flags::secret | flags::unique | flags::not_null));
  CHECK(s.columns[6].flags == (flags::version | flags::not_null));
  CHECK(s.columns[7].kind == sql_kind::timestamp);
  CHECK(s.columns[7].type_name == "timestamp_us");
  CHECK(s.columns[7].storage == storage::integer);
  CHECK(s.columns[7].has(flags::created_at));
  CHECK(s.columns[8].has(flags::updated_at));
  CHECK_FALSE(s.columns[8].default_value.has_value());
  CHECK_FALSE(s.columns[8].references.has_value());
  CHECK(s.columns[8].since == 1);

  CHECK(s.primary_key == std::vector<std::size_t>{0});
  CHECK(s.auto_increment == std::optional<std::size_t>(0));
  CHECK(s.version == std::optional<std::size_t>(6));
  CHECK(s.created_at == std::optional<std::size_t>(7));
  CHECK(s.updated_at == std::optional<std::size_t>(8));
  CHECK_FALSE(s.soft_delete.has_value());
  CHECK(s.version_number == 1);
  CHECK(s.find("token") == std::optional<std::size_t>(5));
  CHECK_FALSE(s.find("missing").has_value());
  CHECK(&ormkit::schema_of<user>() == &s);  // built once

  const auto& all = ormkit::schema_of<all_types>();
  auto col = [&](std::string_view name) -> const ormkit::column_schema& { return all.columns[*all.find(name)]; };
  CHECK(col("u8").type_name == "uint8");
  CHECK(col("f32").type_name == "float32");
  CHECK(col("f32").storage == storage::real);
  CHECK(col("flag").kind == sql_kind::boolean);
  CHECK(col("bytes").storage == storage::blob);
  CHECK(col("maybe_when").nullable);
  CHECK(col("maybe_when").kind == sql_kind::timestamp);
  CHECK(col("timeout_ms").type_name == "duration");
  CHECK(col("seconds").storage == storage::real);
  CHECK(col("shade").storage == storage::text);
  CHECK(col("shade").type_name == "enum_text");
  CHECK(col("lvl").storage == storage::integer);
  CHECK(col("lvl").type_name == "enum_int");
  CHECK(col("maybe_shade").nullable);
}

TEST_CASE("entity: unique columns get an index named uq_table_column", "[entity]") {
  auto describe_indexes = [](const ormkit::table_schema& s) {
    std::vector<std::string> out;
    for (const auto& ix : s.indexes) {
      std::string d = ix.name + (ix.unique ? " unique" : "") + " (";
      for (std::size_t k = 0; k < ix.columns.size(); ++k) d += (k ? ", " : "") + std::string(s.columns[ix.columns[k]].name);
      out.push_back(d + ")");
    }
    return out;
  };
  CHECK(describe_indexes(ormkit::schema_of<user>()) ==
        std::vector<std::string>{"uq_users_email unique (email)", "uq_users_token unique (token)"});
  CHECK(describe_indexes(ormkit::schema_of<person>()) == std::vector<std::string>{"ix_people_age (age)"});
  CHECK(describe_indexes(ormkit::schema_of<document>()) == std::vector<std::string>{"uq_documents_slug unique (slug)"});
  CHECK(describe_indexes(ormkit::schema_of<membership>()) ==
        std::vector<std::string>{"ix_memberships_role_position (role, position)",
                                 "uq_memberships_tenant_position unique (tenant_id, position)"});
  CHECK(describe_indexes(ormkit::schema_of<tenant>()) == std::vector<std::string>{"uq_tenants_name unique (name)"});
  CHECK(ormkit::schema_of<entity_test::code>().indexes.empty());  // the key is unique already
}

TEST_CASE("entity: composite keys references defaults and since", "[entity]") {
  const auto& s = ormkit::schema_of<membership>();
  CHECK(s.primary_key == std::vector<std::size_t>{0, 1});
  CHECK_FALSE(s.auto_increment.has_value());
  STATIC_REQUIRE(std::is_same_v<ormkit::primary_key_t<membership>, std::tuple<std::int64_t, std::string>>);
  STATIC_REQUIRE(std::is_same_v<ormkit::primary_key_t<user>, std::int64_t>);
  STATIC_REQUIRE(std::is_same_v<ormkit::primary_key_t<vendor::invoice>, std::string>);
  STATIC_REQUIRE(ormkit::primary_key_indexes_v<membership> == std::array<std::size_t, 2>{0, 1});

  REQUIRE(s.columns[0].references.has_value());
  CHECK(s.columns[0].references->table == "tenants");
  CHECK(s.columns[0].references->column == "id");
  CHECK_FALSE(s.columns[1].references.has_value());

  CHECK(s.columns[2].default_value == std::optional<ormkit::value>(ormkit::value(std::string("member"))));
  CHECK(s.columns[3].default_value == std::optional<ormkit::value>(ormkit::value(std::int64_t{0})));
  CHECK_FALSE(s.columns[4].default_value.has_value());
  CHECK(s.columns[4].since == 2);
  CHECK(s.columns[3].since == 1);
  CHECK(s.version_number == 2);
}

TEST_CASE("entity: transient members are not columns", "[entity]") {
  STATIC_REQUIRE(ormkit::column_count_v<widget> == 3);
  STATIC_REQUIRE(ormkit::descriptor_t<widget>::transient_count == 1);
  const auto& s = ormkit::schema_of<widget>();
  CHECK(column_names(s) == std::vector<std::string>{"id", "label", "hits"});
  CHECK_FALSE(s.find("scratch").has_value());
  STATIC_REQUIRE(std::is_same_v<ormkit::column_member_t<widget, 2>, std::int64_t>);
  CHECK(ormkit::column_v<widget, 2>.name == "hits");
  CHECK(ormkit::column_v<widget, 2>.position == 3);  // declaration index among all members
}

TEST_CASE("entity: compile-time views of a descriptor", "[entity]") {
  STATIC_REQUIRE(ormkit::entity<user>);
  STATIC_REQUIRE(ormkit::entity<vendor::invoice>);
  STATIC_REQUIRE_FALSE(ormkit::entity<entity_test::not_an_entity>);
  STATIC_REQUIRE_FALSE(ormkit::described<int>);
  STATIC_REQUIRE(ormkit::table_name_v<user> == "users");
  STATIC_REQUIRE(ormkit::column_count_v<user> == 9);
  STATIC_REQUIRE(ormkit::has_primary_key_v<user>);
  STATIC_REQUIRE(ormkit::column_with_v<user, flags::version> == 6);
  STATIC_REQUIRE(ormkit::column_with_v<user, flags::soft_delete> == 9);  // none: column_count_v
  STATIC_REQUIRE(ormkit::column_with_v<document, flags::soft_delete> == 3);
  STATIC_REQUIRE(std::is_same_v<ormkit::column_member_t<user, 4>, std::optional<std::string>>);

  std::vector<std::string> names;
  std::vector<std::size_t> indexes;
  ormkit::for_each_column<tenant>([&](const auto& c, auto i) {
    names.emplace_back(c.name);
    indexes.push_back(i);
  });
  CHECK(names == std::vector<std::string>{"id", "name"});
  CHECK(indexes == std::vector<std::size_t>{0, 1});

  const auto& inv = ormkit::schema_of<vendor::invoice>();
  CHECK(inv.name == "invoices");
  CHECK(column_names(inv) == std::vector<std::string>{"number", "total", "memo"});
  CHECK(inv.primary_key == std::vector<std::size_t>{0});
  CHECK(inv.columns[2].nullable);
}

TEST_CASE("entity: schema_hash_v is stable and tracks the stored shape", "[entity]") {
  // Literals: a change here retires every cache key and stored hash; make it on purpose.
  STATIC_REQUIRE(ormkit::schema_hash_v<user> == 65592357586085871ull);
  STATIC_REQUIRE(ormkit::schema_hash_v<person> == 11515483148677731829ull);
  STATIC_REQUIRE(ormkit::schema_hash_v<membership> == 12831790805905361838ull);
  STATIC_REQUIRE(ormkit::schema_hash_v<widget> == 13478944535462553204ull);
  CHECK(ormkit::schema_of<user>().hash == ormkit::schema_hash_v<user>);

  using namespace entity_test;
  constexpr auto h = ormkit::schema_hash_v<base>;
  STATIC_REQUIRE(ormkit::schema_hash_v<renamed_column> != h);
  STATIC_REQUIRE(ormkit::schema_hash_v<other_type> != h);
  STATIC_REQUIRE(ormkit::schema_hash_v<nullable> != h);
  STATIC_REQUIRE(ormkit::schema_hash_v<unique_n> != h);
  STATIC_REQUIRE(ormkit::schema_hash_v<indexed> != h);
  STATIC_REQUIRE(ormkit::schema_hash_v<with_rule> == h);
}
