// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// ormkit::column_traits: every built-in type to and from ormkit::value, with the storage
// class, the trait name (hashed into schema hashes), the SQL kind, and the exact error
// messages for values out of range or of the wrong storage class.

#include <ormkit/column_traits.hpp>

#include "../support/catch.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace ct_test {

enum class color { red, green, blue };
constexpr auto ormkit_enum_names(std::type_identity<color>) {
  return std::array{std::pair{color::red, std::string_view("red")},
                    std::pair{color::green, std::string_view("green")}};  // blue has no name
}
enum class level : std::int8_t { low = -1, high = 100 };
enum plain_enum : unsigned { zero = 0, big = 4'000'000'000u };
struct not_storable {};

}  // namespace ct_test

namespace {

using ormkit::decode;
using ormkit::encode;
using ormkit::errc;
using ormkit::storage;
using ormkit::value;
using ormkit::value_view;
using ct_test::color;
using ct_test::level;

template <class T>
using lim = std::numeric_limits<T>;

auto int_view(std::int64_t v) -> value_view { return v; }

// The message of decoding `v` as T, which must fail with invalid_argument.
template <class T>
auto decode_error(const value_view& v) -> std::string {
  auto r = decode<T>(v);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(errc::invalid_argument));
  return r.error().message;
}

template <class T>
auto encode_error(const T& v) -> std::string {
  auto r = encode(v);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(errc::invalid_argument));
  return r.error().message;
}

// Encodes and decodes `v`; returns the decoded value.
template <class T>
auto round_trip(const T& v) -> T {
  auto e = encode(v);
  REQUIRE(e.has_value());
  CHECK(ormkit::storage_of(*e) == ormkit::column_traits<T>::storage);
  auto d = decode<T>(ormkit::view(*e));
  REQUIRE(d.has_value());
  return *d;
}

}  // namespace

TEST_CASE("column_traits: integers round trip at their limits", "[column_traits]") {
  CHECK(round_trip(lim<std::int8_t>::min()) == lim<std::int8_t>::min());
  CHECK(round_trip(lim<std::int8_t>::max()) == lim<std::int8_t>::max());
  CHECK(round_trip(lim<std::int16_t>::min()) == lim<std::int16_t>::min());
  CHECK(round_trip(lim<std::int32_t>::max()) == lim<std::int32_t>::max());
  CHECK(round_trip(lim<std::int64_t>::min()) == lim<std::int64_t>::min());
  CHECK(round_trip(lim<std::int64_t>::max()) == lim<std::int64_t>::max());
  CHECK(round_trip(lim<std::uint8_t>::max()) == lim<std::uint8_t>::max());
  CHECK(round_trip(lim<std::uint16_t>::max()) == lim<std::uint16_t>::max());
  CHECK(round_trip(lim<std::uint32_t>::max()) == lim<std::uint32_t>::max());
  const auto largest = static_cast<std::uint64_t>(lim<std::int64_t>::max());
  CHECK(round_trip(largest) == largest);
  CHECK(round_trip(std::uint64_t{0}) == 0u);

  CHECK(encode(std::int8_t{-5}).value() == value(std::int64_t{-5}));
  CHECK(encode(std::uint32_t{4'000'000'000u}).value() == value(std::int64_t{4'000'000'000}));

  CHECK(ormkit::column_traits<std::int8_t>::name == "int8");
  CHECK(ormkit::column_traits<std::int16_t>::name == "int16");
  CHECK(ormkit::column_traits<std::int32_t>::name == "int32");
  CHECK(ormkit::column_traits<std::int64_t>::name == "int64");
  CHECK(ormkit::column_traits<std::uint8_t>::name == "uint8");
  CHECK(ormkit::column_traits<std::uint16_t>::name == "uint16");
  CHECK(ormkit::column_traits<std::uint32_t>::name == "uint32");
  CHECK(ormkit::column_traits<std::uint64_t>::name == "uint64");
  STATIC_REQUIRE(ormkit::column_traits<short>::storage == storage::integer);
  STATIC_REQUIRE(ormkit::sql_kind_of<std::uint16_t>() == ormkit::sql_kind::integer);
}

TEST_CASE("column_traits: integers out of range are rejected with the value and type", "[column_traits]") {
  CHECK(decode_error<std::int8_t>(int_view(128)) == "value 128 is out of range for int8");
  CHECK(decode_error<std::int8_t>(int_view(-129)) == "value -129 is out of range for int8");
  CHECK(decode_error<std::int16_t>(int_view(40'000)) == "value 40000 is out of range for int16");
  CHECK(decode_error<std::int32_t>(int_view(std::int64_t{1} << 31)) == "value 2147483648 is out of range for int32");
  CHECK(decode_error<std::uint8_t>(int_view(256)) == "value 256 is out of range for uint8");
  CHECK(decode_error<std::uint8_t>(int_view(-1)) == "value -1 is out of range for uint8");
  CHECK(decode_error<std::uint16_t>(int_view(65'536)) == "value 65536 is out of range for uint16");
  CHECK(decode_error<std::uint32_t>(int_view(std::int64_t{1} << 32)) == "value 4294967296 is out of range for uint32");
  CHECK(decode_error<std::uint64_t>(int_view(-1)) == "value -1 is out of range for uint64");

  CHECK(encode_error(lim<std::uint64_t>::max()) ==
        "value 18446744073709551615 of uint64 exceeds the int64 storage range");
  CHECK(encode_error(static_cast<std::uint64_t>(lim<std::int64_t>::max()) + 1) ==
        "value 9223372036854775808 of uint64 exceeds the int64 storage range");
}

TEST_CASE("column_traits: a wrong storage class names both classes and the value", "[column_traits]") {
  CHECK(decode_error<int>(value_view(std::string_view("abc"))) == "expected integer for int32, got text \"abc\"");
  CHECK(decode_error<int>(value_view()) == "expected integer for int32, got null");
  CHECK(decode_error<int>(value_view(1.5)) == "expected integer for int32, got real 1.5");
  CHECK(decode_error<std::string>(int_view(7)) == "expected text for string, got integer 7");
  CHECK(decode_error<std::vector<std::byte>>(value_view(std::string_view("x"))) ==
        "expected blob for bytes, got text \"x\"");
  CHECK(decode_error<double>(value_view(std::string_view("1.5"))) == "expected real for float64, got text \"1.5\"");
  CHECK(decode_error<bool>(value_view(std::string_view("true"))) == "expected integer for bool, got text \"true\"");
  // Long values are cut at 32 bytes, and control characters escaped.
  CHECK(decode_error<int>(value_view(std::string_view("0123456789012345678901234567890123456789"))) ==
        "expected integer for int32, got text \"01234567890123456789012345678901\"... (40 bytes)");
  CHECK(decode_error<int>(value_view(std::string_view("a\nb"))) == "expected integer for int32, got text \"a\\x0ab\"");
  CHECK(ormkit::column_traits_mismatch("money", storage::integer, value_view(2.5)).message ==
        "expected integer for money, got real 2.5");
}

TEST_CASE("column_traits: bool is 0 or 1", "[column_traits]") {
  CHECK(encode(true).value() == value(std::int64_t{1}));
  CHECK(encode(false).value() == value(std::int64_t{0}));
  CHECK(decode<bool>(int_view(1)).value());
  CHECK_FALSE(decode<bool>(int_view(0)).value());
  CHECK(decode_error<bool>(int_view(2)) == "value 2 is not a bool (0 or 1)");
  CHECK(decode_error<bool>(int_view(-1)) == "value -1 is not a bool (0 or 1)");
  CHECK(ormkit::column_traits<bool>::name == "bool");
  STATIC_REQUIRE(ormkit::sql_kind_of<bool>() == ormkit::sql_kind::boolean);
}

TEST_CASE("column_traits: floating point keeps every value", "[column_traits]") {
  CHECK(std::signbit(round_trip(-0.0)));
  CHECK(round_trip(lim<double>::infinity()) == lim<double>::infinity());
  CHECK(round_trip(-lim<double>::infinity()) == -lim<double>::infinity());
  CHECK(round_trip(lim<double>::denorm_min()) == lim<double>::denorm_min());
  CHECK(round_trip(0.1) == 0.1);
  CHECK(std::isnan(round_trip(lim<double>::quiet_NaN())));
  CHECK(round_trip(lim<float>::max()) == lim<float>::max());
  CHECK(round_trip(-lim<float>::infinity()) == -lim<float>::infinity());
  CHECK(std::signbit(round_trip(-0.0f)));
  CHECK(encode(1.5f).value() == value(1.5));

  // An integer is a valid real; a double beyond float's range is not a float.
  CHECK(decode<double>(int_view(3)).value() == 3.0);
  CHECK(decode<float>(int_view(-2)).value() == -2.0f);
  CHECK(decode_error<float>(value_view(1e300)) == "value 1e+300 is out of range for float32");
  CHECK(decode_error<float>(value_view(-1e39)) == "value -1e+39 is out of range for float32");
  CHECK(decode<float>(value_view(lim<double>::infinity())).value() == lim<float>::infinity());

  CHECK(ormkit::column_traits<float>::name == "float32");
  CHECK(ormkit::column_traits<double>::name == "float64");
  STATIC_REQUIRE(ormkit::column_traits<double>::storage == storage::real);
}

TEST_CASE("column_traits: strings and blobs keep every byte", "[column_traits]") {
  const std::string odd("a\0b\xff\xfe", 5);
  CHECK(round_trip(odd) == odd);
  CHECK(round_trip(std::string()).empty());

  // to_view borrows: the view points into the string.
  ormkit::value scratch;
  auto v = ormkit::encode_view(odd, scratch).value();
  REQUIRE(std::holds_alternative<std::string_view>(v));
  CHECK(std::get<std::string_view>(v).data() == odd.data());
  CHECK(std::holds_alternative<std::monostate>(scratch));  // not used

  const std::vector<std::byte> bytes{std::byte{0}, std::byte{255}, std::byte{0}};
  CHECK(round_trip(bytes) == bytes);
  CHECK(round_trip(std::vector<std::byte>{}).empty());
  const std::vector<unsigned char> uchars{0, 128, 255};
  CHECK(round_trip(uchars) == uchars);
  auto bv = ormkit::encode_view(uchars, scratch).value();
  REQUIRE(std::holds_alternative<ormkit::blob_view>(bv));
  CHECK(static_cast<const void*>(std::get<ormkit::blob_view>(bv).data()) == static_cast<const void*>(uchars.data()));

  CHECK(ormkit::column_traits<std::string>::name == "string");
  CHECK(ormkit::column_traits<std::vector<std::byte>>::name == "bytes");
  CHECK(ormkit::column_traits<std::vector<unsigned char>>::name == "bytes");
  STATIC_REQUIRE(ormkit::sql_kind_of<std::vector<std::byte>>() == ormkit::sql_kind::blob);
}

TEST_CASE("column_traits: optional is NULL when empty", "[column_traits]") {
  using opt = std::optional<std::int8_t>;
  CHECK(encode(opt{}).value() == value());
  CHECK(encode(opt{5}).value() == value(std::int64_t{5}));
  CHECK(decode<opt>(value_view()).value() == std::nullopt);
  CHECK(decode<opt>(int_view(-7)).value() == opt{-7});
  CHECK(decode_error<opt>(int_view(1000)) == "value 1000 is out of range for int8");  // the inner check applies
  CHECK(encode_error(std::optional<std::uint64_t>(lim<std::uint64_t>::max())) ==
        "value 18446744073709551615 of uint64 exceeds the int64 storage range");

  // An empty string is not NULL.
  CHECK(encode(std::optional<std::string>("")).value() == value(std::string()));
  CHECK(decode<std::optional<std::string>>(value_view(std::string_view())).value() == std::optional<std::string>(""));

  STATIC_REQUIRE(ormkit::is_nullable_v<opt>);
  STATIC_REQUIRE_FALSE(ormkit::is_nullable_v<std::int8_t>);
  CHECK(ormkit::column_traits<opt>::name == "int8");  // nullability is hashed separately
  STATIC_REQUIRE(ormkit::sql_kind_of<std::optional<bool>>() == ormkit::sql_kind::boolean);
}

TEST_CASE("column_traits: time points are microseconds since the epoch", "[column_traits]") {
  using namespace std::chrono;
  using tp = system_clock::time_point;
  auto at = [](std::int64_t ns) { return tp(duration_cast<tp::duration>(nanoseconds(ns))); };

  CHECK(encode(tp{}).value() == value(std::int64_t{0}));
  CHECK(encode(at(1'700'000'000'123'456'789)).value() == value(std::int64_t{1'700'000'000'123'456}));
  CHECK(encode(at(-1)).value() == value(std::int64_t{-1}));  // floor, not toward zero
  CHECK(encode(at(-1'500)).value() == value(std::int64_t{-2}));
  CHECK(decode<tp>(int_view(1'700'000'000'123'456)).value() == at(1'700'000'000'123'456'000));
  CHECK(round_trip(at(-86'400'000'000'000)) == at(-86'400'000'000'000));

  // Other precisions.
  using tp_s = time_point<system_clock, seconds>;
  CHECK(encode(tp_s(seconds(2))).value() == value(std::int64_t{2'000'000}));
  CHECK(decode<tp_s>(int_view(2'999'999)).value() == tp_s(seconds(2)));
  using tp_us = time_point<system_clock, microseconds>;
  CHECK(round_trip(tp_us(microseconds(lim<std::int64_t>::max()))) == tp_us(microseconds(lim<std::int64_t>::max())));

  // Nanosecond time points cover only about +-292 years.
  CHECK(decode_error<tp>(int_view(lim<std::int64_t>::max())) ==
        "timestamp 9223372036854775807 us is out of range for this time point type");
  CHECK(decode_error<tp>(value_view(std::string_view("2024-01-01"))) ==
        "expected integer for timestamp_us, got text \"2024-01-01\"");
  STATIC_REQUIRE(ormkit::sql_kind_of<tp>() == ormkit::sql_kind::timestamp);
  CHECK(ormkit::column_traits<tp>::name == "timestamp_us");
}

TEST_CASE("column_traits: durations store their own ticks", "[column_traits]") {
  using namespace std::chrono;
  CHECK(encode(milliseconds(1500)).value() == value(std::int64_t{1500}));
  CHECK(encode(seconds(-3)).value() == value(std::int64_t{-3}));
  CHECK(encode(duration<double>(1.25)).value() == value(1.25));
  CHECK(round_trip(minutes(90)) == minutes(90));
  CHECK(round_trip(duration<float, std::milli>(2.5f)) == duration<float, std::milli>(2.5f));
  CHECK(decode_error<duration<std::int16_t>>(int_view(100'000)) == "value 100000 is out of range for int16");
  CHECK(encode_error(duration<std::uint64_t>(lim<std::uint64_t>::max())) ==
        "value 18446744073709551615 of uint64 exceeds the int64 storage range");
  STATIC_REQUIRE(ormkit::column_traits<seconds>::storage == storage::integer);
  STATIC_REQUIRE(ormkit::column_traits<duration<double>>::storage == storage::real);
  CHECK(ormkit::column_traits<seconds>::name == "duration");
}

TEST_CASE("column_traits: enums are their integer or their name", "[column_traits]") {
  CHECK(encode(level::low).value() == value(std::int64_t{-1}));
  CHECK(decode<level>(int_view(100)).value() == level::high);
  CHECK(decode_error<level>(int_view(200)) == "value 200 is out of range for int8");
  CHECK(encode(ct_test::big).value() == value(std::int64_t{4'000'000'000}));
  CHECK(round_trip(ct_test::big) == ct_test::big);
  STATIC_REQUIRE(ormkit::column_traits<level>::storage == storage::integer);
  CHECK(ormkit::column_traits<level>::name == "enum_int");

  CHECK(encode(color::green).value() == value(std::string("green")));
  CHECK(decode<color>(value_view(std::string_view("red"))).value() == color::red);
  CHECK(encode_error(color::blue) == "enum value 2 has no name in ormkit_enum_names");
  CHECK(encode_error(std::optional<color>(color::blue)) == "enum value 2 has no name in ormkit_enum_names");
  CHECK(decode_error<color>(value_view(std::string_view("purple"))) == "unknown enum name \"purple\"");
  CHECK(decode_error<color>(value_view(std::string_view("Red"))) == "unknown enum name \"Red\"");  // exact match
  CHECK(decode_error<color>(int_view(0)) == "expected text for enum_text, got integer 0");
  STATIC_REQUIRE(ormkit::column_traits<color>::storage == storage::text);
  CHECK(ormkit::column_traits<color>::name == "enum_text");
  STATIC_REQUIRE(ormkit::sql_kind_of<color>() == ormkit::sql_kind::text);
}

TEST_CASE("column_traits: column_value accepts the built-in types only", "[column_traits]") {
  STATIC_REQUIRE(ormkit::column_value<int>);
  STATIC_REQUIRE(ormkit::column_value<std::optional<std::string>>);
  STATIC_REQUIRE(ormkit::column_value<std::chrono::system_clock::time_point>);
  STATIC_REQUIRE(ormkit::column_value<color>);
  STATIC_REQUIRE_FALSE(ormkit::column_value<ct_test::not_storable>);
  STATIC_REQUIRE_FALSE(ormkit::column_value<ct_test::not_storable*>);
}
