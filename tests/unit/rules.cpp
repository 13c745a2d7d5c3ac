// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// The column rules on their own: what each accepts, what it rejects and the
// exact problem text, with and without the measured value (check_redacted).
// Rules on whole entities (subject, value, NULL handling, secrets, pattern
// compilation counts and threads) are tested in validator.cpp.

#include <ormkit/rules.hpp>

#include <ormkit/error.hpp>
#include <ormkit/rules/pattern.hpp>

#include "../support/catch.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace {

using namespace std::string_literals;
namespace rules = ormkit::rules;

auto accepts(const auto& rule, const auto& v) -> bool { return !rule.check(v).has_value(); }

auto problem(const auto& rule, const auto& v) -> std::string {
  auto p = rule.check(v);
  return p ? *p : "<accepted>";
}

auto redacted(const auto& rule, const auto& v) -> std::string {
  auto p = rule.check_redacted(v);
  return p ? *p : "<accepted>";
}

// Whether a rule type offers check_redacted for a value type.
template <class Rule, class V>
constexpr bool has_redacted = requires(const Rule& r, const V& v) { r.check_redacted(v); };

}  // namespace

TEST_CASE("rules: every rule carries rule_tag and a stable rule name", "[rules]") {
  STATIC_REQUIRE(std::is_base_of_v<rules::rule_tag, rules::not_empty>);
  STATIC_REQUIRE(std::is_base_of_v<rules::rule_tag, rules::length>);
  STATIC_REQUIRE(std::is_base_of_v<rules::rule_tag, rules::range<int>>);
  STATIC_REQUIRE(std::is_base_of_v<rules::rule_tag, rules::email>);
  STATIC_REQUIRE(std::is_base_of_v<rules::rule_tag, rules::pattern>);
  STATIC_REQUIRE(std::is_base_of_v<rules::rule_tag, rules::one_of<int, 2>>);
  STATIC_REQUIRE(std::is_base_of_v<rules::rule_tag, rules::uuid>);
  STATIC_REQUIRE(std::is_base_of_v<rules::rule_tag, rules::custom<bool (*)(int)>>);

  STATIC_REQUIRE(rules::not_empty::rule_name == "not_empty");
  STATIC_REQUIRE(rules::length::rule_name == "length");
  STATIC_REQUIRE(rules::range<int>::rule_name == "range");
  STATIC_REQUIRE(rules::email::rule_name == "email");
  STATIC_REQUIRE(rules::pattern::rule_name == "pattern");
  STATIC_REQUIRE(rules::one_of<int, 1>::rule_name == "one_of");
  STATIC_REQUIRE(rules::uuid::rule_name == "uuid");
  STATIC_REQUIRE(rules::not_empty::checks_null);
}

TEST_CASE("rules::not_empty rejects empty strings and containers", "[rules]") {
  const rules::not_empty r{};
  CHECK(accepts(r, "x"s));
  CHECK(accepts(r, " "s));
  CHECK(accepts(r, std::string_view("\0", 1)));  // one NUL byte is not empty
  CHECK(accepts(r, std::vector<int>{0}));
  CHECK(problem(r, ""s) == "must not be empty");
  CHECK(problem(r, std::string_view()) == "must not be empty");
  CHECK(problem(r, "") == "must not be empty");
  CHECK(problem(r, std::vector<int>{}) == "must not be empty");
}

TEST_CASE("rules::length counts UTF-8 code points between inclusive bounds", "[rules]") {
  const rules::length r{2, 4};
  CHECK(problem(r, "a"s) == "must be between 2 and 4 characters long, not 1");
  CHECK(accepts(r, "ab"s));
  CHECK(accepts(r, "abcd"s));
  CHECK(problem(r, "abcde"s) == "must be between 2 and 4 characters long, not 5");

  // Bytes would say 8, 9 and 16; code points say 4, 3 and 4.
  CHECK(accepts(r, "h\xc3\xa9l\xc3\xa9"s));                       // "hélé": 2-byte sequences
  CHECK(accepts(r, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"s));      // "日本語": 3-byte sequences
  CHECK(accepts(r, "\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80\xf0\x9f\x98\x80"s));  // 4 emoji
  CHECK(problem(r, "\xf0\x9f\x98\x80"s) == "must be between 2 and 4 characters long, not 1");

  const rules::length exact{0, 0};
  CHECK(accepts(exact, ""s));
  CHECK(problem(exact, "x"s) == "must be between 0 and 0 characters long, not 1");
}

TEST_CASE("rules::length without an upper bound says 'at least'", "[rules]") {
  const rules::length r{8, static_cast<std::size_t>(-1)};
  CHECK(accepts(r, std::string(8, 'x')));
  CHECK(accepts(r, std::string(10000, 'x')));
  CHECK(problem(r, "short"s) == "must be at least 8 characters long, not 5");
}

TEST_CASE("rules::length reports invalid UTF-8 instead of a length", "[rules]") {
  const rules::length r{0, 100};
  const char* const invalid[] = {
      "\xff",              // never valid in UTF-8
      "\x80",              // continuation byte without a lead byte
      "ab\xc3",            // truncated 2-byte sequence at the end
      "\xe6\x97",          // truncated 3-byte sequence
      "\xc3(",             // lead byte followed by a non-continuation byte
      "\xc0\xaf",          // overlong encoding of '/'
      "\xe0\x80\xaf",      // overlong 3-byte encoding
      "\xed\xa0\x80",      // UTF-16 surrogate U+D800
      "\xf4\x90\x80\x80",  // U+110000, past the last code point
      "\xf8\x88\x80\x80\x80",  // 5-byte form
  };
  for (const char* s : invalid) {
    CAPTURE(std::string_view(s));
    CHECK(problem(r, std::string(s)) == "must be valid UTF-8");
  }
  CHECK(accepts(r, "\xf4\x8f\xbf\xbf"s));  // U+10FFFF, the last code point
  CHECK(accepts(r, "\xef\xbf\xbd"s));      // U+FFFD
}

TEST_CASE("rules::length check_redacted leaves out the measured length", "[rules]") {
  const rules::length r{2, 4};
  CHECK(redacted(r, "abcde"s) == "must be between 2 and 4 characters long");
  CHECK(redacted(r, "ab"s) == "<accepted>");
  CHECK(redacted(r, "\xff"s) == "must be valid UTF-8");
  CHECK(redacted(rules::length{8, static_cast<std::size_t>(-1)}, "short"s) == "must be at least 8 characters long");
  CHECK(redacted(rules::length{1, 2}, std::vector<int>{1, 2, 3}) == "must have between 1 and 2 elements");

  // Rules whose problem never depends on the value need no redacted form.
  STATIC_REQUIRE(has_redacted<rules::length, std::string>);
  STATIC_REQUIRE(has_redacted<rules::pattern, std::string>);
  STATIC_REQUIRE(!has_redacted<rules::range<int>, int>);
  STATIC_REQUIRE(!has_redacted<rules::email, std::string>);
}

TEST_CASE("rules::length counts elements of containers", "[rules]") {
  const rules::length r{1, 2};
  CHECK(accepts(r, std::vector<int>{1}));
  CHECK(accepts(r, std::vector<std::byte>{std::byte{1}, std::byte{2}}));
  CHECK(problem(r, std::vector<int>{}) == "must have between 1 and 2 elements, not 0");
  CHECK(problem(r, std::vector<int>{1, 2, 3}) == "must have between 1 and 2 elements, not 3");
  CHECK(problem(rules::length{3, static_cast<std::size_t>(-1)}, std::vector<int>{1}) ==
        "must have at least 3 elements, not 1");
}

TEST_CASE("rules::range is inclusive and says which bounds", "[rules]") {
  const rules::range r{0, 150};
  STATIC_REQUIRE(std::is_same_v<decltype(r), const rules::range<int>>);
  CHECK(accepts(r, 0));
  CHECK(accepts(r, 150));
  CHECK(accepts(r, std::int64_t{42}));
  CHECK(problem(r, -1) == "must be between 0 and 150");
  CHECK(problem(r, 151) == "must be between 0 and 150");
  CHECK(problem(r, std::numeric_limits<std::int64_t>::min()) == "must be between 0 and 150");
  CHECK(problem(r, std::numeric_limits<std::int64_t>::max()) == "must be between 0 and 150");
}

TEST_CASE("rules::range compares signed and unsigned without wrapping", "[rules]") {
  // With the usual arithmetic conversions, -1 < 4000000000u would be false.
  const rules::range negative{-10, 10};
  CHECK(accepts(negative, 5u));
  CHECK(problem(negative, 4000000000u) == "must be between -10 and 10");
  CHECK(problem(negative, std::numeric_limits<std::uint64_t>::max()) == "must be between -10 and 10");
  CHECK(accepts(negative, std::int8_t{-10}));

  const rules::range unsigned_bounds{0u, 10u};
  CHECK(problem(unsigned_bounds, -1) == "must be between 0 and 10");
  CHECK(problem(unsigned_bounds, std::numeric_limits<std::int64_t>::min()) == "must be between 0 and 10");
  CHECK(accepts(unsigned_bounds, std::uint16_t{10}));

  const rules::range wide{std::uint64_t{0}, std::numeric_limits<std::uint64_t>::max()};
  CHECK(accepts(wide, std::numeric_limits<std::uint64_t>::max()));
  CHECK(problem(wide, -1) == "must be between 0 and 18446744073709551615");
}

TEST_CASE("rules::range on floating point rejects NaN and prints short bounds", "[rules]") {
  const rules::range r{0.5, 1.5};
  STATIC_REQUIRE(std::is_same_v<decltype(r), const rules::range<double>>);
  CHECK(accepts(r, 0.5));
  CHECK(accepts(r, 1.5f));
  CHECK(accepts(r, 1));
  CHECK(problem(r, 1.5000001) == "must be between 0.5 and 1.5");
  CHECK(problem(r, std::numeric_limits<double>::quiet_NaN()) == "must be between 0.5 and 1.5");
  CHECK(problem(r, -std::numeric_limits<double>::infinity()) == "must be between 0.5 and 1.5");

  const rules::range mixed{0, 2.5};  // deduces the common type
  STATIC_REQUIRE(std::is_same_v<decltype(mixed), const rules::range<double>>);
  CHECK(problem(mixed, 3) == "must be between 0 and 2.5");
}

TEST_CASE("rules::range prints the shortest bound that reads back exactly", "[rules]") {
  // std::to_string would print 1e-7 as 0.000000 and 0.1 + 0.2 with six digits.
  CHECK(problem(rules::range{1e-7, 1e-3}, 1.0) == "must be between 1e-07 and 0.001");
  CHECK(problem(rules::range{0.0, 0.1 + 0.2}, 1.0) == "must be between 0 and 0.30000000000000004");
  CHECK(problem(rules::range{-1e300, 1e300}, std::numeric_limits<double>::infinity()) ==
        "must be between -1e+300 and 1e+300");
  CHECK(problem(rules::range{0.1f, 0.5f}, 1) == "must be between 0.1 and 0.5");  // float bounds: float digits
  CHECK(problem(rules::range{123456789.0, 123456790.0}, 0) == "must be between 123456789 and 123456790");
}

TEST_CASE("rules::email accepts ordinary addresses", "[rules]") {
  const rules::email r{};
  const char* const valid[] = {
      "a@b.co",
      "x@example.com",
      "first.last@example.com",
      "first.last+tag@sub.example.org",
      "under_score-dash@my-host.example",
      "UPPER@EXAMPLE.COM",
      "digits123@123.example",
      "o'brien@example.ie",
      "user@xn--bcher-kva.example",
  };
  for (const char* s : valid) {
    CAPTURE(s);
    CHECK(accepts(r, std::string(s)));
  }
  CHECK(accepts(r, std::string(64, 'l') + "@example.com"));  // the longest local part
}

TEST_CASE("rules::email rejects malformed addresses", "[rules]") {
  const rules::email r{};
  const char* const invalid[] = {
      "",
      "plain",
      "x@",
      "@example.com",
      "a@b",              // no dot in the domain
      "a@@example.com",
      "a@b@example.com",
      "a b@example.com",  // space in the local part
      "a@exa mple.com",
      ".a@example.com",   // local part starts with a dot
      "a.@example.com",   // ... or ends with one
      "a@.example.com",   // empty domain label
      "a@example..com",
      "a@example.com.",
      "a@exam_ple.com",   // underscore in the domain
      "a\"b@example.com",
      "a<b>@example.com",
      "a@example.com\n",
  };
  for (const char* s : invalid) {
    CAPTURE(s);
    CHECK(problem(r, std::string(s)) == "must be a valid e-mail address");
  }
  CHECK(!accepts(r, std::string(65, 'l') + "@example.com"));  // local part over 64 bytes
  CHECK(!accepts(r, "a@" + std::string(250, 'd') + ".com"));  // address over 254 bytes
}

TEST_CASE("rules::uuid accepts the 8-4-4-4-12 form in either case", "[rules]") {
  const rules::uuid r{};
  CHECK(accepts(r, "123e4567-e89b-12d3-a456-426614174000"s));
  CHECK(accepts(r, "123E4567-E89B-12D3-A456-426614174000"s));
  CHECK(accepts(r, "00000000-0000-0000-0000-000000000000"s));
  const char* const invalid[] = {
      "",
      "123e4567e89b12d3a456426614174000",        // no hyphens
      "123e4567-e89b-12d3-a456-42661417400",     // 35 characters
      "123e4567-e89b-12d3-a456-4266141740000",   // 37 characters
      "123e4567-e89b-12d3-a4564-26614174000",    // hyphen in the wrong place
      "123e4567-e89b-12d3-a456-42661417400g",    // not hex
      "{123e4567-e89b-12d3-a456-426614174000}",  // braces
      "123e4567_e89b_12d3_a456_426614174000",
  };
  for (const char* s : invalid) {
    CAPTURE(s);
    CHECK(problem(r, std::string(s)) == "must be a UUID (8-4-4-4-12 hex digits)");
  }
}

TEST_CASE("rules::one_of with strings is exact and case-sensitive", "[rules]") {
  const rules::one_of r{"admin", "member"};
  STATIC_REQUIRE(std::is_same_v<decltype(r), const rules::one_of<std::string_view, 2>>);
  CHECK(accepts(r, "admin"s));
  CHECK(accepts(r, std::string_view("member")));
  CHECK(accepts(r, "member"));
  CHECK(problem(r, "Admin"s) == "must be one of admin, member");
  CHECK(problem(r, "admin "s) == "must be one of admin, member");
  CHECK(problem(r, ""s) == "must be one of admin, member");
}

TEST_CASE("rules::one_of with integers", "[rules]") {
  const rules::one_of r{1, 2, -3};
  STATIC_REQUIRE(std::is_same_v<decltype(r), const rules::one_of<int, 3>>);
  CHECK(accepts(r, 2));
  CHECK(accepts(r, std::int64_t{-3}));
  CHECK(problem(r, 4) == "must be one of 1, 2, -3");
  CHECK(problem(r, 0) == "must be one of 1, 2, -3");

  const rules::one_of single{7};
  CHECK(accepts(single, 7));
  CHECK(problem(single, 8) == "must be one of 7");
}

TEST_CASE("rules::custom takes a predicate returning bool", "[rules]") {
  constexpr auto even = [](int v) { return v % 2 == 0; };
  const rules::custom r(even, "even");
  CHECK(r.name == "even");
  CHECK(accepts(r, 4));
  CHECK(problem(r, 3) == "is not valid");

  const rules::custom worded(even, "even", "must be even");
  CHECK(problem(worded, 3) == "must be even");
}

TEST_CASE("rules::custom takes a function returning the problem", "[rules]") {
  constexpr auto no_spaces = [](const std::string& s) -> std::optional<std::string> {
    if (auto at = s.find(' '); at != std::string::npos) return "must not contain a space (at " + std::to_string(at) + ")";
    return std::nullopt;
  };
  const rules::custom r(no_spaces, "no_spaces");
  CHECK(accepts(r, "ab"s));
  CHECK(problem(r, "a b"s) == "must not contain a space (at 1)");
}

TEST_CASE("rules::pattern keeps its expression", "[rules][pattern]") {
  constexpr rules::pattern r{"[a-z]+"};
  STATIC_REQUIRE(r.expression == "[a-z]+");
}

TEST_CASE("rules::pattern matches the whole value", "[rules][pattern]") {
  const rules::pattern r{"[a-z]{2,3}-[0-9]+"};
  CHECK(accepts(r, "ab-1"s));
  CHECK(accepts(r, std::string_view("abc-12345")));
  CHECK(accepts(r, "xyz-0"));
  CHECK(problem(r, "xab-1x"s) == "must match the pattern \"[a-z]{2,3}-[0-9]+\"");  // contains a match only
  CHECK(problem(r, "abcd-1"s) == "must match the pattern \"[a-z]{2,3}-[0-9]+\"");
  CHECK(problem(r, ""s) == "must match the pattern \"[a-z]{2,3}-[0-9]+\"");
  CHECK(redacted(r, "A-1"s) == "must match the pattern \"[a-z]{2,3}-[0-9]+\"");
  CHECK(redacted(r, "ab-1"s) == "<accepted>");
}

TEST_CASE("rules::pattern reports input past max_pattern_input without matching it", "[rules][pattern]") {
  const rules::pattern r{"[0-9]*"};
  CHECK(accepts(r, std::string(ormkit::max_pattern_input, '7')));
  const std::string long_input(ormkit::max_pattern_input + 1, '7');
  CHECK(problem(r, long_input) == "is too long to match the pattern \"[0-9]*\" (1025 bytes, at most 1024)");
  CHECK(redacted(r, long_input) == "is too long to match the pattern \"[0-9]*\" (at most 1024 bytes)");
  // libstdc++ would overflow the stack matching this (GCC bug 86164).
  CHECK(problem(r, std::string(500000, '7')) ==
        "is too long to match the pattern \"[0-9]*\" (500000 bytes, at most 1024)");
}

TEST_CASE("rules::pattern throws for an invalid expression, naming it", "[rules][pattern]") {
  const rules::pattern r{"[0-9"};
  for (int attempt = 0; attempt < 2; ++attempt) {  // not cached: every use reports it
    try {
      (void)r.check("1"s);
      FAIL("no exception");
    } catch (const ormkit::exception& e) {
      CHECK(e.error().is(ormkit::errc::invalid_argument));
      CHECK(e.error().message ==
            "rules::pattern \"[0-9\" is not a valid ECMAScript regular expression (unmatched bracket)");
    }
  }
  CHECK_THROWS_AS(r.prepare(), ormkit::exception);
  CHECK_THROWS_AS(rules::pattern{"a{2,1}"}.prepare(), ormkit::exception);
  CHECK_NOTHROW(rules::pattern{"(x|y)+"}.prepare());
}
