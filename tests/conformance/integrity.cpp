// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// Conformance: optimistic locking, unique keys (messages name the column and value, never
// a secret), transactions (commit, rollback, savepoints through nested transact,
// exceptions), soft delete, and created_at / updated_at.

#include <ormkit/repository.hpp>
#include <ormkit/transaction.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"
#include "backends.hpp"
#include "helpers.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace ormkit_test;
using ormkit::col;
using ormkit::errc;
using names = std::vector<std::string>;

}  // namespace

//=== optimistic locking ===//

TEMPLATE_TEST_CASE("locking: a stale version is a conflict and changes nothing", "[conformance][locking]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend());
  auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
  REQUIRE(ann.version == 1);

  auto fresh = ann;
  fresh.name = "Fresh";
  auto saved = users.update(fresh).value();
  CHECK(saved.version == 2);

  auto stale = ann;  // still version 1
  stale.name = "Stale";
  auto r = users.update(stale);
  REQUIRE_FALSE(r.has_value());
  CAPTURE(r.error().message);
  CHECK(r.error().is(errc::conflict));
  CHECK(contains(r.error().message, "users: id=" + std::to_string(ann.id)));
  CHECK(contains(r.error().message, "version 1 is stale"));

  fx.reopen();
  ormkit::repository<user> reopened(fx.backend());
  CHECK(reopened.get(ann.id).value() == saved);
}

TEMPLATE_TEST_CASE("locking: the second of two updates from one snapshot conflicts", "[conformance][locking]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend());
  const auto snapshot = users.insert(make_user("ann@example.com", "Ann", 20)).value();

  auto first = snapshot;
  first.age = 21;
  REQUIRE(users.update(first).has_value());

  auto second = snapshot;
  second.age = 22;
  CHECK(users.update(second).error().is(errc::conflict));
  CHECK(users.update_columns(second, &user::age).error().is(errc::conflict));
  CHECK(users.get(snapshot.id).value().age == 21);
  CHECK(users.get(snapshot.id).value().version == 2);

  // Re-reading gives the current version, and that update goes through.
  auto current = users.get(snapshot.id).value();
  current.age = 23;
  CHECK(users.update(current).value().version == 3);
}

//=== unique keys ===//

TEMPLATE_TEST_CASE("unique: a duplicate is a conflict naming the column and value", "[conformance][unique]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend());
  auto ann = users.insert(make_user("ann@example.com", "Ann")).value();

  auto twin = make_user("ann@example.com", "Twin");
  twin.token = "twin-token";
  auto r = users.insert(twin);
  REQUIRE_FALSE(r.has_value());
  CAPTURE(r.error().message);
  CHECK(r.error().is(errc::conflict));
  CHECK(contains(r.error().message, "users.email"));
  CHECK(contains(r.error().message, "\"ann@example.com\""));
  CHECK(users.count().value() == 1u);
  CHECK(users.get(ann.id).value() == ann);

  // Updating another row into a taken value fails the same way and leaves it unchanged.
  auto bob = users.insert(make_user("bob@example.com", "Bob")).value();
  auto taken = bob;
  taken.email = "ann@example.com";
  auto u = users.update(taken);
  REQUIRE_FALSE(u.has_value());
  CHECK(u.error().is(errc::conflict));
  CHECK(contains(u.error().message, "users.email"));
  CHECK(users.get(bob.id).value() == bob);
  CHECK(users.update_columns(taken, &user::email).error().is(errc::conflict));
  CHECK(users.get(bob.id).value() == bob);

  // upsert hits the same unique key.
  auto other = make_user("ann@example.com", "Other");
  other.token = "other-token";
  CHECK(users.upsert(other).error().is(errc::conflict));
  CHECK(users.count().value() == 2u);
}

TEMPLATE_TEST_CASE("unique: a secret column's value never appears in a conflict message", "[conformance][unique]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend());
  auto ann = make_user("ann@example.com", "Ann");
  ann.token = "s3cr3t-t0ken";
  REQUIRE(users.insert(ann).has_value());

  auto copy = make_user("bob@example.com", "Bob");
  copy.token = "s3cr3t-t0ken";
  auto r = users.insert(copy);
  REQUIRE_FALSE(r.has_value());
  CAPTURE(r.error().message);
  CHECK(r.error().is(errc::conflict));
  CHECK(contains(r.error().message, "users.token"));
  CHECK_FALSE(contains(r.error().message, "s3cr3t"));
  CHECK_FALSE(contains(r.error().describe(), "s3cr3t"));
  CHECK_FALSE(contains(r.error().native, "s3cr3t"));
  CHECK(users.count().value() == 1u);
}

TEMPLATE_TEST_CASE("unique: composite unique keys and NULLs", "[conformance][unique]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  add_tenants(fx.backend(), 2);
  ormkit::repository<membership> members(fx.backend());
  REQUIRE(members.insert(make_membership(1, "ann", "admin", 1)).has_value());
  REQUIRE(members.insert(make_membership(2, "ann", "admin", 1)).has_value());  // other tenant: fine

  auto r = members.insert(make_membership(1, "bob", "member", 1));
  REQUIRE_FALSE(r.has_value());
  CAPTURE(r.error().message);
  CHECK(r.error().is(errc::conflict));
  CHECK(contains(r.error().message, "tenant_id"));
  CHECK(contains(r.error().message, "position"));
  CHECK(members.count().value() == 2u);

  // NULL never equals NULL, so any number of rows may leave a unique column NULL.
  ormkit::repository<document> documents(fx.backend());
  REQUIRE(documents.insert(make_document("a")).has_value());
  REQUIRE(documents.insert(make_document("b")).has_value());
  REQUIRE(documents.insert(make_document("c", "slug")).has_value());
  CHECK(documents.insert(make_document("d", "slug")).error().is(errc::conflict));
  CHECK(documents.count().value() == 3u);
}

//=== foreign keys ===//

TEMPLATE_TEST_CASE("foreign key: a child row needs its parent row", "[conformance][foreign_key]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  add_tenants(fx.backend(), 1);
  ormkit::repository<membership> members(fx.backend());

  auto orphan = members.insert(make_membership(9, "ann", "admin", 1));
  REQUIRE_FALSE(orphan.has_value());
  CHECK(orphan.error().is(errc::conflict));
  CHECK(members.insert_many({make_membership(1, "ann", "admin", 1), make_membership(9, "bob", "admin", 2)})
            .error()
            .is(errc::conflict));
  CHECK(members.upsert(make_membership(9, "ann", "admin", 1)).error().is(errc::conflict));
  CHECK(members.count().value() == 0u);

  REQUIRE(members.insert(make_membership(1, "ann", "admin", 1)).has_value());
  CHECK(members.count().value() == 1u);
}

TEMPLATE_TEST_CASE("foreign key: a referenced parent row cannot be erased", "[conformance][foreign_key]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  add_tenants(fx.backend(), 2);
  ormkit::repository<tenant> tenants(fx.backend());
  ormkit::repository<membership> members(fx.backend());
  REQUIRE(members.insert(make_membership(1, "ann", "admin", 1)).has_value());

  auto r = tenants.erase(1);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(errc::conflict));
  CHECK(tenants.erase_where(col(&tenant::id) > 0).error().is(errc::conflict));  // all or nothing
  CHECK(tenants.count().value() == 2u);

  // Changing a column nobody references is fine.
  auto t = tenants.get(1).value();
  t.name = "renamed";
  CHECK(tenants.update(t).has_value());

  REQUIRE(tenants.erase(2).has_value());  // unreferenced
  REQUIRE(members.erase({1, "ann"}).has_value());
  CHECK(tenants.erase(1).has_value());
  CHECK(tenants.count().value() == 0u);
}

TEMPLATE_TEST_CASE("foreign key: references hold across a reopen", "[conformance][foreign_key]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  add_tenants(fx.backend(), 1);
  REQUIRE(ormkit::repository<membership>(fx.backend()).insert(make_membership(1, "ann", "admin", 1)).has_value());
  fx.reopen();

  // The parent table has not been used since the reopen: the reference still resolves.
  ormkit::repository<membership> members(fx.backend());
  CHECK(members.insert(make_membership(1, "bob", "member", 2)).has_value());
  CHECK(members.insert(make_membership(5, "cid", "member", 3)).error().is(errc::conflict));

  ormkit::repository<tenant> tenants(fx.backend());
  CHECK(tenants.erase(1).error().is(errc::conflict));
  CHECK(members.count().value() == 2u);
}

//=== transactions ===//

TEMPLATE_TEST_CASE("transaction: commit keeps every write", "[conformance][transaction]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  auto keep = people.insert(make_person("keep")).value();

  auto st = ormkit::transact(fx.backend(), [&](ormkit::transaction& tx) -> ormkit::status {
    CHECK(tx.level() == 1);
    ORMKIT_TRY(people.insert(make_person("a")));
    ORMKIT_TRY(people.insert(make_person("b")));
    auto k = keep;
    k.name = "kept";
    ORMKIT_TRY(people.update(k));
    ORMKIT_TRY(people.erase_where(col(&person::name) == "b"));
    return {};
  });
  REQUIRE(st.has_value());

  fx.reopen();
  ormkit::repository<person> reopened(fx.backend());
  CHECK(names_of(reopened.find(ormkit::query<person>().order_by(&person::name)).value()) == names{"a", "kept"});

  // The guard form.
  {
    auto tx = ormkit::transaction::begin(fx.backend());
    REQUIRE(tx.has_value());
    REQUIRE(reopened.insert(make_person("guarded")).has_value());
    REQUIRE(tx->commit().has_value());
  }
  fx.reopen();
  ormkit::repository<person> again(fx.backend());
  CHECK(again.count().value() == 3u);
}

TEMPLATE_TEST_CASE("transaction: rollback discards every write", "[conformance][transaction]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  auto keep = people.insert(make_person("keep", 1)).value();

  SECTION("an error returned from transact") {
    auto st = ormkit::transact(fx.backend(), [&](ormkit::transaction&) -> ormkit::status {
      ORMKIT_TRY(people.insert(make_person("a")));
      auto k = keep;
      k.age = 2;
      ORMKIT_TRY(people.update(k));
      ORMKIT_TRY(people.erase(keep.id));
      return ormkit::unexpected(errc::validation_failed, "changed my mind");
    });
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().message == "changed my mind");
  }
  SECTION("a guard destroyed without commit") {
    auto tx = ormkit::transaction::begin(fx.backend());
    REQUIRE(tx.has_value());
    REQUIRE(people.insert(make_person("a")).has_value());
    REQUIRE(people.erase(keep.id).has_value());
  }
  SECTION("an explicit rollback") {
    auto tx = ormkit::transaction::begin(fx.backend());
    REQUIRE(tx.has_value());
    REQUIRE(people.insert(make_person("a")).has_value());
    REQUIRE(people.erase_where(col(&person::id) > 0).value() == 2u);
    CHECK(people.count().value() == 0u);  // the transaction sees its own writes
    REQUIRE(tx->rollback().has_value());
  }

  CHECK(people.find_all().value() == std::vector<person>{keep});
  fx.reopen();
  ormkit::repository<person> reopened(fx.backend());
  CHECK(reopened.find_all().value() == std::vector<person>{keep});
}

TEMPLATE_TEST_CASE("transaction: a failing nested transact rolls back only its own writes",
                   "[conformance][transaction]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());

  int inner_calls = 0;
  auto st = ormkit::transact(fx.backend(), [&](ormkit::transaction&) -> ormkit::status {
    ORMKIT_TRY(people.insert(make_person("outer-before")));
    auto inner = ormkit::transact(fx.backend(), [&](ormkit::transaction& tx) -> ormkit::status {
      ++inner_calls;
      CHECK(tx.level() == 2);
      ORMKIT_TRY(people.insert(make_person("inner")));
      return ormkit::unexpected(errc::busy, "inner gives up");  // transient, but nested calls never retry
    });
    CHECK(inner.error().is(errc::busy));
    auto ok = ormkit::transact(fx.backend(), [&](ormkit::transaction&) -> ormkit::status {
      ORMKIT_TRY(people.insert(make_person("inner-ok")));
      return {};
    });
    CHECK(ok.has_value());
    ORMKIT_TRY(people.insert(make_person("outer-after")));
    return {};
  });
  REQUIRE(st.has_value());
  CHECK(inner_calls == 1);

  fx.reopen();
  ormkit::repository<person> reopened(fx.backend());
  CHECK(names_of(reopened.find(ormkit::query<person>().order_by(&person::name)).value()) ==
        names{"inner-ok", "outer-after", "outer-before"});
}

TEMPLATE_TEST_CASE("transaction: a failing outer transact rolls back committed inner work",
                   "[conformance][transaction]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  auto st = ormkit::transact(fx.backend(), [&](ormkit::transaction&) -> ormkit::status {
    ORMKIT_TRY(ormkit::transact(fx.backend(), [&](ormkit::transaction&) -> ormkit::status {
      ORMKIT_TRY(people.insert(make_person("inner")));
      return {};
    }));
    return ormkit::unexpected(errc::conflict, "outer fails");
  });
  CHECK(st.error().is(errc::conflict));
  CHECK(people.count().value() == 0u);
  fx.reopen();
  CHECK(ormkit::repository<person>(fx.backend()).count().value() == 0u);
}

TEMPLATE_TEST_CASE("transaction: an exception inside transact rolls back and propagates",
                   "[conformance][transaction]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  REQUIRE(people.insert(make_person("keep")).has_value());

  auto body = [&] {
    (void)ormkit::transact(fx.backend(), [&](ormkit::transaction&) -> ormkit::status {
      ORMKIT_TRY(people.insert(make_person("doomed")));
      throw std::runtime_error("boom");
    });
  };
  CHECK_THROWS_WITH(body(), "boom");
  CHECK(names_of(people.find_all().value()) == names{"keep"});

  // Nested: the inner scope and then the outer one are rolled back as the exception passes.
  auto nested = [&] {
    (void)ormkit::transact(fx.backend(), [&](ormkit::transaction&) -> ormkit::status {
      ORMKIT_TRY(people.insert(make_person("outer")));
      return ormkit::transact(fx.backend(), [&](ormkit::transaction&) -> ormkit::status {
        ORMKIT_TRY(people.insert(make_person("inner")));
        throw std::logic_error("deep boom");
      });
    });
  };
  CHECK_THROWS_AS(nested(), std::logic_error);
  CHECK(names_of(people.find_all().value()) == names{"keep"});

  // The backend is usable afterwards, with a fresh transaction at level 1.
  auto st = ormkit::transact(fx.backend(), [&](ormkit::transaction& tx) -> ormkit::status {
    CHECK(tx.level() == 1);
    ORMKIT_TRY(people.insert(make_person("after")));
    return {};
  });
  CHECK(st.has_value());
  fx.reopen();
  CHECK(names_of(ormkit::repository<person>(fx.backend()).find(ormkit::query<person>().order_by(&person::name)).value()) ==
        names{"after", "keep"});
}

TEMPLATE_TEST_CASE("transaction: transact returns the function's value", "[conformance][transaction]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  auto r = ormkit::transact(fx.backend(), [&](ormkit::transaction&) -> ormkit::result<std::int64_t> {
    auto p = people.insert(make_person("a"));
    if (!p) return std::move(p).error();
    return p->id;
  });
  REQUIRE(r.has_value());
  CHECK(people.get(*r).value().name == "a");
}

//=== soft delete ===//

TEMPLATE_TEST_CASE("soft delete: erase hides a row until restore", "[conformance][soft_delete]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<document> documents(fx.backend(), {.clock = &fake_clock});
  auto a = documents.insert(make_document("a", "slug-a")).value();
  auto b = documents.insert(make_document("b")).value();

  auto when = fake_clock_next();
  REQUIRE(documents.erase(a.id).has_value());

  CHECK(documents.get(a.id).error().is(errc::not_found));
  CHECK_FALSE(documents.find_by_key(a.id).value().has_value());
  CHECK(ids_of(documents.find_all().value()) == std::vector<std::int64_t>{b.id});
  CHECK(documents.count().value() == 1u);
  CHECK_FALSE(documents.exists(col(&document::title) == "a").value());
  CHECK(documents.get_many(std::vector<std::int64_t>{a.id, b.id}).value().size() == 1);
  CHECK(documents.run(ormkit::aggregate<document>().count()).value() ==
        ormkit::value_rows{{ormkit::value(std::int64_t{1})}});

  auto all = documents.find(ormkit::query<document>().with_deleted().order_by(&document::id)).value();
  REQUIRE(all.size() == 2);
  CHECK(all[0].deleted_at == when);  // erased at the clock's time
  CHECK_FALSE(all[1].deleted_at.has_value());
  CHECK(documents.count(ormkit::query<document>().with_deleted()).value() == 2u);
  CHECK(documents.run(ormkit::aggregate<document>().with_deleted().count()).value() ==
        ormkit::value_rows{{ormkit::value(std::int64_t{2})}});

  // A hidden row cannot be erased or updated again.
  CHECK(documents.erase(a.id).error().is(errc::not_found));
  auto edit = a;
  edit.title = "edited";
  CHECK(documents.update(edit).error().is(errc::not_found));
  CHECK(documents.erase_where(col(&document::title) == "a").value() == 0u);

  // Its unique value stays taken while it is hidden.
  CHECK(documents.insert(make_document("a2", "slug-a")).error().is(errc::conflict));

  fx.reopen();
  ormkit::repository<document> reopened(fx.backend(), {.clock = &fake_clock});
  CHECK(reopened.count().value() == 1u);
  REQUIRE(reopened.restore(a.id).has_value());
  CHECK(reopened.get(a.id).value() == a);
  CHECK(reopened.count().value() == 2u);
  CHECK(reopened.restore(999).error().is(errc::not_found));

  CHECK(reopened.erase_where(col(&document::id) > 0).value() == 2u);
  CHECK(reopened.count().value() == 0u);
  CHECK(reopened.count(ormkit::query<document>().with_deleted()).value() == 2u);
}

TEMPLATE_TEST_CASE("soft delete: a bool column works the same way", "[conformance][soft_delete]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<task> tasks(fx.backend());
  auto a = tasks.insert(make_task("a")).value();
  auto b = tasks.insert(make_task("b")).value();

  REQUIRE(tasks.erase(a.id).has_value());
  CHECK(tasks.get(a.id).error().is(errc::not_found));
  CHECK(ids_of(tasks.find_all().value()) == std::vector<std::int64_t>{b.id});
  auto hidden = tasks.find(ormkit::query<task>(col(&task::id) == a.id).with_deleted()).value();
  REQUIRE(hidden.size() == 1);
  CHECK(hidden[0].archived);

  std::vector<std::int64_t> keys{a.id, b.id};
  CHECK(tasks.erase_many(keys).value() == 1u);  // only b was still visible
  CHECK(tasks.count().value() == 0u);
  REQUIRE(tasks.restore(a.id).has_value());
  REQUIRE(tasks.restore(b.id).has_value());
  CHECK(tasks.find(ormkit::query<task>().order_by(&task::id)).value() == std::vector<task>{a, b});
}

//=== timestamps ===//

TEMPLATE_TEST_CASE("timestamps: created_at is set on insert and never changes", "[conformance][timestamps]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend(), {.clock = &fake_clock});
  auto now = fake_clock_next();
  auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
  CHECK(ann.created == now);
  CHECK(ann.updated == now);

  auto edit = ann;
  edit.name = "Annie";
  edit.created = fake_epoch;  // ignored
  auto later = fake_clock_next();
  auto saved = users.update(edit).value();
  CHECK(saved.updated == later);

  auto stored = users.get(ann.id).value();
  CHECK(stored.created == now);
  CHECK(stored.updated == later);
  CHECK(stored.updated > stored.created);

  fx.reopen();
  ormkit::repository<user> reopened(fx.backend(), {.clock = &fake_clock});
  CHECK(reopened.get(ann.id).value().created == now);  // microseconds survive storage
}

TEMPLATE_TEST_CASE("timestamps: updated_at changes on every update", "[conformance][timestamps]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend(), {.clock = &fake_clock});
  auto u = users.insert(make_user("ann@example.com", "Ann")).value();
  std::vector<time_point> seen{u.updated};
  for (int i = 0; i < 3; ++i) {
    u.age = 40 + i;
    u = users.update(u).value();
    CHECK(u.updated > seen.back());
    CHECK(users.get(u.id).value().updated == u.updated);
    seen.push_back(u.updated);
  }
  u = users.update_columns(u, &user::name).value();
  CHECK(u.updated > seen.back());
  CHECK(users.get(u.id).value().updated == u.updated);
  CHECK(users.get(u.id).value().created == seen.front());
}
