// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// 11_migrate_cli: a `migrate` command for an application's SQLite file.
//
//   example_11_migrate_cli <file.db> status            applied and pending steps
//   example_11_migrate_cli <file.db> plan              the SQL `up` would run
//   example_11_migrate_cli <file.db> up [version]      apply pending steps (up to version)
//   example_11_migrate_cli <file.db> down <version> [--force]
//                                                      roll back to version; --force lets
//                                                      downs that drop data run
//   example_11_migrate_cli --demo                      the sequence below on a temporary file
//
// The steps: a table from its descriptor, an import of legacy rows and a
// scoring pass written in C++ (each works through the rows in chunks and reports
// progress), a column added in version 3. The C++ steps use repositories over
// the backend they are given, so the same steps run on the memory backend too.
//
// Test arguments: --demo

#include <ormkit.hpp>
#include <ormkit/migration.hpp>
#include <ormkit/migration/sqlite.hpp>
#include <ormkit/sqlite.hpp>  // links SQLite3 (CMake target ormkit::sqlite)

#include <fmt/core.h>
#include <unistd.h>  // getpid

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

// The table as the application knows it now (version 3 added `score`).
struct event {
  std::int64_t id{};
  std::string kind{};
  std::string payload{};
  std::int64_t score{};

  friend constexpr auto ormkit_describe(std::type_identity<event>) {
    using namespace ormkit;
    return describe<event>("events")
        .column(&event::id, "id", primary_key, auto_increment)
        .column(&event::kind, "kind")
        .column(&event::payload, "payload")
        .column(&event::score, "score", since(3), default_value(0))
        .index("ix_events_kind", &event::kind)
        .index("ix_events_score", &event::score);
  }
};

// The same table at version 2, for the import step (which runs before `score` exists).
struct event_v2 {
  std::int64_t id{};
  std::string kind{};
  std::string payload{};

  friend constexpr auto ormkit_describe(std::type_identity<event_v2>) {
    using namespace ormkit;
    return describe<event_v2>("events")
        .column(&event_v2::id, "id", primary_key, auto_increment)
        .column(&event_v2::kind, "kind")
        .column(&event_v2::payload, "payload")
        .index("ix_events_kind", &event_v2::kind);
  }
};

constexpr std::uint64_t legacy_rows = 1000;
constexpr std::uint64_t chunk = 250;

// Sets every row's score, `chunk` rows at a time (keyset paging), reporting progress.
auto rescore(ormkit::migration_context& cx, bool reset) -> ormkit::status {
  ormkit::repository<event> events(cx.backend());
  auto total = events.count();
  if (!total) return std::move(total).error();
  std::uint64_t done = 0;
  std::optional<event> last;
  for (;;) {
    auto q = ormkit::query<event>().order_by(&event::id).limit(chunk);
    if (last) q.after(*last);
    auto rows = events.find(q);
    if (!rows) return std::move(rows).error();
    if (rows->empty()) break;
    for (auto& e : *rows) {
      e.score = reset ? 0 : e.kind == "buy" ? 10 : e.kind == "click" ? 2 : 1;
      auto updated = events.update_columns(e, &event::score);
      if (!updated) return std::move(updated).error();
    }
    done += rows->size();
    last = rows->back();
    cx.progress(done, *total);
  }
  return {};
}

auto steps() -> std::vector<ormkit::migration_step> {
  auto out = ormkit::steps_for<event>();  // 1: create table events, 3: add column score + index
  out.push_back(ormkit::code_step(
      2, "import legacy events", "1000 events: kinds view/click/buy, payload event #n",
      [](ormkit::migration_context& cx) -> ormkit::status {
        ormkit::repository<event_v2> events(cx.backend());
        for (std::uint64_t first = 0; first < legacy_rows; first += chunk) {
          std::vector<event_v2> batch;
          for (std::uint64_t i = first; i < first + chunk; ++i)
            batch.push_back({0, i % 3 == 0 ? "view" : i % 3 == 1 ? "click" : "buy", "event #" + std::to_string(i)});
          auto added = events.insert_many(std::move(batch));
          if (!added) return std::move(added).error();
          cx.progress(first + chunk, legacy_rows);
        }
        return {};
      },
      [](ormkit::migration_context& cx) -> ormkit::status {
        auto gone = ormkit::repository<event_v2>(cx.backend()).erase_where(ormkit::col(&event_v2::id) > 0);
        if (!gone) return std::move(gone).error();
        return {};
      }));
  out.push_back(ormkit::code_step(
      4, "score events", "score: buy 10, click 2, view 1",
      [](ormkit::migration_context& cx) { return rescore(cx, false); },
      [](ormkit::migration_context& cx) { return rescore(cx, true); }));
  return out;
}

auto parse_version(std::string_view s, int& out) -> bool {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size() && out >= 0;
}

auto usage() -> int {
  fmt::print(
      "usage: example_11_migrate_cli <file.db> status | plan | up [version] | down <version> [--force]\n"
      "       example_11_migrate_cli --demo\n");
  return 2;
}

// One invocation of the command: opens the file, does one thing, closes it.
auto run(const std::string& path, const std::vector<std::string>& args) -> int {
  if (args.empty()) return usage();
  auto db = ormkit::sqlite::backend::open({.path = path});
  if (!db) {
    fmt::print("error: {}\n", db.error().describe());
    return 1;
  }
  ormkit::migrator m(**db, steps());
  m.on_progress([](const ormkit::migration_step& s, std::size_t index, std::size_t total) {
    fmt::print("[{}/{}] {} {}\n", index + 1, total, s.version, s.name);
  });
  m.on_step_progress([](const ormkit::migration_step&, std::uint64_t done, std::uint64_t total) {
    fmt::print("      {}/{}\n", done, total);
  });
  auto fail = [](const ormkit::error& e) {
    fmt::print("error: {}\n", e.describe());
    return 1;
  };
  const std::string& command = args[0];

  if (command == "status" && args.size() == 1) {
    auto st = m.status();
    if (!st) return fail(st.error());
    fmt::print("version {} of {} ({} pending)\n", st->current_version, st->latest_version,
               st->count(ormkit::migration_state::kind::pending));
    for (const auto& s : st->steps) fmt::print("  {}  {:<7}  {}\n", s.version, ormkit::to_string(s.state), s.name);
    auto rows = (*db)->query("SELECT count(*) FROM sqlite_master WHERE name = 'events'");
    if (rows && std::get<std::int64_t>(rows->at(0).at(0)) == 1)
      fmt::print("events: {} rows\n", std::get<std::int64_t>((*db)->query("SELECT count(*) FROM \"events\"")->at(0).at(0)));
    return 0;
  }
  if (command == "plan" && args.size() == 1) {
    auto plan = m.plan();
    if (!plan) return fail(plan.error());
    for (const auto& p : *plan) {
      fmt::print("{} {}{}:\n", p.version, p.name, p.destructive ? " (destructive)" : "");
      for (const auto& s : p.statements) fmt::print("  {}\n", s);
    }
    fmt::print("{} step{} pending\n", plan->size(), plan->size() == 1 ? "" : "s");
    return 0;
  }
  if (command == "up" && args.size() <= 2) {
    int version = m.latest_version();
    if (args.size() == 2 && !parse_version(args[1], version)) {
      fmt::print("error: up: the version must be a non-negative number (got \"{}\")\n", args[1]);
      return 2;
    }
    auto ran = m.migrate_to(version);
    if (!ran) return fail(ran.error());
    fmt::print("applied {}, now at version {}\n", *ran, m.status().value().current_version);
    return 0;
  }
  if (command == "down" && (args.size() == 2 || (args.size() == 3 && args[2] == "--force"))) {
    int version = 0;
    if (!parse_version(args[1], version)) {
      fmt::print("error: down: the version must be a non-negative number (got \"{}\")\n", args[1]);
      return 2;
    }
    m.allow_destructive(args.size() == 3);
    auto undone = m.rollback_to(version);
    if (!undone) {
      fail(undone.error());
      if (undone.error().is(ormkit::errc::invalid_argument) && args.size() == 2)
        fmt::print("(add --force to run downs that drop data)\n");
      return 1;
    }
    fmt::print("rolled back {}, now at version {}\n", *undone, m.status().value().current_version);
    return 0;
  }
  return usage();
}

auto demo() -> int {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("ormkit_example_11_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string path = (dir / "demo.db").string();
  const std::vector<std::vector<std::string>> script{
      {"status"}, {"plan"}, {"up", "2"}, {"status"}, {"up"}, {"down", "1"}, {"down", "1", "--force"}, {"status"}};
  int failures = 0;
  for (const auto& args : script) {
    std::string line = "$ migrate demo.db";
    for (const auto& a : args) line += " " + a;
    fmt::print("{}\n", line);
    failures += run(path, args) == 0 ? 0 : 1;
  }
  fs::remove_all(dir);
  return failures == 1 ? 0 : 1;  // the one expected failure: down without --force
}

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.size() == 1 && args[0] == "--demo") return demo();
  if (args.size() < 2) return usage();
  return run(args[0], {args.begin() + 1, args.end()});
}

// The block below is compared with the output of `--demo` line by line: keep clang-format away.
// clang-format off
// Expected output:
// $ migrate demo.db status
// version 0 of 4 (4 pending)
//   1  pending  create table events
//   2  pending  import legacy events
//   3  pending  add column events.score, create index ix_events_score
//   4  pending  score events
// $ migrate demo.db plan
// 1 create table events:
//   CREATE TABLE IF NOT EXISTS "events" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "kind" TEXT NOT NULL, "payload" TEXT NOT NULL)
//   CREATE INDEX IF NOT EXISTS "ix_events_kind" ON "events" ("kind")
// 2 import legacy events:
//   -- C++ function (checksum "1000 events: kinds view/click/buy, payload event #n")
// 3 add column events.score, create index ix_events_score:
//   ALTER TABLE "events" ADD COLUMN "score" INTEGER NOT NULL DEFAULT 0
//   CREATE INDEX IF NOT EXISTS "ix_events_score" ON "events" ("score")
// 4 score events:
//   -- C++ function (checksum "score: buy 10, click 2, view 1")
// 4 steps pending
// $ migrate demo.db up 2
// [1/2] 1 create table events
// [2/2] 2 import legacy events
//       250/1000
//       500/1000
//       750/1000
//       1000/1000
// applied 2, now at version 2
// $ migrate demo.db status
// version 2 of 4 (2 pending)
//   1  applied  create table events
//   2  applied  import legacy events
//   3  pending  add column events.score, create index ix_events_score
//   4  pending  score events
// events: 1000 rows
// $ migrate demo.db up
// [1/2] 3 add column events.score, create index ix_events_score
// [2/2] 4 score events
//       250/1000
//       500/1000
//       750/1000
//       1000/1000
// applied 2, now at version 4
// $ migrate demo.db down 1
// error: [ormkit.invalid_argument] migration 3 "add column events.score, create index ix_events_score": rolling it back is destructive (it drops data); call allow_destructive(true)
// (add --force to run downs that drop data)
// $ migrate demo.db down 1 --force
// [1/3] 4 score events
//       250/1000
//       500/1000
//       750/1000
//       1000/1000
// [2/3] 3 add column events.score, create index ix_events_score
// [3/3] 2 import legacy events
// rolled back 3, now at version 1
// $ migrate demo.db status
// version 1 of 4 (3 pending)
//   1  applied  create table events
//   2  pending  import legacy events
//   3  pending  add column events.score, create index ix_events_score
//   4  pending  score events
// events: 0 rows
