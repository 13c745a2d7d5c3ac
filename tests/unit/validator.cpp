// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// ormkit::validate / check / validator<T>: every rule through an entity, the
// exact messages, the order of the collected violations, secrets, NULL,
// entity rules, and patterns (compiled once per process, shared between
// entities and threads, invalid ones reported with their column).

#include <ormkit/validator.hpp>

#include <ormkit/column_traits.hpp>
#include <ormkit/error.hpp>
#include <ormkit/rules/pattern.hpp>
#include <ormkit/value.hpp>

#include "../support/catch.hpp"

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <latch>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace {

using namespace std::string_literals;
using ormkit::violation;

constexpr auto has_digit = [](const std::string& s) { return s.find_first_of("0123456789") != std::string::npos; };

constexpr auto multiple_of_5 = [](int v) -> std::optional<std::string> {
  if (v % 5 == 0) return std::nullopt;
  return "must be a multiple of 5";
};

struct account {
  std::int64_t id{};
  std::string email;
  std::string name;
  int age{};
  std::string code;
  std::string role;
  std::string token;
  std::optional<std::string> nickname;
  std::optional<std::string> bio;
  std::string password;
  int score{};

  friend constexpr auto ormkit_describe(std::type_identity<account>) {
    using namespace ormkit;
    return describe<account>("accounts")
        .column(&account::id, "id", primary_key, auto_increment)
        .column(&account::email, "email", unique, rules::email{})
        .column(&account::name, "name", rules::not_empty{}, rules::length{1, 8})
        .column(&account::age, "age", rules::range{0, 150})
        .column(&account::code, "code", rules::pattern{"[A-Z]{3}-[0-9]{2}"})
        .column(&account::role, "role", rules::one_of{"admin", "member"})
        .column(&account::token, "token", rules::uuid{})
        .column(&account::nickname, "nickname", rules::length{2, 10})
        .column(&account::bio, "bio", rules::not_empty{})
        .column(&account::password, "password", secret, rules::length{8, 64},
                rules::custom(has_digit, "has_digit", "must contain a digit"))
        .column(&account::score, "score", rules::custom(multiple_of_5, "multiple_of_5"))
        .rule("adult_admin", [](const account& a) { return a.role != "admin" || a.age >= 18; },
              "an admin must be 18 or older")
        .rule("nickname_differs", [](const account& a) -> std::optional<std::string> {
          if (a.nickname && *a.nickname == a.name) return "nickname must differ from name (both \"" + a.name + "\")";
          return std::nullopt;
        });
  }
};

auto valid_account() -> account {
  return {1,
          "ada@example.com",
          "ada",
          36,
          "ABC-12",
          "admin",
          "123e4567-e89b-12d3-a456-426614174000",
          std::nullopt,
          "mathematician",
          "s3cret-passphrase",
          10};
}

auto only(const account& a) -> violation {
  auto list = ormkit::validate(a);
  REQUIRE(list.size() == 1);
  return list.front();
}

// Numeric, unsigned, blob and optional numeric columns: how values are shown.
struct meter {
  std::int64_t id{};
  std::uint32_t reading{};
  std::uint64_t total{};
  double ratio{};
  std::vector<std::byte> tag;
  std::optional<int> level;

  friend constexpr auto ormkit_describe(std::type_identity<meter>) {
    using namespace ormkit;
    return describe<meter>("meters")
        .column(&meter::id, "id", primary_key)
        .column(&meter::reading, "reading", rules::range{-10, 1000})
        .column(&meter::total, "total", rules::range{0, 100})
        .column(&meter::ratio, "ratio", rules::range{0.0, 1.0})
        .column(&meter::tag, "tag", rules::length{1, 4})
        .column(&meter::level, "level", rules::range{1, 5});
  }
};

auto valid_meter() -> meter { return {1, 5, 50, 0.5, {std::byte{1}}, std::nullopt}; }

struct plain {
  std::int64_t id{};
  std::string anything;

  friend constexpr auto ormkit_describe(std::type_identity<plain>) {
    return ormkit::describe<plain>("plains")
        .column(&plain::id, "id", ormkit::primary_key)
        .column(&plain::anything, "anything");
  }
};

// slug_once and sku_threads are each used by one test case only, so that test
// sees the first compilation of their patterns.
struct slug_once {
  std::int64_t id{};
  std::string slug;

  friend constexpr auto ormkit_describe(std::type_identity<slug_once>) {
    return ormkit::describe<slug_once>("slugs_once")
        .column(&slug_once::id, "id", ormkit::primary_key)
        .column(&slug_once::slug, "slug", ormkit::rules::pattern{"[a-z]+(-[a-z]+)*"});
  }
};

struct sku_threads {
  std::int64_t id{};
  std::string sku;
  std::optional<std::string> barcode;

  friend constexpr auto ormkit_describe(std::type_identity<sku_threads>) {
    using namespace ormkit;
    return describe<sku_threads>("skus_threads")
        .column(&sku_threads::id, "id", primary_key)
        .column(&sku_threads::sku, "sku", rules::pattern{"[A-Z]{2}[0-9]{4}"})
        .column(&sku_threads::barcode, "barcode", rules::pattern{"[0-9]{13}"});
  }
};

struct slug_long {
  std::int64_t id{};
  std::string slug;

  friend constexpr auto ormkit_describe(std::type_identity<slug_long>) {
    return ormkit::describe<slug_long>("slugs_long")
        .column(&slug_long::id, "id", ormkit::primary_key)
        .column(&slug_long::slug, "slug", ormkit::rules::pattern{"[a-z]+"});
  }
};

struct bad_pattern {
  std::int64_t id{};
  std::string code;

  friend constexpr auto ormkit_describe(std::type_identity<bad_pattern>) {
    return ormkit::describe<bad_pattern>("bad_patterns")
        .column(&bad_pattern::id, "id", ormkit::primary_key)
        .column(&bad_pattern::code, "code", ormkit::rules::pattern{"[A-Z"});
  }
};

struct bad_pattern_prepared {
  std::int64_t id{};
  std::string code;

  friend constexpr auto ormkit_describe(std::type_identity<bad_pattern_prepared>) {
    return ormkit::describe<bad_pattern_prepared>("bad_patterns_prepared")
        .column(&bad_pattern_prepared::id, "id", ormkit::primary_key)
        .column(&bad_pattern_prepared::code, "code", ormkit::rules::pattern{"(ab"});
  }
};

// Secret columns whose rules would otherwise measure the value.
struct vault {
  std::int64_t id{};
  std::string pin;
  std::optional<std::string> recovery;
  std::vector<std::byte> key;

  friend constexpr auto ormkit_describe(std::type_identity<vault>) {
    using namespace ormkit;
    return describe<vault>("vaults")
        .column(&vault::id, "id", primary_key)
        .column(&vault::pin, "pin", secret, rules::pattern{"[0-9]{4,8}"})
        .column(&vault::recovery, "recovery", secret, rules::length{12, 32})
        .column(&vault::key, "key", secret, rules::length{16, 16});
  }
};

auto valid_vault() -> vault { return {1, "1234", std::nullopt, std::vector<std::byte>(16)}; }

// Two entities with the same expression text share one compiled regex.
struct hex_code {
  std::int64_t id{};
  std::string code;

  friend constexpr auto ormkit_describe(std::type_identity<hex_code>) {
    return ormkit::describe<hex_code>("hex_codes")
        .column(&hex_code::id, "id", ormkit::primary_key)
        .column(&hex_code::code, "code", ormkit::rules::pattern{"[a-f]{4}"});
  }
};

struct hex_tag {
  std::int64_t id{};
  std::optional<std::string> tag;

  friend constexpr auto ormkit_describe(std::type_identity<hex_tag>) {
    return ormkit::describe<hex_tag>("hex_tags")
        .column(&hex_tag::id, "id", ormkit::primary_key)
        .column(&hex_tag::tag, "tag", ormkit::rules::pattern{"[a-f]{4}"});
  }
};

// A rule that throws an ormkit::exception: the validator names the column.
constexpr auto table_lookup = [](int) -> bool {
  throw ormkit::exception(ormkit::error(ormkit::errc::invalid_argument, "lookup table not loaded"));
};

struct gauge {
  std::int64_t id{};
  int level{};

  friend constexpr auto ormkit_describe(std::type_identity<gauge>) {
    return ormkit::describe<gauge>("gauges")
        .column(&gauge::id, "id", ormkit::primary_key)
        .column(&gauge::level, "level", ormkit::rules::custom(table_lookup, "in_table"));
  }
};

// A text enum: shown by name; a value without a name cannot be stored.
enum class shade { light, dark };

constexpr auto ormkit_enum_names(std::type_identity<shade>) {
  return std::array{std::pair{shade::light, std::string_view("light")},
                    std::pair{shade::dark, std::string_view("dark")}};
}

constexpr auto not_dark = [](shade s) { return s != shade::dark; };

struct swatch {
  std::int64_t id{};
  shade tone{};

  friend constexpr auto ormkit_describe(std::type_identity<swatch>) {
    return ormkit::describe<swatch>("swatches")
        .column(&swatch::id, "id", ormkit::primary_key)
        .column(&swatch::tone, "tone", ormkit::rules::custom(not_dark, "not_dark", "must not be dark"));
  }
};

auto compilations() -> std::size_t { return ormkit::detail::pattern_compilations().load(); }

}  // namespace

TEST_CASE("validate returns nothing for a valid entity", "[validator]") {
  const account a = valid_account();
  CHECK(ormkit::validate(a).empty());
  CHECK(ormkit::check(a).has_value());
  CHECK(ormkit::validate(plain{1, ""}).empty());  // no rules at all
}

TEST_CASE("validate reports each column rule with subject and problem and value", "[validator]") {
  account a = valid_account();

  SECTION("email") {
    a.email = "x@";
    CHECK(only(a) == violation{"email", "email", "accounts.email: must be a valid e-mail address (got \"x@\")"});
  }
  SECTION("not_empty and length, in the order given") {
    a.name = "";
    CHECK(ormkit::validate(a) ==
          std::vector<violation>{
              {"name", "not_empty", "accounts.name: must not be empty (got \"\")"},
              {"name", "length", "accounts.name: must be between 1 and 8 characters long, not 0 (got \"\")"}});
  }
  SECTION("length") {
    a.name = "augustaada";
    CHECK(only(a) == violation{"name", "length",
                               "accounts.name: must be between 1 and 8 characters long, not 10 (got \"augustaada\")"});
  }
  SECTION("range") {
    a.age = 200;
    CHECK(only(a) == violation{"age", "range", "accounts.age: must be between 0 and 150 (got 200)"});
    a.role = "member";  // an admin under 18 would also break adult_admin
    a.age = -1;
    CHECK(only(a).message == "accounts.age: must be between 0 and 150 (got -1)");
  }
  SECTION("pattern matches the whole value") {
    a.code = "abc-12";
    CHECK(only(a) == violation{"code", "pattern",
                               "accounts.code: must match the pattern \"[A-Z]{3}-[0-9]{2}\" (got \"abc-12\")"});
    a.code = "XABC-12";  // contains a match, but is not one
    CHECK(only(a).rule == "pattern");
    a.code = "ABC-123";
    CHECK(only(a).rule == "pattern");
  }
  SECTION("one_of") {
    a.role = "owner";
    CHECK(only(a) == violation{"role", "one_of", "accounts.role: must be one of admin, member (got \"owner\")"});
  }
  SECTION("uuid") {
    a.token = "not-a-uuid";
    CHECK(only(a) ==
          violation{"token", "uuid", "accounts.token: must be a UUID (8-4-4-4-12 hex digits) (got \"not-a-uuid\")"});
  }
  SECTION("custom returning the problem") {
    a.score = 12;
    CHECK(only(a) == violation{"score", "multiple_of_5", "accounts.score: must be a multiple of 5 (got 12)"});
  }
  SECTION("custom returning bool, on a secret column") {
    a.password = "no-digits-here";
    CHECK(only(a) == violation{"password", "has_digit", "accounts.password: must contain a digit"});
  }
}

TEST_CASE("validate checks the value inside a std::optional and skips NULL", "[validator]") {
  account a = valid_account();

  a.nickname = std::nullopt;
  CHECK(ormkit::validate(a).empty());

  a.nickname = "x";  // shown as the value, not as an optional
  CHECK(only(a) == violation{"nickname", "length",
                             "accounts.nickname: must be between 2 and 10 characters long, not 1 (got \"x\")"});
  a.nickname = "lovelace";
  CHECK(ormkit::validate(a).empty());

  meter m = valid_meter();
  m.level = std::nullopt;
  CHECK(ormkit::validate(m).empty());
  m.level = 9;
  CHECK(ormkit::validate(m) ==
        std::vector<violation>{{"level", "range", "meters.level: must be between 1 and 5 (got 9)"}});
}

TEST_CASE("validate lets rules::not_empty reject NULL", "[validator]") {
  account a = valid_account();
  a.bio = std::nullopt;
  CHECK(only(a) == violation{"bio", "not_empty", "accounts.bio: must not be empty (got null)"});
  a.bio = "";
  CHECK(only(a) == violation{"bio", "not_empty", "accounts.bio: must not be empty (got \"\")"});
}

TEST_CASE("validate never shows the value of a secret column", "[validator]") {
  account a = valid_account();
  a.password = "hunter2";
  // Not even the measured length: ", not 7" would tell how long the password is.
  CHECK(only(a) == violation{"password", "length", "accounts.password: must be between 8 and 64 characters long"});

  a.password = "hunter";
  auto status = ormkit::check(a);
  REQUIRE(!status);
  CHECK(status.error().violations.size() == 2);
  CHECK(status.error().message.find("hunter") == std::string::npos);
  CHECK(status.error().describe().find("hunter") == std::string::npos);
  for (const auto& v : status.error().violations) CHECK(v.message.find("(got") == std::string::npos);
}

TEST_CASE("validate leaves out what a rule measured from a secret value", "[validator]") {
  vault v = valid_vault();
  CHECK(ormkit::validate(v).empty());

  SECTION("pattern mismatch") {
    v.pin = "12a4";
    CHECK(ormkit::validate(v) ==
          std::vector<violation>{{"pin", "pattern", "vaults.pin: must match the pattern \"[0-9]{4,8}\""}});
  }
  SECTION("pattern input too long: no byte count") {
    v.pin = std::string(ormkit::max_pattern_input + 1, '1');
    const auto list = ormkit::validate(v);
    REQUIRE(list.size() == 1);
    CHECK(list[0].message == "vaults.pin: is too long to match the pattern \"[0-9]{4,8}\" (at most 1024 bytes)");
  }
  SECTION("length of text inside an optional, and of a blob") {
    v.recovery = "short";
    v.key.resize(3);
    CHECK(ormkit::validate(v) ==
          std::vector<violation>{{"recovery", "length", "vaults.recovery: must be between 12 and 32 characters long"},
                                 {"key", "length", "vaults.key: must have between 16 and 16 elements"}});
  }
}

TEST_CASE("validate runs entity rules after column rules in both forms", "[validator]") {
  account a = valid_account();

  SECTION("a rule returning bool uses the rule's message") {
    a.age = 17;
    CHECK(only(a) == violation{"", "adult_admin", "accounts: an admin must be 18 or older"});
  }
  SECTION("a rule returning std::optional<std::string> gives its own message") {
    a.nickname = "ada";
    CHECK(only(a) == violation{"", "nickname_differs", "accounts: nickname must differ from name (both \"ada\")"});
  }
  SECTION("entity rules run even when column rules failed, and come last") {
    a.age = 170;
    a.name = "123456789";
    a.nickname = "123456789";
    CHECK(ormkit::validate(a) ==
          std::vector<violation>{
              {"name", "length",
               "accounts.name: must be between 1 and 8 characters long, not 9 (got \"123456789\")"},
              {"age", "range", "accounts.age: must be between 0 and 150 (got 170)"},
              {"", "nickname_differs", "accounts: nickname must differ from name (both \"123456789\")"}});
  }
}

TEST_CASE("validate collects all violations in declaration order", "[validator]") {
  account a = valid_account();
  a.role = "member";  // so that only the optional-form entity rule can fire
  a.score = 3;
  a.password = "pw";
  a.bio = std::nullopt;
  a.nickname = "x";
  a.token = "t";
  a.role = "guest";
  a.code = "";
  a.age = 151;
  a.name = "";
  a.email = "@";

  const std::vector<violation> expected{
      {"email", "email", "accounts.email: must be a valid e-mail address (got \"@\")"},
      {"name", "not_empty", "accounts.name: must not be empty (got \"\")"},
      {"name", "length", "accounts.name: must be between 1 and 8 characters long, not 0 (got \"\")"},
      {"age", "range", "accounts.age: must be between 0 and 150 (got 151)"},
      {"code", "pattern", "accounts.code: must match the pattern \"[A-Z]{3}-[0-9]{2}\" (got \"\")"},
      {"role", "one_of", "accounts.role: must be one of admin, member (got \"guest\")"},
      {"token", "uuid", "accounts.token: must be a UUID (8-4-4-4-12 hex digits) (got \"t\")"},
      {"nickname", "length", "accounts.nickname: must be between 2 and 10 characters long, not 1 (got \"x\")"},
      {"bio", "not_empty", "accounts.bio: must not be empty (got null)"},
      {"password", "length", "accounts.password: must be between 8 and 64 characters long"},
      {"password", "has_digit", "accounts.password: must contain a digit"},
      {"score", "multiple_of_5", "accounts.score: must be a multiple of 5 (got 3)"},
  };
  CHECK(ormkit::validate(a) == expected);
}

TEST_CASE("check folds violations into errc::validation_failed with a summary", "[validator]") {
  account a = valid_account();
  a.email = "x@";
  a.age = 200;

  const ormkit::status s = ormkit::check(a);
  REQUIRE(!s.has_value());
  CHECK(s.error().is(ormkit::errc::validation_failed));
  CHECK(s.error().message ==
        "accounts: 2 violations: accounts.email: must be a valid e-mail address (got \"x@\"); "
        "accounts.age: must be between 0 and 150 (got 200)");
  CHECK(s.error().violations == ormkit::validate(a));
  CHECK_THROWS_AS(s.value(), ormkit::exception);

  a.age = 20;
  const ormkit::status one = ormkit::check(a);
  REQUIRE(!one);
  CHECK(one.error().message == "accounts: 1 violation: accounts.email: must be a valid e-mail address (got \"x@\")");
  CHECK(one.error().describe() ==
        "[ormkit.validation_failed] accounts: 1 violation: accounts.email: must be a valid e-mail address (got \"x@\")");
}

TEST_CASE("check spells out the first 8 violations and counts the rest", "[validator]") {
  account a = valid_account();
  a.email = "@";
  a.name = "";
  a.age = 151;
  a.code = "";
  a.role = "guest";
  a.token = "t";
  a.nickname = "x";
  a.bio = std::nullopt;
  a.password = "pw";
  a.score = 3;

  const ormkit::status s = ormkit::check(a);
  REQUIRE(!s);
  REQUIRE(s.error().violations.size() == 12);
  std::string expected = "accounts: 12 violations: ";
  for (std::size_t i = 0; i < 8; ++i) expected += (i ? "; " : "") + s.error().violations[i].message;
  expected += "; and 4 more";
  CHECK(s.error().message == expected);
}

TEST_CASE("validate shows values as stored and cut at 64 bytes on one line", "[validator]") {
  account a = valid_account();

  a.email = std::string(100, 'e');
  CHECK(only(a).message == "accounts.email: must be a valid e-mail address (got \"" + std::string(64, 'e') +
                               "\"... (100 bytes))");

  a.email = "a\nb\"c";
  CHECK(only(a).message == "accounts.email: must be a valid e-mail address (got \"a\\x0ab\\\"c\")");
}

TEST_CASE("validate shows unsigned and real and blob values", "[validator]") {
  meter m = valid_meter();

  SECTION("unsigned against a negative lower bound") {
    m.reading = 4000000000u;
    CHECK(ormkit::validate(m) == std::vector<violation>{
                                     {"reading", "range", "meters.reading: must be between -10 and 1000 (got 4000000000)"}});
  }
  SECTION("a uint64 past the int64 storage range is still shown") {
    m.total = std::numeric_limits<std::uint64_t>::max();
    CHECK(ormkit::validate(m) ==
          std::vector<violation>{
              {"total", "range", "meters.total: must be between 0 and 100 (got 18446744073709551615)"}});
  }
  SECTION("NaN") {
    m.ratio = std::numeric_limits<double>::quiet_NaN();
    CHECK(ormkit::validate(m) ==
          std::vector<violation>{{"ratio", "range", "meters.ratio: must be between 0 and 1 (got nan)"}});
    m.ratio = 1.25;
    CHECK(ormkit::validate(m).at(0).message == "meters.ratio: must be between 0 and 1 (got 1.25)");
  }
  SECTION("blob length counts bytes and shows hex") {
    m.tag = {std::byte{1}, std::byte{2}, std::byte{3}, std::byte{4}, std::byte{0xff}};
    CHECK(ormkit::validate(m) ==
          std::vector<violation>{
              {"tag", "length", "meters.tag: must have between 1 and 4 elements, not 5 (got x'01020304ff')"}});
  }
}

TEST_CASE("validator<T> is a nameable object a manager can hold", "[validator]") {
  STATIC_REQUIRE(std::is_same_v<ormkit::validator<account>::entity_type, account>);
  STATIC_REQUIRE(std::is_nothrow_default_constructible_v<ormkit::validator<account>>);
  STATIC_REQUIRE(std::is_trivially_copyable_v<ormkit::validator<account>>);

  const ormkit::validator<account> v;
  account a = valid_account();
  CHECK(v(a).has_value());
  CHECK(v.check(a).has_value());
  a.age = 200;
  CHECK(v.validate(a) == ormkit::validate(a));
  CHECK(v(a).error().message == ormkit::check(a).error().message);
  CHECK(v.check(a).error().violations == ormkit::validate(a));
}

TEST_CASE("validate compiles each pattern once however often it runs", "[validator][pattern]") {
  const std::size_t before = compilations();
  std::size_t rejected = 0;
  for (int i = 0; i < 1000; ++i) {
    const slug_once s{i, i % 2 == 0 ? "hello-world" : "Hello World"};
    rejected += ormkit::validate(s).size();
  }
  CHECK(rejected == 500);
  CHECK(compilations() - before == 1);

  ormkit::validator<slug_once>::prepare();  // already compiled: nothing to do
  CHECK(compilations() - before == 1);
}

TEST_CASE("validate shares compiled patterns safely between threads", "[validator][pattern]") {
  // Eight threads race to the first use of two patterns, then keep validating.
  constexpr int threads = 8;
  constexpr int rounds = 500;
  const std::size_t before = compilations();
  std::atomic<int> wrong{0};
  std::latch start(threads);
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      start.arrive_and_wait();
      for (int i = 0; i < rounds; ++i) {
        const bool good = (i + t) % 3 != 0;
        const sku_threads s{i, good ? "AB1234" : "ab1234", good ? std::optional<std::string>("4006381333931")
                                                                 : std::optional<std::string>("12")};
        const auto list = ormkit::validate(s);
        const bool as_expected =
            good ? list.empty()
                 : list == std::vector<violation>{
                               {"sku", "pattern",
                                "skus_threads.sku: must match the pattern \"[A-Z]{2}[0-9]{4}\" (got \"ab1234\")"},
                               {"barcode", "pattern",
                                "skus_threads.barcode: must match the pattern \"[0-9]{13}\" (got \"12\")"}};
        if (!as_expected) wrong.fetch_add(1);
      }
    });
  }
  for (auto& th : pool) th.join();
  CHECK(wrong.load() == 0);
  CHECK(compilations() - before == 2);
}

TEST_CASE("validate reports over-long input instead of handing it to std::regex", "[validator][pattern]") {
  CHECK(ormkit::validate(slug_long{1, std::string(ormkit::max_pattern_input, 'a')}).empty());

  const auto list = ormkit::validate(slug_long{1, std::string(ormkit::max_pattern_input + 1, 'a')});
  REQUIRE(list.size() == 1);
  CHECK(list[0].rule == "pattern");
  CHECK(list[0].message == "slugs_long.slug: is too long to match the pattern \"[a-z]+\" (1025 bytes, at most 1024) (got \"" +
                               std::string(64, 'a') + "\"... (1025 bytes))");

  // libstdc++ would overflow the stack matching this (GCC bug 86164).
  CHECK(ormkit::validate(slug_long{1, std::string(200000, 'a')}).size() == 1);
}

TEST_CASE("validate throws ormkit::exception naming column and pattern of an invalid pattern", "[validator][pattern]") {
  const std::string prefix =
      "bad_patterns.code: rules::pattern \"[A-Z\" is not a valid ECMAScript regular expression (";
  for (int attempt = 0; attempt < 2; ++attempt) {  // reported on every use, not only the first
    try {
      (void)ormkit::validate(bad_pattern{1, "ABC"});
      FAIL("no exception");
    } catch (const ormkit::exception& e) {
      CHECK(e.error().is(ormkit::errc::invalid_argument));
      CHECK(e.error().message.rfind(prefix, 0) == 0);
      CHECK(e.error().message.back() == ')');
      CHECK(std::string(e.what()).rfind("[ormkit.invalid_argument] " + prefix, 0) == 0);
    }
  }
  CHECK_THROWS_AS(ormkit::check(bad_pattern{1, "ABC"}), ormkit::exception);
}

TEST_CASE("validate shares one compiled pattern between entities with the same expression", "[validator][pattern]") {
  const std::size_t before = compilations();
  ormkit::validator<hex_code>::prepare();
  CHECK(compilations() - before == 1);
  ormkit::validator<hex_tag>::prepare();
  CHECK(ormkit::validate(hex_tag{1, "beef"}).empty());
  CHECK(ormkit::validate(hex_tag{1, std::nullopt}).empty());
  CHECK(ormkit::validate(hex_code{1, "cafe"}).empty());
  CHECK(ormkit::validate(hex_code{1, "CAFE"}) ==
        std::vector<violation>{
            {"code", "pattern", "hex_codes.code: must match the pattern \"[a-f]{4}\" (got \"CAFE\")"}});
  CHECK(compilations() - before == 1);
}

TEST_CASE("validate names the column when a rule throws ormkit::exception", "[validator]") {
  try {
    (void)ormkit::validate(gauge{1, 3});
    FAIL("no exception");
  } catch (const ormkit::exception& e) {
    CHECK(e.error().is(ormkit::errc::invalid_argument));
    CHECK(e.error().message == "gauges.level: lookup table not loaded");
    CHECK(std::string(e.what()) == "[ormkit.invalid_argument] gauges.level: lookup table not loaded");
  }
  CHECK_NOTHROW(ormkit::validator<gauge>::prepare());  // custom rules have nothing to prepare
}

TEST_CASE("validate shows a text enum by name, and an unnamed value cannot be encoded", "[validator]") {
  CHECK(ormkit::validate(swatch{1, shade::light}).empty());
  CHECK(ormkit::validate(swatch{1, shade::dark}) ==
        std::vector<violation>{{"tone", "not_dark", "swatches.tone: must not be dark (got \"dark\")"}});

  // encode_view goes through to_value, so no path stores an unnamed value as NULL.
  const auto unnamed = static_cast<shade>(7);
  ormkit::value scratch;
  const auto viewed = ormkit::encode_view(unnamed, scratch);
  REQUIRE(!viewed);
  CHECK(viewed.error().is(ormkit::errc::invalid_argument));
  CHECK(viewed.error().message == "enum value 7 has no name in ormkit_enum_names");
  CHECK(!ormkit::encode(unnamed));

  const std::optional<shade> optional_unnamed = unnamed;
  CHECK(!ormkit::encode_view(optional_unnamed, scratch));
  const std::optional<shade> none;
  const auto null_view = ormkit::encode_view(none, scratch);
  REQUIRE(null_view);
  CHECK(std::holds_alternative<std::monostate>(*null_view));

  const auto named = ormkit::encode_view(shade::dark, scratch);
  REQUIRE(named);
  CHECK(std::get<std::string_view>(*named) == "dark");
}

TEST_CASE("validator<T>::prepare surfaces an invalid pattern before any validation", "[validator][pattern]") {
  try {
    ormkit::validator<bad_pattern_prepared>::prepare();
    FAIL("no exception");
  } catch (const ormkit::exception& e) {
    CHECK(e.error().is(ormkit::errc::invalid_argument));
    CHECK(e.error().message.rfind(
              "bad_patterns_prepared.code: rules::pattern \"(ab\" is not a valid ECMAScript regular expression (", 0) ==
          0);
  }
  CHECK_NOTHROW(ormkit::validator<slug_long>::prepare());
}
