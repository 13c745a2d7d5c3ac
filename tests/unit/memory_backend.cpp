// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// ormkit::memory::backend beyond the conformance suite: concurrent callers (inserts,
// serializable transactions, readers waiting for a writer's transaction), cursor
// snapshots, the untyped calls' checks (storage class, NULL, width), schema mismatch,
// transaction-state errors and savepoints on the raw API, and the SQL semantics of
// memory/eval.hpp (LIKE, three-valued logic, aggregates).

#include <ormkit/memory/backend.hpp>

#include <ormkit/memory/eval.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/transaction.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace {

using namespace ormkit_test;
using namespace std::chrono_literals;
using ormkit::col;
using ormkit::errc;
using ormkit::value;
using ormkit::value_view;
using ormkit::memory::truth;
using names = std::vector<std::string>;

// Same table name as person, one more column.
struct person_v2 {
  std::int64_t id{};
  std::string name{};
  std::optional<int> age{};
  std::optional<std::string> city{};
  double score{};
  std::optional<std::string> email{};

  friend constexpr auto ormkit_describe(std::type_identity<person_v2>) {
    using namespace ormkit;
    return describe<person_v2>("people")
        .column(&person_v2::id, "id", primary_key, auto_increment)
        .column(&person_v2::name, "name")
        .column(&person_v2::age, "age")
        .column(&person_v2::city, "city")
        .column(&person_v2::score, "score")
        .column(&person_v2::email, "email");
  }
};

// Waits (bounded) until `flag` is set.
void wait_for(const std::atomic<bool>& flag) {
  for (int i = 0; i < 5000 && !flag.load(); ++i) std::this_thread::sleep_for(1ms);
}

auto row_of(std::initializer_list<value_view> values) -> std::vector<value_view> { return values; }

auto text(std::string_view s) -> value_view { return s; }

}  // namespace

TEST_CASE("memory::backend: is a backend named memory", "[memory]") {
  STATIC_REQUIRE(ormkit::backend<ormkit::memory::backend>);
  ormkit::memory::backend db;
  CHECK(db.name() == "memory");
  CHECK(db.row_count("people") == 0);
  CHECK_FALSE(db.in_transaction());
  CHECK(db.flush().has_value());  // no store: nothing to do
}

TEST_CASE("memory::backend: 8 threads inserting at once store every row with a unique id", "[memory][threads]") {
  ormkit::memory::backend db;
  ormkit::repository<person> people(db);
  constexpr int threads = 8;
  constexpr int per_thread = 200;

  std::vector<std::vector<std::int64_t>> ids(threads);
  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        auto r = people.insert(make_person("t" + std::to_string(t) + "-" + std::to_string(i), i));
        if (r) ids[static_cast<std::size_t>(t)].push_back(r->id);
        else ++failures;
      }
    });
  }
  for (auto& w : workers) w.join();

  CHECK(failures.load() == 0);
  CHECK(db.row_count("people") == threads * per_thread);
  std::set<std::int64_t> all;
  for (const auto& list : ids) {
    CHECK(std::is_sorted(list.begin(), list.end()));  // each thread sees its own ids increase
    all.insert(list.begin(), list.end());
  }
  CHECK(all.size() == threads * per_thread);
  CHECK(*all.begin() == 1);
  CHECK(*all.rbegin() == threads * per_thread);
  CHECK(people.count().value() == std::uint64_t{threads * per_thread});
}

TEST_CASE("memory::backend: transactions from 4 threads are serializable", "[memory][threads]") {
  ormkit::memory::backend db;
  ormkit::repository<counter> counters(db);
  REQUIRE(counters.insert(make_counter(1, 0)).has_value());
  constexpr int threads = 4;
  constexpr int rounds = 100;

  std::atomic<int> failures{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < rounds; ++i) {
        auto st = ormkit::transact(db, [&](ormkit::transaction&) -> ormkit::status {
          auto c = counters.get(1);
          if (!c) return std::move(c).error();
          std::this_thread::yield();  // invite a lost update if reads were not isolated
          c->value += 1;
          ORMKIT_TRY(counters.update(*c));
          return {};
        });
        if (!st) ++failures;
      }
    });
  }
  for (auto& w : workers) w.join();

  CHECK(failures.load() == 0);
  CHECK(counters.get(1).value().value == threads * rounds);
}

TEST_CASE("memory::backend: other threads wait while one thread holds a transaction", "[memory][threads]") {
  ormkit::memory::backend db;
  ormkit::repository<person> people(db);
  REQUIRE(people.insert(make_person("committed")).has_value());

  bool commit = GENERATE(true, false);
  CAPTURE(commit);

  auto tx = ormkit::transaction::begin(db);
  REQUIRE(tx.has_value());
  CHECK(db.in_transaction());
  REQUIRE(people.insert(make_person("pending")).has_value());

  std::atomic<bool> reader_started{false}, reader_done{false}, writer_started{false}, writer_done{false};
  std::atomic<std::uint64_t> seen{999};
  std::atomic<bool> reader_in_tx{true};
  std::thread reader([&] {
    reader_in_tx = db.in_transaction();
    reader_started = true;
    seen = people.count().value_or(888);
    reader_done = true;
  });
  std::thread writer([&] {
    writer_started = true;
    auto st = ormkit::transact(db, [&](ormkit::transaction&) -> ormkit::status {
      ORMKIT_TRY(people.insert(make_person("second writer")));
      return {};
    });
    writer_done = st.has_value();
  });
  wait_for(reader_started);
  wait_for(writer_started);
  std::this_thread::sleep_for(100ms);
  CHECK_FALSE(reader_in_tx.load());  // the transaction belongs to this thread only
  CHECK_FALSE(reader_done.load());   // blocked: no dirty read of "pending"
  CHECK_FALSE(writer_done.load());

  if (commit) REQUIRE(tx->commit().has_value());
  else REQUIRE(tx->rollback().has_value());
  reader.join();
  writer.join();

  CHECK(reader_done.load());
  CHECK(writer_done.load());
  // The reader ran after the transaction ended (and may or may not have run after the writer).
  const std::uint64_t before_writer = commit ? 2 : 1;
  CHECK((seen.load() == before_writer || seen.load() == before_writer + 1));
  CHECK(people.count().value() == before_writer + 1);
  CHECK(people.exists(col(&person::name) == "pending").value() == commit);
}

TEST_CASE("memory::backend: a cursor keeps its snapshot while rows change", "[memory]") {
  ormkit::memory::backend db;
  ormkit::repository<person> people(db);
  auto a = people.insert(make_person("a", 1)).value();
  auto b = people.insert(make_person("b", 2)).value();
  REQUIRE(people.insert(make_person("c", 3)).has_value());

  auto s = people.stream(ormkit::query<person>().order_by(&person::name));
  REQUIRE(s.has_value());
  auto raw = db.select(ormkit::schema_of<person>(), ormkit::query_spec{});
  REQUIRE(raw.has_value());

  a.age = 100;
  REQUIRE(people.update(a).has_value());
  REQUIRE(people.erase(b.id).has_value());
  REQUIRE(people.insert(make_person("d", 4)).has_value());
  REQUIRE(people.erase_where(col(&person::name) == "c").value() == 1u);

  names got;
  std::vector<int> ages;
  for (const auto& p : *s) {
    got.push_back(p.name);
    ages.push_back(p.age.value_or(-1));
  }
  CHECK(got == names{"a", "b", "c"});
  CHECK(ages == std::vector<int>{1, 2, 3});

  int rows = 0;
  while (raw->next().value()) {
    auto row = raw->row();
    REQUIRE(row.size() == 5);
    CHECK(std::get<std::int64_t>(row[2]) == ++rows);
  }
  CHECK(rows == 3);
  CHECK(names_of(people.find(ormkit::query<person>().order_by(&person::name)).value()) == names{"a", "d"});
}

TEST_CASE("memory::backend: untyped writes with a wrong storage class are rejected", "[memory]") {
  ormkit::memory::backend db;
  const auto& s = ormkit::schema_of<person>();
  std::vector<std::int64_t> ids;

  auto insert_error = [&](std::vector<value_view> row) -> std::string {
    auto r = db.insert(s, row);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().is(errc::invalid_argument));
    return r.error().message;
  };
  // id, name, age, city, score
  CHECK(insert_error(row_of({std::int64_t{0}, text("ann"), text("thirty"), {}, 1.5})) ==
        "people.age: expected integer, got text");
  CHECK(insert_error(row_of({std::int64_t{0}, text("ann"), 30.5, {}, 1.5})) ==
        "people.age: expected integer, got real");
  CHECK(insert_error(row_of({std::int64_t{0}, {}, {}, {}, 1.5})) == "people.name: NULL in a NOT NULL column");
  CHECK(insert_error(row_of({std::int64_t{0}, ormkit::blob_view(), {}, {}, 1.5})) ==
        "people.name: expected text, got blob");
  CHECK(insert_error(row_of({std::int64_t{0}, text("ann"), {}, {}, text("1.5")})) ==
        "people.score: expected real, got text");
  CHECK(insert_error(row_of({text("1"), text("ann"), {}, {}, 1.5})) == "people.id: expected integer, got text");
  CHECK(insert_error(row_of({std::int64_t{0}, text("ann")})) == "people: row has 2 values for 5 columns");
  CHECK(db.row_count("people") == 0);

  // An integer is a valid real (SQL's numeric affinity); it reads back as a double.
  auto ok = db.insert(s, row_of({std::int64_t{0}, text("ann"), std::int64_t{30}, {}, std::int64_t{2}}));
  REQUIRE(ok.has_value());
  CHECK(*ok == 1);
  ormkit::repository<person> people(db);
  CHECK(people.get(1).value().score == 2.0);

  const std::vector<std::size_t> age{2};
  auto up = db.update(s, age, row_of({text("old")}), ormkit::expr{});
  REQUIRE_FALSE(up.has_value());
  CHECK(up.error().message == "people.age: expected integer, got text");
  auto up_null = db.update(s, std::vector<std::size_t>{1}, row_of({{}}), ormkit::expr{});
  CHECK(up_null.error().message == "people.name: NULL in a NOT NULL column");
  CHECK(people.get(1).value().age == 30);

  const std::vector<std::size_t> all{1, 2, 3, 4};
  auto upsert = db.upsert(s, row_of({std::int64_t{1}, text("ann"), text("x"), {}, 1.0}), all);
  REQUIRE_FALSE(upsert.has_value());
  CHECK(upsert.error().message == "people.age: expected integer, got text");
  CHECK(people.get(1).value().age == 30);

  auto batch = row_of({std::int64_t{0}, text("a"), {}, {}, 1.0, std::int64_t{0}, text("b")});
  auto many = db.insert_many(s, batch, 2, ids);
  REQUIRE_FALSE(many.has_value());
  CHECK(many.error().message == "people: insert_many got a malformed batch");
  CHECK(ids.empty());
  CHECK(db.row_count("people") == 1);
}

TEST_CASE("memory::backend: a table used with other columns is schema_mismatch", "[memory]") {
  ormkit::memory::backend db;
  ormkit::repository<person> people(db);
  REQUIRE(people.insert(make_person("ann")).has_value());

  ormkit::repository<person_v2> wider(db);
  auto r = wider.insert(person_v2{});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(errc::schema_mismatch));
  CHECK(r.error().message ==
        "people: stored columns (id, name, age, city, score) differ from the entity's "
        "(id, name, age, city, score, email)");
  CHECK(wider.count().error().is(errc::schema_mismatch));
  CHECK(db.ensure_table(ormkit::schema_of<person_v2>()).error().is(errc::schema_mismatch));
  CHECK(db.ensure_table(ormkit::schema_of<person>()).has_value());
  CHECK(people.count().value() == 1u);
}

TEST_CASE("memory::backend: foreign key errors name both ends", "[memory]") {
  ormkit::memory::backend db;
  ormkit::repository<tenant> tenants(db);
  ormkit::repository<membership> members(db);
  tenant t;
  t.name = "acme";
  REQUIRE(tenants.insert(t).value().id == 1);

  auto orphan = members.insert(make_membership(9, "ann", "admin", 1));
  REQUIRE_FALSE(orphan.has_value());
  CHECK(orphan.error().is(errc::conflict));
  CHECK(orphan.error().message == "memberships.tenant_id: value 9 has no matching tenants.id (foreign key)");
  CHECK(orphan.error().native == "foreign key");

  REQUIRE(members.insert(make_membership(1, "ann", "admin", 1)).has_value());
  auto parent = tenants.erase(1);
  REQUIRE_FALSE(parent.has_value());
  CHECK(parent.error().is(errc::conflict));
  CHECK(parent.error().message == "tenants.id: value 1 is still referenced by memberships.tenant_id (foreign key)");
  CHECK(db.row_count("tenants") == 1);
}

TEST_CASE("memory::backend: transaction calls out of order are transaction_state", "[memory]") {
  ormkit::memory::backend db;
  auto expect_state = [](const ormkit::status& st, const std::string& message) {
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().is(errc::transaction_state));
    CHECK(st.error().message == message);
  };
  expect_state(db.commit(), "memory: commit without an active transaction");
  expect_state(db.rollback(), "memory: rollback without an active transaction");
  expect_state(db.savepoint("sp"), "memory: savepoint sp outside a transaction");
  expect_state(db.release("sp"), "memory: no savepoint named sp");
  expect_state(db.rollback_to("sp"), "memory: no savepoint named sp");

  REQUIRE(db.begin().has_value());
  CHECK(db.in_transaction());
  expect_state(db.begin(), "memory: a transaction is already active on this thread; use a savepoint");
  expect_state(db.release("nope"), "memory: no savepoint named nope");
  REQUIRE(db.commit().has_value());
  CHECK_FALSE(db.in_transaction());
}

TEST_CASE("memory::backend: savepoints undo only what came after them", "[memory]") {
  ormkit::memory::backend db;
  ormkit::repository<person> people(db);
  auto names_now = [&] { return names_of(people.find(ormkit::query<person>().order_by(&person::name)).value()); };

  REQUIRE(db.begin().has_value());
  REQUIRE(people.insert(make_person("a")).has_value());
  REQUIRE(db.savepoint("one").has_value());
  REQUIRE(people.insert(make_person("b")).has_value());
  REQUIRE(db.savepoint("two").has_value());
  REQUIRE(people.insert(make_person("c")).has_value());
  REQUIRE(people.erase_where(col(&person::name) == "a").value() == 1u);

  REQUIRE(db.rollback_to("two").has_value());
  CHECK(names_now() == names{"a", "b"});
  // The savepoint survives ROLLBACK TO and can be used again.
  REQUIRE(people.insert(make_person("d")).has_value());
  REQUIRE(db.rollback_to("two").has_value());
  CHECK(names_now() == names{"a", "b"});

  REQUIRE(db.rollback_to("one").has_value());
  CHECK(names_now() == names{"a"});
  CHECK(db.release("two").error().is(errc::transaction_state));  // gone with the rollback to "one"
  REQUIRE(db.release("one").has_value());
  REQUIRE(people.insert(make_person("e")).has_value());
  REQUIRE(db.commit().has_value());
  CHECK(names_now() == names{"a", "e"});
}

TEST_CASE("memory::backend: a rolled back insert gives its generated id back", "[memory]") {
  // The key counter is part of the transaction, like SQLite's sqlite_sequence.
  ormkit::memory::backend db;
  ormkit::repository<person> people(db);
  REQUIRE(people.insert(make_person("a")).value().id == 1);
  {
    auto tx = ormkit::transaction::begin(db);
    REQUIRE(people.insert(make_person("b")).value().id == 2);
  }
  CHECK(people.insert(make_person("c")).value().id == 2);
  REQUIRE(people.erase(2).has_value());
  CHECK(people.insert(make_person("d")).value().id == 3);  // erase never gives one back
}

TEST_CASE("memory::backend: a primary key lookup still applies the rest of the filter", "[memory]") {
  ormkit::memory::backend db;
  ormkit::repository<person> people(db);
  auto a = people.insert(make_person("a", 1)).value();
  CHECK(people.find(col(&person::id) == a.id && col(&person::name) == "a").value().size() == 1);
  CHECK(people.find(col(&person::id) == a.id && col(&person::name) == "b").value().empty());
  CHECK(people.find(col(&person::id) == a.id && col(&person::id) == a.id + 1).value().empty());
  CHECK(people.find(col(&person::id) == a.id || col(&person::id) == 99).value().size() == 1);

  // A real operand is not a key lookup but still compares numerically.
  ormkit::query_spec q;
  q.where = ormkit::expr{ormkit::op::eq, 0, {value(1.0)}, {}, {}};
  auto c = db.select(ormkit::schema_of<person>(), q);
  REQUIRE(c.has_value());
  CHECK(c->next().value());
  CHECK_FALSE(c->next().value());
}

TEST_CASE("memory::backend: an integer sum that overflows is invalid_argument", "[memory][aggregate]") {
  ormkit::memory::backend db;
  ormkit::repository<all_types> rows(db);
  all_types big;
  big.i64 = std::numeric_limits<std::int64_t>::max();
  big.f64 = 1e308;
  REQUIRE(rows.insert_many({big, big}).has_value());
  auto sum = rows.run(ormkit::aggregate<all_types>().sum(&all_types::i64));
  REQUIRE_FALSE(sum.has_value());
  CHECK(sum.error().is(errc::invalid_argument));
  CHECK(sum.error().message == "all_types: sum: integer overflow");
  // avg and real sums do not overflow.
  auto avg = rows.run(ormkit::aggregate<all_types>().avg(&all_types::i64).sum(&all_types::f64)).value();
  CHECK(std::get<double>(avg[0][0]) == Catch::Approx(9.223372036854776e18));
  CHECK(std::isinf(std::get<double>(avg[0][1])));
}

TEST_CASE("memory::backend: NaN has one place in the order and equals only NaN", "[memory]") {
  // SQLite stores NaN as NULL; the memory backend keeps it, so it must order it totally.
  ormkit::memory::backend db;
  ormkit::repository<all_types> rows(db);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  std::vector<all_types> items;
  for (double d : {nan, 1.0, nan, -std::numeric_limits<double>::infinity(), 2.0}) {
    all_types e;
    e.f64 = d;
    items.push_back(e);
  }
  REQUIRE(rows.insert_many(items).has_value());

  CHECK(rows.count(col(&all_types::f64) == 1.0).value() == 1u);
  CHECK(rows.count(col(&all_types::f64) != 1.0).value() == 4u);
  CHECK(rows.count(col(&all_types::f64) < 1.5).value() == 2u);  // NaN is last, as in PostgreSQL
  CHECK(rows.count(col(&all_types::f64) > 1.5).value() == 3u);
  CHECK(rows.count(col(&all_types::f64) == nan).value() == 2u);

  auto sorted = rows.find(ormkit::query<all_types>().order_by(&all_types::f64)).value();
  REQUIRE(sorted.size() == 5);
  CHECK(sorted[0].f64 == -std::numeric_limits<double>::infinity());
  CHECK(sorted[1].f64 == 1.0);
  CHECK(sorted[2].f64 == 2.0);
  CHECK(std::isnan(sorted[3].f64));
  CHECK(std::isnan(sorted[4].f64));

  auto groups = rows.run(ormkit::aggregate<all_types>().group_by(&all_types::f64).count()).value();
  REQUIRE(groups.size() == 4);
  CHECK(groups[1][0] == value(1.0));
  CHECK(groups[1][1] == value(std::int64_t{1}));
  CHECK(std::isnan(std::get<double>(groups[3][0])));
  CHECK(groups[3][1] == value(std::int64_t{2}));
}

TEST_CASE("memory::like matches SQL LIKE patterns", "[memory][eval]") {
  using ormkit::memory::like;
  CHECK(like("", ""));
  CHECK(like("", "%"));
  CHECK(like("", "%%"));
  CHECK_FALSE(like("", "_"));
  CHECK_FALSE(like("a", ""));
  CHECK(like("abc", "abc"));
  CHECK_FALSE(like("abc", "ABC"));
  CHECK(like("abc", "a%"));
  CHECK(like("abc", "%c"));
  CHECK(like("abc", "%b%"));
  CHECK(like("abc", "a_c"));
  CHECK_FALSE(like("ac", "a_c"));
  CHECK(like("axbxc", "a%b%c"));
  CHECK(like("abcbc", "%bc"));  // backtracking past the first "bc"
  CHECK_FALSE(like("abcb", "%bc"));
  CHECK(like("100%", "100\\%"));
  CHECK_FALSE(like("1000", "100\\%"));
  CHECK(like("a_b", "a\\_b"));
  CHECK_FALSE(like("axb", "a\\_b"));
  CHECK(like("a\\", "a\\"));  // a trailing backslash is literal
  CHECK(like("\xc3\xa5", "_"));  // one two-byte character
  CHECK(like("\xe2\x82\xac\xe2\x82\xac", "__"));
  CHECK_FALSE(like("\xe2\x82\xac", "___"));
  CHECK(like("\xff\xfe", "__"));  // invalid UTF-8: one byte per character
  CHECK(like(std::string_view("a\0b", 3), "a_b"));
}

TEST_CASE("memory::evaluate follows three-valued logic", "[memory][eval]") {
  using ormkit::expr;
  using ormkit::op;
  using ormkit::memory::evaluate;
  // column 0 is NULL, column 1 is 5
  const std::vector<value_view> row{std::monostate{}, std::int64_t{5}};
  auto leaf = [](op kind, std::size_t column, std::int64_t v) { return expr{kind, column, {value(v)}, {}, {}}; };
  auto node = [](op kind, std::vector<expr> children) { return expr{kind, 0, {}, std::move(children), {}}; };
  const expr unknown = leaf(op::eq, 0, 1);
  const expr yes = leaf(op::eq, 1, 5);
  const expr no = leaf(op::eq, 1, 6);

  CHECK(evaluate(unknown, row) == truth::unknown);
  CHECK(evaluate(yes, row) == truth::yes);
  CHECK(evaluate(no, row) == truth::no);
  CHECK(evaluate(node(op::not_, {unknown}), row) == truth::unknown);
  CHECK(evaluate(node(op::not_, {no}), row) == truth::yes);
  CHECK(evaluate(node(op::and_, {unknown, yes}), row) == truth::unknown);
  CHECK(evaluate(node(op::and_, {unknown, no}), row) == truth::no);
  CHECK(evaluate(node(op::or_, {unknown, yes}), row) == truth::yes);
  CHECK(evaluate(node(op::or_, {unknown, no}), row) == truth::unknown);
  CHECK(evaluate(expr{}, row) == truth::yes);
  CHECK(evaluate(expr{op::is_null, 0, {}, {}, {}}, row) == truth::yes);
  CHECK(evaluate(expr{op::is_not_null, 1, {}, {}, {}}, row) == truth::yes);
  CHECK(evaluate(expr{op::in, 0, {}, {}, {}}, row) == truth::no);  // NULL IN () is false
  CHECK(evaluate(expr{op::in, 1, {value(std::int64_t{1}), value()}, {}, {}}, row) == truth::unknown);
  CHECK(evaluate(expr{op::in, 1, {value(std::int64_t{5}), value()}, {}, {}}, row) == truth::yes);
  CHECK(evaluate(expr{op::between, 1, {value(std::int64_t{6}), value()}, {}, {}}, row) == truth::no);
  CHECK(evaluate(expr{op::between, 1, {value(std::int64_t{1}), value()}, {}, {}}, row) == truth::unknown);
  CHECK(evaluate(expr{op::like, 0, {value(std::string("%"))}, {}, {}}, row) == truth::unknown);
  CHECK(ormkit::memory::matches(yes, row));
  CHECK_FALSE(ormkit::memory::matches(unknown, row));
}
