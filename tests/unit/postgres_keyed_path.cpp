// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// The short path of get and erase by key (postgres::backend::fast_keyed): once a keyed
// statement is prepared on the connection, with no statement observer and no savepoint to
// open, the call goes straight to the prepared statement, waits once, reads one result.
// It answers as the general path does: rows (a large one too, whose answer comes in
// pieces), not_found, conflicts worded the same, a native transaction aborted by a failure,
// a deadline a stopped server cannot stretch, a lost connection as errc::unavailable, and
// statements evicted from a small cache prepared again. A statement observer sends every
// call down the general path, so comparing with one attached compares the two paths.

#include <ormkit/postgres.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/statement_observer.hpp>
#include <ormkit/transaction.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"
#include "postgres_support.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>

namespace postgres_keyed_path_test {

using namespace postgres_test;
using namespace ormkit_test;
using ormkit::errc;
namespace pg = ormkit::postgres;

auto has(const std::string& text, std::string_view part) -> bool { return text.find(part) != std::string::npos; }

// The outcome of a call, without its value.
template <class T>
auto outcome(const ormkit::result<T>& r) -> ormkit::status {
  if (r) return {};
  return ormkit::unexpected(r.error());
}

auto with_guard(pg::options o, pg::write_guard g) -> pg::options {
  o.write_guard = g;
  return o;
}

TEST_CASE("postgres keyed path: warm gets and erases answer as the general path does", "[postgres][keyed]") {
  auto opts = server_options();
  if (!opts) return;
  for (const auto guard : {pg::write_guard::savepoint, pg::write_guard::native}) {
    INFO((guard == pg::write_guard::native ? "native" : "savepoint"));
    with_ann_and_bob fixture(with_guard(*opts, guard));
    auto& [scratch, db, users, ann, bob] = fixture;

    // Warm: the first get prepares the statement; the later ones prepare nothing.
    REQUIRE(users.get(ann.id).value().email == "ann@example.com");
    const auto before = db.statistics();
    for (int i = 0; i < 10; ++i) {
      auto got = users.get(i % 2 == 0 ? ann.id : bob.id);
      REQUIRE(got);
      CHECK(got->name == (i % 2 == 0 ? "Ann" : "Bob"));
      CHECK(got->id == (i % 2 == 0 ? ann.id : bob.id));
    }
    CHECK(db.statistics().prepares == before.prepares);
    CHECK(db.statistics().hits >= before.hits + 10);
    CHECK(users.get(ann.id + bob.id + 100).error().is(errc::not_found));

    // Erase: warm after the first; a missing key is not_found.
    user carl = users.insert(make_user("carl@example.com", "Carl")).value();
    REQUIRE(users.erase(carl.id));
    CHECK(users.erase(carl.id).error().is(errc::not_found));
    CHECK(users.get(carl.id).error().is(errc::not_found));

    // Inside a transaction: reads and (native) writes take the short path; rolled back.
    REQUIRE(db.begin());
    CHECK(users.get(bob.id).value().name == "Bob");
    REQUIRE(users.erase(bob.id));
    CHECK(users.get(bob.id).error().is(errc::not_found));
    CHECK(users.erase(bob.id).error().is(errc::not_found));
    REQUIRE(db.rollback());
    CHECK(users.get(bob.id).value().name == "Bob");
  }
}

TEST_CASE("postgres keyed path: composite and text keys; text PostgreSQL cannot store is refused",
          "[postgres][keyed]") {
  auto opts = server_options();
  if (!opts) return;
  scratch_schema scratch(with_guard(*opts, pg::write_guard::native));
  ormkit::repository<tenant> tenants(*scratch.db);
  ormkit::repository<membership> members(*scratch.db);
  tenant acme;
  acme.name = "acme";
  acme = tenants.insert(acme).value();
  REQUIRE(members.insert(make_membership(acme.id, "ann", "admin", 1)));
  REQUIRE(members.insert(make_membership(acme.id, "zoë", "member", 2)));
  for (int i = 0; i < 3; ++i) {
    CHECK(members.get(std::tuple{acme.id, std::string("ann")}).value().position == 1);
    CHECK(members.get(std::tuple{acme.id, std::string("zoë")}).value().role == "member");
    CHECK(members.get(std::tuple{acme.id, std::string("nobody")}).error().is(errc::not_found));
  }
  auto bad = members.get(std::tuple{acme.id, std::string("\xff")});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().is(errc::invalid_argument));
  CHECK(has(bad.error().message, "not valid UTF-8"));
  REQUIRE(members.erase(std::tuple{acme.id, std::string("zoë")}));
  CHECK(members.erase(std::tuple{acme.id, std::string("zoë")}).error().is(errc::not_found));
  CHECK(members.erase(std::tuple{acme.id, std::string("\xff")}).error().is(errc::invalid_argument));
  CHECK(members.count().value() == 1u);
}

TEST_CASE("postgres keyed path: a row too large for one read comes back whole", "[postgres][keyed]") {
  auto opts = server_options();
  if (!opts) return;
  with_ann_and_bob fixture(*opts);
  auto& [scratch, db, users, ann, bob] = fixture;
  std::string big(3 << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
  ann.bio = big;
  REQUIRE(users.update(ann));
  for (int i = 0; i < 3; ++i) {
    auto got = users.get(ann.id);
    REQUIRE(got);
    REQUIRE(got->bio.has_value());
    CHECK(*got->bio == big);
    CHECK(users.get(bob.id).value().bio == bob.bio);
  }
}

TEST_CASE("postgres keyed path: statements evicted from a small cache are prepared again", "[postgres][keyed]") {
  auto opts = server_options();
  if (!opts) return;
  auto o = with_guard(*opts, pg::write_guard::native);
  o.statement_cache = 2;
  with_ann_and_bob fixture(o);
  auto& [scratch, db, users, ann, bob] = fixture;
  ormkit::repository<tenant> tenants(db);
  tenant acme;
  acme.name = "acme";
  acme = tenants.insert(acme).value();
  for (int i = 0; i < 4; ++i) {
    CHECK(users.get(ann.id).value().name == "Ann");
    CHECK(tenants.get(acme.id).value().name == "acme");
    CHECK(users.count().value() == 2u);
    CHECK(users.get(bob.id).value().email == "bob@example.com");
  }
  CHECK(db.statistics().evictions > 0u);
  REQUIRE(users.erase(bob.id));
  CHECK(users.count().value() == 1u);
  CHECK(users.erase(bob.id).error().is(errc::not_found));
}

TEST_CASE("postgres keyed path: a conflict is worded as on the general path; natively it aborts the transaction",
          "[postgres][keyed][guard]") {
  auto opts = server_options();
  if (!opts) return;
  scratch_schema scratch(with_guard(*opts, pg::write_guard::native));
  auto& db = *scratch.db;
  ormkit::repository<tenant> tenants(db);
  ormkit::repository<membership> members(db);
  tenant acme, spare;
  acme.name = "acme";
  spare.name = "spare";
  acme = tenants.insert(acme).value();
  spare = tenants.insert(spare).value();
  REQUIRE(members.insert(make_membership(acme.id, "ann", "admin", 1)));
  REQUIRE(tenants.erase(spare.id));  // the DELETE is prepared: the next one is warm

  auto fast = tenants.erase(acme.id);
  REQUIRE_FALSE(fast);
  CHECK(fast.error().is(errc::conflict));
  CHECK(has(fast.error().message, "still reference"));
  CHECK(has(fast.error().native, "23503"));

  statement_log log;  // an observer: the general path
  db.observe_statements(&log);
  auto general = tenants.erase(acme.id);
  db.observe_statements(nullptr);
  REQUIRE_FALSE(general);
  CHECK(general.error().code == fast.error().code);
  CHECK(general.error().message == fast.error().message);
  CHECK(general.error().native == fast.error().native);
  CHECK(log.count("DELETE") == 1u);

  // In a native transaction the failure aborts it: said by the call, refused after.
  REQUIRE(db.begin());
  CHECK(tenants.get(acme.id).value().name == "acme");
  auto in_tx = tenants.erase(acme.id);
  REQUIRE_FALSE(in_tx);
  CHECK(in_tx.error().is(errc::conflict));
  CHECK(has(in_tx.error().message, "the transaction is aborted (write_guard::native)"));
  CHECK(tenants.get(acme.id).error().is(errc::transaction_state));
  CHECK(tenants.erase(acme.id).error().is(errc::transaction_state));
  REQUIRE(db.rollback());
  CHECK(tenants.get(acme.id).value().name == "acme");
}

TEST_CASE("postgres keyed path: a stopped server cannot hold a warm get or erase past its deadline",
          "[postgres][keyed][guard]") {
  auto opts = server_options();
  if (!opts) return;
  for (const bool erase : {false, true})
    for (const bool in_tx : {false, true}) {
      INFO((erase ? "erase" : "get") << (in_tx ? " in a transaction" : " on its own"));
      scratch_schema scratch(with_guard(*opts, pg::write_guard::native));
      auto db = scratch.open_another(std::chrono::milliseconds(700));
      ormkit::repository<user> users(*db);
      auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
      auto bob = users.insert(make_user("bob@example.com", "Bob")).value();
      auto carl = users.insert(make_user("carl@example.com", "Carl")).value();
      REQUIRE(users.get(carl.id));  // warm
      REQUIRE(users.erase(carl.id));
      if (in_tx) REQUIRE(db->begin());
      const auto pid = backend_pid(*db);
      {
        frozen stop(pid);
        const auto t0 = std::chrono::steady_clock::now();
        const ormkit::status r = erase ? users.erase(bob.id) : outcome(users.get(ann.id));
        const auto took = std::chrono::steady_clock::now() - t0;
        REQUIRE_FALSE(r);
        CAPTURE(r.error().message);
        CHECK(r.error().is(errc::timeout));
        CHECK(has(r.error().message, "no answer within 700 ms"));
        CHECK(took >= std::chrono::milliseconds(650));
        CHECK(took < std::chrono::seconds(5));
      }
      CHECK_FALSE(db->connected());
      if (in_tx) {
        CHECK(users.get(ann.id).error().is(errc::transaction_state));
        CHECK(db->rollback());
      }
      CHECK(users.get(ann.id).value().name == "Ann");  // reconnected
      // Rolled back with the transaction; on its own the DELETE may have run when the
      // server went on (a timed-out write outside a transaction may or may not have happened).
      if (in_tx || !erase) CHECK(users.get(bob.id).value().name == "Bob");
    }
}

TEST_CASE("postgres keyed path: a connection lost under a warm get or erase is errc::unavailable",
          "[postgres][keyed]") {
  auto opts = server_options();
  if (!opts) return;
  for (const bool erase : {false, true}) {
    INFO((erase ? "erase" : "get"));
    with_ann_and_bob fixture(with_guard(*opts, pg::write_guard::native));
    auto& [scratch, db, users, ann, bob] = fixture;
    auto carl = users.insert(make_user("carl@example.com", "Carl")).value();
    REQUIRE(users.get(carl.id));  // warm
    REQUIRE(users.erase(carl.id));
    auto admin = scratch.open_another();
    const std::array<ormkit::value_view, 1> arg{std::int64_t{backend_pid(db)}};
    REQUIRE(admin->query("SELECT pg_terminate_backend($1::int4, 5000)::int4", arg).has_value());

    const ormkit::status r = erase ? users.erase(bob.id) : outcome(users.get(ann.id));
    REQUIRE_FALSE(r);
    CAPTURE(r.error().message);
    CHECK(r.error().is(errc::unavailable));
    CHECK(has(r.error().message, "was lost"));
    CHECK_FALSE(db.connected());
    CHECK(users.get(ann.id).value().name == "Ann");  // the next call reconnects
    CHECK(users.get(bob.id).value().name == "Bob");
  }
}

}  // namespace postgres_keyed_path_test
