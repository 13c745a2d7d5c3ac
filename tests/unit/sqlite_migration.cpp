// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// The migration engine on SQLite: every step kind up and down (create table,
// add column, create index, rename column, rename table, drop column, a C++
// data step), a failing step in the middle (throwing, returning an error,
// failing SQL) leaving schema and history as they were, two migrators on one
// file from two threads (both succeed, each step runs once), drift, status, and
// plan() matching the statements migrate() then runs (SQLite's statement trace).
// Destructive steps and changed checksums: migration_cases.hpp, run on every backend
// (sqlite_migration_backends.cpp, postgres_migration.cpp).

#include <ormkit/migration.hpp>
#include <ormkit/migration/sqlite.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/sqlite.hpp>

#include "../support/catch.hpp"

#include <unistd.h>

#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sqlite_migration_test {

namespace fs = std::filesystem;

struct account {
  std::int64_t id{};
  std::string email{};
  std::string name{};
  std::optional<std::string> nickname{};
  int level{};

  friend constexpr auto ormkit_describe(std::type_identity<account>) {
    using namespace ormkit;
    return describe<account>("mg_accounts")
        .column(&account::id, "id", primary_key, auto_increment)
        .column(&account::email, "email", unique)
        .column(&account::name, "name")
        .column(&account::nickname, "nickname", since(2))
        .column(&account::level, "level", since(3), default_value(0))
        .index("ix_mg_accounts_nickname", &account::nickname);
  }
};

struct note {
  std::int64_t id{};
  std::int64_t account_id{};
  std::string body{};

  friend constexpr auto ormkit_describe(std::type_identity<note>) {
    using namespace ormkit;
    return describe<note>("mg_notes")
        .column(&note::id, "id", primary_key, auto_increment)
        .column(&note::account_id, "account_id", references<&account::id>)
        .column(&note::body, "body");
  }
};

//=== helpers ===//

auto text(const ormkit::value& v) -> std::string {
  const auto* s = std::get_if<std::string>(&v);
  return s ? *s : std::string("<null>");
}

/// Tables (but the history and sqlite_sequence), each with its columns
/// (name type notnull default) and index names: what a step may change.
auto schema_snapshot(ormkit::sqlite::backend& db) -> std::map<std::string, std::string> {
  std::map<std::string, std::string> out;
  auto tables = db.query(
                      "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN "
                      "('ormkit_migrations', 'sqlite_sequence') ORDER BY name")
                    .value();
  for (const auto& t : tables) {
    const std::string name = text(t.at(0));
    std::array<ormkit::value_view, 1> p{std::string_view(name)};
    std::string desc;
    for (const auto& c : db.query("SELECT name, type, \"notnull\", dflt_value FROM pragma_table_info(?)", p).value())
      desc +=
          text(c[0]) + " " + text(c[1]) + " " + std::to_string(std::get<std::int64_t>(c[2])) + " " + text(c[3]) + "; ";
    desc += "| ";
    for (const auto& i : db.query("SELECT name FROM pragma_index_list(?) ORDER BY name", p).value())
      desc += text(i[0]) + " ";
    out[name] = desc;
  }
  return out;
}

auto columns_of(ormkit::sqlite::backend& db, std::string_view table) -> std::vector<std::string> {
  std::array<ormkit::value_view, 1> p{table};
  std::vector<std::string> out;
  for (const auto& c : db.query("SELECT name FROM pragma_table_info(?)", p).value()) out.push_back(text(c[0]));
  return out;
}

auto history_versions(ormkit::sqlite::backend& db) -> std::vector<std::int64_t> {
  std::vector<std::int64_t> out;
  auto exists = db.query("SELECT 1 FROM sqlite_master WHERE name = 'ormkit_migrations'").value();
  if (exists.empty()) return out;
  for (const auto& r : db.query("SELECT version FROM ormkit_migrations ORDER BY version").value())
    out.push_back(std::get<std::int64_t>(r[0]));
  return out;
}

auto scalar(ormkit::sqlite::backend& db, std::string_view sql) -> std::int64_t {
  return std::get<std::int64_t>(db.query(sql).value().at(0).at(0));
}

struct temp_dir {
  fs::path path;
  temp_dir() : path(fs::temp_directory_path() / ("ormkit-migration-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~temp_dir() { fs::remove_all(path); }
};

/// Every step kind, versions 1 to 7.
auto all_kinds() -> std::vector<ormkit::migration_step> {
  auto steps = ormkit::steps_for<account>();  // 1 create table, 2 add nickname + index, 3 add level
  steps.push_back(ormkit::rename_column_step(4, "mg_accounts", "name", "full_name"));
  steps.push_back(ormkit::rename_table_step(5, "mg_accounts", "mg_members"));
  // Down: ALTER TABLE "mg_members" ADD COLUMN "level" INTEGER NOT NULL DEFAULT 0
  steps.push_back(ormkit::drop_column_step(6, "mg_members", ormkit::column_definition::of(&account::level)));
  steps.push_back(ormkit::code_step(
      7, "backfill nicknames", "nickname = full_name",
      [](ormkit::sqlite::backend& db) {
        return db.execute(R"(UPDATE "mg_members" SET "nickname" = "full_name" WHERE "nickname" IS NULL)");
      },
      [](ormkit::sqlite::backend& db) { return db.execute(R"(UPDATE "mg_members" SET "nickname" = NULL)"); }));
  return steps;
}

//=== tests ===//

TEST_CASE("steps_for: one step per version, tables, columns and indexes", "[sqlite][migration]") {
  auto steps = ormkit::steps_for<account, note>();
  REQUIRE(steps.size() == 3);
  CHECK(steps[0].version == 1);
  CHECK(steps[0].name == "create table mg_accounts, create table mg_notes");
  CHECK(ormkit::sqlite::migration_sql(steps[0].up).value() ==
        "CREATE TABLE IF NOT EXISTS \"mg_accounts\" (\"id\" INTEGER PRIMARY KEY AUTOINCREMENT, \"email\" TEXT NOT "
        "NULL, \"name\" TEXT NOT NULL);\n"
        "CREATE UNIQUE INDEX IF NOT EXISTS \"uq_mg_accounts_email\" ON \"mg_accounts\" (\"email\");\n"
        "CREATE TABLE IF NOT EXISTS \"mg_notes\" (\"id\" INTEGER PRIMARY KEY AUTOINCREMENT, \"account_id\" INTEGER "
        "NOT NULL REFERENCES \"mg_accounts\"(\"id\") ON DELETE RESTRICT, \"body\" TEXT NOT NULL)");
  CHECK(ormkit::sqlite::migration_sql(*steps[0].down).value() ==
        "DROP TABLE IF EXISTS \"mg_notes\";\nDROP TABLE IF EXISTS \"mg_accounts\"");
  CHECK(steps[0].destructive_down);
  CHECK_FALSE(steps[0].destructive);
  CHECK(steps[1].version == 2);
  CHECK(steps[1].name == "add column mg_accounts.nickname, create index ix_mg_accounts_nickname");
  CHECK(ormkit::sqlite::migration_sql(steps[1].up).value() ==
        "ALTER TABLE \"mg_accounts\" ADD COLUMN \"nickname\" TEXT;\n"
        "CREATE INDEX IF NOT EXISTS \"ix_mg_accounts_nickname\" ON \"mg_accounts\" (\"nickname\")");
  // The down drops the index (a generated drop_index), then the column (a table rebuild
  // on SQLite, whose statements depend on the live table: see the plan tests).
  REQUIRE(steps[1].down->size() == 2);
  CHECK(ormkit::sqlite::migration_sql({(*steps[1].down)[0]}).value() == "DROP INDEX IF EXISTS \"ix_mg_accounts_nickname\"");
  CHECK(ormkit::describe_action((*steps[1].down)[1]) == std::vector<std::string>{"drop column mg_accounts.nickname"});
  CHECK(ormkit::sqlite::migration_sql(*steps[1].down).error().is(ormkit::errc::invalid_argument));
  CHECK(steps[2].name == "add column mg_accounts.level");
  CHECK(ormkit::sqlite::migration_sql(steps[2].up).value() ==
        "ALTER TABLE \"mg_accounts\" ADD COLUMN \"level\" INTEGER NOT NULL DEFAULT 0");
  CHECK(steps[0].checksum().size() == 16);
  CHECK(steps[0].checksum() != steps[1].checksum());
  CHECK(steps[0].checksum() == ormkit::steps_for<account, note>()[0].checksum());
}

TEST_CASE("each step kind up and down", "[sqlite][migration]") {
  ormkit::sqlite::backend db;
  ormkit::migrator m(db, all_kinds());
  m.allow_destructive(true);

  std::vector<std::map<std::string, std::string>> snapshots{schema_snapshot(db)};
  for (int v = 1; v <= 7; ++v) {
    REQUIRE(m.migrate_to(v).value() == 1);
    if (v == 1) db.execute(R"(INSERT INTO "mg_accounts" ("email", "name") VALUES ('ann@example.com', 'Ann'))").value();
    snapshots.push_back(schema_snapshot(db));
    if (v < 7) CHECK(snapshots[static_cast<std::size_t>(v)] != snapshots[static_cast<std::size_t>(v - 1)]);
  }
  CHECK(columns_of(db, "mg_members") == std::vector<std::string>{"id", "email", "full_name", "nickname"});
  CHECK(text(db.query(R"(SELECT "nickname" FROM "mg_members")").value().at(0).at(0)) == "Ann");
  CHECK(history_versions(db) == std::vector<std::int64_t>{1, 2, 3, 4, 5, 6, 7});

  // Down, one step at a time: each restores the schema of the version below.
  for (int v = 6; v >= 0; --v) {
    REQUIRE(m.rollback_to(v).value() == 1);
    CHECK(schema_snapshot(db) == snapshots[static_cast<std::size_t>(v)]);
    CHECK(history_versions(db).size() == static_cast<std::size_t>(v));
    if (v == 6) CHECK(text(db.query(R"(SELECT "nickname" FROM "mg_members")").value().at(0).at(0)) == "<null>");
  }
  CHECK(schema_snapshot(db).empty());
  CHECK(m.rollback_to(0).value() == 0);
}

TEST_CASE("migrated tables are the ones the repository would create; drift is empty", "[sqlite][migration]") {
  ormkit::sqlite::backend db;
  ormkit::migrator m(db, ormkit::steps_for<account, note>());
  CHECK(m.migrate().value() == 3);
  CHECK(m.migrate().value() == 0);
  CHECK(ormkit::drift<account, note>(db).value().empty());
  ormkit::repository<account> accounts(db);
  auto ann = accounts.insert({0, "ann@example.com", "Ann", "annie", 2}).value();
  CHECK(accounts.get(ann.id).value().nickname == "annie");
  CHECK(accounts.insert({0, "ann@example.com", "Ann 2", std::nullopt, 0}).error().is(ormkit::errc::conflict));
}

TEST_CASE("a failing step leaves schema and history unchanged", "[sqlite][migration]") {
  ormkit::sqlite::backend db;
  int third_ran = 0;
  auto steps = std::vector<ormkit::migration_step>{
      ormkit::sql_step(1, "create a", R"(CREATE TABLE "mg_a" ("x" INTEGER))", R"(DROP TABLE "mg_a")"),
      ormkit::code_step(2, "explode", "boom",
                        [](ormkit::sqlite::backend& b) -> ormkit::status {
                          b.execute(R"(CREATE TABLE "mg_b" ("y" INTEGER); INSERT INTO "mg_a" VALUES (1))").value();
                          throw std::runtime_error("boom");
                        }),
      ormkit::code_step(3, "never", "n", [&](ormkit::sqlite::backend&) -> ormkit::status {
        ++third_ran;
        return {};
      })};

  SECTION("a C++ step that throws") {
    ormkit::migrator m(db, steps);
    auto r = m.migrate();
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "migration 2 \"explode\": threw: boom");
  }
  SECTION("a C++ step that returns an error") {
    steps[1] = ormkit::code_step(2, "explode", "boom", [](ormkit::sqlite::backend& b) -> ormkit::status {
      b.execute(R"(CREATE TABLE "mg_b" ("y" INTEGER); INSERT INTO "mg_a" VALUES (1))").value();
      return ormkit::unexpected(ormkit::errc::invalid_argument, "mg_a: bad data");
    });
    ormkit::migrator m(db, steps);
    auto r = m.migrate();
    REQUIRE_FALSE(r);
    CHECK(r.error().is(ormkit::errc::invalid_argument));
    CHECK(r.error().message == "migration 2 \"explode\": mg_a: bad data");
  }
  SECTION("SQL that fails after a statement that worked") {
    steps[1] = ormkit::sql_step(
        2, "explode", R"(CREATE TABLE "mg_b" ("y" INTEGER); INSERT INTO "mg_a" VALUES (1); SELECT nope FROM "mg_a")");
    ormkit::migrator m(db, steps);
    auto r = m.migrate();
    REQUIRE_FALSE(r);
    CHECK(r.error().message.starts_with("migration 2 \"explode\": "));
    CHECK(r.error().message.find("nope") != std::string::npos);
  }
  // Step 1 committed on its own; step 2 left nothing; step 3 never ran.
  CHECK(history_versions(db) == std::vector<std::int64_t>{1});
  CHECK(columns_of(db, "mg_b").empty());
  CHECK(scalar(db, R"(SELECT count(*) FROM "mg_a")") == 0);
  CHECK(third_ran == 0);
  CHECK_FALSE(db.in_transaction());
  auto st = ormkit::migrator(db, steps).status().value();
  CHECK(st.current_version == 1);
  CHECK(st.count(ormkit::migration_state::kind::pending) == 2);
}

TEST_CASE("two migrators on one file at once: both succeed, each step runs once", "[sqlite][migration]") {
  temp_dir dir;
  for (int round = 0; round < 8; ++round) {
    const std::string path = (dir.path / ("race" + std::to_string(round) + ".db")).string();
    std::atomic<int> seed_runs{0};
    auto steps = [&] {
      auto s = ormkit::steps_for<account, note>();
      s.push_back(ormkit::code_step(4, "seed", "seed v1", [&](ormkit::sqlite::backend& b) -> ormkit::status {
        ++seed_runs;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        return b.execute(R"(INSERT INTO "mg_accounts" ("email", "name") VALUES ('root@example.com', 'root'))");
      }));
      return s;
    };
    auto a = ormkit::sqlite::backend::open({.path = path}).value();
    auto b = ormkit::sqlite::backend::open({.path = path}).value();
    ormkit::migrator ma(*a, steps());
    ormkit::migrator mb(*b, steps());
    std::atomic<bool> go{false};
    ormkit::result<std::size_t> ra = std::size_t{0}, rb = std::size_t{0};
    std::thread ta([&] {
      while (!go) std::this_thread::yield();
      ra = ma.migrate();
    });
    std::thread tb([&] {
      while (!go) std::this_thread::yield();
      rb = mb.migrate();
    });
    go = true;
    ta.join();
    tb.join();
    REQUIRE(ra.has_value());
    REQUIRE(rb.has_value());
    CHECK(*ra + *rb == 4);
    CHECK(seed_runs == 1);
    CHECK(history_versions(*a) == std::vector<std::int64_t>{1, 2, 3, 4});
    CHECK(scalar(*a, R"(SELECT count(*) FROM "mg_accounts")") == 1);
    CHECK(ormkit::drift<account, note>(*b).value().empty());
  }
}

TEST_CASE("drift lists the differences and changes nothing", "[sqlite][migration]") {
  ormkit::sqlite::backend db;
  db.execute(R"(CREATE TABLE "mg_accounts" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "email" TEXT NOT NULL,)"
             R"( "name" INTEGER, "level" INTEGER NOT NULL DEFAULT 0, "extra" TEXT);)"
             R"(CREATE INDEX "uq_mg_accounts_email" ON "mg_accounts" ("email"))")
      .value();
  auto before = schema_snapshot(db);
  auto diffs = ormkit::drift<account, note>(db).value();
  std::vector<std::string> messages;
  for (const auto& d : diffs) messages.push_back(d.message);
  CHECK(messages ==
        std::vector<std::string>{
            "mg_accounts.name: type is INTEGER, the descriptor says TEXT",
            "mg_accounts.name: nullable in the database, NOT NULL in the descriptor",
            "mg_accounts.nickname: column is missing",
            "mg_accounts.extra: column is not in the descriptor",
            "mg_accounts: index uq_mg_accounts_email is not unique in the database, unique in the descriptor",
            "mg_accounts: index ix_mg_accounts_nickname is missing",
            "mg_notes: table is missing",
        });
  using kind = ormkit::schema_difference::kind;
  REQUIRE(diffs.size() == 7);
  CHECK(diffs[0].what == kind::type_mismatch);
  CHECK(diffs[1].what == kind::nullability_mismatch);
  CHECK(diffs[2].what == kind::missing_column);
  CHECK(diffs[3].what == kind::extra_column);
  CHECK(diffs[4].what == kind::index_mismatch);
  CHECK(diffs[5].what == kind::missing_index);
  CHECK(diffs[6].what == kind::missing_table);
  CHECK(schema_snapshot(db) == before);
}

TEST_CASE("status lists applied and pending steps", "[sqlite][migration]") {
  ormkit::sqlite::backend db;
  ormkit::migrator m(db, ormkit::steps_for<account, note>());
  auto fresh = m.status().value();
  CHECK(fresh.current_version == 0);
  CHECK(fresh.latest_version == 3);
  CHECK(fresh.count(ormkit::migration_state::kind::pending) == 3);
  CHECK(history_versions(db).empty());  // status created nothing
  m.migrate_to(2).value();
  auto st = m.status().value();
  CHECK(st.current_version == 2);
  REQUIRE(st.steps.size() == 3);
  CHECK(st.steps[0].state == ormkit::migration_state::kind::applied);
  CHECK(st.steps[0].applied_at > 1'700'000'000);
  CHECK(st.steps[1].state == ormkit::migration_state::kind::applied);
  CHECK(st.steps[2].state == ormkit::migration_state::kind::pending);
  CHECK(st.steps[2].name == "add column mg_accounts.level");
}

namespace {
auto trace(unsigned, void* ctx, void*, void* x) -> int {
  static_cast<std::vector<std::string>*>(ctx)->emplace_back(static_cast<const char*>(x));
  return 0;
}

auto trim(std::string s) -> std::string {
  while (!s.empty() && (s.back() == ';' || s.back() == ' ' || s.back() == '\n')) s.pop_back();
  while (!s.empty() && (s.front() == ' ' || s.front() == '\n')) s.erase(0, 1);
  return s;
}
}  // namespace

TEST_CASE("plan() is what migrate() then runs", "[sqlite][migration]") {
  ormkit::sqlite::backend db;
  auto steps = ormkit::steps_for<account, note>();
  steps.push_back(ormkit::rename_column_step(4, "mg_accounts", "name", "full_name"));
  ormkit::migrator m(db, steps);
  m.migrate_to(1).value();

  auto plan = m.plan().value();
  REQUIRE(plan.size() == 3);
  CHECK(plan[0].version == 2);
  CHECK(plan[2].text == R"(ALTER TABLE "mg_accounts" RENAME COLUMN "name" TO "full_name")");
  auto before = schema_snapshot(db);
  CHECK(m.plan().value().size() == 3);  // a dry run changes nothing
  CHECK(schema_snapshot(db) == before);

  std::vector<std::string> planned;
  for (const auto& p : plan) {
    std::size_t at = 0;
    for (std::size_t next; (next = p.text.find(";\n", at)) != std::string::npos; at = next + 2)
      planned.push_back(p.text.substr(at, next - at));
    planned.push_back(p.text.substr(at));
  }

  std::vector<std::string> traced;
  std::vector<std::pair<int, std::size_t>> progress;
  sqlite3_trace_v2(db.native_handle(), SQLITE_TRACE_STMT, &trace, &traced);
  m.on_progress([&](const ormkit::migration_step& s, std::size_t index, std::size_t total) {
    progress.emplace_back(s.version, index);
    CHECK(total == 3);
  });
  CHECK(m.migrate().value() == 3);
  sqlite3_trace_v2(db.native_handle(), 0, nullptr, nullptr);

  std::vector<std::string> ran;
  for (auto& s : traced) {
    s = trim(s);
    if (s.find("ormkit_migrations") != std::string::npos || s.find("sqlite_master") != std::string::npos ||
        s.starts_with("BEGIN") || s.starts_with("COMMIT") || s.starts_with("ROLLBACK") || s.starts_with("--"))
      continue;
    ran.push_back(s);
  }
  CHECK(ran == planned);
  CHECK(progress == std::vector<std::pair<int, std::size_t>>{{2, 0}, {3, 1}, {4, 2}});
  CHECK(m.plan().value().empty());

  auto back = m.plan_rollback(1).value();
  REQUIRE(back.size() == 3);
  CHECK(back[0].version == 4);
  CHECK(back[0].text == R"(ALTER TABLE "mg_accounts" RENAME COLUMN "full_name" TO "name")");
  CHECK(back[2].destructive);
}

TEST_CASE("step lists with duplicate versions are rejected", "[sqlite][migration]") {
  ormkit::sqlite::backend db;
  ormkit::migrator m(db, {ormkit::sql_step(1, "a", "SELECT 1"), ormkit::sql_step(1, "b", "SELECT 2")});
  auto r = m.migrate();
  REQUIRE_FALSE(r);
  CHECK(r.error().is(ormkit::errc::invalid_argument));
  CHECK(r.error().message == "migration 1 \"b\": version 1 is also used by \"a\"");
}

}  // namespace sqlite_migration_test
