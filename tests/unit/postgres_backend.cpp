// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// The PostgreSQL backend beyond the conformance suite: connection errors (wrong
// password, missing database, unreachable server, malformed connection string: each
// its own error naming host and database, never the password); text PostgreSQL cannot
// store rejected before it is sent; DDL types per column kind; SQLSTATE in `native`
// with the constraint name; injection attempts stored verbatim; isolation levels and
// savepoints; serialization failures retried by `transact`; statement_timeout; the
// client-side deadline against a stopped server process (SIGSTOP), for a statement and
// for a COMMIT (commit_unknown); a lost connection reported as unavailable, then
// reopened by the next call.

#include <ormkit/postgres.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/transaction.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"
#include "postgres_support.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace {

using namespace postgres_test;
using namespace ormkit_test;
using ormkit::col;
using ormkit::errc;
namespace pg = ormkit::postgres;

}  // namespace

TEST_CASE("postgres: SQLSTATEs map to the errc callers handle", "[postgres]") {
  CHECK(pg::errc_of("23505") == errc::conflict);
  CHECK(pg::errc_of("23503") == errc::conflict);
  CHECK(pg::errc_of("23514") == errc::conflict);
  CHECK(pg::errc_of("23502") == errc::invalid_argument);
  CHECK(pg::errc_of("40001") == errc::busy);
  CHECK(pg::errc_of("40P01") == errc::busy);
  CHECK(pg::errc_of("57014") == errc::timeout);
  CHECK(pg::errc_of("08006") == errc::unavailable);
  CHECK(pg::errc_of("57P01") == errc::unavailable);
  CHECK(pg::errc_of("53100") == errc::full);
  CHECK(pg::errc_of("22021") == errc::invalid_argument);
  CHECK(pg::errc_of("42P01") == errc::schema_mismatch);
  CHECK(pg::errc_of("28P01") == errc::cannot_open);
  CHECK(pg::errc_of("3D000") == errc::cannot_open);
  CHECK(pg::errc_of("25006") == errc::readonly);
  CHECK(pg::errc_of("25P02") == errc::transaction_state);
  CHECK(pg::errc_of("XX001") == errc::corrupt);
  CHECK(pg::errc_of("42601") == errc::backend_error);
  CHECK(pg::errc_of("") == errc::backend_error);
  CHECK(pg::is_retryable("40001"));
  CHECK(pg::is_retryable("40P01"));
  CHECK_FALSE(pg::is_retryable("23505"));
  // The transaction helper retries exactly the transient ones.
  CHECK(ormkit::is_transient(pg::errc_of("40001")));
  CHECK(ormkit::is_transient(pg::errc_of("08006")));
  CHECK_FALSE(ormkit::is_transient(pg::errc_of("23505")));
}

TEST_CASE("postgres: text that PostgreSQL cannot store is named and rejected before it is sent", "[postgres]") {
  CHECK(pg::detail::text_problem("plain ascii").empty());
  CHECK(pg::detail::text_problem("\xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80").empty());
  CHECK(contains(pg::detail::text_problem(std::string("a\0b", 3)), "NUL byte at offset 1"));
  CHECK(contains(pg::detail::text_problem("ab\xff"), "not valid UTF-8 at byte offset 2"));
  CHECK(contains(pg::detail::text_problem("\xc0\x80"), "offset 0"));          // overlong NUL
  CHECK(contains(pg::detail::text_problem("\xed\xa0\x80"), "offset 0"));      // a surrogate
  CHECK(contains(pg::detail::text_problem("x\xf4\x90\x80\x80"), "offset 1"));  // above U+10FFFF
  CHECK(contains(pg::detail::text_problem("\xe6\x97"), "offset 0"));          // cut short

  auto o = server_options();
  if (!o) return;
  scratch_schema s(*o);
  ormkit::repository<person> people(*s.db);
  auto nul = people.insert(make_person(std::string("an\0ne", 5)));
  REQUIRE_FALSE(nul.has_value());
  CAPTURE(nul.error().message);
  CHECK(nul.error().is(errc::invalid_argument));
  CHECK(contains(nul.error().message, "people.name: text contains a NUL byte at offset 2"));
  CHECK(nul.error().native.empty());  // never reached the server

  auto bad = people.insert(make_person("ok", 3, std::string("K\xf6ln")));
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().is(errc::invalid_argument));
  CHECK(contains(bad.error().message, "people.city: text is not valid UTF-8 at byte offset 1"));

  // In a query too, and in a batch (nothing of it written).
  auto q = people.find(ormkit::query<person>().where(col(&person::city) == std::string("\xff")));
  CHECK(q.error().is(errc::invalid_argument));
  std::vector<person> batch{make_person("fine"), make_person(std::string("x\0", 2))};
  auto many = people.insert_many(batch);
  REQUIRE_FALSE(many.has_value());
  CHECK(contains(many.error().message, "(batch item 1)"));
  CHECK(people.count().value() == 0u);
}

TEST_CASE("postgres: connection failures are told apart and never show the password", "[postgres]") {
  auto o = server_options();
  if (!o) return;
  const std::string port = conninfo_value(o->conninfo, "port");
  const std::string host = conninfo_value(o->conninfo, "host");
  REQUIRE_FALSE(port.empty());
  const std::string secret = "pw-Zq8'secret";

  SECTION("a wrong password") {
    pg::options w = *o;
    w.conninfo = "host=" + host + " port=" + port + " dbname=postgres user=ormkit_auth password='pw-Zq8\\'secret'";
    auto db = pg::backend::open(w);
    REQUIRE_FALSE(db.has_value());
    CAPTURE(db.error().message);
    CHECK(db.error().is(errc::cannot_open));
    CHECK(db.error().native == "28P01");
    CHECK(contains(db.error().message, "database \"postgres\" on " + host + ":" + port + " as user \"ormkit_auth\""));
    CHECK(contains(db.error().message, "password is wrong or missing"));
    CHECK_FALSE(contains(db.error().message, "Zq8"));
    CHECK_FALSE(contains(db.error().native, "Zq8"));
    // The right one works (scripts/postgres.sh exported it).
    if (const char* right = std::getenv("ORMKIT_TEST_POSTGRES_AUTH")) {
      w.conninfo = "host=" + host + " port=" + port + " dbname=postgres user=ormkit_auth password=" + right;
      auto ok = pg::backend::open(w);
      CHECK(ok.has_value());
    }
  }
  SECTION("a missing database") {
    pg::options w = *o;
    w.conninfo = "host=" + host + " port=" + port + " user=postgres dbname=no_such_db_here password=" + secret;
    auto db = pg::backend::open(w);
    REQUIRE_FALSE(db.has_value());
    CAPTURE(db.error().message);
    CHECK(db.error().is(errc::cannot_open));
    CHECK(db.error().native == "3D000");
    CHECK(contains(db.error().message, "database \"no_such_db_here\" on " + host + ":" + port));
    CHECK(contains(db.error().message, "the database does not exist"));
    CHECK_FALSE(contains(db.error().message, "Zq8"));
  }
  SECTION("an unreachable server") {
    pg::options w = *o;
    // Port 1 on loopback: nothing listens there (and we never run anything on it).
    w.conninfo = "host=127.0.0.1 port=1 user=postgres dbname=appdb password=" + secret;
    auto db = pg::backend::open(w);
    REQUIRE_FALSE(db.has_value());
    CAPTURE(db.error().message);
    CHECK(db.error().is(errc::unavailable));
    CHECK(db.error().native == "08001");
    CHECK(contains(db.error().message, "database \"appdb\" on 127.0.0.1:1"));
    CHECK(contains(db.error().message, "cannot be reached"));
    CHECK_FALSE(contains(db.error().message, "Zq8"));
  }
  SECTION("a malformed connection string") {
    pg::options w = *o;
    w.conninfo = "host=127.0.0.1 password Zq8secret";
    auto db = pg::backend::open(w);
    REQUIRE_FALSE(db.has_value());
    CAPTURE(db.error().message);
    CHECK(db.error().is(errc::invalid_argument));
    CHECK(contains(db.error().message, "invalid connection string"));
    CHECK_FALSE(contains(db.error().message, "Zq8"));
  }
}

TEST_CASE("postgres: DDL from descriptors uses the PostgreSQL types and quotes every identifier", "[postgres]") {
  auto o = server_options();
  if (!o) return;
  scratch_schema s(*o);
  ormkit::repository<all_types> rows(*s.db);
  REQUIRE(rows.count().value() == 0u);
  auto types = s.db
                   ->query("SELECT column_name::text, data_type::text FROM information_schema.columns "
                           "WHERE table_schema = current_schema() AND table_name = 'all_types'")
                   .value();
  std::map<std::string, std::string> by_name;
  for (const auto& r : types) by_name[std::get<std::string>(r[0])] = std::get<std::string>(r[1]);
  CHECK(by_name["id"] == "bigint");
  CHECK(by_name["i8"] == "bigint");
  CHECK(by_name["u64"] == "bigint");
  CHECK(by_name["f32"] == "double precision");
  CHECK(by_name["flag"] == "boolean");
  CHECK(by_name["text"] == "text");
  CHECK(by_name["bytes"] == "bytea");
  CHECK(by_name["when_at"] == "timestamp with time zone");
  CHECK(by_name["seconds"] == "double precision");
  CHECK(by_name["shade"] == "text");
  CHECK(by_name["lvl"] == "bigint");

  // A time point is a real timestamptz: the server reads it as such.
  all_types e;
  e.when = time_point(std::chrono::seconds(1'700'000'000));
  REQUIRE(rows.insert(e).has_value());
  auto when = s.db->query("SELECT to_char(when_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') FROM all_types").value();
  CHECK(std::get<std::string>(when.at(0).at(0)) == "2023-11-14 22:13:20");

  // Before 4714 BC is refused with the column named (a system_clock time point cannot
  // even hold such an instant, but a custom column type could).
  pg::parameters p;
  auto early = p.add(pg::oid::timestamptz, ormkit::value_view(pg::min_timestamp_us - 1), "all_types.when_at");
  REQUIRE_FALSE(early.has_value());
  CHECK(early.error().is(errc::invalid_argument));
  CHECK(contains(early.error().message, "all_types.when_at: timestamp"));
  CHECK(p.add(pg::oid::timestamptz, ormkit::value_view(pg::min_timestamp_us), "all_types.when_at").has_value());
}

TEST_CASE("postgres: a conflict keeps the SQLSTATE and the constraint name, never a secret", "[postgres]") {
  auto o = server_options();
  if (!o) return;
  scratch_schema s(*o);
  ormkit::repository<user> users(*s.db);
  auto ann = make_user("ann@example.com", "Ann");
  ann.token = "s3cr3t-token";
  REQUIRE(users.insert(ann).has_value());
  auto twin = make_user("ann@example.com", "Twin");
  auto dup = users.insert(twin);
  REQUIRE_FALSE(dup.has_value());
  CHECK(dup.error().is(errc::conflict));
  CHECK(dup.error().native.rfind("23505 ", 0) == 0);
  CAPTURE(dup.error().native);
  auto other = make_user("other@example.com", "Other");
  other.token = "s3cr3t-token";
  auto secret = users.insert(other);
  REQUIRE_FALSE(secret.has_value());
  CHECK(secret.error().message == "users.token: value <secret> already exists (" +
                                      secret.error().native.substr(6) + ")");
  CHECK_FALSE(contains(secret.error().message, "s3cr3t"));
  CHECK_FALSE(contains(secret.error().native, "s3cr3t"));
}

TEST_CASE("postgres: injection attempts are values, stored and matched verbatim", "[postgres]") {
  auto o = server_options();
  if (!o) return;
  scratch_schema s(*o);
  ormkit::repository<person> people(*s.db);
  const std::vector<std::string> attempts{
      "'; DROP TABLE people; --", "\"people\"; DELETE FROM people", "$1", "\\x00", "a' OR '1'='1",
      "%' OR name LIKE '%", "E'\\''", "$$; SELECT pg_sleep(10); $$"};
  for (const auto& a : attempts) REQUIRE(people.insert(make_person(a, 1, a)).has_value());
  for (const auto& a : attempts) {
    CAPTURE(a);
    auto found = people.find(ormkit::query<person>().where(col(&person::name) == a && col(&person::city) == a)).value();
    REQUIRE(found.size() == 1);
    CHECK(found[0].name == a);
    // As a LIKE pattern with its special characters escaped it matches only itself.
    std::string pattern;
    for (char c : a) {
      if (c == '%' || c == '_' || c == '\\') pattern += '\\';
      pattern += c;
    }
    CHECK(people.count(col(&person::name).like(pattern)).value() == 1u);
  }
  CHECK(people.count().value() == attempts.size());
}

TEST_CASE("postgres: isolation levels and savepoints", "[postgres]") {
  auto o = server_options();
  if (!o) return;
  scratch_schema s(*o);
  auto level = [&] { return std::get<std::string>(s.db->query("SHOW transaction_isolation").value().at(0).at(0)); };
  REQUIRE(s.db->begin(pg::isolation::serializable).has_value());
  CHECK(level() == "serializable");
  CHECK(s.db->begin().error().is(errc::transaction_state));
  REQUIRE(s.db->rollback().has_value());
  REQUIRE(s.db->begin(pg::isolation::repeatable_read).has_value());
  CHECK(level() == "repeatable read");
  REQUIRE(s.db->commit().has_value());
  CHECK(s.db->commit().error().is(errc::transaction_state));

  ormkit::repository<person> people(*s.db);
  REQUIRE(s.db->begin().has_value());
  REQUIRE(people.insert(make_person("before")).has_value());
  REQUIRE(s.db->savepoint("sp one").has_value());  // any name: it is quoted
  REQUIRE(people.insert(make_person("inside")).has_value());
  REQUIRE(s.db->rollback_to("sp one").has_value());
  REQUIRE(s.db->release("sp one").has_value());
  CHECK(s.db->release("sp one").error().is(errc::transaction_state));
  // A failed write inside the transaction leaves it usable (as on the other backends).
  auto first = people.find_all().value().at(0);
  REQUIRE(people.insert(make_person("after")).has_value());
  CHECK(people.insert(first).error().is(errc::conflict));  // its key is taken
  REQUIRE(s.db->commit().has_value());
  std::vector<std::string> names;
  for (const auto& p : people.find(ormkit::query<person>().order_by(&person::name)).value()) names.push_back(p.name);
  CHECK(names == std::vector<std::string>{"after", "before"});
}

TEST_CASE("postgres: a serialization failure is errc::busy and transact runs the transaction again",
          "[postgres]") {
  auto o = server_options();
  if (!o) return;
  scratch_schema s(*o);
  auto other = s.open_another();
  ormkit::repository<counter> mine(*s.db);
  ormkit::repository<counter> theirs(*other);
  REQUIRE(mine.insert(make_counter(1, 0)).has_value());

  pg::options serializable = s.options();
  serializable.default_isolation = pg::isolation::serializable;
  auto db = pg::backend::open(serializable).value();
  ormkit::repository<counter> counters(*db);
  int attempts = 0;
  auto st = ormkit::transact(*db, [&](ormkit::transaction&) -> ormkit::status {
    ++attempts;
    auto c = counters.get(1);
    if (!c) return std::move(c).error();
    if (attempts == 1) {
      // Another connection changes the row after this transaction's snapshot.
      auto t = theirs.get(1).value();
      t.value += 100;
      ORMKIT_TRY(theirs.update(t));
    }
    c->value += 1;
    auto u = counters.update(*c);
    if (!u) {
      if (attempts == 1) {
        CHECK(u.error().is(errc::busy));
        CHECK(u.error().native.rfind("40001", 0) == 0);
      }
      return std::move(u).error();
    }
    return {};
  });
  REQUIRE(st.has_value());
  CHECK(attempts == 2);
  CHECK(mine.get(1).value().value == 101);
}

TEST_CASE("postgres: statement_timeout cancels on the server and the connection stays usable", "[postgres]") {
  auto o = server_options();
  if (!o) return;
  o->statement_timeout = 200ms;
  auto db = pg::backend::open(*o).value();
  auto slow = db->query("SELECT pg_sleep(5)::text");
  REQUIRE_FALSE(slow.has_value());
  CHECK(slow.error().is(errc::timeout));
  CHECK(slow.error().native == "57014");
  CHECK(db->connected());
  CHECK(db->query("SELECT 1::int8").value().at(0).at(0) == ormkit::value(std::int64_t{1}));
}

TEST_CASE("postgres: a stopped server process cannot hold a caller past its deadline", "[postgres]") {
  auto o = server_options();
  if (!o) return;
  scratch_schema s(*o);
  auto db = s.open_another(300ms);
  ormkit::repository<person> people(*db);
  REQUIRE(people.insert(make_person("ann")).has_value());

  SECTION("a statement: timeout, then the next call opens a new connection") {
    {
      frozen stop(backend_pid(*db));
      auto r = people.count();
      REQUIRE_FALSE(r.has_value());
      CAPTURE(r.error().message);
      CHECK(r.error().is(errc::timeout));
      CHECK(contains(r.error().message, "no answer within 300 ms"));
      CHECK_FALSE(db->connected());
    }
    CHECK(people.count().value() == 1u);
    CHECK(db->connected());
  }
  SECTION("a COMMIT: the outcome is unknown, and said so") {
    REQUIRE(db->begin().has_value());
    REQUIRE(people.insert(make_person("bob")).has_value());
    {
      frozen stop(backend_pid(*db));
      auto c = db->commit();
      REQUIRE_FALSE(c.has_value());
      CAPTURE(c.error().message);
      CHECK(c.error().is(errc::commit_unknown));
      CHECK(contains(c.error().message, "may or may not have been committed"));
    }
    CHECK_FALSE(db->in_transaction());
    // The COMMIT may still run when the process resumes (its bytes are in the socket):
    // that is why the outcome is "unknown". The connection is new and usable either way.
    CHECK(people.count(col(&person::name) == std::string("ann")).value() == 1u);
  }
}

TEST_CASE("postgres: a connection the server ends is errc::unavailable, then reopened", "[postgres]") {
  auto o = server_options();
  if (!o) return;
  scratch_schema s(*o);
  ormkit::repository<person> people(*s.db);
  REQUIRE(people.insert(make_person("ann")).has_value());
  auto admin = s.open_another();
  const auto pid = backend_pid(*s.db);
  std::array<ormkit::value_view, 1> arg{std::int64_t{pid}};
  REQUIRE(admin->query("SELECT pg_terminate_backend($1::int4)::int4", arg).has_value());

  auto lost = people.count();
  REQUIRE_FALSE(lost.has_value());
  CAPTURE(lost.error().message);
  CHECK(lost.error().is(errc::unavailable));
  CHECK(ormkit::is_transient(errc::unavailable));
  CHECK(people.count().value() == 1u);

  // Inside a transaction the loss is reported, not papered over by a new connection.
  REQUIRE(s.db->begin().has_value());
  REQUIRE(admin->query("SELECT pg_terminate_backend($1::int4)::int4", std::array<ormkit::value_view, 1>{
                                                                          std::int64_t{backend_pid(*s.db)}})
              .has_value());
  CHECK_FALSE(people.insert(make_person("bob")).has_value());
  CHECK(people.count().error().is(errc::transaction_state));
  CHECK(s.db->rollback().has_value());
  CHECK(people.count().value() == 1u);
}
