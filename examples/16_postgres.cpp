// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// 16: PostgreSQL through a connection pool, under the persistence manager.
//
// One `postgres::pool` is shared by every thread; the manager migrates the schema
// (serialised across processes by an advisory lock), runs transactions with the
// retry policy, reports the pool in its metrics and exports the database as JSON,
// a row at a time.
//
// Needs a PostgreSQL server: ORMKIT_TEST_POSTGRES=<libpq conninfo> (scripts/test.sh
// starts one), else "host=127.0.0.1 dbname=postgres". The example works in a schema
// of its own and drops it at the end.

#include <ormkit/migration/postgres.hpp>
#include <ormkit/persistence_manager.hpp>
#include <ormkit/postgres.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

struct wallet {
  std::int64_t id{};
  std::string owner{};
  std::int64_t cents{};
  std::int64_t version{};

  friend constexpr auto ormkit_describe(std::type_identity<wallet>) {
    using namespace ormkit;
    return describe<wallet>("wallets")
        .column(&wallet::id, "id", primary_key, auto_increment)
        .column(&wallet::owner, "owner", unique, rules::length{1, 100})
        .column(&wallet::cents, "cents", rules::range{0, 1'000'000'000})
        .column(&wallet::version, "version", version_column);
  }
};

struct transfer {
  std::int64_t id{};
  std::int64_t wallet_id{};
  std::int64_t cents{};
  std::string memo{};

  friend constexpr auto ormkit_describe(std::type_identity<transfer>) {
    using namespace ormkit;
    return describe<transfer>("transfers")
        .column(&transfer::id, "id", primary_key, auto_increment)
        .column(&transfer::wallet_id, "wallet_id", references<&wallet::id>)
        .column(&transfer::cents, "cents")
        .column(&transfer::memo, "memo");
  }
};

using bank = ormkit::persistence_manager<wallet, transfer>;

int main() {
  ormkit::postgres::options server;
  const char* conninfo = std::getenv("ORMKIT_TEST_POSTGRES");
  server.conninfo = conninfo != nullptr && *conninfo != '\0' ? conninfo : "host=127.0.0.1 dbname=postgres";

  // A schema of our own, so that the example leaves the database as it found it.
  const std::string schema = "ormkit_example16_" + std::to_string(::getpid());
  auto admin = ormkit::postgres::backend::open(server).value();
  admin->execute("CREATE SCHEMA " + ormkit::postgres::quote_identifier(schema)).value();
  server.schema = schema;

  {
    auto pool = ormkit::postgres::pool::open({.connection = server, .max_size = 4, .min_idle = 1}).value();
    bank db(*pool);

    for (const auto& step : db.plan().value()) fmt::print("plan: v{} {}\n", step.version, step.name);
    fmt::print("migrated {} step(s)\n", db.migrate().value());

    auto& wallets = db.repository<wallet>();
    const auto ann = wallets.insert({.owner = "ann"}).value();
    const auto bob = wallets.insert({.owner = "bob", .cents = 10'000}).value();

    // Four threads move money from bob to ann, 25 transfers each, on the shared pool.
    // Each transfer is one transaction: two version-checked updates and a transfer row.
    // A stale version (another thread updated the wallet first) is errc::conflict: the
    // whole transaction rolled back, so it is simply tried again.
    auto move_cents = [&](std::int64_t cents) -> ormkit::status {
      return db.transaction([&](ormkit::transaction&) -> ormkit::status {
        auto from = wallets.get(bob.id);
        auto to = wallets.get(ann.id);
        if (!from) return std::move(from).error();
        if (!to) return std::move(to).error();
        from->cents -= cents;
        to->cents += cents;
        ORMKIT_TRY(wallets.update(*from));
        ORMKIT_TRY(wallets.update(*to));
        ORMKIT_TRY(db.repository<transfer>().insert({.wallet_id = ann.id, .cents = cents, .memo = "from bob"}));
        return {};
      });
    };
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        for (int i = 0; i < 25; ++i) {
          auto st = move_cents(10);
          while (!st && st.error().is(ormkit::errc::conflict)) st = move_cents(10);
          st.value();
        }
      });
    for (auto& t : threads) t.join();
    fmt::print("ann {} cents, bob {} cents, {} transfers\n", wallets.get(ann.id).value().cents,
               wallets.get(bob.id).value().cents, db.repository<transfer>().count().value());

    // The pool in the manager's metrics (a few lines shown).
    std::istringstream text(db.metrics_prometheus());
    for (std::string line; std::getline(text, line);)
      if (line.starts_with("ormkit_backend_max_connections ") || line.starts_with("ormkit_backend_in_use ") ||
          line.starts_with("ormkit_backend_acquire_timeouts_total "))
        fmt::print("{}\n", line);

    // A whole-database export, written a row at a time (here: the wallets part of it).
    std::ostringstream out;
    db.export_json(out, {.indent = 1}).value();
    const std::string doc = out.str();
    const auto begin = doc.find("  \"wallets\"");
    fmt::print("{}\n", doc.substr(begin, doc.find(']', begin) + 1 - begin));
  }
  admin->execute("DROP SCHEMA " + ormkit::postgres::quote_identifier(schema) + " CASCADE").value();
}

// Expected output:
// plan: v1 create table wallets, create table transfers
// migrated 1 step(s)
// ann 1000 cents, bob 9000 cents, 100 transfers
// ormkit_backend_in_use 0
// ormkit_backend_max_connections 4
// ormkit_backend_acquire_timeouts_total 0
//   "wallets": [
//    {
//     "cents": 1000,
//     "id": 1,
//     "owner": "ann",
//     "version": 101
//    },
//    {
//     "cents": 9000,
//     "id": 2,
//     "owner": "bob",
//     "version": 101
//    }
//   ]
