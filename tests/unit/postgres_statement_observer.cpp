// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// Statement observers on the PostgreSQL backend and pool, as on SQLite
// (sqlite_statement_observer.cpp): every statement is reported with its SQL text ($n
// placeholders only), its parameters with secret columns redacted, the rows it read or
// changed and its failure; a throwing observer changes nothing.

#include <ormkit/persistence_manager.hpp>
#include <ormkit/postgres.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/statement_observer.hpp>
#include <ormkit/transaction.hpp>

#include "../support/catch.hpp"
#include "postgres_support.hpp"

#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace postgres_statement_observer_test {

using namespace postgres_test;

struct login {
  std::int64_t id{};
  std::string user{};
  std::string password{};
  std::int64_t version{};

  friend constexpr auto ormkit_describe(std::type_identity<login>) {
    using namespace ormkit;
    return describe<login>("logins")
        .column(&login::id, "id", primary_key, auto_increment)
        .column(&login::user, "user", unique)
        .column(&login::password, "password", secret)
        .column(&login::version, "version", version_column);
  }
};

struct seen {
  std::string sql;
  std::vector<std::string> parameters;
  std::uint64_t rows = 0;
  bool failed = false;
  std::string failure;
};

struct recorder : ormkit::statement_observer {
  std::mutex mutex;
  std::vector<seen> events;
  void executed(const ormkit::statement_event& e) override {
    CHECK(e.backend == "postgres");
    CHECK(e.duration.count() >= 0);
    std::lock_guard lock(mutex);
    events.push_back({std::string(e.sql), {e.parameters.begin(), e.parameters.end()}, e.rows, e.failure != nullptr,
                      e.failure ? e.failure->message : std::string()});
  }
  // The last event whose SQL starts with `prefix`.
  auto last(std::string_view prefix) -> const seen& {
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (std::string_view(it->sql).substr(0, prefix.size()) == prefix) return *it;
    FAIL("no statement starting with " << prefix);
    throw std::logic_error("unreachable");
  }
};

auto contains(std::string_view s, std::string_view part) -> bool { return s.find(part) != std::string_view::npos; }

TEST_CASE("postgres statement observer: every repository call reports its SQL, parameters and rows",
          "[postgres][observer]") {
  auto opts = server_options();
  if (!opts) return;
  scratch_schema scratch(*opts);
  auto& db = *scratch.db;
  ormkit::repository<login> logins(db);
  REQUIRE(db.ensure_table(logins.schema()));
  recorder r;
  db.observe_statements(&r);

  auto ann = logins.insert({0, "ann", "hunter2", 0}).value();
  {
    const auto& e = r.last("INSERT");
    CHECK(contains(e.sql, "$1"));
    CHECK_FALSE(contains(e.sql, "ann"));
    // The generated key is not a parameter; the secret column is redacted.
    CHECK(e.parameters == std::vector<std::string>{"\"ann\"", "<secret>", "1"});
    CHECK(e.rows == 1);
    CHECK_FALSE(e.failed);
  }

  CHECK(logins.get(ann.id).value().user == "ann");
  {
    const auto& e = r.last("SELECT");
    CHECK(e.parameters == std::vector<std::string>{std::to_string(ann.id)});
    CHECK(e.rows == 1);
  }
  CHECK_FALSE(logins.find_by_key(ann.id + 100).value());
  CHECK(r.last("SELECT").rows == 0);

  ann.password = "correct horse";
  ann = logins.update_columns(ann, &login::password).value();
  {
    const auto& e = r.last("UPDATE");
    // SET password, version; WHERE id, version (the stale-version check).
    CHECK(e.parameters == std::vector<std::string>{"<secret>", "2", std::to_string(ann.id), "1"});
    CHECK(e.rows == 1);
  }

  // A query: WHERE parameters carry their column, so a secret one is redacted.
  auto found = logins.find(ormkit::col(&login::password) == std::string("correct horse") &&
                           ormkit::col(&login::user) == std::string("ann"))
                   .value();
  CHECK(found.size() == 1);
  {
    const auto& e = r.last("SELECT");
    CHECK(e.parameters == std::vector<std::string>{"<secret>", "\"ann\""});
    CHECK(e.rows == 1);
    CHECK_FALSE(contains(e.sql, "correct horse"));
  }
  CHECK(logins.count(ormkit::col(&login::user) == std::string("ann")).value() == 1);
  CHECK(r.last("SELECT COUNT(*)").parameters == std::vector<std::string>{"\"ann\""});

  // A cursor holds its whole result: it is reported when the query ran, with every row.
  logins.insert({0, "bob", "pw", 0}).value();
  {
    auto stream = logins.stream().value();
    auto it = stream.begin();
    REQUIRE(it != stream.end());
  }
  CHECK(r.last("SELECT").rows == 2);

  // Transaction control runs through the observer too; a write in a transaction is one
  // statement (its savepoint is not reported).
  REQUIRE(ormkit::transact(db, [&](ormkit::transaction&) -> ormkit::status { return logins.erase(ann.id); }));
  CHECK(r.last("BEGIN").rows == 0);
  CHECK(r.last("DELETE").parameters == std::vector<std::string>{std::to_string(ann.id)});
  CHECK(r.last("DELETE").rows == 1);
  CHECK_FALSE(r.last("COMMIT").failed);

  // Batches: each statement is reported (a multi-row INSERT or a COPY: its rows).
  std::vector<login> batch;
  for (int i = 0; i < 5; ++i) batch.push_back({0, "batch" + std::to_string(i), "hunter2", 0});
  REQUIRE(logins.insert_many(batch));
  std::uint64_t batch_rows = 0;
  for (const auto& e : r.events)
    if (contains(e.sql, "INSERT") || contains(e.sql, "COPY")) batch_rows += e.failed ? 0 : e.rows;
  CHECK(batch_rows >= 5);

  // No secret value ever reached an event.
  for (const auto& e : r.events) {
    CHECK_FALSE(contains(e.sql, "hunter2"));
    for (const auto& p : e.parameters) {
      CHECK_FALSE(contains(p, "hunter2"));
      CHECK_FALSE(contains(p, "correct horse"));
    }
  }

  // Unset: nothing more is reported.
  db.observe_statements(nullptr);
  const auto before = r.events.size();
  logins.insert({0, "cy", "pw", 0}).value();
  CHECK(r.events.size() == before);
}

TEST_CASE("postgres statement observer: a failing statement is reported with its error", "[postgres][observer]") {
  auto opts = server_options();
  if (!opts) return;
  scratch_schema scratch(*opts);
  auto& db = *scratch.db;
  recorder r;
  db.observe_statements(&r);
  ormkit::repository<login> logins(db);
  logins.insert({0, "ann", "pw", 0}).value();
  auto dup = logins.insert({0, "ann", "other", 0});
  REQUIRE_FALSE(dup);
  CHECK(dup.error().is(ormkit::errc::conflict));
  {
    const auto& e = r.last("INSERT");
    CHECK(e.failed);
    CHECK(e.rows == 0);
    CHECK(contains(e.failure, "logins"));
    CHECK(e.failure == dup.error().message);
    CHECK(e.parameters == std::vector<std::string>{"\"ann\"", "<secret>", "1"});
  }

  // Inside a transaction too; the transaction stays usable.
  REQUIRE(db.begin());
  auto again = logins.insert({0, "ann", "other", 0});
  REQUIRE_FALSE(again);
  CHECK(again.error().is(ormkit::errc::conflict));
  CHECK(r.last("INSERT").failed);
  CHECK(logins.insert({0, "dee", "pw", 0}));
  REQUIRE(db.commit());
  CHECK(logins.find_all().value().size() == 2);
}

TEST_CASE("postgres statement observer: an observer that throws changes no result", "[postgres][observer]") {
  struct thrower : ormkit::statement_observer {
    int calls = 0;
    void executed(const ormkit::statement_event&) override {
      ++calls;
      throw std::runtime_error("observer failed");
    }
  } t;
  auto opts = server_options();
  if (!opts) return;
  scratch_schema scratch(*opts);
  auto& db = *scratch.db;
  db.observe_statements(&t);
  ormkit::repository<login> logins(db);
  auto ann = logins.insert({0, "ann", "pw", 0}).value();
  REQUIRE(ormkit::transact(db, [&](ormkit::transaction&) -> ormkit::status {
    ann.user = "anne";
    auto updated = logins.update(ann);
    if (!updated) return std::move(updated).error();
    return {};
  }));
  CHECK(logins.get(ann.id).value().user == "anne");
  CHECK(logins.find_all().value().size() == 1);
  CHECK(t.calls > 4);
}

TEST_CASE("postgres statement observer: on a pool and through the persistence manager",
          "[postgres][observer][pool]") {
  auto opts = server_options();
  if (!opts) return;
  scratch_schema scratch(*opts);
  auto o = scratch.options();
  auto p = ormkit::postgres::pool::open({.connection = o, .max_size = 2}).value();
  ormkit::persistence_manager<login> m(*p);
  recorder r;
  REQUIRE(m.observe_statements(&r));
  auto ann = m.repository<login>().insert({0, "ann", "pw", 0}).value();
  CHECK(r.last("INSERT").parameters == std::vector<std::string>{"\"ann\"", "<secret>", "1"});
  REQUIRE(ormkit::transact(*p, [&](ormkit::transaction&) -> ormkit::status {
    return m.repository<login>().erase(ann.id);
  }));
  CHECK(r.last("DELETE").rows == 1);
  REQUIRE(m.observe_statements(nullptr));
  const auto before = r.events.size();
  m.repository<login>().insert({0, "bob", "pw", 0}).value();
  CHECK(r.events.size() == before);
}

}  // namespace postgres_statement_observer_test
