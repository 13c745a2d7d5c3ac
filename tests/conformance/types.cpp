// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// Conformance: every built-in column type survives a write, a reopen and a read exactly
// (extremes, -0.0, infinities, embedded NUL, invalid UTF-8, blobs, NULL, microsecond
// time points, durations, enums as integers and as text); values that cannot be stored
// are rejected naming table.column with nothing written; rejected validation writes nothing.

#include <ormkit/repository.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"
#include "backends.hpp"

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace {

using namespace ormkit_test;
using namespace std::chrono_literals;
using ormkit::col;
using ormkit::errc;

template <class T>
using lim = std::numeric_limits<T>;

auto at_ns(std::int64_t ns) -> time_point {
  return time_point(std::chrono::duration_cast<time_point::duration>(std::chrono::nanoseconds(ns)));
}

auto largest() -> all_types {
  all_types e;
  e.i8 = lim<std::int8_t>::max();
  e.i16 = lim<std::int16_t>::max();
  e.i32 = lim<std::int32_t>::max();
  e.i64 = lim<std::int64_t>::max();
  e.u8 = lim<std::uint8_t>::max();
  e.u16 = lim<std::uint16_t>::max();
  e.u32 = lim<std::uint32_t>::max();
  e.u64 = static_cast<std::uint64_t>(lim<std::int64_t>::max());  // the largest uint64 that fits
  e.f32 = lim<float>::max();
  e.f64 = lim<double>::max();
  e.flag = true;
  // Embedded NUL and bytes that are not UTF-8. The memory backend keeps text bytes exactly
  // (its JSON file stores non-UTF-8 text hex-encoded); every backend must do the same.
  e.text = std::string("nul\0inside \xff\xfe\xc3(", 16);
  e.bytes = bytes_of({0, 255, 0, 1, 127, 128});
  e.ubytes = {0, 128, 255};
  e.maybe_int = lim<std::int32_t>::min();
  e.maybe_text = "";  // present but empty: not NULL
  e.maybe_real = lim<double>::infinity();
  e.when = at_ns(1'700'000'000'123'456'000);
  e.maybe_when = at_ns(-1'000);  // before the epoch
  e.timeout = std::chrono::milliseconds::max();
  e.seconds = std::chrono::duration<double>(1.25);
  e.shade = color::blue;
  e.lvl = level::high;
  e.maybe_shade = color::green;
  return e;
}

auto smallest() -> all_types {
  all_types e;
  e.i8 = lim<std::int8_t>::min();
  e.i16 = lim<std::int16_t>::min();
  e.i32 = lim<std::int32_t>::min();
  e.i64 = lim<std::int64_t>::min();
  e.f32 = -lim<float>::infinity();
  e.f64 = -0.0;
  e.text = std::string(1, '\0');
  e.bytes = bytes_of({0});
  e.maybe_int = 0;
  e.maybe_text = std::string("\x80", 1);
  e.maybe_real = -lim<double>::infinity();
  e.when = at_ns(-50'000'000'123'456'000);  // 1968, a whole microsecond
  e.timeout = std::chrono::milliseconds::min();
  e.seconds = std::chrono::duration<double>(-0.5);
  e.shade = color::red;
  e.lvl = level::low;
  return e;
}

auto odd_values() -> all_types {
  all_types e;
  e.i8 = -1;
  e.u64 = 1;
  e.f32 = lim<float>::denorm_min();
  e.text = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e \"quoted\" \\ {\"t\":\"00\"}";  // looks like the file encoding
  e.maybe_real = -0.0;
  e.maybe_text = "{\"x\":\"00ff\"}";
  e.f64 = 0.1;
  e.timeout = -5ms;
  e.shade = color::green;
  e.lvl = level::mid;
  std::vector<std::byte> every;
  for (int i = 0; i < 256; ++i) every.push_back(static_cast<std::byte>(i));
  e.bytes = every;
  return e;
}

// A backend whose text type holds only UTF-8 without NUL bytes (PostgreSQL's text, unlike
// SQLite's and the memory backend's) rejects other text with errc::invalid_argument naming
// the column, before anything is written (reliability.md finding 14); its fixture says so
// with `utf8_text_only()`. Such text is then part of the test as a rejected value.
template <class Fixture>
auto utf8_text_only(Fixture& fx) -> bool {
  if constexpr (requires { fx.utf8_text_only(); }) return fx.utf8_text_only();
  else return false;
}

auto storable_text(const std::string& s) -> bool {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == 0) return false;
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
    i += n;
  }
  return true;
}

// The bytes of `s` in hex: distinct texts stay distinct.
auto hex_of(const std::string& s) -> std::string {
  constexpr char digits[] = "0123456789abcdef";
  std::string out = "hex:";
  for (char c : s) {
    out += digits[static_cast<unsigned char>(c) >> 4];
    out += digits[static_cast<unsigned char>(c) & 15];
  }
  return out;
}

// `e`, with text a UTF-8-only backend cannot store replaced by (distinct) text it can.
auto storable(all_types e) -> all_types {
  if (!storable_text(e.text)) e.text = hex_of(e.text);
  if (e.maybe_text && !storable_text(*e.maybe_text)) e.maybe_text = hex_of(*e.maybe_text);
  return e;
}

// Inserts `e`; on a UTF-8-only backend, first checks that the original is rejected naming
// the column when its text cannot be stored, and inserts the storable version instead.
template <class Fixture>
auto insert_typed(Fixture& fx, ormkit::repository<all_types>& rows, const all_types& e) -> ormkit::result<all_types> {
  if (!utf8_text_only(fx)) return rows.insert(e);
  const all_types ok = storable(e);
  if (!(ok == e)) {
    const auto before = rows.count().value();
    auto r = rows.insert(e);
    REQUIRE_FALSE(r.has_value());
    CAPTURE(r.error().message);
    CHECK(r.error().is(errc::invalid_argument));
    CHECK((contains(r.error().message, "all_types.text: ") || contains(r.error().message, "all_types.maybe_text: ")));
    CHECK(rows.count().value() == before);
  }
  return rows.insert(ok);
}

}  // namespace

TEMPLATE_TEST_CASE("types: every column type round trips exactly", "[conformance][types]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  std::vector<all_types> written;
  {
    ormkit::repository<all_types> rows(fx.backend());
    for (const auto& e : {all_types{}, largest(), smallest(), odd_values()}) {
      auto r = insert_typed(fx, rows, e);
      REQUIRE(r.has_value());
      written.push_back(*r);
      CHECK(rows.get(r->id).value() == *r);  // before a reopen
    }
  }
  fx.reopen();
  ormkit::repository<all_types> rows(fx.backend());
  auto read = rows.find(ormkit::query<all_types>().order_by(&all_types::id)).value();
  REQUIRE(read.size() == written.size());
  for (std::size_t i = 0; i < read.size(); ++i) {
    CAPTURE(i);
    CHECK(read[i] == written[i]);
  }

  // What == cannot see: the sign of zero.
  CHECK(std::signbit(read[2].f64));
  CHECK_FALSE(std::signbit(read[0].f64));
  REQUIRE(read[3].maybe_real.has_value());
  CHECK(std::signbit(*read[3].maybe_real));
  CHECK(std::isinf(read[1].maybe_real.value()));
  CHECK(std::isinf(read[2].f32));
  CHECK(read[2].f32 < 0);

  if (!utf8_text_only(fx)) {
    CHECK(read[1].text.size() == 16);
    CHECK(read[1].text[3] == '\0');
    CHECK(read[2].text == std::string(1, '\0'));
  }
  CHECK(read[1].maybe_text == std::optional<std::string>(""));
  CHECK_FALSE(read[0].maybe_text.has_value());
  CHECK(read[3].bytes.size() == 256);
}

TEMPLATE_TEST_CASE("types: each type can be matched by a query", "[conformance][types]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<all_types> rows(fx.backend());
  auto big = insert_typed(fx, rows, largest()).value();
  auto small = insert_typed(fx, rows, smallest()).value();
  auto zero = rows.insert(all_types{}).value();
  auto only = [&](ormkit::condition<all_types> c) {
    return ids_of(rows.find(ormkit::query<all_types>(std::move(c)).order_by(&all_types::id)).value());
  };
  using ids = std::vector<std::int64_t>;

  CHECK(only(col(&all_types::i64) == lim<std::int64_t>::min()) == ids{small.id});
  CHECK(only(col(&all_types::u64) == big.u64) == ids{big.id});
  CHECK(only(col(&all_types::u32) > std::uint32_t{0}) == ids{big.id});
  CHECK(only(col(&all_types::f32) == lim<float>::max()) == ids{big.id});
  CHECK(only(col(&all_types::f64) < -1.0) == ids{});
  CHECK(only(col(&all_types::f64) == 0.0) == ids{small.id, zero.id});  // -0.0 equals 0.0
  CHECK(only(col(&all_types::flag) == true) == ids{big.id});
  CHECK(only(col(&all_types::text) == big.text) == ids{big.id});
  CHECK(only(col(&all_types::text) == small.text) == ids{small.id});
  CHECK(only(col(&all_types::bytes) == big.bytes) == ids{big.id});
  CHECK(only(col(&all_types::maybe_text) == "") == ids{big.id});
  CHECK(only(col(&all_types::maybe_text).is_null()) == ids{zero.id});
  CHECK(only(col(&all_types::when) == big.when) == ids{big.id});
  CHECK(only(col(&all_types::when) < time_point{}) == ids{small.id});
  CHECK(only(col(&all_types::maybe_when) == at_ns(-1'000)) == ids{big.id});
  CHECK(only(col(&all_types::timeout) == std::chrono::milliseconds::max()) == ids{big.id});
  CHECK(only(col(&all_types::shade) == color::blue) == ids{big.id});
  CHECK(only(col(&all_types::shade).in({color::red, color::green})) == ids{small.id, zero.id});
  CHECK(only(col(&all_types::lvl) == level::low) == ids{small.id});
  CHECK(only(col(&all_types::maybe_shade) == color::green) == ids{big.id});
}

TEMPLATE_TEST_CASE("types: enums are stored as their integer or their name", "[conformance][types]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<all_types> rows(fx.backend());
  REQUIRE(insert_typed(fx, rows, largest()).has_value());
  auto r = rows.run(ormkit::aggregate<all_types>()
                        .max(&all_types::shade)
                        .max(&all_types::lvl)
                        .max(&all_types::maybe_shade)
                        .max(&all_types::flag)
                        .max(&all_types::when)
                        .max(&all_types::timeout))
               .value();
  CHECK(r == ormkit::value_rows{{ormkit::value(std::string("blue")), ormkit::value(std::int64_t{300}),
                                 ormkit::value(std::string("green")), ormkit::value(std::int64_t{1}),
                                 ormkit::value(std::int64_t{1'700'000'000'123'456}),
                                 ormkit::value(std::int64_t{lim<std::int64_t>::max()})}});
}

TEMPLATE_TEST_CASE("types: time points keep microseconds and drop finer parts", "[conformance][types]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<all_types> rows(fx.backend());
  all_types e;
  e.when = at_ns(1'700'000'000'123'456'789);
  e.maybe_when = at_ns(-1);  // floors to -1 µs, never rounds toward zero
  auto id = rows.insert(e).value().id;
  fx.reopen();
  ormkit::repository<all_types> reopened(fx.backend());
  auto got = reopened.get(id).value();
  CHECK(got.when == at_ns(1'700'000'000'123'456'000));
  CHECK(got.maybe_when == at_ns(-1'000));
}

TEMPLATE_TEST_CASE("types: a uint64 above the int64 range is rejected and nothing is stored",
                   "[conformance][types]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<all_types> rows(fx.backend());
  all_types e;
  e.u64 = static_cast<std::uint64_t>(lim<std::int64_t>::max()) + 1;
  const std::string message = "all_types.u64: value 9223372036854775808 of uint64 exceeds the int64 storage range";

  auto r = rows.insert(e);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(errc::invalid_argument));
  CHECK(r.error().message == message);
  CHECK(rows.count().value() == 0u);

  auto batch = rows.insert_many({all_types{}, e});
  REQUIRE_FALSE(batch.has_value());
  CHECK(batch.error().message == message + " (batch item 1)");
  CHECK(rows.count().value() == 0u);

  auto stored = rows.insert(all_types{}).value();
  auto bad = stored;
  bad.u64 = lim<std::uint64_t>::max();
  bad.i8 = 5;
  CHECK(rows.update(bad).error().is(errc::invalid_argument));
  CHECK(rows.upsert(bad).error().is(errc::invalid_argument));
  CHECK(rows.get(stored.id).value() == stored);
  CHECK(rows.count().value() == 1u);
}

TEMPLATE_TEST_CASE("types: an enum value without a name is rejected and nothing is stored",
                   "[conformance][types]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<all_types> rows(fx.backend());

  all_types e;
  e.shade = static_cast<color>(7);
  auto r = rows.insert(e);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(errc::invalid_argument));
  CHECK(r.error().message == "all_types.shade: enum value 7 has no name in ormkit_enum_names");

  // In an optional column it must not turn into NULL either.
  all_types o;
  o.maybe_shade = static_cast<color>(9);
  auto q = rows.insert(o);
  REQUIRE_FALSE(q.has_value());
  CHECK(q.error().is(errc::invalid_argument));
  CHECK(q.error().message == "all_types.maybe_shade: enum value 9 has no name in ormkit_enum_names");
  CHECK(rows.count().value() == 0u);
}

TEMPLATE_TEST_CASE("validation: a rejected write changes nothing", "[conformance][validation]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend());

  auto bad = make_user("x@", "", 200);
  auto r = users.insert(bad);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(errc::validation_failed));
  REQUIRE(r.error().violations.size() == 3);
  CHECK(r.error().violations[0].column == "email");
  CHECK(r.error().violations[1].column == "name");
  CHECK(r.error().violations[2].column == "age");
  CHECK(users.count().value() == 0u);
  CHECK(users.upsert(bad).error().is(errc::validation_failed));
  CHECK(users.count().value() == 0u);

  auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
  auto edit = ann;
  edit.age = -1;
  edit.name = "Changed";
  auto u = users.update(edit);
  REQUIRE_FALSE(u.has_value());
  CHECK(u.error().is(errc::validation_failed));
  CHECK(u.error().message == "users: 1 violation: users.age: must be between 0 and 150 (got -1)");
  CHECK(users.update_columns(edit, &user::age).error().is(errc::validation_failed));
  CHECK(users.upsert(edit).error().is(errc::validation_failed));

  fx.reopen();
  ormkit::repository<user> reopened(fx.backend());
  CHECK(reopened.get(ann.id).value() == ann);  // version unchanged too
  CHECK(reopened.count().value() == 1u);
}
