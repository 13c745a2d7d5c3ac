// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// 03_validation: rules attached to columns and to the entity, every violation
// reported at once, and writes that validation rejects before anything is stored.

#include <ormkit/memory.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/rules.hpp>
#include <ormkit/rules/pattern.hpp>  // rules::pattern: its own header, as it includes <regex>
#include <ormkit/validator.hpp>

#include <fmt/core.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

struct account {
  std::int64_t id{};
  std::string external_id{};
  std::string username{};
  std::string email{};
  std::string password{};
  int age{};
  std::string plan{};
  std::optional<std::string> team_name{};
  std::optional<std::string> invite_code{};

  friend constexpr auto ormkit_describe(std::type_identity<account>) {
    using namespace ormkit;
    return describe<account>("accounts")
        .column(&account::id, "id", primary_key, auto_increment)
        .column(&account::external_id, "external_id", unique, rules::uuid{})
        // Rules on one column run in the order given, and all of them run.
        .column(&account::username, "username", unique, rules::not_empty{}, rules::length{3, 20},
                rules::pattern{"[a-z][a-z0-9_]*"})
        .column(&account::email, "email", rules::email{})
        // `secret`: messages say what is wrong, never the value.
        .column(&account::password, "password", secret, rules::length{12, 128})
        .column(&account::age, "age", rules::range{13, 130})
        .column(&account::plan, "plan", rules::one_of{"free", "pro", "team"})
        // Rules on an optional column check the value and let NULL through.
        .column(&account::team_name, "team_name", rules::length{1, 40})
        .column(&account::invite_code, "invite_code",
                rules::custom{[](const std::string& code) { return code.size() == 8 && code.starts_with("INV"); },
                              "invite_format", "must be 8 characters starting with INV"})
        // An entity rule sees the whole entity: for rules across columns.
        .rule(
            "team_plan_needs_team_name", [](const account& a) { return a.plan != "team" || a.team_name.has_value(); },
            "the team plan needs a team_name");
  }
};

int main() {
  ormkit::memory::backend db;
  ormkit::repository<account> accounts(db);

  account ok;
  ok.external_id = "3f2b8c1e-9d4a-4f7b-a2c6-5e8d1b0f9a37";
  ok.username = "ada_l";
  ok.email = "ada@example.com";
  ok.password = "correct horse battery";
  ok.age = 36;
  ok.plan = "team";
  ok.team_name = "Analytical Engines";
  fmt::print("valid account: {} violations\n", ormkit::validate(ok).size());
  ok = accounts.insert(ok).value();

  // Everything wrong at once: validation collects all violations, it does not stop at the first.
  account bad;
  bad.external_id = "not-a-uuid";
  bad.username = "";  // fails not_empty, length and pattern: each rule reports
  bad.email = "grace@";
  bad.password = "hunter2";
  bad.age = 7;
  bad.plan = "gold";
  bad.invite_code = "HELLO";
  fmt::print("\nvalidate(bad):\n");
  for (const auto& v : ormkit::validate(bad))
    fmt::print("  [{}/{}] {}\n", v.column.empty() ? "<entity>" : v.column, v.rule, v.message);

  // Writes validate first: a rejected insert touches nothing, not even the id counter.
  auto rejected = accounts.insert(bad);
  fmt::print("\ninsert(bad): {} with {} violations\n", rejected.error().code.message(),
             rejected.error().violations.size());
  fmt::print("accounts stored: {}\n", accounts.count().value());

  // A batch is all or nothing; the message names the item that failed.
  account second = ok;
  second.id = 0;
  second.external_id = "0c7e1d2a-5b3f-4e8d-9a1c-2f6b7d8e9a0b";
  second.username = "grace_h";
  second.email = "grace@example.com";
  account third = second;
  third.external_id = "9b1f3c5d-7e2a-4b6c-8d0e-1f3a5b7c9d2e";
  third.username = "alan_t";
  third.age = 7;
  auto batch = accounts.insert_many({second, third});
  fmt::print("insert_many: {}\n", batch.error().message);
  fmt::print("accounts stored: {}\n", accounts.count().value());

  // After the fix, the next id is 2: the failed writes consumed nothing.
  auto grace = accounts.insert(second).value();
  fmt::print("grace stored with id {}\n", grace.id);

  // An update is validated the same way, and the stored row is left as it was.
  grace.age = 200;
  auto too_old = accounts.update(grace);
  fmt::print("update: {}\n", too_old.error().describe());
  fmt::print("stored age: {}\n", accounts.get(grace.id).value().age);

  // `ormkit::check` folds the list into a status whose message summarizes it.
  account almost = ok;
  almost.team_name.reset();
  fmt::print("check: {}\n", ormkit::check(almost).error().message);
}

// Expected output:
// valid account: 0 violations
//
// validate(bad):
//   [external_id/uuid] accounts.external_id: must be a UUID (8-4-4-4-12 hex digits) (got "not-a-uuid")
//   [username/not_empty] accounts.username: must not be empty (got "")
//   [username/length] accounts.username: must be between 3 and 20 characters long, not 0 (got "")
//   [username/pattern] accounts.username: must match the pattern "[a-z][a-z0-9_]*" (got "")
//   [email/email] accounts.email: must be a valid e-mail address (got "grace@")
//   [password/length] accounts.password: must be between 12 and 128 characters long
//   [age/range] accounts.age: must be between 13 and 130 (got 7)
//   [plan/one_of] accounts.plan: must be one of free, pro, team (got "gold")
//   [invite_code/invite_format] accounts.invite_code: must be 8 characters starting with INV (got "HELLO")
//
// insert(bad): validation_failed with 9 violations
// accounts stored: 1
// insert_many: accounts: 1 violation: accounts.age: must be between 13 and 130 (got 7) (batch item 1)
// accounts stored: 1
// grace stored with id 2
// update: [ormkit.validation_failed] accounts: 1 violation: accounts.age: must be between 13 and 130 (got 200)
// stored age: 36
// check: accounts: 1 violation: accounts: the team plan needs a team_name
