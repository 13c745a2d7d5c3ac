// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// Conformance: offset paging (page_of), keyset paging (page_after) through ties in both
// directions, streaming, and aggregates (count, count(column), sum, avg, min, max,
// group_by) with SQL's NULL rules.

#include <ormkit/repository.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"
#include "backends.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

using namespace ormkit_test;
using ormkit::col;
using ormkit::desc;
using ormkit::errc;
using ormkit::value;
using names = std::vector<std::string>;

// ann 30 Oslo 1.5 | bob NULL Bergen 2.0 | cid 25 NULL 2.0 | dan 40 Oslo -1 | eve NULL NULL 0
void seed(ormkit::repository<person>& people) {
  REQUIRE(people
              .insert_many({make_person("ann", 30, "Oslo", 1.5), make_person("bob", std::nullopt, "Bergen", 2.0),
                            make_person("cid", 25, std::nullopt, 2.0), make_person("dan", 40, "Oslo", -1),
                            make_person("eve", std::nullopt, std::nullopt, 0)})
              .has_value());
}

// p0..p<n-1>, score i % 3: many ties on the score.
void seed_ties(ormkit::repository<person>& people, int n) {
  std::vector<person> items;
  for (int i = 0; i < n; ++i) items.push_back(make_person("p" + std::to_string(i), i, std::nullopt, i % 3));
  REQUIRE(people.insert_many(std::move(items)).has_value());
}

struct walk {
  names seen;
  std::vector<std::size_t> page_sizes;
};

// Follows page_after from the start until has_more is false.
auto walk_pages(const ormkit::repository<person>& people, const ormkit::query<person>& q, std::uint64_t size)
    -> walk {
  walk out;
  std::optional<person> last;
  for (int guard = 0; guard < 100; ++guard) {
    auto page = people.page_after(q, last, size);
    REQUIRE(page.has_value());
    out.page_sizes.push_back(page->items.size());
    for (const auto& p : page->items) out.seen.push_back(p.name);
    if (!page->has_more) break;
    REQUIRE_FALSE(page->items.empty());
    last = page->items.back();
  }
  return out;
}

auto int_value(std::int64_t v) -> value { return value(v); }
auto text_value(const char* s) -> value { return value(std::string(s)); }

}  // namespace

TEMPLATE_TEST_CASE("paging: page_of reports the total the page count and has_next", "[conformance][paging]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  seed_ties(people, 7);
  auto q = ormkit::query<person>().order_by(&person::name);

  auto first = people.page_of(q, 1, 3).value();
  CHECK(names_of(first.items) == names{"p0", "p1", "p2"});
  CHECK(first.number == 1);
  CHECK(first.size == 3);
  CHECK(first.total == 7);
  CHECK(first.page_count() == 3);
  CHECK(first.has_next());

  auto second = people.page_of(q, 2, 3).value();
  CHECK(names_of(second.items) == names{"p3", "p4", "p5"});
  CHECK(second.has_next());

  auto last = people.page_of(q, 3, 3).value();
  CHECK(names_of(last.items) == names{"p6"});
  CHECK(last.total == 7);
  CHECK_FALSE(last.has_next());

  auto beyond = people.page_of(q, 4, 3).value();
  CHECK(beyond.items.empty());
  CHECK(beyond.total == 7);
  CHECK_FALSE(beyond.has_next());

  auto filtered = people.page_of(ormkit::query<person>(col(&person::score) == 0).order_by(&person::name), 1, 2).value();
  CHECK(names_of(filtered.items) == names{"p0", "p3"});
  CHECK(filtered.total == 3);
  CHECK(filtered.page_count() == 2);
  CHECK(filtered.has_next());

  auto exact = people.page_of(q, 1, 7).value();
  CHECK(exact.items.size() == 7);
  CHECK(exact.page_count() == 1);
  CHECK_FALSE(exact.has_next());

  auto zero = people.page_of(q, 0, 3);
  REQUIRE_FALSE(zero.has_value());
  CHECK(zero.error().is(errc::invalid_argument));
  CHECK(zero.error().message == "people: page number and size start at 1");
  CHECK(people.page_of(q, 1, 0).error().is(errc::invalid_argument));

  REQUIRE(people.erase_where(col(&person::id) > 0).value() == 7u);
  auto empty = people.page_of(q, 1, 3).value();
  CHECK(empty.items.empty());
  CHECK(empty.total == 0);
  CHECK(empty.page_count() == 0);
  CHECK_FALSE(empty.has_next());
}

TEMPLATE_TEST_CASE("paging: page_after walks every row once through ties ascending", "[conformance][paging]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  seed_ties(people, 10);
  const names expected{"p0", "p3", "p6", "p9", "p1", "p4", "p7", "p2", "p5", "p8"};
  auto q = ormkit::query<person>().order_by(&person::score);

  auto by3 = walk_pages(people, q, 3);
  CHECK(by3.seen == expected);
  CHECK(by3.page_sizes == std::vector<std::size_t>{3, 3, 3, 1});

  auto by5 = walk_pages(people, q, 5);  // an exact multiple: the last full page says has_more = false
  CHECK(by5.seen == expected);
  CHECK(by5.page_sizes == std::vector<std::size_t>{5, 5});

  auto by1 = walk_pages(people, q, 1);
  CHECK(by1.seen == expected);
  CHECK(by1.page_sizes.size() == 10);

  // The whole table in one page.
  auto all = people.page_after(q, std::nullopt, 100).value();
  CHECK(names_of(all.items) == expected);
  CHECK_FALSE(all.has_more);
}

TEMPLATE_TEST_CASE("paging: page_after walks every row once through ties descending", "[conformance][paging]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  seed_ties(people, 10);

  // Ties on the score are broken by the primary key, ascending.
  auto by_score = walk_pages(people, ormkit::query<person>().order_by(&person::score, desc), 3);
  CHECK(by_score.seen == names{"p2", "p5", "p8", "p1", "p4", "p7", "p0", "p3", "p6", "p9"});

  // Two order terms, the second descending too.
  auto two = walk_pages(people, ormkit::query<person>().order_by(&person::score, desc).order_by(&person::age, desc), 4);
  CHECK(two.seen == names{"p8", "p5", "p2", "p7", "p4", "p1", "p9", "p6", "p3", "p0"});

  // Ordered by the key itself.
  auto by_id = walk_pages(people, ormkit::query<person>().order_by(&person::id, desc), 4);
  CHECK(by_id.seen == names{"p9", "p8", "p7", "p6", "p5", "p4", "p3", "p2", "p1", "p0"});

  // A filter applies on every page.
  auto filtered =
      walk_pages(people, ormkit::query<person>(col(&person::score) > 0).order_by(&person::score, desc), 2);
  CHECK(filtered.seen == names{"p2", "p5", "p8", "p1", "p4", "p7"});

  // No order at all: key order.
  auto plain = walk_pages(people, ormkit::query<person>(), 3);
  CHECK(plain.seen == names{"p0", "p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"});

  std::set<std::string> unique(by_score.seen.begin(), by_score.seen.end());
  CHECK(unique.size() == 10);
}

TEMPLATE_TEST_CASE("paging: page_after on an empty table is one empty page", "[conformance][paging]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  auto page = people.page_after(ormkit::query<person>().order_by(&person::name), std::nullopt, 10).value();
  CHECK(page.items.empty());
  CHECK_FALSE(page.has_more);
}

TEMPLATE_TEST_CASE("paging: page_after with page size 0 is invalid_argument", "[conformance][paging]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  seed_ties(people, 3);
  // An empty page that claims more would send a caller's loop to items.back() of nothing.
  auto page = people.page_after(ormkit::query<person>(), std::nullopt, 0);
  REQUIRE_FALSE(page.has_value());
  CHECK(page.error().is(errc::invalid_argument));
  CHECK(page.error().message == "people: page size starts at 1");
}

TEMPLATE_TEST_CASE("stream: yields every matching row in order", "[conformance][stream]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());

  {
    auto none = people.stream();
    REQUIRE(none.has_value());
    int n = 0;
    for (const auto& p : *none) {
      (void)p;
      ++n;
    }
    CHECK(n == 0);
  }

  seed_ties(people, 50);
  auto s = people.stream(ormkit::query<person>().order_by(&person::age, desc));
  REQUIRE(s.has_value());
  std::vector<int> ages;
  for (const auto& p : *s) ages.push_back(p.age.value_or(-1));
  REQUIRE(ages.size() == 50);
  for (std::size_t i = 0; i < ages.size(); ++i) CHECK(ages[i] == 49 - static_cast<int>(i));

  auto filtered = people.stream(ormkit::query<person>(col(&person::score) == 2).order_by(&person::age).limit(3));
  REQUIRE(filtered.has_value());
  names got;
  for (const auto& p : *filtered) got.push_back(p.name);
  CHECK(got == names{"p2", "p5", "p8"});
}

TEMPLATE_TEST_CASE("stream: stops early on break and the backend stays usable", "[conformance][stream]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  seed_ties(people, 20);

  names got;
  {
    auto s = people.stream(ormkit::query<person>().order_by(&person::name));
    REQUIRE(s.has_value());
    for (const auto& p : *s) {
      got.push_back(p.name);
      if (got.size() == 3) break;
    }
  }
  CHECK(got == names{"p0", "p1", "p10"});

  // Writes and reads work after an abandoned stream.
  REQUIRE(people.insert(make_person("late")).has_value());
  CHECK(people.count().value() == 21u);
  CHECK(people.erase_where(col(&person::name) == "late").value() == 1u);
}

TEMPLATE_TEST_CASE("aggregate: count sum avg min and max over all rows", "[conformance][aggregate]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  seed(people);

  auto rows = people.run(ormkit::aggregate<person>()
                             .count()
                             .count(&person::age)
                             .sum(&person::age)
                             .avg(&person::age)
                             .min(&person::age)
                             .max(&person::age)
                             .sum(&person::score)
                             .min(&person::name)
                             .max(&person::city)
                             .min(&person::city));
  REQUIRE(rows.has_value());
  REQUIRE(rows->size() == 1);
  const auto& r = rows->front();
  REQUIRE(r.size() == 10);
  CHECK(r[0] == int_value(5));
  CHECK(r[1] == int_value(3));  // count(column) skips NULLs
  CHECK(r[2] == int_value(95));
  REQUIRE(ormkit::storage_of(r[3]) == ormkit::storage::real);
  CHECK(std::get<double>(r[3]) == Catch::Approx(95.0 / 3));
  CHECK(r[4] == int_value(25));
  CHECK(r[5] == int_value(40));
  REQUIRE(ormkit::storage_of(r[6]) == ormkit::storage::real);
  CHECK(std::get<double>(r[6]) == Catch::Approx(4.5));
  CHECK(r[7] == text_value("ann"));
  CHECK(r[8] == text_value("Oslo"));
  CHECK(r[9] == text_value("Bergen"));

  auto filtered = people.run(ormkit::aggregate<person>().where(col(&person::city) == "Oslo").count().sum(&person::age));
  CHECK(filtered.value() == ormkit::value_rows{{int_value(2), int_value(70)}});
}

TEMPLATE_TEST_CASE("aggregate: no rows give count 0 and NULL for everything else", "[conformance][aggregate]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  auto make = [] {
    return ormkit::aggregate<person>()
        .count()
        .count(&person::age)
        .sum(&person::age)
        .avg(&person::age)
        .min(&person::age)
        .max(&person::name)
        .sum(&person::score);
  };
  const ormkit::value_rows expected{{int_value(0), int_value(0), value(), value(), value(), value(), value()}};

  CHECK(people.run(make()).value() == expected);  // empty table

  seed(people);
  CHECK(people.run(make().where(col(&person::name) == "nobody")).value() == expected);  // nothing matches

  // Only NULLs in the column: count(*) counts the rows, the rest sees no values.
  auto nulls = people.run(ormkit::aggregate<person>()
                              .where(col(&person::age).is_null())
                              .count()
                              .count(&person::age)
                              .sum(&person::age)
                              .avg(&person::age)
                              .min(&person::age)
                              .max(&person::age));
  CHECK(nulls.value() == ormkit::value_rows{{int_value(2), int_value(0), value(), value(), value(), value()}});

  // Grouping an empty set gives no groups at all.
  CHECK(people.run(make().where(col(&person::name) == "nobody").group_by(&person::city)).value().empty());
  ormkit::repository<document> documents(fx.backend());
  CHECK(documents.run(ormkit::aggregate<document>().group_by(&document::title).count()).value().empty());
}

TEMPLATE_TEST_CASE("aggregate: group_by gives one row per group ordered by the group value",
                   "[conformance][aggregate]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  seed(people);

  auto rows = people.run(ormkit::aggregate<person>()
                             .group_by(&person::city)
                             .count()
                             .count(&person::age)
                             .sum(&person::age)
                             .max(&person::name));
  REQUIRE(rows.has_value());
  // The NULL group comes first.
  CHECK(*rows == ormkit::value_rows{
                     {value(), int_value(2), int_value(1), int_value(25), text_value("eve")},
                     {text_value("Bergen"), int_value(1), int_value(0), value(), text_value("bob")},
                     {text_value("Oslo"), int_value(2), int_value(2), int_value(70), text_value("dan")},
                 });

  auto avg = people.run(ormkit::aggregate<person>().group_by(&person::city).avg(&person::age)).value();
  REQUIRE(avg.size() == 3);
  CHECK(std::get<double>(avg[0][1]) == Catch::Approx(25.0));
  CHECK(avg[1][1] == value());
  CHECK(std::get<double>(avg[2][1]) == Catch::Approx(35.0));

  // where filters before grouping.
  auto filtered =
      people.run(ormkit::aggregate<person>().where(col(&person::score) > 0).group_by(&person::city).count()).value();
  CHECK(filtered == ormkit::value_rows{{value(), int_value(1)}, {text_value("Bergen"), int_value(1)},
                                       {text_value("Oslo"), int_value(1)}});

  // Two group columns.
  auto two = people.run(ormkit::aggregate<person>().group_by(&person::score).group_by(&person::city).count()).value();
  CHECK(two == ormkit::value_rows{{value(-1.0), text_value("Oslo"), int_value(1)},
                                  {value(0.0), value(), int_value(1)},
                                  {value(1.5), text_value("Oslo"), int_value(1)},
                                  {value(2.0), value(), int_value(1)},
                                  {value(2.0), text_value("Bergen"), int_value(1)}});
}
