// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// Shared by the tests/unit/postgres_*.cpp files (compiled only when ormkit::postgres exists):
//
// - `server_options()`: the server scripts/test.sh started (ORMKIT_TEST_POSTGRES). With
//   ORMKIT_SKIP_POSTGRES=1 the test WARNs and returns (the only way to skip); with neither
//   variable set it FAILs.
// - `scratch_schema`: a fresh schema of the test's own, dropped at the end.
// - `frozen`: SIGSTOPs a server process for a scope (always SIGCONTs it again).
// - `with_ann_and_bob`: a scratch schema with a `repository<user>` holding Ann and Bob.
// - `statement_log`: a statement observer that keeps every statement's SQL.

#include <ormkit/postgres.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/statement_observer.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>
#include <algorithm>

#include <sys/types.h>

#include "../conformance/backends.hpp"

namespace postgres_test {

using namespace std::chrono_literals;

/// The shared server's options, or nullopt (after a WARN) when ORMKIT_SKIP_POSTGRES=1.
inline auto server_options() -> std::optional<ormkit::postgres::options> {
  if (const char* skip = std::getenv("ORMKIT_SKIP_POSTGRES"); skip && std::string_view(skip) == "1") {
    WARN("ORMKIT_SKIP_POSTGRES=1: PostgreSQL test skipped");
    return std::nullopt;
  }
  const char* conninfo = std::getenv("ORMKIT_TEST_POSTGRES");
  if (conninfo == nullptr || *conninfo == '\0')
    FAIL("ORMKIT_TEST_POSTGRES is not set. Run the tests through scripts/test.sh (it starts a PostgreSQL "
         "server), or `bash scripts/postgres.sh run <test binary>`, or export ORMKIT_SKIP_POSTGRES=1 to skip "
         "the PostgreSQL tests on purpose.");
  return ormkit_test::postgres_test_options();
}

/// A value of a conninfo keyword in ORMKIT_TEST_POSTGRES ("port" -> "54321"), or "".
inline auto conninfo_value(const std::string& conninfo, std::string_view key) -> std::string {
  const std::string needle = std::string(key) + "=";
  auto p = conninfo.find(needle);
  while (p != std::string::npos && p > 0 && conninfo[p - 1] != ' ') p = conninfo.find(needle, p + 1);
  if (p == std::string::npos) return {};
  auto start = p + needle.size();
  auto end = conninfo.find(' ', start);
  return conninfo.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

/// A fresh schema on the shared server and a backend whose search_path points at it;
/// the schema and everything in it is dropped on destruction.
class scratch_schema {
 public:
  explicit scratch_schema(ormkit::postgres::options o) : opts_(std::move(o)) {
    opts_.schema = ormkit_test::unique_schema_name("ormkit_unit");
    db = ormkit::postgres::backend::open(opts_).value();
    db->execute("CREATE SCHEMA " + ormkit::postgres::quote_identifier(opts_.schema)).value();
  }
  scratch_schema(const scratch_schema&) = delete;
  auto operator=(const scratch_schema&) -> scratch_schema& = delete;
  ~scratch_schema() {
    db.reset();
    if (auto admin = ormkit::postgres::backend::open(opts_))
      (void)(*admin)->execute("DROP SCHEMA IF EXISTS " + ormkit::postgres::quote_identifier(opts_.schema) +
                              " CASCADE");
  }

  /// Another connection to the same schema.
  [[nodiscard]] auto open_another(std::chrono::milliseconds call_timeout = 60s) const
      -> std::unique_ptr<ormkit::postgres::backend> {
    auto o = opts_;
    o.call_timeout = call_timeout;
    return ormkit::postgres::backend::open(o).value();
  }
  [[nodiscard]] auto options() const -> const ormkit::postgres::options& { return opts_; }

  std::unique_ptr<ormkit::postgres::backend> db;

 private:
  ormkit::postgres::options opts_;
};

/// The server process behind `db`'s connection.
inline auto backend_pid(ormkit::postgres::backend& db) -> pid_t {
  auto rows = db.query("SELECT pg_backend_pid()::int8").value();
  return static_cast<pid_t>(std::get<std::int64_t>(rows.at(0).at(0)));
}

/// SIGSTOPs a process for the lifetime of the object.
class frozen {
 public:
  explicit frozen(pid_t pid) : pid_(pid) { REQUIRE(::kill(pid_, SIGSTOP) == 0); }
  frozen(const frozen&) = delete;
  auto operator=(const frozen&) -> frozen& = delete;
  ~frozen() { thaw(); }
  void thaw() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
    pid_ = 0;
  }

 private:
  pid_t pid_;
};

/// A scratch schema, a `repository<user>` over its backend, and Ann and Bob inserted.
/// Take the parts with `auto& [scratch, db, users, ann, bob] = fixture;`.
struct with_ann_and_bob {
  explicit with_ann_and_bob(const ormkit::postgres::options& o)
      : scratch(o), db(*scratch.db), users(db),
        ann(users.insert(ormkit_test::make_user("ann@example.com", "Ann")).value()),
        bob(users.insert(ormkit_test::make_user("bob@example.com", "Bob")).value()) {}
  scratch_schema scratch;
  ormkit::postgres::backend& db;
  ormkit::repository<ormkit_test::user> users;
  ormkit_test::user ann;
  ormkit_test::user bob;
};

/// Keeps the SQL of every statement a backend runs.
struct statement_log : ormkit::statement_observer {
  std::vector<std::string> sql;
  void executed(const ormkit::statement_event& e) override { sql.emplace_back(e.sql); }
  /// How many contain `part`.
  [[nodiscard]] auto count(std::string_view part) const -> std::size_t {
    return static_cast<std::size_t>(std::count_if(
        sql.begin(), sql.end(), [&](const std::string& s) { return s.find(part) != std::string::npos; }));
  }
  /// How many start with `prefix`.
  [[nodiscard]] auto count_starting(std::string_view prefix) const -> std::size_t {
    return static_cast<std::size_t>(std::count_if(sql.begin(), sql.end(), [&](const std::string& s) {
      return std::string_view(s).substr(0, prefix.size()) == prefix;
    }));
  }
};

}  // namespace postgres_test
