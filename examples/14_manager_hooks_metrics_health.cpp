// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// 14: the persistence manager with a cache, lifecycle hooks, metrics and health.
//
// `persistence_manager<Entities...>` is the one object an application holds:
// the repositories of its entities (reading through the cache it is given),
// migrations, transactions, hooks, metrics in Prometheus text or JSON, health
// checks and backups.

#include <ormkit/cache/memory.hpp>
#include <ormkit/migration/sqlite.hpp>
#include <ormkit/persistence_manager.hpp>
#include <ormkit/sqlite.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <filesystem>
#include <sstream>
#include <string>

struct account {
  std::int64_t id{};
  std::string email{};
  std::string plan{};
  std::int64_t version{};

  friend constexpr auto ormkit_describe(std::type_identity<account>) {
    using namespace ormkit;
    return describe<account>("accounts")
        .column(&account::id, "id", primary_key, auto_increment)
        .column(&account::email, "email", unique, rules::email{})
        .column(&account::plan, "plan", rules::one_of{"free", "pro"})
        .column(&account::version, "version", version_column);
  }
};

struct invoice {
  std::int64_t id{};
  std::int64_t account_id{};
  std::int64_t cents{};

  friend constexpr auto ormkit_describe(std::type_identity<invoice>) {
    using namespace ormkit;
    return describe<invoice>("invoices")
        .column(&invoice::id, "id", primary_key, auto_increment)
        .column(&invoice::account_id, "account_id", references<&account::id>)
        .column(&invoice::cents, "cents", rules::range{0, 100'000'000});
  }
};

using store = ormkit::persistence_manager<account, invoice>;

int main() {
  namespace fs = std::filesystem;
  const auto dir = fs::temp_directory_path() / ("ormkit_example14_" + std::to_string(::getpid()));
  fs::create_directories(dir);

  store db(ormkit::sqlite::backend::open({.path = (dir / "billing.db").string()}).value());
  ormkit::cache::memory_store cache({.max_entries = 1000});
  db.use_cache(cache);                                       // every entity, the default policy
  db.cache_policy_for<invoice>(ormkit::cache_policy::off());  // except invoices

  // Migrations from the descriptors: a plan (dry run), then the run.
  for (const auto& step : db.plan().value()) fmt::print("plan: v{} {}\n", step.version, step.name);
  fmt::print("migrated {} step(s)\n", db.migrate().value());

  // Hooks: a before-hook vetoes a write; an after-hook and a load hook observe.
  db.hooks<account>()
      .before_insert([](const account& a) -> ormkit::status {
        if (a.email.ends_with("@blocked.example")) return ormkit::unexpected(ormkit::errc::rejected, "blocked domain");
        return {};
      })
      .after_insert([](const account& a) { fmt::print("hook: welcome {}\n", a.email); });
  int loads = 0;
  db.hooks<account>().after_load([&](const account&) { ++loads; });

  auto& accounts = db.repository<account>();
  auto ann = accounts.insert({.email = "ann@example.com", .plan = "free"}).value();
  auto vetoed = accounts.insert({.email = "spam@blocked.example", .plan = "free"});
  fmt::print("vetoed: {}\n", vetoed.error().message);

  for (int i = 0; i < 4; ++i) accounts.get(ann.id).value();  // one load, three cache hits
  fmt::print("load hook ran {} times; cache hits {}, loads {}\n", loads, db.cache_stats<account>().hits,
             db.cache_stats<account>().loads);

  // A transaction: the upgrade and its invoice together; the cache is invalidated at commit.
  db.transaction([&](ormkit::transaction&) -> ormkit::status {
      ann.plan = "pro";
      auto upgraded = accounts.update(ann);
      if (!upgraded) return std::move(upgraded).error();
      ann = *upgraded;
      auto bill = db.repository<invoice>().insert({.account_id = ann.id, .cents = 1200});
      if (!bill) return std::move(bill).error();
      return {};
    }).value();
  fmt::print("after commit: plan {}\n", accounts.get(ann.id).value().plan);

  // Metrics: Prometheus text (a few lines shown) and JSON.
  std::istringstream text(db.metrics_prometheus());
  for (std::string line; std::getline(text, line);) {
    if (line.starts_with("ormkit_operations_total{entity=\"accounts\",operation=\"insert\"") ||
        line.starts_with("ormkit_table_rows") ||
        line.starts_with("ormkit_cache_events_total{entity=\"accounts\",event=\"hits\"") ||
        line.starts_with("ormkit_cache_events_total{entity=\"accounts\",event=\"invalidations\""))
      fmt::print("{}\n", line);
  }
  const auto storage = db.storage().value();
  fmt::print("database size known: {}\n", storage.database_bytes.has_value() ? "yes" : "no");

  // Health: backend, migrations and cache, each with its latency.
  const auto health = db.health();
  for (const auto& c : health.checks) fmt::print("health: {} {}\n", c.name, c.ok ? "ok" : "FAILED " + c.detail);

  // A backup through SQLite's online backup API, with progress in pages (a report per
  // 1024-page step; this small database is one step).
  std::uint64_t last_done = 0, last_total = 0;
  db.backup((dir / "billing-backup.db").string(), [&](std::string_view, std::uint64_t done, std::uint64_t total) {
      last_done = done;
      last_total = total;
    }).value();
  fmt::print("backup: {}\n", last_total > 0 && last_done == last_total ? "every page copied" : "INCOMPLETE");
  fs::remove_all(dir);
}

// Expected output:
// plan: v1 create table accounts, create table invoices
// migrated 1 step(s)
// hook: welcome ann@example.com
// vetoed: blocked domain
// load hook ran 4 times; cache hits 3, loads 1
// after commit: plan pro
// ormkit_operations_total{entity="accounts",operation="insert",outcome="ok"} 1
// ormkit_operations_total{entity="accounts",operation="insert",outcome="error"} 1
// ormkit_table_rows{entity="accounts"} 1
// ormkit_table_rows{entity="invoices"} 1
// ormkit_cache_events_total{entity="accounts",event="hits"} 3
// ormkit_cache_events_total{entity="accounts",event="invalidations"} 2
// database size known: yes
// health: backend ok
// health: migrations ok
// health: cache ok
// backup: every page copied
