// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// The migration engine on PostgreSQL (migration/postgres.hpp), each test in a schema of
// its own: the cases every backend runs (migration_cases.hpp: every step kind up and
// down, a step failing halfway, plan() equal to the statements migrate() runs, seen by a
// statement observer), then what is PostgreSQL's own: two processes migrating one schema
// at once (both succeed, each step runs once), the history table's shape, drift from
// pg_catalog, destructive steps refused unless allowed, changed checksums refused, the
// driver on a pool.

#include <ormkit/migration.hpp>
#include <ormkit/migration/postgres.hpp>
#include <ormkit/postgres.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/statement_observer.hpp>

#include "../support/catch.hpp"
#include "migration_cases.hpp"
#include "postgres_support.hpp"
#include "support/entities.hpp"

#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace postgres_migration_test {

using namespace migration_cases;

// As its descriptor says, both columns reference mg_things.id (drift compares the live table with that).
struct child {
  std::int64_t id{};
  std::int64_t parent{};
  std::int64_t tag_id{};

  friend constexpr auto ormkit_describe(std::type_identity<child>) {
    using namespace ormkit;
    return describe<child>("mg_children")
        .column(&child::id, "id", primary_key)
        .column(&child::parent, "parent", references<&thing::id>)
        .column(&child::tag_id, "tag", references<&thing::id>);
  }
};

// The oid of the table named $1 in the connection's schema.
constexpr std::string_view table_oid =
    "(SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname = $1 AND c.relnamespace = "
    "(SELECT n.oid FROM pg_catalog.pg_namespace n WHERE n.nspname = pg_catalog.current_schema()))";

auto names(ormkit::postgres::backend& db, const std::string& sql, std::string_view param) -> std::vector<std::string> {
  std::array<ormkit::value_view, 1> p{param};
  std::vector<std::string> out;
  for (const auto& r : db.query(sql, p).value()) out.push_back(text(r.at(0)));
  return out;
}

using postgres_test::statement_log;  // every statement the backend runs, as its SQL text

struct postgres_fixture {
  static constexpr std::string_view name = "postgres";
  static constexpr ormkit::errc failed_rename_code = ormkit::errc::schema_mismatch;  // SQLSTATE 42703
  static constexpr bool runs_sql = true;

  explicit postgres_fixture(ormkit::postgres::options o) : scratch(std::move(o)), db(*scratch.db) {}

  postgres_test::scratch_schema scratch;
  ormkit::postgres::backend& db;
  statement_log log;

  auto columns(const std::string& table) -> std::vector<std::string> {
    return names(db,
                 "SELECT a.attname::text FROM pg_catalog.pg_attribute a WHERE a.attrelid = " + std::string(table_oid) +
                     " AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
                 table);
  }

  // "(col,...) index[u](col,...) ..." per table: the indexes but the primary key's.
  auto snapshot() -> std::map<std::string, std::string> {
    std::map<std::string, std::string> out;
    auto tables = db.query(
                        "SELECT c.relname::text FROM pg_catalog.pg_class c WHERE c.relkind = 'r' AND c.relname <> "
                        "'ormkit_migrations' AND c.relnamespace = (SELECT n.oid FROM pg_catalog.pg_namespace n WHERE "
                        "n.nspname = pg_catalog.current_schema())")
                      .value();
    for (const auto& t : tables) {
      const std::string table = text(t.at(0));
      std::string desc = "(" + join(columns(table)) + ")";
      std::array<ormkit::value_view, 1> p{std::string_view(table)};
      auto indexes = db.query(
                           "SELECT ic.relname::text, x.indisunique, x.indexrelid::int8 FROM pg_catalog.pg_index x JOIN "
                           "pg_catalog.pg_class ic ON ic.oid = x.indexrelid WHERE NOT x.indisprimary AND x.indrelid = " +
                               std::string(table_oid) + " ORDER BY ic.relname::text COLLATE \"C\"",
                           p)
                         .value();
      for (const auto& i : indexes) {
        std::array<ormkit::value_view, 1> q{std::get<std::int64_t>(i.at(2))};
        std::vector<std::string> ixcols;
        for (const auto& c : db.query("SELECT a.attname::text FROM pg_catalog.pg_index x CROSS JOIN LATERAL "
                                      "pg_catalog.unnest(x.indkey::int2[]) WITH ORDINALITY AS k(n, o) JOIN "
                                      "pg_catalog.pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n "
                                      "WHERE x.indexrelid = $1::oid ORDER BY k.o",
                                      q)
                                 .value())
          ixcols.push_back(text(c.at(0)));
        desc += " " + text(i.at(0)) + (std::get<std::int64_t>(i.at(1)) ? "[u]" : "") + "(" + join(ixcols) + ")";
      }
      out[table] = desc;
    }
    return out;
  }

  auto history() -> std::vector<int> {
    std::vector<int> out;
    if (columns("ormkit_migrations").empty()) return out;
    for (const auto& r : db.query("SELECT version FROM ormkit_migrations ORDER BY version").value())
      out.push_back(static_cast<int>(std::get<std::int64_t>(r.at(0))));
    return out;
  }

  auto make_migrator(std::vector<ormkit::migration_step> steps) -> ormkit::migrator {
    return ormkit::migrator(db, std::move(steps));
  }

  // What ran, as the backend's statement observer saw it: transaction control, the lock,
  // the history and catalog reads aside.
  void record() {
    log.sql.clear();
    db.observe_statements(&log);
  }
  auto recorded() -> std::vector<std::string> {
    db.observe_statements(nullptr);
    std::vector<std::string> out;
    for (const auto& s : std::exchange(log.sql, {})) {
      if (s.starts_with("BEGIN") || s.starts_with("COMMIT") || s.starts_with("ROLLBACK") ||
          s.find("ormkit_migrations") != std::string::npos || s.find("pg_advisory_xact_lock") != std::string::npos ||
          s.find("pg_catalog.") != std::string::npos)
        continue;
      out.push_back(s);
    }
    return out;
  }
  // The plan's statements: each one is one call (SQL text too, as given).
  static auto planned(const std::vector<ormkit::planned_step>& plan) -> std::vector<std::string> {
    std::vector<std::string> out;
    for (const auto& p : plan)
      for (const auto& s : p.statements)
        if (!s.starts_with("--")) out.push_back(s);
    return out;
  }
};

//=== the cases every backend runs ===//

TEST_CASE("each step kind up and down, on PostgreSQL", "[postgres][migration]") {
  auto opts = postgres_test::server_options();
  if (!opts) return;
  postgres_fixture f(*opts);
  each_step_kind_up_and_down(f);
}

TEST_CASE("a step failing halfway leaves schema, rows and history unchanged, on PostgreSQL", "[postgres][migration]") {
  auto opts = postgres_test::server_options();
  if (!opts) return;
  postgres_fixture f(*opts);
  failing_halfway_changes_nothing(f);
}

TEST_CASE("plan() is what migrate() runs, on PostgreSQL", "[postgres][migration]") {
  auto opts = postgres_test::server_options();
  if (!opts) return;
  postgres_fixture f(*opts);
  plan_is_what_migrate_runs(f);
}

TEST_CASE("destructive steps are refused unless allowed, on PostgreSQL", "[postgres][migration]") {
  auto opts = postgres_test::server_options();
  if (!opts) return;
  postgres_fixture f(*opts);
  destructive_steps_refused_unless_allowed(f);
}

TEST_CASE("an applied step whose checksum changed is refused, on PostgreSQL", "[postgres][migration]") {
  auto opts = postgres_test::server_options();
  if (!opts) return;
  postgres_fixture f(*opts);
  changed_checksums_refused(f);
}

//=== PostgreSQL's own ===//

auto scalar(ormkit::postgres::backend& db, const std::string& sql) -> std::int64_t {
  return std::get<std::int64_t>(db.query(sql).value().at(0).at(0));
}

// Steps whose every run leaves a row in mg_runs, so a step run twice shows.
auto counted_steps() -> std::vector<ormkit::migration_step> {
  auto steps = ormkit::steps_for<tag>();  // 1: mg_tags
  steps.push_back(ormkit::sql_step(2, "runs", R"(CREATE TABLE "mg_runs" ("version" BIGINT NOT NULL))"));
  for (int v = 3; v <= 6; ++v)
    steps.push_back(ormkit::sql_step(v, "step " + std::to_string(v),
                                     "INSERT INTO \"mg_runs\" VALUES (" + std::to_string(v) +
                                         "); SELECT pg_catalog.pg_sleep(0.01)"));
  steps.push_back(ormkit::code_step(7, "seed", "seed v1", [](ormkit::postgres::backend& db) -> ormkit::status {
    ORMKIT_TRY(db.execute(R"(INSERT INTO "mg_runs" VALUES (7))"));
    ormkit::repository<tag> tags(db);
    auto added = tags.insert({0, "root"});
    if (!added) return std::move(added).error();
    return {};
  }));
  return steps;
}

TEST_CASE("two processes migrating one schema at once: both succeed, each step runs once", "[postgres][migration]") {
  auto opts = postgres_test::server_options();
  if (!opts) return;
  for (int round = 0; round < 3; ++round) {
    INFO("round " << round);
    postgres_fixture f(*opts);
    int go[2];
    REQUIRE(::pipe(go) == 0);
    std::array<pid_t, 2> children{};
    for (auto& child : children) {
      child = ::fork();
      REQUIRE(child >= 0);
      if (child == 0) {  // no Catch2 here: exit codes 10 + steps run, or 1
        ::close(go[1]);
        int code = 1;
        {
          auto db = ormkit::postgres::backend::open(f.scratch.options());
          if (db) {
            ormkit::migrator m(**db, counted_steps());
            char c = 0;
            if (::read(go[0], &c, 1) == 1)
              if (auto ran = m.migrate()) code = 10 + static_cast<int>(*ran);
          }
        }
        ::_exit(code);
      }
    }
    ::close(go[0]);
    const char start[2] = {'g', 'g'};
    CHECK(::write(go[1], start, 2) == 2);
    ::close(go[1]);
    int ran = 0;
    for (pid_t child : children) {
      int status = 0;
      REQUIRE(::waitpid(child, &status, 0) == child);
      REQUIRE(WIFEXITED(status));
      CHECK(WEXITSTATUS(status) >= 10);
      ran += WEXITSTATUS(status) - 10;
    }
    CHECK(ran == 7);
    CHECK(f.history() == std::vector<int>{1, 2, 3, 4, 5, 6, 7});
    std::vector<std::string> runs;
    for (const auto& r : f.db.query(R"(SELECT "version", count(*) FROM "mg_runs" GROUP BY 1 ORDER BY 1)").value())
      runs.push_back(std::to_string(std::get<std::int64_t>(r.at(0))) + "x" + std::to_string(std::get<std::int64_t>(r.at(1))));
    CHECK(runs == std::vector<std::string>{"3x1", "4x1", "5x1", "6x1", "7x1"});
    CHECK(scalar(f.db, R"(SELECT count(*) FROM "mg_tags")") == 1);
    CHECK(ormkit::drift<tag>(f.db).value().empty());
  }
}

TEST_CASE("the history table: its columns, in the connection's schema, created only when a step runs",
          "[postgres][migration]") {
  auto opts = postgres_test::server_options();
  if (!opts) return;
  postgres_fixture f(*opts);
  ormkit::migrator m(f.db, counted_steps());
  CHECK(m.plan().value().size() == 7);
  CHECK(m.status().value().count(ormkit::migration_state::kind::pending) == 7);
  CHECK(f.columns("ormkit_migrations").empty());  // plan and status created nothing

  CHECK(m.migrate_to(3).value() == 3);
  std::array<ormkit::value_view, 1> p{std::string_view("ormkit_migrations")};
  std::vector<std::string> shape;
  for (const auto& r : f.db.query("SELECT a.attname::text || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod) || "
                                  "CASE WHEN a.attnotnull THEN ' not null' ELSE '' END FROM pg_catalog.pg_attribute a "
                                  "WHERE a.attrelid = " +
                                      std::string(table_oid) + " AND a.attnum > 0 ORDER BY a.attnum",
                                  p)
                           .value())
    shape.push_back(text(r.at(0)));
  CHECK(shape == std::vector<std::string>{"version bigint not null", "name text not null", "checksum text not null",
                                          "applied_at bigint not null", "duration_ms bigint not null"});
  auto st = m.status().value();
  CHECK(st.current_version == 3);
  CHECK(st.steps.at(2).name == "step 3");
  CHECK(st.steps.at(2).applied_at > 1'700'000'000);
  CHECK(st.steps.at(2).duration_ms >= 10);  // it slept 10 ms
  CHECK(scalar(f.db, R"(SELECT count(*) FROM "mg_runs")") == 1);
}

TEST_CASE("migrated tables are the ones the backend would create, every column type: no drift",
          "[postgres][migration]") {
  auto opts = postgres_test::server_options();
  if (!opts) return;
  using namespace ormkit_test;
  postgres_fixture migrated(*opts);
  postgres_fixture created(*opts);
  ormkit::migrator(migrated.db, ormkit::steps_for<tenant, membership, all_types>()).migrate().value();
  CHECK(ormkit::drift<tenant, membership, all_types>(migrated.db).value().empty());

  // The backend creates what is missing on first use: the migrated schema leaves it nothing.
  migrated.record();
  ormkit::repository<tenant>(migrated.db).insert({0, "acme"}).value();
  ormkit::repository<membership>(migrated.db).insert(make_membership(1, "ann", "admin", 1)).value();
  CHECK(ormkit::repository<all_types>(migrated.db).count().value() == 0);
  for (const auto& s : migrated.recorded()) CHECK_FALSE(s.find("CREATE") != std::string::npos);

  ormkit::repository<tenant>(created.db).count().value();
  ormkit::repository<membership>(created.db).count().value();
  ormkit::repository<all_types>(created.db).count().value();
  CHECK(migrated.snapshot() == created.snapshot());
  CHECK(ormkit::drift<tenant, membership, all_types>(created.db).value().empty());
}

TEST_CASE("drift reads the catalog: types, nullability, indexes, foreign keys; it changes nothing",
          "[postgres][migration]") {
  auto opts = postgres_test::server_options();
  if (!opts) return;
  postgres_fixture f(*opts);
  f.db.execute(R"(CREATE TABLE "mg_tags" ("id" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,)"
               R"( "name" TEXT COLLATE "C" NOT NULL);)"
               R"(CREATE UNIQUE INDEX "uq_mg_tags_name" ON "mg_tags" ("name");)"
               R"(CREATE TABLE "mg_things" ("id" BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,)"
               R"( "code" TEXT NOT NULL, "label" BIGINT REFERENCES "mg_tags" ("id"), "rank" BIGINT NOT NULL DEFAULT 5,)"
               R"( "extra" BYTEA);)"
               R"(CREATE INDEX "uq_mg_things_code" ON "mg_things" ("code");)"
               R"(CREATE INDEX "ix_mg_things_rank" ON "mg_things" ("code", "rank");)"
               R"(CREATE INDEX "ix_mg_other" ON "mg_things" (("rank" + 1));)")
      .value();
  const auto before = f.snapshot();
  auto diffs = ormkit::drift<thing, tag, thing_v1>(f.db).value();
  std::vector<std::string> messages;
  for (const auto& d : diffs) messages.push_back(d.message);
  CHECK(messages == std::vector<std::string>{
                        R"(mg_things.code: type is text COLLATE "default", the descriptor says text COLLATE "C")",
                        R"(mg_things.label: type is bigint, the descriptor says text COLLATE "C")",
                        "mg_things.label: nullable in the database, NOT NULL in the descriptor",
                        "mg_things.note: column is missing",
                        "mg_things.extra: column is not in the descriptor",
                        "mg_things: index uq_mg_things_code is not unique in the database, unique in the descriptor",
                        "mg_things: index ix_mg_things_rank covers (code, rank) in the database, (rank) in the descriptor",
                        "mg_things: index ix_mg_other is not in the descriptor",
                        "mg_things.label: references mg_tags.id in the database, not in the descriptor",
                        // mg_tags agrees; thing_v1 is the same table, fewer columns
                        R"(mg_things.code: type is text COLLATE "default", the descriptor says text COLLATE "C")",
                        R"(mg_things.label: type is bigint, the descriptor says text COLLATE "C")",
                        "mg_things.label: nullable in the database, NOT NULL in the descriptor",
                        "mg_things.rank: column is not in the descriptor",
                        "mg_things.extra: column is not in the descriptor",
                        "mg_things: index uq_mg_things_code is not unique in the database, unique in the descriptor",
                        "mg_things: index ix_mg_other is not in the descriptor",
                        "mg_things: index ix_mg_things_rank is not in the descriptor",
                        "mg_things.label: references mg_tags.id in the database, not in the descriptor",
                    });
  using kind = ormkit::schema_difference::kind;
  REQUIRE(diffs.size() >= 9);
  CHECK(diffs[0].what == kind::type_mismatch);
  CHECK(diffs[2].what == kind::nullability_mismatch);
  CHECK(diffs[3].what == kind::missing_column);
  CHECK(diffs[4].what == kind::extra_column);
  CHECK(diffs[5].what == kind::index_mismatch);
  CHECK(diffs[6].what == kind::index_columns_mismatch);
  CHECK(diffs[7].what == kind::extra_index);
  CHECK(diffs[8].what == kind::extra_foreign_key);
  CHECK(f.snapshot() == before);

  // A table that is not there; a foreign key the database lacks or points elsewhere.
  f.db.execute(R"(DROP TABLE "mg_things"; CREATE TABLE "mg_children" ("id" BIGINT PRIMARY KEY,)"
               R"( "parent" BIGINT NOT NULL, "tag" BIGINT NOT NULL REFERENCES "mg_tags" ("id"));)")
      .value();
  auto more = ormkit::drift<thing, child>(f.db).value();
  REQUIRE(more.size() == 3);
  CHECK(more[0].what == kind::missing_table);
  CHECK(more[0].message == "mg_things: table is missing");
  CHECK(more[1].message == "mg_children.parent: no foreign key in the database, the descriptor references mg_things.id");
  CHECK(more[1].what == kind::missing_foreign_key);
  CHECK(more[2].message == "mg_children.tag: references mg_tags.id in the database, the descriptor says mg_things.id");
  CHECK(more[2].what == kind::foreign_key_mismatch);
}

TEST_CASE("migrations on a pool run on one borrowed connection, returned afterwards", "[postgres][migration]") {
  auto opts = postgres_test::server_options();
  if (!opts) return;
  postgres_fixture f(*opts);
  auto pool = ormkit::postgres::pool::open({.connection = f.scratch.options(), .max_size = 2}).value();
  {
    ormkit::migrator m(*pool, counted_steps());
    CHECK(pool->statistics().in_use == 1);
    CHECK(m.migrate().value() == 7);
    CHECK(ormkit::drift<tag>(*pool).value().empty());
  }
  CHECK(pool->statistics().in_use == 0);
  CHECK(f.history() == std::vector<int>{1, 2, 3, 4, 5, 6, 7});
  CHECK(ormkit::repository<tag>(*pool).count().value() == 1);
}

}  // namespace postgres_migration_test
