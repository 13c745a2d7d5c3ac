// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// The calls for hot loops (insert_in_place, update_in_place, update_columns_in_place,
// get_into), and key lists longer than one statement can bind (get_many, erase_many),
// on every backend.

#include <ormkit/observer.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/transaction.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"
#include "backends.hpp"
#include "helpers.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <tuple>
#include <vector>

namespace {

using namespace ormkit_test;
using ormkit::errc;

// Counts what an observer is told and vetoes the operations it is asked to.
struct counting_observer : ormkit::repository_observer {
  int before_calls = 0;
  int after_calls = 0;
  int after_failures = 0;
  int veto_from = -1;  // the first `before` (0-based) to veto; -1: none
  ormkit::operation veto_op = ormkit::operation::insert;
  int vetoable_seen = 0;

  auto before(const ormkit::operation_event& e) -> ormkit::status override {
    ++before_calls;
    if (e.op == veto_op) {
      const int n = vetoable_seen++;
      if (veto_from >= 0 && n >= veto_from) return ormkit::unexpected(errc::rejected, "vetoed by the test");
    }
    return {};
  }
  void after(const ormkit::operation_event& e) override {
    ++after_calls;
    if (e.failure != nullptr) ++after_failures;
  }
};

}  // namespace

TEMPLATE_TEST_CASE("in place: insert_in_place fills the key, version and timestamps into the entity",
                   "[conformance][in_place]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend(), {.clock = &fake_clock});
  auto ann = make_user("ann@example.com", "Ann", 31);
  const auto next = fake_clock_next();
  REQUIRE(users.insert_in_place(ann).has_value());
  CHECK(ann.id > 0);
  CHECK(ann.version == 1);
  CHECK(ann.created == next);
  CHECK(ann.updated == next);
  CHECK(users.get(ann.id).value() == ann);

  // The by-value call stores the same way.
  auto bob = users.insert(make_user("bob@example.com", "Bob")).value();
  CHECK(bob.id > ann.id);
  CHECK(bob.version == 1);
}

TEMPLATE_TEST_CASE("in place: get_into reads the row into the entity and says false for a missing key",
                   "[conformance][in_place]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend());
  auto ann = users.insert(make_user("ann@example.com", "Ann", 31)).value();
  auto bob = make_user("bob@example.com", "Bob", 40);
  bob.bio = std::string(200, 'b');  // longer than ann's: the strings are reused, not kept
  bob = users.insert(bob).value();

  user out = bob;  // a used entity: every member is overwritten
  auto found = users.get_into(ann.id, out);
  REQUIRE(found.has_value());
  CHECK(*found);
  CHECK(out == ann);
  CHECK(out == users.get(ann.id).value());

  REQUIRE(users.get_into(bob.id, out).value());
  CHECK(out == bob);

  const user before = out;
  auto missing = users.get_into(ann.id + bob.id + 100, out);
  REQUIRE(missing.has_value());
  CHECK_FALSE(*missing);
  CHECK(out == before);  // untouched
}

TEMPLATE_TEST_CASE("in place: get_into does not see a soft-deleted row", "[conformance][in_place]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<document> docs(fx.backend());
  document d;
  d.title = "t";
  d.slug = "s";
  REQUIRE(docs.insert_in_place(d).has_value());
  document out;
  REQUIRE(docs.get_into(d.id, out).value());
  CHECK(out == d);
  REQUIRE(docs.erase(d.id).has_value());
  document after;
  CHECK_FALSE(docs.get_into(d.id, after).value());
  CHECK(after == document{});
}

TEMPLATE_TEST_CASE("in place: a failed insert_in_place leaves the entity and the database as they were",
                   "[conformance][in_place]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend(), {.clock = &fake_clock});
  auto ann = users.insert(make_user("ann@example.com", "Ann")).value();

  SECTION("validation failure") {
    auto bad = make_user("not an e-mail", "Bad");
    bad.created = fake_epoch;  // stamped members hold something to put back
    bad.version = 0;
    const user before = bad;
    auto st = users.insert_in_place(bad);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().is(errc::validation_failed));
    CHECK(bad == before);
  }
  SECTION("unique conflict") {
    auto twin = make_user("ann@example.com", "Twin");
    twin.token = "another token";
    const user before = twin;
    auto st = users.insert_in_place(twin);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().is(errc::conflict));
    CHECK(twin == before);
  }
  SECTION("explicit key taken") {
    auto again = make_user("again@example.com", "Again");
    again.id = ann.id;
    const user before = again;
    auto st = users.insert_in_place(again);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().is(errc::conflict));
    CHECK(again == before);
  }
  CHECK(users.count().value() == 1u);
  CHECK(users.get(ann.id).value() == ann);
}

TEMPLATE_TEST_CASE("in place: update_in_place bumps the version and updated_at in the entity",
                   "[conformance][in_place]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend(), {.clock = &fake_clock});
  auto ann = users.insert(make_user("ann@example.com", "Ann", 31)).value();
  const auto created = ann.created;
  ann.name = "Annie";
  const auto next = fake_clock_next();
  REQUIRE(users.update_in_place(ann).has_value());
  CHECK(ann.version == 2);
  CHECK(ann.updated == next);
  CHECK(ann.created == created);
  CHECK(users.get(ann.id).value() == ann);

  // update() is update_in_place on a copy.
  auto copy = ann;
  copy.age = 40;
  auto stored = users.update(copy).value();
  CHECK(stored.version == 3);
  CHECK(copy.version == 2);  // the argument was a copy
  CHECK(users.get(ann.id).value() == stored);
}

TEMPLATE_TEST_CASE("in place: a failed update_in_place leaves the entity and the database as they were",
                   "[conformance][in_place]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend(), {.clock = &fake_clock});
  auto ann = users.insert(make_user("ann@example.com", "Ann", 31)).value();
  auto bob = users.insert(make_user("bob@example.com", "Bob", 40)).value();
  const user stored_ann = ann;

  user e = ann;
  SECTION("validation failure") {
    e.age = 999;
    const user before = e;
    auto st = users.update_in_place(e);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().is(errc::validation_failed));
    CHECK(e == before);
  }
  SECTION("unique conflict") {
    e.email = bob.email;
    const user before = e;
    auto st = users.update_in_place(e);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().is(errc::conflict));
    CHECK(e == before);
  }
  SECTION("stale version") {
    auto other = ann;
    other.name = "Other";
    REQUIRE(users.update_in_place(other).has_value());  // someone else moved it to version 2
    e.name = "Late";
    const user before = e;
    auto st = users.update_in_place(e);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().is(errc::conflict));
    CHECK(e == before);
    CHECK(users.get(ann.id).value() == other);
    return;
  }
  SECTION("missing row") {
    e.id = ann.id + bob.id + 100;
    const user before = e;
    auto st = users.update_in_place(e);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().is(errc::not_found));
    CHECK(e == before);
  }
  SECTION("update_columns_in_place, stale version") {
    auto other = ann;
    REQUIRE(users.update_columns_in_place(other, &user::age).has_value());
    e.age = 77;
    const user before = e;
    auto st = users.update_columns_in_place(e, &user::age);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().is(errc::conflict));
    CHECK(e == before);
    CHECK(users.get(ann.id).value() == other);
    return;
  }
  SECTION("update_columns_in_place, validation failure") {
    e.name = "";
    const user before = e;
    auto st = users.update_columns_in_place(e, &user::name);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().is(errc::validation_failed));
    CHECK(e == before);
  }
  CHECK(users.get(ann.id).value() == stored_ann);
  CHECK(users.get(bob.id).value() == bob);
}

TEMPLATE_TEST_CASE("in place: update_columns_in_place writes only the named columns", "[conformance][in_place]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend(), {.clock = &fake_clock});
  auto ann = users.insert(make_user("ann@example.com", "Ann", 31)).value();
  auto e = ann;
  e.age = 50;
  e.name = "not saved";
  REQUIRE(users.update_columns_in_place(e, &user::age).has_value());
  CHECK(e.version == 2);
  CHECK(e.updated > ann.updated);
  auto stored = users.get(ann.id).value();
  CHECK(stored.age == 50);
  CHECK(stored.name == "Ann");
  CHECK(stored.version == 2);
  CHECK(stored.updated == e.updated);
}

TEMPLATE_TEST_CASE("in place: hooks see the in-place calls and a veto leaves the entity as it was",
                   "[conformance][in_place]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  counting_observer seen;
  ormkit::repository<user> users(fx.backend(), {.clock = &fake_clock, .observer = &seen});
  auto ann = make_user("ann@example.com", "Ann");
  REQUIRE(users.insert_in_place(ann).has_value());
  CHECK(seen.before_calls == 1);
  CHECK(seen.after_calls == 1);

  seen.veto_op = ormkit::operation::update;
  seen.veto_from = 0;
  auto e = ann;
  e.name = "Vetoed";
  const user before = e;
  auto st = users.update_in_place(e);
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().is(errc::rejected));
  CHECK(e == before);
  CHECK(seen.after_failures == 1);
  CHECK(users.get(ann.id).value() == ann);

  user out;
  REQUIRE(users.get_into(ann.id, out).value());
  CHECK(out == ann);
}

TEMPLATE_TEST_CASE("in place: get_into reads through the cache like get, and writes invalidate it",
                   "[conformance][in_place]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend());
  users.use_cache(ormkit::cache_policy{.capacity = 100});
  auto ann = make_user("ann@example.com", "Ann");
  REQUIRE(users.insert_in_place(ann).has_value());

  user out;
  REQUIRE(users.get_into(ann.id, out).value());  // a miss, then filled
  REQUIRE(users.get_into(ann.id, out).value());  // a hit
  CHECK(out == ann);
  auto s = users.cache_stats();
  CHECK(s.misses == 1);
  CHECK(s.hits == 1);

  ann.name = "Annie";
  REQUIRE(users.update_in_place(ann).has_value());
  CHECK(users.cache_stats().invalidations >= 1);
  REQUIRE(users.get_into(ann.id, out).value());
  CHECK(out == ann);  // not the cached old row
  CHECK(out.name == "Annie");
}

//=== key lists longer than one statement takes ===//

// The key lists below are longer than one statement takes (8,192 key values, 512
// composite keys), so they go in several; they are kept small enough for the
// sanitizer build, where the memory backend compares every row with every listed key.
TEMPLATE_TEST_CASE("in place: get_many and erase_many take more keys than one statement holds",
                   "[conformance][in_place][many]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<person> people(fx.backend());
  constexpr std::size_t rows = 3000;
  std::vector<person> batch;
  batch.reserve(rows);
  for (std::size_t i = 0; i < rows; ++i) batch.push_back(make_person("p" + std::to_string(i)));
  auto stored = people.insert_many(std::move(batch)).value();

  // Every stored key once, 6,000 missing keys, and every stored key again (in the second
  // statement): 12,000 keys in all.
  std::vector<std::int64_t> keys;
  for (const auto& p : stored) keys.push_back(p.id);
  const std::int64_t past = stored.back().id + 1;
  for (std::int64_t k = 0; k < 6000; ++k) keys.push_back(past + k);
  for (std::size_t i = 0; i < rows; ++i) keys.push_back(stored[rows - 1 - i].id);
  REQUIRE(keys.size() == 12000u);

  auto got = people.get_many(keys);
  REQUIRE(got.has_value());
  REQUIRE(got->size() == 2 * rows);
  for (std::size_t i = 0; i < rows; ++i) {
    CHECK((*got)[i] == stored[i]);
    CHECK((*got)[rows + i] == stored[rows - 1 - i]);
  }

  auto erased = people.erase_many(keys);
  REQUIRE(erased.has_value());
  CHECK(*erased == rows);
  CHECK(people.count().value() == 0u);
}

TEMPLATE_TEST_CASE("in place: erase_many over several statements is all or nothing",
                   "[conformance][in_place][many]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  counting_observer seen;
  ormkit::repository<person> people(fx.backend(), {.observer = &seen});
  constexpr std::size_t rows = 8192 + 100;  // two statements
  std::vector<person> batch;
  for (std::size_t i = 0; i < rows; ++i) batch.push_back(make_person("p" + std::to_string(i)));
  auto stored = people.insert_many(std::move(batch)).value();
  std::vector<std::int64_t> keys;
  for (const auto& p : stored) keys.push_back(p.id);

  // The second statement's erase is vetoed: the first one's rows come back.
  seen.veto_op = ormkit::operation::erase;
  seen.veto_from = 1;
  auto erased = people.erase_many(keys);
  REQUIRE_FALSE(erased.has_value());
  CHECK(erased.error().is(errc::rejected));
  CHECK(people.count().value() == rows);

  // Inside an open transaction: a savepoint, and the transaction goes on.
  seen.veto_from = -1;
  auto tx = ormkit::transaction::begin(fx.backend());
  REQUIRE(tx.has_value());
  seen.vetoable_seen = 0;
  seen.veto_from = 1;
  CHECK_FALSE(people.erase_many(keys).has_value());
  CHECK(people.count().value() == rows);
  seen.veto_from = -1;
  CHECK(people.erase_many(std::span<const std::int64_t>(keys).first(10)).value() == 10u);
  REQUIRE(tx->commit().has_value());
  CHECK(people.count().value() == rows - 10);
}

TEMPLATE_TEST_CASE("in place: get_many and erase_many take many composite keys", "[conformance][in_place][many]",
                   ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  add_tenants(fx.backend(), 1);
  ormkit::repository<membership> members(fx.backend());
  constexpr int rows = 700;  // with as many missing keys: three statements of at most 512
  std::vector<membership> batch;
  for (int i = 0; i < rows; ++i) {
    membership m;
    m.tenant_id = 1;
    m.user_name = "u" + std::to_string(i);
    m.role = "member";
    m.position = i;
    batch.push_back(m);
  }
  auto stored = members.insert_many(std::move(batch)).value();
  std::vector<std::tuple<std::int64_t, std::string>> keys;
  for (const auto& m : stored) keys.emplace_back(m.tenant_id, m.user_name);
  for (int i = 0; i < rows; ++i) keys.emplace_back(1, "missing" + std::to_string(i));

  auto got = members.get_many(keys);
  if (!got) FAIL(got.error().describe());
  REQUIRE(got->size() == stored.size());
  CHECK(*got == stored);

  CHECK(members.erase_many(keys).value() == static_cast<std::uint64_t>(rows));
  CHECK(members.count().value() == 0u);
}

// The untyped keyed update that every typed update ends in: once its statement is warm
// (the per-row path), a value its column cannot hold is still refused with the message
// of a cold call, nothing changes, and the statement is free for the next call.
TEMPLATE_TEST_CASE("in place: a warm keyed update refuses a value its column cannot hold and changes nothing",
                   "[conformance][in_place]", ORMKIT_CONFORMANCE_BACKENDS) {
  TestType fx;
  ormkit::repository<user> users(fx.backend());
  auto ann = users.insert(make_user("ann@example.com", "Ann", 31)).value();
  const auto& s = ormkit::schema_of<user>();
  ormkit::backend_ref db = fx.backend();
  const std::vector<ormkit::value_view> key{ann.id};
  const ormkit::key_spec where{key, std::nullopt, false};
  const std::vector<std::size_t> age{3};
  const std::vector<std::size_t> name_and_bio{2, 4};
  auto set = [&](const std::vector<std::size_t>& cols, std::vector<ormkit::value_view> values) {
    return db.update_key(s, where, cols, values);
  };
  for (std::int64_t a : {40, 41}) CHECK(set(age, {a}).value() == 1u);  // warm
  auto text_for_int = set(age, {std::string_view("old")});
  REQUIRE_FALSE(text_for_int.has_value());
  CHECK(text_for_int.error().is(errc::invalid_argument));
  CHECK(text_for_int.error().message == "users.age: expected integer, got text");
  auto real_for_int = set(age, {41.5});
  REQUIRE_FALSE(real_for_int.has_value());
  CHECK(real_for_int.error().message == "users.age: expected integer, got real");

  CHECK(set(name_and_bio, {std::string_view("Anna"), std::monostate{}}).value() == 1u);  // warm: bio may be NULL
  auto null_name = set(name_and_bio, {std::monostate{}, std::string_view("bio")});
  REQUIRE_FALSE(null_name.has_value());
  CHECK(null_name.error().message == "users.name: NULL in a NOT NULL column");
  auto blob_bio = set(name_and_bio, {std::string_view("Anne"), ormkit::blob_view()});
  REQUIRE_FALSE(blob_bio.has_value());
  CHECK(blob_bio.error().message == "users.bio: expected text, got blob");

  auto stored = users.get(ann.id).value();
  CHECK(stored.age == 41);
  CHECK(stored.name == "Anna");
  CHECK(stored.bio == std::nullopt);
  // The statement went back after each refusal: the same calls still work.
  CHECK(set(age, {std::int64_t{42}}).value() == 1u);
  CHECK(set(name_and_bio, {std::string_view("Ann"), std::string_view("hello")}).value() == 1u);
  stored = users.get(ann.id).value();
  CHECK(stored.age == 42);
  CHECK(stored.bio == "hello");
}
