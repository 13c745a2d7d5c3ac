// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// cache_key_of / cache_key<T> / cache_key_builder: the format, stability across
// runs (checked-in literals), escaping that keeps distinct keys distinct, and
// the schema hash retiring keys when an entity changes.

#include <ormkit/cache_key.hpp>

#include "../support/catch.hpp"

#include <array>
#include <cinttypes>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using namespace std::string_literals;

struct user {
  std::int64_t id{};
  std::string email;
  int age{};

  friend constexpr auto ormkit_describe(std::type_identity<user>) {
    return ormkit::describe<user>("users")
        .column(&user::id, "id", ormkit::primary_key, ormkit::auto_increment)
        .column(&user::email, "email", ormkit::unique)
        .column(&user::age, "age");
  }
};

struct membership {
  std::string org;
  std::string login;
  std::int32_t role{};

  friend constexpr auto ormkit_describe(std::type_identity<membership>) {
    return ormkit::describe<membership>("memberships")
        .column(&membership::org, "org", ormkit::primary_key)
        .column(&membership::login, "login", ormkit::primary_key)
        .column(&membership::role, "role");
  }
};

struct stored_file {
  std::vector<std::byte> digest;
  std::uint64_t size{};

  friend constexpr auto ormkit_describe(std::type_identity<stored_file>) {
    return ormkit::describe<stored_file>("files")
        .column(&stored_file::digest, "digest", ormkit::primary_key)
        .column(&stored_file::size, "size");
  }
};

struct counter {
  std::uint64_t id{};
  std::int64_t hits{};

  friend constexpr auto ormkit_describe(std::type_identity<counter>) {
    return ormkit::describe<counter>("counters")
        .column(&counter::id, "id", ormkit::primary_key)
        .column(&counter::hits, "hits");
  }
};

// Three versions of one table that differ only in the type of `value`.
struct reading_v1 {
  std::int64_t id{};
  std::int32_t value{};

  friend constexpr auto ormkit_describe(std::type_identity<reading_v1>) {
    return ormkit::describe<reading_v1>("readings")
        .column(&reading_v1::id, "id", ormkit::primary_key)
        .column(&reading_v1::value, "value");
  }
};

struct reading_v2 {
  std::int64_t id{};
  std::int64_t value{};

  friend constexpr auto ormkit_describe(std::type_identity<reading_v2>) {
    return ormkit::describe<reading_v2>("readings")
        .column(&reading_v2::id, "id", ormkit::primary_key)
        .column(&reading_v2::value, "value");
  }
};

struct reading_v3 {
  std::int64_t id{};
  std::optional<std::int32_t> value;

  friend constexpr auto ormkit_describe(std::type_identity<reading_v3>) {
    return ormkit::describe<reading_v3>("readings")
        .column(&reading_v3::id, "id", ormkit::primary_key)
        .column(&reading_v3::value, "value");
  }
};

// Same columns as reading_v1 under another description: the hash is of the schema, not the C++ type.
struct reading_again {
  std::int64_t id{};
  std::int32_t value{};

  friend constexpr auto ormkit_describe(std::type_identity<reading_again>) {
    return ormkit::describe<reading_again>("readings")
        .column(&reading_again::id, "id", ormkit::primary_key)
        .column(&reading_again::value, "value");
  }
};

enum class shade { light, dark, unnamed };
constexpr auto ormkit_enum_names(std::type_identity<shade>) {
  return std::array{std::pair{shade::light, std::string_view("light")},
                    std::pair{shade::dark, std::string_view("dark")}};
}

auto hex16(std::uint64_t v) -> std::string {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016" PRIx64, v);
  return buf;
}

// Splits a key back into its segments: `\` plus the next byte is one unit,
// `\0` alone is NULL (nullopt). Returns an empty list for a malformed key.
auto decode(std::string_view key) -> std::vector<std::optional<std::string>> {
  std::vector<std::optional<std::string>> out(1, std::string());
  for (std::size_t i = 0; i < key.size(); ++i) {
    char c = key[i];
    if (c == ':') {
      out.emplace_back(std::string());
      continue;
    }
    if (!out.back()) return {};  // nothing may follow NULL within a segment
    if (c == '\\') {
      if (i + 1 == key.size()) return {};
      c = key[++i];
      if (c == '0' && out.back()->empty() && (i + 1 == key.size() || key[i + 1] == ':')) {
        out.back() = std::nullopt;
        continue;
      }
      if (c != '\\' && c != ':') return {};
    }
    *out.back() += c;
  }
  return out;
}

template <class T>
concept keyable = requires(const T& v) { ormkit::cache_key_of(v); };

}  // namespace

TEST_CASE("cache_key_of formats namespace table schema hash and key", "[cache_key]") {
  const std::string key = ormkit::cache_key_of(user{42, "ada@example.com", 36});
  CHECK(key == "ormkit:users:" + hex16(ormkit::schema_hash_v<user>) + ":42");
  CHECK(key == ormkit::cache_key<user>(42));
  CHECK(ormkit::cache_key<user>(-7) == "ormkit:users:" + hex16(ormkit::schema_hash_v<user>) + ":-7");
  CHECK(ormkit::cache_key_of(user{42, "", 0}, "app") == "app:users:" + hex16(ormkit::schema_hash_v<user>) + ":42");
}

TEST_CASE("cache_key_of is stable across runs and builds", "[cache_key]") {
  // Checked-in literals: if one of these changes, every deployed cache is
  // silently cold (or worse, keys of a changed schema stop being retired).
  CHECK(ormkit::cache_key_of(user{42, "ada@example.com", 36}) == "ormkit:users:29416e9c3fc6c397:42");
  CHECK(ormkit::cache_key_of(membership{"acme:eu", "ada\\", 1}) ==
        "ormkit:memberships:63ae22ea0493f244:acme\\:eu:ada\\\\");
  CHECK(ormkit::cache_key_builder("app").add_entity<user>().add("by_age").add(36).add(0.1).str() ==
        "app:users:29416e9c3fc6c397:by_age:36:0.1");
}

TEST_CASE("cache_key joins a composite key in declaration order", "[cache_key]") {
  const std::string prefix = "ormkit:memberships:" + hex16(ormkit::schema_hash_v<membership>) + ":";
  CHECK(ormkit::cache_key_of(membership{"acme", "ada", 1}) == prefix + "acme:ada");
  CHECK(ormkit::cache_key<membership>({"acme", "ada"}) == prefix + "acme:ada");
  CHECK(ormkit::cache_key<membership>(std::tuple<std::string, std::string>("ada", "acme")) == prefix + "ada:acme");
  STATIC_REQUIRE(std::is_same_v<ormkit::primary_key_t<membership>, std::tuple<std::string, std::string>>);
}

TEST_CASE("cache_key renders blob and unsigned keys", "[cache_key]") {
  const stored_file f{{std::byte{0x00}, std::byte{0xab}, std::byte{0x3a}, std::byte{0xff}}, 10};
  CHECK(ormkit::cache_key_of(f) == "ormkit:files:" + hex16(ormkit::schema_hash_v<stored_file>) + ":00ab3aff");
  CHECK(ormkit::cache_key<stored_file>(f.digest) == ormkit::cache_key_of(f));

  // Past the int64 storage range, yet each value keeps its own key.
  const auto max = std::numeric_limits<std::uint64_t>::max();
  CHECK(ormkit::cache_key<counter>(max) ==
        "ormkit:counters:" + hex16(ormkit::schema_hash_v<counter>) + ":18446744073709551615");
}

TEST_CASE("cache_key escapes separators so distinct keys never collide", "[cache_key]") {
  const std::string prefix = "ormkit:memberships:" + hex16(ormkit::schema_hash_v<membership>) + ":";
  CHECK(ormkit::cache_key<membership>({"a:b", "c"}) == prefix + "a\\:b:c");
  CHECK(ormkit::cache_key<membership>({"a", "b:c"}) == prefix + "a:b\\:c");
  CHECK(ormkit::cache_key<membership>({"a\\", "b"}) == prefix + "a\\\\:b");
  CHECK(ormkit::cache_key<membership>({"a", "\\b"}) == prefix + "a:\\\\b");
  CHECK(ormkit::cache_key<membership>({"a\\", ":b"}) == prefix + "a\\\\:\\:b");
  CHECK(ormkit::cache_key<membership>({"a\\:", "b"}) == prefix + "a\\\\\\::b");
  CHECK(ormkit::cache_key<membership>({"", ""}) == prefix + ":");

  // Exhaustively: every pair of strings up to 3 bytes over an alphabet of the
  // separator, the escape, a digit and a letter gets its own key, and the key
  // decodes back to the pair.
  const char alphabet[] = {'a', ':', '\\', '0'};
  std::vector<std::string> strings{""};
  for (std::size_t begin = 0, length = 1; length <= 3; ++length) {
    const std::size_t end = strings.size();
    for (std::size_t i = begin; i < end; ++i)
      for (char c : alphabet) strings.push_back(strings[i] + c);
    begin = end;
  }
  REQUIRE(strings.size() == 85);
  std::set<std::string> keys;
  std::size_t undecodable = 0;
  for (const auto& org : strings) {
    for (const auto& login : strings) {
      const std::string key = ormkit::cache_key<membership>({org, login});
      keys.insert(key);
      const auto parts = decode(key);
      if (parts.size() != 5 || parts[3] != org || parts[4] != login) ++undecodable;
    }
  }
  CHECK(undecodable == 0);
  CHECK(keys.size() == strings.size() * strings.size());
}

TEST_CASE("cache_key escapes the namespace as one segment", "[cache_key]") {
  const std::string hash = hex16(ormkit::schema_hash_v<user>);
  CHECK(ormkit::cache_key<user>(1, "app:v2") == "app\\:v2:users:" + hash + ":1");
  CHECK(ormkit::cache_key<user>(1, "") == ":users:" + hash + ":1");
  CHECK(ormkit::cache_key<user>(1, "a\\") != ormkit::cache_key<user>(1, "a"));
}

TEST_CASE("schema_hash_v changes when a column type or nullability changes", "[cache_key]") {
  STATIC_REQUIRE(ormkit::schema_hash_v<reading_v1> != ormkit::schema_hash_v<reading_v2>);
  STATIC_REQUIRE(ormkit::schema_hash_v<reading_v1> != ormkit::schema_hash_v<reading_v3>);
  STATIC_REQUIRE(ormkit::schema_hash_v<reading_v2> != ormkit::schema_hash_v<reading_v3>);
  STATIC_REQUIRE(ormkit::schema_hash_v<reading_v1> == ormkit::schema_hash_v<reading_again>);

  const std::string v1 = ormkit::cache_key<reading_v1>(7);
  const std::string v2 = ormkit::cache_key<reading_v2>(7);
  const std::string v3 = ormkit::cache_key<reading_v3>(7);
  CHECK(v1 != v2);
  CHECK(v1 != v3);
  CHECK(v2 != v3);
  CHECK(v1 == ormkit::cache_key<reading_again>(7));
  CHECK(v1.rfind("ormkit:readings:", 0) == 0);
  CHECK(v1.size() == v2.size());  // only the hash differs
}

TEST_CASE("cache_key_builder composes segments of any column type", "[cache_key]") {
  ormkit::cache_key_builder b;
  b.add("q")
      .add("text"s)
      .add(std::string_view("a:b\\"))
      .add(42)
      .add(std::int64_t{-9})
      .add(std::numeric_limits<std::uint64_t>::max())
      .add(true)
      .add(0.1)
      .add(-0.0)
      .add(1e300)
      .add(2.5f)
      .add(std::optional<int>{})
      .add(std::optional<int>{5})
      .add(std::optional<std::string>{"\\0"})
      .add(static_cast<const char*>(nullptr))
      .add(std::vector<std::byte>{std::byte{0x0f}, std::byte{0xf0}})
      .add(shade::dark);
  CHECK(b.str() ==
        "ormkit:q:text:a\\:b\\\\:42:-9:18446744073709551615:1:0.1:0:1e+300:2.5:\\0:5:\\\\0:\\0:0ff0:dark");

  const auto parts = decode(b.str());
  REQUIRE(parts.size() == 18);
  CHECK(parts[3] == "a:b\\");
  CHECK(parts[12] == std::nullopt);                   // NULL
  CHECK(parts[14] == std::optional<std::string>("\\0"));  // the text "\0" is not NULL
  CHECK(ormkit::cache_key_builder().add(-0.0).str() == ormkit::cache_key_builder().add(0.0).str());
}

TEST_CASE("cache_key_builder add_entity gives the prefix of the entity's keys", "[cache_key]") {
  CHECK(ormkit::cache_key_builder().add_entity<user>().add(42).str() == ormkit::cache_key<user>(42));
  CHECK(ormkit::cache_key_builder("app").add_entity<membership>().add("acme").add("ada").str() ==
        ormkit::cache_key<membership>({"acme", "ada"}, "app"));

  ormkit::cache_key_builder b("app");
  b.add_entity<user>().add("active");
  const std::string key = std::move(b).str();
  CHECK(key == "app:users:" + hex16(ormkit::schema_hash_v<user>) + ":active");
}

TEST_CASE("cache_key_builder throws for a value that has no stored form", "[cache_key]") {
  ormkit::cache_key_builder b;
  try {
    b.add(shade::unnamed);
    FAIL("no exception");
  } catch (const ormkit::exception& e) {
    CHECK(e.error().is(ormkit::errc::invalid_argument));
    CHECK(e.error().message == "cache key: enum value 2 has no name in ormkit_enum_names");
  }
}

TEST_CASE("cache_key_of needs an entity", "[cache_key]") {
  STATIC_REQUIRE(keyable<user>);
  STATIC_REQUIRE(!keyable<std::string>);
}
