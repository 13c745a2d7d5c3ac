// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// persistence_manager across backends: a SQLite database exported to JSON (streamed to a
// file), imported into PostgreSQL and exported again gives the same text; an import into
// PostgreSQL is all or nothing; a manager over PostgreSQL runs repositories and transactions.

#include <ormkit/persistence_manager.hpp>

#include <ormkit/postgres.hpp>
#ifdef ORMKIT_HAS_SQLITE
#include <ormkit/sqlite.hpp>
#endif

#include "../support/catch.hpp"
#include "../support/entities.hpp"
#include "../support/prometheus.hpp"
#include "postgres_support.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

namespace {

using namespace ormkit_test;
using ormkit::errc;

using manager = ormkit::persistence_manager<tenant, membership, user, all_types>;

auto temp_path(const char* tag, const char* ext) -> std::string {
  auto p = std::filesystem::temp_directory_path() /
           ("ormkit_pgpm_" + std::string(tag) + "_" + std::to_string(::getpid()) + ext);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(p.string() + suffix);
  return p.string();
}

auto read_file(const std::string& path) -> std::string {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Rows that exercise every column type, NULLs, extremes and non-ASCII text.
void fill(manager& m) {
  tenant acme;
  acme.name = "acme";
  acme = m.repository<tenant>().insert(acme).value();
  tenant globex;
  globex.name = "glöbex \"quoted\"";
  globex = m.repository<tenant>().insert(globex).value();
  REQUIRE(m.repository<membership>().insert({acme.id, "ann", "admin", 1, "first"}));
  REQUIRE(m.repository<membership>().insert({globex.id, "bob", "member", 2, {}}));
  auto u = make_user("ann@example.com", "Ann \xC3\xA9 O'Brien; DROP TABLE users; --");
  u.bio = "line one\nline two\ttab";
  REQUIRE(m.repository<user>().insert(u));
  REQUIRE(m.repository<user>().insert(make_user("bob@example.com", "Bob", 41)));

  all_types a;
  a.i8 = -128;
  a.i16 = 32767;
  a.i32 = -2147483647;
  a.i64 = std::numeric_limits<std::int64_t>::min();
  a.u8 = 255;
  a.u16 = 65535;
  a.u32 = 4294967295U;
  a.u64 = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  a.f32 = 1.5F;
  a.f64 = -0.1;
  a.flag = true;
  a.text = "snow \xE2\x98\x83";
  a.bytes = bytes_of({0, 1, 127, 128, 255});
  a.ubytes = {0x00, 0xFF};
  a.maybe_int = 7;
  a.maybe_real = 2.25;
  a.when = time_point(std::chrono::microseconds(1'700'000'000'123'456));
  a.maybe_when = time_point(std::chrono::microseconds(-86'400'000'000));
  a.timeout = std::chrono::milliseconds(1500);
  a.seconds = std::chrono::duration<double>(0.25);
  a.shade = color::blue;
  a.lvl = level::high;
  REQUIRE(m.repository<all_types>().insert(a));
  REQUIRE(m.repository<all_types>().insert(all_types{}));  // zeros, empty text and bytes, NULLs
}

#ifdef ORMKIT_HAS_SQLITE
TEST_CASE("manager: SQLite -> JSON -> PostgreSQL -> JSON gives the same JSON", "[manager][postgres][sqlite]") {
  auto server = postgres_test::server_options();
  if (!server) return;
  postgres_test::scratch_schema pg(*server);

  const auto db_path = temp_path("source", ".db");
  const auto json_path = temp_path("export", ".json");
  manager source(std::make_unique<ormkit::sqlite::backend>(ormkit::sqlite::options{.path = db_path}));
  fill(source);

  const ormkit::json_options with_secrets{.include_secrets = true};
  {
    std::ofstream out(json_path, std::ios::binary);
    REQUIRE(source.export_json(out, with_secrets));
  }
  const std::string exported = read_file(json_path);
  CHECK(exported == source.export_json(with_secrets).value());
  CHECK(exported.find("tok-ann@example.com") != std::string::npos);

  manager target(*pg.db);
  std::vector<std::string> progress;
  REQUIRE(target.import_json(exported, with_secrets, false,
                             [&](std::string_view t, std::uint64_t done, std::uint64_t total) {
                               progress.push_back(std::string(t) + " " + std::to_string(done) + "/" +
                                                  std::to_string(total));
                             }));
  CHECK(progress == std::vector<std::string>{"tenants 2/2", "memberships 2/2", "users 2/2", "all_types 2/2"});
  CHECK(target.export_json(with_secrets).value() == exported);

  SECTION("a streamed import gives the same database") {
    postgres_test::scratch_schema other(*server);
    manager streamed(*other.db);
    std::ifstream in(json_path, std::ios::binary);
    REQUIRE(streamed.import_json(in, with_secrets));
    CHECK(streamed.export_json(with_secrets).value() == exported);
  }
  SECTION("pretty-printed exports hold the same document") {
    const ormkit::json_options pretty{.include_secrets = true, .indent = 2};
    const auto a = source.export_json(pretty).value();
    const auto b = target.export_json(pretty).value();
    CHECK(a == b);
    CHECK(a.find("\n      {\n        \"") != std::string::npos);  // rows indented under their table
    CHECK(nlohmann::json::parse(a) == nlohmann::json::parse(exported));
  }
  SECTION("without secrets the secret column is left out on both sides") {
    const auto a = source.export_json().value();
    CHECK(a == target.export_json().value());
    CHECK(a.find("tok-") == std::string::npos);
  }
  SECTION("a failing import into PostgreSQL writes nothing") {
    postgres_test::scratch_schema other(*server);
    manager fresh(*other.db);
    auto doc = nlohmann::json::parse(exported);
    doc["tables"]["users"][1]["email"] = "not-an-email";
    auto st = fresh.import_json(doc.dump(), with_secrets);
    REQUIRE_FALSE(st);
    CHECK(st.error().is(errc::validation_failed));
    CHECK(st.error().message.find("import: users row 1") != std::string::npos);
    CHECK(fresh.repository<tenant>().count().value() == 0);
    CHECK(fresh.repository<membership>().count().value() == 0);
    CHECK(fresh.repository<user>().count().value() == 0);
  }
  SECTION("importing again conflicts, and replacing keeps one copy") {
    auto again = target.import_json(exported, with_secrets);
    REQUIRE_FALSE(again);
    CHECK(again.error().is(errc::conflict));
    REQUIRE(target.import_json(exported, with_secrets, /*replace=*/true));
    CHECK(target.export_json(with_secrets).value() == exported);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(db_path + suffix);
  std::filesystem::remove(json_path);
}
#endif  // ORMKIT_HAS_SQLITE

TEST_CASE("manager: export streams every table and reports progress per 1,000 rows", "[manager][postgres]") {
  auto server = postgres_test::server_options();
  if (!server) return;
  postgres_test::scratch_schema pg(*server);
  manager m(*pg.db);
  REQUIRE(m.transaction([&](ormkit::transaction&) -> ormkit::status {
    for (int i = 0; i < 2500; ++i) {
      tenant t;
      t.name = "tenant-" + std::to_string(i);
      ORMKIT_TRY(m.repository<tenant>().insert(t));
    }
    return {};
  }));
  std::vector<std::string> progress;
  std::ostringstream out;
  REQUIRE(m.export_json(out, {}, [&](std::string_view t, std::uint64_t done, std::uint64_t total) {
    progress.push_back(std::string(t) + " " + std::to_string(done) + "/" + std::to_string(total));
  }));
  CHECK(progress == std::vector<std::string>{"tenants 1000/2500", "tenants 2000/2500", "tenants 2500/2500",
                                             "memberships 0/0", "users 0/0", "all_types 0/0"});
  auto doc = nlohmann::json::parse(out.str());
  REQUIRE(doc["tables"]["tenants"].size() == 2500);
  CHECK(m.storage().value().database_bytes.value_or(0) > 1'000'000);  // on a plain backend too
  CHECK(doc["tables"]["tenants"][0]["name"] == "tenant-0");
  CHECK(doc["tables"]["tenants"][2499]["name"] == "tenant-2499");

  SECTION("a stream that fails is reported as an I/O error") {
    std::ostringstream broken;
    broken.setstate(std::ios::badbit);
    auto st = m.export_json(broken);
    REQUIRE_FALSE(st);
    CHECK(st.error().is(errc::io_error));
  }
}

TEST_CASE("manager: over a PostgreSQL pool the metrics carry the pool's connections", "[manager][postgres][metrics]") {
  auto server = postgres_test::server_options();
  if (!server) return;
  postgres_test::scratch_schema pg(*server);
  auto pool = ormkit::postgres::pool::open({.connection = pg.options(), .max_size = 3, .min_idle = 1}).value();
  manager m(*pool);
  REQUIRE(m.ensure_tables());
  tenant t;
  t.name = "pooled";
  t = m.repository<tenant>().insert(t).value();
  CHECK(m.repository<tenant>().get(t.id).value() == t);

  const auto text = m.metrics_prometheus();
  INFO(text);
  CHECK(ormkit_test::prometheus_problems(text).empty());
  CHECK(text.find("# TYPE ormkit_backend_in_use gauge\normkit_backend_in_use 0\n") != std::string::npos);
  CHECK(text.find("ormkit_backend_connections 1\n") != std::string::npos);
  CHECK(text.find("ormkit_backend_max_connections 3\n") != std::string::npos);
  CHECK(text.find("# TYPE ormkit_backend_reconnects_total counter\normkit_backend_reconnects_total 0\n") !=
        std::string::npos);
  CHECK(text.find("ormkit_backend_acquire_timeouts_total 0\n") != std::string::npos);
  const auto borrows = pool->statistics().borrows;
  CHECK(borrows >= 2);
  // The database size, from one of the pool's connections.
  const auto storage = m.storage().value();
  REQUIRE(storage.database_bytes.has_value());
  CHECK(*storage.database_bytes > 1'000'000);  // an empty PostgreSQL database is several MB
  CHECK(text.find("# TYPE ormkit_database_bytes gauge\normkit_database_bytes ") != std::string::npos);

  const auto doc = nlohmann::json::parse(m.metrics_json());
  CHECK(doc["backend_resources"]["idle"] == 1);
  CHECK(doc["backend_resources"]["borrows"].get<std::uint64_t>() >= borrows);

  SECTION("a borrowed connection shows as in use") {
    auto lease = pool->acquire().value();
    const auto busy = nlohmann::json::parse(m.metrics_json());
    CHECK(busy["backend_resources"]["in_use"] == 1);
    // Counting rows for the metrics borrowed a second connection meanwhile.
    CHECK(busy["backend_resources"]["connections"] == busy["backend_resources"]["idle"].get<int>() + 1);
  }
}

}  // namespace
