// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// The SQLite benchmark: ormkit's everyday repository calls against the sqlite3 C
// API with reused prepared statements (the limit) and two C++ peers, SQLiteCpp
// and SOCI, each used the way its documentation shows for speed. ormkit runs twice:
// "ormkit" with the calls for hot loops (insert_in_place, get_into,
// update_columns_in_place), "ormkit (by value)" with insert/get/update_columns. A plain
// program, not Catch2; it never asserts on timings, but it checks every side's
// results (counts, found rows, stored values) and exits with 1 on a mismatch.
//
// Entity: User {id, name, email, age, score, active, bio (100 bytes)}; every side
// uses the same table, created from ormkit's DDL for User, and the same pragmas
// (journal_mode=WAL, synchronous=NORMAL, foreign_keys=ON, busy_timeout 5000 ms),
// read back and checked on every side before it is timed. ormkit, raw and SQLiteCpp
// open with SQLITE_OPEN_NOMUTEX (one thread per connection); SOCI cannot be told to.
//
// Storage modes, both in one run: a fresh WAL file in /tmp, and ":memory:".
// Phases, each over N rows:
//   insert    N inserts in one transaction, generated ids read back into the entities
//   get       N point lookups by id in a fixed-seed random order (the same for every side),
//             each into one reused User (raw and ormkit's get_into reuse its strings)
//   find_all  one query reading every row into a std::vector<User>
//   update    N updates of one column (score) by id in one transaction
//   erase     N deletes by id in one transaction
// In each run every side has its own database, all open at once, and each phase is cut
// into slices (20 by default; a write phase's transaction spans them): slice k runs on
// every side, in a new shuffled order, before slice k+1 runs on any. find_all is not cut:
// it runs three times. So two sides' times for a piece are taken moments apart, and a
// slow stretch of the machine falls on both. Each phase reports the median over the runs
// of its total in microseconds per row, and each side's ratio to raw sqlite3 as the
// median over all pieces of all runs of the piece's ratio, with the quartiles below.
//
// Usage: ormkit_sqlite_bench [--rows N] [--runs K] [--slices S] [--only memory|file] [--control]
//        (defaults: 100000 rows, 5 runs, 20 slices, both modes)
// SQLiteCpp and SOCI are optional: a build without them says so and times the rest.

#include <ormkit/repository.hpp>
#include <ormkit/sqlite.hpp>
#include <ormkit/transaction.hpp>
#include <ormkit/version.hpp>

#include <sqlite3.h>

// Phase marks for benchmarks/callgrind_sqlite.sh: under valgrind's callgrind each timed
// phase is dumped as its own part ("<side>/<phase>"), so instruction counts per phase can be
// compared whatever else the machine is doing. Outside valgrind these do nothing.
#if __has_include(<valgrind/callgrind.h>)
#  include <valgrind/callgrind.h>
#  define ORMKIT_BENCH_PHASE_START() CALLGRIND_ZERO_STATS
#  define ORMKIT_BENCH_PHASE_END(label) CALLGRIND_DUMP_STATS_AT(label)
#else
#  define ORMKIT_BENCH_PHASE_START() ((void)0)
#  define ORMKIT_BENCH_PHASE_END(label) ((void)(label))
#endif

#if ORMKIT_BENCH_HAVE_SQLITECPP
#include <SQLiteCpp/SQLiteCpp.h>
#endif
#if ORMKIT_BENCH_HAVE_SOCI
#include <soci/soci.h>
#include <soci/version.h>
// <soci/sqlite3/soci-sqlite3.h> cannot follow <sqlite3.h> in one file (it includes sqlite3.h
// again inside its own namespace, and the include guard leaves that namespace empty). All
// this file needs from it is the backend factory, which is what `soci::sqlite3` refers to.
namespace soci {
extern "C" backend_factory const* factory_sqlite3();
}  // namespace soci
#endif

#include <unistd.h>  // getpid

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#ifndef ORMKIT_BENCH_HAVE_SQLITECPP
#define ORMKIT_BENCH_HAVE_SQLITECPP 0
#endif
#ifndef ORMKIT_BENCH_HAVE_SOCI
#define ORMKIT_BENCH_HAVE_SOCI 0
#endif

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
    return describe<User>("users")
        .column(&User::id, "id", primary_key, auto_increment)
        .column(&User::name, "name")
        .column(&User::email, "email")
        .column(&User::age, "age")
        .column(&User::score, "score")
        .column(&User::active, "active")
        .column(&User::bio, "bio");
  }

  friend auto operator==(const User&, const User&) -> bool = default;
};

namespace {

//=== shared set-up ===//

constexpr int busy_timeout_ms = 5000;

// The statements every non-ormkit side runs on open, in the order ormkit's backend
// runs them; the busy timeout is set through each library's own API.
constexpr std::array<const char*, 3> pragmas{"PRAGMA foreign_keys = ON", "PRAGMA journal_mode = WAL",
                                             "PRAGMA synchronous = NORMAL"};

// The SQL of the non-ormkit sides. The table itself comes from ormkit's DDL for User.
constexpr const char* insert_sql = "INSERT INTO users (name, email, age, score, active, bio) VALUES (?, ?, ?, ?, ?, ?)";
constexpr const char* get_sql = "SELECT id, name, email, age, score, active, bio FROM users WHERE id = ?";
constexpr const char* all_sql = "SELECT id, name, email, age, score, active, bio FROM users";
constexpr const char* update_sql = "UPDATE users SET score = ? WHERE id = ?";
constexpr const char* erase_sql = "DELETE FROM users WHERE id = ?";
constexpr const char* count_sql = "SELECT count(*) FROM users";

// The SOCI spelling of the same statements (named placeholders).
[[maybe_unused]] constexpr const char* soci_insert_sql =
    "INSERT INTO users (name, email, age, score, active, bio) VALUES (:name, :email, :age, :score, :active, :bio)";
[[maybe_unused]] constexpr const char* soci_get_sql =
    "SELECT id, name, email, age, score, active, bio FROM users WHERE id = :id";
[[maybe_unused]] constexpr const char* soci_update_sql = "UPDATE users SET score = :score WHERE id = :id";
[[maybe_unused]] constexpr const char* soci_erase_sql = "DELETE FROM users WHERE id = :id";

auto table_ddl() -> const std::vector<std::string>& {
  static const std::vector<std::string> ddl = ormkit::sqlite::schema_sql(ormkit::schema_of<User>());
  return ddl;
}

enum class storage { file, memory };

struct mode {
  storage kind;
  const char* label;
};

// The database files of the sides alive now: die() removes them too.
std::vector<std::string> live_paths;  // NOLINT: one process, one benchmark
std::string current_what;             // "<side>, <mode>": prefixes error messages

void remove_db(const std::string& path) {
  if (path.empty() || path == ":memory:") return;
  std::error_code ec;
  for (const char* suffix : {"", "-wal", "-shm", "-journal"}) std::filesystem::remove(path + suffix, ec);
}

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "ormkit_sqlite_bench: %s%s%s\n", current_what.c_str(), current_what.empty() ? "" : ": ",
               what.c_str());
  for (const auto& path : live_paths) remove_db(path);
  std::exit(1);
}

void check(bool ok, const std::string& what) {
  if (!ok) die(what);
}

// Every side reads its connection's settings back: the same pragmas everywhere.
template <class Read>
void check_pragmas(storage kind, Read&& read) {
  const std::string journal = read("PRAGMA journal_mode");
  const std::string want_journal = kind == storage::file ? "wal" : "memory";
  check(journal == want_journal, "journal_mode is " + journal + ", expected " + want_journal);
  check(read("PRAGMA synchronous") == "1", "synchronous is not NORMAL (1)");
  check(read("PRAGMA foreign_keys") == "1", "foreign_keys is off");
  check(read("PRAGMA busy_timeout") == std::to_string(busy_timeout_ms), "busy_timeout is not 5000 ms");
}

auto make_users(std::size_t n) -> std::vector<User> {
  static constexpr std::string_view filler =
      "likes long walks through B-trees, write-ahead logs and prepared statements; reads the query plan first. ";
  std::vector<User> out;
  out.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const auto k = static_cast<int>(i % 1000);
    const std::string num = std::to_string(i);
    std::string bio = "user " + num + " ";
    bio.append(filler.substr(0, 100 - bio.size()));  // exactly 100 bytes
    out.push_back({0, "user " + num, "user" + num + "@example.com", 18 + k % 60, static_cast<double>(k) * 0.25,
                   i % 3 != 0, std::move(bio)});
  }
  return out;
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

//=== side 1: raw sqlite3, prepared statements reused ===//

// Copy 0 is "raw"; copy 1, "raw (again)", is the same code instantiated a second time
// (at other addresses), timed only with --control: the ratio between the two is what
// this machine and method give for two identical sides.
template <int Copy>
class raw_side_copy {
 public:
  static constexpr const char* name = Copy == 0 ? "raw" : "raw (again)";

  raw_side_copy(const std::string& path, storage kind) {
    // NOMUTEX, as ormkit opens its connections (and as the fastest hand-written code would):
    // one thread per connection, so SQLite need not lock in every call.
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK)
      die("cannot open " + path + ": " + sqlite3_errmsg(db_));
    sqlite3_busy_timeout(db_, busy_timeout_ms);
    for (const char* p : pragmas) exec(p);
    for (const auto& sql : table_ddl()) exec(sql.c_str());
    check_pragmas(kind, [&](const char* sql) { return text_of(sql); });
    insert_ = prepare(insert_sql);
    get_ = prepare(get_sql);
    all_ = prepare(all_sql);
    update_ = prepare(update_sql);
    erase_ = prepare(erase_sql);
  }
  raw_side_copy(const raw_side_copy&) = delete;
  auto operator=(const raw_side_copy&) -> raw_side_copy& = delete;
  ~raw_side_copy() {
    for (sqlite3_stmt* s : {insert_, get_, all_, update_, erase_}) sqlite3_finalize(s);
    sqlite3_close_v2(db_);
  }

  void begin() { exec("BEGIN IMMEDIATE"); }
  void commit() { exec("COMMIT"); }

  void insert(std::span<User> users) {
    for (auto& u : users) {
      // Text bound without a copy (SQLITE_STATIC): the entity outlives the step.
      sqlite3_bind_text(insert_, 1, u.name.data(), static_cast<int>(u.name.size()), SQLITE_STATIC);
      sqlite3_bind_text(insert_, 2, u.email.data(), static_cast<int>(u.email.size()), SQLITE_STATIC);
      sqlite3_bind_int(insert_, 3, u.age);
      sqlite3_bind_double(insert_, 4, u.score);
      sqlite3_bind_int(insert_, 5, u.active ? 1 : 0);
      sqlite3_bind_text(insert_, 6, u.bio.data(), static_cast<int>(u.bio.size()), SQLITE_STATIC);
      step_done(insert_);
      u.id = sqlite3_last_insert_rowid(db_);
    }
  }

  // Read straight into the caller's User: its strings keep their capacity from one get
  // to the next, as the fastest hand-written loop would do.
  void get(std::int64_t id, User& u) {
    sqlite3_bind_int64(get_, 1, id);
    if (sqlite3_step(get_) != SQLITE_ROW) die("get(" + std::to_string(id) + ") found no row");
    u.id = sqlite3_column_int64(get_, 0);
    assign_text(u.name, get_, 1);
    assign_text(u.email, get_, 2);
    u.age = sqlite3_column_int(get_, 3);
    u.score = sqlite3_column_double(get_, 4);
    u.active = sqlite3_column_int(get_, 5) != 0;
    assign_text(u.bio, get_, 6);
    sqlite3_reset(get_);
  }

  auto find_all() -> std::vector<User> {
    std::vector<User> out;
    int rc = 0;
    while ((rc = sqlite3_step(all_)) == SQLITE_ROW) out.push_back(read(all_));
    if (rc != SQLITE_DONE) die(std::string("find_all: ") + sqlite3_errmsg(db_));
    sqlite3_reset(all_);
    return out;
  }

  void update_scores(std::span<const User> users) {
    for (const auto& u : users) {
      sqlite3_bind_double(update_, 1, u.score);
      sqlite3_bind_int64(update_, 2, u.id);
      step_done(update_);
      if (sqlite3_changes64(db_) != 1) die("update found no row");
    }
  }

  void erase(std::span<const User> users) {
    for (const auto& u : users) {
      sqlite3_bind_int64(erase_, 1, u.id);
      step_done(erase_);
      if (sqlite3_changes64(db_) != 1) die("erase found no row");
    }
  }

  auto count() -> std::int64_t { return std::stoll(text_of(count_sql)); }

 private:
  void exec(const char* sql) {
    if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK)
      die(std::string(sql) + ": " + sqlite3_errmsg(db_));
  }
  auto prepare(const char* sql) -> sqlite3_stmt* {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK)
      die(std::string("prepare: ") + sqlite3_errmsg(db_));
    return s;
  }
  void step_done(sqlite3_stmt* s) {
    if (sqlite3_step(s) != SQLITE_DONE) die(std::string("step: ") + sqlite3_errmsg(db_));
    sqlite3_reset(s);
  }
  // The first column of the first row of `sql`, as text (setup and checks only).
  auto text_of(const char* sql) -> std::string {
    sqlite3_stmt* s = prepare(sql);
    std::string out = sqlite3_step(s) == SQLITE_ROW ? text(s, 0) : std::string();
    sqlite3_finalize(s);
    return out;
  }
  static auto text(sqlite3_stmt* s, int c) -> std::string {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(s, c))) : std::string();
  }
  static void assign_text(std::string& out, sqlite3_stmt* s, int c) {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, c));
    if (p) out.assign(p, static_cast<std::size_t>(sqlite3_column_bytes(s, c)));
    else out.clear();
  }
  static auto read(sqlite3_stmt* s) -> User {
    return {
        sqlite3_column_int64(s, 0),    text(s, 1), text(s, 2), sqlite3_column_int(s, 3), sqlite3_column_double(s, 4),
        sqlite3_column_int(s, 5) != 0, text(s, 6)};
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* insert_ = nullptr;
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* all_ = nullptr;
  sqlite3_stmt* update_ = nullptr;
  sqlite3_stmt* erase_ = nullptr;
};
using raw_side = raw_side_copy<0>;

//=== side 2: ormkit's everyday repository calls ===//

template <class T>
auto must(ormkit::result<T> r, const char* what) -> T {
  if (!r) die(std::string(what) + ": " + r.error().describe());
  if constexpr (!std::is_void_v<T>) return std::move(r).value();
}

auto to_text(const ormkit::value& v) -> std::string {
  if (const auto* i = std::get_if<std::int64_t>(&v)) return std::to_string(*i);
  if (const auto* s = std::get_if<std::string>(&v)) return *s;
  return ormkit::to_display(v);
}

// InPlace: the calls for hot loops (insert_in_place, get_into, update_columns_in_place),
// which work on the caller's entity; otherwise the by-value calls, entities moved in and
// out through result<T>. Both sides run in the same program, so one table shows both.
template <bool InPlace>
class ormkit_side {
 public:
  static constexpr const char* name = InPlace ? "ormkit" : "ormkit (by value)";

  // The backend's defaults are the benchmark's settings: WAL, synchronous=NORMAL,
  // foreign keys on, a 5 s busy timeout.
  ormkit_side(const std::string& path, storage kind)
      : db_(must(ormkit::sqlite::backend::open({.path = path}), "open")), users_(*db_) {
    check_pragmas(kind, [&](const char* sql) {
      auto rows = must(db_->query(sql), sql);
      return rows.empty() || rows.front().empty() ? std::string() : to_text(rows.front().front());
    });
    // The table exists before the clock starts, as on the other sides.
    must(db_->ensure_table(ormkit::repository<User>::schema()), "ensure_table");
  }

  // One transaction per write phase, begun before the phase's first slice and committed
  // after its last (the harness times both with those slices).
  void begin() { tx_.emplace(must(ormkit::transaction::begin(*db_), "begin")); }
  void commit() {
    must(tx_->commit(), "commit");
    tx_.reset();
  }

  void insert(std::span<User> users) {
    for (auto& u : users) {
      if constexpr (InPlace) {
        if (auto st = users_.insert_in_place(u); !st) fail("insert", st.error());  // u gets its generated id
      } else {
        auto stored = users_.insert(std::move(u));
        if (!stored) fail("insert", stored.error());
        u = std::move(*stored);  // as stored: with its generated id
      }
    }
  }

  void get(std::int64_t id, User& u) {
    if constexpr (InPlace) {
      if (!must(users_.get_into(id, u), "get")) die("get(" + std::to_string(id) + ") found no row");
    } else {
      u = must(users_.get(id), "get");
    }
  }

  auto find_all() -> std::vector<User> { return must(users_.find_all(), "find_all"); }

  void update_scores(std::span<User> users) {
    for (auto& u : users) {
      if constexpr (InPlace) {
        if (auto st = users_.update_columns_in_place(u, &User::score); !st) fail("update", st.error());
      } else {
        auto stored = users_.update_columns(std::move(u), &User::score);
        if (!stored) fail("update", stored.error());
        u = std::move(*stored);
      }
    }
  }

  void erase(std::span<const User> users) {
    for (const auto& u : users)
      if (auto st = users_.erase(u.id); !st) fail("erase", st.error());
  }

  auto count() -> std::int64_t { return static_cast<std::int64_t>(must(users_.count(), "count")); }

 private:
  [[noreturn, gnu::cold, gnu::noinline]] static void fail(const char* what, const ormkit::error& e) {
    die(std::string(what) + ": " + e.describe());
  }

  std::unique_ptr<ormkit::sqlite::backend> db_;
  ormkit::repository<User> users_;
  std::optional<ormkit::transaction> tx_;
};

//=== side 3: SQLiteCpp, SQLite::Statement reused with reset() ===//

#if ORMKIT_BENCH_HAVE_SQLITECPP
class sqlitecpp_side {
 public:
  static constexpr const char* name = "SQLiteCpp";

  sqlitecpp_side(const std::string& path, storage kind)
      : db_(open(path, kind)),
        insert_(db_, insert_sql),
        get_(db_, get_sql),
        all_(db_, all_sql),
        update_(db_, update_sql),
        erase_(db_, erase_sql) {}

  void begin() { tx_.emplace(db_, SQLite::TransactionBehavior::IMMEDIATE); }
  void commit() {
    tx_->commit();
    tx_.reset();
  }

  void insert(std::span<User> users) {
    for (auto& u : users) {
      insert_.reset();
      insert_.bindNoCopy(1, u.name);  // SQLITE_STATIC, as the raw side
      insert_.bindNoCopy(2, u.email);
      insert_.bind(3, u.age);
      insert_.bind(4, u.score);
      insert_.bind(5, u.active ? 1 : 0);
      insert_.bindNoCopy(6, u.bio);
      insert_.exec();
      u.id = db_.getLastInsertRowid();
    }
  }

  void get(std::int64_t id, User& u) {
    get_.reset();
    get_.bind(1, id);
    if (!get_.executeStep()) die("get(" + std::to_string(id) + ") found no row");
    u = read(get_);
    get_.reset();  // ends the read, as the raw side does
  }

  auto find_all() -> std::vector<User> {
    std::vector<User> out;
    all_.reset();
    while (all_.executeStep()) out.push_back(read(all_));
    all_.reset();
    return out;
  }

  void update_scores(std::span<const User> users) {
    for (const auto& u : users) {
      update_.reset();
      update_.bind(1, u.score);
      update_.bind(2, u.id);
      if (update_.exec() != 1) die("update found no row");
    }
  }

  void erase(std::span<const User> users) {
    for (const auto& u : users) {
      erase_.reset();
      erase_.bind(1, u.id);
      if (erase_.exec() != 1) die("erase found no row");
    }
  }

  auto count() -> std::int64_t { return db_.execAndGet(count_sql).getInt64(); }

 private:
  static auto open(const std::string& path, storage kind) -> SQLite::Database {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_NOMUTEX, busy_timeout_ms);
    for (const char* p : pragmas) db.exec(p);
    for (const auto& sql : table_ddl()) db.exec(sql);
    check_pragmas(kind, [&](const char* sql) { return db.execAndGet(sql).getString(); });
    return db;
  }
  static auto read(const SQLite::Statement& s) -> User {
    return {s.getColumn(0).getInt64(), s.getColumn(1).getString(), s.getColumn(2).getString(),
            s.getColumn(3).getInt(),   s.getColumn(4).getDouble(), s.getColumn(5).getInt() != 0,
            s.getColumn(6).getString()};
  }

  SQLite::Database db_;
  SQLite::Statement insert_, get_, all_, update_, erase_;
  std::optional<SQLite::Transaction> tx_;
};
#endif

//=== side 4: SOCI, prepared soci::statement with use/into bindings reused ===//

#if ORMKIT_BENCH_HAVE_SOCI
class soci_side {
 public:
  static constexpr const char* name = "SOCI";

  soci_side(const std::string& path, storage kind)
      : sql_(*soci::factory_sqlite3(), "db=" + path + " timeout=" + std::to_string(busy_timeout_ms / 1000)),
        ready_(setup(sql_, kind)),
        insert_((sql_.prepare << soci_insert_sql, soci::use(in_.name), soci::use(in_.email), soci::use(in_.age),
                 soci::use(in_.score), soci::use(in_active_), soci::use(in_.bio))),
        get_((sql_.prepare << soci_get_sql, soci::into(out_.id), soci::into(out_.name), soci::into(out_.email),
              soci::into(out_.age), soci::into(out_.score), soci::into(out_active_), soci::into(out_.bio),
              soci::use(key_))),
        all_((sql_.prepare << all_sql, soci::into(out_.id), soci::into(out_.name), soci::into(out_.email),
              soci::into(out_.age), soci::into(out_.score), soci::into(out_active_), soci::into(out_.bio))),
        update_((sql_.prepare << soci_update_sql, soci::use(score_), soci::use(key_))),
        erase_((sql_.prepare << soci_erase_sql, soci::use(key_))) {}

  void begin() { tx_.emplace(sql_); }
  void commit() {
    tx_->commit();
    tx_.reset();
  }

  void insert(std::span<User> users) {
    for (auto& u : users) {
      // The statement is bound to in_: move each entity there and back (no copies).
      in_ = std::move(u);
      in_active_ = in_.active ? 1 : 0;
      insert_.execute(true);
      long long id = 0;
      if (!sql_.get_last_insert_id("users", id)) die("no generated id");
      in_.id = id;
      u = std::move(in_);
    }
  }

  void get(std::int64_t id, User& u) {
    key_ = id;
    if (!get_.execute(true)) die("get(" + std::to_string(id) + ") found no row");
    out_.active = out_active_ != 0;
    u = std::move(out_);
  }

  // execute(true) steps the SELECT once and leaves it there until the next execute, so
  // after the last get the connection keeps a read snapshot open, and in WAL mode that
  // stops checkpoints: the writes that follow would skip I/O the other sides do. The
  // harness calls this after the get phase, untimed: one more step ends the statement.
  void end_reads() {
    if (get_.fetch()) die("get returned two rows");
  }

  auto find_all() -> std::vector<User> {
    std::vector<User> out;
    all_.execute();
    while (all_.fetch()) {
      out_.active = out_active_ != 0;
      out.push_back(std::move(out_));
    }
    return out;
  }

  void update_scores(std::span<const User> users) {
    for (const auto& u : users) {
      score_ = u.score;
      key_ = u.id;
      update_.execute(true);
      if (update_.get_affected_rows() != 1) die("update found no row");
    }
  }

  void erase(std::span<const User> users) {
    for (const auto& u : users) {
      key_ = u.id;
      erase_.execute(true);
      if (erase_.get_affected_rows() != 1) die("erase found no row");
    }
  }

  auto count() -> std::int64_t {
    long long n = -1;
    sql_ << count_sql, soci::into(n);
    return n;
  }

 private:
  static auto setup(soci::session& sql, storage kind) -> bool {
    for (const char* p : pragmas) {
      std::string ignored;  // journal_mode answers with a row
      sql << p, soci::into(ignored);
    }
    for (const auto& ddl : table_ddl()) sql << ddl;
    check_pragmas(kind, [&](const char* q) {
      std::string v;
      sql << q, soci::into(v);
      return v;
    });
    return true;
  }

  soci::session sql_;
  bool ready_;
  User in_{};
  int in_active_ = 0;
  User out_{};
  int out_active_ = 0;
  long long key_ = 0;
  double score_ = 0;
  soci::statement insert_, get_, all_, update_, erase_;
  std::optional<soci::transaction> tx_;
};
#endif

//=== the harness ===//

constexpr std::array<const char*, 5> phase_names{"insert", "get", "find_all", "update", "erase"};
enum phase : std::size_t { insert_phase, get_phase, find_all_phase, update_phase, erase_phase };

// A cheap digest of a fetched row, the same on every side.
auto digest(const User& u) -> std::uint64_t {
  return static_cast<std::uint64_t>(u.age) + u.name.size() + u.email.size() + u.bio.size() + (u.active ? 7u : 0u) +
         static_cast<std::uint64_t>(std::llround(u.score * 4));
}

void check_rows(const std::vector<User>& got, const std::vector<User>& want, const char* phase) {
  check(got.size() == want.size(),
        std::string(phase) + ": " + std::to_string(got.size()) + " rows, expected " + std::to_string(want.size()));
  for (std::size_t i = 0; i < want.size(); ++i)
    if (got[i] != want[i])
      die(std::string(phase) + ": row " + std::to_string(i) + " (id " + std::to_string(want[i].id) +
          ") differs from what was written");
}

// What one run of one storage mode shares with every side.
struct workload {
  const std::vector<User>& data;          // the rows to insert
  const std::vector<std::size_t>& order;  // the get phase's order of row indexes
  std::uint64_t want_digest;              // the digest of every row
};

// One side with its own database, alive for one run of one storage mode. The harness
// times a phase as pieces: a write phase's rows (and get's lookups) are cut into slices
// run one after another on every side in turn, so all sides meet the machine's slow and
// fast stretches alike; find_all runs whole, repeated. Only the side's own calls are
// inside the clock (the virtual call that reaches them is not).
class live_side {
 public:
  virtual ~live_side() = default;
  [[nodiscard]] virtual auto name() const -> const char* = 0;
  // Times piece `k` of `pieces` of phase `p`: rows [first, last) of a sliced phase.
  virtual auto run(phase p, std::size_t first, std::size_t last, bool first_piece, bool last_piece) -> double = 0;
  // The untimed checks once the phase's pieces have run.
  virtual void check_phase(phase p) = 0;
};

template <class Side>
class live_side_of final : public live_side {
 public:
  live_side_of(const mode& m, std::string path, const workload& w)
      : label_(std::string(Side::name) + "/" + m.label + "/"),
        what_(std::string(Side::name) + ", " + m.label),
        path_(std::move(path)),
        w_(w),
        users_(w.data) {
    current_what = what_;
    remove_db(path_);
    live_paths.push_back(path_);
    side_.emplace(path_, m.kind);
  }
  live_side_of(const live_side_of&) = delete;
  auto operator=(const live_side_of&) -> live_side_of& = delete;
  ~live_side_of() override {
    side_.reset();
    remove_db(path_);
    std::erase(live_paths, path_);
  }

  [[nodiscard]] auto name() const -> const char* override { return Side::name; }

  auto run(phase p, std::size_t first, std::size_t last, bool first_piece, bool last_piece) -> double override {
    current_what = what_;
    Side& side = *side_;
    const bool writes = p == insert_phase || p == update_phase || p == erase_phase;
    const auto rows = std::span<User>(users_).subspan(first, last - first);
    std::vector<User> all;  // find_all's result, destroyed after the clock stops
    ORMKIT_BENCH_PHASE_START();
    const stopwatch w;
    if (writes && first_piece) side.begin();
    switch (p) {
      case insert_phase: side.insert(rows); break;
      case get_phase:
        for (std::size_t i = first; i < last; ++i) {
          const std::int64_t id = users_[w_.order[i]].id;
          side.get(id, got_);
          if (got_.id != id) die("get(" + std::to_string(id) + ") returned another row");
          digest_ += digest(got_);
        }
        break;
      case find_all_phase: all = side.find_all(); break;
      case update_phase: side.update_scores(rows); break;
      case erase_phase: side.erase(rows); break;
    }
    if (writes && last_piece) side.commit();
    const double seconds = w.seconds();
    const std::string label = label_ + phase_names[p];  // must outlive the client request
    ORMKIT_BENCH_PHASE_END(label.c_str());
    if (p == find_all_phase) check_rows(all, users_, "find_all");
    return seconds;
  }

  void check_phase(phase p) override {
    current_what = what_;
    switch (p) {
      case insert_phase:
        for (std::size_t i = 0; i < users_.size(); ++i)
          if (users_[i].id <= (i ? users_[i - 1].id : 0)) die("insert: the generated ids are not increasing");
        break;
      case get_phase:
        if constexpr (requires { side_->end_reads(); }) side_->end_reads();
        check(digest_ == w_.want_digest, "get: the rows read differ from the rows written");
        break;
      case find_all_phase:
        for (auto& u : users_) u.score += 1.5;  // what the update phase writes
        break;
      case update_phase: check_rows(side_->find_all(), users_, "update"); break;
      case erase_phase: check(side_->count() == 0, "erase: rows are left"); break;
    }
  }

 private:
  std::string label_;  // "<side>/<mode>/" for callgrind_sqlite.sh
  std::string what_;
  std::string path_;
  const workload& w_;
  std::vector<User> users_;
  User got_;  // every side reads into one User (raw and ormkit reuse its strings)
  std::uint64_t digest_ = 0;
  std::optional<Side> side_;
};

struct side_entry {
  const char* name;
  std::unique_ptr<live_side> (*open)(const mode&, std::string, const workload&);
};

template <class Side>
auto open_side(const mode& m, std::string path, const workload& w) -> std::unique_ptr<live_side> {
  return std::make_unique<live_side_of<Side>>(m, std::move(path), w);
}

auto sides(bool control) -> std::vector<side_entry> {
  std::vector<side_entry> out{{raw_side::name, &open_side<raw_side>}};
  if (control) out.push_back({raw_side_copy<1>::name, &open_side<raw_side_copy<1>>});
  out.push_back({ormkit_side<true>::name, &open_side<ormkit_side<true>>});
  out.push_back({ormkit_side<false>::name, &open_side<ormkit_side<false>>});
#if ORMKIT_BENCH_HAVE_SQLITECPP
  out.push_back({sqlitecpp_side::name, &open_side<sqlitecpp_side>});
#endif
#if ORMKIT_BENCH_HAVE_SOCI
  out.push_back({soci_side::name, &open_side<soci_side>});
#endif
  return out;
}

// The q-quantile of v (0.5: the median), interpolating between neighbours.
auto quantile(std::vector<double> v, double q) -> double {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const double at = q * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(at);
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (at - static_cast<double>(lo));
}

// Each piece's ratio own/raw. Piece i of two sides is the same slice of the same run,
// timed moments apart, so a slow stretch of a shared machine falls on both sides of
// most ratios instead of on one side's total.
auto piece_ratios(const std::vector<double>& own, const std::vector<double>& raw) -> std::vector<double> {
  std::vector<double> r;
  for (std::size_t i = 0; i < own.size() && i < raw.size(); ++i)
    if (raw[i] > 0) r.push_back(own[i] / raw[i]);
  return r;
}

auto parse_count(const char* text, const char* flag) -> std::size_t {
  char* end = nullptr;
  const unsigned long long v = std::strtoull(text, &end, 10);
  if (end == text || *end != '\0' || v == 0 || text[0] == '-')
    die(std::string(flag) + " needs a positive number, got \"" + text + "\"");
  return static_cast<std::size_t>(v);
}

void usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--rows N] [--runs K] [--slices S] [--only memory|file] [--control]\n"
               "  --rows N   rows per phase (default 100000)\n"
               "  --runs K   runs; each phase reports the median (default 5)\n"
               "  --slices S each phase's rows cut into S slices, run on every side in turn (default 20;\n"
               "             1: each side runs a phase whole); find_all runs min(S, 3) times\n"
               "  --only M   time one storage mode: memory (:memory:) or file (WAL file in /tmp)\n"
               "  --control  also time \"raw (again)\", a second copy of the raw side: its ratio to raw\n"
               "             is what two identical sides give on this machine\n",
               argv0);
}

auto build_note() -> std::string {
  std::string note;
#if !defined(__OPTIMIZE__)
  note += "unoptimized build";
#endif
#if defined(__SANITIZE_ADDRESS__)
  note += note.empty() ? "AddressSanitizer build" : ", AddressSanitizer";
#endif
  return note;
}

}  // namespace

auto main(int argc, char** argv) -> int try {
  std::size_t rows = 100000;
  std::size_t runs = 5;
  std::size_t slices = 20;
  bool control = false;
  std::vector<mode> modes{{storage::file, "WAL file in /tmp"}, {storage::memory, ":memory:"}};
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if ((arg == "--rows" || arg == "--runs" || arg == "--slices") && i + 1 < argc) {
      const char* flag = argv[i++];
      (arg == "--rows" ? rows : arg == "--runs" ? runs : slices) = parse_count(argv[i], flag);
    } else if (arg == "--control") {
      control = true;
    } else if (arg == "--only" && i + 1 < argc) {
      const std::string_view which = argv[++i];
      if (which != "memory" && which != "file") {
        usage(argv[0]);
        return 2;
      }
      std::erase_if(modes, [&](const mode& m) { return (m.kind == storage::file) != (which == "file"); });
    } else {
      usage(argv[0]);
      return arg == "--help" || arg == "-h" ? 0 : 2;
    }
  }

  const auto data = make_users(rows);
  std::vector<std::size_t> order(rows);
  for (std::size_t i = 0; i < rows; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), std::mt19937_64(42));  // fixed seed: the same order for every side
  std::uint64_t want_digest = 0;
  for (const auto& u : data) want_digest += digest(u);

  slices = std::min(slices, rows);
  const std::size_t find_all_repeats = std::min<std::size_t>(slices, 3);
  const workload work{data, order, want_digest};
  const auto all_sides = sides(control);
  const std::size_t n_sides = all_sides.size();
  const std::string file_stem = "/tmp/ormkit_sqlite_bench_" + std::to_string(::getpid()) + "_";

  // totals[mode][side][phase]: one entry per run, the phase's seconds (find_all: the mean of
  // its repeats); pieces[mode][side][phase]: every piece's seconds, in the same order on
  // every side.
  using per_phase = std::array<std::vector<double>, phase_names.size()>;
  std::vector<std::vector<per_phase>> totals(modes.size(), std::vector<per_phase>(n_sides));
  std::vector<std::vector<per_phase>> pieces(modes.size(), std::vector<per_phase>(n_sides));
  std::mt19937_64 shuffler(7);  // fixed seed: the same orders every time
  // A new order of the sides for every piece: none always gets the warmest (or coldest)
  // moment, nor always follows the same side (and with it what that side left in the
  // caches and the heap).
  std::vector<std::size_t> side_order(n_sides);
  for (std::size_t k = 0; k < n_sides; ++k) side_order[k] = k;
  for (std::size_t run = 0; run < runs; ++run) {
    for (std::size_t m = 0; m < modes.size(); ++m) {
      std::vector<std::unique_ptr<live_side>> live(n_sides);
      std::shuffle(side_order.begin(), side_order.end(), shuffler);
      for (std::size_t s : side_order) {
        const std::string path = modes[m].kind == storage::file ? file_stem + std::to_string(s) + ".db" : ":memory:";
        live[s] = all_sides[s].open(modes[m], path, work);
      }
      for (std::size_t p = 0; p < phase_names.size(); ++p) {
        const auto ph = static_cast<phase>(p);
        const std::size_t n_pieces = ph == find_all_phase ? find_all_repeats : slices;
        std::vector<double> total(n_sides, 0.0);
        for (std::size_t k = 0; k < n_pieces; ++k) {
          const std::size_t first = ph == find_all_phase ? 0 : k * rows / n_pieces;
          const std::size_t last = ph == find_all_phase ? rows : (k + 1) * rows / n_pieces;
          std::shuffle(side_order.begin(), side_order.end(), shuffler);
          for (std::size_t s : side_order) {
            const double t = live[s]->run(ph, first, last, k == 0, k + 1 == n_pieces);
            pieces[m][s][p].push_back(t);
            total[s] += t;
          }
        }
        for (std::size_t s = 0; s < n_sides; ++s) {
          totals[m][s][p].push_back(ph == find_all_phase ? total[s] / static_cast<double>(n_pieces) : total[s]);
          live[s]->check_phase(ph);
        }
      }
      current_what.clear();
    }
  }

  std::printf(
      "ormkit_sqlite_bench: SQLite %s (headers %s); N = %zu rows; %zu runs; each phase in %zu slices (find_all: "
      "%zu repeats), the sides in turn\n",
      sqlite3_libversion(), SQLITE_VERSION, rows, runs, slices, find_all_repeats);
  std::printf(
      "every side: the same table and pragmas (journal_mode=WAL for the file, synchronous=NORMAL, "
      "foreign_keys=ON, busy_timeout=%d ms)\n",
      busy_timeout_ms);
  std::printf("sides: raw sqlite3 (prepared statements reused), ormkit %s (repository<User>)", ORMKIT_VERSION_STRING);
#if ORMKIT_BENCH_HAVE_SQLITECPP
  std::printf(", SQLiteCpp %s", SQLITECPP_VERSION);
#endif
#if ORMKIT_BENCH_HAVE_SOCI
  std::printf(", SOCI %d.%d.%d", SOCI_VERSION / 100000, SOCI_VERSION / 100 % 1000, SOCI_VERSION % 100);
#endif
  std::printf("\n");
#if !ORMKIT_BENCH_HAVE_SQLITECPP
  std::printf("SQLiteCpp: not built (CMake package SQLiteCpp not found at configure time)\n");
#endif
#if !ORMKIT_BENCH_HAVE_SOCI
  std::printf("SOCI: not built (soci_core/soci_sqlite3 not found at configure time)\n");
#endif
  if (const std::string note = build_note(); !note.empty())
    std::printf("note: %s; these timings say nothing about release performance\n", note.c_str());
  std::printf(
      "columns: microseconds per row, the median over the runs of each phase's total; <side>/raw, the median "
      "over every piece (slice or repeat) of every run of its time over raw's time for the same piece\n");

  const auto n = static_cast<double>(rows);
  for (std::size_t m = 0; m < modes.size(); ++m) {
    std::printf("\n### %s (microseconds per row)\n\n| phase    |", modes[m].label);
    for (std::size_t s = 0; s < n_sides; ++s) {
      std::printf(" %9s |", all_sides[s].name);
      if (s > 0) std::printf(" %13s |", (std::string(all_sides[s].name) + "/raw").c_str());
    }
    std::printf("\n|----------|");
    for (std::size_t s = 0; s < n_sides; ++s) std::printf(s > 0 ? "----------:|--------------:|" : "----------:|");
    std::printf("\n");
    for (std::size_t p = 0; p < phase_names.size(); ++p) {
      std::printf("| %-8s |", phase_names[p]);
      for (std::size_t s = 0; s < n_sides; ++s) {
        std::printf(" %9.3f |", quantile(totals[m][s][p], 0.5) * 1e6 / n);
        if (s > 0) std::printf(" %12.3fx |", quantile(piece_ratios(pieces[m][s][p], pieces[m][0][p]), 0.5));
      }
      std::printf("\n");
    }
    // How far the piece ratios spread (with --control, raw (again)'s quartiles are what
    // this machine gives for two identical sides), and the pooled ratio: the side's time
    // over raw's, summed over every piece. A median would hide a cost that only some
    // pieces pay; the pooled ratio would show it (and every slow stretch of the machine).
    std::printf("\n%s, quartiles of the piece ratios <side>/raw, and [pooled: all pieces summed]:\n",
                modes[m].label);
    for (std::size_t p = 0; p < phase_names.size(); ++p) {
      std::printf("  %-8s", phase_names[p]);
      for (std::size_t s = 1; s < n_sides; ++s) {
        const auto r = piece_ratios(pieces[m][s][p], pieces[m][0][p]);
        double own = 0;
        double raw = 0;
        for (double t : pieces[m][s][p]) own += t;
        for (double t : pieces[m][0][p]) raw += t;
        std::printf("  %s %.3f-%.3f [%.3f]", all_sides[s].name, quantile(r, 0.25), quantile(r, 0.75),
                    raw > 0 ? own / raw : 0.0);
      }
      std::printf("\n");
    }
  }
  return 0;
} catch (const std::exception& e) {
  die(std::string("exception: ") + e.what());
}
