// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// persistence_manager<...>: repositories per registered entity, lifecycle hooks
// (veto by error or exception, after-hooks, load hooks), metrics (Prometheus text
// checked against the exposition grammar, JSON), health, transactions, and JSON
// export / import between the memory backend and a SQLite file.

#include <ormkit/persistence_manager.hpp>

#include <ormkit/memory/backend.hpp>
#include <ormkit/sqlite.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"
#include "../support/prometheus.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <map>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

using namespace ormkit_test;
using ormkit::errc;
using ormkit_test::prometheus_problems;

using manager = ormkit::persistence_manager<tenant, membership, user>;

auto temp_db(const char* tag) -> std::string {
  auto p = std::filesystem::temp_directory_path() /
           ("ormkit_pm_" + std::string(tag) + "_" + std::to_string(::getpid()) + ".db");
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + suffix);
  return p.string();
}

auto make_tenant(std::string name) -> tenant {
  tenant t;
  t.name = std::move(name);
  return t;
}

TEST_CASE("manager: repositories of registered entities work over SQLite", "[manager][sqlite]") {
  manager db(std::make_unique<ormkit::sqlite::backend>());
  REQUIRE(db.ensure_tables());
  auto acme = db.repository<tenant>().insert(make_tenant("acme")).value();
  auto ann = db.repository<user>().insert(make_user("ann@example.com", "Ann")).value();
  membership m{acme.id, "ann", "admin", 1, {}};
  REQUIRE(db.repository<membership>().insert(m));
  CHECK(db.repository<user>().get(ann.id).value().name == "Ann");
  auto rows = db.table_rows().value();
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] == std::pair<std::string_view, std::uint64_t>{"tenants", 1});
  CHECK(rows[1] == std::pair<std::string_view, std::uint64_t>{"memberships", 1});
  CHECK(rows[2] == std::pair<std::string_view, std::uint64_t>{"users", 1});
}

TEST_CASE("manager: a before-hook vetoes a write and nothing is written", "[manager]") {
  ormkit::memory::backend mem;
  manager db(mem);
  db.hooks<user>().before_insert([](const user& u) -> ormkit::status {
    if (u.email.ends_with("@blocked.example")) return ormkit::unexpected(errc::rejected, "users: blocked domain");
    return {};
  });
  auto r = db.repository<user>().insert(make_user("eve@blocked.example", "Eve"));
  REQUIRE_FALSE(r);
  CHECK(r.error().is(errc::rejected));
  CHECK(r.error().message == "users: blocked domain");
  CHECK(db.repository<user>().count().value() == 0);
  CHECK(db.repository<user>().insert(make_user("ann@example.com", "Ann")));
  CHECK(db.metrics<user>(ormkit::operation::insert).failed() == 1);
  CHECK(db.metrics<user>(ormkit::operation::insert).succeeded() == 1);

  SECTION("insert_many is vetoed as a whole, naming the item") {
    std::vector<user> batch{make_user("bob@example.com", "Bob"), make_user("mal@blocked.example", "Mal")};
    auto many = db.repository<user>().insert_many(batch);
    REQUIRE_FALSE(many);
    CHECK(many.error().message.find("(batch item 1)") != std::string::npos);
    CHECK(db.repository<user>().count().value() == 1);
  }
}

TEST_CASE("manager: a throwing before-hook vetoes cleanly inside a transaction", "[manager][sqlite]") {
  manager db(std::make_unique<ormkit::sqlite::backend>());
  REQUIRE(db.ensure_tables());
  db.hooks<tenant>().before_update([](const tenant& t) -> ormkit::status {
    if (t.name == "boom") throw std::runtime_error("hook exploded");
    return {};
  });
  auto acme = db.repository<tenant>().insert(make_tenant("acme")).value();
  auto st = db.transaction([&](ormkit::transaction&) -> ormkit::status {
    auto other = db.repository<tenant>().insert(make_tenant("globex"));
    if (!other) return std::move(other).error();
    auto bad = acme;
    bad.name = "boom";
    auto r = db.repository<tenant>().update(bad);
    CHECK_FALSE(r);
    CHECK(r.error().is(errc::rejected));
    CHECK(r.error().message.find("hook exploded") != std::string::npos);
    // The transaction is intact: the caller decides, and keeps going.
    auto renamed = acme;
    renamed.name = "acme2";
    auto ok = db.repository<tenant>().update(renamed);
    if (!ok) return std::move(ok).error();
    return {};
  });
  REQUIRE(st);
  CHECK(db.repository<tenant>().count().value() == 2);
  CHECK(db.repository<tenant>().get(acme.id).value().name == "acme2");
}

TEST_CASE("manager: after-hooks and load hooks see the entities; their exceptions are swallowed",
          "[manager]") {
  ormkit::memory::backend mem;
  manager db(mem);
  std::vector<std::string> seen;
  db.hooks<tenant>()
      .after_insert([&](const tenant& t) {
        seen.push_back("inserted " + t.name + " #" + std::to_string(t.id));
        throw std::runtime_error("ignored");
      })
      .after_update([&](const tenant& t) { seen.push_back("updated " + t.name); })
      .after_upsert([&](const tenant& t) { seen.push_back("upserted " + t.name); })
      .after_load([&](const tenant& t) { seen.push_back("loaded " + t.name); });
  std::vector<const void*> erased_keys;
  db.hooks<tenant>().before_erase([&](const std::int64_t* key) -> ormkit::status {
    erased_keys.push_back(key);
    if (key && *key == 999) return ormkit::unexpected(errc::rejected, "tenants: 999 is protected");
    return {};
  });
  auto& tenants = db.repository<tenant>();
  auto acme = tenants.insert(make_tenant("acme")).value();
  acme.name = "acme!";
  REQUIRE(tenants.update(acme));
  REQUIRE(tenants.upsert(acme));
  REQUIRE(tenants.get(acme.id));
  REQUIRE(tenants.find_all().value().size() == 1);
  CHECK(seen == std::vector<std::string>{"inserted acme #1", "updated acme!", "upserted acme!", "loaded acme!",
                                         "loaded acme!"});
  CHECK(tenants.erase(999).error().is(errc::rejected));
  REQUIRE(tenants.erase(acme.id));
  CHECK(tenants.erase_where(ormkit::col(&tenant::name) == "x").value() == 0);
  REQUIRE(erased_keys.size() == 3);
  CHECK(erased_keys[2] == nullptr);  // a bulk erase has no single key
}

TEST_CASE("manager: Prometheus text follows the exposition format and JSON agrees", "[manager][sqlite]") {
  manager db(std::make_unique<ormkit::sqlite::backend>());
  REQUIRE(db.ensure_tables());
  auto& users = db.repository<user>();
  for (int i = 0; i < 5; ++i) REQUIRE(users.insert(make_user("u" + std::to_string(i) + "@example.com", "U")));
  CHECK_FALSE(users.insert(make_user("u0@example.com", "Dup")));  // unique conflict
  CHECK_FALSE(users.get(12345));                                  // not_found
  const std::string text = db.metrics_prometheus();
  CHECK(prometheus_problems(text).empty());
  for (const auto& p : prometheus_problems(text)) UNSCOPED_INFO(p);
  CHECK(text.find("ormkit_operations_total{entity=\"users\",operation=\"insert\",outcome=\"ok\"} 5\n") !=
        std::string::npos);
  CHECK(text.find("ormkit_operations_total{entity=\"users\",operation=\"insert\",outcome=\"error\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("ormkit_operation_duration_seconds_bucket{entity=\"users\",operation=\"insert\",le=\"+Inf\"} 6\n") !=
        std::string::npos);
  CHECK(text.find("ormkit_operation_duration_seconds_count{entity=\"users\",operation=\"get\"} 1\n") !=
        std::string::npos);
  CHECK(text.find("ormkit_table_rows{entity=\"users\"} 5\n") != std::string::npos);

  auto json = nlohmann::json::parse(db.metrics_json());
  bool found = false;
  for (const auto& o : json["operations"])
    if (o["entity"] == "users" && o["operation"] == "insert") {
      found = true;
      CHECK(o["ok"] == 5);
      CHECK(o["error"] == 1);
      CHECK(o["buckets"].back()["le"] == "+Inf");
      CHECK(o["buckets"].back()["count"] == 6);
    }
  CHECK(found);
  CHECK(json["tables"]["users"] == 5);

  SECTION("the grammar check rejects broken text") {
    CHECK_FALSE(prometheus_problems("ormkit_x 1\n").empty());                        // no TYPE
    CHECK_FALSE(prometheus_problems("# TYPE a counter\na{b=\"c} 1\n").empty());     // bad label
    CHECK_FALSE(prometheus_problems("# TYPE a counter\na 1").empty());               // no final newline
    CHECK_FALSE(prometheus_problems("# TYPE h histogram\nh_bucket{le=\"1\"} 5\nh_bucket{le=\"+Inf\"} 3\n").empty());
  }
}

TEST_CASE("manager: health reports the backend with its latency", "[manager][sqlite]") {
  const auto path = temp_db("health");
  {
    manager db(std::make_unique<ormkit::sqlite::backend>(ormkit::sqlite::options{.path = path}));
    auto h = db.health();
    CHECK(h.ok);
    REQUIRE(h.checks.size() == 1);
    CHECK(h.checks[0].name == "backend");
    CHECK(h.checks[0].ok);
    CHECK(h.checks[0].latency.count() >= 0);
  }
  {
    // An empty read-only database: the tables cannot be created, so reads fail.
    const auto empty = temp_db("health_ro");
    { ormkit::sqlite::backend create({.path = empty}); }
    manager db(std::make_unique<ormkit::sqlite::backend>(ormkit::sqlite::options{.path = empty, .read_only = true}));
    auto h = db.health();
    CHECK_FALSE(h.ok);
    CHECK_FALSE(h.checks[0].ok);
    CHECK(h.checks[0].detail.find("readonly") != std::string::npos);
    std::filesystem::remove(empty);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

TEST_CASE("manager: JSON export and import round-trip between memory and SQLite", "[manager][sqlite]") {
  ormkit::memory::backend mem;
  manager source(mem);
  auto acme = source.repository<tenant>().insert(make_tenant("acme")).value();
  auto globex = source.repository<tenant>().insert(make_tenant("globex")).value();
  REQUIRE(source.repository<membership>().insert({acme.id, "ann", "admin", 1, "first"}));
  REQUIRE(source.repository<membership>().insert({globex.id, "bob", "member", 2, {}}));
  REQUIRE(source.repository<user>().insert(make_user("ann@example.com", "Ann \"quoted\" \xC3\xA9")));
  const ormkit::json_options with_secrets{.include_secrets = true};
  std::vector<std::string> progress;
  const auto exported =
      source.export_json(with_secrets, [&](std::string_view t, std::uint64_t done, std::uint64_t total) {
        progress.push_back(std::string(t) + " " + std::to_string(done) + "/" + std::to_string(total));
      });
  REQUIRE(exported);
  CHECK(progress == std::vector<std::string>{"tenants 2/2", "memberships 2/2", "users 1/1"});

  const auto path = temp_db("export");
  manager target(std::make_unique<ormkit::sqlite::backend>(ormkit::sqlite::options{.path = path}));
  REQUIRE(target.import_json(*exported, with_secrets));
  CHECK(target.export_json(with_secrets).value() == *exported);

  SECTION("a bad row rolls the whole import back") {
    auto doc = nlohmann::json::parse(*exported);
    doc["tables"]["tenants"].push_back({{"id", 10}, {"name", "fresh"}});
    doc["tables"]["users"].push_back({{"id", 50}, {"email", "not-an-email"}, {"name", "X"}, {"age", 1},
                                      {"bio", nullptr}, {"token", "t"}, {"version", 1},
                                      {"created_at", 0}, {"updated_at", 0}});
    manager fresh(std::make_unique<ormkit::sqlite::backend>());
    auto st = fresh.import_json(doc.dump(), with_secrets);
    REQUIRE_FALSE(st);
    CHECK(st.error().is(errc::validation_failed));
    CHECK(st.error().message.find("import: users row 1") != std::string::npos);
    CHECK(fresh.repository<tenant>().count().value() == 0);
  }
  SECTION("existing keys conflict unless replacing") {
    auto again = target.import_json(*exported, with_secrets);
    REQUIRE_FALSE(again);
    CHECK(again.error().is(errc::conflict));
    CHECK(target.repository<tenant>().count().value() == 2);
    REQUIRE(target.import_json(*exported, with_secrets, /*replace=*/true));
    CHECK(target.repository<tenant>().count().value() == 2);
  }
  SECTION("foreign documents are refused with the reason") {
    CHECK(target.import_json("[]").error().message.find("not an ormkit export") != std::string::npos);
    CHECK(target.import_json(R"({"format":"ormkit-export","version":2,"tables":{}})").error().message.find(
              "version") != std::string::npos);
    CHECK(target.import_json(R"({"format":"ormkit-export","version":1,"tables":{"ghosts":[]}})")
              .error()
              .message.find("\"ghosts\" is not registered") != std::string::npos);
    CHECK(target.import_json("{").error().is(errc::invalid_argument));
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

TEST_CASE("manager: streamed import reads an export a row at a time, all or nothing", "[manager][sqlite]") {
  ormkit::memory::backend mem;
  manager source(mem);
  auto acme = source.repository<tenant>().insert(make_tenant("acme")).value();
  REQUIRE(source.repository<membership>().insert({acme.id, "ann", "admin", 1, "first"}));
  REQUIRE(source.transaction([&](ormkit::transaction&) -> ormkit::status {
    for (int i = 0; i < 2500; ++i)
      ORMKIT_TRY(source.repository<user>().insert(make_user("u" + std::to_string(i) + "@example.com", "U")));
    return {};
  }));
  const ormkit::json_options with_secrets{.include_secrets = true};
  std::stringstream doc;
  REQUIRE(source.export_json(doc, with_secrets));
  const std::string text = doc.str();

  const auto path = temp_db("stream_import");
  manager target(std::make_unique<ormkit::sqlite::backend>(ormkit::sqlite::options{.path = path}));
  std::vector<std::string> progress;
  std::istringstream in(text);
  REQUIRE(target.import_json(in, with_secrets, false, [&](std::string_view t, std::uint64_t done, std::uint64_t total) {
    progress.push_back(std::string(t) + " " + std::to_string(done) + "/" + std::to_string(total));
  }));
  CHECK(progress == std::vector<std::string>{"tenants 1/1", "memberships 1/1", "users 1000/0", "users 2000/0",
                                             "users 2500/2500"});
  CHECK(target.export_json(with_secrets).value() == text);

  // Each broken document leaves a fresh database empty, with the reason.
  auto refused = [&](const std::string& broken) -> ormkit::error {
    manager fresh(std::make_unique<ormkit::sqlite::backend>());
    std::istringstream s(broken);
    auto st = fresh.import_json(s, with_secrets);
    REQUIRE_FALSE(st);
    CHECK(fresh.repository<tenant>().count().value() == 0);
    CHECK(fresh.repository<user>().count().value() == 0);
    return st.error();
  };
  auto with = [&](const std::string& from, const std::string& to) {
    std::string t = text;
    const auto at = t.find(from);
    REQUIRE(at != std::string::npos);
    return t.replace(at, from.size(), to);
  };
  CHECK(refused("[]").message.find("not an ormkit export") != std::string::npos);
  CHECK(refused(with("\"version\":1", "\"version\":2")).message.find("version") != std::string::npos);
  CHECK(refused(with("\"tenants\":[", "\"ghosts\":[")).message.find("\"ghosts\" is not registered") !=
        std::string::npos);
  CHECK(refused(with("\"memberships\":[", "\"tenants\":[],\"memberships\":[")).message.find("appears twice") !=
        std::string::npos);
  CHECK(refused(with("u1@example.com", "not-an-email")).code == errc::validation_failed);
  CHECK(refused(with("u1@example.com", "not-an-email")).message.find("import: users row 1:") != std::string::npos);
  // Cut off in the middle: the rows before the cut are rolled back too.
  const auto cut = refused(text.substr(0, text.size() / 2));
  CHECK(cut.code == errc::invalid_argument);
  CHECK(cut.message.find("malformed JSON") != std::string::npos);
  // A duplicate key inside a row is refused, not resolved.
  CHECK(refused(with("\"name\":\"acme\"", "\"name\":\"acme\",\"name\":\"x\"")).message.find("duplicate key") !=
        std::string::npos);
  // Nesting deeper than max_depth inside a row is refused.
  {
    manager fresh(std::make_unique<ormkit::sqlite::backend>());
    std::istringstream s(with("\"name\":\"acme\"", "\"name\":[[[[[[[[[[1]]]]]]]]]]"));
    auto st = fresh.import_json(s, ormkit::json_options{.include_secrets = true, .max_depth = 8});
    REQUIRE_FALSE(st);
    CHECK(st.error().message.find("depth") != std::string::npos);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
}

}  // namespace
