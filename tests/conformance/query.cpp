// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// Conformance: every query operator with SQL's NULL semantics, LIKE, ordering (NULLs
// first ascending, last descending; text bytewise), several order terms, limit/offset,
// and values that cannot be encoded.

#include <ormkit/repository.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"
#include "backends.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace ormkit_test;
using ormkit::col;
using ormkit::desc;
using ormkit::errc;
using names = std::vector<std::string>;

// ann 30 Oslo 1.5 | bob NULL Bergen 2.0 | cid 25 NULL 2.0 | dan 40 Oslo -1 | eve NULL NULL 0
void seed(ormkit::repository<person>& people) {
  REQUIRE(people
              .insert_many({make_person("ann", 30, "Oslo", 1.5), make_person("bob", std::nullopt, "Bergen", 2.0),
                            make_person("cid", 25, std::nullopt, 2.0), make_person("dan", 40, "Oslo", -1),
                            make_person("eve", std::nullopt, std::nullopt, 0)})
              .has_value());
}

// Names of the rows matching `c`, sorted by name.
auto where(const ormkit::repository<person>& people, ormkit::condition<person> c) -> names {
  auto rows = people.find(ormkit::query<person>(std::move(c)).order_by(&person::name));
  REQUIRE(rows.has_value());
  return names_of(*rows);
}

auto in_raw(std::vector<ormkit::value> operands) -> ormkit::condition<person> {
  return {ormkit::expr{ormkit::op::in, col(&person::age).index(), std::move(operands), {}, {}}};
}

}  // namespace

TEMPLATE_TEST_CASE("query: comparisons match values and never NULL", "[conformance][query]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  seed(people);
  auto age = col(&person::age);

  CHECK(where(people, age == 30) == names{"ann"});
  CHECK(where(people, age != 30) == names{"cid", "dan"});
  CHECK(where(people, age < 30) == names{"cid"});
  CHECK(where(people, age <= 30) == names{"ann", "cid"});
  CHECK(where(people, age > 30) == names{"dan"});
  CHECK(where(people, age >= 30) == names{"ann", "dan"});
  // NOT of a comparison with NULL is still unknown: bob and eve never match.
  CHECK(where(people, !(age == 30)) == names{"cid", "dan"});
  CHECK(where(people, !(age < 30)) == names{"ann", "dan"});
  CHECK(where(people, !(age != 30)) == names{"ann"});

  CHECK(where(people, col(&person::name) == "bob") == names{"bob"});
  CHECK(where(people, col(&person::name) == std::string("bob")) == names{"bob"});
  CHECK(where(people, col(&person::name) > "c") == names{"cid", "dan", "eve"});
  CHECK(where(people, col(&person::city) == "Oslo") == names{"ann", "dan"});
  CHECK(where(people, col(&person::city) != "Oslo") == names{"bob"});

  CHECK(where(people, col(&person::score) == 2.0) == names{"bob", "cid"});
  CHECK(where(people, col(&person::score) == 2) == names{"bob", "cid"});  // an int against a real column
  CHECK(where(people, col(&person::score) > 1) == names{"ann", "bob", "cid"});
  CHECK(where(people, col(&person::score) < 0.0) == names{"dan"});
  CHECK(where(people, col(&person::score) >= -1.0) == names{"ann", "bob", "cid", "dan", "eve"});
}

TEMPLATE_TEST_CASE("query: in matches listed values and NULL never", "[conformance][query]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  seed(people);
  auto age = col(&person::age);

  CHECK(where(people, age.in({25, 40})) == names{"cid", "dan"});
  CHECK(where(people, !age.in({25, 40})) == names{"ann"});
  CHECK(where(people, age.in(std::vector<int>{30})) == names{"ann"});
  CHECK(where(people, col(&person::city).in({"Oslo", "Bergen"})) == names{"ann", "bob", "dan"});
  CHECK(where(people, col(&person::name).in({std::string("eve"), std::string("zed")})) == names{"eve"});

  // An empty list matches nothing, so its negation matches every row, NULLs included.
  CHECK(where(people, age.in(std::vector<int>{})).empty());
  CHECK(where(people, !age.in(std::vector<int>{})) == names{"ann", "bob", "cid", "dan", "eve"});

  // A NULL in the list: x IN (25, NULL) is TRUE for 25 and unknown otherwise, so NOT IN
  // matches nothing at all.
  CHECK(where(people, in_raw({ormkit::value(std::int64_t{25}), ormkit::value()})) == names{"cid"});
  CHECK(where(people, !in_raw({ormkit::value(std::int64_t{25}), ormkit::value()})).empty());
  CHECK(where(people, in_raw({ormkit::value()})).empty());
  CHECK(where(people, !in_raw({ormkit::value()})).empty());
}

TEMPLATE_TEST_CASE("query: between is inclusive and never matches NULL", "[conformance][query]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  seed(people);
  auto age = col(&person::age);

  CHECK(where(people, age.between(25, 30)) == names{"ann", "cid"});
  CHECK(where(people, age.between(30, 30)) == names{"ann"});
  CHECK(where(people, age.between(31, 29)).empty());
  CHECK(where(people, !age.between(25, 30)) == names{"dan"});
  CHECK(where(people, col(&person::score).between(-1.0, 0.0)) == names{"dan", "eve"});
  CHECK(where(people, col(&person::name).between("b", "d")) == names{"bob", "cid"});
  CHECK(where(people, col(&person::city).between("A", "C")) == names{"bob"});
}

TEMPLATE_TEST_CASE("query: is_null and is_not_null", "[conformance][query]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  seed(people);

  CHECK(where(people, col(&person::age).is_null()) == names{"bob", "eve"});
  CHECK(where(people, col(&person::age).is_not_null()) == names{"ann", "cid", "dan"});
  CHECK(where(people, !col(&person::age).is_null()) == names{"ann", "cid", "dan"});
  CHECK(where(people, col(&person::city).is_null()) == names{"cid", "eve"});
  CHECK(where(people, col(&person::name).is_null()).empty());
  CHECK(where(people, col(&person::age).is_null() && col(&person::city).is_null()) == names{"eve"});
}

TEMPLATE_TEST_CASE("query: and or and not follow three-valued logic", "[conformance][query]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  seed(people);
  auto age = col(&person::age);
  auto city = col(&person::city);

  CHECK(where(people, age > 26 || city == "Bergen") == names{"ann", "bob", "dan"});
  CHECK(where(people, age > 26 && city == "Oslo") == names{"ann", "dan"});
  // bob: unknown AND false = false, so NOT gives true; eve: unknown AND unknown stays unknown.
  CHECK(where(people, !(age > 26 && city == "Oslo")) == names{"bob", "cid"});
  // cid: false OR unknown = unknown; eve: unknown OR unknown = unknown; neither matches NOT.
  CHECK(where(people, !(age > 26 || city == "Bergen")).empty());
  CHECK(where(people, age.is_null() || age < 30) == names{"bob", "cid", "eve"});
  CHECK(where(people, (age < 30 || age > 35) && city == "Oslo") == names{"dan"});

  // where() called twice ANDs the conditions.
  auto q = ormkit::query<person>().where(age >= 25).where(city == "Oslo").order_by(&person::name);
  CHECK(names_of(people.find(q).value()) == names{"ann", "dan"});
}

TEMPLATE_TEST_CASE("query: like is case-sensitive with percent underscore and escapes", "[conformance][query]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  for (const char* n : {"alice", "Alan", "al%x", "al_x", "alx", "\xc3\x85lesund" /* Ålesund */,
                        "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e" /* 日本語 */, "a\\b", ""})
    REQUIRE(people.insert(make_person(n)).has_value());
  auto like = [&](const char* pattern) { return where(people, col(&person::name).like(pattern)); };

  CHECK(like("al%") == names{"al%x", "al_x", "alice", "alx"});
  CHECK(like("Al%") == names{"Alan"});
  CHECK(like("AL%").empty());
  CHECK(like("ALICE").empty());
  CHECK(like("_lan") == names{"Alan"});
  CHECK(like("al_x") == names{"al%x", "al_x"});
  CHECK(like("al\\%x") == names{"al%x"});
  CHECK(like("al\\_x") == names{"al_x"});
  CHECK(like("a\\\\b") == names{"a\\b"});
  CHECK(like("%x") == names{"al%x", "al_x", "alx"});
  CHECK(like("a%e") == names{"alice"});
  CHECK(like("a%%e") == names{"alice"});
  // `_` is one character, not one byte.
  CHECK(like("_lesund") == names{"\xc3\x85lesund"});
  CHECK(like("__lesund").empty());
  CHECK(like("\xe6\x97\xa5_\xe8\xaa\x9e") == names{"\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"});
  CHECK(like("___") == names{"a\\b", "alx", "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e"});
  CHECK(like("%").size() == 9);
  CHECK(like("") == names{""});

  // NULL never matches LIKE, nor NOT LIKE.
  ormkit::repository<person> cities(fx.backend());
  REQUIRE(cities.erase_where(col(&person::id) > 0).has_value());
  seed(cities);
  CHECK(where(cities, col(&person::city).like("O%")) == names{"ann", "dan"});
  CHECK(where(cities, !col(&person::city).like("O%")) == names{"bob"});
}

TEMPLATE_TEST_CASE("query: order_by puts NULLs first ascending and last descending", "[conformance][query]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  seed(people);
  auto sorted = [&](ormkit::query<person> q) { return names_of(people.find(q).value()); };

  CHECK(sorted(ormkit::query<person>().order_by(&person::age).order_by(&person::name)) ==
        names{"bob", "eve", "cid", "ann", "dan"});
  CHECK(sorted(ormkit::query<person>().order_by(&person::age, desc).order_by(&person::name)) ==
        names{"dan", "ann", "cid", "bob", "eve"});
  CHECK(sorted(ormkit::query<person>().order_by(&person::city).order_by(&person::name)) ==
        names{"cid", "eve", "bob", "ann", "dan"});
  CHECK(sorted(ormkit::query<person>().order_by(&person::name, desc)) == names{"eve", "dan", "cid", "bob", "ann"});
  CHECK(sorted(ormkit::query<person>().order_by(&person::score).order_by(&person::name)) ==
        names{"dan", "eve", "ann", "bob", "cid"});
}

TEMPLATE_TEST_CASE("query: several order terms apply in turn", "[conformance][query]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  seed(people);
  auto sorted = [&](ormkit::query<person> q) { return names_of(people.find(q).value()); };

  CHECK(sorted(ormkit::query<person>().order_by(&person::score, desc).order_by(&person::name, desc)) ==
        names{"cid", "bob", "ann", "eve", "dan"});
  CHECK(sorted(ormkit::query<person>().order_by(&person::score, desc).order_by(&person::name)) ==
        names{"bob", "cid", "ann", "eve", "dan"});
  CHECK(sorted(ormkit::query<person>().order_by(&person::city, desc).order_by(&person::age, desc)) ==
        names{"dan", "ann", "bob", "cid", "eve"});
  CHECK(sorted(ormkit::query<person>().where(col(&person::city) == "Oslo").order_by(&person::age, desc)) ==
        names{"dan", "ann"});
}

TEMPLATE_TEST_CASE("query: text orders bytewise", "[conformance][query]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  for (const char* n : {"b", "\xc3\xa9" /* é */, "B", "a", "A", "ab", "a b"}) REQUIRE(people.insert(make_person(n)).has_value());
  CHECK(names_of(people.find(ormkit::query<person>().order_by(&person::name)).value()) ==
        names{"A", "B", "a", "a b", "ab", "b", "\xc3\xa9"});
  CHECK(where(people, col(&person::name) < "a") == names{"A", "B"});
}

TEMPLATE_TEST_CASE("query: limit and offset take a window of the ordered rows", "[conformance][query]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  seed(people);
  auto window = [&](std::uint64_t offset, std::optional<std::uint64_t> limit) {
    auto q = ormkit::query<person>().order_by(&person::name).offset(offset);
    if (limit) q.limit(*limit);
    return names_of(people.find(q).value());
  };

  CHECK(window(0, 2) == names{"ann", "bob"});
  CHECK(window(1, 2) == names{"bob", "cid"});
  CHECK(window(4, 2) == names{"eve"});
  CHECK(window(5, 2).empty());
  CHECK(window(100, std::nullopt).empty());
  CHECK(window(3, std::nullopt) == names{"dan", "eve"});
  CHECK(window(0, 0).empty());
  CHECK(window(0, 100).size() == 5);

  auto first = people.find_one(ormkit::query<person>().order_by(&person::age, desc));
  REQUIRE(first.has_value());
  REQUIRE(first->has_value());
  CHECK((*first)->name == "dan");
  CHECK_FALSE(people.find_one(col(&person::name) == "zed").value().has_value());
  CHECK(people.find_one(col(&person::name) == "cid").value()->age == 25);
}

TEMPLATE_TEST_CASE("query: a value that cannot be stored is invalid_argument", "[conformance][query]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<all_types> rows(fx.backend());
  REQUIRE(rows.insert(all_types{}).has_value());
  const auto huge = std::numeric_limits<std::uint64_t>::max();
  const std::string message =
      "all_types: query value: value 18446744073709551615 of uint64 exceeds the int64 storage range";

  auto found = rows.find(col(&all_types::u64) == huge);
  REQUIRE_FALSE(found.has_value());
  CHECK(found.error().is(errc::invalid_argument));
  CHECK(found.error().message == message);
  CHECK(rows.count(col(&all_types::u64) < huge).error().message == message);
  CHECK(rows.exists(col(&all_types::u64).in({std::uint64_t{1}, huge})).error().message == message);
  CHECK(rows.erase_where(col(&all_types::u64) != huge).error().message == message);
  CHECK(rows.count().value() == 1u);  // nothing erased
}

TEMPLATE_TEST_CASE("query: integer operands outside the column type compare by value", "[conformance][query]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<all_types> rows(fx.backend());
  all_types low, zero, high;
  low.i8 = -128;
  low.u8 = 0;
  high.i8 = 127;
  high.u8 = 255;
  high.i32 = 2'000'000'000;
  REQUIRE(rows.insert_many({low, zero, high}).has_value());
  auto count = [&](ormkit::condition<all_types> c) { return rows.count(std::move(c)).value(); };

  // 300 does not fit in an int8: it must not wrap around to 44 and must compare as 300.
  CHECK(count(col(&all_types::i8) == 300) == 0u);
  CHECK(count(col(&all_types::i8) < 300) == 3u);
  CHECK(count(col(&all_types::i8) > -129) == 3u);
  CHECK(count(col(&all_types::i8) != 300) == 3u);
  CHECK(count(col(&all_types::i8).in({300, 127})) == 1u);
  CHECK(count(col(&all_types::u8) > -1) == 3u);
  CHECK(count(col(&all_types::u8) < 256) == 3u);
  CHECK(count(col(&all_types::u8) == 255) == 1u);
  CHECK(count(col(&all_types::i32) < std::int64_t{5'000'000'000}) == 3u);
  CHECK(count(col(&all_types::i32) > std::int64_t{-5'000'000'000}) == 3u);
  CHECK(count(col(&all_types::i32) == 2'000'000'000) == 1u);
}
