// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// Statement observers on the SQLite backend (issue 5, "statement observers"): every
// statement the repository calls run is reported with its SQL text (placeholders
// only), its parameters with secret columns redacted, the rows it read or changed
// and its failure; a throwing observer changes nothing.

#include <ormkit/memory.hpp>
#include <ormkit/persistence_manager.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/sqlite.hpp>
#include <ormkit/statement_observer.hpp>
#include <ormkit/transaction.hpp>

#include "../support/catch.hpp"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace sqlite_statement_observer_test {

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
  std::vector<seen> events;
  void executed(const ormkit::statement_event& e) override {
    CHECK(e.backend == "sqlite");
    CHECK(e.duration.count() >= 0);
    events.push_back({std::string(e.sql), {e.parameters.begin(), e.parameters.end()}, e.rows, e.failure != nullptr,
                      e.failure ? e.failure->message : std::string()});
  }
  // The last event whose SQL starts with `prefix`.
  auto last(std::string_view prefix) const -> const seen& {
    for (auto it = events.rbegin(); it != events.rend(); ++it)
      if (std::string_view(it->sql).substr(0, prefix.size()) == prefix) return *it;
    FAIL("no statement starting with " << prefix);
    throw std::logic_error("unreachable");
  }
};

auto contains(std::string_view s, std::string_view part) -> bool { return s.find(part) != std::string_view::npos; }

TEST_CASE("sqlite statement observer: every repository call reports its SQL, parameters and rows",
          "[sqlite][observer]") {
  ormkit::sqlite::backend db;
  ormkit::repository<login> logins(db);
  REQUIRE(db.ensure_table(logins.schema()));
  recorder r;
  db.observe_statements(&r);

  auto ann = logins.insert({0, "ann", "hunter2", 0}).value();
  {
    const auto& e = r.last("INSERT");
    CHECK(contains(e.sql, "?"));
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
    CHECK(e.rows == 1);  // reported when the cursor ended
    CHECK_FALSE(contains(e.sql, "correct horse"));
  }
  CHECK(logins.count(ormkit::col(&login::user) == std::string("ann")).value() == 1);
  CHECK(r.last("SELECT COUNT(*)").parameters == std::vector<std::string>{"\"ann\""});

  // A cursor dropped before its end is still reported, with the rows it gave.
  logins.insert({0, "bob", "pw", 0}).value();
  {
    auto stream = logins.stream().value();
    auto it = stream.begin();
    REQUIRE(it != stream.end());
  }
  CHECK(r.last("SELECT").rows == 1);

  // Transaction control runs through the observer too.
  REQUIRE(ormkit::transact(db, [&](ormkit::transaction&) -> ormkit::status {
    return logins.erase(ann.id);
  }));
  CHECK(r.last("BEGIN").rows == 0);
  CHECK(r.last("DELETE").parameters == std::vector<std::string>{std::to_string(ann.id)});
  CHECK(r.last("DELETE").rows == 1);
  CHECK_FALSE(r.last("COMMIT").failed);

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

TEST_CASE("sqlite statement observer: a failing statement is reported with its error", "[sqlite][observer]") {
  recorder r;
  ormkit::sqlite::backend db({.observer = &r});
  ormkit::repository<login> logins(db);
  logins.insert({0, "ann", "pw", 0}).value();
  auto dup = logins.insert({0, "ann", "other", 0});
  REQUIRE_FALSE(dup);
  CHECK(dup.error().is(ormkit::errc::conflict));
  const auto& e = r.last("INSERT");
  CHECK(e.failed);
  CHECK(e.rows == 0);
  CHECK(contains(e.failure, "logins"));
  CHECK(e.parameters == std::vector<std::string>{"\"ann\"", "<secret>", "1"});
}

TEST_CASE("sqlite statement observer: an observer that throws changes no result", "[sqlite][observer]") {
  struct thrower : ormkit::statement_observer {
    int calls = 0;
    void executed(const ormkit::statement_event&) override {
      ++calls;
      throw std::runtime_error("observer failed");
    }
  } t;
  ormkit::sqlite::backend db({.observer = &t});
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

TEST_CASE("sqlite statement observer: set through the persistence manager", "[sqlite][observer][persistence_manager]") {
  ormkit::sqlite::backend db;
  ormkit::persistence_manager<login> m(db);
  recorder r;
  REQUIRE(m.observe_statements(&r));
  m.repository<login>().insert({0, "ann", "pw", 0}).value();
  CHECK(r.last("INSERT").parameters == std::vector<std::string>{"\"ann\"", "<secret>", "1"});
  REQUIRE(m.observe_statements(nullptr));
  const auto before = r.events.size();
  m.repository<login>().insert({0, "bob", "pw", 0}).value();
  CHECK(r.events.size() == before);

  // A memory backend runs no statements; through a backend_ref the manager cannot tell.
  ormkit::memory::backend mem;
  ormkit::persistence_manager<login> in_memory(mem);
  CHECK_FALSE(in_memory.observe_statements(&r));
  ormkit::persistence_manager<login> by_ref{ormkit::backend_ref(db)};
  CHECK_FALSE(by_ref.observe_statements(&r));
}

}  // namespace sqlite_statement_observer_test
