// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// persistence_manager with a cache and with the backend's own type: every
// repository reads through the store with its entity's policy (or none), load
// hooks run on cache hits, a rolled-back manager transaction leaves the cache
// alone, cache and storage statistics appear in the metrics, health() checks the
// cache (and fails that check alone when the store is down) and the
// migrations, migrate() / status() / plan() over the registered entities, and
// backup() with progress.

#include <ormkit/persistence_manager.hpp>

#include <ormkit/cache/memory.hpp>
#include <ormkit/memory/backend.hpp>
#include <ormkit/migration/memory.hpp>
#include <ormkit/migration/sqlite.hpp>
#include <ormkit/sqlite.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

namespace cache_pm_test {

using namespace ormkit_test;
using namespace std::chrono_literals;
using ormkit::errc;

using manager = ormkit::persistence_manager<tenant, user>;

auto temp_path(const char* tag) -> std::string {
  auto p = std::filesystem::temp_directory_path() /
           ("ormkit_cpm_" + std::string(tag) + "_" + std::to_string(::getpid()) + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + suffix);
  return p.string();
}

// A store that is always down.
struct down_store {
  auto fail() const -> ormkit::unexpected { return ormkit::unexpected(errc::unavailable, "down: connection refused"); }
  auto name() const -> std::string_view { return "down"; }
  auto get(std::string_view) -> ormkit::result<std::optional<std::string>> { return fail(); }
  auto get_into(std::string_view, std::string&) -> ormkit::result<bool> { return fail(); }
  auto visit(std::string_view, ormkit::cache_visitor) -> ormkit::result<bool> { return fail(); }
  auto set(std::string_view, std::string_view, std::chrono::milliseconds) -> ormkit::status { return fail(); }
  auto erase(std::string_view) -> ormkit::result<bool> { return fail(); }
  auto get_many(std::span<const std::string_view>) -> ormkit::result<std::vector<std::optional<std::string>>> {
    return fail();
  }
  auto set_many(std::span<const ormkit::cache_entry>, std::chrono::milliseconds) -> ormkit::status { return fail(); }
  auto erase_many(std::span<const std::string_view>) -> ormkit::result<std::uint64_t> { return fail(); }
  auto clear(std::string_view) -> ormkit::result<std::uint64_t> { return fail(); }
  auto stats() const -> ormkit::cache_stats { return {}; }
};

}  // namespace cache_pm_test

using namespace cache_pm_test;

TEST_CASE("manager cache: every repository reads through the store; hooks run on hits; policies per entity",
          "[persistence_manager][cache]") {
  ormkit::memory::backend db;
  manager m(db);
  REQUIRE(m.ensure_tables());
  ormkit::cache::memory_store store;
  m.use_cache(store);
  REQUIRE(m.cache().has_value());
  int loads_seen = 0;
  m.hooks<user>().after_load([&](const user&) { ++loads_seen; });
  auto& users = m.repository<user>();
  const auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
  for (int i = 0; i < 3; ++i) CHECK(users.get(ann.id).value() == ann);
  CHECK(loads_seen == 3);
  CHECK(m.cache_stats<user>().hits == 2);
  CHECK(m.cache_stats<user>().loads == 1);
  CHECK(m.metrics<user>(ormkit::operation::get).count() == 1);  // one backend get

  // A policy of its own: off.
  m.cache_policy_for<user>(ormkit::cache_policy::off());
  CHECK(m.repository<user>().cache() == nullptr);
  CHECK(users.get(ann.id).value() == ann);
  CHECK(m.metrics<user>(ormkit::operation::get).count() == 2);
  // Back on with a short tier and negative caching.
  m.cache_policy_for<user>({.tier = ormkit::cache_tier::short_lived, .negative_ttl = 1s});
  REQUIRE(users.cache() != nullptr);
  CHECK(users.cache()->policy().row_ttl() == 5s);
  CHECK(users.get(std::int64_t{99}).error().code == errc::not_found);
  CHECK(users.get(std::int64_t{99}).error().code == errc::not_found);
  CHECK(m.cache_stats<user>().negative_hits == 1);
}

TEST_CASE("manager cache: a rolled-back manager transaction leaves the cache as it was; a commit invalidates",
          "[persistence_manager][cache][transaction]") {
  ormkit::memory::backend db;
  manager m(db);
  REQUIRE(m.ensure_tables());
  auto store = std::make_unique<ormkit::cache::memory_store>();
  auto* raw = store.get();
  m.use_cache(std::move(store));  // owned
  auto& users = m.repository<user>();
  auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
  REQUIRE(users.get(ann.id));
  const auto key = ormkit::cache_key<user>(ann.id);
  auto undone = m.transaction([&](ormkit::transaction&) -> ormkit::status {
    auto c = ann;
    c.name = "Never";
    ORMKIT_TRY(users.update(c));
    return ormkit::unexpected(errc::rejected, "undo");
  });
  REQUIRE_FALSE(undone);
  CHECK(raw->contains(key));
  CHECK(users.get(ann.id).value().name == "Ann");
  auto done = m.transaction([&](ormkit::transaction&) -> ormkit::status {
    ann.name = "Ann 2";
    auto u = users.update(ann);
    if (!u) return std::move(u).error();
    ann = *u;
    return {};
  });
  REQUIRE(done);
  CHECK_FALSE(raw->contains(key));
  CHECK(users.get(ann.id).value().name == "Ann 2");

  // Import invalidates what it overwrites.
  auto exported = m.export_json().value();
  auto changed = ann;
  changed.name = "Ann 3";
  REQUIRE(users.update(changed));
  REQUIRE(users.get(ann.id));
  REQUIRE(m.import_json(exported, {}, true));
  CHECK(users.get(ann.id).value().name == "Ann 2");
}

TEST_CASE("manager cache: metrics carry cache and store statistics; health checks the cache",
          "[persistence_manager][cache][metrics]") {
  ormkit::memory::backend db;
  manager m(db);
  REQUIRE(m.migrate());  // by migrations (not ensure_tables), so that health() finds them current
  ormkit::cache::memory_store store;
  m.use_cache(store);
  auto& users = m.repository<user>();
  const auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
  REQUIRE(users.get(ann.id));
  REQUIRE(users.get(ann.id));
  const auto text = m.metrics_prometheus();
  CHECK(text.find("# TYPE ormkit_cache_events_total counter\n") != std::string::npos);
  CHECK(text.find("ormkit_cache_events_total{entity=\"users\",event=\"hits\"} 1\n") != std::string::npos);
  CHECK(text.find("ormkit_cache_events_total{entity=\"users\",event=\"loads\"} 1\n") != std::string::npos);
  CHECK(text.find("ormkit_cache_events_total{entity=\"tenants\",event=\"hits\"} 0\n") != std::string::npos);
  CHECK(text.find("ormkit_cache_store_operations_total{store=\"memory\",outcome=\"sets\"} 1\n") != std::string::npos);
  CHECK(text.find("ormkit_cache_store_entries{store=\"memory\"} 1\n") != std::string::npos);
  CHECK(text.find("ormkit_table_rows{entity=\"users\"} 1\n") != std::string::npos);
  CHECK(text.back() == '\n');

  const auto doc = nlohmann::json::parse(m.metrics_json());
  CHECK(doc["cache"]["users"]["hits"] == 1);
  CHECK(doc["cache"]["users"]["hit_rate"].get<double>() == Catch::Approx(0.5));
  CHECK(doc["cache_store"]["name"] == "memory");
  CHECK(doc["cache_store"]["entries"] == 1);

  const auto h = m.health();
  CHECK(h.ok);
  REQUIRE(h.checks.size() >= 2);
  const auto cache_check = std::find_if(h.checks.begin(), h.checks.end(), [](auto& c) { return c.name == "cache"; });
  REQUIRE(cache_check != h.checks.end());
  CHECK(cache_check->ok);
  CHECK(cache_check->latency.count() >= 0);
}

TEST_CASE("manager cache: with the store down, reads and writes succeed and only the cache check fails",
          "[persistence_manager][cache][faults]") {
  ormkit::memory::backend db;
  manager m(db);
  REQUIRE(m.ensure_tables());
  down_store store;
  m.use_cache(store);
  auto& users = m.repository<user>();
  auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
  CHECK(users.get(ann.id).value() == ann);
  ann.name = "B";
  REQUIRE(users.update(ann));
  CHECK(users.get(ann.id).value().name == "B");
  CHECK(m.cache_stats<user>().errors >= 3);
  const auto h = m.health();
  CHECK_FALSE(h.ok);
  bool backend_ok = false, cache_failed = false;
  for (const auto& c : h.checks) {
    if (c.name == "backend") backend_ok = c.ok;
    if (c.name == "cache") {
      cache_failed = !c.ok;
      CHECK(c.detail.find("down: connection refused") != std::string::npos);
    }
  }
  CHECK(backend_ok);
  CHECK(cache_failed);
}

TEST_CASE("manager: migrate, status and plan for all registered entities; storage statistics; backup",
          "[persistence_manager][migration][backup]") {
  const auto path = temp_path("mig");
  const auto copy = temp_path("mig_copy");
  {
    auto db = ormkit::sqlite::backend::open({.path = path}).value();
    manager m(*db);
    auto plan = m.plan().value();
    REQUIRE_FALSE(plan.empty());
    CHECK(plan.front().text.find("CREATE TABLE") != std::string::npos);
    auto before = m.status().value();
    CHECK(before.current_version == 0);
    CHECK(before.latest_version >= 1);
    // Migrations pending: health says so.
    auto h = m.health();
    CHECK_FALSE(h.ok);
    CHECK(m.migrate().value() == plan.size());
    auto after = m.status().value();
    CHECK(after.current_version == after.latest_version);
    CHECK(m.plan().value().empty());
    CHECK(m.health().ok);

    auto t = m.repository<tenant>().insert(tenant{.id = 0, .name = "acme"}).value();
    (void)t;
    REQUIRE(m.repository<user>().insert(make_user("ann@example.com", "Ann")));
    auto storage = m.storage().value();
    REQUIRE(storage.rows.size() == 2);
    CHECK(storage.rows[1].first == "users");
    CHECK(storage.rows[1].second == 1);
    REQUIRE(storage.database_bytes.has_value());
    CHECK(*storage.database_bytes > 0);
    CHECK(m.metrics_prometheus().find("ormkit_database_bytes ") != std::string::npos);

    std::vector<std::pair<std::uint64_t, std::uint64_t>> progress;
    REQUIRE(m.backup(copy, [&](std::string_view table, std::uint64_t done, std::uint64_t total) {
      CHECK(table == "*");
      progress.emplace_back(done, total);
    }));
    REQUIRE_FALSE(progress.empty());
    CHECK(progress.back().first == progress.back().second);  // the last report: every page
    CHECK(progress.back().second > 0);
  }
  {
    auto restored = ormkit::sqlite::backend::open({.path = copy}).value();
    manager m(*restored);
    CHECK(m.status().value().current_version >= 1);
    CHECK(m.repository<user>().count().value() == 1);
  }
  // Through a backend_ref the manager cannot migrate, and says why.
  ormkit::memory::backend mem;
  manager by_ref{ormkit::backend_ref(mem)};
  CHECK(by_ref.migrate().error().code == errc::unsupported);
  // A memory backend by type migrates; its backup is an export document.
  manager typed(mem);
  REQUIRE(typed.migrate());
  REQUIRE(typed.repository<user>().insert(make_user("b@example.com", "B")));
  const auto json_copy = temp_path("json_copy");
  REQUIRE(typed.backup(json_copy));
  CHECK(std::filesystem::file_size(json_copy) > 20);
  for (const auto& p : {path, copy, json_copy})
    for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p + suffix);
}
