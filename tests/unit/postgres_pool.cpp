// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// The PostgreSQL connection pool: shared by threads through repositories (8 threads x
// 300 version-checked increments end at exactly 2,400, conflicts retried), transactions
// pinned to their thread, the acquire timeout, the health check on borrow and reconnects
// after the server ended every connection, statistics, bad sizes.

#include <ormkit/postgres.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/transaction.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"
#include "postgres_support.hpp"

#include <array>
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace postgres_test;
using namespace ormkit_test;
using ormkit::errc;
namespace pg = ormkit::postgres;

struct tally {
  std::int64_t id{};
  std::int64_t value{};
  std::int64_t version{};

  friend constexpr auto ormkit_describe(std::type_identity<tally>) {
    using namespace ormkit;
    return describe<tally>("tallies")
        .column(&tally::id, "id", primary_key)
        .column(&tally::value, "value")
        .column(&tally::version, "version", version_column);
  }
  friend auto operator==(const tally&, const tally&) -> bool = default;
};

auto pool_over(const scratch_schema& s, std::size_t max_size) -> std::unique_ptr<pg::pool> {
  pg::pool_options o;
  o.connection = s.options();
  o.max_size = max_size;
  o.min_idle = 1;
  return pg::pool::open(o).value();
}

}  // namespace

TEST_CASE("postgres pool: 8 threads x 300 version-checked increments end at exactly 2400", "[postgres][pool]") {
  auto o = server_options();
  if (!o) return;
  scratch_schema s(*o);
  auto db = pool_over(s, 8);
  ormkit::repository<tally> tallies(*db);
  tally t;
  t.id = 1;
  const auto initial = tallies.insert(t).value();

  constexpr int threads = 8, increments = 300;
  std::atomic<int> conflicts{0}, failures{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < threads; ++w)
    workers.emplace_back([&] {
      ormkit::repository<tally> mine(*db);
      for (int i = 0; i < increments; ++i) {
        for (;;) {
          auto cur = mine.get(1);
          if (!cur) {
            ++failures;
            break;
          }
          cur->value += 1;
          auto u = mine.update(*cur);  // WHERE id = 1 AND version = <read>
          if (u) break;
          if (!u.error().is(errc::conflict)) {
            ++failures;
            break;
          }
          ++conflicts;
        }
      }
    });
  for (auto& w : workers) w.join();
  CHECK(failures.load() == 0);
  auto final = tallies.get(1).value();
  CHECK(final.value == threads * increments);
  CHECK(final.version == initial.version + threads * increments);
  INFO("conflicts detected and retried: " << conflicts.load());
  auto stats = db->statistics();
  CHECK(stats.size <= 8u);
  CHECK(stats.in_use == 0u);
  CHECK(stats.borrows >= static_cast<std::uint64_t>(2 * threads * increments));
}

TEST_CASE("postgres pool: a transaction keeps its connection on its thread", "[postgres][pool]") {
  auto o = server_options();
  if (!o) return;
  scratch_schema s(*o);
  auto db = pool_over(s, 4);
  ormkit::repository<person> people(*db);
  REQUIRE(people.insert(make_person("keep")).has_value());

  auto st = ormkit::transact(*db, [&](ormkit::transaction&) -> ormkit::status {
    ORMKIT_TRY(people.insert(make_person("inside")));
    // Another thread does not see the uncommitted row: it gets another connection.
    std::uint64_t seen = 99;
    std::thread other([&] { seen = people.count().value(); });
    other.join();
    CHECK(seen == 1u);
    CHECK(people.count().value() == 2u);  // this thread does
    CHECK(db->statistics().in_use == 1u);
    auto nested = ormkit::transact(*db, [&](ormkit::transaction& tx) -> ormkit::status {
      CHECK(tx.level() == 2);
      ORMKIT_TRY(people.insert(make_person("nested")));
      return ormkit::unexpected(errc::validation_failed, "undo the nested one");
    });
    CHECK(nested.error().is(errc::validation_failed));
    return {};
  });
  REQUIRE(st.has_value());
  CHECK(people.count().value() == 2u);
  CHECK(db->statistics().in_use == 0u);
  CHECK(db->commit().error().is(errc::transaction_state));
  CHECK(db->savepoint("x").error().is(errc::transaction_state));

  REQUIRE(db->begin(pg::isolation::serializable).has_value());
  CHECK(db->begin().error().is(errc::transaction_state));
  REQUIRE(people.insert(make_person("discarded")).has_value());
  REQUIRE(db->rollback().has_value());
  CHECK(people.count().value() == 2u);
}

TEST_CASE("postgres pool: a caller waits at most acquire_timeout for a connection", "[postgres][pool]") {
  auto o = server_options();
  if (!o) return;
  scratch_schema s(*o);
  pg::pool_options po;
  po.connection = s.options();
  po.max_size = 1;
  po.min_idle = 1;
  po.acquire_timeout = 100ms;
  auto db = pg::pool::open(po).value();
  {
    auto held = db->acquire().value();
    auto r = ormkit::repository<person>(*db).count();
    REQUIRE_FALSE(r.has_value());
    CAPTURE(r.error().message);
    CHECK(r.error().is(errc::timeout));
    CHECK(contains(r.error().message, "no connection became free within 100 ms"));
    CHECK(db->statistics().timeouts == 1u);
    CHECK(db->statistics().in_use == 1u);
  }
  CHECK(ormkit::repository<person>(*db).count().value() == 0u);
  CHECK(db->statistics().idle == 1u);
}

TEST_CASE("postgres pool: connections the server ended are checked on borrow and reopened", "[postgres][pool]") {
  auto o = server_options();
  if (!o) return;
  scratch_schema s(*o);
  pg::pool_options po;
  po.connection = s.options();
  po.max_size = 2;
  po.min_idle = 2;
  po.check_after_idle = 0ms;
  // A name of this test's own: other tests run against the same server meanwhile.
  po.connection.conninfo += " application_name=" + s.options().schema;
  auto db = pg::pool::open(po).value();
  ormkit::repository<person> people(*db);
  REQUIRE(people.insert(make_person("ann")).has_value());

  auto admin = s.open_another();
  std::array<ormkit::value_view, 1> app{std::string_view(s.options().schema)};
  auto killed = admin->query("SELECT count(pg_terminate_backend(pid))::int8 FROM pg_stat_activity "
                             "WHERE application_name = $1",
                             app);
  REQUIRE(killed.has_value());
  CHECK(killed->at(0).at(0) == ormkit::value(std::int64_t{2}));
  // pg_terminate_backend only signals: wait until both processes are gone.
  for (int i = 0; i < 500; ++i) {
    auto left = admin->query("SELECT count(*)::int8 FROM pg_stat_activity WHERE application_name = $1", app).value();
    if (left.at(0).at(0) == ormkit::value(std::int64_t{0})) break;
    std::this_thread::sleep_for(10ms);
  }
  // Every call still succeeds: the check finds the dead connection and opens a new one.
  for (int i = 0; i < 4; ++i) CHECK(people.count().value() == 1u);
  auto stats = db->statistics();
  CHECK(stats.failed_checks >= 1u);
  CHECK(stats.reconnects >= 1u);
}

TEST_CASE("postgres pool: bad sizes and an unreachable server are errors, not hangs", "[postgres][pool]") {
  pg::pool_options po;
  po.max_size = 0;
  CHECK(pg::pool::open(po).error().is(errc::invalid_argument));
  po.max_size = 2;
  po.min_idle = 3;
  CHECK(pg::pool::open(po).error().is(errc::invalid_argument));
  po.min_idle = 1;
  po.connection.conninfo = "host=127.0.0.1 port=1 dbname=x user=y";
  auto r = pg::pool::open(po);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(errc::unavailable));
}
