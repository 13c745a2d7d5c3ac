// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// ormkit's everyday repository calls against hand-written sqlite3 C API code with
// prepared statements reused (the limit), on a WAL file in /tmp with the same
// pragmas on both sides (journal_mode=WAL, synchronous=NORMAL, foreign_keys=ON,
// busy_timeout 5 s). A plain program, not Catch2; no assertions on timings.
//
// Phases, each over N rows of a 6-column user:
//   insert   one transaction around N per-row inserts (generated ids read back)
//   get      N point lookups by id, in a fixed-seed random order
//   find_all one query reading all N rows into a vector
//   update   N updates by id (every column, as repository::update) in one transaction
//   erase    N deletes by id in one transaction
// The two sides alternate which goes first in each run; each phase's median over
// the runs is printed with the ratio ormkit / raw.
//
// Usage: ormkit_sqlite_vs_raw [--rows N] [--runs K]      (defaults 20000, 5)
// Build by hand: g++ -std=c++20 -O2 -Iinclude benchmarks/sqlite_vs_raw.cpp -lsqlite3

#include <ormkit/repository.hpp>
#include <ormkit/sqlite.hpp>
#include <ormkit/transaction.hpp>

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unistd.h>

namespace {

struct bench_user {
  std::int64_t id{};
  std::string name{};
  std::string email{};
  int age{};
  double score{};
  bool active{};

  friend constexpr auto ormkit_describe(std::type_identity<bench_user>) {
    using namespace ormkit;
    return describe<bench_user>("bench_users")
        .column(&bench_user::id, "id", primary_key, auto_increment)
        .column(&bench_user::name, "name")
        .column(&bench_user::email, "email")
        .column(&bench_user::age, "age")
        .column(&bench_user::score, "score")
        .column(&bench_user::active, "active");
  }
};

constexpr std::array<const char*, 5> phase_names{"insert", "get", "find_all", "update", "erase"};
using phase_times = std::array<double, phase_names.size()>;  // seconds

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "sqlite_vs_raw: %s\n", what.c_str());
  std::exit(1);
}

auto make_users(std::size_t n) -> std::vector<bench_user> {
  std::vector<bench_user> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto k = static_cast<int>(i % 1000);
    out.push_back({0, "user " + std::to_string(i), "user" + std::to_string(i) + "@example.com", 18 + k % 60,
                   static_cast<double>(k) * 0.25, i % 3 != 0});
  }
  return out;
}

// Fresh database files for one side of one run.
void remove_db(const std::string& path) {
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix, ec);
}

class stopwatch {
 public:
  stopwatch() : start_(std::chrono::steady_clock::now()) {}
  [[nodiscard]] auto seconds() const -> double {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  std::chrono::steady_clock::time_point start_;
};

//=== raw sqlite3 ===//

class raw_side {
 public:
  explicit raw_side(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) != SQLITE_OK)
      die("raw: cannot open " + path);
    sqlite3_busy_timeout(db_, 5000);
    exec("PRAGMA foreign_keys = ON");
    exec("PRAGMA journal_mode = WAL");
    exec("PRAGMA synchronous = NORMAL");
    // The same table ormkit creates.
    exec(ormkit::sqlite::create_table_sql(ormkit::schema_of<bench_user>()));
    insert_ = prepare(R"(INSERT INTO "bench_users" ("name", "email", "age", "score", "active") VALUES (?, ?, ?, ?, ?))");
    get_ = prepare(R"(SELECT "id", "name", "email", "age", "score", "active" FROM "bench_users" WHERE "id" = ?)");
    all_ = prepare(R"(SELECT "id", "name", "email", "age", "score", "active" FROM "bench_users")");
    update_ = prepare(
        R"(UPDATE "bench_users" SET "name" = ?, "email" = ?, "age" = ?, "score" = ?, "active" = ? WHERE "id" = ?)");
    erase_ = prepare(R"(DELETE FROM "bench_users" WHERE "id" = ?)");
  }
  raw_side(const raw_side&) = delete;
  auto operator=(const raw_side&) -> raw_side& = delete;
  ~raw_side() {
    for (sqlite3_stmt* s : {insert_, get_, all_, update_, erase_}) sqlite3_finalize(s);
    sqlite3_close_v2(db_);
  }

  void insert(std::vector<bench_user>& users) {
    exec("BEGIN IMMEDIATE");
    for (auto& u : users) {
      bind_fields(insert_, u);
      step_done(insert_);
      u.id = sqlite3_last_insert_rowid(db_);
    }
    exec("COMMIT");
  }

  auto get(std::int64_t id) -> bench_user {
    sqlite3_bind_int64(get_, 1, id);
    if (sqlite3_step(get_) != SQLITE_ROW) die("raw: get found no row");
    bench_user u = read(get_);
    sqlite3_reset(get_);
    return u;
  }

  auto find_all() -> std::vector<bench_user> {
    std::vector<bench_user> out;
    int rc = 0;
    while ((rc = sqlite3_step(all_)) == SQLITE_ROW) out.push_back(read(all_));
    if (rc != SQLITE_DONE) die("raw: find_all failed");
    sqlite3_reset(all_);
    return out;
  }

  void update(const std::vector<bench_user>& users) {
    exec("BEGIN IMMEDIATE");
    for (const auto& u : users) {
      bind_fields(update_, u);
      sqlite3_bind_int64(update_, 6, u.id);
      step_done(update_);
      if (sqlite3_changes64(db_) != 1) die("raw: update found no row");
    }
    exec("COMMIT");
  }

  void erase(const std::vector<bench_user>& users) {
    exec("BEGIN IMMEDIATE");
    for (const auto& u : users) {
      sqlite3_bind_int64(erase_, 1, u.id);
      step_done(erase_);
      if (sqlite3_changes64(db_) != 1) die("raw: erase found no row");
    }
    exec("COMMIT");
  }

 private:
  void exec(const std::string& sql) {
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK)
      die("raw: " + sql + ": " + sqlite3_errmsg(db_));
  }
  auto prepare(const char* sql) -> sqlite3_stmt* {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
      die(std::string("raw: prepare: ") + sqlite3_errmsg(db_));
    return s;
  }
  static void bind_fields(sqlite3_stmt* s, const bench_user& u) {
    // Text bound without a copy: the entity outlives the step.
    sqlite3_bind_text(s, 1, u.name.data(), static_cast<int>(u.name.size()), SQLITE_STATIC);
    sqlite3_bind_text(s, 2, u.email.data(), static_cast<int>(u.email.size()), SQLITE_STATIC);
    sqlite3_bind_int(s, 3, u.age);
    sqlite3_bind_double(s, 4, u.score);
    sqlite3_bind_int(s, 5, u.active ? 1 : 0);
  }
  void step_done(sqlite3_stmt* s) {
    if (sqlite3_step(s) != SQLITE_DONE) die(std::string("raw: step: ") + sqlite3_errmsg(db_));
    sqlite3_reset(s);
  }
  static auto text(sqlite3_stmt* s, int c) -> std::string {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, c))) : std::string();
  }
  static auto read(sqlite3_stmt* s) -> bench_user {
    return {sqlite3_column_int64(s, 0), text(s, 1), text(s, 2), sqlite3_column_int(s, 3), sqlite3_column_double(s, 4),
            sqlite3_column_int(s, 5) != 0};
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* all_ = nullptr;
  sqlite3_stmt* update_ = nullptr;
  sqlite3_stmt* erase_ = nullptr;
};

// Guards against the optimiser dropping reads.
std::uint64_t sink = 0;
void consume(const bench_user& u) { sink += static_cast<std::uint64_t>(u.id) + u.name.size() + (u.active ? 1u : 0u); }

auto run_raw(const std::string& path, const std::vector<bench_user>& data, const std::vector<std::size_t>& order)
    -> phase_times {
  remove_db(path);
  phase_times t{};
  {
    raw_side db(path);
    std::vector<bench_user> users = data;
    stopwatch w0;
    db.insert(users);
    t[0] = w0.seconds();

    stopwatch w1;
    for (std::size_t i : order) consume(db.get(users[i].id));
    t[1] = w1.seconds();

    stopwatch w2;
    auto all = db.find_all();
    t[2] = w2.seconds();
    if (all.size() != users.size()) die("raw: find_all returned the wrong count");
    consume(all.back());

    for (auto& u : users) u.score += 1.0;
    stopwatch w3;
    db.update(users);
    t[3] = w3.seconds();

    stopwatch w4;
    db.erase(users);
    t[4] = w4.seconds();
  }
  remove_db(path);
  return t;
}

//=== ormkit ===//

template <class T>
auto must(ormkit::result<T> r, const char* what) -> T {
  if (!r) die(std::string("ormkit: ") + what + ": " + r.error().describe());
  if constexpr (!std::is_void_v<T>) return std::move(r).value();
}

auto run_ormkit(const std::string& path, const std::vector<bench_user>& data, const std::vector<std::size_t>& order)
    -> phase_times {
  remove_db(path);
  phase_times t{};
  {
    auto db = must(ormkit::sqlite::backend::open({.path = path}), "open");
    ormkit::repository<bench_user> users_repo(*db);
    must(db->ensure_table(ormkit::schema_of<bench_user>()), "ensure_table");
    std::vector<bench_user> users = data;

    stopwatch w0;
    must(ormkit::transact(*db,
                          [&](ormkit::transaction&) -> ormkit::status {
                            for (auto& u : users) {
                              auto stored = users_repo.insert(u);
                              if (!stored) return std::move(stored).error();
                              u.id = stored->id;
                            }
                            return {};
                          }),
         "insert");
    t[0] = w0.seconds();

    stopwatch w1;
    for (std::size_t i : order) consume(must(users_repo.get(users[i].id), "get"));
    t[1] = w1.seconds();

    stopwatch w2;
    auto all = must(users_repo.find_all(), "find_all");
    t[2] = w2.seconds();
    if (all.size() != users.size()) die("ormkit: find_all returned the wrong count");
    consume(all.back());

    for (auto& u : users) u.score += 1.0;
    stopwatch w3;
    must(ormkit::transact(*db,
                          [&](ormkit::transaction&) -> ormkit::status {
                            for (const auto& u : users) {
                              auto r = users_repo.update(u);
                              if (!r) return std::move(r).error();
                            }
                            return {};
                          }),
         "update");
    t[3] = w3.seconds();

    stopwatch w4;
    must(ormkit::transact(*db,
                          [&](ormkit::transaction&) -> ormkit::status {
                            for (const auto& u : users)
                              if (auto r = users_repo.erase(u.id); !r) return r;
                            return {};
                          }),
         "erase");
    t[4] = w4.seconds();
  }
  remove_db(path);
  return t;
}

auto median(std::vector<double> v) -> double {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

auto parse_count(const char* text, const char* flag) -> std::size_t {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || v == 0) die(std::string(flag) + " needs a positive number, got \"" + text + "\"");
  return static_cast<std::size_t>(v);
}

}  // namespace

auto main(int argc, char** argv) -> int {
  std::size_t rows = 20000;
  std::size_t runs = 5;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if ((arg == "--rows" || arg == "--runs") && i + 1 < argc) {
      const char* flag = argv[i++];
      (arg == "--rows" ? rows : runs) = parse_count(argv[i], flag);
    } else {
      std::fprintf(stderr, "usage: %s [--rows N] [--runs K]\n", argv[0]);
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }

  const auto data = make_users(rows);
  std::vector<std::size_t> order(rows);
  for (std::size_t i = 0; i < rows; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(42));

  const std::string stem = "/tmp/ormkit_sqlite_vs_raw_" + std::to_string(::getpid());
  const std::string raw_path = stem + "_raw.db";
  const std::string orm_path = stem + "_ormkit.db";

  std::array<std::vector<double>, phase_names.size()> raw_t, orm_t;
  for (std::size_t run = 0; run < runs; ++run) {
    // Alternate which side goes first, so neither always gets the warmer cache.
    phase_times r{}, o{};
    if (run % 2 == 0) {
      r = run_raw(raw_path, data, order);
      o = run_ormkit(orm_path, data, order);
    } else {
      o = run_ormkit(orm_path, data, order);
      r = run_raw(raw_path, data, order);
    }
    for (std::size_t p = 0; p < phase_names.size(); ++p) {
      raw_t[p].push_back(r[p]);
      orm_t[p].push_back(o[p]);
    }
  }

  std::printf("SQLite %s, WAL file in /tmp, synchronous=NORMAL; N = %zu rows, median of %zu runs (interleaved)\n\n",
              sqlite3_libversion(), rows, runs);
  std::printf("| phase    | raw sqlite3 ms | ormkit ms | raw us/row | ormkit us/row | ormkit/raw |\n");
  std::printf("|----------|---------------:|----------:|-----------:|--------------:|-----------:|\n");
  const auto n = static_cast<double>(rows);
  for (std::size_t p = 0; p < phase_names.size(); ++p) {
    const double r = median(raw_t[p]);
    const double o = median(orm_t[p]);
    std::printf("| %-8s | %14.2f | %9.2f | %10.3f | %13.3f | %9.2fx |\n", phase_names[p], r * 1e3, o * 1e3,
                r * 1e6 / n, o * 1e6 / n, r > 0 ? o / r : 0.0);
  }
  if (sink == 42) std::printf("\n");  // keep the reads alive
  return 0;
}
