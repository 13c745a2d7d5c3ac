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
// (SQLite's statement trace; a recording driver around the memory one).

#include <ormkit/migration.hpp>
#include <ormkit/migration/memory.hpp>
#include <ormkit/migration/sqlite.hpp>
#include <ormkit/memory.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/sqlite.hpp>
#include <ormkit/transaction.hpp>

#include "../support/catch.hpp"

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

// The table as its final descriptor says (versions 1 and 2).
struct thing {
  std::int64_t id{};
  std::string code{};
  std::string label{};
  std::optional<std::string> note{};
  std::int64_t rank{};

  friend constexpr auto ormkit_describe(std::type_identity<thing>) {
    using namespace ormkit;
    return describe<thing>("mg_things")
        .column(&thing::id, "id", primary_key, auto_increment)
        .column(&thing::code, "code", unique)
        .column(&thing::label, "label")
        .column(&thing::note, "note", since(2))
        .column(&thing::rank, "rank", since(2), default_value(5))
        .index("ix_mg_things_rank", &thing::rank);
  }
};

// The same table as it is at version 1: what a data step at that version uses.
struct thing_v1 {
  std::int64_t id{};
  std::string code{};
  std::string label{};

  friend constexpr auto ormkit_describe(std::type_identity<thing_v1>) {
    using namespace ormkit;
    return describe<thing_v1>("mg_things")
        .column(&thing_v1::id, "id", primary_key, auto_increment)
        .column(&thing_v1::code, "code", unique)
        .column(&thing_v1::label, "label");
  }
};

// ... and at version 7 (label renamed to title, rank dropped).
struct thing_v7 {
  std::int64_t id{};
  std::string code{};
  std::string title{};
  std::optional<std::string> note{};

  friend constexpr auto ormkit_describe(std::type_identity<thing_v7>) {
    using namespace ormkit;
    return describe<thing_v7>("mg_things")
        .column(&thing_v7::id, "id", primary_key, auto_increment)
        .column(&thing_v7::code, "code", unique)
        .column(&thing_v7::title, "title")
        .column(&thing_v7::note, "note");
  }
};

// ... at version 5 (rank still there).
struct thing_v5 {
  std::int64_t id{};
  std::string code{};
  std::string title{};
  std::optional<std::string> note{};
  std::int64_t rank{};

  friend constexpr auto ormkit_describe(std::type_identity<thing_v5>) {
    using namespace ormkit;
    return describe<thing_v5>("mg_things")
        .column(&thing_v5::id, "id", primary_key, auto_increment)
        .column(&thing_v5::code, "code", unique)
        .column(&thing_v5::title, "title")
        .column(&thing_v5::note, "note")
        .column(&thing_v5::rank, "rank");
  }
};

// ... and in the middle of the failing step below (label renamed, note added and dropped).
struct thing_half {
  std::int64_t id{};
  std::string code{};
  std::string title{};

  friend constexpr auto ormkit_describe(std::type_identity<thing_half>) {
    using namespace ormkit;
    return describe<thing_half>("mg_things")
        .column(&thing_half::id, "id", primary_key, auto_increment)
        .column(&thing_half::code, "code", unique)
        .column(&thing_half::title, "title");
  }
};

struct tag {
  std::int64_t id{};
  std::string name{};

  friend constexpr auto ormkit_describe(std::type_identity<tag>) {
    using namespace ormkit;
    return describe<tag>("mg_tags").column(&tag::id, "id", primary_key, auto_increment).column(&tag::name, "name", unique);
  }
};

//=== fixtures: one per backend, each describing its schema the same way ===//

auto join(const std::vector<std::string>& v) -> std::string {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

auto text(const ormkit::value& v) -> std::string {
  const auto* s = std::get_if<std::string>(&v);
  return s ? *s : std::string("<null>");
}

struct sqlite_fixture {
  static constexpr std::string_view name = "sqlite";
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

/// Every step kind, versions 1 to 10.
auto all_kinds() -> std::vector<ormkit::migration_step> {
  auto steps = ormkit::steps_for<thing>();  // 1 create table + unique key, 2 add note, rank + index
  steps.push_back(ormkit::rename_column_step(3, "mg_things", "label", "title"));
  steps.push_back(ormkit::create_index_step(4, "mg_things", {"ix_mg_things_title_note", {"title", "note"}}));
  steps.push_back(ormkit::drop_index_step(5, "mg_things", ormkit::index_definition::of<thing>("ix_mg_things_rank")));
  steps.push_back(ormkit::drop_column_step(6, "mg_things", ormkit::column_definition::of(&thing::rank)));
  steps.push_back(ormkit::code_step(
      7, "note = title", "note = title, through a repository",
      [](ormkit::migration_context& cx) -> ormkit::status {
        ormkit::repository<thing_v7> things(cx.backend());
        auto all = things.find_all();
        if (!all) return std::move(all).error();
        for (std::size_t i = 0; i < all->size(); ++i) {
          auto t = (*all)[i];
          t.note = t.title;
          ORMKIT_TRY(things.update(t));
          cx.progress(i + 1, all->size());
        }
        return {};
      },
      [](ormkit::backend_ref b) -> ormkit::status {
        ormkit::repository<thing_v7> things(b);
        for (auto t : things.find_all().value()) {
          t.note.reset();
          ORMKIT_TRY(things.update(t));
        }
        return {};
      }));
  steps.push_back(ormkit::rename_table_step(8, "mg_things", "mg_items"));
  steps.push_back(ormkit::create_table_step(9, ormkit::table_definition::of<tag>()));
  steps.push_back(ormkit::add_column_step(10, "mg_items", {"extra", ormkit::storage::integer, true}));
  return steps;
}

// What each version looks like, the same on both backends.
const std::vector<std::map<std::string, std::string>> expected_schema{
    {},
    {{"mg_things", "(id,code,label) uq_mg_things_code[u](code)"}},
    {{"mg_things", "(id,code,label,note,rank) ix_mg_things_rank(rank) uq_mg_things_code[u](code)"}},
    {{"mg_things", "(id,code,title,note,rank) ix_mg_things_rank(rank) uq_mg_things_code[u](code)"}},
    {{"mg_things",
      "(id,code,title,note,rank) ix_mg_things_rank(rank) ix_mg_things_title_note(title,note) uq_mg_things_code[u](code)"}},
    {{"mg_things", "(id,code,title,note,rank) ix_mg_things_title_note(title,note) uq_mg_things_code[u](code)"}},
    {{"mg_things", "(id,code,title,note) ix_mg_things_title_note(title,note) uq_mg_things_code[u](code)"}},
    {{"mg_things", "(id,code,title,note) ix_mg_things_title_note(title,note) uq_mg_things_code[u](code)"}},
    {{"mg_items", "(id,code,title,note) ix_mg_things_title_note(title,note) uq_mg_things_code[u](code)"}},
    {{"mg_items", "(id,code,title,note) ix_mg_things_title_note(title,note) uq_mg_things_code[u](code)"},
     {"mg_tags", "(id,name) uq_mg_tags_name[u](name)"}},
    {{"mg_items", "(id,code,title,note,extra) ix_mg_things_title_note(title,note) uq_mg_things_code[u](code)"},
     {"mg_tags", "(id,name) uq_mg_tags_name[u](name)"}},
};

TEMPLATE_TEST_CASE("each step kind up and down, on both backends", "[migration][sqlite][memory]", sqlite_fixture,
                   memory_fixture) {
  TestType f;
  ormkit::migrator m = f.make_migrator(all_kinds());
  m.allow_destructive(true);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> progress;
  m.on_step_progress([&](const ormkit::migration_step& s, std::uint64_t done, std::uint64_t total) {
    CHECK(s.version == 7);
    progress.emplace_back(done, total);
  });

  CHECK(f.snapshot() == expected_schema[0]);
  for (int v = 1; v <= 10; ++v) {
    INFO(TestType::name << " up to " << v);
    REQUIRE(m.migrate_to(v).value() == 1);
    CHECK(f.snapshot() == expected_schema[static_cast<std::size_t>(v)]);
    if (v == 1) {
      ormkit::repository<thing_v1> things(f.db);
      things.insert({0, "a1", "Ann"}).value();
      things.insert({0, "b2", "Bob"}).value();
    }
    if (v == 2) {  // the added columns got their defaults
      auto all = ormkit::repository<thing>(f.db).find_all().value();
      REQUIRE(all.size() == 2);
      CHECK(all[0].rank == 5);
      CHECK_FALSE(all[0].note.has_value());
    }
    if (v == 7) {
      auto all = ormkit::repository<thing_v7>(f.db).find_all().value();
      REQUIRE(all.size() == 2);
      CHECK(all[0].note == "Ann");
      CHECK(all[1].note == "Bob");
      CHECK(all[1].code == "b2");
    }
  }
  CHECK(progress == std::vector<std::pair<std::uint64_t, std::uint64_t>>{{1, 2}, {2, 2}});
  CHECK(f.history() == std::vector<int>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  CHECK(m.migrate().value() == 0);

  // Down, one step at a time: each restores the schema of the version below.
  for (int v = 9; v >= 0; --v) {
    INFO(TestType::name << " down to " << v);
    REQUIRE(m.rollback_to(v).value() == 1);
    CHECK(f.snapshot() == expected_schema[static_cast<std::size_t>(v)]);
    CHECK(f.history().size() == static_cast<std::size_t>(v));
    if (v == 6) {  // the C++ down cleared the notes
      for (const auto& t : ormkit::repository<thing_v7>(f.db).find_all().value()) CHECK_FALSE(t.note.has_value());
    }
    if (v == 5) {  // rank came back with its default; its data is gone (destructive)
      for (const auto& t : ormkit::repository<thing_v5>(f.db).find_all().value()) CHECK(t.rank == 5);
    }
    if (v == 1) {  // the rows survived every rename, add and drop
      auto all = ormkit::repository<thing_v1>(f.db).find_all().value();
      REQUIRE(all.size() == 2);
      CHECK(all[0].label == "Ann");
      CHECK(all[1].code == "b2");
    }
  }
  CHECK(m.rollback_to(0).value() == 0);
  CHECK(f.history().empty());
}

TEMPLATE_TEST_CASE("a step failing halfway leaves schema, rows and history unchanged, on both backends",
                   "[migration][sqlite][memory]", sqlite_fixture, memory_fixture) {
  TestType f;
  auto v1 = ormkit::steps_for<thing_v1>();
  REQUIRE(v1.size() == 1);
  int third_ran = 0;
  auto make = [&](ormkit::migration_op last) {
    std::vector<ormkit::migration_step> steps{v1[0]};
    steps.push_back(ormkit::action_step(
        2, "half",
        {ormkit::migration_ops::add_column{"mg_things", {"note", ormkit::storage::text, true}, "label"},
         ormkit::migration_ops::rename_column{"mg_things", "label", "title"},
         ormkit::migration_ops::create_index{"mg_things", {"ix_mg_things_title", {"title"}}},
         ormkit::migration_ops::drop_column{"mg_things", "note"}, std::move(last)}));
    steps.push_back(ormkit::code_step(3, "never", "n", [&](ormkit::migration_context&) -> ormkit::status {
      ++third_ran;
      return {};
    }));
    return steps;
  };
  // Inserts a row at the version-2 shape (through the context's backend), then fails.
  auto insert_then = [](bool throws) {
    return [throws](ormkit::migration_context& cx) -> ormkit::status {
      ormkit::repository<thing_half> things(cx.backend());
      things.insert({0, "c3", "Cy"}).value();
      if (throws) throw std::runtime_error("boom");
      return ormkit::unexpected(ormkit::errc::invalid_argument, "mg_things: bad data");
    };
  };

  {
    auto m = f.make_migrator(make(ormkit::migration_ops::sql{"SELECT 1"}));
    m.allow_destructive(true).migrate_to(1).value();
  }
  ormkit::repository<thing_v1>(f.db).insert({0, "a1", "Ann"}).value();
  const auto before = f.snapshot();

  std::string expected_message;
  ormkit::errc expected_code = ormkit::errc::backend_error;
  std::vector<ormkit::migration_step> steps;
  SECTION("a C++ step that throws") {
    steps = make(ormkit::detail::to_migration_code(insert_then(true), "t"));
    expected_message = "migration 2 \"half\": threw: boom";
  }
  SECTION("a C++ step that returns an error") {
    steps = make(ormkit::detail::to_migration_code(insert_then(false), "e"));
    expected_message = "migration 2 \"half\": mg_things: bad data";
    expected_code = ormkit::errc::invalid_argument;
  }
  SECTION("a structured action that fails") {
    steps = make(ormkit::migration_ops::rename_column{"mg_things", "no_such", "x"});
    expected_code = std::is_same_v<TestType, memory_fixture> ? ormkit::errc::schema_mismatch : ormkit::errc::backend_error;
  }
  SECTION("a unique index the rows break") {
    steps = make(ormkit::migration_ops::create_index{"mg_things", {"uq_mg_things_title", {"title"}, true}});
    ormkit::repository<thing_v1>(f.db).insert({0, "b2", "Ann"}).value();
    expected_code = ormkit::errc::conflict;
  }
  const auto rows = ormkit::repository<thing_v1>(f.db).find_all().value();
  auto m = f.make_migrator(steps);
  m.allow_destructive(true);
  auto r = m.migrate();
  REQUIRE_FALSE(r);
  INFO(r.error().message);
  CHECK(r.error().message.starts_with("migration 2 \"half\": "));
  if (!expected_message.empty()) CHECK(r.error().message == expected_message);
  CHECK(r.error().is(expected_code));

  // Step 1 stays; step 2 left nothing; step 3 never ran.
  CHECK(f.history() == std::vector<int>{1});
  CHECK(f.snapshot() == before);
  auto after = ormkit::repository<thing_v1>(f.db).find_all().value();
  REQUIRE(after.size() == rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) CHECK(after[i].label == rows[i].label);
  CHECK(third_ran == 0);
  CHECK_FALSE(f.db.in_transaction());
  auto st = m.status().value();
  CHECK(st.current_version == 1);
  CHECK(st.count(ormkit::migration_state::kind::pending) == 2);
}

TEMPLATE_TEST_CASE("plan() is what migrate() runs, on both backends", "[migration][sqlite][memory]", sqlite_fixture,
                   memory_fixture) {
  TestType f;
  auto steps = all_kinds();
  // A C++ step's own statements are its business: this one runs none.
  steps[6] = ormkit::code_step(
      7, "no-op", "n", [](ormkit::migration_context&) { return ormkit::status{}; },
      [](ormkit::migration_context&) { return ormkit::status{}; });
  if constexpr (std::is_same_v<TestType, sqlite_fixture>) {
    const std::string raw = "CREATE TABLE \"mg_raw\" (\"a\" INTEGER);\nDROP TABLE \"mg_raw\"";
    steps.push_back(ormkit::sql_step(11, "sql", raw, raw));
  }
  auto m = f.make_migrator(steps);
  m.allow_destructive(true);
  m.migrate_to(1).value();
  ormkit::repository<thing_v1>(f.db).insert({0, "a1", "Ann"}).value();

  // Planned from version 1: later steps (the drop column of step 6 among them) are
  // rendered as they will be once the earlier ones have run.
  auto plan = m.plan().value();
  REQUIRE(plan.size() == steps.size() - 1);
  const auto before = f.snapshot();
  CHECK(m.plan().value().size() == plan.size());  // a dry run changes nothing
  CHECK(f.snapshot() == before);
  CHECK(f.history() == std::vector<int>{1});
  CHECK(plan[4].destructive);  // step 6 drops a column

  f.record();
  CHECK(m.migrate().value() == plan.size());
  CHECK(f.recorded() == TestType::planned(plan));
  CHECK(m.plan().value().empty());

  auto back = m.plan_rollback(0).value();
  REQUIRE(back.size() == steps.size());
  CHECK(back.front().version == steps.back().version);
  f.record();
  CHECK(m.rollback_to(0).value() == steps.size());
  CHECK(f.recorded() == TestType::planned(back));
  CHECK(f.snapshot().empty());
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
