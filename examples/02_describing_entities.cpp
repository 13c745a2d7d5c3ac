// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// 02_describing_entities: what a descriptor can say about columns, keys and indexes,
// and the run-time schema and cache keys ormkit derives from it.

#include <ormkit/cache_key.hpp>
#include <ormkit/describe.hpp>
#include <ormkit/entity.hpp>

#include <fmt/core.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>

using time_point = std::chrono::system_clock::time_point;

struct team {
  std::int64_t id{};
  std::string slug{};

  friend constexpr auto ormkit_describe(std::type_identity<team>) {
    using namespace ormkit;
    return describe<team>("teams")
        .column(&team::id, "id", primary_key, auto_increment)
        .column(&team::slug, "slug", unique);
  }
};

struct member {
  std::int64_t id{};
  std::int64_t team_id{};
  std::string email{};
  std::string display_name{};
  std::string password_hash{};
  std::string locale{"en"};
  std::optional<std::string> bio{};
  std::int64_t version{};
  time_point created{};
  time_point updated{};
  std::optional<time_point> deleted{};
  int unread_cache = 0;  // computed at run time, never stored

  friend constexpr auto ormkit_describe(std::type_identity<member>) {
    using namespace ormkit;
    return describe<member>("members")
        .column(&member::id, "id", primary_key, auto_increment)
        .column(&member::team_id, "team_id", references<&team::id>)  // a foreign key
        .column(&member::email, "email", unique)
        .column(&member::display_name, "display_name")
        .column(&member::password_hash, "password_hash", secret)           // never in messages or exports
        .column(&member::locale, "locale", since(2), default_value("en"))  // added in schema version 2
        .column(&member::bio, "bio")                                       // std::optional: NULL allowed
        .column(&member::version, "version", version_column)               // optimistic locking
        .column(&member::created, "created_at", created_at)                // set on insert
        .column(&member::updated, "updated_at", updated_at)                // set on insert and update
        .column(&member::deleted, "deleted_at", soft_delete)               // erase() sets it; reads skip the row
        .transient(&member::unread_cache)
        .index("ix_members_team", &member::team_id)
        .unique("uq_members_team_name", &member::team_id, &member::display_name);
  }
};

// A composite primary key: the key type is std::tuple<std::string, std::int64_t>.
struct membership {
  std::string team_slug{};
  std::int64_t member_id{};
  std::string role{};

  friend constexpr auto ormkit_describe(std::type_identity<membership>) {
    using namespace ormkit;
    return describe<membership>("memberships")
        .column(&membership::team_slug, "team_slug", primary_key)
        .column(&membership::member_id, "member_id", primary_key)
        .column(&membership::role, "role");
  }
};

// The descriptor is checked at compile time, so this is known before main runs.
static_assert(ormkit::column_count_v<member> == 11);  // the transient member is not a column
static_assert(std::is_same_v<ormkit::primary_key_t<membership>, std::tuple<std::string, std::int64_t>>);

namespace {

// "primary_key auto_increment since=2 ...": the column's flags and extras, space separated.
auto notes_of(const ormkit::column_schema& c) -> std::string {
  namespace f = ormkit::column_flags;
  constexpr std::pair<std::uint32_t, const char*> flags[] = {
      {f::primary_key, "primary_key"}, {f::auto_increment, "auto_increment"},
      {f::unique, "unique"},           {f::version, "version"},
      {f::created_at, "created_at"},   {f::updated_at, "updated_at"},
      {f::soft_delete, "soft_delete"}, {f::secret, "secret"}};
  std::string out;
  auto add = [&](const std::string& note) { out += (out.empty() ? "" : " ") + note; };
  for (const auto& [bit, name] : flags)
    if (c.has(bit)) add(name);
  if (c.since > 1) add("since=" + std::to_string(c.since));
  if (c.default_value) add("default=" + ormkit::to_display(*c.default_value));
  if (c.references) add("-> " + std::string(c.references->table) + "." + std::string(c.references->column));
  return out;
}

void print_schema(const ormkit::table_schema& s) {
  fmt::print("table {} (schema version {})\n", s.name, s.version_number);
  for (const auto& c : s.columns)
    fmt::print("  {:<14} {:<13} {:<8} {}\n", c.name, c.type_name, c.nullable ? "null" : "not null", notes_of(c));
  // Indexes include one per `unique` column, named uq_<table>_<column>.
  for (const auto& ix : s.indexes) {
    std::string cols;
    for (auto i : ix.columns) cols += std::string(cols.empty() ? "" : ", ") + std::string(s.columns[i].name);
    fmt::print("  {} {} ({})\n", ix.unique ? "unique" : "index ", ix.name, cols);
  }
}

}  // namespace

int main() {
  // schema_of<T>() is what backends see: built once from the descriptor.
  print_schema(ormkit::schema_of<member>());
  print_schema(ormkit::schema_of<membership>());

  // Cache keys are "<namespace>:<table>:<schema hash>:<primary key>". The hash
  // changes when a column's name, type or key changes, which retires old entries.
  member m;
  m.id = 7;
  fmt::print("cache key of member 7:    {}\n", ormkit::cache_key_of(m));
  fmt::print("same key from the id:     {}\n", ormkit::cache_key<member>(7));
  fmt::print("composite key:            {}\n", ormkit::cache_key<membership>({"core", 7}));
  fmt::print("another namespace:        {}\n", ormkit::cache_key<team>(3, "billing"));
}

// Expected output:
// table members (schema version 2)
//   id             int64         not null primary_key auto_increment
//   team_id        int64         not null -> teams.id
//   email          string        not null unique
//   display_name   string        not null
//   password_hash  string        not null secret
//   locale         string        not null since=2 default="en"
//   bio            string        null
//   version        int64         not null version
//   created_at     timestamp_us  not null created_at
//   updated_at     timestamp_us  not null updated_at
//   deleted_at     timestamp_us  null     soft_delete
//   unique uq_members_email (email)
//   index  ix_members_team (team_id)
//   unique uq_members_team_name (team_id, display_name)
// table memberships (schema version 1)
//   team_slug      string        not null primary_key
//   member_id      int64         not null primary_key
//   role           string        not null
// cache key of member 7:    ormkit:members:2822d784811a7c72:7
// same key from the id:     ormkit:members:2822d784811a7c72:7
// composite key:            ormkit:memberships:4695814cc14d3b57:core:7
// another namespace:        billing:teams:31d50477db5fcc4d:3
