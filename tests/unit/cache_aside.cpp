// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// Cache-aside in repository<T> over the memory backend and the in-process store:
// fill and hit, invalidation after commit (and none after a rollback, nor after a
// rolled-back savepoint), reads inside a transaction bypassing the cache, single
// flight (64 threads, one backend load, counted by an observer), negative
// caching, TTL expiry, eviction, corrupt bytes as misses, a failing store never
// failing a read or a write, get_many, query-result caching, and the stale-read
// race between a writer and a reader.

#include <ormkit/cache/aside.hpp>
#include <ormkit/cache/memory.hpp>
#include <ormkit/memory/backend.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/transaction.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <limits>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace ormkit_test;
using namespace std::chrono_literals;
using ormkit::errc;

// Counts backend loads (get events that reached the backend) and entities handed out.
struct load_counter final : ormkit::repository_observer {
  std::atomic<int> gets{0};
  std::atomic<int> loaded_entities{0};
  void after(const ormkit::operation_event& e) override {
    if (e.op == ormkit::operation::get) gets.fetch_add(1);
  }
  void loaded(const ormkit::operation_event&) override { loaded_entities.fetch_add(1); }
};

// A backend whose selects (and so keyed gets) are slow and counted: a wide window for
// concurrent misses to pile up on one key.
struct slow_backend {
  ormkit::memory::backend inner;
  std::atomic<int> selects{0};
  std::atomic<bool> slow{false};
  std::atomic<bool> failing{false};  // selects fail with errc::unavailable

  auto name() const -> std::string_view { return "slow"; }
  auto ensure_table(const ormkit::table_schema& s) -> ormkit::status { return inner.ensure_table(s); }
  auto insert(const ormkit::table_schema& s, std::span<const ormkit::value_view> r) -> ormkit::result<std::int64_t> {
    return inner.insert(s, r);
  }
  auto insert_many(const ormkit::table_schema& s, std::span<const ormkit::value_view> r, std::size_t n,
                   std::vector<std::int64_t>& ids) -> ormkit::status {
    return inner.insert_many(s, r, n, ids);
  }
  auto upsert(const ormkit::table_schema& s, std::span<const ormkit::value_view> r, std::span<const std::size_t> c)
      -> ormkit::result<std::int64_t> {
    return inner.upsert(s, r, c);
  }
  auto update(const ormkit::table_schema& s, std::span<const std::size_t> c, std::span<const ormkit::value_view> v,
              const ormkit::expr& f) -> ormkit::result<std::uint64_t> {
    return inner.update(s, c, v, f);
  }
  auto erase(const ormkit::table_schema& s, const ormkit::expr& f) -> ormkit::result<std::uint64_t> {
    return inner.erase(s, f);
  }
  auto select(const ormkit::table_schema& s, const ormkit::query_spec& q) -> ormkit::result<ormkit::cursor> {
    selects.fetch_add(1);
    if (slow.load()) std::this_thread::sleep_for(50ms);
    if (failing.load()) return ormkit::unexpected(errc::unavailable, "slow: down");
    return inner.select(s, q);
  }
  auto aggregate(const ormkit::table_schema& s, const ormkit::aggregate_spec& a) -> ormkit::result<ormkit::value_rows> {
    return inner.aggregate(s, a);
  }
  auto begin() -> ormkit::status { return inner.begin(); }
  auto commit() -> ormkit::status { return inner.commit(); }
  auto rollback() -> ormkit::status { return inner.rollback(); }
  auto savepoint(std::string_view n) -> ormkit::status { return inner.savepoint(n); }
  auto release(std::string_view n) -> ormkit::status { return inner.release(n); }
  auto rollback_to(std::string_view n) -> ormkit::status { return inner.rollback_to(n); }
};

// A store that fails every call (Redis down, in miniature).
struct broken_store {
  std::atomic<std::uint64_t> calls{0};
  auto fail() -> ormkit::unexpected {
    calls.fetch_add(1);
    return ormkit::unexpected(errc::unavailable, "broken: down");
  }
  auto name() const -> std::string_view { return "broken"; }
  auto get(std::string_view) -> ormkit::result<std::optional<std::string>> { return fail(); }
  auto get_into(std::string_view, std::string&) -> ormkit::result<bool> { return fail(); }
  auto visit(std::string_view, ormkit::cache_visitor) -> ormkit::result<bool> { return fail(); }
  auto set(std::string_view, std::string_view, std::chrono::milliseconds) -> ormkit::status { return fail(); }
  auto erase(std::string_view) -> ormkit::result<bool> { return fail(); }
  auto get_many(std::span<const std::string_view>) -> ormkit::result<std::vector<std::optional<std::string>>> {
    return fail();
  }
  auto set_many(std::span<const ormkit::cache_entry>, std::chrono::milliseconds) -> ormkit::status { return fail(); }
  auto erase_many(std::span<const std::string_view>) -> ormkit::result<std::uint64_t> { return fail(); }
  auto clear(std::string_view) -> ormkit::result<std::uint64_t> { return fail(); }
  auto stats() const -> ormkit::cache_stats { return {}; }
};
static_assert(ormkit::cache_store<broken_store>);

struct fixture {
  ormkit::memory::backend db;
  ormkit::cache::memory_store store{ormkit::cache::memory_options{.max_entries = 1000}};
  load_counter counter;
  ormkit::repository<user> users{db, store, ormkit::cache_policy{}, ormkit::repository_options{.observer = &counter}};

  fixture() { REQUIRE(db.ensure_table(ormkit::schema_of<user>())); }
  auto add(std::string email, std::string name, int age = 30) -> user {
    return users.insert(make_user(std::move(email), std::move(name), age)).value();
  }
};

}  // namespace

TEST_CASE("cache-aside: a miss loads and fills, the next read is a hit without a backend load", "[cache][aside]") {
  fixture f;
  const auto ann = f.add("ann@example.com", "Ann");
  CHECK(f.users.get(ann.id).value() == ann);
  CHECK(f.counter.gets == 1);
  CHECK(f.store.contains(ormkit::cache_key<user>(ann.id)));
  for (int i = 0; i < 5; ++i) CHECK(f.users.get(ann.id).value() == ann);
  CHECK(f.counter.gets == 1);
  CHECK(f.counter.loaded_entities == 6);  // hits still run the load hooks
  const auto s = f.users.cache_stats();
  CHECK(s.hits == 5);
  CHECK(s.misses == 1);
  CHECK(s.loads == 1);
  CHECK(s.fills == 1);
  CHECK(s.hit_rate() > 0.8);
  auto found = f.users.find_by_key(ann.id).value();
  REQUIRE(found.has_value());
  CHECK(*found == ann);
  CHECK(f.counter.gets == 1);
}

TEST_CASE("cache-aside: update, upsert and erase invalidate; the next read sees the write", "[cache][aside]") {
  fixture f;
  auto ann = f.add("ann@example.com", "Ann");
  REQUIRE(f.users.get(ann.id));
  ann.name = "Ann B";
  ann = f.users.update(ann).value();
  CHECK_FALSE(f.store.contains(ormkit::cache_key<user>(ann.id)));
  CHECK(f.users.get(ann.id).value().name == "Ann B");
  ann.name = "Ann C";
  ann = f.users.upsert(ann).value();
  CHECK(f.users.get(ann.id).value().name == "Ann C");
  ann.age = 41;
  REQUIRE(f.users.update_columns(ann, &user::age));
  CHECK(f.users.get(ann.id).value().age == 41);
  REQUIRE(f.users.erase(ann.id));
  CHECK(f.users.get(ann.id).error().code == errc::not_found);
  CHECK(f.users.cache_stats().invalidations >= 4);
}

TEST_CASE("cache-aside: a failed write (validation, stale version) keeps the cached row", "[cache][aside]") {
  fixture f;
  auto ann = f.add("ann@example.com", "Ann");
  REQUIRE(f.users.get(ann.id));
  auto bad = ann;
  bad.email = "not-an-email";
  CHECK(f.users.update(bad).error().code == errc::validation_failed);
  auto stale = ann;
  stale.version = 99;
  CHECK(f.users.update(stale).error().code == errc::conflict);
  CHECK(f.store.contains(ormkit::cache_key<user>(ann.id)));
  CHECK(f.users.get(ann.id).value() == ann);
}

TEST_CASE("cache-aside: inside a transaction reads bypass the cache and invalidation waits for the commit",
          "[cache][aside][transaction]") {
  fixture f;
  auto ann = f.add("ann@example.com", "Ann");
  REQUIRE(f.users.get(ann.id));
  const auto key = ormkit::cache_key<user>(ann.id);
  auto st = ormkit::transact(f.db, [&](ormkit::transaction&) -> ormkit::status {
    ann.name = "Ann in tx";
    ann = f.users.update(ann).value();
    // Not yet committed: the cached row stays, and this thread reads its own write.
    CHECK(f.store.contains(key));
    CHECK(f.users.get(ann.id).value().name == "Ann in tx");
    return {};
  });
  REQUIRE(st);
  CHECK_FALSE(f.store.contains(key));
  CHECK(f.users.get(ann.id).value().name == "Ann in tx");
  const auto s = f.users.cache_stats();
  CHECK(s.deferred == 1);
  CHECK(s.bypassed >= 1);
}

TEST_CASE("cache-aside: a rolled-back transaction invalidates nothing and leaves the cache as it was",
          "[cache][aside][transaction]") {
  fixture f;
  auto ann = f.add("ann@example.com", "Ann");
  const auto cached = f.users.get(ann.id).value();
  const auto key = ormkit::cache_key<user>(ann.id);
  const auto before = f.users.cache_stats();
  auto st = ormkit::transact(f.db, [&](ormkit::transaction&) -> ormkit::status {
    auto changed = ann;
    changed.name = "Never committed";
    REQUIRE(f.users.update(changed));
    return ormkit::unexpected(errc::rejected, "roll it back");
  });
  REQUIRE_FALSE(st);
  CHECK(f.store.contains(key));
  CHECK(f.users.cache_stats().invalidations == before.invalidations);
  const int loads = f.counter.gets;
  CHECK(f.users.get(ann.id).value() == cached);  // a hit, and the right value
  CHECK(f.counter.gets == loads);

  // An exception rolls back too.
  CHECK_THROWS(ormkit::transact(f.db, [&](ormkit::transaction&) -> ormkit::status {
    auto changed = ann;
    changed.name = "Thrown away";
    REQUIRE(f.users.update(changed));
    throw std::runtime_error("boom");
  }));
  CHECK(f.store.contains(key));
  CHECK(f.users.get(ann.id).value() == cached);
}

TEST_CASE("cache-aside: a rolled-back savepoint drops only its own invalidations", "[cache][aside][transaction]") {
  fixture f;
  auto ann = f.add("ann@example.com", "Ann");
  auto bob = f.add("bob@example.com", "Bob");
  REQUIRE(f.users.get(ann.id));
  REQUIRE(f.users.get(bob.id));
  auto st = ormkit::transact(f.db, [&](ormkit::transaction&) -> ormkit::status {
    ann.name = "Ann 2";
    ann = f.users.update(ann).value();
    auto inner = ormkit::transact(f.db, [&](ormkit::transaction&) -> ormkit::status {
      auto b = bob;
      b.name = "Bob 2";
      REQUIRE(f.users.update(b));
      return ormkit::unexpected(errc::rejected, "inner fails");
    });
    CHECK_FALSE(inner);
    return {};
  });
  REQUIRE(st);
  CHECK_FALSE(f.store.contains(ormkit::cache_key<user>(ann.id)));
  CHECK(f.store.contains(ormkit::cache_key<user>(bob.id)));
  CHECK(f.users.get(ann.id).value().name == "Ann 2");
  CHECK(f.users.get(bob.id).value().name == "Bob");
}

TEST_CASE("cache-aside: single flight, 64 threads missing one key make exactly one backend load",
          "[cache][aside][single-flight]") {
  slow_backend db;
  REQUIRE(db.ensure_table(ormkit::schema_of<user>()));
  ormkit::cache::memory_store store;
  load_counter counter;
  ormkit::repository<user> users(db, store, {}, {.observer = &counter});
  const auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
  db.selects = 0;
  db.slow = true;
  constexpr int threads = 64;
  std::latch start(threads);
  std::atomic<int> correct{0};
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&] {
      start.arrive_and_wait();
      auto u = users.get(ann.id);
      if (u && *u == ann) correct.fetch_add(1);
    });
  for (auto& t : pool) t.join();
  CHECK(correct == threads);
  CHECK(counter.gets == 1);   // the observer saw one backend get
  CHECK(db.selects == 1);     // and the backend one query
  const auto s = users.cache_stats();
  CHECK(s.loads == 1);
  CHECK(s.misses + s.hits == threads);
  CHECK(s.coalesced + s.hits >= 1);  // the others waited for the load or found its result
}

TEST_CASE("cache-aside: get_many has single flight too: 16 threads asking for the same 20 missing keys load "
          "each key once",
          "[cache][aside][single-flight]") {
  slow_backend db;
  REQUIRE(db.ensure_table(ormkit::schema_of<user>()));
  ormkit::cache::memory_store store;
  ormkit::repository<user> users(db, store, {.negative_ttl = 30s});  // the absent key is cached too
  std::vector<std::int64_t> ids;
  std::vector<user> rows;
  for (int i = 0; i < 20; ++i) {
    rows.push_back(users.insert(make_user("b" + std::to_string(i) + "@example.com", "B")).value());
    ids.push_back(rows.back().id);
  }
  ids.push_back(999'999);  // absent: skipped in the result
  db.selects = 0;
  db.slow = true;
  constexpr int threads = 16;
  std::latch start(threads);
  std::atomic<int> correct{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      // Each thread asks in its own order, so leads and joins interleave.
      std::vector<std::int64_t> mine = ids;
      std::rotate(mine.begin(), mine.begin() + t, mine.end());
      start.arrive_and_wait();
      auto got = users.get_many(mine);
      if (!got || got->size() != rows.size()) return;
      std::size_t r = 0;
      for (auto id : mine) {
        if (id == 999'999) continue;
        if ((*got)[r++] != rows[static_cast<std::size_t>(id - ids[0])]) return;
      }
      correct.fetch_add(1);
    });
  for (auto& t : pool) t.join();
  CHECK(correct == threads);
  const auto s = users.cache_stats();
  CHECK(s.loads == 21);  // each key loaded once (the absent one too), however the threads met
  CHECK(s.fills == 21);  // and stored once
  CHECK(db.selects <= threads);
  CHECK(s.coalesced + s.hits > 0);

  SECTION("a failed batch load reaches the callers waiting for its keys") {
    slow_backend broken;
    REQUIRE(broken.ensure_table(ormkit::schema_of<user>()));
    ormkit::cache::memory_store other;
    ormkit::repository<user> missing(broken, other);
    broken.slow = true;
    broken.failing = true;
    std::latch go(8);
    std::atomic<int> failed{0};
    std::vector<std::thread> waiters;
    for (int t = 0; t < 8; ++t)
      waiters.emplace_back([&] {
        go.arrive_and_wait();
        std::vector<std::int64_t> k{1, 2, 3};
        if (!missing.get_many(k)) failed.fetch_add(1);
      });
    for (auto& t : waiters) t.join();
    CHECK(failed == 8);
    CHECK(other.stats().entries == 0);
  }
}

TEST_CASE("cache-aside: a load error reaches every waiter and is not cached", "[cache][aside][single-flight]") {
  slow_backend db;  // no table: every load fails
  ormkit::cache::memory_store store;
  ormkit::repository<user> users(db, store);
  db.slow = true;
  constexpr int threads = 16;
  std::latch start(threads);
  std::atomic<int> failed{0};
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&] {
      start.arrive_and_wait();
      if (!users.get(std::int64_t{7})) failed.fetch_add(1);
    });
  for (auto& t : pool) t.join();
  CHECK(failed == threads);
  CHECK(store.stats().entries == 0);
  CHECK(db.selects < threads);
}

TEST_CASE("cache-aside: not_found is cached for the negative TTL and an insert of that key drops it",
          "[cache][aside][negative]") {
  ormkit::memory::backend db;
  REQUIRE(db.ensure_table(ormkit::schema_of<user>()));
  ormkit::cache::memory_store store;
  load_counter counter;
  ormkit::repository<user> users(db, store, {.negative_ttl = 60s}, {.observer = &counter});
  CHECK(users.get(std::int64_t{42}).error().code == errc::not_found);
  CHECK(users.get(std::int64_t{42}).error().code == errc::not_found);
  CHECK_FALSE(users.find_by_key(42).value().has_value());
  CHECK(counter.gets == 1);
  CHECK(users.cache_stats().negative_hits == 2);
  auto u = make_user("ann@example.com", "Ann");
  u.id = 42;
  REQUIRE(users.insert(u));
  CHECK(users.get(std::int64_t{42}).value().name == "Ann");

  // Without a negative TTL, absent keys are not cached.
  ormkit::repository<user> plain(db, store, {}, {.observer = &counter});
  const int before = counter.gets;
  CHECK_FALSE(plain.get(std::int64_t{43}));
  CHECK_FALSE(plain.get(std::int64_t{43}));
  CHECK(counter.gets == before + 2);
}

TEST_CASE("cache-aside: entries expire after the TTL; TTLs are jittered down, never up", "[cache][aside][ttl]") {
  ormkit::memory::backend db;
  REQUIRE(db.ensure_table(ormkit::schema_of<user>()));
  ormkit::cache::memory_store store;
  load_counter counter;
  ormkit::repository<user> users(db, store, {.ttl = 40ms, .jitter = 0.5}, {.observer = &counter});
  const auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
  REQUIRE(users.get(ann.id));
  REQUIRE(users.get(ann.id));
  CHECK(counter.gets == 1);
  std::this_thread::sleep_for(120ms);  // past the TTL (jitter only shortens it)
  REQUIRE(users.get(ann.id));
  CHECK(counter.gets == 2);
  CHECK(store.stats().expirations >= 1);
  CHECK(ormkit::cache_policy{.tier = ormkit::cache_tier::short_lived}.row_ttl() == 5s);
  CHECK(ormkit::cache_policy{.tier = ormkit::cache_tier::long_lived}.row_ttl() == 1h);
  CHECK(ormkit::cache_policy{.ttl = 7ms}.row_ttl() == 7ms);
}

TEST_CASE("cache-aside: a private store holds at most `capacity` rows (LRU eviction)", "[cache][aside][capacity]") {
  ormkit::memory::backend db;
  REQUIRE(db.ensure_table(ormkit::schema_of<user>()));
  load_counter counter;
  ormkit::repository<user> users(db, {.observer = &counter});
  users.use_cache({.capacity = 4});
  REQUIRE(users.cache() != nullptr);
  REQUIRE(users.cache()->own_store() != nullptr);
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 10; ++i)
    ids.push_back(users.insert(make_user("u" + std::to_string(i) + "@example.com", "U")).value().id);
  for (auto id : ids) REQUIRE(users.get(id));
  const auto st = users.cache()->own_store()->stats();
  CHECK(st.entries <= 4);
  CHECK(st.evictions >= 6);
  // Everything still reads correctly, evicted or not.
  for (auto id : ids) CHECK(users.get(id).value().id == id);
  users.use_cache(ormkit::cache_policy::off());
  CHECK(users.cache() == nullptr);
}

TEST_CASE("cache-aside: corrupt, foreign or other-schema bytes under a key are misses, counted",
          "[cache][aside][corrupt]") {
  fixture f;
  const auto ann = f.add("ann@example.com", "Ann");
  const auto key = ormkit::cache_key<user>(ann.id);
  std::string other_schema;
  ormkit::detail::put_cached_header(other_schema, 'R', 0x1234);
  for (std::string bad : {std::string("garbage"), std::string("E\x01R", 3), other_schema,
                          std::string("E\x01" "R12345678\x09\x01\x02", 14)}) {
    REQUIRE(f.store.set(key, bad, 60s));
    CHECK(f.users.get(ann.id).value() == ann);
  }
  CHECK(f.users.cache_stats().corrupt == 4);
  // The last load replaced the bad bytes: now a hit.
  const int loads = f.counter.gets;
  CHECK(f.users.get(ann.id).value() == ann);
  CHECK(f.counter.gets == loads);
}

TEST_CASE("cache-aside: a failing store never fails a read or a write; failures are counted",
          "[cache][aside][faults]") {
  ormkit::memory::backend db;
  REQUIRE(db.ensure_table(ormkit::schema_of<user>()));
  broken_store store;
  ormkit::repository<user> users(db, store, {.negative_ttl = 1s});
  auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
  CHECK(users.get(ann.id).value() == ann);
  ann.name = "Ann B";
  ann = users.update(ann).value();
  CHECK(users.get(ann.id).value().name == "Ann B");
  std::vector<std::int64_t> keys{ann.id, 999};
  CHECK(users.get_many(keys).value().size() == 1);
  CHECK(users.find_cached(ormkit::query<user>(), "all").value().size() == 1);
  REQUIRE(users.erase(ann.id));
  CHECK(users.get(ann.id).error().code == errc::not_found);
  CHECK(users.cache_stats().errors >= 6);
  CHECK(store.calls >= 6);
}

TEST_CASE("cache-aside: get_many reads hits in one store call and fills the misses", "[cache][aside]") {
  fixture f;
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(f.add("m" + std::to_string(i) + "@example.com", "M").id);
  REQUIRE(f.users.get(ids[0]));
  REQUIRE(f.users.get(ids[1]));
  std::vector<std::int64_t> ask{ids[4], ids[0], 12345, ids[1], ids[2], ids[3]};
  auto got = f.users.get_many(ask).value();
  REQUIRE(got.size() == 5);
  CHECK(got[0].id == ids[4]);
  CHECK(got[1].id == ids[0]);
  CHECK(got[2].id == ids[1]);
  CHECK(got[3].id == ids[2]);
  const auto s = f.users.cache_stats();
  CHECK(s.hits == 2);
  CHECK(s.fills == 2 + 3);
  // All cached now.
  auto again = f.users.get_many(ask).value();
  CHECK(again.size() == 5);
  CHECK(f.users.cache_stats().hits == 2 + 5);
  CHECK(again[1] == got[1]);
}

namespace {
// The in-process store, counting how it is written to.
struct counting_store {
  ormkit::cache::memory_store inner;
  std::atomic<int> sets{0};
  std::atomic<int> set_manys{0};
  auto name() const -> std::string_view { return "counting"; }
  auto get(std::string_view k) { return inner.get(k); }
  auto get_into(std::string_view k, std::string& out) { return inner.get_into(k, out); }
  auto visit(std::string_view k, ormkit::cache_visitor f) { return inner.visit(k, f); }
  auto set(std::string_view k, std::string_view v, std::chrono::milliseconds t) {
    sets.fetch_add(1);
    return inner.set(k, v, t);
  }
  auto erase(std::string_view k) { return inner.erase(k); }
  auto get_many(std::span<const std::string_view> ks) { return inner.get_many(ks); }
  auto set_many(std::span<const ormkit::cache_entry> es, std::chrono::milliseconds t) {
    set_manys.fetch_add(1);
    return inner.set_many(es, t);
  }
  auto erase_many(std::span<const std::string_view> ks) { return inner.erase_many(ks); }
  auto clear(std::string_view p) { return inner.clear(p); }
  auto stats() const { return inner.stats(); }
};
static_assert(ormkit::cache_store<counting_store>);
}  // namespace

TEST_CASE("cache-aside: get_many stores all its misses with one set_many (one round trip to Redis)",
          "[cache][aside]") {
  ormkit::memory::backend db;
  REQUIRE(db.ensure_table(ormkit::schema_of<user>()));
  counting_store store;
  ormkit::repository<user> users(db, store, {.negative_ttl = 30s});
  std::vector<std::int64_t> ids;
  for (int i = 0; i < 50; ++i) ids.push_back(users.insert(make_user("s" + std::to_string(i) + "@example.com", "S")).value().id);
  ids.push_back(424242);  // absent: cached as absent, in its own set_many (its own TTL)
  REQUIRE(users.get_many(ids).value().size() == 50);
  CHECK(store.sets == 0);
  CHECK(store.set_manys == 2);
  CHECK(users.cache_stats().fills == 51);
  REQUIRE(users.get_many(ids).value().size() == 50);
  CHECK(store.set_manys == 2);  // all hits now
  CHECK(users.cache_stats().hits == 51);  // the absent key's too
  CHECK(users.cache_stats().negative_hits == 1);
}

TEST_CASE("cache-aside: query results are cached under a builder key and dropped by any write to the table",
          "[cache][aside][query]") {
  fixture f;
  f.add("a@example.com", "A", 20);
  f.add("b@example.com", "B", 40);
  const auto q = ormkit::query<user>(ormkit::col(&user::age) >= 30);
  const auto key = ormkit::cache_key_builder("q").add("users_over").add(30).str();
  CHECK(f.users.find_cached(q, key).value().size() == 1);
  CHECK(f.users.find_cached(q, key).value().size() == 1);
  CHECK(f.users.cache_stats().query_hits == 1);
  f.add("c@example.com", "C", 50);
  auto fresh = f.users.find_cached(q, key).value();
  CHECK(fresh.size() == 2);
  CHECK(f.users.cache_stats().query_hits == 1);
  CHECK(f.users.find_cached(q, key).value() == fresh);
  CHECK(f.users.cache_stats().query_hits == 2);
  REQUIRE(f.users.erase_where(ormkit::col(&user::age) >= 45));
  CHECK(f.users.find_cached(q, key).value().size() == 1);
}

TEST_CASE("cache-aside: erase_where drops every cached row of the table", "[cache][aside]") {
  fixture f;
  const auto a = f.add("a@example.com", "A", 20);
  const auto b = f.add("b@example.com", "B", 40);
  REQUIRE(f.users.get(a.id));
  REQUIRE(f.users.get(b.id));
  REQUIRE(f.users.erase_where(ormkit::col(&user::age) >= 30).value() == 1);
  CHECK(f.users.get(b.id).error().code == errc::not_found);
  CHECK(f.users.get(a.id).value() == a);
}

TEST_CASE("cache-aside: a reader never sees a row older than the writer's last committed one it knows of",
          "[cache][aside][stale]") {
  ormkit::memory::backend db;
  REQUIRE(db.ensure_table(ormkit::schema_of<user>()));
  ormkit::cache::memory_store store;
  ormkit::repository<user> users(db, store);
  auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
  std::atomic<std::int64_t> committed{ann.version};
  std::atomic<bool> done{false};
  std::atomic<int> stale{0};
  std::atomic<int> reads{0};
  // All three start together, and the writer goes on until the readers have read a
  // while: a fast writer could otherwise finish before a reader's first look.
  std::latch start(3);
  std::thread writer([&] {
    start.arrive_and_wait();
    auto u = ann;
    for (int i = 0; i < 2000 || reads.load() < 400; ++i) {
      u.age = i % 150;
      u = users.update(u).value();
      committed.store(u.version, std::memory_order_release);
    }
    done = true;
  });
  auto read = [&] {
    start.arrive_and_wait();
    do {
      const auto known = committed.load(std::memory_order_acquire);
      auto got = users.get(ann.id);
      if (!got || got->version < known) stale.fetch_add(1);
      reads.fetch_add(1);
    } while (!done);
  };
  std::thread r1(read), r2(read);
  writer.join();
  r1.join();
  r2.join();
  CHECK(stale == 0);
  CHECK(reads > 0);
  CHECK(users.get(ann.id).value().version == committed.load());
}

TEST_CASE("cache-aside: a repository without a cache reports zero cache statistics", "[cache][aside]") {
  ormkit::memory::backend db;
  REQUIRE(db.ensure_table(ormkit::schema_of<user>()));
  ormkit::repository<user> users(db);
  CHECK(users.cache() == nullptr);
  const auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
  CHECK(users.get(ann.id).value() == ann);
  CHECK(users.cache_stats().hits == 0);
  CHECK(users.find_cached(ormkit::query<user>(), "all").value().size() == 1);
}

TEST_CASE("cache-aside: a cached row of every column type reads back equal to the stored one",
          "[cache][aside][codec]") {
  // The cache decodes its rows straight into the members (the everyday types in place,
  // the rest through the row decoder's conversions); each row is read once from the
  // backend and then twice from the cache, and must be equal every time.
  ormkit::memory::backend db;
  REQUIRE(db.ensure_table(ormkit::schema_of<all_types>()));
  ormkit::cache::memory_store store;
  ormkit::repository<all_types> rows(db, store, ormkit::cache_policy{});
  std::vector<all_types> items(3);
  items[0].i8 = -128;
  items[0].i16 = -32768;
  items[0].i32 = std::numeric_limits<std::int32_t>::min();
  items[0].i64 = std::numeric_limits<std::int64_t>::min();
  items[0].u8 = 255;
  items[0].u16 = 65535;
  items[0].u32 = std::numeric_limits<std::uint32_t>::max();
  items[0].u64 = std::uint64_t{1} << 62;
  items[0].f32 = -1.5f;
  items[0].f64 = -0.0;
  items[0].flag = true;
  items[0].text = std::string(300, 'x') + std::string("\0tail", 5);  // a length over one varint byte, a NUL
  items[0].bytes = bytes_of({0, 1, 255});
  items[0].ubytes = {0, 7};
  items[0].maybe_int = -7;
  items[0].maybe_text = "";
  items[0].maybe_real = 2.25;
  items[0].when = time_point(std::chrono::microseconds(1'700'000'000'123'456));
  items[0].maybe_when = items[0].when;
  items[0].timeout = std::chrono::milliseconds(-3);
  items[0].seconds = std::chrono::duration<double>(0.5);
  items[0].shade = color::blue;
  items[0].lvl = level::high;
  items[0].maybe_shade = color::red;
  items[1].i64 = std::numeric_limits<std::int64_t>::max();
  items[1].text = "short";
  items[1].f64 = 1e300;
  items[2].text = std::string(127, 'y');  // the longest one-byte length
  for (auto& e : items) e = rows.insert(e).value();
  for (int pass = 0; pass < 3; ++pass)
    for (const auto& e : items) CHECK(rows.get(e.id).value() == e);
  const auto s = rows.cache_stats();
  CHECK(s.loads == items.size());
  CHECK(s.hits == 2 * items.size());
  CHECK(s.corrupt == 0);
}
