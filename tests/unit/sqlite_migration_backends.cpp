// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// The migration engine on both backends, the same steps and the same checks:
// every step kind up and down (generated create table / add column / create
// index and their downs, rename column, create index and drop index by hand,
// drop column with its re-adding down, a C++ step working through repositories
// on whichever backend runs, rename table, create table and add column by hand),
// the schema after every step identical on SQLite and memory; a step failing
// halfway (an action that fails, a C++ step that throws, one that returns an
// error) leaves schema, rows and history unchanged; plan() is what migrate() runs
// (SQLite's statement trace; a recording driver around the memory one); destructive
// steps and changed checksums refused. The cases are in migration_cases.hpp, which
// postgres_migration.cpp runs on PostgreSQL.

#include <ormkit/migration.hpp>
#include <ormkit/migration/memory.hpp>
#include <ormkit/migration/sqlite.hpp>
#include <ormkit/memory.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/sqlite.hpp>
#include <ormkit/transaction.hpp>

#include "../support/catch.hpp"
#include "migration_cases.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace migration_backends_test {

using namespace migration_cases;

//=== fixtures: one per backend, each describing its schema the same way ===//

struct sqlite_fixture {
  static constexpr std::string_view name = "sqlite";
  static constexpr ormkit::errc failed_rename_code = ormkit::errc::backend_error;
  static constexpr bool runs_sql = true;
  ormkit::sqlite::backend db;

  // "table(col,...) index[u](col,...) ..." per table, history and internals aside.
  auto snapshot() -> std::map<std::string, std::string> {
    std::map<std::string, std::string> out;
    auto tables = db.query(
                        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN "
                        "('ormkit_migrations', 'sqlite_sequence')")
                      .value();
    for (const auto& t : tables) {
      const std::string table = text(t.at(0));
      std::array<ormkit::value_view, 1> p{std::string_view(table)};
      std::vector<std::string> cols;
      for (const auto& c : db.query("SELECT name FROM pragma_table_info(?) ORDER BY cid", p).value())
        cols.push_back(text(c.at(0)));
      std::string desc = "(" + join(cols) + ")";
      for (const auto& i :
           db.query("SELECT name, \"unique\" FROM pragma_index_list(?) WHERE origin = 'c' ORDER BY name", p).value()) {
        const std::string ix = text(i.at(0));
        std::array<ormkit::value_view, 1> q{std::string_view(ix)};
        std::vector<std::string> ixcols;
        for (const auto& c : db.query("SELECT name FROM pragma_index_info(?) ORDER BY seqno", q).value())
          ixcols.push_back(text(c.at(0)));
        desc += " " + ix + (std::get<std::int64_t>(i.at(1)) ? "[u]" : "") + "(" + join(ixcols) + ")";
      }
      out[table] = desc;
    }
    return out;
  }

  auto history() -> std::vector<int> {
    std::vector<int> out;
    if (db.query("SELECT 1 FROM sqlite_master WHERE name = 'ormkit_migrations'").value().empty()) return out;
    for (const auto& r : db.query("SELECT version FROM ormkit_migrations ORDER BY version").value())
      out.push_back(static_cast<int>(std::get<std::int64_t>(r.at(0))));
    return out;
  }

  auto make_migrator(std::vector<ormkit::migration_step> steps) -> ormkit::migrator {
    return ormkit::migrator(db, std::move(steps));
  }

  // What ran: SQLite's statement trace, without transaction control, history and schema reads.
  std::vector<std::string> traced;
  static auto on_trace(unsigned, void* ctx, void*, void* x) -> int {
    static_cast<std::vector<std::string>*>(ctx)->emplace_back(static_cast<const char*>(x));
    return 0;
  }
  void record() { sqlite3_trace_v2(db.native_handle(), SQLITE_TRACE_STMT, &on_trace, &traced); }
  auto recorded() -> std::vector<std::string> {
    sqlite3_trace_v2(db.native_handle(), 0, nullptr, nullptr);
    std::vector<std::string> out;
    for (auto s : traced) {
      while (!s.empty() && (s.back() == ';' || s.back() == ' ' || s.back() == '\n')) s.pop_back();
      if (s.find("ormkit_migrations") != std::string::npos || s.find("sqlite_master") != std::string::npos ||
          s.find("pragma_") != std::string::npos || s.starts_with("BEGIN") || s.starts_with("COMMIT") ||
          s.starts_with("ROLLBACK") || s.starts_with("PRAGMA foreign_key") || s.starts_with("--"))
        continue;
      out.push_back(s);
    }
    traced.clear();
    return out;
  }
  // The plan's statements, one by one (a SQL text action may hold several).
  static auto planned(const std::vector<ormkit::planned_step>& plan) -> std::vector<std::string> {
    std::vector<std::string> out;
    for (const auto& p : plan)
      for (const auto& s : p.statements) {
        if (s.starts_with("--")) continue;
        std::size_t at = 0;
        for (std::size_t next; (next = s.find(";\n", at)) != std::string::npos; at = next + 2)
          out.push_back(s.substr(at, next - at));
        out.push_back(s.substr(at));
      }
    return out;
  }
};

// Forwards to the memory driver and records each action it runs.
class recording_driver final : public ormkit::migration_driver {
 public:
  recording_driver(ormkit::memory::backend& db, std::vector<std::string>& log)
      : ormkit::migration_driver(db), inner_(db), log_(log) {}
  auto supports(const ormkit::migration_op& a) const -> ormkit::status override { return inner_.supports(a); }
  auto read_history() -> ormkit::result<ormkit::migration_history> override { return inner_.read_history(); }
  auto ensure_history() -> ormkit::status override { return inner_.ensure_history(); }
  auto in_transaction() const -> bool override { return inner_.in_transaction(); }
  auto history_checksum(int v) -> ormkit::result<std::optional<std::string>> override {
    return inner_.history_checksum(v);
  }
  auto record(int v, const ormkit::migration_history_row& r) -> ormkit::status override { return inner_.record(v, r); }
  auto forget(int v) -> ormkit::status override { return inner_.forget(v); }
  auto run(const ormkit::migration_op& a) -> ormkit::status override {
    for (auto& line : ormkit::describe_action(a)) log_.push_back(std::move(line));
    return inner_.run(a);
  }
  auto plan(const ormkit::migration_action& a) -> ormkit::result<std::vector<std::string>> override {
    return inner_.plan(a);
  }
  auto drift(const ormkit::table_schema& s, std::vector<ormkit::schema_difference>& out) -> ormkit::status override {
    return inner_.drift(s, out);
  }

 private:
  ormkit::memory::migration_driver inner_;
  std::vector<std::string>& log_;
};

struct memory_fixture {
  static constexpr std::string_view name = "memory";
  static constexpr ormkit::errc failed_rename_code = ormkit::errc::schema_mismatch;
  static constexpr bool runs_sql = false;
  ormkit::memory::backend db;
  std::vector<std::string> log;
  bool recording = false;

  auto snapshot() -> std::map<std::string, std::string> {
    std::map<std::string, std::string> out;
    for (const auto& table : db.table_names()) {
      if (table == "ormkit_migrations") continue;
      auto d = db.describe_table(table).value();
      std::string desc = "(" + join(d.columns) + ")";
      std::sort(d.indexes.begin(), d.indexes.end(),
                [](const auto& a, const auto& b) { return a.name < b.name; });
      for (const auto& ix : d.indexes) desc += " " + ix.name + (ix.unique ? "[u]" : "") + "(" + join(ix.columns) + ")";
      out[table] = desc;
    }
    return out;
  }

  auto history() -> std::vector<int> {
    std::vector<int> out;
    if (!db.has_table("ormkit_migrations")) return out;
    for (const auto& r : ormkit::repository<ormkit::memory::migration_record>(db).find_all().value())
      out.push_back(static_cast<int>(r.version));
    std::sort(out.begin(), out.end());
    return out;
  }

  auto make_migrator(std::vector<ormkit::migration_step> steps) -> ormkit::migrator {
    return ormkit::migrator(std::make_unique<recording_driver>(db, log), std::move(steps));
  }
  void record() { log.clear(); }
  auto recorded() -> std::vector<std::string> { return std::exchange(log, {}); }
  static auto planned(const std::vector<ormkit::planned_step>& plan) -> std::vector<std::string> {
    std::vector<std::string> out;
    for (const auto& p : plan)
      for (const auto& s : p.statements)
        if (!s.starts_with("--")) out.push_back(s);  // C++ steps run in the migrator, not the driver
    return out;
  }
};

TEMPLATE_TEST_CASE("each step kind up and down, on both backends", "[migration][sqlite][memory]", sqlite_fixture,
                   memory_fixture) {
  TestType f;
  migration_cases::each_step_kind_up_and_down(f);
}

TEMPLATE_TEST_CASE("a step failing halfway leaves schema, rows and history unchanged, on both backends",
                   "[migration][sqlite][memory]", sqlite_fixture, memory_fixture) {
  TestType f;
  migration_cases::failing_halfway_changes_nothing(f);
}

TEMPLATE_TEST_CASE("plan() is what migrate() runs, on both backends", "[migration][sqlite][memory]", sqlite_fixture,
                   memory_fixture) {
  TestType f;
  migration_cases::plan_is_what_migrate_runs(f);
}

TEMPLATE_TEST_CASE("destructive steps are refused unless allowed, on both backends", "[migration][sqlite][memory]",
                   sqlite_fixture, memory_fixture) {
  TestType f;
  migration_cases::destructive_steps_refused_unless_allowed(f);
}

TEMPLATE_TEST_CASE("an applied step whose checksum changed is refused, on both backends", "[migration][sqlite][memory]",
                   sqlite_fixture, memory_fixture) {
  TestType f;
  migration_cases::changed_checksums_refused(f);
}

TEST_CASE("the memory plan shows each action's canonical text", "[migration][memory]") {
  ormkit::memory::backend db;
  ormkit::migrator m(db, all_kinds());
  auto plan = m.plan_to(7).value();
  REQUIRE(plan.size() == 7);
  CHECK(plan[0].text ==
        "create table mg_things (id integer not null, code text not null, label text not null, primary key (id), "
        "auto_increment id)\n"
        "create unique index uq_mg_things_code on mg_things (code)");
  CHECK(plan[1].statements == std::vector<std::string>{
                                  "add column mg_things.note text after label",
                                  "add column mg_things.rank integer not null default 5 after note",
                                  "create index ix_mg_things_rank on mg_things (rank)",
                              });
  CHECK(plan[5].text == "drop column mg_things.rank");
  CHECK(plan[6].text == "-- C++ function (checksum \"note = title, through a repository\")");
  CHECK(m.migrate_to(2).value() == 2);
  CHECK(m.plan_rollback(0).value().at(0).statements ==
        std::vector<std::string>{"drop index ix_mg_things_rank on mg_things", "drop column mg_things.rank",
                                 "drop column mg_things.note"});
}

TEST_CASE("the same steps give the same checksums on every backend, and SQL-only steps keep theirs",
          "[migration][sqlite][memory]") {
  auto a = all_kinds();
  auto b = all_kinds();
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(a[i].checksum() == b[i].checksum());
  ormkit::sqlite::backend s;
  ormkit::memory::backend mem;
  ormkit::migrator(s, all_kinds()).allow_destructive(true).migrate().value();
  ormkit::migrator(mem, all_kinds()).allow_destructive(true).migrate().value();
  auto hs = ormkit::migrator(s, all_kinds()).status().value();
  auto hm = ormkit::migrator(mem, all_kinds()).status().value();
  CHECK(hs.count(ormkit::migration_state::kind::applied) == 10);
  CHECK(hm.count(ormkit::migration_state::kind::applied) == 10);
  // A step of SQL text only, or of one C++ function only, hashes as before structured steps existed.
  CHECK(ormkit::sql_step(2, "add column customers.phone", R"(ALTER TABLE "customers" ADD COLUMN "phone" BLOB)")
            .checksum() == "b53dea2c2b3de292");
}

}  // namespace migration_backends_test
