// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// The JSON codec: every built-in column type through to_json/from_json and
// through text, the JSON-stored column types, the parser's limits, and the
// exact error text (entity, column, JSON path; secrets never quoted).

#include <ormkit/column_traits.hpp>
#include <ormkit/detail/base64.hpp>
#include <ormkit/entity.hpp>
#include <ormkit/json.hpp>

#include "../support/catch.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace json_test {

using json = nlohmann::json;
using namespace std::chrono_literals;
using std::chrono::system_clock;

//=== entities ===//

struct integers {
  std::int8_t i8{};
  std::int16_t i16{};
  std::int32_t i32{};
  std::int64_t i64{};
  std::uint8_t u8{};
  std::uint16_t u16{};
  std::uint32_t u32{};
  std::uint64_t u64{};

  friend constexpr auto ormkit_describe(std::type_identity<integers>) {
    return ormkit::describe<integers>("integers")
        .column(&integers::i8, "i8")
        .column(&integers::i16, "i16")
        .column(&integers::i32, "i32", ormkit::primary_key)
        .column(&integers::i64, "i64")
        .column(&integers::u8, "u8")
        .column(&integers::u16, "u16")
        .column(&integers::u32, "u32")
        .column(&integers::u64, "u64");
  }
  friend auto operator==(const integers&, const integers&) -> bool = default;
};

struct scalars {
  std::int64_t id{};
  double real{};
  float single{};
  bool flag{};
  std::string text;
  std::vector<std::byte> bytes;
  std::vector<unsigned char> raw;
  std::optional<std::string> note;
  std::optional<std::int32_t> count;

  friend constexpr auto ormkit_describe(std::type_identity<scalars>) {
    return ormkit::describe<scalars>("scalars")
        .column(&scalars::id, "id", ormkit::primary_key)
        .column(&scalars::real, "real")
        .column(&scalars::single, "single")
        .column(&scalars::flag, "flag")
        .column(&scalars::text, "text")
        .column(&scalars::bytes, "bytes")
        .column(&scalars::raw, "raw")
        .column(&scalars::note, "note")
        .column(&scalars::count, "count");
  }
};

struct times {
  std::int64_t id{};
  system_clock::time_point at;  // nanoseconds with libstdc++
  std::chrono::sys_time<std::chrono::microseconds> at_us;
  std::chrono::sys_seconds at_s;
  std::chrono::sys_days day;
  std::optional<std::chrono::sys_seconds> seen;
  std::chrono::milliseconds timeout{};
  std::chrono::seconds ttl{};
  std::chrono::duration<double> ratio{};

  friend constexpr auto ormkit_describe(std::type_identity<times>) {
    return ormkit::describe<times>("times")
        .column(&times::id, "id", ormkit::primary_key)
        .column(&times::at, "at")
        .column(&times::at_us, "at_us")
        .column(&times::at_s, "at_s")
        .column(&times::day, "day")
        .column(&times::seen, "seen")
        .column(&times::timeout, "timeout")
        .column(&times::ttl, "ttl")
        .column(&times::ratio, "ratio");
  }
  friend auto operator==(const times&, const times&) -> bool = default;
};

enum class color : std::int8_t { red = 1, green = 2, blue = -3 };
enum class mood { happy, grumpy };
constexpr auto ormkit_enum_names(std::type_identity<mood>) {
  return std::array{std::pair{mood::happy, std::string_view("happy")},
                    std::pair{mood::grumpy, std::string_view("grumpy")}};
}

struct enums {
  std::int64_t id{};
  color shade{};
  mood feeling{};
  std::optional<mood> maybe;

  friend constexpr auto ormkit_describe(std::type_identity<enums>) {
    return ormkit::describe<enums>("enums")
        .column(&enums::id, "id", ormkit::primary_key)
        .column(&enums::shade, "shade")
        .column(&enums::feeling, "feeling")
        .column(&enums::maybe, "maybe");
  }
  friend auto operator==(const enums&, const enums&) -> bool = default;
};

struct docs {
  std::int64_t id{};
  json data;
  std::optional<json> extra;

  friend constexpr auto ormkit_describe(std::type_identity<docs>) {
    return ormkit::describe<docs>("docs")
        .column(&docs::id, "id", ormkit::primary_key)
        .column(&docs::data, "data")
        .column(&docs::extra, "extra");
  }
  friend auto operator==(const docs&, const docs&) -> bool = default;
};

struct bags {
  std::int64_t id{};
  std::vector<std::string> tags;
  std::vector<std::int32_t> nums;
  std::set<std::string> labels;
  std::map<std::string, std::int64_t> scores;
  std::vector<std::vector<int>> grid;
  std::map<std::string, std::vector<std::string>> groups;
  std::vector<std::optional<int>> sparse;
  std::vector<bool> bits;
  std::vector<double> reals;
  std::vector<std::uint64_t> big;
  std::set<std::int8_t> small;

  friend constexpr auto ormkit_describe(std::type_identity<bags>) {
    return ormkit::describe<bags>("bags")
        .column(&bags::id, "id", ormkit::primary_key)
        .column(&bags::tags, "tags")
        .column(&bags::nums, "nums")
        .column(&bags::labels, "labels")
        .column(&bags::scores, "scores")
        .column(&bags::grid, "grid")
        .column(&bags::groups, "groups")
        .column(&bags::sparse, "sparse")
        .column(&bags::bits, "bits")
        .column(&bags::reals, "reals")
        .column(&bags::big, "big")
        .column(&bags::small, "small");
  }
  friend auto operator==(const bags&, const bags&) -> bool = default;
};

struct user {
  std::int64_t id{};
  std::string email;
  std::string password_hash;
  std::int32_t age{};
  std::optional<std::string> bio;
  std::uint32_t logins{};
  std::int32_t rank{};
  std::optional<std::int64_t> pin;

  friend constexpr auto ormkit_describe(std::type_identity<user>) {
    using namespace ormkit;
    return describe<user>("users")
        .column(&user::id, "id", primary_key, auto_increment)
        .column(&user::email, "email", unique)
        .column(&user::password_hash, "password_hash", secret)
        .column(&user::age, "age")
        .column(&user::bio, "bio")
        .column(&user::logins, "logins")
        .column(&user::rank, "rank", default_value(5))
        .column(&user::pin, "pin", secret);
  }
  friend auto operator==(const user&, const user&) -> bool = default;
};

// A user type stored as an integer, with no JSON hooks: goes through `value`.
struct cents {
  std::int64_t amount = 0;
  friend auto operator==(const cents&, const cents&) -> bool = default;
};

// A user type with JSON hooks: written as {"lat":..,"lon":..} instead of its text.
struct point {
  double lat = 0;
  double lon = 0;
  friend auto operator==(const point&, const point&) -> bool = default;
};

struct places {
  std::int64_t id{};
  cents price;
  point where;
  std::vector<point> route;

  friend constexpr auto ormkit_describe(std::type_identity<places>) {
    return ormkit::describe<places>("places")
        .column(&places::id, "id", ormkit::primary_key)
        .column(&places::price, "price")
        .column(&places::where, "where")
        .column(&places::route, "route");
  }
  friend auto operator==(const places&, const places&) -> bool = default;
};

}  // namespace json_test

template <>
struct ormkit::column_traits<json_test::cents> {
  static constexpr std::string_view name = "cents";
  static constexpr ormkit::storage storage = ormkit::storage::integer;
  static auto to_value(const json_test::cents& c) -> ormkit::value { return c.amount; }
  static auto from_value(ormkit::value_view v) -> ormkit::result<json_test::cents> {
    if (const auto* i = std::get_if<std::int64_t>(&v)) {
      if (*i < 0) return ormkit::unexpected(ormkit::errc::invalid_argument, "cents must not be negative");
      return json_test::cents{*i};
    }
    return ormkit::column_traits_mismatch(name, storage, v);
  }
};

template <>
struct ormkit::column_traits<json_test::point> {
  static constexpr std::string_view name = "point";
  static constexpr ormkit::storage storage = ormkit::storage::text;
  static auto to_value(const json_test::point& p) -> ormkit::value {
    return std::to_string(p.lat) + "," + std::to_string(p.lon);
  }
  static auto from_value(ormkit::value_view v) -> ormkit::result<json_test::point> {
    if (std::get_if<std::string_view>(&v) != nullptr) return json_test::point{};  // not used by these tests
    return ormkit::column_traits_mismatch(name, storage, v);
  }
  template <class Json>
  static void to_json(Json& j, const json_test::point& p) {
    j = Json{{"lat", p.lat}, {"lon", p.lon}};
  }
  template <class Json>
  static auto from_json(const Json& j) -> ormkit::result<json_test::point> {
    if (!j.is_object() || !j.contains("lat") || !j.contains("lon") || !j["lat"].is_number() || !j["lon"].is_number())
      return ormkit::unexpected(ormkit::errc::invalid_argument, "expected {\"lat\": number, \"lon\": number}");
    return json_test::point{j["lat"].template get<double>(), j["lon"].template get<double>()};
  }
};

namespace json_test {
namespace {

template <class T>
auto round_trip(const T& in, const ormkit::json_options& opts = {}) -> T {
  auto text = ormkit::to_json_text(in, opts);
  REQUIRE(text.has_value());
  auto back = ormkit::from_json_text<T>(*text, opts);
  INFO(*text);
  REQUIRE(back.has_value());
  return *back;
}

template <class T>
auto import_error(std::string_view text, const ormkit::json_options& opts = {}) -> std::string {
  auto r = ormkit::from_json_text<T>(text, opts);
  if (r) return "<accepted>";
  CHECK(r.error().is(ormkit::errc::invalid_argument));
  return r.error().message;
}

auto nested_arrays(std::size_t depth) -> std::string { return std::string(depth, '[') + std::string(depth, ']'); }

auto make_user() -> user {
  return {.id = 7,
          .email = "ada@example.com",
          .password_hash = "$argon2id$SECRET",
          .age = 36,
          .bio = std::nullopt,
          .logins = 3,
          .rank = 1,
          .pin = 1234};
}

}  // namespace
}  // namespace json_test

using namespace json_test;

//=== building blocks ===//

TEST_CASE("json: base64 follows RFC 4648 and decodes strictly", "[json]") {
  using ormkit::detail::base64_decode;
  using ormkit::detail::base64_encode;
  auto enc = [](std::string_view s) {
    return base64_encode(std::span(reinterpret_cast<const std::byte*>(s.data()), s.size()));
  };
  auto dec = [](std::string_view s) -> std::string {
    auto r = base64_decode(s);
    if (!r.ok()) return "<error at " + std::to_string(r.error_offset) + ">";
    return std::string(reinterpret_cast<const char*>(r.bytes.data()), r.bytes.size());
  };
  const std::array<std::pair<std::string_view, std::string_view>, 7> vectors{{{"", ""},
                                                                              {"f", "Zg=="},
                                                                              {"fo", "Zm8="},
                                                                              {"foo", "Zm9v"},
                                                                              {"foob", "Zm9vYg=="},
                                                                              {"fooba", "Zm9vYmE="},
                                                                              {"foobar", "Zm9vYmFy"}}};
  for (const auto& [plain, encoded] : vectors) {
    CHECK(enc(plain) == encoded);
    CHECK(dec(encoded) == plain);
  }
  CHECK(dec("Zg=") == "<error at 3>");  // length not a multiple of 4
  CHECK(dec("Zm9v\n") == "<error at 5>");
  CHECK(dec("Zm 9") == "<error at 2>");  // no whitespace
  CHECK(dec("Zh==") == "<error at 1>");  // non-zero padding bits: not canonical
  CHECK(dec("Zm9=") == "<error at 2>");
  CHECK(dec("Z===") == "<error at 1>");
  CHECK(dec("Zg==Zg==") == "<error at 2>");  // padding only at the end
  CHECK(dec("Zm9v-_==") == "<error at 4>");  // the URL-safe alphabet is not base64
}

TEST_CASE("json: UTF-8 validation follows RFC 3629", "[json]") {
  using ormkit::detail::json_impl::is_valid_utf8;
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ascii"));
  CHECK(is_valid_utf8("h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9d\x84\x9e"));  // é ✓ 𝄞
  CHECK(is_valid_utf8("\xf4\x8f\xbf\xbf"));                            // U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xff"));
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));          // overlong '/'
  CHECK_FALSE(is_valid_utf8("\xe0\x80\xaf"));      // overlong
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));      // surrogate U+D800
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xe2\x9c"));          // truncated
  CHECK_FALSE(is_valid_utf8("\x80"));              // lone continuation
}

//=== built-in column types ===//

TEST_CASE("json: integers of every width round trip at their limits", "[json]") {
  const integers lo{INT8_MIN, INT16_MIN, INT32_MIN, INT64_MIN, 0, 0, 0, 0};
  const integers hi{INT8_MAX, INT16_MAX, INT32_MAX, INT64_MAX, UINT8_MAX, UINT16_MAX, UINT32_MAX, UINT64_MAX};
  CHECK(round_trip(lo) == lo);
  CHECK(round_trip(hi) == hi);

  auto j = ormkit::to_json(hi);
  REQUIRE(j);
  CHECK((*j)["i64"].is_number_integer());
  CHECK((*j)["u64"].is_number_unsigned());
  CHECK(*ormkit::to_json_text(lo) ==
        R"({"i16":-32768,"i32":-2147483648,"i64":-9223372036854775808,"i8":-128,"u16":0,"u32":0,"u64":0,"u8":0})");
  CHECK(ormkit::to_json_text(hi)->find(R"("u64":18446744073709551615)") != std::string::npos);
}

TEST_CASE("json: uint64 beyond int64 is exact in JSON but is not storable in a column", "[json]") {
  // Policy: the JSON codec is lossless for the member type; the column layer
  // (int64 storage) is where such a value is refused, with a clear message.
  integers big{};
  big.u64 = 18446744073709551615u;
  CHECK(round_trip(big).u64 == 18446744073709551615u);
  auto stored = ormkit::encode(big.u64);
  REQUIRE_FALSE(stored);
  CHECK(stored.error().message == "value 18446744073709551615 of uint64 exceeds the int64 storage range");
}

TEST_CASE("json: out-of-range numbers are rejected, never wrapped", "[json]") {
  const std::string zero = R"("i8":0,"i16":0,"i64":0,"u8":0,"u16":0,"u64":0)";
  auto with = [&](std::string_view field) { return "{" + zero + "," + std::string(field) + "}"; };
  const std::string ok32 = R"("i32":0,"u32":0)";

  CHECK(import_error<integers>(with(R"("i32":3000000000,"u32":0)")) ==
        "integers.i32: number 3000000000 is out of range for int32 (at $.i32)");
  CHECK(import_error<integers>(with(R"("i32":0,"u32":-1)")) ==
        "integers.u32: number -1 is out of range for uint32 (at $.u32)");
  CHECK(import_error<integers>(R"({"i8":128,"i16":0,"i64":0,"u8":0,"u16":0,"u64":0,"i32":0,"u32":0})") ==
        "integers.i8: number 128 is out of range for int8 (at $.i8)");
  CHECK(import_error<integers>(R"({"i8":0,"i16":0,"i64":0,"u8":256,"u16":0,"u64":0,"i32":0,"u32":0})") ==
        "integers.u8: number 256 is out of range for uint8 (at $.u8)");
  CHECK(
      import_error<integers>(R"({"i8":0,"i16":0,"i64":9223372036854775808,"u8":0,"u16":0,"u64":0,"i32":0,"u32":0})") ==
      "integers.i64: number 9223372036854775808 is out of range for int64 (at $.i64)");
  CHECK(import_error<integers>(R"({"i8":0,"i16":0,"i64":0,"u8":0,"u16":0,"u64":-1,"i32":0,"u32":0})") ==
        "integers.u64: number -1 is out of range for uint64 (at $.u64)");
  // Past uint64 nlohmann reads a double: not an integer, so not silently rounded.
  CHECK(
      import_error<integers>(R"({"i8":0,"i16":0,"i64":0,"u8":0,"u16":0,"u64":18446744073709551616,"i32":0,"u32":0})") ==
      "integers.u64: expected an integer, got number 18446744073709551616.0 (at $.u64)");
  CHECK(import_error<integers>(with(R"("i32":1.5,"u32":0)")) ==
        "integers.i32: expected an integer, got number 1.5 (at $.i32)");
  CHECK(import_error<integers>(with(R"("i32":1.0,"u32":0)")) ==
        "integers.i32: expected an integer, got number 1.0 (at $.i32)");
  CHECK(import_error<integers>(with(R"("i32":true,"u32":0)")) ==
        "integers.i32: expected an integer, got boolean true (at $.i32)");
  CHECK(import_error<integers>(with(ok32)) == "<accepted>");
}

TEST_CASE("json: doubles round trip exactly, including denormals and -0.0", "[json]") {
  for (double d : {0.1, -0.0, 1.0 / 3.0, std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::min(),
                   std::numeric_limits<double>::max(), std::numeric_limits<double>::lowest(),
                   4.9406564584124654e-324 * 3, 1e300, -2.5e-310}) {
    scalars s{};
    s.real = d;
    s.single = 1.17549435e-38f;  // float min normal
    const auto back = round_trip(s);
    CAPTURE(d);
    CHECK(std::memcmp(&back.real, &d, sizeof d) == 0);  // bit for bit: keeps -0.0's sign
    CHECK(back.single == s.single);
  }
  scalars negative_zero{};
  negative_zero.real = -0.0;
  CHECK(std::signbit(round_trip(negative_zero).real));
  // A float member refuses a double it cannot hold.
  CHECK(import_error<scalars>(R"({"id":1,"real":0,"single":1e300,"flag":false,"text":"","bytes":"","raw":""})")
            .starts_with("scalars.single: value 1e+300 is out of range for float32 (at $.single)"));
  // Integers are accepted where a double is expected.
  auto s =
      ormkit::from_json_text<scalars>(R"({"id":1,"real":5,"single":-2,"flag":false,"text":"","bytes":"","raw":""})");
  REQUIRE(s);
  CHECK(s->real == 5.0);
  CHECK(s->single == -2.0f);
}

TEST_CASE("json: NaN and infinity are rejected, naming entity and column", "[json]") {
  scalars s{};
  s.real = std::numeric_limits<double>::quiet_NaN();
  auto r = ormkit::to_json(s);
  REQUIRE_FALSE(r);
  CHECK(r.error().is(ormkit::errc::invalid_argument));
  CHECK(r.error().message == "scalars.real: non-finite number nan is not representable in JSON (at $.real)");

  s.real = 0;
  s.single = -std::numeric_limits<float>::infinity();
  CHECK(ormkit::to_json_text(s).error().message ==
        "scalars.single: non-finite number -inf is not representable in JSON (at $.single)");

  bags b{};
  b.reals = {1.0, std::numeric_limits<double>::infinity()};
  CHECK(ormkit::to_json(b).error().message ==
        "bags.reals: non-finite number inf is not representable in JSON (at $.reals[1])");
  CHECK_FALSE(ormkit::encode(b.reals));

  // Text that nlohmann would turn into infinity is malformed.
  CHECK(import_error<scalars>(R"({"real":1e400})").starts_with("scalars: malformed JSON at byte"));
}

TEST_CASE("json: bool, unicode strings and invalid UTF-8", "[json]") {
  scalars s{};
  s.flag = true;
  s.text = "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9d\x84\x9e \"quoted\" \\ tab\t nul";
  s.text += '\0';
  s.text += "end";
  const auto back = round_trip(s);
  CHECK(back.flag == true);
  CHECK(back.text == s.text);
  CHECK((*ormkit::to_json(s))["flag"].is_boolean());

  CHECK(import_error<scalars>(R"({"id":1,"real":0,"single":0,"flag":1,"text":"","bytes":"","raw":""})") ==
        "scalars.flag: expected a boolean, got number (at $.flag)");
  CHECK(import_error<scalars>(R"({"id":1,"real":0,"single":0,"flag":false,"text":5,"bytes":"","raw":""})") ==
        "scalars.text: expected a string, got number 5 (at $.text)");

  s.text = "bad \xff byte";
  auto r = ormkit::to_json_text(s);
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "scalars.text: text is not valid UTF-8 (at $.text)");
  bags b{};
  b.scores["k\xc3"] = 1;
  CHECK(ormkit::to_json(b).error().message == "bags.scores: object key is not valid UTF-8 (at $.scores)");
}

TEST_CASE("json: blobs are base64 text and keep all 256 byte values", "[json]") {
  scalars s{};
  for (int i = 0; i < 256; ++i) {
    s.bytes.push_back(static_cast<std::byte>(i));
    s.raw.push_back(static_cast<unsigned char>(255 - i));
  }
  const auto back = round_trip(s);
  CHECK(back.bytes == s.bytes);
  CHECK(back.raw == s.raw);
  scalars small{};
  small.bytes = {std::byte{'f'}, std::byte{'o'}, std::byte{'o'}, std::byte{'b'}};
  CHECK((*ormkit::to_json(small))["bytes"] == "Zm9vYg==");
  CHECK((*ormkit::to_json(small))["raw"] == "");

  CHECK(import_error<scalars>(R"({"id":1,"real":0,"single":0,"flag":false,"text":"","bytes":"Zm9v!A==","raw":""})") ==
        "scalars.bytes: invalid base64 text at offset 4 (at $.bytes)");
  CHECK(import_error<scalars>(R"({"id":1,"real":0,"single":0,"flag":false,"text":"","bytes":[1,2],"raw":""})") ==
        "scalars.bytes: expected base64 text, got array (at $.bytes)");
}

TEST_CASE("json: optionals are null when empty", "[json]") {
  scalars s{};
  auto j = ormkit::to_json(s);
  REQUIRE(j);
  CHECK((*j)["note"].is_null());
  CHECK((*j)["count"].is_null());
  CHECK_FALSE(round_trip(s).note.has_value());

  s.note = "";
  s.count = -7;
  const auto back = round_trip(s);
  CHECK(back.note == std::optional<std::string>(""));
  CHECK(back.count == std::optional<std::int32_t>(-7));

  // A missing optional is empty; null for a non-optional is a type error.
  auto m =
      ormkit::from_json_text<scalars>(R"({"id":1,"real":0,"single":0,"flag":false,"text":"","bytes":"","raw":""})");
  REQUIRE(m);
  CHECK_FALSE(m->note.has_value());
  CHECK(import_error<scalars>(R"({"id":1,"real":0,"single":0,"flag":false,"text":null,"bytes":"","raw":""})") ==
        "scalars.text: expected a string, got null (at $.text)");
  CHECK(
      import_error<scalars>(R"({"id":1,"real":0,"single":0,"flag":false,"text":"","bytes":"","raw":"","count":4e9})") ==
      "scalars.count: expected an integer, got number 4e+09 (at $.count)");
}

TEST_CASE("json: time points are ISO-8601 UTC text with microseconds", "[json]") {
  times t{};
  t.at = system_clock::time_point(std::chrono::sys_days(std::chrono::year(2026) / 11 / 21) + 23h + 40min + 11s +
                                  123456789ns);
  t.at_us = std::chrono::sys_days(std::chrono::year(1969) / 12 / 31) + 23h + 59min + 59s + 999999us;
  t.at_s = std::chrono::sys_seconds(0s);
  t.day = std::chrono::sys_days(std::chrono::year(2024) / 2 / 29);
  t.seen = std::chrono::sys_seconds(std::chrono::sys_days(std::chrono::year(0) / 1 / 1));
  t.timeout = 1500ms;
  t.ttl = -30s;
  t.ratio = std::chrono::duration<double>(0.25);

  auto j = ormkit::to_json(t);
  REQUIRE(j);
  CHECK((*j)["at"] == "2026-11-21T23:40:11.123456Z");  // rounded down to microseconds, like storage
  CHECK((*j)["at_us"] == "1969-12-31T23:59:59.999999Z");
  CHECK((*j)["at_s"] == "1970-01-01T00:00:00.000000Z");
  CHECK((*j)["day"] == "2024-02-29T00:00:00.000000Z");
  CHECK((*j)["seen"] == "0000-01-01T00:00:00.000000Z");
  CHECK((*j)["timeout"] == 1500);
  CHECK((*j)["ttl"] == -30);
  CHECK((*j)["ratio"] == 0.25);

  auto back = round_trip(t);
  CHECK(back.at == std::chrono::floor<std::chrono::microseconds>(t.at));
  t.at = std::chrono::floor<std::chrono::microseconds>(t.at);
  CHECK(back == t);

  times far{};
  far.at_s = std::chrono::sys_days(std::chrono::year(10000) / 1 / 1);
  CHECK(ormkit::to_json(far).error().message ==
        "times.at_s: time point is outside the years 0000-9999 that ISO-8601 text can hold (at $.at_s)");
}

TEST_CASE("json: time points import offsets, other precisions and integer microseconds", "[json]") {
  auto at_us = [](std::string_view value) -> std::string {
    std::string text =
        R"({"id":1,"at":0,"at_s":0,"day":0,"timeout":0,"ttl":0,"ratio":0,"at_us":)" + std::string(value) + "}";
    auto r = ormkit::from_json_text<times>(text);
    if (!r) return r.error().message;
    auto out = ormkit::to_json(*r);
    return (*out)["at_us"].get<std::string>();
  };
  CHECK(at_us(R"("2026-11-21T23:40:11.123Z")") == "2026-11-21T23:40:11.123000Z");          // JavaScript
  CHECK(at_us(R"("2026-11-21T23:40:11.123456+00:00")") == "2026-11-21T23:40:11.123456Z");  // Python
  CHECK(at_us(R"("2026-11-21T23:40:11.123456789Z")") == "2026-11-21T23:40:11.123456Z");    // Go, rounded down
  CHECK(at_us(R"("2026-11-21T23:40:11Z")") == "2026-11-21T23:40:11.000000Z");
  CHECK(at_us(R"("2026-11-22T01:10:11.5+01:30")") == "2026-11-21T23:40:11.500000Z");
  CHECK(at_us(R"("2026-11-21T20:40:11-03:00")") == "2026-11-21T23:40:11.000000Z");
  CHECK(at_us(R"("2026-11-21t23:40:11z")") == "2026-11-21T23:40:11.000000Z");
  CHECK(at_us("1795304411123456") == "2026-11-21T23:40:11.123456Z");
  CHECK(at_us("-1") == "1969-12-31T23:59:59.999999Z");

  const std::string expected =
      "expected ISO-8601 UTC text such as \"2026-11-21T23:40:11.123456Z\" or integer microseconds";
  CHECK(at_us(R"("2026-02-30T00:00:00Z")") ==
        "times.at_us: " + expected + R"(, got string "2026-02-30T00:00:00Z" (at $.at_us))");
  for (std::string_view bad :
       {R"("2026-11-21T24:00:00Z")", R"("2026-11-21T23:60:00Z")", R"("2026-11-21T23:40:60Z")",
        R"("2026-11-21T23:40:11")", R"("2026-11-21 23:40:11Z")", R"("2026-11-21T23:40:11.Z")",
        R"("2026-11-21T23:40:11.1234567890Z")", R"("2026-11-21T23:40:11+0100")", R"("2026-11-21T23:40:11+24:00")",
        R"("2026-11-21")", R"("+2026-11-21T23:40:11Z")", R"("2026-11-21T23:40:11Zjunk")", "1.5", "true", "[]"}) {
    CAPTURE(bad);
    CHECK(at_us(bad).starts_with("times.at_us: " + expected));
  }
  // A nanosecond clock holds about +-292 years around 1970.
  auto r = ormkit::from_json_text<times>(
      R"({"id":1,"at":"2300-01-01T00:00:00Z","at_us":0,"at_s":0,"day":0,"timeout":0,"ttl":0,"ratio":0})");
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "times.at: time point is out of range for its clock duration (at $.at)");
}

TEST_CASE("json: durations are their tick count", "[json]") {
  auto r = ormkit::from_json_text<times>(
      R"({"id":1,"at":0,"at_us":0,"at_s":0,"day":0,"timeout":-250,"ttl":86400,"ratio":1.5})");
  REQUIRE(r);
  CHECK(r->timeout == -250ms);
  CHECK(r->ttl == 24h);
  CHECK(r->ratio.count() == 1.5);
  CHECK(import_error<times>(R"({"id":1,"at":0,"at_us":0,"at_s":0,"day":0,"timeout":"5s","ttl":0,"ratio":0})") ==
        R"(times.timeout: expected an integer, got string "5s" (at $.timeout))");
}

TEST_CASE("json: enums are their integer, or their name when they have names", "[json]") {
  const enums e{1, color::blue, mood::grumpy, mood::happy};
  auto j = ormkit::to_json(e);
  REQUIRE(j);
  CHECK((*j)["shade"] == -3);
  CHECK((*j)["feeling"] == "grumpy");
  CHECK((*j)["maybe"] == "happy");
  CHECK(round_trip(e) == e);

  CHECK(import_error<enums>(R"({"id":1,"shade":1,"feeling":"sleepy"})") ==
        R"(enums.feeling: unknown enum name "sleepy" (at $.feeling))");
  CHECK(import_error<enums>(R"({"id":1,"shade":1,"feeling":0})") ==
        "enums.feeling: expected a string, got number 0 (at $.feeling)");
  CHECK(import_error<enums>(R"({"id":1,"shade":300,"feeling":"happy"})") ==
        "enums.shade: value 300 is out of range for int8 (at $.shade)");
}

TEST_CASE("json: nlohmann::json members are nested values", "[json]") {
  docs d{};
  d.id = 1;
  d.data = json::parse(R"({"name":"x","list":[1,2.5,null,true,{"deep":["a"]}],"big":18446744073709551615})");
  d.extra = json(nullptr);  // an optional<json> holding null comes back empty: null means "no value"
  auto j = ormkit::to_json(d);
  REQUIRE(j);
  CHECK((*j)["data"] == d.data);
  auto back = round_trip(d);
  CHECK(back.data == d.data);
  CHECK(back.data["big"].get<std::uint64_t>() == 18446744073709551615u);
  CHECK_FALSE(back.extra.has_value());

  d.data = json::array({1, std::numeric_limits<double>::quiet_NaN()});
  CHECK(ormkit::to_json(d).error().message ==
        "docs.data: non-finite number is not representable in JSON (at $.data[1])");
  d.data = json::binary({1, 2});
  CHECK(ormkit::to_json(d).error().message == "docs.data: binary value is not representable in JSON text (at $.data)");
  d.data = json::object({{"k", "bad \xff"}});
  CHECK(ormkit::to_json(d).error().message == "docs.data: text is not valid UTF-8 (at $.data.k)");
}

TEST_CASE("json: column_traits<nlohmann::json> stores compact text", "[json]") {
  using traits = ormkit::column_traits<json>;
  STATIC_REQUIRE(ormkit::column_value<json>);
  STATIC_REQUIRE(traits::storage == ormkit::storage::text);
  STATIC_REQUIRE(ormkit::sql_kind_of<json>() == ormkit::sql_kind::json);
  STATIC_REQUIRE(traits::name == "json");

  const json doc = json::parse(R"({"b":[1,2],"a":{"x":null}})");
  auto v = ormkit::encode(doc);
  REQUIRE(v);
  CHECK(std::get<std::string>(*v) == R"({"a":{"x":null},"b":[1,2]})");
  auto back = ormkit::decode<json>(ormkit::view(*v));
  REQUIRE(back);
  CHECK(*back == doc);

  auto bad = ormkit::decode<json>(std::string_view("{\"a\":"));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().is(ormkit::errc::corrupt));
  CHECK(bad.error().message.starts_with("malformed JSON at byte 6, line 1, column 6: "));
  CHECK(ormkit::decode<json>(std::int64_t{5}).error().message == "expected text for json, got integer 5");
  CHECK(ormkit::decode<json>(std::string_view(nested_arrays(65))).error().is(ormkit::errc::corrupt));
  CHECK(ormkit::decode<json>(std::string_view(nested_arrays(64))).has_value());
  CHECK(ormkit::encode(json(std::numeric_limits<double>::infinity())).error().message ==
        "non-finite number is not representable in JSON (at $)");
}

//=== JSON-stored containers ===//

TEST_CASE("json: container columns are arrays and objects", "[json]") {
  bags b{};
  b.id = 1;
  b.tags = {"b", "a", "b", "\xc3\xa9"};
  b.nums = {INT32_MIN, 0, INT32_MAX};
  b.labels = {"x", "y"};
  b.scores = {{"alice", 10}, {"bob", INT64_MIN}, {"", 0}, {"with space", 1}};
  b.grid = {{1, 2}, {}, {3}};
  b.groups = {{"admins", {"ada"}}, {"empty", {}}};
  b.sparse = {1, std::nullopt, 3};
  b.bits = {true, false, true};
  b.reals = {0.5, -0.0};
  b.big = {0, 18446744073709551615u};
  b.small = {-128, 127};

  auto j = ormkit::to_json(b);
  REQUIRE(j);
  CHECK((*j)["tags"] == json::parse(R"(["b","a","b","é"])"));
  CHECK((*j)["grid"] == json::parse("[[1,2],[],[3]]"));
  CHECK((*j)["groups"] == json::parse(R"({"admins":["ada"],"empty":[]})"));
  CHECK((*j)["sparse"] == json::parse("[1,null,3]"));
  CHECK((*j)["bits"] == json::parse("[true,false,true]"));
  CHECK(round_trip(b) == b);
  const auto empty = bags{};
  CHECK(round_trip(empty) == empty);
}

TEST_CASE("json: container columns store compact JSON text through column_traits", "[json]") {
  STATIC_REQUIRE(ormkit::column_value<std::vector<std::string>>);
  STATIC_REQUIRE(ormkit::column_value<std::vector<std::vector<int>>>);
  STATIC_REQUIRE(ormkit::column_value<std::map<std::string, std::set<std::string>>>);
  STATIC_REQUIRE(ormkit::column_traits<std::vector<std::string>>::name == "json_array<string>");
  STATIC_REQUIRE(ormkit::column_traits<std::vector<std::vector<std::int32_t>>>::name ==
                 "json_array<json_array<int32>>");
  STATIC_REQUIRE(ormkit::column_traits<std::set<std::int64_t>>::name == "json_set<int64>");
  STATIC_REQUIRE(ormkit::column_traits<std::map<std::string, std::optional<double>>>::name ==
                 "json_object<optional<float64>>");
  STATIC_REQUIRE(ormkit::column_traits<std::vector<json>>::name == "json_array<json>");
  STATIC_REQUIRE(ormkit::column_traits<std::vector<std::string>>::storage == ormkit::storage::text);
  STATIC_REQUIRE(ormkit::sql_kind_of<std::map<std::string, int>>() == ormkit::sql_kind::json);
  STATIC_REQUIRE(ormkit::sql_kind_of<std::optional<std::vector<int>>>() == ormkit::sql_kind::json);
  // Byte vectors stay blobs; other byte-sized element types are arrays.
  STATIC_REQUIRE(ormkit::column_traits<std::vector<std::byte>>::storage == ormkit::storage::blob);
  STATIC_REQUIRE(ormkit::column_traits<std::vector<unsigned char>>::storage == ormkit::storage::blob);
  STATIC_REQUIRE(ormkit::column_traits<std::vector<std::int8_t>>::storage == ormkit::storage::text);

  const std::map<std::string, std::vector<int>> m{{"b", {1, 2}}, {"a", {}}};
  auto v = ormkit::encode(m);
  REQUIRE(v);
  CHECK(std::get<std::string>(*v) == R"({"a":[],"b":[1,2]})");
  auto back = ormkit::decode<std::map<std::string, std::vector<int>>>(ormkit::view(*v));
  REQUIRE(back);
  CHECK(*back == m);

  using tags = std::vector<std::int32_t>;
  auto wrong = ormkit::decode<tags>(std::string_view(R"([1,"2"])"));
  REQUIRE_FALSE(wrong);
  CHECK(wrong.error().is(ormkit::errc::invalid_argument));
  CHECK(wrong.error().message == R"(expected an integer, got string "2" (at $[1]))");
  CHECK(ormkit::decode<tags>(std::string_view("[1,")).error().is(ormkit::errc::corrupt));
  CHECK(ormkit::decode<tags>(std::string_view(R"({"a":1})")).error().message == "expected an array, got object (at $)");
  CHECK(ormkit::decode<tags>(std::monostate{}).error().message == "expected text for json_array<int32>, got null");
  CHECK(ormkit::encode(std::vector<std::string>{"ok", "\xff"}).error().message == "text is not valid UTF-8 (at $[1])");
}

TEST_CASE("json: container element errors name the path", "[json]") {
  // Every container column is required: start from a complete document and break one field.
  auto bag_error = [](std::string_view field, std::string_view bad) {
    json doc = *ormkit::to_json(bags{});
    doc[std::string(field)] = json::parse(bad);
    auto r = ormkit::from_json<bags>(doc);
    REQUIRE_FALSE(r);
    return r.error().message;
  };
  CHECK(bag_error("nums", "[1,3000000000]") == "bags.nums: number 3000000000 is out of range for int32 (at $.nums[1])");
  CHECK(bag_error("grid", R"([[1],[2,"x"]])") == R"(bags.grid: expected an integer, got string "x" (at $.grid[1][1]))");
  CHECK(bag_error("groups", R"({"a b":["x",7]})") ==
        R"(bags.groups: expected a string, got number 7 (at $.groups["a b"][1]))");
  CHECK(bag_error("scores", R"({"alice":-1.5})") ==
        "bags.scores: expected an integer, got number -1.5 (at $.scores.alice)");
  CHECK(bag_error("labels", R"(["x","y","x"])") == "bags.labels: duplicate element in a set (at $.labels[2])");
  CHECK(bag_error("small", "[-129]") == "bags.small: number -129 is out of range for int8 (at $.small[0])");
  CHECK(bag_error("tags", R"("a,b")") == R"(bags.tags: expected an array, got string "a,b" (at $.tags))");
  CHECK(bag_error("scores", "[1]") == "bags.scores: expected an object, got array (at $.scores)");
  CHECK(bag_error("sparse", "[null,1.5]") == "bags.sparse: expected an integer, got number 1.5 (at $.sparse[1])");
  CHECK(bag_error("big", "[18446744073709551615,-1]") ==
        "bags.big: number -1 is out of range for uint64 (at $.big[1])");
  CHECK(bag_error("bits", "[true,0]") == "bags.bits: expected a boolean, got number (at $.bits[1])");
  CHECK(import_error<bags>(R"({"id":1})") == "bags.tags: required field is missing (at $.tags)");
}

//=== user types ===//

TEST_CASE("json: user types map through their value or through their JSON hooks", "[json]") {
  places p{};
  p.id = 1;
  p.price = cents{1999};
  p.where = point{51.5, -0.125};
  p.route = {point{1, 2}, point{3, 4}};
  auto j = ormkit::to_json(p);
  REQUIRE(j);
  CHECK((*j)["price"] == 1999);
  CHECK((*j)["where"] == json::parse(R"({"lat":51.5,"lon":-0.125})"));
  CHECK((*j)["route"][1] == json::parse(R"({"lat":3,"lon":4})"));
  CHECK(round_trip(p) == p);

  CHECK(import_error<places>(R"({"id":1,"price":-5,"where":{"lat":0,"lon":0},"route":[]})") ==
        "places.price: cents must not be negative (at $.price)");
  CHECK(import_error<places>(R"({"id":1,"price":5,"where":{"lat":0,"lon":0},"route":[{"lat":1}]})") ==
        R"(places.route: expected {"lat": number, "lon": number} (at $.route[0]))");
}

//=== entity-level behaviour ===//

TEST_CASE("json: secret columns are left out unless asked for", "[json]") {
  const user u = make_user();
  auto j = ormkit::to_json(u);
  REQUIRE(j);
  CHECK_FALSE(j->contains("password_hash"));
  CHECK_FALSE(j->contains("pin"));
  CHECK(ormkit::to_json_text(u)->find("SECRET") == std::string::npos);
  CHECK(*ormkit::to_json_text(u) == R"({"age":36,"bio":null,"email":"ada@example.com","id":7,"logins":3,"rank":1})");

  // Imported without secrets: the secret members keep their initializers.
  auto back = round_trip(u);
  CHECK(back.password_hash.empty());
  CHECK_FALSE(back.pin.has_value());
  CHECK(back.email == u.email);

  ormkit::json_options with;
  with.include_secrets = true;
  auto all = ormkit::to_json(u, with);
  REQUIRE(all);
  CHECK((*all)["password_hash"] == "$argon2id$SECRET");
  CHECK((*all)["pin"] == 1234);
  CHECK(round_trip(u, with) == u);
  // With include_secrets a secret column is required like any other.
  CHECK(import_error<user>(R"({"id":1,"email":"e","age":1,"logins":0,"rank":0,"pin":null})", with) ==
        "users.password_hash: required field is missing (at $.password_hash)");
  // Secrets supplied without include_secrets are still imported.
  auto given = ormkit::from_json_text<user>(R"({"id":1,"email":"e","age":1,"logins":0,"password_hash":"h","pin":5})");
  REQUIRE(given);
  CHECK(given->password_hash == "h");
  CHECK(given->pin == std::optional<std::int64_t>(5));
}

TEST_CASE("json: secret values never appear in messages", "[json]") {
  auto msg = import_error<user>(R"({"id":1,"email":"e","age":1,"logins":0,"password_hash":12345678})");
  CHECK(msg == "users.password_hash: expected a string, got number (at $.password_hash)");
  msg = import_error<user>(R"({"id":1,"email":"e","age":1,"logins":0,"pin":"hunter2"})");
  CHECK(msg == "users.pin: expected an integer, got string (at $.pin)");
  msg = import_error<user>(R"({"id":1,"email":"e","age":1,"logins":0,"pin":99999999999999999999})");
  CHECK(msg == "users.pin: expected an integer, got number (at $.pin)");
  msg = import_error<user>(R"({"id":1,"email":"e","age":1,"logins":0,"pin":18446744073709551615})");
  CHECK(msg == "users.pin: number is out of range for int64 (at $.pin)");

  user u = make_user();
  u.password_hash = "secret \xff";
  ormkit::json_options with;
  with.include_secrets = true;
  CHECK(ormkit::to_json(u, with).error().message ==
        "users.password_hash: text is not valid UTF-8 (at $.password_hash)");
  // The parser's own messages quote no input either.
  auto bad = ormkit::from_json_text<user>(R"({"password_hash":"topsecret)");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().message.find("topsecret") == std::string::npos);
}

TEST_CASE("json: unknown fields are rejected with their path", "[json]") {
  CHECK(import_error<user>(R"({"id":1,"email":"e","age":1,"logins":0,"agee":3})") ==
        R"(users: unknown field "agee" (at $.agee))");
  CHECK(import_error<user>(R"({"id":1,"email":"e","age":1,"logins":0,"a b":3})") ==
        R"(users: unknown field "a b" (at $["a b"]))");
  ormkit::json_options lenient;
  lenient.allow_unknown_fields = true;
  auto r = ormkit::from_json_text<user>(R"({"id":1,"email":"e","age":1,"logins":0,"agee":[[[]]]})", lenient);
  REQUIRE(r);
  CHECK(r->age == 1);
}

TEST_CASE("json: wrong types are rejected with entity, column and path", "[json]") {
  CHECK(import_error<user>(R"({"id":1,"email":"e","age":"x","logins":0})") ==
        R"(users.age: expected an integer, got string "x" (at $.age))");
  CHECK(import_error<user>(R"({"id":1,"email":["e"],"age":1,"logins":0})") ==
        "users.email: expected a string, got array (at $.email)");
  CHECK(import_error<user>(R"({"id":1,"email":"e","age":1,"logins":0,"bio":{}})") ==
        "users.bio: expected a string, got object (at $.bio)");
  CHECK(import_error<user>(R"([1,2])") == "users: expected an object, got array (at $)");
  CHECK(import_error<user>(R"("x")") == R"(users: expected an object, got string "x" (at $))");
  auto r = ormkit::from_json<user>(json(nullptr));
  REQUIRE_FALSE(r);
  CHECK(r.error().message == "users: expected an object, got null (at $)");
}

TEST_CASE("json: missing fields", "[json]") {
  // id (auto_increment), bio (optional), rank (default_value(5)), secrets: may be missing.
  auto r = ormkit::from_json_text<user>(R"({"email":"e","age":1,"logins":0})");
  REQUIRE(r);
  CHECK(r->id == 0);
  CHECK_FALSE(r->bio.has_value());
  CHECK(r->rank == 5);
  CHECK(import_error<user>(R"({"email":"e","logins":0})") == "users.age: required field is missing (at $.age)");
  CHECK(import_error<integers>("{}") == "integers.i8: required field is missing (at $.i8)");
}

TEST_CASE("json: text round trip and indentation", "[json]") {
  const user u = make_user();
  ormkit::json_options pretty;
  pretty.indent = 2;
  auto text = ormkit::to_json_text(u, pretty);
  REQUIRE(text);
  CHECK(text->starts_with("{\n  \"age\": 36,\n"));
  auto back = ormkit::from_json_text<user>(*text);
  REQUIRE(back);
  CHECK(back->email == u.email);
}

//=== the parser ===//

TEST_CASE("json: parse_json limits nesting to 64 levels by default", "[json]") {
  CHECK(ormkit::parse_json(nested_arrays(64)).has_value());
  auto deep = ormkit::parse_json(nested_arrays(65));
  REQUIRE_FALSE(deep);
  CHECK(deep.error().is(ormkit::errc::invalid_argument));
  CHECK(deep.error().message == "JSON nesting depth 65 exceeds the limit of 64");
  CHECK(ormkit::parse_json(R"({"a":)" + nested_arrays(63) + "}").has_value());
  CHECK(ormkit::parse_json(R"({"a":)" + nested_arrays(64) + "}").error().message ==
        "JSON nesting depth 65 exceeds the limit of 64");
  CHECK(ormkit::parse_json("[[1]]", 1).error().message == "JSON nesting depth 2 exceeds the limit of 1");
  CHECK(ormkit::parse_json("5", 0).has_value());
  CHECK_FALSE(ormkit::parse_json("[]", 0).has_value());

  // A hostile document: stops at the limit, without recursing or building it.
  CHECK(ormkit::parse_json(nested_arrays(1'000'000)).error().message ==
        "JSON nesting depth 65 exceeds the limit of 64");

  // The entity codec applies the limit to the whole document.
  const std::string member63 = R"({"id":1,"data":)" + nested_arrays(63) + "}";
  const std::string member64 = R"({"id":1,"data":)" + nested_arrays(64) + "}";
  auto ok = ormkit::from_json_text<docs>(member63);
  REQUIRE(ok);
  CHECK(ormkit::to_json_text(*ok).has_value());
  CHECK(import_error<docs>(member64) == "docs: JSON nesting depth 65 exceeds the limit of 64");

  // A deep DOM built in code is refused before it is copied or written.
  docs d{};
  json* p = &d.data;
  for (int i = 0; i < 100'000; ++i) {
    *p = json::array({nullptr});
    p = &(*p)[0];
  }
  auto r = ormkit::encode(d.data);
  REQUIRE_FALSE(r);
  CHECK(r.error().message.starts_with("JSON nests deeper than 64 levels (at $[0][0]"));
  CHECK(ormkit::to_json(d).error().message.starts_with("docs.data: JSON nests deeper than 64 levels (at $.data[0]"));
  json doc{{"id", 1}};
  doc["data"] = std::move(d.data);  // moved: copying a DOM this deep would recurse
  CHECK(ormkit::from_json<docs>(doc).error().message.starts_with("docs.data: JSON nests deeper than 64 levels"));
}

TEST_CASE("json: malformed JSON reports the byte position", "[json]") {
  auto err = [](std::string_view text) {
    auto r = ormkit::parse_json(text);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(ormkit::errc::invalid_argument));
    return r.error().message;
  };
  CHECK(err(R"({"a":x)") ==
        "malformed JSON at byte 6, line 1, column 6: syntax error while parsing value - invalid literal");
  CHECK(err("") ==
        "malformed JSON at byte 1, line 1, column 1: syntax error while parsing value - unexpected end of input; "
        "expected '[', '{', or a literal");
  CHECK(err("[1] x") ==
        "malformed JSON at byte 5, line 1, column 5: syntax error while parsing value - invalid literal; "
        "expected end of input");
  CHECK(err("{\n  \"a\" 1}") ==
        "malformed JSON at byte 9, line 2, column 7: syntax error while parsing object separator - unexpected "
        "number literal; expected ':'");
  CHECK(err("\"\xff\"") ==
        "malformed JSON at byte 2, line 1, column 2: syntax error while parsing value - invalid string: "
        "ill-formed UTF-8 byte");
  CHECK(err("1e400") == "malformed JSON at byte 5: number overflow parsing '1e400'");
  CHECK(err("[1,]").starts_with("malformed JSON at byte 4, line 1, column 4: "));
  CHECK(err("// c\n1").starts_with("malformed JSON at byte 1, "));  // no comments
  CHECK(import_error<user>("{") ==
        "users: malformed JSON at byte 2, line 1, column 2: syntax error while parsing object key - unexpected "
        "end of input; expected string literal");
}

TEST_CASE("json: duplicate keys are rejected, not resolved", "[json]") {
  CHECK(ormkit::parse_json(R"({"a":1,"a":2})").error().message == R"(duplicate key "a" in a JSON object (at $))");
  CHECK(ormkit::parse_json(R"({"x":[0,{"b":1,"b":1}]})").error().message ==
        R"(duplicate key "b" in a JSON object (at $.x[1]))");
  CHECK(ormkit::parse_json(R"({"a b":{"k":{},"k":[]}})").error().message ==
        R"(duplicate key "k" in a JSON object (at $["a b"]))");
  CHECK(ormkit::parse_json(R"([{"a":1},{"a":2}])").has_value());
  CHECK(import_error<user>(R"({"id":1,"email":"e","age":1,"age":200,"logins":0})") ==
        R"(users: duplicate key "age" in a JSON object (at $))");
}

TEST_CASE("json: parse_json keeps numbers exact and NUL in strings", "[json]") {
  auto j = ormkit::parse_json(R"([18446744073709551615,-9223372036854775808,0.1,"a\u0000b"])");
  REQUIRE(j);
  CHECK((*j)[0].get<std::uint64_t>() == 18446744073709551615u);
  CHECK((*j)[1].get<std::int64_t>() == INT64_MIN);
  CHECK((*j)[2].get<double>() == 0.1);
  CHECK((*j)[3].get<std::string>() == std::string("a\0b", 3));
}
