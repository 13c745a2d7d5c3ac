// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// Conformance: inserts (generated keys, batches), reads by key, updates (whole row and
// chosen columns), upserts and erases, on every backend fixture.

#include <ormkit/repository.hpp>
#include <ormkit/transaction.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"
#include "backends.hpp"
#include "helpers.hpp"

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

namespace {

using namespace ormkit_test;
using ormkit::col;
using ormkit::errc;

}  // namespace

TEMPLATE_TEST_CASE("crud: insert then get returns the stored entity", "[conformance][crud]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());

  auto ann = people.insert(make_person("ann", 31, "Oslo", 1.5));
  REQUIRE(ann.has_value());
  CHECK(ann->id > 0);
  CHECK(ann->name == "ann");

  auto got = people.get(ann->id);
  REQUIRE(got.has_value());
  CHECK(*got == *ann);

  fx.reopen();
  ormkit::repository<person> reopened(fx.backend());
  CHECK(reopened.get(ann->id).value() == *ann);
  CHECK(reopened.count().value() == 1u);
}

TEMPLATE_TEST_CASE("crud: insert returns increasing ids that are never reused after erase", "[conformance][crud]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());

  std::vector<std::int64_t> ids;
  for (const char* name : {"a", "b", "c"}) ids.push_back(people.insert(make_person(name)).value().id);
  REQUIRE(ids.size() == 3);
  CHECK(ids[0] > 0);
  CHECK(ids[0] < ids[1]);
  CHECK(ids[1] < ids[2]);

  // Erasing the newest row must not hand its id out again, not even after a reopen.
  REQUIRE(people.erase(ids[2]).has_value());
  auto d = people.insert(make_person("d")).value();
  CHECK(d.id > ids[2]);

  REQUIRE(people.erase(d.id).has_value());
  fx.reopen();
  ormkit::repository<person> reopened(fx.backend());
  auto e = reopened.insert(make_person("e")).value();
  CHECK(e.id > d.id);
  CHECK(names_of(reopened.find(ormkit::query<person>().order_by(&person::id)).value()) ==
        std::vector<std::string>{"a", "b", "e"});
}

TEMPLATE_TEST_CASE("crud: insert with an explicit id keeps it and later ids continue after it",
                   "[conformance][crud]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());

  auto p = make_person("explicit");
  p.id = 10;
  CHECK(people.insert(p).value().id == 10);
  CHECK(people.insert(make_person("next")).value().id == 11);

  auto dup = people.insert(p);
  REQUIRE_FALSE(dup.has_value());
  CHECK(dup.error().is(errc::conflict));
  CHECK(people.count().value() == 2u);
}

TEMPLATE_TEST_CASE("crud: insert_many inserts every item and returns their ids in order", "[conformance][crud]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());

  auto stored = people.insert_many({make_person("a", 1), make_person("b", 2), make_person("c", 3)});
  REQUIRE(stored.has_value());
  REQUIRE(stored->size() == 3);
  CHECK((*stored)[0].id < (*stored)[1].id);
  CHECK((*stored)[1].id < (*stored)[2].id);
  for (const auto& p : *stored) CHECK(people.get(p.id).value() == p);

  CHECK(people.insert_many({}).value().empty());
  CHECK(people.count().value() == 3u);
}

TEMPLATE_TEST_CASE("crud: insert_many is all or nothing and names the failing batch item", "[conformance][crud]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend());
  auto ann = users.insert(make_user("ann@example.com", "Ann")).value();

  SECTION("a conflict with a stored row") {
    auto r = users.insert_many({make_user("b@example.com", "B"), make_user("c@example.com", "C"),
                                make_user("ann@example.com", "Ann again"), make_user("d@example.com", "D")});
    REQUIRE_FALSE(r.has_value());
    CAPTURE(r.error().message);
    CHECK(r.error().is(errc::conflict));
    CHECK(contains(r.error().message, "users.email"));
    CHECK(contains(r.error().message, "(batch item 2)"));
  }
  SECTION("a conflict inside the batch") {
    auto r = users.insert_many({make_user("b@example.com", "B"), make_user("c@example.com", "C"),
                                make_user("b@example.com", "B again")});
    REQUIRE_FALSE(r.has_value());
    CAPTURE(r.error().message);
    CHECK(r.error().is(errc::conflict));
    CHECK(contains(r.error().message, "(batch item 2)"));
  }
  SECTION("a validation failure") {
    auto r = users.insert_many({make_user("b@example.com", "B"), make_user("c@example.com", "C"),
                                make_user("d@example.com", "D"), make_user("not-an-email", "E")});
    REQUIRE_FALSE(r.has_value());
    CAPTURE(r.error().message);
    CHECK(r.error().is(errc::validation_failed));
    CHECK(contains(r.error().message, "users.email"));
    CHECK(contains(r.error().message, "(batch item 3)"));
  }

  // Nothing of the batch was stored, and the stored row is untouched.
  CHECK(users.count().value() == 1u);
  CHECK(users.get(ann.id).value() == ann);
  fx.reopen();
  ormkit::repository<user> reopened(fx.backend());
  CHECK(reopened.count().value() == 1u);
  // The next generated id follows the stored row's, as if the batch never ran.
  CHECK(reopened.insert(make_user("z@example.com", "Z")).value().id > ann.id);
}

TEMPLATE_TEST_CASE("crud: get of a missing key is not_found naming the table and key", "[conformance][crud]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend());
  (void)users.insert(make_user("ann@example.com", "Ann")).value();

  auto missing = users.get(99);
  REQUIRE_FALSE(missing.has_value());
  CHECK(missing.error().is(errc::not_found));
  CHECK(missing.error().message == "users: no row with id=99");
  CHECK_THROWS_WITH(users.get(99).value(), "[ormkit.not_found] users: no row with id=99");

  auto maybe = users.find_by_key(99);
  REQUIRE(maybe.has_value());
  CHECK_FALSE(maybe->has_value());
  CHECK(users.find_by_key(1).value().has_value());

  ormkit::repository<membership> members(fx.backend());
  auto m = members.get({1, "zed"});
  REQUIRE_FALSE(m.has_value());
  CHECK(m.error().is(errc::not_found));
  CHECK(m.error().message == "memberships: no row with tenant_id=1, user_name=\"zed\"");
}

TEMPLATE_TEST_CASE("crud: get_many returns rows in key order and skips missing keys", "[conformance][crud]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  auto a = people.insert(make_person("a")).value();
  auto b = people.insert(make_person("b")).value();
  auto c = people.insert(make_person("c")).value();

  std::vector<std::int64_t> keys{c.id, 999, a.id, b.id, a.id};
  auto got = people.get_many(keys);
  REQUIRE(got.has_value());
  CHECK(names_of(*got) == std::vector<std::string>{"c", "a", "b", "a"});

  CHECK(people.get_many(std::vector<std::int64_t>{}).value().empty());
  CHECK(people.get_many(std::vector<std::int64_t>{1000, 1001}).value().empty());

  add_tenants(fx.backend(), 2);
  ormkit::repository<membership> members(fx.backend());
  REQUIRE(members.insert(make_membership(1, "ann", "admin", 1)).has_value());
  REQUIRE(members.insert(make_membership(1, "bob", "member", 2)).has_value());
  REQUIRE(members.insert(make_membership(2, "ann", "member", 1)).has_value());
  std::vector<std::tuple<std::int64_t, std::string>> composite{{2, "ann"}, {1, "zed"}, {1, "ann"}};
  auto ms = members.get_many(composite).value();
  REQUIRE(ms.size() == 2);
  CHECK(ms[0].tenant_id == 2);
  CHECK(ms[0].role == "member");
  CHECK(ms[1].tenant_id == 1);
  CHECK(ms[1].role == "admin");
}

TEMPLATE_TEST_CASE("crud: update replaces the stored row", "[conformance][crud]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend());
  auto ann = users.insert(make_user("ann@example.com", "Ann", 31)).value();
  auto bob = users.insert(make_user("bob@example.com", "Bob", 40)).value();
  CHECK(ann.version == 1);

  auto changed = ann;
  changed.name = "Annie";
  changed.age = 32;
  changed.bio = "likes tests";
  changed.email = "annie@example.com";
  auto updated = users.update(changed);
  REQUIRE(updated.has_value());
  CHECK(updated->version == 2);

  fx.reopen();
  ormkit::repository<user> reopened(fx.backend());
  auto stored = reopened.get(ann.id).value();
  CHECK(stored == *updated);
  CHECK(stored.name == "Annie");
  CHECK(stored.age == 32);
  CHECK(stored.bio == std::optional<std::string>("likes tests"));
  CHECK(stored.email == "annie@example.com");
  CHECK(reopened.get(bob.id).value() == bob);  // other rows untouched

  // The old unique value is free again.
  auto reuse = make_user("ann@example.com", "New Ann");
  reuse.token = "another token";
  CHECK(reopened.insert(reuse).has_value());
}

TEMPLATE_TEST_CASE("crud: update of a missing row is not_found", "[conformance][crud]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend());
  auto ghost = make_user("ghost@example.com", "Ghost");
  ghost.id = 42;
  auto r = users.update(ghost);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(errc::not_found));
  CHECK(r.error().message == "users: no row with id=42");
  CHECK(users.count().value() == 0u);

  ormkit::repository<person> people(fx.backend());
  auto p = make_person("nobody");
  p.id = 7;
  auto q = people.update(p);
  REQUIRE_FALSE(q.has_value());
  CHECK(q.error().is(errc::not_found));
  CHECK(q.error().message == "people: no row with id=7");
}

TEMPLATE_TEST_CASE("crud: update_many updates every item, all or nothing, naming the failing item",
                   "[conformance][crud]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend());
  auto stored = users.insert_many({make_user("a@example.com", "A"), make_user("b@example.com", "B"),
                                   make_user("c@example.com", "C")})
                    .value();
  for (auto& u : stored) u.name += " 2";
  auto updated = users.update_many(stored).value();
  REQUIRE(updated.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(updated[i].version == 2);
    CHECK(users.get(stored[i].id).value() == updated[i]);
  }
  CHECK(users.update_many({}).value().empty());

  SECTION("a stale version") {
    auto batch = updated;
    for (auto& u : batch) u.name = "lost";
    batch[1].version = 1;  // stale
    auto r = users.update_many(batch);
    REQUIRE_FALSE(r.has_value());
    CAPTURE(r.error().message);
    CHECK(r.error().is(errc::conflict));
    CHECK(contains(r.error().message, "(batch item 1)"));
  }
  SECTION("a unique conflict") {
    auto batch = updated;
    batch[0].name = "lost";
    batch[2].email = "b@example.com";
    auto r = users.update_many(batch);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().is(errc::conflict));
    CHECK(contains(r.error().message, "(batch item 2)"));
  }
  SECTION("a validation failure") {
    auto batch = updated;
    batch[0].name = "lost";
    batch[1].email = "not-an-email";
    auto r = users.update_many(batch);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().is(errc::validation_failed));
    CHECK(contains(r.error().message, "(batch item 1)"));
  }
  SECTION("a missing row") {
    auto batch = updated;
    batch[0].name = "lost";
    batch[2].id = 999;
    auto r = users.update_many(batch);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().is(errc::not_found));
    CHECK(contains(r.error().message, "(batch item 2)"));
  }
  // Whatever failed, nothing of the batch was written.
  for (const auto& u : updated) CHECK(users.get(u.id).value() == u);
  SECTION("inside a transaction that rolls back") {
    auto batch = updated;
    for (auto& u : batch) u.name = "rolled back";
    auto tx = ormkit::transaction::begin(fx.backend()).value();
    REQUIRE(users.update_many(batch));  // a savepoint inside the open transaction
    REQUIRE(tx.rollback());
    for (const auto& u : updated) CHECK(users.get(u.id).value() == u);
  }
}

TEMPLATE_TEST_CASE("crud: update_columns changes only the named columns", "[conformance][crud]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend(), {.clock = &fake_clock});
  auto ann = users.insert(make_user("ann@example.com", "Ann", 31)).value();

  auto local = ann;
  local.name = "Annie";
  local.age = 99;
  local.bio = "not saved";
  auto r = users.update_columns(local, &user::name);
  REQUIRE(r.has_value());
  CHECK(r->version == 2);

  auto stored = users.get(ann.id).value();
  CHECK(stored.name == "Annie");
  CHECK(stored.age == 31);
  CHECK_FALSE(stored.bio.has_value());
  CHECK(stored.email == ann.email);
  CHECK(stored.version == 2);        // version and updated_at always move with an update
  CHECK(stored.updated > ann.updated);
  CHECK(stored.created == ann.created);

  // Several columns at once.
  local = stored;
  local.age = 50;
  local.bio = "saved";
  local.name = "ignored";
  REQUIRE(users.update_columns(local, &user::age, &user::bio).has_value());
  stored = users.get(ann.id).value();
  CHECK(stored.age == 50);
  CHECK(stored.bio == std::optional<std::string>("saved"));
  CHECK(stored.name == "Annie");
  CHECK(stored.version == 3);
}

TEMPLATE_TEST_CASE("crud: upsert inserts a row whose key is new", "[conformance][crud]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend(), {.clock = &fake_clock});
  auto now = fake_clock_next();
  auto ann = users.upsert(make_user("ann@example.com", "Ann"));
  REQUIRE(ann.has_value());
  CHECK(ann->id > 0);
  CHECK(ann->version == 1);
  CHECK(ann->created == now);
  CHECK(ann->updated == now);
  CHECK(users.get(ann->id).value() == *ann);

  ormkit::repository<counter> counters(fx.backend());
  CHECK(counters.upsert(make_counter(7, 70)).value() == make_counter(7, 70));
  CHECK(counters.get(7).value().value == 70);
}

TEMPLATE_TEST_CASE("crud: upsert updates the row with the key and keeps created_at", "[conformance][crud]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend(), {.clock = &fake_clock});
  auto ann = users.insert(make_user("ann@example.com", "Ann")).value();

  auto again = ann;
  again.name = "Annie";
  again.created = time_point{};  // ignored: created_at is never overwritten
  auto up = users.upsert(again);
  REQUIRE(up.has_value());
  CHECK(up->id == ann.id);

  auto stored = users.get(ann.id).value();
  CHECK(stored.name == "Annie");
  CHECK(stored.created == ann.created);
  CHECK(stored.updated > ann.updated);
  CHECK(stored.version == 2);  // last writer wins: the given version + 1
  CHECK(*up == stored);        // the result is the row as stored
  CHECK(users.count().value() == 1u);

  ormkit::repository<counter> counters(fx.backend());
  REQUIRE(counters.insert(make_counter(1, 10)).has_value());
  REQUIRE(counters.upsert(make_counter(1, 11)).has_value());
  CHECK(counters.get(1).value().value == 11);
  CHECK(counters.count().value() == 1u);
}

TEMPLATE_TEST_CASE("crud: erase removes the row and a missing key is not_found", "[conformance][crud]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  auto a = people.insert(make_person("a")).value();
  auto b = people.insert(make_person("b")).value();

  REQUIRE(people.erase(a.id).has_value());
  CHECK(people.get(a.id).error().is(errc::not_found));
  CHECK(people.get(b.id).value() == b);

  auto again = people.erase(a.id);
  REQUIRE_FALSE(again.has_value());
  CHECK(again.error().is(errc::not_found));
  CHECK(again.error().message == "people: no row with id=" + std::to_string(a.id));

  fx.reopen();
  ormkit::repository<person> reopened(fx.backend());
  CHECK(ids_of(reopened.find_all().value()) == std::vector<std::int64_t>{b.id});
}

TEMPLATE_TEST_CASE("crud: erase_many and erase_where return how many rows they erased", "[conformance][crud]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  auto stored = people.insert_many({make_person("a", 10), make_person("b", 20), make_person("c", 30),
                                    make_person("d", 40), make_person("e")})
                    .value();

  std::vector<std::int64_t> keys{stored[0].id, stored[2].id, 999, stored[0].id};
  CHECK(people.erase_many(keys).value() == 2u);
  CHECK(people.erase_many(std::vector<std::int64_t>{}).value() == 0u);
  CHECK(names_of(people.find(ormkit::query<person>().order_by(&person::name)).value()) ==
        std::vector<std::string>{"b", "d", "e"});

  CHECK(people.erase_where(col(&person::age) > 25).value() == 1u);   // d; e's NULL age does not match
  CHECK(people.erase_where(col(&person::age) > 25).value() == 0u);
  CHECK(people.erase_where(col(&person::age).is_null()).value() == 1u);
  CHECK(names_of(people.find_all().value()) == std::vector<std::string>{"b"});

  add_tenants(fx.backend(), 1);
  ormkit::repository<membership> members(fx.backend());
  REQUIRE(members.insert(make_membership(1, "ann", "admin", 1)).has_value());
  REQUIRE(members.insert(make_membership(1, "bob", "member", 2)).has_value());
  std::vector<std::tuple<std::int64_t, std::string>> composite{{1, "bob"}, {2, "bob"}};
  CHECK(members.erase_many(composite).value() == 1u);
  CHECK(members.count().value() == 1u);
}

TEMPLATE_TEST_CASE("crud: composite primary keys read update and erase one row", "[conformance][crud]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  add_tenants(fx.backend(), 2);
  ormkit::repository<membership> members(fx.backend());
  REQUIRE(members.insert(make_membership(1, "ann", "admin", 1)).has_value());
  REQUIRE(members.insert(make_membership(1, "bob", "member", 2)).has_value());
  REQUIRE(members.insert(make_membership(2, "ann", "member", 1)).has_value());

  auto dup = members.insert(make_membership(1, "ann", "member", 9));
  REQUIRE_FALSE(dup.has_value());
  CHECK(dup.error().is(errc::conflict));

  auto m = members.get({1, "ann"}).value();
  CHECK(m.role == "admin");
  m.role = "member";
  m.note = "demoted";
  REQUIRE(members.update(m).has_value());
  CHECK(members.get({1, "ann"}).value() == m);
  CHECK(members.get({2, "ann"}).value().note == std::nullopt);

  REQUIRE(members.erase({1, "ann"}).has_value());
  CHECK(members.get({1, "ann"}).error().is(errc::not_found));
  CHECK(members.count().value() == 2u);
  CHECK(members.key_of(m) == std::tuple<std::int64_t, std::string>{1, "ann"});
}

TEMPLATE_TEST_CASE("crud: count and exists see exactly the matching rows", "[conformance][crud]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  CHECK(people.count().value() == 0u);
  CHECK_FALSE(people.exists(col(&person::name) == "a").value());

  REQUIRE(people.insert_many({make_person("a", 1), make_person("b", 2), make_person("c")}).has_value());
  CHECK(people.count().value() == 3u);
  CHECK(people.count(col(&person::age) >= 1).value() == 2u);
  CHECK(people.count(col(&person::age) > 5).value() == 0u);
  CHECK(people.exists(col(&person::name) == "a").value());
  CHECK_FALSE(people.exists(col(&person::name) == "z").value());
  CHECK(people.count(ormkit::query<person>().where(col(&person::age).is_null())).value() == 1u);
}
