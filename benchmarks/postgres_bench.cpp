// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// The PostgreSQL benchmark: ormkit's everyday repository calls against raw libpq with
// prepared statements and one round trip per row (the limit for per-row calls), plus
// ormkit's insert_many (multi-row INSERTs) against that same per-row raw insert. A plain
// program, not Catch2; it never asserts on timings, but it checks every side's results
// (counts, found rows) and exits with 1 on a mismatch.
//
// Entity: User {id, name, email, age, score, active, bio (100 bytes)}; both sides use the
// table ormkit creates, each in a schema of its own (dropped at the end).
// Phases, each over N rows:
//   insert       N inserts in one transaction, generated ids read back
//   get          N point lookups by id
//   update       N updates of one column (score) by id in one transaction
//   erase        N deletes by id in one transaction
//   insert_many  ormkit: one insert_many of N rows; raw: the per-row insert again
// The sides alternate in each run; each phase reports the median over the runs of wall
// time and of this process's CPU time, in microseconds per row, with ormkit/raw ratios.
//
// Usage: ormkit_postgres_bench [--rows N] [--runs K]   (defaults: 20000 rows, 5 runs)
// The server: ORMKIT_TEST_POSTGRES (a libpq conninfo string), e.g. through
//   bash scripts/postgres.sh run build/release/benchmarks/ormkit_postgres_bench

#include <ormkit/postgres.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/transaction.hpp>

#include <libpq-fe.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct User {
  std::int64_t id{};
  std::string name{};
  std::string email{};
  int age{};
  double score{};
  bool active{};
  std::string bio{};

  friend constexpr auto ormkit_describe(std::type_identity<User>) {
    using namespace ormkit;
    return describe<User>("bench_users")
        .column(&User::id, "id", primary_key, auto_increment)
        .column(&User::name, "name")
        .column(&User::email, "email")
        .column(&User::age, "age")
        .column(&User::score, "score")
        .column(&User::active, "active")
        .column(&User::bio, "bio");
  }
};

auto make_users(std::size_t n) -> std::vector<User> {
  std::vector<User> out(n);
  for (std::size_t i = 0; i < n; ++i) {
    out[i].name = "user" + std::to_string(i);
    out[i].email = "user" + std::to_string(i) + "@example.com";
    out[i].age = static_cast<int>(i % 90);
    out[i].score = static_cast<double>(i) * 0.5;
    out[i].active = i % 2 == 0;
    out[i].bio = std::string(100, static_cast<char>('a' + static_cast<char>(i % 26)));
  }
  return out;
}

struct sample {
  double wall_us = 0;
  double cpu_us = 0;
};

template <class F>
auto timed(F&& f) -> sample {
  const auto w0 = std::chrono::steady_clock::now();
  const std::clock_t c0 = std::clock();
  f();
  const std::clock_t c1 = std::clock();
  const auto w1 = std::chrono::steady_clock::now();
  return {std::chrono::duration<double, std::micro>(w1 - w0).count(),
          static_cast<double>(c1 - c0) * 1e6 / CLOCKS_PER_SEC};
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "postgres_bench: %s\n", what.c_str());
  std::exit(1);
}

void check(bool ok, const std::string& what) {
  if (!ok) fail("result mismatch: " + what);
}

// Raw libpq: blocking calls on prepared statements, text parameters.
class raw_side {
 public:
  raw_side(const std::string& conninfo, const std::string& schema) {
    conn_ = PQconnectdb(conninfo.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) fail(std::string("raw connect: ") + PQerrorMessage(conn_));
    exec("SET search_path TO \"" + schema + "\"");
    prepare("ins", "INSERT INTO bench_users (name, email, age, score, active, bio) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id", 6);
    prepare("get", "SELECT id, name, email, age, score, active, bio FROM bench_users WHERE id = $1", 1);
    prepare("upd", "UPDATE bench_users SET score = $1 WHERE id = $2", 2);
    prepare("del", "DELETE FROM bench_users WHERE id = $1", 1);
  }
  raw_side(const raw_side&) = delete;
  auto operator=(const raw_side&) -> raw_side& = delete;
  ~raw_side() { PQfinish(conn_); }

  void exec(const std::string& sql) {
    PGresult* r = PQexec(conn_, sql.c_str());
    const auto st = PQresultStatus(r);
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) fail("raw: " + sql + ": " + PQerrorMessage(conn_));
    PQclear(r);
  }

  auto insert(std::vector<User>& users) -> void {
    exec("BEGIN");
    for (auto& u : users) {
      const std::string age = std::to_string(u.age), score = std::to_string(u.score);
      const char* v[] = {u.name.c_str(), u.email.c_str(), age.c_str(), score.c_str(), u.active ? "t" : "f", u.bio.c_str()};
      PGresult* r = PQexecPrepared(conn_, "ins", 6, v, nullptr, nullptr, 0);
      if (PQresultStatus(r) != PGRES_TUPLES_OK) fail(std::string("raw insert: ") + PQerrorMessage(conn_));
      u.id = std::strtoll(PQgetvalue(r, 0, 0), nullptr, 10);
      PQclear(r);
    }
    exec("COMMIT");
  }
  auto get(const std::vector<User>& users) -> std::size_t {
    std::size_t found = 0;
    for (const auto& u : users) {
      const std::string id = std::to_string(u.id);
      const char* v[] = {id.c_str()};
      PGresult* r = PQexecPrepared(conn_, "get", 1, v, nullptr, nullptr, 0);
      if (PQresultStatus(r) != PGRES_TUPLES_OK) fail(std::string("raw get: ") + PQerrorMessage(conn_));
      if (PQntuples(r) == 1) {
        User got;
        got.id = std::strtoll(PQgetvalue(r, 0, 0), nullptr, 10);
        got.name = PQgetvalue(r, 0, 1);
        got.email = PQgetvalue(r, 0, 2);
        got.age = std::atoi(PQgetvalue(r, 0, 3));
        got.score = std::strtod(PQgetvalue(r, 0, 4), nullptr);
        got.active = PQgetvalue(r, 0, 5)[0] == 't';
        got.bio = PQgetvalue(r, 0, 6);
        found += got.email == u.email ? 1u : 0u;
      }
      PQclear(r);
    }
    return found;
  }
  void update(const std::vector<User>& users) {
    exec("BEGIN");
    for (const auto& u : users) {
      const std::string id = std::to_string(u.id), score = std::to_string(u.score + 1);
      const char* v[] = {score.c_str(), id.c_str()};
      PGresult* r = PQexecPrepared(conn_, "upd", 2, v, nullptr, nullptr, 0);
      if (PQresultStatus(r) != PGRES_COMMAND_OK) fail(std::string("raw update: ") + PQerrorMessage(conn_));
      PQclear(r);
    }
    exec("COMMIT");
  }
  void erase(const std::vector<User>& users) {
    exec("BEGIN");
    for (const auto& u : users) {
      const std::string id = std::to_string(u.id);
      const char* v[] = {id.c_str()};
      PGresult* r = PQexecPrepared(conn_, "del", 1, v, nullptr, nullptr, 0);
      if (PQresultStatus(r) != PGRES_COMMAND_OK) fail(std::string("raw erase: ") + PQerrorMessage(conn_));
      PQclear(r);
    }
    exec("COMMIT");
  }
  auto count() -> std::int64_t {
    PGresult* r = PQexec(conn_, "SELECT count(*) FROM bench_users");
    auto n = std::strtoll(PQgetvalue(r, 0, 0), nullptr, 10);
    PQclear(r);
    return n;
  }

 private:
  void prepare(const char* name, const char* sql, int n) {
    PGresult* r = PQprepare(conn_, name, sql, n, nullptr);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) fail(std::string("raw prepare: ") + PQerrorMessage(conn_));
    PQclear(r);
  }
  PGconn* conn_ = nullptr;
};

auto median(std::vector<double> v) -> double {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

}  // namespace

auto main(int argc, char** argv) -> int {
  std::size_t rows = 20000;
  int runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view a = argv[i];
    if (a == "--rows") rows = static_cast<std::size_t>(std::strtoull(argv[i + 1], nullptr, 10));
    else if (a == "--runs") runs = std::atoi(argv[i + 1]);
    else fail("unknown argument " + std::string(a));
  }
  const char* conninfo = std::getenv("ORMKIT_TEST_POSTGRES");
  if (!conninfo || !*conninfo) fail("ORMKIT_TEST_POSTGRES is not set (bash scripts/postgres.sh run <this program>)");

  const std::string schema = "ormkit_bench_" + std::to_string(std::time(nullptr));
  ormkit::postgres::options o;
  o.conninfo = conninfo;
  o.schema = schema;
  auto db = ormkit::postgres::backend::open(o);
  if (!db) fail(db.error().describe());
  if (auto st = (*db)->execute("CREATE SCHEMA \"" + schema + "\""); !st) fail(st.error().describe());
  ormkit::repository<User> users(**db);
  if (!users.count()) fail("cannot create the table");
  raw_side raw(conninfo, schema);

  const char* phases[] = {"insert", "get", "update", "erase", "insert_many"};
  std::map<std::string, std::vector<double>> wall, cpu;  // key: "<side>/<phase>"
  for (int run = 0; run < runs; ++run) {
    for (int turn = 0; turn < 2; ++turn) {
      const bool ormkit_side = (turn == 0) == (run % 2 == 0);
      auto data = make_users(rows);
      auto record = [&](const char* phase, sample s) {
        const std::string key = std::string(ormkit_side ? "ormkit/" : "raw/") + phase;
        wall[key].push_back(s.wall_us / static_cast<double>(rows));
        cpu[key].push_back(s.cpu_us / static_cast<double>(rows));
      };
      if (ormkit_side) {
        record("insert", timed([&] {
                 auto st = ormkit::transact(**db, [&](ormkit::transaction&) -> ormkit::status {
                   for (auto& u : data) {
                     auto r = users.insert(u);
                     if (!r) return std::move(r).error();
                     u.id = r->id;
                   }
                   return {};
                 });
                 if (!st) fail(st.error().describe());
               }));
        std::size_t found = 0;
        record("get", timed([&] {
                 for (const auto& u : data) {
                   auto r = users.get(u.id);
                   found += r && r->email == u.email ? 1u : 0u;
                 }
               }));
        check(found == rows, "ormkit get");
        record("update", timed([&] {
                 auto st = ormkit::transact(**db, [&](ormkit::transaction&) -> ormkit::status {
                   for (auto& u : data) {
                     u.score += 1;
                     ORMKIT_TRY(users.update_columns(u, &User::score));
                   }
                   return {};
                 });
                 if (!st) fail(st.error().describe());
               }));
        record("erase", timed([&] {
                 auto st = ormkit::transact(**db, [&](ormkit::transaction&) -> ormkit::status {
                   for (const auto& u : data) ORMKIT_TRY(users.erase(u.id));
                   return {};
                 });
                 if (!st) fail(st.error().describe());
               }));
        check(users.count().value() == 0, "ormkit erase");
        auto again = make_users(rows);
        record("insert_many", timed([&] {
                 auto r = users.insert_many(again);
                 if (!r) fail(r.error().describe());
               }));
        check(users.count().value() == rows, "ormkit insert_many");
        if (!users.erase_where(ormkit::col(&User::id) > std::int64_t{0})) fail("ormkit cleanup");
      } else {
        record("insert", timed([&] { raw.insert(data); }));
        std::size_t found = 0;
        record("get", timed([&] { found = raw.get(data); }));
        check(found == rows, "raw get");
        record("update", timed([&] { raw.update(data); }));
        record("erase", timed([&] { raw.erase(data); }));
        check(raw.count() == 0, "raw erase");
        auto again = make_users(rows);
        record("insert_many", timed([&] { raw.insert(again); }));
        check(raw.count() == static_cast<std::int64_t>(rows), "raw insert_many");
        raw.exec("DELETE FROM bench_users");
      }
    }
  }
  (void)(*db)->execute("DROP SCHEMA \"" + schema + "\" CASCADE");

  std::printf("ormkit_postgres_bench: %zu rows, median of %d runs, microseconds per row\n", rows, runs);
  std::printf("%-12s %10s %10s %10s %10s %8s %8s\n", "phase", "ormkit", "raw", "ormkit", "raw", "wall", "cpu");
  std::printf("%-12s %10s %10s %10s %10s %8s %8s\n", "", "wall", "wall", "cpu", "cpu", "ratio", "ratio");
  for (const char* p : phases) {
    const double ow = median(wall["ormkit/" + std::string(p)]), rw = median(wall["raw/" + std::string(p)]);
    const double oc = median(cpu["ormkit/" + std::string(p)]), rc = median(cpu["raw/" + std::string(p)]);
    std::printf("%-12s %10.2f %10.2f %10.2f %10.2f %8.2f %8.2f\n", p, ow, rw, oc, rc, rw > 0 ? ow / rw : 0,
                rc > 0 ? oc / rc : 0);
  }
  std::printf("(insert_many: ormkit's batch call against raw per-row inserts)\n");
  return 0;
}
