// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// The guarded write's pipeline (write_guard::savepoint, a statement already prepared on the
// connection): SAVEPOINT, the write and RELEASE go to the server together with one sync.
// When the write fails there (a unique key, a CHECK constraint) the server skips the RELEASE
// and ormkit rolls back to the savepoint: the call fails with the usual error and the
// transaction goes on with everything before it intact. A stopped server still cannot hold
// the call past its deadline, and a connection lost with the pipeline outstanding is
// errc::unavailable, after which the transaction is refused until rolled back.

#include <ormkit/postgres.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/statement_observer.hpp>
#include <ormkit/transaction.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"
#include "postgres_support.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace postgres_guarded_pipeline_test {

using namespace postgres_test;
using namespace ormkit_test;
using ormkit::errc;
namespace pg = ormkit::postgres;

using statements = statement_log;

auto has(const std::string& text, std::string_view part) -> bool { return text.find(part) != std::string::npos; }

// Not a server test: the per-row checks and encodings the write path now uses agree with
// the careful ones (text_problem, a byte at a time).
TEST_CASE("postgres: the one-pass text check agrees with text_problem", "[postgres]") {
  std::vector<std::string> samples = {"", "a", "plain ascii", "exactly8", "sixteen bytes!!!", "\xe6\x97\xa5",
                                      "\xe6\x97", "ab\xff", "\xc0\x80", "\xed\xa0\x80", "x\xf4\x90\x80\x80"};
  const std::string long_ascii(37, 'q');
  for (std::size_t at : {0u, 1u, 7u, 8u, 9u, 15u, 16u, 36u}) {
    std::string nul = long_ascii;
    nul[at] = '\0';
    samples.push_back(nul);
    std::string high = long_ascii;
    high[at] = '\xc3';  // cut short unless followed by a continuation byte
    samples.push_back(high);
    if (at + 1 < high.size()) {
      high[at + 1] = '\xa9';  // U+00E9: valid
      samples.push_back(high);
    }
    std::string emoji = long_ascii;
    emoji.insert(at, "\xf0\x9f\x98\x80");
    samples.push_back(emoji);
  }
  for (const auto& s : samples) {
    CAPTURE(s.size());
    CHECK(pg::detail::storable_text(s) == pg::detail::text_problem(s).empty());
  }
  char buf[8];
  for (std::uint64_t v : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{0x0102030405060708u}, ~std::uint64_t{0}}) {
    pg::detail::put_be64(buf, v);
    CHECK(static_cast<unsigned char>(buf[0]) == static_cast<unsigned char>(v >> 56));
    CHECK(static_cast<unsigned char>(buf[7]) == static_cast<unsigned char>(v & 0xffu));
    CHECK(pg::detail::get_be(buf, 8) == v);
  }
  const char four[] = {'\x01', '\x02', '\x03', '\x04'};
  CHECK(pg::detail::get_be(four, 4) == 0x01020304u);
}

TEST_CASE("postgres guarded pipeline: a write failing in it leaves the transaction and earlier rows intact",
          "[postgres][pipeline][guard]") {
  auto opts = server_options();
  if (!opts) return;
  with_ann_and_bob fixture(*opts);
  [[maybe_unused]] auto& [scratch, db, users, ann, bob] = fixture;
  REQUIRE(scratch.open_another()->execute(
      "ALTER TABLE users ADD CONSTRAINT users_name_allowed CHECK (name <> 'Forbidden')"));
  // Prepare the UPDATE and the DELETE on this connection: from here on every write below
  // is warm and travels in one pipeline.
  REQUIRE(users.update(bob));
  auto warm = users.insert(make_user("warm@example.com", "Warm")).value();
  REQUIRE(users.erase(warm.id));
  bob = users.get(bob.id).value();

  statements seen;
  db.observe_statements(&seen);
  REQUIRE(db.begin());
  auto cy = users.insert(make_user("cy@example.com", "Cy")).value();  // before the failures: kept

  SECTION("a unique key") {
    auto taken = users.insert(make_user("ann@example.com", "Ann again"));
    REQUIRE_FALSE(taken);
    CHECK(taken.error().is(errc::conflict));
    CHECK(taken.error().message == "users.email: value \"ann@example.com\" already exists (uq_users_email)");
    CHECK(taken.error().native == "23505 uq_users_email");
    auto moved = bob;
    moved.email = "cy@example.com";  // the row inserted earlier in this transaction
    auto clash = users.update(moved);
    REQUIRE_FALSE(clash);
    CHECK(clash.error().is(errc::conflict));
    CHECK(has(clash.error().message, "users.email"));
  }
  SECTION("a CHECK constraint") {
    auto renamed = bob;
    renamed.name = "Forbidden";
    auto refused = users.update(renamed);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().is(errc::conflict));
    CHECK(refused.error().native.substr(0, 5) == "23514");
    CHECK(has(refused.error().native, "users_name_allowed"));
    auto inserted = users.insert(make_user("fo@example.com", "Forbidden"));
    REQUIRE_FALSE(inserted);
    CHECK(inserted.error().is(errc::conflict));
  }
  // The transaction goes on: reads, writes and the commit work.
  CHECK(users.get(cy.id).value().email == "cy@example.com");
  auto dee = users.insert(make_user("dee@example.com", "Dee")).value();
  bob.name = "Robert";
  REQUIRE(users.update(bob));
  REQUIRE(users.erase(ann.id));
  REQUIRE(db.commit());
  db.observe_statements(nullptr);

  // Every write was warm: no SAVEPOINT on its own; each failure cost one ROLLBACK TO.
  CHECK(seen.count_starting("SAVEPOINT") == 0);
  CHECK(seen.count_starting("ROLLBACK TO") == 2);

  auto all = users.find_all().value();
  std::vector<std::string> emails;
  for (const auto& u : all) emails.push_back(u.email);
  std::sort(emails.begin(), emails.end());
  CHECK(emails == std::vector<std::string>{"bob@example.com", "cy@example.com", "dee@example.com"});
  CHECK(users.get(bob.id).value().name == "Robert");
}

TEST_CASE("postgres guarded pipeline: many failures in one transaction do not pile up savepoints",
          "[postgres][pipeline][guard]") {
  auto opts = server_options();
  if (!opts) return;
  scratch_schema scratch(*opts);
  auto& db = *scratch.db;
  ormkit::repository<user> users(db);
  REQUIRE(users.insert(make_user("ann@example.com", "Ann")));
  REQUIRE(db.begin());
  std::vector<std::int64_t> kept;
  for (int i = 0; i < 200; ++i) {
    auto ok = users.insert(make_user("u" + std::to_string(i) + "@example.com", "U"));
    REQUIRE(ok);
    kept.push_back(ok->id);
    auto dup = users.insert(make_user("ann@example.com", "Dup"));
    REQUIRE_FALSE(dup);
    REQUIRE(dup.error().is(errc::conflict));
  }
  // Released or rolled back every time: the transaction has no savepoint of ormkit's left
  // (RELEASE of one would fail), and commits everything the successful writes did.
  CHECK(users.count().value() == 201u);
  CHECK_FALSE(db.execute("RELEASE SAVEPOINT ormkit_write"));
  CHECK(users.count().error().is(errc::transaction_state));  // that failure aborted it
  REQUIRE(db.rollback());
  REQUIRE(db.begin());
  for (int i = 0; i < 50; ++i) {
    REQUIRE(users.insert(make_user("v" + std::to_string(i) + "@example.com", "V")));
    REQUIRE_FALSE(users.insert(make_user("ann@example.com", "Dup")));
  }
  REQUIRE(db.commit());
  CHECK(users.count().value() == 51u);
}

TEST_CASE("postgres guarded pipeline: a stopped server cannot hold a write past its deadline, cold or pipelined",
          "[postgres][pipeline][guard]") {
  auto opts = server_options();
  if (!opts) return;
  // Cold: the UPDATE's first use on the connection, its SAVEPOINT sent alone. Warm: the
  // UPDATE is prepared, so SAVEPOINT, UPDATE and RELEASE go out in one pipeline.
  for (const bool warm : {false, true}) {
    INFO((warm ? "warm (one pipeline)" : "cold (first use)"));
    scratch_schema scratch(*opts);
    auto db = scratch.open_another(std::chrono::milliseconds(700));
    ormkit::repository<user> users(*db);
    auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
    if (warm) {
      REQUIRE(users.update(ann));
      ann = users.get(ann.id).value();
    }
    REQUIRE(db->begin());
    auto bob = users.insert(make_user("bob@example.com", "Bob")).value();
    const auto pid = backend_pid(*db);
    {
      frozen stop(pid);
      const auto t0 = std::chrono::steady_clock::now();
      ann.name = "Anne";
      auto r = users.update(ann);
      const auto took = std::chrono::steady_clock::now() - t0;
      REQUIRE_FALSE(r);
      CHECK(r.error().is(errc::timeout));
      CHECK(has(r.error().message, "no answer within 700 ms"));
      CHECK(took < std::chrono::seconds(5));
    }
    CHECK_FALSE(db->connected());
    CHECK(users.count().error().is(errc::transaction_state));
    CHECK(db->rollback());
    CHECK(users.get(ann.id).value().name == "Ann");  // reconnected: nothing of the transaction
    CHECK_FALSE(users.find_by_key(bob.id).value());
  }
}

TEST_CASE("postgres guarded pipeline: a connection lost with it outstanding is errc::unavailable",
          "[postgres][pipeline][guard]") {
  auto opts = server_options();
  if (!opts) return;
  scratch_schema scratch(*opts);
  auto& db = *scratch.db;
  ormkit::repository<user> users(db);
  auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
  REQUIRE(users.update(ann));
  ann = users.get(ann.id).value();
  auto admin = scratch.open_another();
  REQUIRE(db.begin());
  auto bob = users.insert(make_user("bob@example.com", "Bob")).value();
  const std::array<ormkit::value_view, 1> arg{std::int64_t{backend_pid(db)}};
  REQUIRE(admin->query("SELECT pg_terminate_backend($1::int4, 5000)::int4", arg).has_value());

  ann.name = "Anne";
  auto r = users.update(ann);
  REQUIRE_FALSE(r);
  CAPTURE(r.error().message);
  CHECK(r.error().is(errc::unavailable));
  CHECK(has(r.error().message, "was lost"));
  // The transaction is gone with the connection: refused until rolled back.
  CHECK(users.count().error().is(errc::transaction_state));
  CHECK(db.commit().error().is(errc::transaction_state));
  CHECK(users.get(ann.id).value().name == "Ann");
  CHECK_FALSE(users.find_by_key(bob.id).value());
}

}  // namespace postgres_guarded_pipeline_test
