// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// 10_migrations: a schema that grows over versions, migrated on a SQLite file.
// Steps come from the descriptors (`since(n)` columns become ADD COLUMN steps)
// plus hand-written ones (a column rename, a C++ data backfill). The plan is
// printed before anything runs; migrate() applies each step with its history
// row in one transaction and reports progress; status() lists what is applied;
// drift() compares the live schema with the descriptors; a destructive
// rollback is refused until allowed.

#include <ormkit.hpp>
#include <ormkit/migration.hpp>
#include <ormkit/migration/sqlite.hpp>
#include <ormkit/sqlite.hpp>  // links SQLite3 (CMake target ormkit::sqlite)

#include <fmt/core.h>
#include <unistd.h>  // getpid

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

struct customer {
  std::int64_t id{};
  std::string email{};
  std::string full_name{};
  std::optional<std::string> phone{};
  std::string tier{};

  friend constexpr auto ormkit_describe(std::type_identity<customer>) {
    using namespace ormkit;
    return describe<customer>("customers")
        .column(&customer::id, "id", primary_key, auto_increment)
        .column(&customer::email, "email", unique)
        .column(&customer::full_name, "full_name")
        .column(&customer::phone, "phone", since(2))
        .column(&customer::tier, "tier", since(3), default_value("basic"))
        .index("ix_customers_tier", &customer::tier);
  }
};

int main() {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("ormkit_example_10_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  auto db = ormkit::sqlite::backend::open({.path = (dir / "shop.db").string()}).value();

  // Versions 1-3 from the descriptor; version 1 was written with a "name"
  // column, renamed in version 4; version 5 fills the tier in C++.
  auto steps = ormkit::steps_for<customer>();
  steps.push_back(ormkit::rename_column_step(4, "customers", "name", "full_name"));
  steps.push_back(ormkit::code_step(
      5, "gold tier for example.com", "tier = gold where email like %@example.com",
      [](ormkit::sqlite::backend& b) {
        return b.execute(R"(UPDATE "customers" SET "tier" = 'gold' WHERE "email" LIKE '%@example.com')");
      },
      [](ormkit::sqlite::backend& b) { return b.execute(R"(UPDATE "customers" SET "tier" = 'basic')"); }));
  // Version 1 as it shipped: the column was "name" then.
  steps[0] = ormkit::sql_step(
      1, "create table customers",
      R"(CREATE TABLE "customers" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "email" TEXT NOT NULL, "name" TEXT NOT NULL);)"
      "\n"
      R"(CREATE UNIQUE INDEX "uq_customers_email" ON "customers" ("email"))",
      R"(DROP TABLE "customers")");
  steps[0].destructive_down = true;

  ormkit::migrator m(*db, steps);
  m.on_progress([](const ormkit::migration_step& s, std::size_t index, std::size_t total) {
    fmt::print("[{}/{}] {} {}\n", index + 1, total, s.version, s.name);
  });

  fmt::print("-- plan up to version 2\n");
  for (const auto& p : m.plan_to(2).value()) fmt::print("{} {}:\n{}\n", p.version, p.name, p.text);
  fmt::print("applied {}\n", m.migrate_to(2).value());
  db->execute(
        R"(INSERT INTO "customers" ("email", "name") VALUES ('ann@example.com', 'Ann'), ('bob@mail.test', 'Bob'))")
      .value();

  fmt::print("-- drift at version 2\n");
  for (const auto& d : ormkit::drift<customer>(*db).value()) fmt::print("{}\n", d.message);

  fmt::print("-- migrate\n");
  fmt::print("applied {}\n", m.migrate().value());
  fmt::print("drift now: {} differences\n", ormkit::drift<customer>(*db).value().size());
  for (const auto& row : db->query(R"(SELECT "full_name", "tier" FROM "customers" ORDER BY "id")").value())
    fmt::print("{}: {}\n", std::get<std::string>(row[0]), std::get<std::string>(row[1]));

  fmt::print("-- status\n");
  auto st = m.status().value();
  for (const auto& s : st.steps)
    fmt::print("{} {} {}\n", s.version, s.state == ormkit::migration_state::kind::applied ? "applied" : "pending",
               s.name);

  fmt::print("-- rollback to 2\n");
  if (auto r = m.rollback_to(2); !r) fmt::print("{}\n", r.error().describe());
  fmt::print("rolled back {}\n", m.allow_destructive(true).rollback_to(2).value());
  fmt::print("version {}, columns:", m.status().value().current_version);
  for (const auto& c : db->query(R"(SELECT "name" FROM pragma_table_info('customers'))").value())
    fmt::print(" {}", std::get<std::string>(c[0]));
  fmt::print("\n");

  m.on_progress({});
  fmt::print("-- a changed step\n");
  auto edited = steps;
  edited[1] = ormkit::sql_step(2, edited[1].name, R"(ALTER TABLE "customers" ADD COLUMN "phone" BLOB)");
  fmt::print("{}\n", ormkit::migrator(*db, edited).migrate().error().describe());

  db.reset();
  fs::remove_all(dir);
}
// The block below is compared with the output line by line: keep clang-format away.
// clang-format off
// Expected output:
// -- plan up to version 2
// 1 create table customers:
// CREATE TABLE "customers" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "email" TEXT NOT NULL, "name" TEXT NOT NULL);
// CREATE UNIQUE INDEX "uq_customers_email" ON "customers" ("email")
// 2 add column customers.phone:
// ALTER TABLE "customers" ADD COLUMN "phone" TEXT
// [1/2] 1 create table customers
// [2/2] 2 add column customers.phone
// applied 2
// -- drift at version 2
// customers.full_name: column is missing
// customers.tier: column is missing
// customers.name: column is not in the descriptor
// customers: index ix_customers_tier is missing
// -- migrate
// [1/3] 3 add column customers.tier, create index ix_customers_tier
// [2/3] 4 rename column customers.name to full_name
// [3/3] 5 gold tier for example.com
// applied 3
// drift now: 0 differences
// Ann: gold
// Bob: basic
// -- status
// 1 applied create table customers
// 2 applied add column customers.phone
// 3 applied add column customers.tier, create index ix_customers_tier
// 4 applied rename column customers.name to full_name
// 5 applied gold tier for example.com
// -- rollback to 2
// [ormkit.invalid_argument] migration 3 "add column customers.tier, create index ix_customers_tier": rolling it back is destructive (it drops data); call allow_destructive(true)
// [1/3] 5 gold tier for example.com
// [2/3] 4 rename column customers.name to full_name
// [3/3] 3 add column customers.tier, create index ix_customers_tier
// rolled back 3
// version 2, columns: id email name phone
// -- a changed step
// [ormkit.schema_mismatch] migration 2 "add column customers.phone": was applied with checksum 6ea22a08a230686a but the step's is now b53dea2c2b3de292; applied steps must not change
