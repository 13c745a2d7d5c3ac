// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// 09_sqlite_repository: the same repository calls as on the memory backend, on a
// SQLite file. Tables are created on first use; a foreign key and a unique key
// are enforced by SQLite and reported as errc::conflict; LIKE is case-sensitive;
// NULLs sort first; everyday calls reuse prepared statements; a second
// connection holding the write lock gives errc::busy; and the database is
// backed up with SQLite's backup API (never by copying the file: in WAL mode
// the newest commits are still in the -wal file).

#include <ormkit.hpp>
#include <ormkit/sqlite.hpp>  // links SQLite3 (CMake target ormkit::sqlite)

#include <fmt/core.h>
#include <unistd.h>  // getpid

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

struct project {
  std::int64_t id{};
  std::string name{};

  friend constexpr auto ormkit_describe(std::type_identity<project>) {
    using namespace ormkit;
    return describe<project>("projects")
        .column(&project::id, "id", primary_key, auto_increment)
        .column(&project::name, "name", unique, rules::not_empty{});
  }
};

struct task {
  std::int64_t id{};
  std::int64_t project_id{};
  std::string title{};
  int points{};
  std::optional<std::string> owner{};

  friend constexpr auto ormkit_describe(std::type_identity<task>) {
    using namespace ormkit;
    return describe<task>("tasks")
        .column(&task::id, "id", primary_key, auto_increment)
        .column(&task::project_id, "project_id", references<&project::id>)
        .column(&task::title, "title", rules::not_empty{})
        .column(&task::points, "points", rules::range{0, 100})
        .column(&task::owner, "owner")
        .index("ix_tasks_project", &task::project_id);
  }
};

int main() {
  using ormkit::col;
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("ormkit_example_09_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string path = (dir / "tasks.db").string();

  // One backend is one connection: WAL, synchronous=NORMAL, foreign keys on,
  // double-quoted string literals off, a 5 s busy timeout.
  auto db = ormkit::sqlite::backend::open({.path = path}).value();
  fmt::print("opened {} (journal mode {})\n", fs::path(path).filename().string(), db->journal_mode());

  ormkit::repository<project> projects(*db);
  ormkit::repository<task> tasks(*db);

  auto web = projects.insert({.name = "web"}).value();
  auto api = projects.insert({.name = "api"}).value();
  tasks.insert_many({{0, web.id, "Login page", 5, "ann"},
                     {0, web.id, "logout button", 2, std::nullopt},
                     {0, api.id, "Rate limits", 8, "bob"},
                     {0, api.id, "Login tokens", 3, "ann"},
                     {0, web.id, "Dark mode", 5, std::nullopt}})
      .value();
  fmt::print("projects {}, tasks {}\n", projects.count().value(), tasks.count().value());

  // Keys are enforced by SQLite; the messages are the memory backend's.
  fmt::print("{}\n", projects.insert({.name = "web"}).error().describe());
  fmt::print("{}\n", tasks.insert({0, 99, "Orphan", 1, std::nullopt}).error().describe());

  // LIKE is case-sensitive on every backend; NULLs sort first ascending.
  auto logins = tasks.find(ormkit::query<task>(col(&task::title).like("Login%")).order_by(&task::id)).value();
  fmt::print("title LIKE 'Login%':");
  for (const auto& t : logins) fmt::print(" [{}]", t.title);
  fmt::print("\n");
  auto by_owner = tasks.find(ormkit::query<task>().order_by(&task::owner).order_by(&task::title)).value();
  fmt::print("by owner:");
  for (const auto& t : by_owner) fmt::print(" {}={}", t.owner.value_or("NULL"), t.title);
  fmt::print("\n");

  // Points per project, in one GROUP BY.
  auto per_project = tasks.run(ormkit::aggregate<task>().group_by(&task::project_id).count().sum(&task::points))
                         .value();
  for (const auto& row : per_project)
    fmt::print("project {}: {} tasks, {} points\n", ormkit::to_display(row[0]), ormkit::to_display(row[1]),
               ormkit::to_display(row[2]));

  // A transaction: both updates or neither.
  auto moved = ormkit::transact(*db, [&](ormkit::transaction&) -> ormkit::status {
    auto unowned = tasks.find(col(&task::owner).is_null());
    if (!unowned) return unowned.error();
    for (auto& t : *unowned) {
      t.owner = "cat";
      ORMKIT_TRY(tasks.update(t));
    }
    return {};
  });
  fmt::print("assigned the unowned tasks: {}\n", moved ? "yes" : moved.error().describe());

  // Everyday calls prepare each statement once per connection: the first get
  // prepares it, the next hundred only bind and step.
  (void)tasks.get(1).value();
  const auto before = db->statistics();
  for (int i = 0; i < 100; ++i) (void)tasks.get(1 + i % 5).value();
  const auto after = db->statistics();
  fmt::print("100 gets: {} prepared, {} served from the statement cache\n", after.prepares - before.prepares,
             after.cache_hits - before.cache_hits);

  // A second connection (say, another thread) holds the write lock: this one
  // waits busy_timeout, then reports errc::busy, which ormkit::transact retries.
  {
    auto other = ormkit::sqlite::backend::open({.path = path, .busy_timeout = std::chrono::milliseconds(50)}).value();
    db->begin().value();
    ormkit::repository<task> other_tasks(*other);
    auto blocked = other_tasks.insert({0, web.id, "Blocked", 1, std::nullopt});
    fmt::print("while locked: {}\n", blocked.error().is(ormkit::errc::busy) ? "busy" : "?");
    db->rollback().value();
  }

  // An online backup through SQLite's backup API.
  const std::string copy = (dir / "tasks-backup.db").string();
  db->backup_to(copy).value();
  auto restored = ormkit::sqlite::backend::open({.path = copy}).value();
  fmt::print("backup has {} tasks\n", ormkit::repository<task>(*restored).count().value());

  restored.reset();
  db.reset();
  fs::remove_all(dir);
}

// Expected output:
// opened tasks.db (journal mode wal)
// projects 2, tasks 5
// [ormkit.conflict] projects.name: value "web" already exists (uq_projects_name)
// [ormkit.conflict] tasks: foreign key constraint failed (the referenced row does not exist, or other rows still reference this one)
// title LIKE 'Login%': [Login page] [Login tokens]
// by owner: NULL=Dark mode NULL=logout button ann=Login page ann=Login tokens bob=Rate limits
// project 1: 3 tasks, 12 points
// project 2: 2 tasks, 11 points
// assigned the unowned tasks: yes
// 100 gets: 0 prepared, 100 served from the statement cache
// while locked: busy
// backup has 5 tasks
