// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// PostgreSQL round trips: a write inside a transaction runs under its own savepoint in
// one pipeline (SAVEPOINT, the write, RELEASE), and a rejected one still changes nothing
// and leaves the transaction usable; insert_many is one binary COPY (keys from the key
// sequence), all or nothing, naming the failing item; client-side deadlines hold during
// a COPY (and for a guarded write, cold or pipelined: postgres_guarded_pipeline.cpp).

#include <ormkit/postgres.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/statement_observer.hpp>
#include <ormkit/transaction.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"
#include "postgres_support.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace postgres_batches_test {

using namespace postgres_test;
using namespace ormkit_test;
using ormkit::errc;

struct statements : ormkit::statement_observer {
  std::vector<std::string> sql;
  void executed(const ormkit::statement_event& e) override { sql.emplace_back(e.sql); }
  [[nodiscard]] auto count(std::string_view prefix) const -> std::size_t {
    return static_cast<std::size_t>(std::count_if(sql.begin(), sql.end(), [&](const std::string& s) {
      return std::string_view(s).substr(0, prefix.size()) == prefix;
    }));
  }
};

TEST_CASE("postgres: a rejected write in a transaction changes nothing and the transaction goes on",
          "[postgres][pipeline]") {
  auto opts = server_options();
  if (!opts) return;
  with_ann_and_bob fixture(*opts);
  [[maybe_unused]] auto& [scratch, db, users, ann, bob] = fixture;

  statements seen;
  db.observe_statements(&seen);
  REQUIRE(db.begin());
  // Each write: one statement reported, no SAVEPOINT of its own (it is pipelined).
  auto cy = users.insert(make_user("cy@example.com", "Cy")).value();
  CHECK(seen.count("SAVEPOINT") == 0);  // a warm statement: one pipeline
  auto taken = users.insert(make_user("ann@example.com", "Ann again"));
  REQUIRE_FALSE(taken);
  CHECK(taken.error().is(errc::conflict));
  CHECK(taken.error().message.find("users.email") != std::string::npos);
  CHECK(taken.error().native.substr(0, 5) == "23505");

  bob.email = "ann@example.com";  // an update that a unique key rejects
  auto clash = users.update(bob);
  REQUIRE_FALSE(clash);
  CHECK(clash.error().is(errc::conflict));
  // An explicit key on an auto-increment table: the INSERT and the sequence bump pipelined.
  auto explicit_key = make_user("dee@example.com", "Dee");
  explicit_key.id = 1000;
  CHECK(users.insert(explicit_key).value().id == 1000);
  auto same_key = make_user("eve@example.com", "Eve");
  same_key.id = 1000;
  CHECK(users.insert(same_key).error().is(errc::conflict));
  CHECK(users.erase(cy.id));
  REQUIRE(db.commit());
  db.observe_statements(nullptr);

  // A statement's first use in a transaction sends its savepoint on its own (the statement
  // is prepared under it); after that, SAVEPOINT travels in the pipeline, unreported. Here:
  // the first UPDATE, explicit-key INSERT and DELETE; the generated-key INSERT ran before.
  CHECK(seen.count("SAVEPOINT") == 3);
  CHECK(seen.count("ROLLBACK TO") == 3);  // only after the three rejected writes

  auto all = users.find_all().value();
  CHECK(all.size() == 3);  // ann, bob (unchanged), dee
  CHECK(users.get(bob.id).value().email == "bob@example.com");
  CHECK_FALSE(users.find_by_key(cy.id).value());
  // The sequence moved past the explicit key: a generated one does not collide.
  CHECK(users.insert(make_user("fay@example.com", "Fay")).value().id > 1000);
  (void)ann;
}

TEST_CASE("postgres: a write whose first prepare fails in a transaction leaves the transaction usable",
          "[postgres][pipeline]") {
  auto opts = server_options();
  if (!opts) return;
  with_ann_and_bob fixture(*opts);
  [[maybe_unused]] auto& [scratch, db, users, ann, bob] = fixture;
  // The stored table no longer matches the entity: preparing the UPDATE fails.
  REQUIRE(scratch.open_another()->execute("ALTER TABLE users DROP COLUMN bio"));
  REQUIRE(db.begin());
  ann.name = "Anne";
  auto changed = users.update(ann);
  REQUIRE_FALSE(changed);
  CHECK(changed.error().message.find("differs from the entity") != std::string::npos);
  CHECK(users.erase(bob.id));  // the transaction goes on
  REQUIRE(db.commit());
  CHECK(users.count().value() == 1);
}

TEST_CASE("postgres: update_many pipelines its UPDATEs without a savepoint each, on a backend and a pool",
          "[postgres][batch]") {
  auto opts = server_options();
  if (!opts) return;
  scratch_schema scratch(*opts);
  statements seen;
  auto check_on = [&](ormkit::backend_ref db, auto& observed_by) {
    ormkit::repository<user> users(db);
    std::vector<user> batch;
    for (int i = 0; i < 40; ++i) batch.push_back(make_user("p" + std::to_string(i) + "@example.com", "P"));
    auto stored = users.insert_many(batch).value();
    for (auto& u : stored) u.age += 1;
    observed_by.observe_statements(&seen);
    seen.sql.clear();
    auto updated = users.update_many(stored).value();
    observed_by.observe_statements(nullptr);
    CHECK(seen.count("UPDATE") == 40);
    CHECK(seen.count("SAVEPOINT ormkit_write") == 0);  // the batch's own savepoint or transaction guards it
    for (const auto& u : updated) CHECK(users.get(u.id).value() == u);
    // A failing row in the middle: the error names it and nothing of the batch stays.
    auto again = updated;
    for (auto& u : again) u.name = "lost";
    again[17].email = again[3].email;
    auto r = users.update_many(again);
    REQUIRE_FALSE(r);
    CHECK(r.error().is(errc::conflict));
    CHECK(r.error().message.find("(batch item 17)") != std::string::npos);
    for (const auto& u : updated) CHECK(users.get(u.id).value() == u);
    (void)users.erase_where(ormkit::col(&user::id) > 0);
  };
  check_on(*scratch.db, *scratch.db);
  auto pool = ormkit::postgres::pool::open({.connection = scratch.options(), .max_size = 2}).value();
  check_on(*pool, *pool);
}

TEST_CASE("postgres: insert_many is one COPY, all or nothing, with generated keys", "[postgres][batch]") {
  auto opts = server_options();
  if (!opts) return;
  scratch_schema scratch(*opts);
  auto& db = *scratch.db;
  ormkit::repository<user> users(db);
  REQUIRE(db.ensure_table(users.schema()));

  std::vector<user> batch;
  for (int i = 0; i < 1200; ++i) {
    auto u = make_user("u" + std::to_string(i) + "@example.com", "User " + std::to_string(i), i % 100);
    // Text that a text-format COPY would have to escape: binary needs none.
    if (i % 3 == 0) u.bio = "tab\there\nnewline \\N back\\slash \"quote\" 'single' ; DROP TABLE users; --";
    batch.push_back(std::move(u));
  }
  statements seen;
  db.observe_statements(&seen);
  auto inserted = users.insert_many(batch);
  db.observe_statements(nullptr);
  REQUIRE(inserted);
  CHECK(seen.count("COPY") == 1);
  CHECK(seen.count("INSERT") == 0);

  auto& rows = *inserted;
  REQUIRE(rows.size() == batch.size());
  std::set<std::int64_t> keys;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    keys.insert(rows[i].id);
    if (i % 97 != 0) continue;
    auto back = users.get(rows[i].id).value();
    CHECK(back.email == batch[i].email);
    CHECK(back.bio == batch[i].bio);
    CHECK(back.age == batch[i].age);
  }
  CHECK(keys.size() == batch.size());
  CHECK(users.count().value() == 1200);
  // Generated keys after the batch do not collide with it.
  CHECK(keys.count(users.insert(make_user("next@example.com", "Next")).value().id) == 0);

  // A conflict in item 7: nothing of the batch is stored, the message names the item.
  std::vector<user> bad;
  for (int i = 0; i < 10; ++i) bad.push_back(make_user("b" + std::to_string(i) + "@example.com", "B"));
  bad[7].email = "u5@example.com";
  auto rejected = users.insert_many(bad);
  REQUIRE_FALSE(rejected);
  CHECK(rejected.error().is(errc::conflict));
  CHECK(rejected.error().message.find("(batch item 7)") != std::string::npos);
  CHECK(users.count().value() == 1201);

  // Inside a transaction: the same, and the transaction stays usable.
  REQUIRE(db.begin());
  CHECK_FALSE(users.insert_many(bad));
  bad[7].email = "b7@example.com";
  CHECK(users.insert_many(bad));
  REQUIRE(db.commit());
  CHECK(users.count().value() == 1211);

  // Explicit keys: one COPY, then the key sequence moves past them.
  std::vector<user> given;
  for (int i = 0; i < 5; ++i) {
    given.push_back(make_user("g" + std::to_string(i) + "@example.com", "G"));
    given.back().id = 50'000 + i;
  }
  auto stored = users.insert_many(given).value();
  CHECK(stored.back().id == 50'004);
  CHECK(users.insert(make_user("after@example.com", "After")).value().id > 50'004);

  // A batch mixing generated and explicit keys goes row by row (pipelined).
  std::vector<user> mixed{make_user("m0@example.com", "M"), make_user("m1@example.com", "M")};
  mixed[1].id = 60'000;
  auto m = users.insert_many(mixed).value();
  CHECK(m[1].id == 60'000);
  CHECK(m[0].id > 50'004);
  CHECK(users.insert(make_user("after2@example.com", "After")).value().id > 60'000);
}

TEST_CASE("postgres: a stopped server cannot hold a COPY past its deadline", "[postgres][batch]") {
  auto opts = server_options();
  if (!opts) return;
  scratch_schema scratch(*opts);
  auto db = scratch.open_another(std::chrono::milliseconds(700));
  ormkit::repository<user> users(*db);
  std::vector<user> batch;
  for (int i = 0; i < 2000; ++i) batch.push_back(make_user("c" + std::to_string(i) + "@example.com", "C"));
  REQUIRE(users.insert_many({batch[0], batch[1]}));  // the table checked for COPY once
  batch.erase(batch.begin(), batch.begin() + 2);
  const auto pid = backend_pid(*db);
  {
    frozen stop(pid);
    const auto t0 = std::chrono::steady_clock::now();
    auto r = users.insert_many(batch);
    const auto took = std::chrono::steady_clock::now() - t0;
    REQUIRE_FALSE(r);
    CHECK((r.error().is(errc::timeout) || r.error().is(errc::commit_unknown)));
    CHECK(took < std::chrono::seconds(5));
  }
  CHECK_FALSE(db->connected());
  // Outside a transaction the COPY was its own: whether it committed is unknown to the
  // client, but it is all or nothing.
  const auto n = users.count().value();
  CHECK((n == 2 || n == 2000));
}

TEST_CASE("postgres: insert_many COPY round-trips every column type", "[postgres][batch]") {
  auto opts = server_options();
  if (!opts) return;
  scratch_schema scratch(*opts);
  ormkit::repository<all_types> repo(*scratch.db);
  std::vector<all_types> batch(3);
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto& v = batch[i];
    v.i8 = -8;
    v.i16 = -16;
    v.i32 = static_cast<std::int32_t>(-32 - static_cast<int>(i));
    v.i64 = -64'000'000'000;
    v.u8 = 200;
    v.u16 = 60'000;
    v.u32 = 4'000'000'000u;
    v.u64 = 9'000'000'000'000'000'000u;
    v.f32 = 1.5f;
    v.f64 = -2.25e-300;
    v.flag = i % 2 == 0;
    v.text = "text\t\n\\ ünïcödé";
    v.bytes = bytes_of({0, 1, 92, 255});
    v.ubytes = {0, 10, 13};
    v.maybe_int = i == 0 ? std::nullopt : std::optional<std::int32_t>(7);
    v.maybe_text = i == 1 ? std::nullopt : std::optional<std::string>("maybe");
    v.maybe_real = i == 2 ? std::nullopt : std::optional<double>(0.125);
    v.when = time_point(std::chrono::microseconds(1'700'000'000'123'456));
    v.maybe_when = i == 0 ? std::nullopt : std::optional<time_point>(time_point(std::chrono::microseconds(-5)));
    v.timeout = std::chrono::milliseconds(1234);
    v.seconds = std::chrono::duration<double>(0.5);
    v.shade = color::green;
    v.lvl = level::high;
    v.maybe_shade = i == 1 ? std::nullopt : std::optional<color>(color::blue);
  }
  auto stored = repo.insert_many(batch).value();
  for (std::size_t i = 0; i < batch.size(); ++i) {
    auto back = repo.get(stored[i].id).value();
    batch[i].id = stored[i].id;
    CHECK(back == batch[i]);
  }
}

TEST_CASE("postgres: insert_many into a table whose stored types differ does not use binary COPY",
          "[postgres][batch]") {
  auto opts = server_options();
  if (!opts) return;
  scratch_schema scratch(*opts);
  auto& db = *scratch.db;
  // "age" as integer (int4), not bigint: binary COPY would not convert, so rows go by INSERT.
  REQUIRE(db.execute("CREATE TABLE people (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name TEXT NOT "
                     "NULL, age INTEGER, city TEXT, score DOUBLE PRECISION NOT NULL)"));
  ormkit::repository<person> people(db);
  std::vector<person> batch;
  for (int i = 0; i < 4; ++i) batch.push_back(make_person("P" + std::to_string(i), 20 + i, "Oslo", 0.5 * i));
  statements seen;
  db.observe_statements(&seen);
  auto stored = people.insert_many(batch).value();
  db.observe_statements(nullptr);
  CHECK(seen.count("COPY") == 0);
  CHECK(seen.count("INSERT") == 4);
  REQUIRE(stored.size() == 4);
  for (std::size_t i = 0; i < 4; ++i) {
    auto back = people.get(stored[i].id).value();
    batch[i].id = stored[i].id;
    CHECK(back == batch[i]);
  }
}

}  // namespace postgres_batches_test
