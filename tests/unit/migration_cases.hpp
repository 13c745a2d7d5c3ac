// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// The migration cases every backend runs, the same steps and the same checks
// (tests/unit/sqlite_migration_backends.cpp: SQLite and memory;
// tests/unit/postgres_migration.cpp: PostgreSQL): every step kind up and down, the
// schema after every step the same on each backend; a step failing halfway leaves
// schema, rows and history unchanged; plan() is what migrate() runs; what is refused
// before anything runs.
//
// A fixture `F` has: `name`; `db` (the backend); `snapshot()` ("(col,...) index[u](col,...)"
// per table, history and internals aside); `history()` (applied versions);
// `make_migrator(steps)`; `record()` / `recorded()` (what ran meanwhile) and
// `planned(plan)` (what the plan says runs, in the same form); `failed_rename_code` (the
// errc of renaming a column that does not exist); `runs_sql` (SQL text steps run).

#include <ormkit/migration.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/transaction.hpp>

#include "../support/catch.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace migration_cases {

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

inline auto join(const std::vector<std::string>& v) -> std::string {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

inline auto text(const ormkit::value& v) -> std::string {
  const auto* s = std::get_if<std::string>(&v);
  return s ? *s : std::string("<null>");
}

/// Every step kind, versions 1 to 10.
inline auto all_kinds() -> std::vector<ormkit::migration_step> {
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
inline const std::vector<std::map<std::string, std::string>> expected_schema{
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

template <class F>
void each_step_kind_up_and_down(F& f) {
  ormkit::migrator m = f.make_migrator(all_kinds());
  m.allow_destructive(true);
  std::vector<std::pair<std::uint64_t, std::uint64_t>> progress;
  m.on_step_progress([&](const ormkit::migration_step& s, std::uint64_t done, std::uint64_t total) {
    CHECK(s.version == 7);
    progress.emplace_back(done, total);
  });

  CHECK(f.snapshot() == expected_schema[0]);
  for (int v = 1; v <= 10; ++v) {
    INFO(F::name << " up to " << v);
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
    INFO(F::name << " down to " << v);
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

template <class F>
void failing_halfway_changes_nothing(F& f) {
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
    expected_code = F::failed_rename_code;
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

template <class F>
void plan_is_what_migrate_runs(F& f) {
  auto steps = all_kinds();
  // A C++ step's own statements are its business: this one runs none.
  steps[6] = ormkit::code_step(
      7, "no-op", "n", [](ormkit::migration_context&) { return ormkit::status{}; },
      [](ormkit::migration_context&) { return ormkit::status{}; });
  if constexpr (F::runs_sql) {
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

  REQUIRE_FALSE(F::planned(plan).empty());
  f.record();
  CHECK(m.migrate().value() == plan.size());
  CHECK(f.recorded() == F::planned(plan));
  CHECK(m.plan().value().empty());

  auto back = m.plan_rollback(0).value();
  REQUIRE(back.size() == steps.size());
  CHECK(back.front().version == steps.back().version);
  f.record();
  CHECK(m.rollback_to(0).value() == steps.size());
  CHECK(f.recorded() == F::planned(back));
  CHECK(f.snapshot().empty());
}

template <class F>
void destructive_steps_refused_unless_allowed(F& f) {
  std::vector<ormkit::migration_step> steps{
      ormkit::create_table_step(1, ormkit::table_definition::of<thing_v1>()),
      ormkit::drop_column_step(2, "mg_things", "label"),  // no down
      ormkit::add_column_step(3, "mg_things", ormkit::column_definition::of(&thing::note))};
  auto m = f.make_migrator(steps);
  auto plan = m.plan().value();
  REQUIRE(plan.size() == 3);
  CHECK_FALSE(plan[0].destructive);
  CHECK(plan[1].destructive);
  auto r = m.migrate();
  REQUIRE_FALSE(r);
  CHECK(r.error().is(ormkit::errc::invalid_argument));
  CHECK(r.error().message == "migration 2 \"drop column mg_things.label\": is destructive (it drops data); call "
                             "allow_destructive(true) to run it");
  CHECK(f.history().empty());  // refused before anything ran
  CHECK(f.snapshot().empty());

  CHECK(m.allow_destructive(true).migrate().value() == 3);
  CHECK(f.snapshot() == std::map<std::string, std::string>{{"mg_things", "(id,code,note) uq_mg_things_code[u](code)"}});

  auto careful = f.make_migrator(steps);
  auto down = careful.rollback_to(2);
  REQUIRE_FALSE(down);
  CHECK(down.error().is(ormkit::errc::invalid_argument));
  CHECK(down.error().message == "migration 3 \"add column mg_things.note\": rolling it back is destructive (it drops "
                                "data); call allow_destructive(true)");
  CHECK(f.history() == std::vector<int>{1, 2, 3});
  CHECK(careful.allow_destructive(true).rollback_to(2).value() == 1);

  auto back = careful.rollback_to(0);
  REQUIRE_FALSE(back);
  CHECK(back.error().is(ormkit::errc::unsupported));
  CHECK(back.error().message == "migration 2 \"drop column mg_things.label\": has no down step; it cannot be rolled back");
  CHECK(f.history() == std::vector<int>{1, 2});
  CHECK(f.snapshot() == std::map<std::string, std::string>{{"mg_things", "(id,code) uq_mg_things_code[u](code)"}});
}

template <class F>
void changed_checksums_refused(F& f) {
  auto create = [](std::string table) {  // mg_tags' columns under another name
    auto t = ormkit::table_definition::of<tag>();
    t.name = table;
    t.indexes.clear();
    return ormkit::action_step(1, "create " + table, {ormkit::migration_ops::create_table{std::move(t)}});
  };
  auto code = [](std::string sum) {
    return ormkit::code_step(2, "data", std::move(sum), [](ormkit::migration_context&) { return ormkit::status{}; });
  };
  CHECK(f.make_migrator({create("mg_t")}).migrate().value() == 1);

  // Step 1 now creates another table: refused, and step 2 does not run either.
  auto changed = f.make_migrator({create("mg_u"), code("v1")});
  auto r = changed.migrate();
  REQUIRE_FALSE(r);
  CHECK(r.error().is(ormkit::errc::schema_mismatch));
  CHECK(r.error().message.starts_with("migration 1 \"create mg_u\": was applied with checksum "));
  CHECK(f.snapshot().count("mg_u") == 0);
  auto st = changed.status().value();
  REQUIRE(st.steps.size() == 2);
  CHECK(st.steps[0].state == ormkit::migration_state::kind::changed);
  CHECK(st.steps[1].state == ormkit::migration_state::kind::pending);

  // A C++ step's checksum is its author's string.
  CHECK(f.make_migrator({create("mg_t"), code("v1")}).migrate().value() == 1);
  CHECK(f.make_migrator({create("mg_t"), code("v1")}).migrate().value() == 0);
  CHECK(f.make_migrator({create("mg_t"), code("v2")}).migrate().error().is(ormkit::errc::schema_mismatch));

  // A version in the history that the program does not know.
  auto unknown = f.make_migrator({create("mg_t")}).migrate();
  REQUIRE_FALSE(unknown);
  CHECK(unknown.error().message == "migration 2 \"data\": applied in the database but unknown to this program");
  CHECK(f.history() == std::vector<int>{1, 2});
}

}  // namespace migration_cases
