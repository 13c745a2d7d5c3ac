// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// 08_json: exporting entities to JSON and importing them back, driven by the
// same descriptor: column names as keys, secrets left out, and imports that
// say exactly which field of which entity is wrong.

#include <ormkit/json.hpp>  // the JSON codec; includes nlohmann/json.hpp
#include <ormkit/memory.hpp>
#include <ormkit/repository.hpp>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

using namespace std::chrono_literals;

struct user {
  std::int64_t id{};
  std::string email{};
  std::string api_token{};
  std::vector<std::string> tags{};  // stored as a JSON array; exported as one
  std::chrono::system_clock::time_point created{};

  friend constexpr auto ormkit_describe(std::type_identity<user>) {
    using namespace ormkit;
    return describe<user>("users")
        .column(&user::id, "id", primary_key, auto_increment)
        .column(&user::email, "email", unique, rules::email{})
        .column(&user::api_token, "api_token", secret)
        .column(&user::tags, "tags")
        .column(&user::created, "created_at", created_at);
  }
};

// A fixed clock keeps the example's output the same on every run.
auto fixed_now() -> std::chrono::system_clock::time_point {
  return std::chrono::sys_days{std::chrono::year{2026} / 3 / 14} + 9h + 26min + 53s;
}

int main() {
  ormkit::memory::backend db;
  ormkit::repository<user> users(db, {.clock = &fixed_now});
  users.insert({.email = "ada@example.com", .api_token = "tok-1", .tags = {"admin", "beta"}}).value();
  users.insert({.email = "alan@example.com", .api_token = "tok-2"}).value();

  // One entity: keys sorted, time points as ISO-8601 UTC, the secret left out.
  auto ada = users.get(1).value();
  fmt::print("{}\n", ormkit::to_json_text(ada).value());

  // A table export is an array of entities. Pass include_secrets for a full backup.
  nlohmann::json table = nlohmann::json::array();
  auto all = users.find_all().value();
  for (const auto& u : all) table.push_back(ormkit::to_json(u).value());
  fmt::print("table export, {} rows:\n", table.size());
  for (const auto& row : table) fmt::print("  {}\n", row.dump());
  fmt::print("with secrets: {}\n", ormkit::to_json_text(ada, {.include_secrets = true}).value());

  // Import: the inverse. A missing auto-increment key and a missing secret are allowed.
  auto grace = ormkit::from_json_text<user>(
      R"({"email": "grace@example.com", "tags": ["navy"], "created_at": "2026-03-14T10:00:00+01:00"})");
  fmt::print("imported {} tags={} created={}\n", grace->email, grace->tags.size(),
             ormkit::to_json(*grace).value()["created_at"].get<std::string>());
  users.insert(*grace).value();
  fmt::print("users now: {}\n", users.count().value());

  // Errors name the entity, the column and the JSON path; nothing is guessed or coerced.
  const char* bad_inputs[] = {
      R"({"email": "x@example.com", "nickname": "x"})",                        // unknown field
      R"({"id": "7", "email": "x@example.com"})",                              // wrong type
      R"({"email": "x@example.com", "tags": ["a", 2]})",                       // wrong type inside an array
      R"({"email": "x@example.com", "tags": [], "created_at": "yesterday"})",  // not a time
      R"({"email": "x@example.com", "email": "y@example.com"})",               // duplicate key
      R"({"email": "x@example.com", "tags": []})",                             // missing created_at
      R"({"email": "x@example.com")",                                          // malformed
  };
  for (const char* text : bad_inputs) fmt::print("error: {}\n", ormkit::from_json_text<user>(text).error().message);

  // The codec does not validate; the repository does, when the import is written.
  auto no_email = ormkit::from_json_text<user>(R"({"email": "not-an-address", "tags": [], "created_at": 0})").value();
  fmt::print("insert: {}\n", users.insert(no_email).error().message);
}

// The block below is compared with the output line by line: keep clang-format away.
// clang-format off
// Expected output:
// {"created_at":"2026-03-14T09:26:53.000000Z","email":"ada@example.com","id":1,"tags":["admin","beta"]}
// table export, 2 rows:
//   {"created_at":"2026-03-14T09:26:53.000000Z","email":"ada@example.com","id":1,"tags":["admin","beta"]}
//   {"created_at":"2026-03-14T09:26:53.000000Z","email":"alan@example.com","id":2,"tags":[]}
// with secrets: {"api_token":"tok-1","created_at":"2026-03-14T09:26:53.000000Z","email":"ada@example.com","id":1,"tags":["admin","beta"]}
// imported grace@example.com tags=1 created=2026-03-14T09:00:00.000000Z
// users now: 3
// error: users: unknown field "nickname" (at $.nickname)
// error: users.id: expected an integer, got string "7" (at $.id)
// error: users.tags: expected a string, got number 2 (at $.tags[1])
// error: users.created_at: expected ISO-8601 UTC text such as "2026-11-21T23:40:11.123456Z" or integer microseconds, got string "yesterday" (at $.created_at)
// error: users: duplicate key "email" in a JSON object (at $)
// error: users.created_at: required field is missing (at $.created_at)
// error: users: malformed JSON at byte 26, line 1, column 26: syntax error while parsing object - unexpected end of input; expected '}'
// insert: users: 1 violation: users.email: must be a valid e-mail address (got "not-an-address")
