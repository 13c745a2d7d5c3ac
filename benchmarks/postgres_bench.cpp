// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// The PostgreSQL benchmark: ormkit's everyday repository calls and its batch calls
// against raw libpq (prepared statements, one round trip per row: the limit for per-row
// calls), raw libpq in pipeline mode, raw libpq COPY, and libpqxx (optional). A plain
// program, not Catch2; it never asserts on timings, but it checks every side's results
// (counts, found rows) and exits with 1 on a mismatch.
//
// Entity: User {id, name, email, age, score, active, bio (100 bytes)}; every side uses
// the table ormkit creates, in a schema of this run's own (dropped at the end).
// Phases, each over N rows:
//   insert       N inserts in one transaction, generated ids read back
//   get          N point lookups by id
//   update       N updates of one column (score) by id in one transaction
//   erase        N deletes by id in one transaction
//   insert_many  N rows at once, ids read back (ormkit: insert_many, one COPY; pipeline:
//                N INSERT ... RETURNING in pipelines of 1,000; copy: one text COPY, no ids)
//   get_many     N rows by id at once (ormkit: get_many; pipeline: N SELECTs pipelined)
//   update_many  N updates at once (ormkit: update_many, the UPDATEs in one pipeline inside
//                one transaction; pipeline: N UPDATEs pipelined)
//   erase_many   N deletes at once (ormkit: erase_many; pipeline: N DELETEs pipelined)
// Sides: ormkit (the default write guard: each write in a transaction under a savepoint of
// its own, in one round trip), ormkit-native (options::write_guard = native: no savepoint; the
// per-row phases only, as the batch calls do not depend on the guard), raw (libpq prepared,
// per row), pipeline (libpq pipeline mode), copy (libpq COPY, insert_many only), pqxx
// (libpqxx prepared statements, per row; when built with it).
// In each run the sides go in a rotating order. Each phase reports the median over the runs
// of wall time and of this process's CPU time (CLOCK_PROCESS_CPUTIME_ID), in microseconds
// per row, with the ratio to raw's per-row calls (the _many phases: to raw's per-row phase of
// the same kind; e.g. get_many / raw get).
//
// Usage: ormkit_postgres_bench [--rows N] [--runs K]   (defaults: 20000 rows, 5 runs)
// Exits 77 (skipped) with ORMKIT_SKIP_POSTGRES=1.
// The server: ORMKIT_TEST_POSTGRES (a libpq conninfo string), e.g. through
//   bash scripts/postgres.sh run build/release/benchmarks/ormkit_postgres_bench

#include <ormkit/postgres.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/transaction.hpp>

#include <libpq-fe.h>

#if ORMKIT_BENCH_HAVE_PQXX
#include <pqxx/pqxx>
#include <pqxx/version.hxx>
#endif
#ifndef ORMKIT_BENCH_HAVE_PQXX
#define ORMKIT_BENCH_HAVE_PQXX 0
#endif

#include <time.h>  // clock_gettime

// Under callgrind each timed phase is one dump of its own, named "<side>/<phase>" (the
// client requests cost nothing measurable outside valgrind and sit outside the timed part):
//   valgrind --tool=callgrind --callgrind-out-file=cg.out ormkit_postgres_bench --rows 2000 --runs 1
//   for f in cg.out.*; do sed -n 's/^desc: Trigger: Client Request: //p; s/^summary: //p' $f | paste -sd' '; done
// prints "<side>/<phase> <instructions>" per phase; divide by --rows.
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define ORMKIT_BENCH_PHASE_BEGIN() CALLGRIND_ZERO_STATS
#define ORMKIT_BENCH_PHASE_END(name) CALLGRIND_DUMP_STATS_AT(name)
#else
#define ORMKIT_BENCH_PHASE_BEGIN() ((void)0)
#define ORMKIT_BENCH_PHASE_END(name) ((void)(name))
#endif

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

auto cpu_now_us() -> double {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

template <class F>
auto timed(F&& f) -> sample {
  ORMKIT_BENCH_PHASE_BEGIN();
  const auto w0 = std::chrono::steady_clock::now();
  const double c0 = cpu_now_us();
  f();
  const double c1 = cpu_now_us();
  const auto w1 = std::chrono::steady_clock::now();
  return {std::chrono::duration<double, std::micro>(w1 - w0).count(), c1 - c0};
}

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "postgres_bench: %s\n", what.c_str());
  std::exit(1);
}

void check(bool ok, const std::string& what) {
  if (!ok) fail("result mismatch: " + what);
}

constexpr const char* insert_sql =
    "INSERT INTO bench_users (name, email, age, score, active, bio) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id";
constexpr const char* get_sql = "SELECT id, name, email, age, score, active, bio FROM bench_users WHERE id = $1";
constexpr const char* update_sql = "UPDATE bench_users SET score = $1 WHERE id = $2";
constexpr const char* erase_sql = "DELETE FROM bench_users WHERE id = $1";

// Raw libpq: prepared statements, text parameters; blocking calls (one round trip per
// row), pipeline mode, COPY.
class raw_side {
 public:
  raw_side(const std::string& conninfo, const std::string& schema) {
    conn_ = PQconnectdb(conninfo.c_str());
    if (PQstatus(conn_) != CONNECTION_OK) fail(std::string("raw connect: ") + PQerrorMessage(conn_));
    exec("SET search_path TO \"" + schema + "\"");
    prepare("ins", insert_sql, 6);
    prepare("get", get_sql, 1);
    prepare("upd", update_sql, 2);
    prepare("del", erase_sql, 1);
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

  //--- one round trip per row ---//

  void insert(std::vector<User>& users) {
    exec("BEGIN");
    for (auto& u : users) {
      params p(u);
      PGresult* r = PQexecPrepared(conn_, "ins", 6, p.v, nullptr, nullptr, 0);
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
      found += read(r, u) ? 1u : 0u;
      PQclear(r);
    }
    return found;
  }
  void update(std::vector<User>& users) {
    exec("BEGIN");
    for (auto& u : users) {
      u.score += 1;
      const std::string id = std::to_string(u.id), score = std::to_string(u.score);
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

  //--- pipeline mode: every statement sent before the results are read ---//

  void insert_pipelined(std::vector<User>& users) {
    exec("BEGIN");
    pipelined(users.size(), [&](std::size_t i) {
      params p(users[i]);
      return PQsendQueryPrepared(conn_, "ins", 6, p.v, nullptr, nullptr, 0);
    }, [&](std::size_t i, PGresult* r) {
      if (PQresultStatus(r) != PGRES_TUPLES_OK) fail(std::string("pipeline insert: ") + PQresultErrorMessage(r));
      users[i].id = std::strtoll(PQgetvalue(r, 0, 0), nullptr, 10);
    });
    exec("COMMIT");
  }
  auto get_pipelined(const std::vector<User>& users) -> std::size_t {
    std::size_t found = 0;
    std::vector<std::string> ids(users.size());
    pipelined(users.size(), [&](std::size_t i) {
      ids[i] = std::to_string(users[i].id);
      const char* v[] = {ids[i].c_str()};
      return PQsendQueryPrepared(conn_, "get", 1, v, nullptr, nullptr, 0);
    }, [&](std::size_t i, PGresult* r) {
      if (PQresultStatus(r) != PGRES_TUPLES_OK) fail(std::string("pipeline get: ") + PQresultErrorMessage(r));
      found += read(r, users[i]) ? 1u : 0u;
    });
    return found;
  }
  void update_pipelined(std::vector<User>& users) {
    exec("BEGIN");
    pipelined(users.size(), [&](std::size_t i) {
      users[i].score += 1;
      const std::string id = std::to_string(users[i].id), score = std::to_string(users[i].score);
      const char* v[] = {score.c_str(), id.c_str()};
      return PQsendQueryPrepared(conn_, "upd", 2, v, nullptr, nullptr, 0);
    }, [&](std::size_t, PGresult* r) {
      if (PQresultStatus(r) != PGRES_COMMAND_OK) fail(std::string("pipeline update: ") + PQresultErrorMessage(r));
    });
    exec("COMMIT");
  }
  void erase_pipelined(const std::vector<User>& users) {
    exec("BEGIN");
    pipelined(users.size(), [&](std::size_t i) {
      const std::string id = std::to_string(users[i].id);
      const char* v[] = {id.c_str()};
      return PQsendQueryPrepared(conn_, "del", 1, v, nullptr, nullptr, 0);
    }, [&](std::size_t, PGresult* r) {
      if (PQresultStatus(r) != PGRES_COMMAND_OK) fail(std::string("pipeline erase: ") + PQresultErrorMessage(r));
    });
    exec("COMMIT");
  }

  //--- COPY (text format; no ids come back) ---//

  void copy(const std::vector<User>& users) {
    PGresult* r = PQexec(conn_, "COPY bench_users (name, email, age, score, active, bio) FROM STDIN");
    if (PQresultStatus(r) != PGRES_COPY_IN) fail(std::string("copy: ") + PQerrorMessage(conn_));
    PQclear(r);
    std::string buf;
    char num[64];
    for (const auto& u : users) {
      // The benchmark's text needs no escaping (no tab, newline or backslash).
      buf += u.name;
      buf += '\t';
      buf += u.email;
      buf += '\t';
      buf += std::to_string(u.age);
      buf += '\t';
      std::snprintf(num, sizeof num, "%.17g", u.score);
      buf += num;
      buf += u.active ? "\tt\t" : "\tf\t";
      buf += u.bio;
      buf += '\n';
      if (buf.size() > (1u << 16)) {
        if (PQputCopyData(conn_, buf.data(), static_cast<int>(buf.size())) != 1) fail("copy: put");
        buf.clear();
      }
    }
    if (!buf.empty() && PQputCopyData(conn_, buf.data(), static_cast<int>(buf.size())) != 1) fail("copy: put");
    if (PQputCopyEnd(conn_, nullptr) != 1) fail("copy: end");
    while ((r = PQgetResult(conn_)) != nullptr) {
      if (PQresultStatus(r) != PGRES_COMMAND_OK) fail(std::string("copy: ") + PQresultErrorMessage(r));
      PQclear(r);
    }
  }

  auto count() -> std::int64_t {
    PGresult* r = PQexec(conn_, "SELECT count(*) FROM bench_users");
    auto n = std::strtoll(PQgetvalue(r, 0, 0), nullptr, 10);
    PQclear(r);
    return n;
  }

 private:
  struct params {
    explicit params(const User& u)
        : age(std::to_string(u.age)), score(std::to_string(u.score)),
          v{u.name.c_str(), u.email.c_str(), age.c_str(), score.c_str(), u.active ? "t" : "f", u.bio.c_str()} {}
    std::string age, score;
    const char* v[6];
  };

  static auto read(PGresult* r, const User& expected) -> bool {
    if (PQntuples(r) != 1) return false;
    User got;
    got.id = std::strtoll(PQgetvalue(r, 0, 0), nullptr, 10);
    got.name = PQgetvalue(r, 0, 1);
    got.email = PQgetvalue(r, 0, 2);
    got.age = std::atoi(PQgetvalue(r, 0, 3));
    got.score = std::strtod(PQgetvalue(r, 0, 4), nullptr);
    got.active = PQgetvalue(r, 0, 5)[0] == 't';
    got.bio = PQgetvalue(r, 0, 6);
    return got.email == expected.email;
  }

  // Sends `n` statements in pipelines of `chunk`, one sync each, then reads their results.
  // (Blocking mode: a chunk's statements and results fit the socket buffers.)
  template <class Send, class Receive>
  void pipelined(std::size_t n, Send&& send, Receive&& receive) {
    constexpr std::size_t chunk = 1000;
    if (!PQenterPipelineMode(conn_)) fail("pipeline: enter");
    for (std::size_t done = 0; done < n;) {
      const std::size_t m = std::min(chunk, n - done);
      for (std::size_t i = done; i < done + m; ++i)
        if (!send(i)) fail(std::string("pipeline: send: ") + PQerrorMessage(conn_));
      if (!PQpipelineSync(conn_)) fail("pipeline: sync");
      for (std::size_t i = done; i < done + m; ++i) {
        PGresult* r = PQgetResult(conn_);
        if (!r) fail("pipeline: missing result");
        receive(i, r);
        PQclear(r);
        if (PQgetResult(conn_) != nullptr) fail("pipeline: extra result");
      }
      PGresult* sync = PQgetResult(conn_);
      if (!sync || PQresultStatus(sync) != PGRES_PIPELINE_SYNC) fail("pipeline: no sync");
      PQclear(sync);
      done += m;
    }
    if (!PQexitPipelineMode(conn_)) fail(std::string("pipeline: exit: ") + PQerrorMessage(conn_));
  }

  void prepare(const char* name, const char* sql, int n) {
    PGresult* r = PQprepare(conn_, name, sql, n, nullptr);
    if (PQresultStatus(r) != PGRES_COMMAND_OK) fail(std::string("raw prepare: ") + PQerrorMessage(conn_));
    PQclear(r);
  }
  PGconn* conn_ = nullptr;
};

#if ORMKIT_BENCH_HAVE_PQXX
// libpqxx: prepared statements through a transaction object, as its documentation shows.
class pqxx_side {
 public:
  pqxx_side(const std::string& conninfo, const std::string& schema) : conn_(conninfo) {
    pqxx::nontransaction n(conn_);
    n.exec("SET search_path TO \"" + schema + "\"");
    n.commit();
    conn_.prepare("ins", insert_sql);
    conn_.prepare("get", get_sql);
    conn_.prepare("upd", update_sql);
    conn_.prepare("del", erase_sql);
  }
  void insert(std::vector<User>& users) {
    pqxx::work w(conn_);
    for (auto& u : users) {
      auto r = w.exec_prepared("ins", u.name, u.email, u.age, u.score, u.active, u.bio);
      u.id = r[0][0].as<std::int64_t>();
    }
    w.commit();
  }
  auto get(const std::vector<User>& users) -> std::size_t {
    std::size_t found = 0;
    pqxx::nontransaction n(conn_);
    for (const auto& u : users) {
      auto r = n.exec_prepared("get", u.id);
      if (r.size() != 1) continue;
      User got;
      got.id = r[0][0].as<std::int64_t>();
      got.name = r[0][1].as<std::string>();
      got.email = r[0][2].as<std::string>();
      got.age = r[0][3].as<int>();
      got.score = r[0][4].as<double>();
      got.active = r[0][5].as<bool>();
      got.bio = r[0][6].as<std::string>();
      found += got.email == u.email ? 1u : 0u;
    }
    return found;
  }
  void update(std::vector<User>& users) {
    pqxx::work w(conn_);
    for (auto& u : users) {
      u.score += 1;
      w.exec_prepared("upd", u.score, u.id);
    }
    w.commit();
  }
  void erase(const std::vector<User>& users) {
    pqxx::work w(conn_);
    for (const auto& u : users) w.exec_prepared("del", u.id);
    w.commit();
  }

 private:
  pqxx::connection conn_;
};
#endif

auto median(std::vector<double> v) -> double {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

auto ids_of(const std::vector<User>& users) -> std::vector<std::int64_t> {
  std::vector<std::int64_t> out;
  out.reserve(users.size());
  for (const auto& u : users) out.push_back(u.id);
  return out;
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
  if (rows == 0 || runs <= 0) fail("--rows and --runs must be positive");
  if (const char* skip = std::getenv("ORMKIT_SKIP_POSTGRES"); skip && std::string_view(skip) == "1") {
    std::printf("postgres_bench: ORMKIT_SKIP_POSTGRES=1, skipped\n");
    return 77;
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
  ormkit::postgres::options native_options = o;
  native_options.write_guard = ormkit::postgres::write_guard::native;
  auto native_db = ormkit::postgres::backend::open(native_options);
  if (!native_db) fail(native_db.error().describe());
  ormkit::repository<User> native_users(**native_db);
  raw_side raw(conninfo, schema);
#if ORMKIT_BENCH_HAVE_PQXX
  pqxx_side pqxx_peer(conninfo, schema);
#endif

  std::vector<std::string> sides{"ormkit", "ormkit-native", "raw", "pipeline", "copy"};
  if (ORMKIT_BENCH_HAVE_PQXX) sides.emplace_back("pqxx");
  const char* phases[] = {"insert", "get", "update", "erase", "insert_many", "get_many", "update_many", "erase_many"};
  // The per-row phase each phase is compared with (raw's).
  std::map<std::string, std::string> baseline{{"insert", "insert"},      {"get", "get"},
                                              {"update", "update"},      {"erase", "erase"},
                                              {"insert_many", "insert"}, {"get_many", "get"},
                                              {"update_many", "update"}, {"erase_many", "erase"}};
  std::map<std::string, std::vector<double>> wall, cpu;  // key: "<side>/<phase>"

  for (int run = 0; run < runs; ++run) {
    for (std::size_t turn = 0; turn < sides.size(); ++turn) {
      const std::string& side = sides[(turn + static_cast<std::size_t>(run)) % sides.size()];
      auto record = [&](const char* phase, sample s) {
        const std::string key = side + "/" + phase;
        ORMKIT_BENCH_PHASE_END(key.c_str());
        wall[key].push_back(s.wall_us / static_cast<double>(rows));
        cpu[key].push_back(s.cpu_us / static_cast<double>(rows));
      };
      auto data = make_users(rows);
      auto batch = make_users(rows);
      // The per-row phases through `repo` on backend `b`.
      auto per_row = [&](ormkit::postgres::backend& b, ormkit::repository<User>& repo) {
        record("insert", timed([&] {
                 auto st = ormkit::transact(b, [&](ormkit::transaction&) -> ormkit::status {
                   for (auto& u : data) {
                     auto r = repo.insert(u);
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
                   auto r = repo.get(u.id);
                   found += r && r->email == u.email ? 1u : 0u;
                 }
               }));
        check(found == rows, side + " get");
        record("update", timed([&] {
                 auto st = ormkit::transact(b, [&](ormkit::transaction&) -> ormkit::status {
                   for (auto& u : data) {
                     u.score += 1;
                     ORMKIT_TRY(repo.update_columns(u, &User::score));
                   }
                   return {};
                 });
                 if (!st) fail(st.error().describe());
               }));
        record("erase", timed([&] {
                 auto st = ormkit::transact(b, [&](ormkit::transaction&) -> ormkit::status {
                   for (const auto& u : data) ORMKIT_TRY(repo.erase(u.id));
                   return {};
                 });
                 if (!st) fail(st.error().describe());
               }));
        check(repo.count().value() == 0, side + " erase");
      };
      if (side == "ormkit-native") {
        per_row(**native_db, native_users);
      } else if (side == "ormkit") {
        per_row(**db, users);
        std::vector<User> stored;
        record("insert_many", timed([&] {
                 auto r = users.insert_many(batch);
                 if (!r) fail(r.error().describe());
                 stored = std::move(*r);
               }));
        check(users.count().value() == static_cast<std::uint64_t>(rows), "ormkit insert_many");
        const auto keys = ids_of(stored);
        std::size_t got = 0;
        record("get_many", timed([&] {
                 auto r = users.get_many(keys);
                 if (!r) fail(r.error().describe());
                 got = r->size();
               }));
        check(got == rows, "ormkit get_many");
        for (auto& u : stored) u.score += 1;
        record("update_many", timed([&] {
                 auto r = users.update_many(stored);
                 if (!r) fail(r.error().describe());
                 stored = std::move(*r);
               }));
        check(users.get(keys.front()).value().score == stored.front().score, "ormkit update_many");
        std::uint64_t erased = 0;
        record("erase_many", timed([&] {
                 auto r = users.erase_many(keys);
                 if (!r) fail(r.error().describe());
                 erased = *r;
               }));
        check(erased == rows && users.count().value() == 0, "ormkit erase_many");
      } else if (side == "raw") {
        record("insert", timed([&] { raw.insert(data); }));
        std::size_t found = 0;
        record("get", timed([&] { found = raw.get(data); }));
        check(found == rows, "raw get");
        record("update", timed([&] { raw.update(data); }));
        record("erase", timed([&] { raw.erase(data); }));
        check(raw.count() == 0, "raw erase");
      } else if (side == "pipeline") {
        record("insert_many", timed([&] { raw.insert_pipelined(batch); }));
        check(raw.count() == static_cast<std::int64_t>(rows), "pipeline insert_many");
        std::size_t found = 0;
        record("get_many", timed([&] { found = raw.get_pipelined(batch); }));
        check(found == rows, "pipeline get_many");
        record("update_many", timed([&] { raw.update_pipelined(batch); }));
        record("erase_many", timed([&] { raw.erase_pipelined(batch); }));
        check(raw.count() == 0, "pipeline erase_many");
      } else if (side == "copy") {
        record("insert_many", timed([&] { raw.copy(batch); }));
        check(raw.count() == static_cast<std::int64_t>(rows), "copy insert_many");
        raw.exec("DELETE FROM bench_users");
      } else {
#if ORMKIT_BENCH_HAVE_PQXX
        record("insert", timed([&] { pqxx_peer.insert(data); }));
        std::size_t found = 0;
        record("get", timed([&] { found = pqxx_peer.get(data); }));
        check(found == rows, "pqxx get");
        record("update", timed([&] { pqxx_peer.update(data); }));
        record("erase", timed([&] { pqxx_peer.erase(data); }));
        check(raw.count() == 0, "pqxx erase");
#endif
      }
    }
  }
  (void)(*db)->execute("DROP SCHEMA \"" + schema + "\" CASCADE");

  std::printf("ormkit_postgres_bench: %zu rows, median of %d runs, microseconds per row; ratios to raw libpq per "
              "row (prepared, one round trip per row)%s\n",
              rows, runs, ORMKIT_BENCH_HAVE_PQXX ? "" : "; libpqxx not built in");
#if ORMKIT_BENCH_HAVE_PQXX
  std::printf("libpqxx %s\n", PQXX_VERSION);
#endif
  std::printf("ormkit: write_guard::savepoint (the default: a failed write leaves the transaction usable); "
              "ormkit-native: write_guard::native (no savepoint; a failed write aborts the transaction)\n");
  std::printf("%-12s %-13s %10s %10s %8s %8s\n", "phase", "side", "wall", "cpu", "wall", "cpu");
  std::printf("%-12s %-13s %10s %10s %8s %8s\n", "", "", "us/row", "us/row", "ratio", "ratio");
  for (const char* p : phases) {
    const double rw = median(wall["raw/" + baseline[p]]), rc = median(cpu["raw/" + baseline[p]]);
    for (const auto& side : sides) {
      const std::string key = side + "/" + p;
      if (wall.find(key) == wall.end()) continue;
      const double w = median(wall[key]), c = median(cpu[key]);
      std::printf("%-12s %-13s %10.2f %10.2f %8.3f %8.3f\n", p, side.c_str(), w, c, rw > 0 ? w / rw : 0,
                  rc > 0 ? c / rc : 0);
    }
  }
  return 0;
}
