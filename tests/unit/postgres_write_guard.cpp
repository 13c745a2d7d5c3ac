// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// options::write_guard, against the real server. The default (savepoint) keeps a failed
// write inside a transaction from aborting it; native sends no savepoint of ormkit's, so
// a failed write aborts the transaction as PostgreSQL does: the failing call says so, every
// later call is refused with errc::transaction_state before anything is sent, commit rolls
// back, and rollback (or rollback_to a savepoint of the caller's) recovers. A pool passes
// the choice to every connection it opens.

#include <ormkit/postgres.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/statement_observer.hpp>
#include <ormkit/transaction.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"
#include "postgres_support.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace postgres_write_guard_test {

using namespace postgres_test;
using namespace ormkit_test;
using ormkit::errc;
namespace pg = ormkit::postgres;

using statements = statement_log;

auto with_guard(pg::options o, pg::write_guard g) -> pg::options {
  o.write_guard = g;
  return o;
}

// A scratch schema whose backend runs with write_guard::native, a users repository
// over it, and Ann inserted (which creates the table).
struct native_with_ann {
  explicit native_with_ann(const pg::options& o)
      : scratch(with_guard(o, pg::write_guard::native)), db(*scratch.db), users(db),
        ann(users.insert(make_user("ann@example.com", "Ann")).value()) {}
  scratch_schema scratch;
  pg::backend& db;
  ormkit::repository<user> users;
  user ann;
};

auto is_refused(const ormkit::error& e) -> bool {
  return e.is(errc::transaction_state) && e.message.find("aborted") != std::string::npos &&
         e.message.find("write_guard::native") != std::string::npos;
}

TEST_CASE("postgres write_guard: savepoint is the default and keeps the transaction going", "[postgres][guard]") {
  auto opts = server_options();
  if (!opts) return;
  CHECK(pg::options{}.write_guard == pg::write_guard::savepoint);
  scratch_schema scratch(*opts);
  auto& db = *scratch.db;
  ormkit::repository<user> users(db);
  REQUIRE(users.insert(make_user("ann@example.com", "Ann")));
  REQUIRE(db.begin());
  REQUIRE(users.insert(make_user("bob@example.com", "Bob")));
  CHECK(users.insert(make_user("ann@example.com", "Twin")).error().is(errc::conflict));
  CHECK(users.count().value() == 2);  // the transaction goes on
  REQUIRE(users.insert(make_user("cy@example.com", "Cy")));
  REQUIRE(db.commit());
  CHECK(users.count().value() == 3);
}

TEST_CASE("postgres write_guard: native writes send no savepoint and commit as usual", "[postgres][guard]") {
  auto opts = server_options();
  if (!opts) return;
  native_with_ann fixture(*opts);
  [[maybe_unused]] auto& [scratch, db, users, ann] = fixture;
  CHECK(db.settings().write_guard == pg::write_guard::native);

  statements seen;
  db.observe_statements(&seen);
  REQUIRE(db.begin());
  auto bob = users.insert(make_user("bob@example.com", "Bob")).value();
  auto explicit_key = make_user("dee@example.com", "Dee");
  explicit_key.id = 1000;  // the INSERT and the key sequence moved past it, pipelined
  CHECK(users.insert(explicit_key).value().id == 1000);
  bob.name = "Bobby";
  REQUIRE(users.update(bob));
  REQUIRE(users.insert(make_user("zed@example.com", "Zed")));
  CHECK(users.erase_where(ormkit::col(&user::email) == std::string("zed@example.com")).value() == 1u);
  REQUIRE(users.erase(ann.id));
  std::vector<user> batch{make_user("e1@example.com", "E1"), make_user("e2@example.com", "E2")};
  CHECK(users.insert_many(batch).value().size() == 2);  // COPY, no savepoint
  REQUIRE(db.commit());
  db.observe_statements(nullptr);
  CHECK(seen.count("SAVEPOINT") == 0);
  CHECK(seen.count("ROLLBACK") == 0);

  CHECK(users.count().value() == 4);  // bob, dee, e1, e2
  CHECK(users.get(bob.id).value().name == "Bobby");
  CHECK(users.insert(make_user("fay@example.com", "Fay")).value().id > 1000);
}

TEST_CASE("postgres write_guard: a failed native write aborts the transaction until rollback", "[postgres][guard]") {
  auto opts = server_options();
  if (!opts) return;
  native_with_ann fixture(*opts);
  [[maybe_unused]] auto& [scratch, db, users, ann] = fixture;

  REQUIRE(db.begin());
  auto bob = users.insert(make_user("bob@example.com", "Bob")).value();
  auto twin = users.insert(make_user("ann@example.com", "Twin"));
  REQUIRE_FALSE(twin);
  CHECK(twin.error().is(errc::conflict));  // the write's own error, worded as always
  CHECK(twin.error().native.substr(0, 5) == "23505");
  CHECK(twin.error().message.find("users.email: value \"ann@example.com\" already exists") != std::string::npos);
  CHECK(twin.error().message.find("the transaction is aborted (write_guard::native)") != std::string::npos);

  // Every later call is refused before anything is sent.
  statements seen;
  db.observe_statements(&seen);
  CHECK(is_refused(users.get(ann.id).error()));
  CHECK(is_refused(users.count().error()));
  CHECK(is_refused(users.insert(make_user("cy@example.com", "Cy")).error()));
  CHECK(is_refused(users.update(ann).error()));
  CHECK(is_refused(users.erase(ann.id).error()));
  CHECK(is_refused(users.find_all().error()));
  CHECK(seen.sql.empty());
  db.observe_statements(nullptr);

  SECTION("commit rolls it back and says so") {
    auto done = db.commit();
    REQUIRE_FALSE(done);
    CHECK(done.error().is(errc::transaction_state));
    CHECK_FALSE(db.in_transaction());
  }
  SECTION("rollback ends it") {
    REQUIRE(db.rollback());
    CHECK_FALSE(db.in_transaction());
  }
  // Nothing of the transaction stayed; the backend works as before.
  CHECK(users.count().value() == 1);
  CHECK_FALSE(users.find_by_key(bob.id).value());
  REQUIRE(db.begin());
  REQUIRE(users.insert(make_user("cy@example.com", "Cy")));
  REQUIRE(db.commit());
  CHECK(users.count().value() == 2);
}

TEST_CASE("postgres write_guard: a caller's savepoint recovers a native transaction", "[postgres][guard]") {
  auto opts = server_options();
  if (!opts) return;
  native_with_ann fixture(*opts);
  [[maybe_unused]] auto& [scratch, db, users, ann] = fixture;
  REQUIRE(db.begin());
  REQUIRE(users.insert(make_user("bob@example.com", "Bob")));
  REQUIRE(db.savepoint("before risky"));
  auto same = make_user("cy@example.com", "Cy");
  same.id = 1;  // ann's key
  CHECK(users.insert(same).error().is(errc::conflict));
  CHECK(users.count().error().is(errc::transaction_state));
  REQUIRE(db.rollback_to("before risky"));
  CHECK(users.count().value() == 2);
  REQUIRE(users.insert(make_user("cy@example.com", "Cy")));
  REQUIRE(db.commit());
  CHECK(users.count().value() == 3);
}

TEST_CASE("postgres write_guard: a failed native batch aborts the transaction", "[postgres][guard]") {
  auto opts = server_options();
  if (!opts) return;
  native_with_ann fixture(*opts);
  [[maybe_unused]] auto& [scratch, db, users, ann] = fixture;

  statements seen;
  db.observe_statements(&seen);
  REQUIRE(db.begin());
  std::vector<user> batch{make_user("b1@example.com", "B1"), make_user("ann@example.com", "Clash"),
                          make_user("b3@example.com", "B3")};
  auto copied = users.insert_many(batch);
  REQUIRE_FALSE(copied);
  CHECK(copied.error().is(errc::conflict));
  CHECK(copied.error().message.find("write_guard::native") != std::string::npos);
  CHECK(users.count().error().is(errc::transaction_state));
  CHECK_FALSE(db.commit());
  db.observe_statements(nullptr);
  CHECK(seen.count("SAVEPOINT") == 0);
  CHECK(users.count().value() == 1);

  // Outside a transaction both modes are the same: the batch is all or nothing on its own,
  // the failure names the item, and the next call runs.
  auto alone = users.insert_many(batch);
  REQUIRE_FALSE(alone);
  CHECK(alone.error().is(errc::conflict));
  CHECK(alone.error().message.find("(batch item 1)") != std::string::npos);
  CHECK(users.count().value() == 1);
}

TEST_CASE("postgres write_guard: outside a transaction a failed native write is just an error",
          "[postgres][guard]") {
  auto opts = server_options();
  if (!opts) return;
  native_with_ann fixture(*opts);
  [[maybe_unused]] auto& [scratch, db, users, ann] = fixture;
  auto twin = users.insert(make_user("ann@example.com", "Twin"));
  REQUIRE_FALSE(twin);
  CHECK(twin.error().is(errc::conflict));
  CHECK(twin.error().message.find("aborted") == std::string::npos);
  REQUIRE(users.insert(make_user("bob@example.com", "Bob")));
  CHECK(users.count().value() == 2);
}

TEST_CASE("postgres write_guard: transact retries nothing after a native failure and rolls back",
          "[postgres][guard]") {
  auto opts = server_options();
  if (!opts) return;
  native_with_ann fixture(*opts);
  [[maybe_unused]] auto& [scratch, db, users, ann] = fixture;
  int calls = 0;
  auto st = ormkit::transact(db, [&](ormkit::transaction&) -> ormkit::status {
    ++calls;
    ORMKIT_TRY(users.insert(make_user("bob@example.com", "Bob")));
    ORMKIT_TRY(users.insert(make_user("ann@example.com", "Twin")));
    return {};
  });
  REQUIRE_FALSE(st);
  CHECK(st.error().is(errc::conflict));
  CHECK(calls == 1);
  CHECK_FALSE(db.in_transaction());
  CHECK(users.count().value() == 1);
}

TEST_CASE("postgres write_guard: a pool opens its connections with the pool's guard", "[postgres][guard][pool]") {
  auto opts = server_options();
  if (!opts) return;
  scratch_schema scratch(*opts);
  for (auto guard : {pg::write_guard::savepoint, pg::write_guard::native}) {
    CAPTURE(guard == pg::write_guard::native);
    pg::pool_options o;
    o.connection = with_guard(scratch.options(), guard);
    o.max_size = 2;
    o.min_idle = 1;
    auto pool = pg::pool::open(o).value();
    CHECK(pool->settings().connection.write_guard == guard);
    ormkit::repository<user> users(*pool);
    (void)users.erase_where(ormkit::col(&user::id) > 0);
    REQUIRE(users.insert(make_user("ann@example.com", "Ann")));
    statements seen;
    pool->observe_statements(&seen);
    auto st = ormkit::transact(*pool, [&](ormkit::transaction&) -> ormkit::status {
      ORMKIT_TRY(users.insert(make_user("bob@example.com", "Bob")));
      auto twin = users.insert(make_user("ann@example.com", "Twin"));
      if (twin || !twin.error().is(errc::conflict)) return ormkit::unexpected(errc::backend_error, "no conflict");
      auto n = users.count();
      if (guard == pg::write_guard::native) {
        if (n || !n.error().is(errc::transaction_state)) return ormkit::unexpected(errc::backend_error, "not refused");
        return std::move(n).error();
      }
      if (!n || *n != 2) return ormkit::unexpected(errc::backend_error, "the transaction did not go on");
      return {};
    });
    pool->observe_statements(nullptr);
    if (guard == pg::write_guard::native) {
      REQUIRE_FALSE(st);
      CHECK(st.error().is(errc::transaction_state));
      CHECK(seen.count("SAVEPOINT") == 0);
      CHECK(users.count().value() == 1);
    } else {
      REQUIRE(st);
      CHECK(seen.count("ROLLBACK TO") == 1);
      CHECK(users.count().value() == 2);
    }
  }
}

}  // namespace postgres_write_guard_test

namespace postgres_write_guard_test {

// The prepared-statement cache finds recent statements by the address of their text, checked
// by content: a buffer reused for other SQL, and statements evicted from a small cache, must
// never run the wrong statement.
TEST_CASE("postgres: a small statement cache and reused SQL buffers run the right statements", "[postgres][guard]") {
  auto opts = server_options();
  if (!opts) return;
  for (auto guard : {pg::write_guard::savepoint, pg::write_guard::native}) {
    CAPTURE(guard == pg::write_guard::native);
    auto o = with_guard(*opts, guard);
    o.statement_cache = 2;
    scratch_schema scratch(o);
    auto& db = *scratch.db;
    ormkit::repository<user> users(db);
    std::vector<user> stored;
    REQUIRE(db.begin());
    for (int i = 0; i < 6; ++i) {
      auto u = users.insert(make_user("u" + std::to_string(i) + "@example.com", "U" + std::to_string(i), 20 + i));
      REQUIRE(u);
      stored.push_back(*u);
    }
    for (int round = 0; round < 3; ++round) {
      // Filters built into one buffer, one after the other, with different SQL.
      CHECK(users.count(ormkit::col(&user::age) >= 23).value() == 3u);
      CHECK(users.count(ormkit::col(&user::name) == std::string("U5")).value() == 1u);  // never renamed
      CHECK(users.count(ormkit::col(&user::age) < 21 || ormkit::col(&user::age) > 24).value() == 2u);
      auto& u = stored[static_cast<std::size_t>(round)];
      u.name = "R" + std::to_string(round);
      auto updated = users.update(u);
      REQUIRE(updated);
      u = *updated;
      CHECK(users.get(u.id).value().name == u.name);
    }
    CHECK(users.erase_where(ormkit::col(&user::name) == std::string("R0")).value() == 1u);
    CHECK(users.erase_where(ormkit::col(&user::age) == 25).value() == 1u);
    REQUIRE(db.commit());
    CHECK(users.count().value() == 4u);
    CHECK(db.statistics().evictions > 0);
  }
}

}  // namespace postgres_write_guard_test
