// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// SQLite specifics of the migration engine: drop column by table rebuild
// (indexed, unique, foreign-key and referenced columns; the AUTOINCREMENT
// counter, triggers, views and other indexes kept; foreign keys switched off
// around the step and checked before its commit; what cannot be rebuilt refused
// naming the reason, changing nothing), the rebuild's plan, drift over indexes
// and foreign keys, and two processes migrating one file at once.

#include <ormkit/migration.hpp>
#include <ormkit/migration/sqlite.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/sqlite.hpp>

#include "../support/catch.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace sqlite_migration_rebuild_test {

namespace fs = std::filesystem;

auto text(const ormkit::value& v) -> std::string {
  const auto* s = std::get_if<std::string>(&v);
  return s ? *s : std::string("<null>");
}

auto scalar(ormkit::sqlite::backend& db, std::string_view sql) -> std::int64_t {
  return std::get<std::int64_t>(db.query(sql).value().at(0).at(0));
}

auto columns_of(ormkit::sqlite::backend& db, std::string_view table) -> std::vector<std::string> {
  std::array<ormkit::value_view, 1> p{table};
  std::vector<std::string> out;
  for (const auto& c : db.query("SELECT name FROM pragma_table_info(?)", p).value()) out.push_back(text(c[0]));
  return out;
}

// Every schema object's SQL and every row's count: what a refused step must not change.
auto everything(ormkit::sqlite::backend& db) -> std::map<std::string, std::string> {
  std::map<std::string, std::string> out;
  for (const auto& r : db.query("SELECT type, name, sql FROM sqlite_master").value())
    out[text(r[0]) + " " + text(r[1])] = text(r[2]);
  for (const auto& r : db.query("SELECT name FROM sqlite_master WHERE type = 'table'").value())
    out["rows " + text(r[0])] = std::to_string(scalar(db, "SELECT count(*) FROM \"" + text(r[0]) + "\""));
  return out;
}

auto history_versions(ormkit::sqlite::backend& db) -> std::vector<std::int64_t> {
  std::vector<std::int64_t> out;
  if (db.query("SELECT 1 FROM sqlite_master WHERE name = 'ormkit_migrations'").value().empty()) return out;
  for (const auto& r : db.query("SELECT version FROM ormkit_migrations ORDER BY version").value())
    out.push_back(std::get<std::int64_t>(r[0]));
  return out;
}

struct temp_dir {
  fs::path path;
  temp_dir() : path(fs::temp_directory_path() / ("ormkit-rebuild-" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~temp_dir() { fs::remove_all(path); }
};

// A parent with a unique index, a plain index, a table UNIQUE constraint, a trigger and a
// view; a child with two foreign keys to it (one indexed); a table with a CHECK.
constexpr std::string_view schema_v1 =
    R"(CREATE TABLE "rb_parent" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "code" TEXT NOT NULL, "label" TEXT,)"
    R"( "old" TEXT, CONSTRAINT "uq_code_old" UNIQUE ("code", "old"));)"
    "\n"
    R"(CREATE UNIQUE INDEX "uq_rb_parent_label" ON "rb_parent" ("label");)"
    "\n"
    R"(CREATE INDEX "ix_rb_parent_code" ON "rb_parent" ("code");)"
    "\n"
    R"(CREATE TABLE "rb_child" ("id" INTEGER PRIMARY KEY, "parent_id" INTEGER NOT NULL REFERENCES "rb_parent"("id"),)"
    R"( "other_id" INTEGER REFERENCES "rb_parent"("id"), "note" TEXT);)"
    "\n"
    R"(CREATE INDEX "ix_rb_child_other" ON "rb_child" ("other_id");)"
    "\n"
    R"(CREATE TRIGGER "tr_rb_parent_upper" AFTER INSERT ON "rb_parent" BEGIN)"
    R"( UPDATE "rb_parent" SET "code" = upper(NEW."code") WHERE "id" = NEW."id"; END;)"
    "\n"
    R"(CREATE VIEW "rb_codes" AS SELECT "id", "code" FROM "rb_parent";)"
    "\n"
    R"(CREATE TABLE "rb_checked" ("a" INTEGER, "b" INTEGER, CHECK ("b" > 0)))";

auto v1_step() -> ormkit::migration_step {
  return ormkit::sql_step(1, "rebuild fixtures", std::string(schema_v1));
}

void seed(ormkit::sqlite::backend& db) {
  db.execute(R"(INSERT INTO "rb_parent" ("code", "label", "old") VALUES ('a', 'Ann', 'x'), ('b', 'Bob', 'y'),)"
             R"( ('c', 'Cy', 'z');)"
             R"(DELETE FROM "rb_parent" WHERE "id" = 3;)"
             R"(INSERT INTO "rb_child" VALUES (1, 1, 2, 'one'), (2, 2, NULL, 'two'))")
      .value();
}

TEST_CASE("drop column rebuilds the table: indexed, unique, foreign-key and referenced columns",
          "[sqlite][migration]") {
  ormkit::sqlite::backend db;
  std::vector<ormkit::migration_step> steps{
      v1_step(),
      // label: under a unique index, in a table other rows reference.
      ormkit::drop_column_step(2, "rb_parent", ormkit::column_definition{"label", ormkit::storage::text, true}),
      // other_id: a foreign key, indexed.
      ormkit::drop_column_step(3, "rb_child", "other_id"),
      // old: part of a table UNIQUE constraint, which goes with it.
      ormkit::drop_column_step(4, "rb_parent", "old"),
  };
  ormkit::migrator m(db, steps);
  m.allow_destructive(true);
  m.migrate_to(1).value();
  seed(db);

  REQUIRE(m.migrate_to(2).value() == 1);
  CHECK(columns_of(db, "rb_parent") == std::vector<std::string>{"id", "code", "old"});
  auto indexes = [&](std::string_view t) {
    std::array<ormkit::value_view, 1> p{t};
    std::vector<std::string> out;
    for (const auto& r : db.query("SELECT name FROM pragma_index_list(?) ORDER BY name", p).value()) out.push_back(text(r[0]));
    return out;
  };
  CHECK(indexes("rb_parent") == std::vector<std::string>{"ix_rb_parent_code", "sqlite_autoindex_rb_parent_1"});
  CHECK(scalar(db, "PRAGMA foreign_keys") == 1);  // switched back on
  CHECK_FALSE(db.in_transaction());
  // Rows, keys and the AUTOINCREMENT counter survive: id 3 is not reused.
  CHECK(text(db.query(R"(SELECT group_concat("code") FROM "rb_parent")").value().at(0).at(0)) == "A,B");
  db.execute(R"(INSERT INTO "rb_parent" ("code") VALUES ('d'))").value();
  CHECK(scalar(db, R"(SELECT max("id") FROM "rb_parent")") == 4);
  // The trigger came back (it upper-cased 'd'), and the view works.
  CHECK(scalar(db, R"(SELECT count(*) FROM "rb_codes" WHERE "code" = 'D')") == 1);
  // Foreign keys into the rebuilt table still hold, both ways.
  CHECK(db.execute(R"(INSERT INTO "rb_child" VALUES (9, 99, NULL, 'x'))").error().is(ormkit::errc::conflict));
  CHECK(db.execute(R"(DELETE FROM "rb_parent" WHERE "id" = 1)").error().is(ormkit::errc::conflict));
  // The table UNIQUE constraint over (code, old) still holds.
  CHECK(db.execute(R"(INSERT INTO "rb_parent" ("code", "old") VALUES ('A', 'x'))").error().is(ormkit::errc::conflict));

  REQUIRE(m.migrate_to(3).value() == 1);
  CHECK(columns_of(db, "rb_child") == std::vector<std::string>{"id", "parent_id", "note"});
  CHECK(indexes("rb_child").empty());
  CHECK(db.query(R"(SELECT * FROM pragma_foreign_key_list('rb_child'))").value().size() == 1);
  CHECK(scalar(db, R"(SELECT count(*) FROM "rb_child")") == 2);

  REQUIRE(m.migrate_to(4).value() == 1);
  CHECK(columns_of(db, "rb_parent") == std::vector<std::string>{"id", "code"});
  CHECK(indexes("rb_parent") == std::vector<std::string>{"ix_rb_parent_code"});
  CHECK(scalar(db, R"(SELECT count(*) FROM "rb_parent")") == 3);

  // Step 2's down adds label back: its shape, not its data.
  auto undo = m.rollback_to(1);
  REQUIRE_FALSE(undo);  // steps 3 and 4 have no down
  CHECK(undo.error().message == "migration 4 \"drop column rb_parent.old\": has no down step; it cannot be rolled back");
  ormkit::sqlite::backend db2;
  ormkit::migrator m2(db2, {steps[0], steps[1]});
  m2.allow_destructive(true).migrate().value();
  CHECK(m2.rollback_to(1).value() == 1);
  CHECK(columns_of(db2, "rb_parent") == std::vector<std::string>{"id", "code", "old", "label"});
}

TEST_CASE("what drop column cannot rebuild is refused, naming it, and nothing changes", "[sqlite][migration]") {
  ormkit::sqlite::backend db;
  ormkit::migrator(db, {v1_step()}).migrate().value();
  seed(db);
  const auto before = everything(db);
  auto refused = [&](ormkit::migration_step step, ormkit::errc code, const std::string& message) {
    ormkit::migrator m(db, {v1_step(), std::move(step)});
    m.allow_destructive(true);
    auto plan = m.plan();  // the plan works the rebuild out too
    REQUIRE_FALSE(plan);
    CHECK(plan.error().message == message);
    auto r = m.migrate();
    REQUIRE_FALSE(r);
    CHECK(r.error().is(code));
    CHECK(r.error().message == message);
    CHECK(everything(db) == before);
    CHECK(history_versions(db) == std::vector<std::int64_t>{1});
    CHECK(scalar(db, "PRAGMA foreign_keys") == 1);
    CHECK_FALSE(db.in_transaction());
  };
  refused(ormkit::drop_column_step(2, "rb_parent", "id"), ormkit::errc::invalid_argument,
          "migration 2 \"drop column rb_parent.id\": rb_parent.id: is the primary key; drop column cannot remove it");
  refused(ormkit::drop_column_step(2, "rb_parent", "code"), ormkit::errc::invalid_argument,
          "migration 2 \"drop column rb_parent.code\": rb_parent.code: trigger tr_rb_parent_upper uses it; drop or "
          "change the trigger first");
  refused(ormkit::drop_column_step(2, "rb_checked", "b"), ormkit::errc::invalid_argument,
          "migration 2 \"drop column rb_checked.b\": rb_checked.b: a CHECK constraint of rb_checked uses it; change "
          "the table by hand");
  refused(ormkit::drop_column_step(2, "rb_parent", "nope"), ormkit::errc::schema_mismatch,
          "migration 2 \"drop column rb_parent.nope\": rb_parent.nope: no such column");
  refused(ormkit::drop_column_step(2, "rb_nope", "a"), ormkit::errc::schema_mismatch,
          "migration 2 \"drop column rb_nope.a\": rb_nope.a: no such table rb_nope");
  refused(ormkit::drop_column_step(2, "rb parent", "a"), ormkit::errc::invalid_argument,
          "migration 2 \"drop column rb parent.a\": table name \"rb parent\" is not a valid identifier "
          "([A-Za-z_][A-Za-z0-9_]*, at most 63 bytes)");
  db.execute(R"(DROP TRIGGER "tr_rb_parent_upper")").value();
  const auto without_trigger = everything(db);
  ormkit::migrator m(db, {v1_step(), ormkit::drop_column_step(2, "rb_parent", "code")});
  auto r = m.allow_destructive(true).migrate();
  REQUIRE_FALSE(r);
  CHECK(r.error().message ==
        "migration 2 \"drop column rb_parent.code\": rb_parent.code: view rb_codes uses it; drop or change the view "
        "first");
  CHECK(everything(db) == without_trigger);
  // Column a of rb_checked is not in its CHECK: that one goes.
  CHECK(ormkit::migrator(db, {v1_step(), ormkit::drop_column_step(2, "rb_checked", "a")})
            .allow_destructive(true)
            .migrate()
            .value() == 1);
  CHECK(columns_of(db, "rb_checked") == std::vector<std::string>{"b"});
  CHECK(db.execute(R"(INSERT INTO "rb_checked" VALUES (0))").error().message.find("CHECK") != std::string::npos);
}

TEST_CASE("a step that breaks a foreign key while they are off fails at its check and changes nothing",
          "[sqlite][migration]") {
  ormkit::sqlite::backend db;
  ormkit::migrator(db, {v1_step()}).migrate().value();
  seed(db);
  const auto before = everything(db);
  ormkit::migrator m(db, {v1_step(), ormkit::action_step(2, "orphan",
                                                         {ormkit::migration_ops::drop_column{"rb_child", "note"},
                                                          ormkit::migration_ops::sql{
                                                              R"(INSERT INTO "rb_child" VALUES (50, 999, NULL))"}})});
  auto r = m.migrate();
  REQUIRE_FALSE(r);
  CHECK(r.error().is(ormkit::errc::conflict));
  CHECK(r.error().message ==
        "migration 2 \"orphan\": foreign key check failed: rb_child row 50 has no matching row in rb_parent (1 "
        "violation)");
  CHECK(everything(db) == before);
  CHECK(scalar(db, "PRAGMA foreign_keys") == 1);
  CHECK(history_versions(db) == std::vector<std::int64_t>{1});
}

TEST_CASE("the plan of a rebuild: the statements, from a table an earlier pending step creates",
          "[sqlite][migration]") {
  ormkit::sqlite::backend db;
  std::vector<ormkit::migration_step> steps{
      ormkit::sql_step(1, "create t",
                       R"(CREATE TABLE "t" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "a" TEXT, "b" TEXT);)"
                       "\n"
                       R"(CREATE INDEX "ix_a" ON "t" ("a");)"
                       "\n"
                       R"(CREATE INDEX "ix_b" ON "t" ("b"))"),
      ormkit::drop_column_step(2, "t", "b")};
  ormkit::migrator m(db, steps);
  auto plan = m.plan().value();
  REQUIRE(plan.size() == 2);
  CHECK(plan[1].statements == std::vector<std::string>{
                                  R"(CREATE TABLE "ormkit_rebuild_t" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "a" TEXT))",
                                  R"(INSERT INTO "ormkit_rebuild_t" ("id", "a") SELECT "id", "a" FROM "t")",
                                  R"(DELETE FROM "sqlite_sequence" WHERE "name" = 'ormkit_rebuild_t')",
                                  R"(INSERT INTO "sqlite_sequence" ("name", "seq") SELECT 'ormkit_rebuild_t', "seq" FROM "sqlite_sequence" WHERE "name" = 't')",
                                  R"(DROP TABLE "t")",
                                  R"(PRAGMA legacy_alter_table = ON)",
                                  R"(ALTER TABLE "ormkit_rebuild_t" RENAME TO "t")",
                                  R"(PRAGMA legacy_alter_table = OFF)",
                                  R"(CREATE INDEX "ix_a" ON "t" ("a"))",
                              });
  CHECK(plan[1].destructive);
  CHECK(db.query("SELECT name FROM sqlite_master").value().empty());  // the dry run made nothing
  CHECK(m.allow_destructive(true).migrate().value() == 2);
  CHECK(columns_of(db, "t") == std::vector<std::string>{"id", "a"});
}

//=== drift over indexes and foreign keys ===//

struct dr_parent {
  std::int64_t id{};
  std::string name{};
  friend constexpr auto ormkit_describe(std::type_identity<dr_parent>) {
    using namespace ormkit;
    return describe<dr_parent>("dr_parents").column(&dr_parent::id, "id", primary_key, auto_increment).column(&dr_parent::name, "name");
  }
};

struct dr_child {
  std::int64_t id{};
  std::int64_t parent_id{};
  std::int64_t other_id{};
  std::int64_t free_id{};
  std::string label{};
  friend constexpr auto ormkit_describe(std::type_identity<dr_child>) {
    using namespace ormkit;
    return describe<dr_child>("dr_children")
        .column(&dr_child::id, "id", primary_key, auto_increment)
        .column(&dr_child::parent_id, "parent_id", references<&dr_parent::id>)
        .column(&dr_child::other_id, "other_id", references<&dr_parent::id>)
        .column(&dr_child::free_id, "free_id")
        .column(&dr_child::label, "label")
        .index("ix_dr_children_label", &dr_child::label)
        .index("ix_dr_children_pair", &dr_child::parent_id, &dr_child::label);
  }
};

TEST_CASE("drift compares index columns and foreign keys too, and changes nothing", "[sqlite][migration]") {
  ormkit::sqlite::backend db;
  db.execute(R"(CREATE TABLE "dr_parents" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "name" TEXT NOT NULL);)"
             R"(CREATE TABLE "dr_others" ("id" INTEGER PRIMARY KEY);)"
             R"(CREATE TABLE "dr_children" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "parent_id" INTEGER NOT NULL,)"
             R"( "other_id" INTEGER NOT NULL REFERENCES "dr_others"("id"), "free_id" INTEGER NOT NULL REFERENCES "dr_parents",)"
             R"( "label" TEXT NOT NULL);)"
             R"(CREATE INDEX "ix_dr_children_pair" ON "dr_children" ("label", "parent_id");)"
             R"(CREATE INDEX "ix_dr_children_extra" ON "dr_children" ("free_id"))")
      .value();
  const auto before = everything(db);
  auto diffs = ormkit::drift<dr_parent, dr_child>(db).value();
  std::vector<std::string> messages;
  for (const auto& d : diffs) messages.push_back(d.message);
  CHECK(messages ==
        std::vector<std::string>{
            "dr_children: index ix_dr_children_label is missing",
            "dr_children: index ix_dr_children_pair covers (label, parent_id) in the database, (parent_id, label) in "
            "the descriptor",
            "dr_children: index ix_dr_children_extra is not in the descriptor",
            "dr_children.parent_id: no foreign key in the database, the descriptor references dr_parents.id",
            "dr_children.other_id: references dr_others.id in the database, the descriptor says dr_parents.id",
            "dr_children.free_id: references dr_parents.id in the database, not in the descriptor",
        });
  using kind = ormkit::schema_difference::kind;
  REQUIRE(diffs.size() == 6);
  CHECK(diffs[0].what == kind::missing_index);
  CHECK(diffs[1].what == kind::index_columns_mismatch);
  CHECK(diffs[2].what == kind::extra_index);
  CHECK(diffs[3].what == kind::missing_foreign_key);
  CHECK(diffs[4].what == kind::foreign_key_mismatch);
  CHECK(diffs[5].what == kind::extra_foreign_key);
  CHECK(diffs[5].object == "free_id");
  CHECK(everything(db) == before);

  // Tables the steps made agree with their descriptors, foreign keys and indexes included.
  ormkit::sqlite::backend fresh;
  ormkit::migrator(fresh, ormkit::steps_for<dr_parent, dr_child>()).migrate().value();
  CHECK(ormkit::drift<dr_parent, dr_child>(fresh).value().empty());
}

//=== two processes ===//

struct pr_account {
  std::int64_t id{};
  std::string email{};
  std::optional<std::string> nickname{};
  friend constexpr auto ormkit_describe(std::type_identity<pr_account>) {
    using namespace ormkit;
    return describe<pr_account>("pr_accounts")
        .column(&pr_account::id, "id", primary_key, auto_increment)
        .column(&pr_account::email, "email", unique)
        .column(&pr_account::nickname, "nickname", since(2))
        .index("ix_pr_accounts_nickname", &pr_account::nickname);
  }
};

// The steps both processes run: 1-2 from the descriptor, 3 a rebuild, 4 a seed whose
// side effect outside the database (a line appended to `log`) shows how often it ran.
auto race_steps(const std::string& log) -> std::vector<ormkit::migration_step> {
  auto s = ormkit::steps_for<pr_account>();
  s.push_back(ormkit::action_step(3, "drop and re-add nickname",
                                  {ormkit::migration_ops::drop_column{"pr_accounts", "nickname"},
                                   ormkit::migration_ops::add_column{"pr_accounts", {"nickname", ormkit::storage::text, true}, {}},
                                   ormkit::migration_ops::create_index{"pr_accounts", {"ix_pr_accounts_nickname", {"nickname"}}}}));
  s.push_back(ormkit::code_step(4, "seed", "seed v1", [log](ormkit::sqlite::backend& b) -> ormkit::status {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return ormkit::unexpected(ormkit::errc::io_error, "cannot open the log");
    const char line[] = "seed\n";
    auto n = ::write(fd, line, sizeof line - 1);
    ::close(fd);
    if (n != static_cast<ssize_t>(sizeof line - 1)) return ormkit::unexpected(ormkit::errc::io_error, "short write");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // hold the lock a while
    return b.execute(R"(INSERT INTO "pr_accounts" ("email") VALUES ('root@example.com'))");
  }));
  return s;
}

TEST_CASE("two processes migrating one file at once: both succeed, each step runs once", "[sqlite][migration]") {
  temp_dir dir;
  for (int round = 0; round < 10; ++round) {
    const std::string path = (dir.path / ("procs" + std::to_string(round) + ".db")).string();
    const std::string log = (dir.path / ("seed" + std::to_string(round) + ".log")).string();
    // The file exists (in WAL mode) before the race, as an application's does: the race
    // under test is migrate(), not the first open of a new file. (Two processes opening a
    // brand-new file at the same instant can see busy or I/O errors from the WAL switch.)
    REQUIRE(ormkit::sqlite::backend::open({.path = path}));
    int go[2];
    REQUIRE(::pipe(go) == 0);
    std::array<pid_t, 2> pids{};
    for (auto& pid : pids) {
      pid = ::fork();
      REQUIRE(pid >= 0);
      if (pid == 0) {
        // Child: no Catch2 here; the exit status says what happened (0-4: steps it ran).
        ::close(go[1]);
        char c;
        while (::read(go[0], &c, 1) < 0 && errno == EINTR) {
        }
        auto db = ormkit::sqlite::backend::open({.path = path, .busy_timeout = std::chrono::seconds(30)});
        if (!db) {
          std::fprintf(stderr, "child: %s\n", db.error().describe().c_str());
          ::_exit(50);
        }
        ormkit::migrator m(**db, race_steps(log));
        m.allow_destructive(true);
        auto ran = m.migrate();
        if (!ran) {
          std::fprintf(stderr, "child: %s\n", ran.error().describe().c_str());
          ::_exit(51);
        }
        ::_exit(static_cast<int>(*ran));
      }
    }
    ::close(go[0]);
    ::close(go[1]);  // both start now
    int total = 0;
    for (auto pid : pids) {
      int status = 0;
      while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
      REQUIRE(WIFEXITED(status));
      INFO("child exit status " << WEXITSTATUS(status));
      REQUIRE(WEXITSTATUS(status) <= 4);
      total += WEXITSTATUS(status);
    }
    CHECK(total == 4);
    std::ifstream in(log);
    std::stringstream lines;
    lines << in.rdbuf();
    CHECK(lines.str() == "seed\n");
    auto db = ormkit::sqlite::backend::open({.path = path}).value();
    CHECK(history_versions(*db) == std::vector<std::int64_t>{1, 2, 3, 4});
    CHECK(scalar(*db, R"(SELECT count(*) FROM "pr_accounts")") == 1);
    CHECK(ormkit::drift<pr_account>(*db).value().empty());
  }
}

}  // namespace sqlite_migration_rebuild_test
