// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// The migration engine on the memory backend: SQL text refused naming the step
// (before anything runs, in plans and rollbacks too), C++ steps written for
// another backend type refused, history kept in the backend and its JSON file, a
// failing step leaving the file untouched, migrated tables taking the entity's
// column order, the schema-change primitives checking their input and undoing
// with transactions, drift, two threads migrating at once, and data saved before
// indexes were recorded.

#include <ormkit/memory.hpp>
#include <ormkit/memory/json_file.hpp>
#include <ormkit/migration.hpp>
#include <ormkit/migration/memory.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/transaction.hpp>

#include "../support/catch.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace memory_migration_test {

namespace fs = std::filesystem;

struct member {
  std::int64_t id{};
  std::string email{};
  std::optional<std::string> nickname{};  // added in version 2, declared in the middle
  std::string name{};
  std::int64_t level{};

  friend constexpr auto ormkit_describe(std::type_identity<member>) {
    using namespace ormkit;
    return describe<member>("mm_members")
        .column(&member::id, "id", primary_key, auto_increment)
        .column(&member::email, "email", unique)
        .column(&member::nickname, "nickname", since(2))
        .column(&member::name, "name")
        .column(&member::level, "level", since(3), default_value(1))
        .index("ix_mm_members_nickname", &member::nickname);
  }
};

struct member_v1 {
  std::int64_t id{};
  std::string email{};
  std::string name{};

  friend constexpr auto ormkit_describe(std::type_identity<member_v1>) {
    using namespace ormkit;
    return describe<member_v1>("mm_members")
        .column(&member_v1::id, "id", primary_key, auto_increment)
        .column(&member_v1::email, "email", unique)
        .column(&member_v1::name, "name");
  }
};

struct mm_team {
  std::int64_t id{};
  std::string name{};

  friend constexpr auto ormkit_describe(std::type_identity<mm_team>) {
    using namespace ormkit;
    return describe<mm_team>("mm_teams").column(&mm_team::id, "id", primary_key, auto_increment).column(&mm_team::name, "name");
  }
};

struct mm_player {
  std::int64_t id{};
  std::int64_t team_id{};

  friend constexpr auto ormkit_describe(std::type_identity<mm_player>) {
    using namespace ormkit;
    return describe<mm_player>("mm_players")
        .column(&mm_player::id, "id", primary_key, auto_increment)
        .column(&mm_player::team_id, "team_id", references<&mm_team::id>);
  }
};

struct other_backend {};  // a backend type the memory backend is not

struct temp_dir {
  fs::path path;
  temp_dir() : path(fs::temp_directory_path() / ("ormkit-memory-migration-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~temp_dir() { fs::remove_all(path); }
};

auto read_file(const fs::path& p) -> std::string {
  std::ifstream in(p, std::ios::binary);
  std::stringstream buf;
  buf << in.rdbuf();
  return buf.str();
}

template <class T>
auto done(ormkit::result<T> r) -> ormkit::status {
  if (!r) return std::move(r).error();
  return {};
}

auto columns(ormkit::memory::backend& db, std::string_view table) -> std::vector<std::string> {
  auto d = db.describe_table(table);
  return d ? d->columns : std::vector<std::string>{};
}

TEST_CASE("SQL text is refused on memory, naming the step, before anything runs", "[migration][memory]") {
  ormkit::memory::backend db;
  auto steps = ormkit::steps_for<member>();
  steps.push_back(ormkit::sql_step(4, "raise levels", R"(UPDATE "mm_members" SET "level" = 2)"));
  ormkit::migrator m(db, steps);
  const std::string why = "migration 4 \"raise levels\": is SQL text; the memory backend runs only structured and C++ steps";

  auto r = m.migrate();
  REQUIRE_FALSE(r);
  CHECK(r.error().is(ormkit::errc::unsupported));
  CHECK(r.error().message == why);
  CHECK(db.table_names().empty());  // not even step 1 ran, nor was the history made
  CHECK(m.plan().error().message == why);
  CHECK(m.migrate_to(3).value() == 3);
  CHECK(m.migrate().error().message == why);

  // A structured up with a SQL down: rolling it back is refused the same way.
  ormkit::memory::backend db2;
  ormkit::migrator back(db2, {ormkit::action_step(1, "t", {ormkit::migration_ops::create_table{
                                                             ormkit::table_definition::of<member_v1>()}},
                                                  ormkit::migration_action{ormkit::migration_ops::sql{"DROP TABLE x"}})});
  CHECK(back.migrate().value() == 1);
  auto undo = back.rollback_to(0);
  REQUIRE_FALSE(undo);
  CHECK(undo.error().message == "migration 1 \"t\": is SQL text; the memory backend runs only structured and C++ steps");
  CHECK(back.plan_rollback(0).error().is(ormkit::errc::unsupported));
  CHECK(db2.has_table("mm_members"));
}

TEST_CASE("C++ steps: the memory backend itself, any backend, or refused when written for another type",
          "[migration][memory]") {
  ormkit::memory::backend db;
  int ran = 0;
  auto steps = ormkit::steps_for<member_v1>();
  steps.push_back(ormkit::code_step(2, "native", "n", [&](ormkit::memory::backend& b) -> ormkit::status {
    ++ran;
    CHECK(b.in_transaction());
    return done(ormkit::repository<member_v1>(b).insert({0, "a@x", "A"}));
  }));
  steps.push_back(ormkit::code_step(3, "any", "a", [&](ormkit::backend_ref b) -> ormkit::status {
    ++ran;
    CHECK(b.name() == "memory");
    // transact() inside a step nests as a savepoint of the step's transaction.
    return ormkit::transact(b, [&](ormkit::transaction& tx) -> ormkit::status {
      CHECK(tx.level() == 2);
      return done(ormkit::repository<member_v1>(b).insert({0, "b@x", "B"}));
    });
  }));
  ormkit::migrator m(db, steps);
  CHECK(m.migrate().value() == 3);
  CHECK(ran == 2);
  CHECK(db.row_count("mm_members") == 2);

  steps.push_back(ormkit::code_step(4, "other", "o", [&](other_backend&) -> ormkit::status {
    ++ran;
    return {};
  }));
  auto r = ormkit::migrator(db, steps).migrate();
  REQUIRE_FALSE(r);
  CHECK(r.error().is(ormkit::errc::unsupported));
  CHECK(r.error().message ==
        "migration 4 \"other\": is a C++ function written for another backend type; this migrator runs on the memory "
        "backend");
  CHECK(ran == 2);
}

TEST_CASE("history lives in the backend and in its JSON file; a failing step leaves the file as it was",
          "[migration][memory]") {
  temp_dir dir;
  const auto path = dir.path / "app.json";
  auto steps = ormkit::steps_for<member>();
  {
    ormkit::memory::backend db({.store = ormkit::memory::json_file(path)});
    ormkit::migrator m(db, steps);
    CHECK(m.migrate_to(2).value() == 2);
  }
  {
    ormkit::memory::backend db({.store = ormkit::memory::json_file(path)});
    ormkit::migrator m(db, steps);
    auto st = m.status().value();
    CHECK(st.current_version == 2);
    CHECK(st.count(ormkit::migration_state::kind::applied) == 2);
    CHECK(st.steps[0].applied_at > 1'700'000'000);
    CHECK(columns(db, "mm_members") == std::vector<std::string>{"id", "email", "nickname", "name"});
    CHECK(m.migrate().value() == 1);

    // A failing step: the file keeps every byte.
    const std::string saved = read_file(path);
    auto failing = steps;
    failing.push_back(ormkit::code_step(4, "fails", "f", [](ormkit::migration_context& cx) -> ormkit::status {
      ORMKIT_TRY(done(ormkit::repository<member>(cx.backend()).insert({0, "z@x", "zed", "Z", 3})));
      return ormkit::unexpected(ormkit::errc::invalid_argument, "no");
    }));
    auto r = ormkit::migrator(db, failing).migrate();
    REQUIRE_FALSE(r);
    CHECK(r.error().message == "migration 4 \"fails\": no");
    CHECK(read_file(path) == saved);
    CHECK(ormkit::migrator(db, failing).status().value().current_version == 3);
  }
  {
    ormkit::memory::backend db({.store = ormkit::memory::json_file(path)});
    auto st = ormkit::migrator(db, steps).status().value();
    CHECK(st.current_version == 3);
    CHECK(ormkit::drift<member>(db).value().empty());
    ormkit::repository<member> members(db);
    auto ann = members.insert({0, "ann@x", "annie", "Ann", 2}).value();
    CHECK(members.get(ann.id).value().nickname == "annie");
    CHECK(members.insert({0, "ann@x", std::nullopt, "Ann 2", 1}).error().is(ormkit::errc::conflict));
  }
  const std::string file = read_file(path);
  CHECK(file.find("\"ormkit_migrations\"") != std::string::npos);
  CHECK(file.find("\"ix_mm_members_nickname\"") != std::string::npos);
}

TEST_CASE("migrated memory tables take the entity's column order; defaults fill existing rows", "[migration][memory]") {
  ormkit::memory::backend db;
  ormkit::migrator m(db, ormkit::steps_for<member>());
  m.migrate_to(1).value();
  ormkit::repository<member_v1>(db).insert({0, "a@x", "A"}).value();
  CHECK(columns(db, "mm_members") == std::vector<std::string>{"id", "email", "name"});
  m.migrate().value();
  CHECK(columns(db, "mm_members") == std::vector<std::string>{"id", "email", "nickname", "name", "level"});
  auto all = ormkit::repository<member>(db).find_all().value();
  REQUIRE(all.size() == 1);
  CHECK(all[0].level == 1);
  CHECK_FALSE(all[0].nickname);
  CHECK(all[0].name == "A");
  CHECK(ormkit::drift<member>(db).value().empty());
}

TEST_CASE("memory schema changes check their input and change nothing when they fail", "[migration][memory]") {
  ormkit::memory::backend db;
  ormkit::repository<member_v1> members(db);
  members.insert({0, "a@x", "A"}).value();
  members.insert({0, "b@x", "A"}).value();
  auto same = [&] {
    CHECK(columns(db, "mm_members") == std::vector<std::string>{"id", "email", "name"});
    CHECK(members.find_all().value().size() == 2);
  };

  auto e = db.add_column("mm_members", "level", ormkit::value{}, false);
  CHECK(e.error().is(ormkit::errc::invalid_argument));
  CHECK(e.error().message ==
        "mm_members.level: a NOT NULL column without a default cannot be added to a table with rows (2); give it a "
        "default");
  same();
  CHECK(db.add_column("mm_members", "name", ormkit::value{}, true).error().message == "mm_members.name: the column exists");
  CHECK(db.add_column("nope", "x", ormkit::value{}, true).error().message == "nope.x: no such table nope");
  e = db.create_index("mm_members", {"uq_name", {"name"}, true});
  CHECK(e.error().is(ormkit::errc::conflict));
  CHECK(e.error().message ==
        "mm_members.name: value \"A\" appears in more than one row; cannot create unique index uq_name");
  CHECK(db.create_index("mm_members", {"ix_x", {"nope"}, false}).error().message ==
        "mm_members: index ix_x names column nope, which the table lacks");
  CHECK(db.rename_column("mm_members", "name", "email").error().message ==
        "mm_members.name: cannot rename it to email, which is another column");
  CHECK(db.rename_column("mm_members", "nope", "x").error().is(ormkit::errc::schema_mismatch));
  CHECK(db.drop_column("mm_members", "id").error().message ==
        "mm_members.id: is part of the primary key; it cannot be dropped");
  CHECK(db.drop_column("mm_members", "nope").error().message == "mm_members.nope: no such column");
  CHECK(db.rename_table("nope", "x").error().message == "nope: no such table (renaming it to x)");
  db.create_table("mm_other", {"a"}).value();
  CHECK(db.rename_table("mm_members", "mm_other").error().message ==
        "mm_other: a table of that name exists (renaming mm_members)");
  CHECK(db.create_table("mm_bad", {"a", "a"}).error().message == "mm_bad: column a appears twice");
  CHECK(db.create_table("mm_bad", {}).error().is(ormkit::errc::invalid_argument));
  CHECK_FALSE(db.has_table("mm_bad"));
  same();

  // Inside a transaction every change is undone by rollback, rows and schema together.
  REQUIRE(db.begin());
  db.add_column("mm_members", "level", ormkit::value{std::int64_t{7}}, false, "email").value();
  db.rename_column("mm_members", "name", "full_name").value();
  db.create_index("mm_members", {"ix_level", {"level"}, false}).value();
  db.rename_table("mm_members", "mm_people").value();
  db.drop_table("mm_other").value();
  db.drop_column("mm_people", "email").value();
  CHECK(columns(db, "mm_people") == std::vector<std::string>{"id", "level", "full_name"});
  CHECK_FALSE(db.has_table("mm_members"));
  REQUIRE(db.rollback());
  same();
  CHECK(db.has_table("mm_other"));
  CHECK_FALSE(db.has_table("mm_people"));
  auto d = db.describe_table("mm_members").value();
  REQUIRE(d.indexes.size() == 1);
  CHECK(d.indexes[0].name == "uq_mm_members_email");
  // The unique key still holds after the undo.
  CHECK(members.insert({0, "a@x", "again"}).error().is(ormkit::errc::conflict));

  // Outside a transaction each change stands on its own.
  db.add_column("mm_members", "level", ormkit::value{std::int64_t{7}}, false, "email").value();
  CHECK(columns(db, "mm_members") == std::vector<std::string>{"id", "email", "level", "name"});
  CHECK(db.drop_index("uq_mm_members_email"));
  CHECK(db.drop_index("uq_mm_members_email"));  // IF EXISTS
  CHECK(db.describe_table("mm_members")->indexes.empty());
}

TEST_CASE("drift on memory lists tables, columns and indexes that differ, and changes nothing", "[migration][memory]") {
  ormkit::memory::backend db;
  CHECK(ormkit::drift<member>(db).value().size() == 1);
  CHECK(ormkit::drift<member>(db).value()[0].message == "mm_members: table is missing");
  CHECK(db.table_names().empty());

  ormkit::migrator(db, ormkit::steps_for<member>()).migrate_to(1).value();
  db.add_column("mm_members", "extra", ormkit::value{}, true).value();
  db.create_index("mm_members", {"ix_mm_members_name", {"name"}, false}).value();
  db.drop_index("uq_mm_members_email").value();
  db.create_index("mm_members", {"uq_mm_members_email", {"email", "name"}, false}).value();
  auto diffs = ormkit::drift<member>(db).value();
  std::vector<std::string> messages;
  for (const auto& d : diffs) messages.push_back(d.message);
  CHECK(messages == std::vector<std::string>{
                        "mm_members.nickname: column is missing",
                        "mm_members.level: column is missing",
                        "mm_members.extra: column is not in the descriptor",
                        "mm_members: index uq_mm_members_email is not unique in the database, unique in the descriptor",
                        "mm_members: index uq_mm_members_email covers (email, name) in the database, (email) in the "
                        "descriptor",
                        "mm_members: index ix_mm_members_nickname is missing",
                        "mm_members: index ix_mm_members_name is not in the descriptor",
                    });
  using kind = ormkit::schema_difference::kind;
  REQUIRE(diffs.size() == 7);
  CHECK(diffs[3].what == kind::index_mismatch);
  CHECK(diffs[4].what == kind::index_columns_mismatch);
  CHECK(diffs[6].what == kind::extra_index);
  CHECK(columns(db, "mm_members") == std::vector<std::string>{"id", "email", "name", "extra"});
}

TEST_CASE("two migrators on one memory backend at once: both succeed, each step runs once", "[migration][memory]") {
  for (int round = 0; round < 8; ++round) {
    ormkit::memory::backend db;
    std::atomic<int> seed_runs{0};
    auto steps = [&] {
      auto s = ormkit::steps_for<member>();
      s.push_back(ormkit::code_step(4, "seed", "seed v1", [&](ormkit::memory::backend& b) -> ormkit::status {
        ++seed_runs;
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
        return done(ormkit::repository<member>(b).insert({0, "root@x", std::nullopt, "root", 9}));
      }));
      return s;
    };
    ormkit::migrator ma(db, steps());
    ormkit::migrator mb(db, steps());
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
    CHECK(db.row_count("mm_members") == 1);
    CHECK(ormkit::migrator(db, steps()).status().value().current_version == 4);
  }
}

TEST_CASE("migrate() inside a transaction is refused", "[migration][memory]") {
  ormkit::memory::backend db;
  ormkit::migrator m(db, ormkit::steps_for<member>());
  auto tx = ormkit::transaction::begin(db).value();
  auto r = m.migrate();
  REQUIRE_FALSE(r);
  CHECK(r.error().is(ormkit::errc::transaction_state));
  CHECK(tx.rollback());
  CHECK(m.migrate().value() == 3);
}

TEST_CASE("data saved before indexes were recorded: drift does not guess, first use adopts the entity's",
          "[migration][memory]") {
  temp_dir dir;
  const auto path = dir.path / "old.json";
  {
    std::ofstream out(path);
    out << R"({"format":"ormkit-memory","version":1,"tables":{"mm_members":{"columns":["id","email","name"],)"
        << R"("next_id":2,"rows":[[1,"a@x","A"]]}}})";
  }
  ormkit::memory::backend db({.store = ormkit::memory::json_file(path)});
  CHECK_FALSE(db.describe_table("mm_members")->indexes_known);
  CHECK(ormkit::drift<member_v1>(db).value().empty());
  CHECK(ormkit::repository<member_v1>(db).count().value() == 1);
  auto d = db.describe_table("mm_members").value();
  CHECK(d.indexes_known);
  REQUIRE(d.indexes.size() == 1);
  CHECK(d.indexes[0].name == "uq_mm_members_email");
  CHECK(ormkit::drift<member_v1>(db).value().empty());
  REQUIRE(db.flush());
  CHECK(read_file(path).find(R"("indexes":[{"columns":["email"],"name":"uq_mm_members_email","unique":true}])") !=
        std::string::npos);

  // A malformed index list is corruption, not an empty one.
  {
    std::ofstream out(dir.path / "bad.json");
    out << R"({"format":"ormkit-memory","version":1,"tables":{"t":{"columns":["a"],"next_id":1,"rows":[],)"
        << R"("indexes":[{"name":"ix","columns":"a","unique":false}]}}})";
  }
  auto bad = ormkit::memory::backend::open({.store = ormkit::memory::json_file(dir.path / "bad.json")});
  REQUIRE_FALSE(bad);
  CHECK(bad.error().is(ormkit::errc::corrupt));
  CHECK(bad.error().message.find("table t has a malformed index") != std::string::npos);
}

TEST_CASE("malformed actions are refused before anything runs, naming the step and the value", "[migration][memory]") {
  ormkit::memory::backend db;
  auto refused = [&](ormkit::migration_step bad, const std::string& message) {
    ormkit::migrator m(db, {ormkit::create_table_step(1, ormkit::table_definition::of<member_v1>()), std::move(bad)});
    auto r = m.migrate();
    REQUIRE_FALSE(r);
    CHECK(r.error().is(ormkit::errc::invalid_argument));
    CHECK(r.error().message == message);
    CHECK(m.plan().error().message == message);
    CHECK(db.table_names().empty());
  };
  refused(ormkit::rename_column_step(2, "mm_members", "name", "full name"),
          "migration 2 \"rename column mm_members.name to full name\": new column name \"full name\" is not a valid "
          "identifier ([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes)");
  refused(ormkit::create_index_step(2, "mm_members", {"ix_empty", {}}),
          "migration 2 \"create index ix_empty\": mm_members: index ix_empty has no columns");
  refused(ormkit::add_column_step(2, "mm_members",
                                  {"level", ormkit::storage::integer, false, ormkit::value{std::string("high")}}),
          "migration 2 \"add column mm_members.level\": mm_members.level: the default \"high\" does not fit the "
          "column's storage (integer)");
  refused(ormkit::action_step(2, "nothing", {}), "migration 2 \"nothing\": has no actions");
  refused(ormkit::action_step(2, "no function", {ormkit::migration_ops::code{}}),
          "migration 2 \"no function\": has no function to run");
  refused(ormkit::sql_step(2, "blank", " ;\n"), "migration 2 \"blank\": has empty SQL text");
  auto twice = ormkit::table_definition::of<member_v1>();
  twice.name = "mm_twice";
  twice.columns.push_back(twice.columns[1]);
  refused(ormkit::create_table_step(2, twice), "migration 2 \"create table mm_twice\": mm_twice: column email appears twice");
  auto keyless = ormkit::table_definition::of<member_v1>();
  keyless.name = "mm_keyless";
  keyless.primary_key = {"nope"};
  refused(ormkit::create_table_step(2, keyless),
          "migration 2 \"create table mm_keyless\": mm_keyless: the primary key names column nope, which the table "
          "lacks");
  CHECK_THROWS_AS(ormkit::index_definition::of<member>("ix_nope"), ormkit::exception);
}

TEST_CASE("drop table on memory: destructive, refused while rows reference it, its down recreates it empty",
          "[migration][memory]") {
  ormkit::memory::backend db;
  ormkit::migrator m(db, {ormkit::create_table_step(1, ormkit::table_definition::of<mm_team>()),
                          ormkit::create_table_step(2, ormkit::table_definition::of<mm_player>()),
                          ormkit::drop_table_step(3, ormkit::table_definition::of<mm_team>())});
  m.migrate_to(2).value();
  auto team = ormkit::repository<mm_team>(db).insert({0, "reds"}).value();
  ormkit::repository<mm_player> players(db);
  auto player = players.insert({0, team.id}).value();

  CHECK(m.migrate().error().message ==
        "migration 3 \"drop table mm_teams\": is destructive (it drops data); call allow_destructive(true) to run it");
  auto r = m.allow_destructive(true).migrate();
  REQUIRE_FALSE(r);
  CHECK(r.error().is(ormkit::errc::conflict));
  CHECK(r.error().message == "migration 3 \"drop table mm_teams\": mm_teams: cannot drop the table: rows of "
                             "mm_players.team_id still reference it (foreign key)");
  CHECK(db.row_count("mm_teams") == 1);
  players.erase(player.id).value();
  CHECK(m.migrate().value() == 1);
  CHECK_FALSE(db.has_table("mm_teams"));
  CHECK(m.rollback_to(2).value() == 1);
  CHECK(db.has_table("mm_teams"));
  CHECK(db.row_count("mm_teams") == 0);
  CHECK(ormkit::drift<mm_team, mm_player>(db).value().empty());
}

}  // namespace memory_migration_test
