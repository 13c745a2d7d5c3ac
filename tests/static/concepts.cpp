// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// Compile-time contracts of the core concepts and traits. Every check is a
// STATIC_REQUIRE: this file failing to compile is the failure. Only well-formed
// entities and undescribed types appear here; a badly described entity is a hard
// error by design (see tests/compile_fail/).
//
// Deliberately does not include <ormkit/json.hpp>: std::vector<int> must not be a
// column type without it.

#include <ormkit/column_traits.hpp>
#include <ormkit/entity.hpp>

#include "catch.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

namespace {

struct good_entity {
  std::int64_t id;
  std::string name;
  std::optional<std::string> nickname;

  friend constexpr auto ormkit_describe(std::type_identity<good_entity>) {
    return ormkit::describe<good_entity>("good_entities")
        .column(&good_entity::id, "id", ormkit::primary_key, ormkit::auto_increment)
        .column(&good_entity::name, "name", ormkit::unique)
        .column(&good_entity::nickname, "nickname");
  }
};

struct membership {
  std::int32_t user_id;
  std::string group;
  bool admin;
  int scratch;  // not persisted

  friend constexpr auto ormkit_describe(std::type_identity<membership>) {
    return ormkit::describe<membership>("memberships")
        .column(&membership::user_id, "user_id", ormkit::primary_key)
        .column(&membership::group, "group_name", ormkit::primary_key)
        .column(&membership::admin, "admin")
        .transient(&membership::scratch);
  }
};

struct keyless {
  std::string line;

  friend constexpr auto ormkit_describe(std::type_identity<keyless>) {
    return ormkit::describe<keyless>("log_lines").column(&keyless::line, "line");
  }
};

struct plain_struct {
  int id;
};

enum class color { red, green };

}  // namespace

TEST_CASE("column_value accepts the built-in column types", "[static][column_traits]") {
  STATIC_REQUIRE(ormkit::column_value<int>);
  STATIC_REQUIRE(ormkit::column_value<std::int64_t>);
  STATIC_REQUIRE(ormkit::column_value<std::uint16_t>);
  STATIC_REQUIRE(ormkit::column_value<bool>);
  STATIC_REQUIRE(ormkit::column_value<double>);
  STATIC_REQUIRE(ormkit::column_value<float>);
  STATIC_REQUIRE(ormkit::column_value<std::string>);
  STATIC_REQUIRE(ormkit::column_value<std::vector<std::byte>>);
  STATIC_REQUIRE(ormkit::column_value<std::optional<int>>);
  STATIC_REQUIRE(ormkit::column_value<std::optional<std::string>>);
  STATIC_REQUIRE(ormkit::column_value<std::chrono::system_clock::time_point>);
  STATIC_REQUIRE(ormkit::column_value<std::chrono::milliseconds>);
  STATIC_REQUIRE(ormkit::column_value<color>);
}

TEST_CASE("column_value rejects types without column_traits", "[static][column_traits]") {
  // JSON-stored containers need <ormkit/json.hpp>, which this file does not include.
  STATIC_REQUIRE_FALSE(ormkit::column_value<std::vector<int>>);
  STATIC_REQUIRE_FALSE(ormkit::column_value<plain_struct>);
  STATIC_REQUIRE_FALSE(ormkit::column_value<const char*>);
}

TEST_CASE("is_nullable_v is true exactly for std::optional", "[static][column_traits]") {
  STATIC_REQUIRE(ormkit::is_nullable_v<std::optional<int>>);
  STATIC_REQUIRE(ormkit::is_nullable_v<std::optional<std::string>>);
  STATIC_REQUIRE_FALSE(ormkit::is_nullable_v<int>);
  STATIC_REQUIRE_FALSE(ormkit::is_nullable_v<std::string>);
}

TEST_CASE("sql_kind_of maps storage and nullability", "[static][column_traits]") {
  STATIC_REQUIRE(ormkit::sql_kind_of<int>() == ormkit::sql_kind::integer);
  STATIC_REQUIRE(ormkit::sql_kind_of<bool>() == ormkit::sql_kind::boolean);
  STATIC_REQUIRE(ormkit::sql_kind_of<std::optional<double>>() == ormkit::sql_kind::real);
  STATIC_REQUIRE(ormkit::sql_kind_of<std::chrono::system_clock::time_point>() == ormkit::sql_kind::timestamp);
}

TEST_CASE("described and entity recognise described structs only", "[static][entity]") {
  STATIC_REQUIRE(ormkit::described<good_entity>);
  STATIC_REQUIRE(ormkit::entity<good_entity>);
  STATIC_REQUIRE(ormkit::entity<membership>);
  STATIC_REQUIRE(ormkit::entity<keyless>);
  STATIC_REQUIRE_FALSE(ormkit::described<plain_struct>);
  STATIC_REQUIRE_FALSE(ormkit::described<int>);
}

TEST_CASE("descriptor traits count columns and transients", "[static][entity]") {
  STATIC_REQUIRE(ormkit::column_count_v<good_entity> == 3);
  STATIC_REQUIRE(ormkit::column_count_v<membership> == 3);
  STATIC_REQUIRE(ormkit::descriptor_t<membership>::transient_count == 1);
  STATIC_REQUIRE(ormkit::table_name_v<good_entity> == "good_entities");
  STATIC_REQUIRE(std::is_same_v<ormkit::column_member_t<good_entity, 2>, std::optional<std::string>>);
  STATIC_REQUIRE(ormkit::column_v<membership, 1>.name == "group_name");
}

TEST_CASE("primary_key_t is the member type or a tuple for composite keys", "[static][entity]") {
  STATIC_REQUIRE(std::is_same_v<ormkit::primary_key_t<good_entity>, std::int64_t>);
  STATIC_REQUIRE(std::is_same_v<ormkit::primary_key_t<membership>, std::tuple<std::int32_t, std::string>>);
  STATIC_REQUIRE(ormkit::primary_key_indexes_v<membership>.size() == 2);
  STATIC_REQUIRE(ormkit::primary_key_indexes_v<membership>[1] == 1);
}

TEST_CASE("has_primary_key_v and column_with_v find flagged columns", "[static][entity]") {
  STATIC_REQUIRE(ormkit::has_primary_key_v<good_entity>);
  STATIC_REQUIRE(ormkit::has_primary_key_v<membership>);
  STATIC_REQUIRE_FALSE(ormkit::has_primary_key_v<keyless>);
  STATIC_REQUIRE(ormkit::column_with_v<good_entity, ormkit::column_flags::auto_increment> == 0);
  STATIC_REQUIRE(ormkit::column_with_v<good_entity, ormkit::column_flags::unique> == 1);
  STATIC_REQUIRE(ormkit::column_with_v<membership, ormkit::column_flags::version> ==
                 ormkit::column_count_v<membership>);
}

TEST_CASE("schema_hash_v is a constant expression that tells entities apart", "[static][entity]") {
  constexpr std::uint64_t good = ormkit::schema_hash_v<good_entity>;
  constexpr std::uint64_t member = ormkit::schema_hash_v<membership>;
  STATIC_REQUIRE(good != member);
  STATIC_REQUIRE(good == ormkit::schema_hash_v<good_entity>);
  STATIC_REQUIRE(ormkit::schema_hash_v<keyless> != 0);
}
