// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// The SQLite backend on its own: opening (file, :memory:, read-only URI) and
// the pragmas that must be in effect, the statement cache, answers identical
// to the memory backend's for the same repository calls, NULL / LIKE /
// ordering semantics, transactions and savepoints, conflicts, busy from a
// second connection, a transaction SQLite rolled back by itself, backup of a
// WAL database, 8 threads on one file, and bytes that only SQLite stores
// (embedded NUL, invalid UTF-8).

#include <ormkit/memory.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/sqlite.hpp>
#include <ormkit/transaction.hpp>

#include "../support/catch.hpp"

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unistd.h>
#include <utility>
#include <vector>

// Two column types for the typed writes' fallbacks (see "sqlite: a repository on the
// backend itself ..."): one whose trait converts to text with no view of the member (so
// the value lives only for the call), and a faulty one that declares integer storage but
// gives text.
namespace sqlite_backend_test {
struct tag {
  std::string text;
  friend auto operator==(const tag&, const tag&) -> bool = default;
};
struct mislabelled {
  std::string text;
  friend auto operator==(const mislabelled&, const mislabelled&) -> bool = default;
};
}  // namespace sqlite_backend_test

template <>
struct ormkit::column_traits<sqlite_backend_test::tag> {
  static constexpr std::string_view name = "tag";
  static constexpr ormkit::storage storage = ormkit::storage::text;
  static auto to_value(const sqlite_backend_test::tag& t) -> ormkit::value { return "#" + t.text; }
  static auto from_value(const ormkit::value_view& v) -> ormkit::result<sqlite_backend_test::tag> {
    if (const auto* s = std::get_if<std::string_view>(&v); s && !s->empty() && s->front() == '#')
      return sqlite_backend_test::tag{std::string(s->substr(1))};
    return ormkit::column_traits_mismatch(name, storage, v);
  }
};

template <>
struct ormkit::column_traits<sqlite_backend_test::mislabelled> {
  static constexpr std::string_view name = "mislabelled";
  static constexpr ormkit::storage storage = ormkit::storage::integer;  // but to_view gives text
  static auto to_value(const sqlite_backend_test::mislabelled& m) -> ormkit::value { return m.text; }
  static auto to_view(const sqlite_backend_test::mislabelled& m) -> ormkit::value_view {
    return std::string_view(m.text);
  }
  static auto from_value(const ormkit::value_view& v) -> ormkit::result<sqlite_backend_test::mislabelled> {
    if (const auto* s = std::get_if<std::string_view>(&v)) return sqlite_backend_test::mislabelled{std::string(*s)};
    return ormkit::column_traits_mismatch(name, storage, v);
  }
};

namespace sqlite_backend_test {

using namespace std::chrono_literals;
using ormkit::col;
namespace fs = std::filesystem;

//=== entities ===//

struct person {
  std::int64_t id{};
  std::string email{};
  std::string name{};
  int age{};
  std::optional<std::string> bio{};
  std::optional<double> score{};
  std::int64_t version{};

  friend constexpr auto ormkit_describe(std::type_identity<person>) {
    using namespace ormkit;
    return describe<person>("sq_people")
        .column(&person::id, "id", primary_key, auto_increment)
        .column(&person::email, "email", unique)
        .column(&person::name, "name")
        .column(&person::age, "age")
        .column(&person::bio, "bio")
        .column(&person::score, "score")
        .column(&person::version, "version", version_column)
        .index("ix_sq_people_age", &person::age);
  }
  friend auto operator==(const person&, const person&) -> bool = default;
};

struct team {
  std::int64_t id{};
  std::string name{};

  friend constexpr auto ormkit_describe(std::type_identity<team>) {
    using namespace ormkit;
    return describe<team>("sq_teams").column(&team::id, "id", primary_key, auto_increment).column(&team::name, "name");
  }
};

struct member {
  std::int64_t team_id{};
  std::string login{};
  std::string role{};
  std::string token{};

  friend constexpr auto ormkit_describe(std::type_identity<member>) {
    using namespace ormkit;
    return describe<member>("sq_members")
        .column(&member::team_id, "team_id", primary_key, references<&team::id>)
        .column(&member::login, "login", primary_key)
        .column(&member::role, "role", default_value("user"))
        .column(&member::token, "token", secret, unique);
  }
  friend auto operator==(const member&, const member&) -> bool = default;
};

struct note {
  std::int64_t id{};
  std::string text{};
  std::vector<std::byte> data{};

  friend constexpr auto ormkit_describe(std::type_identity<note>) {
    using namespace ormkit;
    return describe<note>("sq_notes")
        .column(&note::id, "id", primary_key, auto_increment)
        .column(&note::text, "text")
        .column(&note::data, "data");
  }
  friend auto operator==(const note&, const note&) -> bool = default;
};

struct entry {
  std::int64_t id{};
  std::string account{};
  std::int64_t amount{};

  friend constexpr auto ormkit_describe(std::type_identity<entry>) {
    using namespace ormkit;
    return describe<entry>("sq_ledger")
        .column(&entry::id, "id", primary_key, auto_increment)
        .column(&entry::account, "account")
        .column(&entry::amount, "amount");
  }
};

using people = ormkit::query<person>;

//=== helpers ===//

// A database file in a fresh directory, removed with its -wal and -shm files.
class temp_db {
 public:
  explicit temp_db(std::string_view stem = "db") {
    static std::atomic<int> counter{0};
    dir_ = fs::temp_directory_path() /
           ("ormkit_sqlite_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    fs::create_directories(dir_);
    path_ = (dir_ / (std::string(stem) + ".db")).string();
  }
  temp_db(const temp_db&) = delete;
  auto operator=(const temp_db&) -> temp_db& = delete;
  ~temp_db() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  [[nodiscard]] auto path() const -> const std::string& { return path_; }
  [[nodiscard]] auto sibling(std::string_view name) const -> std::string { return (dir_ / name).string(); }

 private:
  fs::path dir_;
  std::string path_;
};

auto sample_people() -> std::vector<person> {
  return {
      {0, "ann@example.com", "Ann", 31, "likes tea", 2.5, 0},
      {0, "ann2@example.com", "ann", 12, std::nullopt, 1.0, 0},
      {0, "bob@example.com", "Bob", 31, "x", std::nullopt, 0},
      {0, "bob1@example.com", "bob_1", 40, std::nullopt, 3.0, 0},
      {0, "pct@example.com", "100%", 25, "100% sure", 0.5, 0},
      {0, "emile@example.com", "\xc3\x89mile", 25, "caf\xc3\xa9", std::nullopt, 0},
      {0, "zoe@example.com", "Zoe", 58, "x", 1.5, 0},
      {0, "ab@example.com", "a_b", 12, "", 2.5, 0},
  };
}

// Names of a result, for readable failure output.
auto names(const std::vector<person>& v) -> std::string {
  std::string out;
  for (const auto& p : v) out += (out.empty() ? "" : ",") + p.name;
  return out;
}

// Memory and SQLite side by side, seeded with the same rows.
struct twin {
  ormkit::memory::backend mem;
  ormkit::sqlite::backend lite;
  ormkit::repository<person> m{mem};
  ormkit::repository<person> s{lite};

  twin() {
    m.insert_many(sample_people()).value();
    s.insert_many(sample_people()).value();
  }

  // Runs `f` on both repositories and checks the outcomes are the same.
  template <class F>
  void same(F f) {
    auto a = f(m);
    auto b = f(s);
    REQUIRE(a.has_value() == b.has_value());
    if (!a.has_value()) {
      CHECK(a.error().code == b.error().code);
      CHECK(a.error().message == b.error().message);
      return;
    }
    using V = std::remove_cvref_t<decltype(*a)>;
    if constexpr (std::is_void_v<V>) {
      return;
    } else if constexpr (std::is_same_v<V, std::vector<person>>) {
      INFO("memory: " << names(*a) << "\nsqlite: " << names(*b));
      CHECK(*a == *b);
    } else if constexpr (std::is_same_v<V, ormkit::value_rows>) {
      REQUIRE(a->size() == b->size());
      for (std::size_t i = 0; i < a->size(); ++i) {
        std::string x, y;
        for (const auto& v : (*a)[i]) x += ormkit::to_display(v) + " ";
        for (const auto& v : (*b)[i]) y += ormkit::to_display(v) + " ";
        INFO("row " << i << "\nmemory: " << x << "\nsqlite: " << y);
        CHECK((*a)[i] == (*b)[i]);
      }
    } else {
      CHECK(*a == *b);
    }
  }
};

//=== opening ===//

TEST_CASE("sqlite: :memory: opens with the connection settings in effect", "[sqlite]") {
  ormkit::sqlite::backend db;
  CHECK(db.name() == "sqlite");
  CHECK(db.journal_mode() == "memory");  // WAL does not apply to an in-memory database
  auto fk = db.query("PRAGMA foreign_keys").value();
  CHECK(fk.at(0).at(0) == ormkit::value(std::int64_t{1}));
  // Double-quoted string literals are off: an unknown "name" is an error, not a string.
  auto dqs = db.query(R"(SELECT "nosuchcolumn")");
  REQUIRE_FALSE(dqs);
  CHECK(dqs.error().message.find("no such column: nosuchcolumn") != std::string::npos);
}

TEST_CASE("sqlite: a file opens in WAL mode with synchronous NORMAL or FULL", "[sqlite]") {
  temp_db file;
  {
    ormkit::sqlite::backend db({.path = file.path()});
    CHECK(db.journal_mode() == "wal");
    CHECK(db.query("PRAGMA journal_mode").value().at(0).at(0) == ormkit::value(std::string("wal")));
    CHECK(db.query("PRAGMA synchronous").value().at(0).at(0) == ormkit::value(std::int64_t{1}));
    CHECK(db.query("PRAGMA foreign_keys").value().at(0).at(0) == ormkit::value(std::int64_t{1}));
    CHECK(db.query("PRAGMA busy_timeout").value().at(0).at(0) == ormkit::value(std::int64_t{5000}));
    REQUIRE_FALSE(db.query(R"(SELECT 1 FROM sqlite_master ORDER BY "nmae")"));
  }
  ormkit::sqlite::backend full({.path = file.path(), .sync = ormkit::sqlite::synchronous::full, .busy_timeout = 250ms});
  CHECK(full.query("PRAGMA synchronous").value().at(0).at(0) == ormkit::value(std::int64_t{2}));
  CHECK(full.query("PRAGMA busy_timeout").value().at(0).at(0) == ormkit::value(std::int64_t{250}));
}

TEST_CASE("sqlite: read-only by URI or option refuses writes with errc::readonly", "[sqlite]") {
  temp_db file;
  {
    ormkit::sqlite::backend db({.path = file.path()});
    ormkit::repository<person> r(db);
    r.insert({0, "ann@example.com", "Ann", 31, {}, {}, 0}).value();
  }
  auto check_read_only = [&](ormkit::sqlite::backend& db) {
    ormkit::repository<person> r(db);
    CHECK(r.count().value() == 1);  // reads work (the table exists: no DDL needed)
    auto w = r.insert({0, "bob@example.com", "Bob", 40, {}, {}, 0});
    REQUIRE_FALSE(w);
    CHECK(w.error().is(ormkit::errc::readonly));
    CHECK(w.error().native.rfind("8 SQLITE_READONLY", 0) == 0);
    CHECK(w.error().message.find(file.path()) != std::string::npos);
    // A table that does not exist cannot be created either.
    ormkit::repository<note> notes(db);
    auto n = notes.insert({0, "x", {}});
    REQUIRE_FALSE(n);
    CHECK(n.error().is(ormkit::errc::readonly));
    CHECK(r.count().value() == 1);
  };
  SECTION("URI mode=ro") {
    auto db = ormkit::sqlite::backend::open({.path = "file:" + file.path() + "?mode=ro", .uri = true}).value();
    check_read_only(*db);
  }
  SECTION("options::read_only") {
    auto db = ormkit::sqlite::backend::open({.path = file.path(), .read_only = true}).value();
    check_read_only(*db);
  }
}

TEST_CASE("sqlite: open failures name the path", "[sqlite]") {
  temp_db file;
  SECTION("missing directory: cannot_open") {
    auto path = file.sibling("no/such/dir/x.db");
    auto db = ormkit::sqlite::backend::open({.path = path});
    REQUIRE_FALSE(db);
    CHECK(db.error().is(ormkit::errc::cannot_open));
    CHECK(db.error().message == "sqlite: cannot open \"" + path + "\": unable to open database file");
    CHECK(db.error().native == "14 SQLITE_CANTOPEN");
    CHECK_THROWS_AS(ormkit::sqlite::backend({.path = path}), ormkit::exception);
  }
  SECTION("not a database: corrupt") {
    {
      std::ofstream out(file.path(), std::ios::binary);
      out << std::string(4096, 'x');
    }
    auto db = ormkit::sqlite::backend::open({.path = file.path()});
    REQUIRE_FALSE(db);
    CHECK(db.error().is(ormkit::errc::corrupt));
    CHECK(db.error().message == "sqlite: cannot open \"" + file.path() + "\": file is not a database");
    CHECK(db.error().native == "26 SQLITE_NOTADB");
  }
}

//=== the statement cache ===//

TEST_CASE("sqlite: everyday calls reuse cached statements", "[sqlite]") {
  ormkit::sqlite::backend db;
  ormkit::repository<person> r(db);
  auto ann = r.insert({0, "ann@example.com", "Ann", 31, {}, {}, 0}).value();
  (void)r.get(ann.id).value();
  ann.age = 32;
  ann = r.update(ann).value();
  const auto before = db.statistics();
  for (int i = 0; i < 50; ++i) {
    auto p = r.insert({0, "p" + std::to_string(i) + "@example.com", "P", i, {}, {}, 0}).value();
    CHECK(r.get(p.id).value().age == i);
    p.age += 1;
    (void)r.update(p).value();
  }
  const auto after = db.statistics();
  CHECK(after.prepares == before.prepares);  // nothing prepared again
  CHECK(after.cache_hits >= before.cache_hits + 150);
  CHECK(after.evictions == 0);

  SECTION("a statement checked out by an open cursor is not shared") {
    auto q = people().order_by(&person::id);
    auto stream = r.stream(q).value();
    auto it = stream.begin();
    REQUIRE(it->name == "Ann");
    const auto mid = db.statistics();
    // The same query while the cursor still holds its statement: a private copy.
    CHECK(r.find(q).value().size() == 51);
    CHECK(db.statistics().prepares == mid.prepares + 1);
    std::size_t n = 0;
    for (; it != stream.end(); ++it) ++n;
    CHECK(n == 51);
    // The cursor's statement is back in the cache.
    const auto done = db.statistics();
    CHECK(r.find(q).value().size() == 51);
    CHECK(db.statistics().prepares == done.prepares);
  }
}

TEST_CASE("sqlite: the statement cache respects its capacity", "[sqlite]") {
  SECTION("capacity 0 prepares every time") {
    ormkit::sqlite::backend db({.statement_cache = 0});
    ormkit::repository<person> r(db);
    auto ann = r.insert({0, "ann@example.com", "Ann", 31, {}, {}, 0}).value();
    const auto before = db.statistics();
    for (int i = 0; i < 10; ++i) (void)r.get(ann.id).value();
    CHECK(db.statistics().prepares >= before.prepares + 10);
    CHECK(db.statistics().cached == 0);
  }
  SECTION("least recently used statements are evicted") {
    ormkit::sqlite::backend db({.statement_cache = 4});
    ormkit::repository<person> r(db);
    r.insert_many(sample_people()).value();
    for (int i = 0; i < 3; ++i) {
      (void)r.find(col(&person::age) > 1).value();
      (void)r.find(col(&person::age) < 100).value();
      (void)r.find(col(&person::name) == "Ann").value();
      (void)r.find(col(&person::name) != "Ann").value();
      (void)r.find(col(&person::bio).is_null()).value();
    }
    CHECK(db.statistics().evictions > 0);
    CHECK(db.statistics().cached <= 4);
    CHECK(r.find(col(&person::bio).is_null()).value().size() == 2);
  }
}

TEST_CASE("sqlite: the keyed statements of get, update and erase stay prepared", "[sqlite]") {
  // A small cache that other queries keep evicting from: the statements that address a
  // row by key are pinned to their table and never prepared again.
  ormkit::sqlite::backend db({.statement_cache = 4});
  ormkit::repository<person> r(db);
  auto ann = r.insert({0, "ann@example.com", "Ann", 31, {}, {}, 0}).value();
  ann = r.update(r.get(ann.id).value()).value();
  auto gone = r.insert({0, "gone@example.com", "Gone", 1, {}, {}, 0}).value();
  r.erase(gone.id).value();
  const auto warm = db.statistics();
  std::uint64_t by_finds = 0;
  for (int i = 0; i < 20; ++i) {
    std::vector<int> ages(static_cast<std::size_t>(i) + 1, 7);
    const auto before_find = db.statistics().prepares;
    (void)r.find(col(&person::age).in(ages)).value();  // more values: new shapes, evictions
    by_finds += db.statistics().prepares - before_find;
    auto p = r.insert({0, "p" + std::to_string(i) + "@example.com", "P", i, {}, {}, 0}).value();
    CHECK(r.get(p.id).value().age == i);
    p.age += 100;
    CHECK(r.update(p).value().age == i + 100);
    r.erase(p.id).value();
    CHECK(r.get(p.id).error().is(ormkit::errc::not_found));
  }
  const auto after = db.statistics();
  CHECK(after.evictions > warm.evictions);
  CHECK(by_finds > 0);
  CHECK(after.prepares == warm.prepares + by_finds);  // the keyed calls prepared nothing
  CHECK(r.get(ann.id).value().name == "Ann");
}

TEST_CASE("sqlite: serialized mode opens and works the same", "[sqlite]") {
  ormkit::sqlite::backend db({.serialized = true});
  ormkit::repository<person> r(db);
  auto ann = r.insert({0, "ann@example.com", "Ann", 31, {}, {}, 0}).value();
  ann.age = 40;
  CHECK(r.update(ann).value().age == 40);
  CHECK(r.get(ann.id).value().age == 40);
  CHECK(r.erase(ann.id));
  CHECK(r.count().value() == 0);
}

TEST_CASE("sqlite: a cursor steps lazily and releases its statement at the end", "[sqlite]") {
  ormkit::sqlite::backend db;
  ormkit::repository<person> r(db);
  r.insert_many(sample_people()).value();
  auto active = [&] {
    int n = 0;
    for (auto* st = sqlite3_next_stmt(db.native_handle(), nullptr); st; st = sqlite3_next_stmt(db.native_handle(), st))
      n += sqlite3_stmt_busy(st);
    return n;
  };
  CHECK(active() == 0);
  {
    auto c = db.select(ormkit::schema_of<person>(), people().order_by(&person::age).spec()).value();
    CHECK(active() == 0);  // nothing run before the first next()
    REQUIRE(c.next().value());
    CHECK(active() == 1);  // mid-way: the statement is stepping, rows are not all loaded
    CHECK(std::get<std::string_view>(c.row()[2]) == "ann");
    while (c.next().value()) {
    }
    CHECK(active() == 0);  // reset at the end, before the cursor is destroyed
    CHECK_FALSE(c.next().value());
  }
  {
    // A cursor outlives its backend: it keeps the connection alive.
    auto other = std::make_unique<ormkit::sqlite::backend>();
    ormkit::repository<person> o(*other);
    o.insert_many(sample_people()).value();
    auto c = other->select(ormkit::schema_of<person>(), people().spec()).value();
    other.reset();
    int n = 0;
    while (c.next().value()) ++n;
    CHECK(n == 8);
  }
}

//=== same answers as the memory backend ===//

TEST_CASE("sqlite: repository queries answer as on the memory backend", "[sqlite]") {
  twin t;
  using R = ormkit::repository<person>;
  t.same([](R& r) { return r.find_all(); });
  t.same([](R& r) { return r.find(people().order_by(&person::name)); });
  t.same([](R& r) { return r.find(people().order_by(&person::name, ormkit::desc)); });
  t.same([](R& r) { return r.find(people().order_by(&person::age)); });  // ties in insertion order
  t.same([](R& r) { return r.find(people().order_by(&person::age, ormkit::desc)); });
  t.same([](R& r) { return r.find(people().order_by(&person::bio)); });  // NULLs first
  t.same([](R& r) { return r.find(people().order_by(&person::bio, ormkit::desc)); });  // NULLs last
  t.same([](R& r) { return r.find(people().order_by(&person::score).order_by(&person::age, ormkit::desc)); });
  t.same([](R& r) { return r.find(people().order_by(&person::age).limit(3).offset(2)); });
  t.same([](R& r) { return r.find(people().offset(5)); });
  t.same([](R& r) { return r.find(people().limit(0)); });
  t.same([](R& r) { return r.find(people().offset(100)); });
  t.same([](R& r) { return r.find(col(&person::age) >= 30); });
  t.same([](R& r) { return r.find(col(&person::age).between(12, 25)); });
  t.same([](R& r) { return r.find(col(&person::score).between(1.0, 2.5)); });
  t.same([](R& r) { return r.find(col(&person::score) > 1.5); });
  t.same([](R& r) { return r.find(col(&person::score) <= 1.5); });
  t.same([](R& r) { return r.find(col(&person::bio) == "x"); });
  t.same([](R& r) { return r.find(col(&person::bio) != "x"); });       // NULL is neither
  t.same([](R& r) { return r.find(!(col(&person::bio) == "x")); });    // NOT unknown is unknown
  t.same([](R& r) { return r.find(!(col(&person::score) > 1.0)); });
  t.same([](R& r) { return r.find(col(&person::bio).is_null()); });
  t.same([](R& r) { return r.find(col(&person::bio).is_not_null()); });
  t.same([](R& r) { return r.find(col(&person::age) < 20 || col(&person::bio).is_null()); });
  t.same([](R& r) { return r.find(col(&person::age) > 20 && !(col(&person::score) < 2.0)); });
  t.same([](R& r) { return r.find(col(&person::age).in({31, 12})); });
  t.same([](R& r) { return r.find(col(&person::age).in(std::vector<int>{1, 2, 3, 4, 58})); });  // padded to 8
  t.same([](R& r) { return r.find(col(&person::age).in(std::vector<int>{})); });                // matches nothing
  t.same([](R& r) { return r.find(!col(&person::age).in(std::vector<int>{})); });               // everything
  t.same([](R& r) { return r.find(col(&person::bio).in({std::string("x"), std::string("")})); });
  t.same([](R& r) { return r.find(!col(&person::bio).in({std::string("x")})); });
  t.same([](R& r) { return r.find_one(people().order_by(&person::age, ormkit::desc)); });
  t.same([](R& r) { return r.count(col(&person::age) > 20); });
  t.same([](R& r) { return r.exists(col(&person::name) == "nobody"); });
  t.same([](R& r) {
    std::vector<std::int64_t> keys{3, 1, 99, 3};
    return r.get_many(keys);
  });
  t.same([](R& r) { return r.get(4); });
  t.same([](R& r) { return r.get(42); });  // not_found, same message
  t.same([](R& r) {
    return r.page_of(people().order_by(&person::name), 2, 3).transform([](auto p) {
      return std::pair(p.items, p.total);
    });
  });
  t.same([](R& r) -> ormkit::result<std::vector<person>> {
    std::vector<person> all;
    std::optional<person> last;
    for (;;) {
      auto p = r.page_after(people().order_by(&person::age), last, 3);
      if (!p) return std::move(p).error();
      all.insert(all.end(), p->items.begin(), p->items.end());
      if (!p->has_more) return all;
      last = p->items.back();
    }
  });
}

TEST_CASE("sqlite: aggregates answer as on the memory backend", "[sqlite]") {
  twin t;
  using R = ormkit::repository<person>;
  using A = ormkit::aggregate<person>;
  t.same([](R& r) {
    return r.run(A()
                     .group_by(&person::age)
                     .count()
                     .count(&person::bio)
                     .sum(&person::age)
                     .avg(&person::age)
                     .min(&person::name)
                     .max(&person::name));
  });
  t.same([](R& r) { return r.run(A().group_by(&person::bio).count().sum(&person::score)); });  // NULL group first
  t.same([](R& r) { return r.run(A().group_by(&person::score).group_by(&person::age).count()); });
  t.same([](R& r) { return r.run(A().count().sum(&person::score).avg(&person::score).min(&person::bio)); });
  // No rows: COUNT 0, SUM / AVG / MIN NULL; one row without GROUP BY, none with it.
  t.same([](R& r) {
    return r.run(A().where(col(&person::age) > 1000).count().sum(&person::age).avg(&person::age).min(&person::name));
  });
  t.same([](R& r) { return r.run(A().where(col(&person::age) > 1000).group_by(&person::age).count()); });
  auto empty = t.s.run(A().where(col(&person::age) > 1000).count().sum(&person::age).avg(&person::age)).value();
  REQUIRE(empty.size() == 1);
  CHECK(empty[0][0] == ormkit::value(std::int64_t{0}));
  CHECK(empty[0][1].index() == 0);
  CHECK(empty[0][2].index() == 0);
  auto avg = t.s.run(A().avg(&person::age)).value();
  CHECK(std::holds_alternative<double>(avg[0][0]));  // AVG is real even over integers
}

TEST_CASE("sqlite: SUM overflow is invalid_argument, as on the memory backend", "[sqlite]") {
  ormkit::memory::backend mem;
  ormkit::sqlite::backend lite;
  for (ormkit::backend_ref b : {ormkit::backend_ref(mem), ormkit::backend_ref(lite)}) {
    ormkit::repository<entry> ledger(b);
    ledger.insert({0, "a", std::numeric_limits<std::int64_t>::max()}).value();
    ledger.insert({0, "a", 1}).value();
    auto sum = ledger.run(ormkit::aggregate<entry>().sum(&entry::amount));
    REQUIRE_FALSE(sum);
    CHECK(sum.error().is(ormkit::errc::invalid_argument));
    CHECK(sum.error().message == "sq_ledger: sum: integer overflow");
    // AVG does not overflow: it sums in floating point.
    CHECK(ledger.run(ormkit::aggregate<entry>().avg(&entry::amount)).has_value());
  }
}

TEST_CASE("sqlite: writes leave both backends with the same rows", "[sqlite]") {
  twin t;
  using R = ormkit::repository<person>;
  t.same([](R& r) {
    auto p = r.get(2).value();
    p.bio = "now with bio";
    p.score = std::nullopt;
    return r.update(p);
  });
  t.same([](R& r) {
    auto p = r.get(3).value();
    p.age = 99;
    return r.update_columns(p, &person::age);
  });
  t.same([](R& r) {
    auto p = r.get(3).value();
    p.version = 1;  // stale
    return r.update(p);
  });
  t.same([](R& r) { return r.upsert({5, "pct@example.com", "100 percent", 26, std::nullopt, 9.0, 4}); });
  t.same([](R& r) { return r.upsert({0, "new@example.com", "New", 1, std::nullopt, std::nullopt, 0}); });
  t.same([](R& r) { return r.upsert({77, "n77@example.com", "Explicit", 7, std::nullopt, std::nullopt, 0}); });
  t.same([](R& r) { return r.insert({0, "after@example.com", "After", 2, std::nullopt, std::nullopt, 0}); });
  t.same([](R& r) { return r.erase_where(col(&person::age) < 20); });
  t.same([](R& r) {
    std::vector<std::int64_t> keys{1, 7, 500};
    return r.erase_many(keys);
  });
  t.same([](R& r) { return r.erase(1); });  // not_found now
  t.same([](R& r) { return r.find_all(); });
  t.same([](R& r) { return r.find(people().order_by(&person::name)); });
}

//=== semantics in detail ===//

TEST_CASE("sqlite: LIKE is case-sensitive, with % _ and backslash escapes over the full bytes", "[sqlite]") {
  ormkit::memory::backend mem;
  ormkit::sqlite::backend lite;
  const std::vector<std::string> texts{"Alice",   "alice", "ALICE",        "a_b",         "aXb",        "a%b",
                                       "100%",    "100",   "\xc3\xbcnic",  "xx\\yy",      std::string("a\0b", 3),
                                       "",        "%_",    "\xff\xfe",     "alice smith", "Bob"};
  const std::vector<std::string> patterns{"a%",     "A%",    "%e",    "_lice", "a_b",          "a\\_b",   "a\\%b",
                                          "100\\%", "100%",  "%\\%",  "_",     "__",           "%",       "",
                                          "\\%\\_", "_nic",  "xx\\\\yy", "%\\",   std::string("a\0%", 3), "al%ce",
                                          "%i%e%",  "\xff%", "%'; DROP TABLE sq_notes; --%"};
  for (ormkit::backend_ref b : {ormkit::backend_ref(mem), ormkit::backend_ref(lite)}) {
    ormkit::repository<note> notes(b);
    for (const auto& t : texts) notes.insert({0, t, {}}).value();
  }
  ormkit::repository<note> m(mem), s(lite);
  for (const auto& p : patterns) {
    auto a = m.find(ormkit::query<note>(col(&note::text).like(p)).order_by(&note::id)).value();
    auto b = s.find(ormkit::query<note>(col(&note::text).like(p)).order_by(&note::id)).value();
    INFO("pattern: " << ormkit::to_display(ormkit::value_view(std::string_view(p))));
    CHECK(a == b);
    auto na = m.find(ormkit::query<note>(!col(&note::text).like(p)).order_by(&note::id)).value();
    auto nb = s.find(ormkit::query<note>(!col(&note::text).like(p)).order_by(&note::id)).value();
    CHECK(na == nb);
  }
  // The cases that matter most, spelt out.
  auto count = [&](std::string_view p) { return s.count(col(&note::text).like(p)).value(); };
  CHECK(count("a%") == 6);      // alice, a_b, aXb, a%b, "a\0b", alice smith
  CHECK(count("A%") == 2);      // Alice, ALICE: case-sensitive
  CHECK(count("a\\_b") == 1);   // only the literal underscore
  CHECK(count("a_b") == 4);     // a_b, aXb, a%b, "a\0b"
  CHECK(count("100\\%") == 1);  // only "100%"
  CHECK(count("_nic") == 1);    // _ is one UTF-8 character, not one byte
  CHECK(count(std::string("a\0%", 3)) == 1);  // bytes after an embedded NUL count
  CHECK(s.count().value() == texts.size());   // the injection attempt matched literally, dropped nothing
}

TEST_CASE("sqlite: ORDER BY puts NULLs first ascending and last descending", "[sqlite]") {
  ormkit::sqlite::backend db;
  ormkit::repository<person> r(db);
  r.insert_many(sample_people()).value();
  auto asc = r.find(people().order_by(&person::score)).value();
  REQUIRE(asc.size() == 8);
  CHECK_FALSE(asc[0].score);
  CHECK_FALSE(asc[1].score);
  CHECK(asc[2].score == 0.5);
  CHECK(asc[7].score == 3.0);
  auto desc = r.find(people().order_by(&person::score, ormkit::desc)).value();
  CHECK(desc[0].score == 3.0);
  CHECK_FALSE(desc[6].score);
  CHECK_FALSE(desc[7].score);
  // Text is compared bytewise: upper case before lower case, UTF-8 after ASCII.
  auto by_name = r.find(people().order_by(&person::name)).value();
  CHECK(names(by_name) == "100%,Ann,Bob,Zoe,a_b,ann,bob_1,\xc3\x89mile");
}

TEST_CASE("sqlite: text with embedded NUL or invalid UTF-8 and blobs round-trip", "[sqlite]") {
  ormkit::sqlite::backend db;
  ormkit::repository<note> r(db);
  const std::vector<note> rows{
      {0, std::string("a\0b", 3), {std::byte{0}, std::byte{1}, std::byte{255}}},
      {0, "\xff\xfe\x80", {}},
      {0, "", std::vector<std::byte>(100000, std::byte{0x5a})},
      {0, std::string(3, '\0'), {std::byte{0}}},
  };
  auto stored = r.insert_many(rows).value();
  for (const auto& n : stored) {
    auto back = r.get(n.id).value();
    CHECK(back == n);
    CHECK(back.text.size() == n.text.size());
  }
  // Equality binds the full bytes, so "a" does not match "a\0b".
  CHECK(r.count(col(&note::text) == std::string("a\0b", 3)).value() == 1);
  CHECK(r.count(col(&note::text) == "a").value() == 0);
  // An empty blob stays an empty blob, not NULL.
  auto empty = db.query("SELECT typeof(data), length(data) FROM sq_notes WHERE id = 2").value();
  CHECK(empty.at(0).at(0) == ormkit::value(std::string("blob")));
  CHECK(empty.at(0).at(1) == ormkit::value(std::int64_t{0}));
}

TEST_CASE("sqlite: reals round-trip exactly, the sign of zero included", "[sqlite]") {
  ormkit::sqlite::backend db;
  ormkit::repository<person> r(db);
  const std::vector<double> reals{-0.0, 0.0, 1.0, -2.0, 0.1, 1e300, -1e-300, std::numeric_limits<double>::infinity(),
                                  std::numeric_limits<double>::denorm_min()};
  for (double d : reals) {
    auto p = r.insert({0, std::to_string(r.count().value()) + "@example.com", "R", 1, {}, d, 0}).value();
    auto back = r.get(p.id).value();
    REQUIRE(back.score);
    CHECK(*back.score == d);
    CHECK(std::signbit(*back.score) == std::signbit(d));
  }
  // Stored as reals, not turned into integers (no REAL affinity, see sqlite/sql.hpp).
  CHECK(db.query("SELECT DISTINCT typeof(score) FROM sq_people").value() ==
        ormkit::value_rows{{std::string("real")}});
}

TEST_CASE("sqlite: values of a write are bound, never spliced into SQL", "[sqlite]") {
  ormkit::sqlite::backend db;
  ormkit::repository<person> r(db);
  const std::string evil = "x'); DROP TABLE sq_people; --";
  auto p = r.insert({0, "evil@example.com", evil, 1, "\"quoted\" 'single'", {}, 0}).value();
  CHECK(r.get(p.id).value().name == evil);
  CHECK(r.count(col(&person::name) == evil).value() == 1);
  CHECK(r.count(col(&person::bio).like("%\"quoted\"%")).value() == 1);
  CHECK(r.count().value() == 1);
}

//=== DDL ===//

TEST_CASE("sqlite: tables come from descriptors, with keys, defaults and foreign keys", "[sqlite]") {
  CHECK(ormkit::sqlite::create_table_sql(ormkit::schema_of<member>()) ==
        R"(CREATE TABLE IF NOT EXISTS "sq_members" ("team_id" INTEGER NOT NULL REFERENCES "sq_teams"("id") )"
        R"(ON DELETE RESTRICT, "login" TEXT NOT NULL, "role" TEXT NOT NULL DEFAULT 'user', "token" TEXT NOT NULL, )"
        R"(PRIMARY KEY ("team_id", "login")))");
  CHECK(ormkit::sqlite::create_table_sql(ormkit::schema_of<person>()) ==
        R"(CREATE TABLE IF NOT EXISTS "sq_people" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "email" TEXT NOT NULL, )"
        R"("name" TEXT NOT NULL, "age" INTEGER NOT NULL, "bio" TEXT, "score", "version" INTEGER NOT NULL))");
  auto ddl = ormkit::sqlite::schema_sql(ormkit::schema_of<person>());
  REQUIRE(ddl.size() == 3);
  CHECK(ddl[1] == R"(CREATE INDEX IF NOT EXISTS "ix_sq_people_age" ON "sq_people" ("age"))");
  CHECK(ddl[2] == R"(CREATE UNIQUE INDEX IF NOT EXISTS "uq_sq_people_email" ON "sq_people" ("email"))");
  CHECK(ormkit::sqlite::quote_identifier("a\"b") == "\"a\"\"b\"");

  ormkit::sqlite::backend db;
  ormkit::repository<team> teams(db);
  ormkit::repository<member> members(db);
  db.ensure_table(ormkit::schema_of<member>()).value();
  db.ensure_table(ormkit::schema_of<member>()).value();  // idempotent
  auto info = db.query("SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('sq_members')").value();
  REQUIRE(info.size() == 4);
  CHECK(info[2][3] == ormkit::value(std::string("'user'")));
  CHECK(info[1][4] == ormkit::value(std::int64_t{2}));
  auto indexes = db.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sq_people'");
  CHECK(indexes.value().empty());  // not used yet: created on first use
  ormkit::repository<person>(db).count().value();
  CHECK(db.query("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'sq_people' ORDER BY name")
            .value() == ormkit::value_rows{{std::string("ix_sq_people_age")}, {std::string("uq_sq_people_email")}});

  // Foreign keys are enforced; the parent table must exist: use its repository first.
  auto early = members.insert({1, "ann", "admin", "t-0"});
  REQUIRE_FALSE(early);
  CHECK(early.error().is(ormkit::errc::schema_mismatch));
  CHECK(early.error().message ==
        "sq_members: the table sq_teams that a foreign key references does not exist yet; use its repository (or "
        "ensure_table) first");
  (void)teams.count().value();
  auto orphan = members.insert({99, "ann", "admin", "t-1"});
  REQUIRE_FALSE(orphan);
  CHECK(orphan.error().is(ormkit::errc::conflict));
  CHECK(orphan.error().native == "787 SQLITE_CONSTRAINT_FOREIGNKEY");
  auto red = teams.insert({0, "red"}).value();
  members.insert({red.id, "ann", "admin", "t-1"}).value();
  CHECK_FALSE(teams.erase(red.id).has_value());  // ON DELETE RESTRICT
  // Composite-key upsert updates the non-key columns.
  members.upsert({red.id, "ann", "owner", "t-1"}).value();
  CHECK(members.get(std::tuple<std::int64_t, std::string>(red.id, "ann")).value().role == "owner");
}

//=== conflicts ===//

TEST_CASE("sqlite: key conflicts report as the memory backend and change nothing", "[sqlite]") {
  ormkit::memory::backend mem;
  ormkit::sqlite::backend lite;
  std::vector<std::string> seen;
  for (ormkit::backend_ref b : {ormkit::backend_ref(mem), ormkit::backend_ref(lite)}) {
    ormkit::repository<person> r(b);
    ormkit::repository<team> teams(b);
    ormkit::repository<member> members(b);
    r.insert_many(sample_people()).value();
    auto red = teams.insert({0, "red"}).value();
    members.insert({red.id, "ann", "admin", "secret-1"}).value();

    auto dup = r.insert({0, "ann@example.com", "Another Ann", 1, {}, {}, 0});
    REQUIRE_FALSE(dup);
    CHECK(dup.error().is(ormkit::errc::conflict));
    CHECK(dup.error().message == R"(sq_people.email: value "ann@example.com" already exists (uq_sq_people_email))");
    seen.push_back(dup.error().native);

    auto pk = r.insert({3, "other@example.com", "Other", 1, {}, {}, 0});
    REQUIRE_FALSE(pk);
    CHECK(pk.error().message == "sq_people.id: value 3 already exists (primary key)");

    auto bob = r.get(3).value();
    bob.email = "ann@example.com";
    auto upd = r.update(bob);
    REQUIRE_FALSE(upd);
    CHECK(upd.error().message == R"(sq_people.email: value "ann@example.com" already exists (uq_sq_people_email))");
    CHECK(r.get(3).value().email == "bob@example.com");

    auto batch = r.insert_many({{0, "c1@example.com", "C1", 1, {}, {}, 0},
                                {0, "c2@example.com", "C2", 1, {}, {}, 0},
                                {0, "bob@example.com", "C3", 1, {}, {}, 0}});
    REQUIRE_FALSE(batch);
    CHECK(batch.error().message ==
          R"(sq_people.email: value "bob@example.com" already exists (uq_sq_people_email) (batch item 2))");
    CHECK(r.count().value() == 8);  // all or nothing

    auto composite = members.insert({red.id, "ann", "user", "secret-2"});
    REQUIRE_FALSE(composite);
    CHECK(composite.error().message == R"(sq_members.(team_id, login): value (1, "ann") already exists (primary key))");
    auto secret = members.insert({red.id, "bob", "user", "secret-1"});
    REQUIRE_FALSE(secret);
    CHECK(secret.error().message == "sq_members.token: value <secret> already exists (uq_sq_members_token)");
  }
  CHECK(seen[1] == "2067 SQLITE_CONSTRAINT_UNIQUE");
}

TEST_CASE("sqlite: wrong values are refused before SQLite sees them, as on the memory backend", "[sqlite]") {
  ormkit::memory::backend mem;
  ormkit::sqlite::backend lite;
  const auto& s = ormkit::schema_of<person>();
  for (ormkit::backend_ref b : {ormkit::backend_ref(mem), ormkit::backend_ref(lite)}) {
    std::vector<ormkit::value_view> row{std::int64_t{0}, std::string_view("a@b.c"), std::monostate{},
                                        std::int64_t{1}, std::monostate{},         std::monostate{},
                                        std::int64_t{1}};
    auto null = b.insert(s, row);
    REQUIRE_FALSE(null);
    CHECK(null.error().is(ormkit::errc::invalid_argument));
    CHECK(null.error().message == "sq_people.name: NULL in a NOT NULL column");
    row[2] = std::string_view("A");
    row[3] = std::string_view("not a number");
    auto type = b.insert(s, row);
    REQUIRE_FALSE(type);
    CHECK(type.error().message == "sq_people.age: expected integer, got text");
    auto width = b.insert(s, std::span(row).first(3));
    REQUIRE_FALSE(width);
    CHECK(width.error().message == "sq_people: row has 3 values for 7 columns");
  }
}

//=== transactions ===//

TEST_CASE("sqlite: transactions and savepoints commit and roll back", "[sqlite]") {
  ormkit::sqlite::backend db;
  ormkit::repository<person> r(db);
  auto rows = sample_people();

  db.begin().value();
  CHECK(db.in_transaction());
  CHECK(db.begin().error().is(ormkit::errc::transaction_state));
  r.insert(rows[0]).value();
  db.savepoint("sp1").value();
  r.insert(rows[1]).value();
  db.savepoint("sp2").value();
  r.insert(rows[2]).value();
  db.rollback_to("sp1").value();  // undoes rows[1] and rows[2]; sp1 stays open
  CHECK(r.count().value() == 1);
  r.insert(rows[3]).value();
  CHECK(db.release("sp2").error().is(ormkit::errc::transaction_state));  // gone with the rollback
  db.release("sp1").value();
  db.commit().value();
  CHECK_FALSE(db.in_transaction());
  CHECK(r.count().value() == 2);

  db.begin().value();
  r.insert(rows[4]).value();
  db.rollback().value();
  CHECK(r.count().value() == 2);

  CHECK(db.commit().error().is(ormkit::errc::transaction_state));
  CHECK(db.rollback().error().is(ormkit::errc::transaction_state));
  CHECK(db.savepoint("x").error().is(ormkit::errc::transaction_state));

  // The transaction helper, with a nested scope that fails and rolls back to its savepoint.
  auto st = ormkit::transact(db, [&](ormkit::transaction&) -> ormkit::status {
    ORMKIT_TRY(r.insert(rows[5]));
    auto inner = ormkit::transact(db, [&](ormkit::transaction&) -> ormkit::status {
      ORMKIT_TRY(r.insert(rows[6]));
      return ormkit::unexpected(ormkit::errc::invalid_argument, "changed my mind");
    });
    CHECK_FALSE(inner);
    return {};
  });
  REQUIRE(st);
  CHECK(r.count().value() == 3);
  CHECK(r.exists(col(&person::name) == "\xc3\x89mile").value());
  CHECK_FALSE(r.exists(col(&person::name) == "Zoe").value());
}

TEST_CASE("sqlite: a table first used in a rolled-back transaction is created again", "[sqlite]") {
  ormkit::sqlite::backend db;
  ormkit::repository<note> notes(db);
  db.begin().value();
  notes.insert({0, "inside", {}}).value();  // creates sq_notes inside the transaction
  db.rollback().value();                     // ... and the rollback drops it again
  notes.insert({0, "after", {}}).value();
  CHECK(notes.count().value() == 1);
}

TEST_CASE("sqlite: busy from a second connection holding BEGIN IMMEDIATE", "[sqlite]") {
  temp_db file;
  ormkit::sqlite::backend a({.path = file.path(), .busy_timeout = 50ms});
  ormkit::sqlite::backend b({.path = file.path(), .busy_timeout = 50ms});
  ormkit::repository<person> ra(a), rb(b);
  ra.insert(sample_people()[0]).value();
  b.ensure_table(ormkit::schema_of<person>()).value();

  b.begin().value();
  rb.insert(sample_people()[1]).value();

  auto start = std::chrono::steady_clock::now();
  auto w = ra.insert(sample_people()[2]);
  REQUIRE_FALSE(w);
  CHECK(w.error().is(ormkit::errc::busy));
  CHECK(w.error().native == "5 SQLITE_BUSY");
  CHECK(w.error().message == "sq_people: database is locked (database \"" + file.path() + "\")");
  CHECK(std::chrono::steady_clock::now() - start >= 40ms);  // it waited for busy_timeout

  auto tx = a.begin();
  REQUIRE_FALSE(tx);
  CHECK(tx.error().is(ormkit::errc::busy));
  CHECK_FALSE(a.in_transaction());

  CHECK(ra.count().value() == 1);  // WAL: readers are not blocked, and see only committed rows
  b.commit().value();
  CHECK(ra.count().value() == 2);
  ra.insert(sample_people()[2]).value();
  CHECK(rb.count().value() == 3);
}

TEST_CASE("sqlite: after SQLite rolls a transaction back on its own, later calls fail", "[sqlite]") {
  // Finding 3: on SQLITE_FULL SQLite had already rolled back the whole transaction.
  // Continuing would run the next statements in autocommit mode, outside any transaction.
  ormkit::sqlite::backend db;
  ormkit::repository<note> notes(db);
  notes.insert({0, "before", {}}).value();
  db.execute("PRAGMA max_page_count = 16").value();

  db.begin().value();
  notes.insert({0, "inside", {}}).value();
  auto big = notes.insert({0, "big", std::vector<std::byte>(200000, std::byte{1})});
  REQUIRE_FALSE(big);
  CHECK(big.error().is(ormkit::errc::full));
  CHECK(big.error().native == "13 SQLITE_FULL");
  CHECK(sqlite3_get_autocommit(db.native_handle()) == 1);  // SQLite ended the transaction

  auto next = notes.insert({0, "would be autocommitted", {}});
  REQUIRE_FALSE(next);
  CHECK(next.error().is(ormkit::errc::transaction_state));
  CHECK(next.error().message.find("already rolled back by SQLite") != std::string::npos);
  CHECK(notes.count().error().is(ormkit::errc::transaction_state));

  auto commit = db.commit();
  REQUIRE_FALSE(commit);
  CHECK(commit.error().is(ormkit::errc::transaction_state));
  CHECK_FALSE(db.in_transaction());
  CHECK(notes.count().value() == 1);  // "inside" is gone, "before" is kept

  // The same after a rollback that happened behind the backend's back.
  db.begin().value();
  notes.insert({0, "inside again", {}}).value();
  REQUIRE(sqlite3_exec(db.native_handle(), "ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  CHECK(notes.insert({0, "x", {}}).error().is(ormkit::errc::transaction_state));
  db.rollback().value();  // ends the lost transaction
  notes.insert({0, "after", {}}).value();
  CHECK(notes.count().value() == 2);

  // And after a COMMIT run on the handle, between two everyday inserts on one table
  // (the second would otherwise be autocommitted on its own): what was committed stays.
  db.begin().value();
  notes.insert({0, "committed on the handle", {}}).value();
  REQUIRE(sqlite3_exec(db.native_handle(), "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  CHECK(notes.insert({0, "y", {}}).error().is(ormkit::errc::transaction_state));
  CHECK(notes.get(1).error().is(ormkit::errc::transaction_state));
  db.rollback().value();
  CHECK(notes.count().value() == 3);
  notes.insert({0, "after again", {}}).value();  // the everyday path works again
  CHECK(notes.count().value() == 4);
}

TEST_CASE("sqlite: the backend leaves no hook behind on a connection a cursor keeps", "[sqlite]") {
  // The commit and rollback hooks point at the backend; a cursor can outlive it.
  std::optional<ormkit::cursor> rows;
  sqlite3* handle = nullptr;
  {
    ormkit::sqlite::backend db;
    ormkit::repository<note> notes(db);
    notes.insert({0, "a", {}}).value();
    notes.insert({0, "b", {}}).value();
    handle = db.native_handle();
    rows.emplace(db.select(ormkit::schema_of<note>(), ormkit::query<note>().spec()).value());
  }
  CHECK(rows->next().value());  // the connection is alive
  // A commit and a rollback on it call no hook into the destroyed backend (ASan would
  // report the use after free), and none is installed.
  CHECK(sqlite3_exec(handle, "BEGIN; CREATE TABLE t (x); COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  CHECK(sqlite3_exec(handle, "BEGIN; CREATE TABLE u (x); ROLLBACK", nullptr, nullptr, nullptr) == SQLITE_OK);
  CHECK(sqlite3_commit_hook(handle, nullptr, nullptr) == nullptr);
  CHECK(sqlite3_rollback_hook(handle, nullptr, nullptr) == nullptr);
}

//=== backup ===//

TEST_CASE("sqlite: backup_to copies committed data of a WAL database", "[sqlite]") {
  temp_db file;
  ormkit::sqlite::backend db({.path = file.path()});
  ormkit::repository<person> r(db);
  r.insert_many(sample_people()).value();
  REQUIRE(fs::exists(file.path() + "-wal"));

  // Finding 6: a plain copy of the .db file misses what is still in the WAL.
  const auto copied = file.sibling("copied.db");
  fs::copy_file(file.path(), copied);
  {
    ormkit::sqlite::backend copy({.path = copied});
    CHECK(copy.query("SELECT name FROM sqlite_master WHERE name = 'sq_people'").value().empty());
  }

  const auto backup = file.sibling("backup.db");
  db.backup_to(backup).value();
  ormkit::sqlite::backend restored({.path = backup});
  ormkit::repository<person> rr(restored);
  CHECK(rr.find_all().value() == r.find_all().value());

  // Stepped, with progress: pages done rise to the total, every step reported.
  for (int i = 0; i < 400; ++i)
    r.insert(person{0, "p" + std::to_string(i) + "@example.com", "P", 30, std::string(2000, 'x'), std::nullopt, 0})
        .value();
  std::vector<std::pair<std::uint64_t, std::uint64_t>> steps;
  const auto stepped = file.sibling("stepped.db");
  db.backup_to(stepped, [&](std::uint64_t done, std::uint64_t total) { steps.emplace_back(done, total); }, 16).value();
  REQUIRE(steps.size() > 2);
  for (std::size_t i = 1; i < steps.size(); ++i) CHECK(steps[i].first >= steps[i - 1].first);
  CHECK(steps.back().first == steps.back().second);
  CHECK(steps.front().first == 16);
  ormkit::sqlite::backend restored_stepped({.path = stepped});
  CHECK(ormkit::repository<person>(restored_stepped).find_all().value() == r.find_all().value());

  auto bad = db.backup_to(file.sibling("no/such/dir/b.db"));
  REQUIRE_FALSE(bad);
  CHECK(bad.error().is(ormkit::errc::cannot_open));
  CHECK(bad.error().message.find("no/such/dir/b.db") != std::string::npos);
}

//=== threads ===//

TEST_CASE("sqlite: 8 threads with a connection each share one WAL file", "[sqlite]") {
  temp_db file;
  {
    ormkit::sqlite::backend setup({.path = file.path()});
    setup.ensure_table(ormkit::schema_of<person>()).value();
  }
  constexpr int threads = 8;
  constexpr int rounds = 40;
  std::mutex mutex;
  std::vector<std::string> failures;
  std::atomic<int> busy_retries{0};

  auto worker = [&](int t) {
    auto opened = ormkit::sqlite::backend::open({.path = file.path(), .busy_timeout = 2000ms});
    if (!opened) {
      std::lock_guard l(mutex);
      failures.push_back(opened.error().describe());
      return;
    }
    auto& db = **opened;
    ormkit::repository<person> r(db);
    // The documented model: busy is the only error, and the caller retries the whole transaction.
    auto retry = [&](auto&& step) -> ormkit::status {
      for (int attempt = 0;; ++attempt) {
        auto st = step();
        if (st || !st.error().is(ormkit::errc::busy) || attempt == 100) return st;
        ++busy_retries;
        std::this_thread::sleep_for(1ms);
      }
    };
    for (int i = 0; i < rounds; ++i) {
      auto st = retry([&]() -> ormkit::status {
        ORMKIT_TRY(db.begin());
        auto body = [&]() -> ormkit::status {
          const std::string key = std::to_string(t) + "-" + std::to_string(i);
          ORMKIT_TRY(r.insert({0, key + "a@example.com", "T" + key, t, {}, {}, 0}));
          ORMKIT_TRY(r.insert({0, key + "b@example.com", "T" + key, t, {}, {}, 0}));
          auto mine = r.count(col(&person::age) == t);
          if (!mine) return std::move(mine).error();
          if (*mine != static_cast<std::uint64_t>(2 * (i + 1)))
            return ormkit::unexpected(ormkit::errc::backend_error, "thread sees " + std::to_string(*mine) + " rows");
          return db.commit();
        }();
        if (!body && db.in_transaction()) (void)db.rollback();
        return body;
      });
      auto read = retry([&]() -> ormkit::status { return r.find(col(&person::age) == t).transform([](auto&&) {}); });
      if (!st || !read) {
        std::lock_guard l(mutex);
        failures.push_back((!st ? st : read).error().describe());
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) pool.emplace_back(worker, t);
  for (auto& th : pool) th.join();

  std::string all;
  for (const auto& f : failures) all += f + "\n";
  INFO("busy retries: " << busy_retries.load() << "\n" << all);
  CHECK(failures.empty());
  ormkit::sqlite::backend db({.path = file.path()});
  CHECK(ormkit::repository<person>(db).count().value() == static_cast<std::uint64_t>(threads * rounds * 2));
}

//=== the pieces ===//

TEST_CASE("sqlite: result codes map to errc with the extended code in native", "[sqlite]") {
  using ormkit::errc;
  using ormkit::sqlite::errc_of;
  CHECK(errc_of(SQLITE_CONSTRAINT_UNIQUE) == errc::conflict);
  CHECK(errc_of(SQLITE_CONSTRAINT_PRIMARYKEY) == errc::conflict);
  CHECK(errc_of(SQLITE_CONSTRAINT_FOREIGNKEY) == errc::conflict);
  CHECK(errc_of(SQLITE_CONSTRAINT_NOTNULL) == errc::invalid_argument);
  CHECK(errc_of(SQLITE_CONSTRAINT_CHECK) == errc::invalid_argument);
  CHECK(errc_of(SQLITE_BUSY) == errc::busy);
  CHECK(errc_of(SQLITE_BUSY_SNAPSHOT) == errc::busy);
  CHECK(errc_of(SQLITE_LOCKED) == errc::busy);
  CHECK(errc_of(SQLITE_READONLY) == errc::readonly);
  CHECK(errc_of(SQLITE_FULL) == errc::full);
  CHECK(errc_of(SQLITE_CORRUPT) == errc::corrupt);
  CHECK(errc_of(SQLITE_NOTADB) == errc::corrupt);
  CHECK(errc_of(SQLITE_CANTOPEN) == errc::cannot_open);
  CHECK(errc_of(SQLITE_IOERR_FSYNC) == errc::io_error);
  CHECK(errc_of(SQLITE_ERROR) == errc::backend_error);
  CHECK(ormkit::sqlite::native_code(SQLITE_BUSY_SNAPSHOT) == "517 SQLITE_BUSY_SNAPSHOT");
  CHECK(ormkit::sqlite::code_name(12345) == "SQLITE_UNKNOWN");
  CHECK(ormkit::sqlite::may_roll_back(SQLITE_IOERR_WRITE));
  CHECK_FALSE(ormkit::sqlite::may_roll_back(SQLITE_CONSTRAINT_UNIQUE));
}

TEST_CASE("sqlite: LIKE prefixes become index ranges without changing matches", "[sqlite]") {
  using ormkit::sqlite::like_prefix;
  using ormkit::sqlite::prefix_upper_bound;
  CHECK(like_prefix("abc%") == "abc");
  CHECK(like_prefix("a\\%b%") == "a%b");
  CHECK(like_prefix("a_c") == "a");
  CHECK(like_prefix("%abc") == "");
  CHECK(like_prefix("abc\\") == "abc\\");  // a trailing backslash is literal, as in memory::like
  CHECK(like_prefix("\xe2\\x%") == "\xe2\\x");  // an escape inside a UTF-8 sequence is part of it
  CHECK(prefix_upper_bound("abc") == "abd");
  CHECK(prefix_upper_bound("a\xff\xff") == "b");
  CHECK(prefix_upper_bound("\xff") == "");

  ormkit::sqlite::backend db;
  ormkit::repository<person> r(db);
  r.insert_many(sample_people()).value();
  auto plan = db.query(R"(EXPLAIN QUERY PLAN SELECT "id" FROM "sq_people" WHERE ("email" >= ? AND "email" < ? AND )"
                       R"(ormkit_like("email", ?)))",
                       std::vector<ormkit::value_view>{std::string_view("ann"), std::string_view("ano"),
                                                       std::string_view("ann%")})
                  .value();
  REQUIRE_FALSE(plan.empty());
  CHECK(std::get<std::string>(plan.back().back()).find("uq_sq_people_email") != std::string::npos);
  CHECK(r.count(col(&person::email).like("ann%")).value() == 2);
}

//=== typed writes (repository<T> on the backend itself) ===//

struct labelled {
  std::int64_t id{};
  tag label{};
  std::optional<mislabelled> odd{};

  friend constexpr auto ormkit_describe(std::type_identity<labelled>) {
    using namespace ormkit;
    return describe<labelled>("sq_labelled")
        .column(&labelled::id, "id", primary_key, auto_increment)
        .column(&labelled::label, "label")
        .column(&labelled::odd, "odd");
  }
  friend auto operator==(const labelled&, const labelled&) -> bool = default;
};

// One line per call: "ok" and what the call gave back, or the error's message and native code.
template <class R>
auto outcome(const R& r) -> std::string {
  if (!r) return "error: " + r.error().message + " [" + r.error().native + "]";
  if constexpr (requires { r->id; }) return "ok " + std::to_string(r->id);
  else return "ok";
}

// The same calls, warm (each statement built by an earlier call), on a repository of
// person: every write kind the typed path takes, and every way it hands over to the
// general path (a failed step, no row matched, a stale version, a value too long).
auto person_script(ormkit::repository<person>& r) -> std::vector<std::string> {
  std::vector<std::string> log;
  auto ann = r.insert({0, "ann@example.com", "Ann", 31, {}, {}, 0});
  log.push_back(outcome(ann));
  log.push_back(outcome(r.insert({0, "bob@example.com", "Bob", 40, "a bio", 1.5, 0})));
  log.push_back(outcome(r.insert({10, "ten@example.com", "Ten", 10, {}, {}, 0})));  // explicit key
  log.push_back(outcome(r.insert({0, "eleven@example.com", "Eleven", 11, {}, {}, 0})));
  log.push_back(outcome(r.insert({12, "twelve@example.com", "Twelve", 12, {}, {}, 0})));  // explicit, warm
  // A taken e-mail (generated key) and a taken key, each on its warm statement.
  log.push_back(outcome(r.insert({0, "ann@example.com", "Another Ann", 1, {}, {}, 0})));
  log.push_back(outcome(r.insert({10, "other@example.com", "Other", 1, {}, {}, 0})));
  // Text bound in place: the entity's own strings, changed between calls.
  person p{0, "p@example.com", "P", 1, "first", 2.5, 0};
  log.push_back(outcome(r.insert(p)));
  p.email = "q@example.com";
  p.name = "a name long enough to live on the heap, not in the string object";
  p.bio = std::nullopt;
  log.push_back(outcome(r.insert(p)));

  auto a = ann.value();
  for (int age : {32, 33, 34}) {  // the first builds the statement; the rest are warm
    a.age = age;
    log.push_back(outcome(r.update(a)));
    a = r.get(a.id).value();
  }
  auto b = r.get(2).value();
  b.age = 41;
  log.push_back(outcome(r.update(b)));
  b = r.get(2).value();
  b.email = "ann@example.com";  // taken: the step fails
  log.push_back(outcome(r.update(b)));
  b.email = "bob@example.com";
  auto stale = b;
  b.name = "Bobby";
  log.push_back(outcome(r.update(b)));   // version 2 -> 3
  stale.name = "Late";
  log.push_back(outcome(r.update(stale)));  // still version 2: conflict
  auto gone = b;
  gone.id = 999;
  log.push_back(outcome(r.update(gone)));  // no such row
  // One column, twice (warm), through NULL and back.
  for (std::optional<double> score : {std::optional<double>(), std::optional<double>(7.25)}) {
    b = r.get(2).value();
    b.score = score;
    log.push_back(outcome(r.update_columns(b, &person::score)));
  }
  for (const auto& e : r.find(people().order_by(&person::id)).value())
    log.push_back(std::to_string(e.id) + " " + e.email + " " + e.name + " " + std::to_string(e.age) + " " +
                  e.bio.value_or("-") + " " + (e.score ? std::to_string(*e.score) : "-") + " v" +
                  std::to_string(e.version));
  return log;
}

TEST_CASE("sqlite: a repository on the backend itself writes typed, with the results of the untyped calls",
          "[sqlite][typed]") {
  ormkit::sqlite::backend typed_db;
  ormkit::sqlite::backend erased_db;
  ormkit::repository<person> typed(typed_db);
  ormkit::repository<person> erased{ormkit::backend_ref(erased_db)};
  REQUIRE(typed.writes_typed());
  REQUIRE_FALSE(erased.writes_typed());
  ormkit::memory::backend mem;
  ormkit::repository<person> in_memory(mem);  // not a row-writing backend
  CHECK_FALSE(in_memory.writes_typed());

  const auto log = person_script(typed);
  CHECK(log == person_script(erased));
  // The memory backend's native codes are its own; everything else is the same.
  auto without_native = [](std::vector<std::string> lines) {
    for (auto& l : lines)
      if (l.starts_with("error: ")) l.erase(l.rfind(" ["));
    return lines;
  };
  CHECK(without_native(log) == without_native(person_script(in_memory)));
  const std::vector<std::string> expected{
      "ok 1",
      "ok 2",
      "ok 10",
      "ok 11",
      "ok 12",
      R"(error: sq_people.email: value "ann@example.com" already exists (uq_sq_people_email) [2067 SQLITE_CONSTRAINT_UNIQUE])",
      "error: sq_people.id: value 10 already exists (primary key) [1555 SQLITE_CONSTRAINT_PRIMARYKEY]",
      "ok 13",
      "ok 14",
      "ok 1",
      "ok 1",
      "ok 1",
      "ok 2",
      R"(error: sq_people.email: value "ann@example.com" already exists (uq_sq_people_email) [2067 SQLITE_CONSTRAINT_UNIQUE])",
      "ok 2",
      "error: sq_people: id=2 was changed by someone else (version 2 is stale, stored version is 3) []",
      "error: sq_people: no row with id=999 []",
      "ok 2",
      "ok 2",
      "1 ann@example.com Ann 34 - - v4",
      "2 bob@example.com Bobby 41 a bio 7.250000 v5",
      "10 ten@example.com Ten 10 - - v1",
      "11 eleven@example.com Eleven 11 - - v1",
      "12 twelve@example.com Twelve 12 - - v1",
      "13 p@example.com P 1 first 2.500000 v1",
      "14 q@example.com a name long enough to live on the heap, not in the string object 1 - 2.500000 v1",
  };
  CHECK(log == expected);
}

TEST_CASE("sqlite: typed writes copy converted values and leave faulty conversions to the general path",
          "[sqlite][typed]") {
  ormkit::sqlite::backend db;
  ormkit::repository<labelled> r(db);
  REQUIRE(r.writes_typed());
  // `tag` converts to a value of its own (no view of the member): bound as a copy.
  for (int i = 0; i < 3; ++i) {
    auto e = r.insert({0, tag{"label " + std::string(40, static_cast<char>('a' + i))}, std::nullopt});
    REQUIRE(e.has_value());
    CHECK(r.get(e->id).value().label.text == "label " + std::string(40, static_cast<char>('a' + i)));
  }
  // A trait that declares integer storage but gives text: refused, warm or not, with the
  // message of the untyped call, and nothing written.
  for (int i = 0; i < 2; ++i) {
    auto bad = r.insert({0, tag{"x"}, mislabelled{"text"}});
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().is(ormkit::errc::invalid_argument));
    CHECK(bad.error().message == "sq_labelled.odd: expected integer, got text");
  }
  auto first = r.get(1).value();
  first.label.text = "changed";
  for (int i = 0; i < 2; ++i) REQUIRE(r.update(first).has_value());
  first.odd = mislabelled{"text"};
  auto bad = r.update(first);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().message == "sq_labelled.odd: expected integer, got text");
  CHECK(r.count().value() == 3);
  CHECK(r.get(1).value() == labelled{1, tag{"changed"}, std::nullopt});
}

TEST_CASE("sqlite: typed writes refuse over-long values and run in the caller's transaction", "[sqlite][typed]") {
  ormkit::sqlite::backend db;
  ormkit::repository<person> r(db, {.max_value_bytes = 16});
  REQUIRE(r.writes_typed());
  REQUIRE(r.insert({0, "a@example.com", "A", 1, {}, {}, 0}).has_value());  // warms the statement
  auto long_name = r.insert({0, "b@example.com", std::string(17, 'n'), 1, {}, {}, 0});
  REQUIRE_FALSE(long_name.has_value());
  CHECK(long_name.error().is(ormkit::errc::invalid_argument));
  CHECK(long_name.error().message.find("sq_people.name") != std::string::npos);
  CHECK(r.count().value() == 1);

  auto tx = ormkit::transaction::begin(db).value();
  for (int i = 0; i < 5; ++i)
    REQUIRE(r.insert({0, "t" + std::to_string(i) + "@example.com", "T", i, {}, {}, 0}).has_value());
  auto a = r.get(1).value();
  a.age = 99;
  REQUIRE(r.update(a).has_value());
  REQUIRE(r.update(r.get(1).value()).has_value());
  REQUIRE(tx.rollback().has_value());
  CHECK(r.count().value() == 1);
  CHECK(r.get(1).value().age == 1);
}

}  // namespace sqlite_backend_test
