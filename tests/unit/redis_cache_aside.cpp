// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// Cache-aside in repository<T> against a real Redis: fill and hit (a second
// repository with its own store object hits what the first filled), expiry,
// invalidation after commit and none after a rollback, single flight (64
// threads, one backend load), negative caching; Redis stopped mid-test (every
// read and write still succeeds from the backend, errors counted) and
// restarted (the cache is used again); two processes over one SQLite file and
// one Redis seeing each other's invalidations within 100 ms; the stale-read race
// through the two-level store.

#include "redis_support.hpp"

#include <ormkit/cache/aside.hpp>
#include <ormkit/memory/backend.hpp>
#include <ormkit/persistence_manager.hpp>
#include <ormkit/redis.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/sqlite.hpp>
#include <ormkit/transaction.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"
#include "../support/prometheus.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <latch>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <poll.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace redis_cache_aside_test {

using namespace std::chrono_literals;
using namespace ormkit_test;
using ormkit::errc;
using redis_test::eventually;
using redis_test::steady;

struct load_counter final : ormkit::repository_observer {
  std::atomic<int> gets{0};
  void after(const ormkit::operation_event& e) override {
    if (e.op == ormkit::operation::get) gets.fetch_add(1);
  }
};

auto plain(const ormkit::redis::options& server, const std::string& prefix) -> ormkit::redis::store_options {
  ormkit::redis::store_options o;
  o.server = server;
  o.key_prefix = prefix;
  o.ttl_jitter = 0;
  return o;
}

auto two_level(const ormkit::redis::options& server, const std::string& prefix)
    -> ormkit::redis::two_level_options {
  ormkit::redis::two_level_options o;
  o.l2.server = server;
  o.l2.key_prefix = prefix;
  return o;
}

}  // namespace redis_cache_aside_test

using namespace redis_cache_aside_test;

TEST_CASE("redis cache-aside: fill, hit from another store object, expiry, negative caching",
          "[redis][cache][aside]") {
  auto server = redis_test::shared_server();
  if (!server) return;
  const auto prefix = redis_test::unique_prefix("aside");
  ormkit::memory::backend db;
  REQUIRE(db.ensure_table(ormkit::schema_of<user>()));
  ormkit::redis::store store(plain(*server, prefix));
  load_counter counter;
  ormkit::repository<user> users(db, store, {.negative_ttl = 30s}, {.observer = &counter});
  const auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
  const auto key = ormkit::cache_key<user>(ann.id);

  CHECK(users.get(ann.id).value() == ann);
  CHECK(users.get(ann.id).value() == ann);
  CHECK(counter.gets == 1);
  CHECK(store.get(key).value().has_value());

  // Another process-alike: its own store object and repository; the row comes from Redis.
  ormkit::redis::store other_store(plain(*server, prefix));
  load_counter other_counter;
  ormkit::repository<user> other(db, other_store, {}, {.observer = &other_counter});
  CHECK(other.get(ann.id).value() == ann);
  CHECK(other_counter.gets == 0);
  CHECK(other.cache_stats().hits == 1);

  // Negative caching in Redis, dropped by the insert of the key.
  CHECK(users.get(std::int64_t{777}).error().code == errc::not_found);
  CHECK(users.get(std::int64_t{777}).error().code == errc::not_found);
  CHECK(counter.gets == 2);
  auto u = make_user("k@example.com", "K");
  u.id = 777;
  REQUIRE(users.insert(u));
  CHECK(users.get(std::int64_t{777}).value().name == "K");

  // Expiry: a short TTL tier runs out in Redis.
  ormkit::repository<user> brief(db, store, {.ttl = 100ms, .jitter = 0}, {.observer = &counter});
  const int before = counter.gets;
  REQUIRE(brief.get(ann.id));  // a hit on the entry the first repository filled
  REQUIRE(store.erase(key));
  REQUIRE(brief.get(ann.id));  // loads, fills for 100 ms
  CHECK(counter.gets == before + 1);
  CHECK(eventually([&] { return !store.get(key).value().has_value(); }, 3000ms));
  REQUIRE(brief.get(ann.id));
  CHECK(counter.gets == before + 2);
  (void)store.clear();
}

TEST_CASE("redis cache-aside: writes invalidate Redis after commit, never after a rollback",
          "[redis][cache][aside][transaction]") {
  auto server = redis_test::shared_server();
  if (!server) return;
  const auto prefix = redis_test::unique_prefix("aside-tx");
  ormkit::memory::backend db;
  REQUIRE(db.ensure_table(ormkit::schema_of<user>()));
  ormkit::redis::store store(plain(*server, prefix));
  ormkit::repository<user> users(db, store);
  auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
  const auto key = ormkit::cache_key<user>(ann.id);
  REQUIRE(users.get(ann.id));
  REQUIRE(store.get(key).value().has_value());

  auto rolled_back = ormkit::transact(db, [&](ormkit::transaction&) -> ormkit::status {
    auto changed = ann;
    changed.name = "Never";
    REQUIRE(users.update(changed));
    return ormkit::unexpected(errc::rejected, "undo");
  });
  REQUIRE_FALSE(rolled_back);
  CHECK(store.get(key).value().has_value());
  CHECK(users.get(ann.id).value().name == "Ann");

  auto committed = ormkit::transact(db, [&](ormkit::transaction&) -> ormkit::status {
    ann.name = "Ann 2";
    ann = users.update(ann).value();
    CHECK(store.get(key).value().has_value());  // not before the commit
    return {};
  });
  REQUIRE(committed);
  CHECK_FALSE(store.get(key).value().has_value());
  CHECK(users.get(ann.id).value().name == "Ann 2");
  (void)store.clear();
}

TEST_CASE("redis cache-aside: 64 threads missing one key make exactly one backend load",
          "[redis][cache][aside][single-flight]") {
  auto server = redis_test::shared_server();
  if (!server) return;
  const auto prefix = redis_test::unique_prefix("aside-sf");
  ormkit::memory::backend db;
  REQUIRE(db.ensure_table(ormkit::schema_of<user>()));
  auto o = two_level(*server, prefix);
  ormkit::redis::two_level_store store(o);
  REQUIRE(store.wait_coherent(5s));
  load_counter counter;
  ormkit::repository<user> users(db, store, {}, {.observer = &counter});
  const auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
  constexpr int threads = 64;
  std::latch start(threads);
  std::atomic<int> correct{0};
  std::vector<std::thread> pool;
  for (int i = 0; i < threads; ++i)
    pool.emplace_back([&] {
      start.arrive_and_wait();
      auto got = users.get(ann.id);
      if (got && *got == ann) correct.fetch_add(1);
    });
  for (auto& t : pool) t.join();
  CHECK(correct == threads);
  CHECK(counter.gets == 1);
  CHECK(users.cache_stats().loads == 1);
  (void)store.clear();
}

TEST_CASE("redis cache-aside: Redis stopped mid-test, every read and write succeeds from the backend; "
          "restarted, the cache is used again",
          "[redis][cache][aside][faults]") {
  if (!redis_test::private_servers_allowed()) return;
  redis_test::private_server redis;
  ormkit::memory::backend db;
  REQUIRE(db.ensure_table(ormkit::schema_of<user>()));
  ormkit::redis::store store(plain(redis.options(200ms), "faults:"));
  load_counter counter;
  ormkit::repository<user> users(db, store, {.negative_ttl = 10s}, {.observer = &counter});
  std::vector<user> rows;
  for (int i = 0; i < 20; ++i)
    rows.push_back(users.insert(make_user("f" + std::to_string(i) + "@example.com", "F")).value());
  for (const auto& r : rows) REQUIRE(users.get(r.id));  // warm
  for (const auto& r : rows) REQUIRE(users.get(r.id));
  CHECK(users.cache_stats().hits == rows.size());

  redis.stop();
  const auto errors_before = users.cache_stats().errors;
  for (auto& r : rows) {
    r.name = "down";
    auto written = users.update(r);
    REQUIRE(written);  // a cache failure never fails a write
    r = *written;
    auto read = users.get(r.id);
    REQUIRE(read);  // nor a read
    CHECK(*read == r);  // and the read is the backend's committed row
  }
  auto fresh = users.insert(make_user("new@example.com", "New"));
  REQUIRE(fresh);
  CHECK(users.get(fresh->id).value() == *fresh);
  std::vector<std::int64_t> ids{rows[0].id, rows[1].id};
  CHECK(users.get_many(ids).value().size() == 2);
  CHECK(users.cache_stats().errors > errors_before);
  CHECK(store.stats().errors > 0);

  redis.start();
  // Once the client reconnects, reads fill and hit again.
  const auto hits_before = users.cache_stats().hits;
  CHECK(eventually(
      [&] {
        (void)users.get(rows[0].id);
        return users.get(rows[0].id).has_value() && users.cache_stats().hits > hits_before;
      },
      5000ms));
  CHECK(users.get(rows[0].id).value() == rows[0]);
  CHECK(store.get(ormkit::cache_key<user>(rows[0].id)).value().has_value());
}

TEST_CASE("redis cache-aside: a frozen Redis (SIGSTOP) costs each call at most its budget, loses no write, "
          "and serves no stale row once thawed",
          "[redis][cache][aside][faults]") {
  if (!redis_test::private_servers_allowed()) return;
  redis_test::private_server redis;
  ormkit::memory::backend db;
  REQUIRE(db.ensure_table(ormkit::schema_of<user>()));
  ormkit::redis::store store(plain(redis.options(200ms), "frozen-aside:"));
  load_counter counter;
  ormkit::repository<user> users(db, store, {}, {.observer = &counter});
  std::vector<user> rows;
  for (int i = 0; i < 5; ++i)
    rows.push_back(users.insert(make_user("z" + std::to_string(i) + "@example.com", "Cached")).value());
  for (const auto& r : rows) REQUIRE(users.get(r.id));  // fill
  for (const auto& r : rows) CHECK(users.get(r.id).value() == r);
  const int loads_warm = counter.gets.load();

  redis.freeze();
  // Writes while Redis cannot answer: each commits to the backend; its invalidation
  // fails (counted) and is kept to be replayed. Reads fall back to the backend. No call
  // hangs: each costs at most a few client budgets (200 ms), not the kernel's TCP timeout.
  const auto t0 = steady::now();
  for (auto& r : rows) {
    r.name = "written while frozen";
    auto written = users.update(r);
    REQUIRE(written);
    r = *written;
    auto read = users.get(r.id);
    REQUIRE(read);
    CHECK(*read == r);
  }
  const auto frozen_ms = redis_test::elapsed_ms(t0);
  INFO("10 calls against a frozen Redis took " << frozen_ms << " ms");
  CHECK(frozen_ms < 10 * 3 * 200 + 2000);  // a hang would be minutes; this is a no-hang bound, not a speed target
  CHECK(users.cache_stats().errors > 0);
  CHECK(counter.gets.load() > loads_warm);  // the reads came from the backend

  redis.thaw();
  // Redis still holds the rows as they were before the freeze. The failed invalidations
  // are replayed before the store serves anything, so no read returns those old rows.
  for (int round = 0; round < 3; ++round)
    for (const auto& r : rows) {
      auto read = users.get(r.id);
      REQUIRE(read);
      CHECK(read->name == "written while frozen");
      CHECK(*read == r);
    }
  // And the cache is used again.
  const auto hits_before = users.cache_stats().hits;
  CHECK(eventually([&] { return users.get(rows[0].id).has_value() && users.cache_stats().hits > hits_before; },
                   5000ms));
}

TEST_CASE("redis cache-aside: the manager reports the Redis client's connections and counters",
          "[redis][cache][metrics][persistence_manager]") {
  auto server = redis_test::shared_server();
  if (!server) return;
  ormkit::memory::backend db;
  ormkit::persistence_manager<user> m(db);
  REQUIRE(m.ensure_tables());
  ormkit::redis::store store(plain(*server, redis_test::unique_prefix("pm-metrics")));
  m.use_cache(store);
  auto& users = m.repository<user>();
  const auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
  REQUIRE(users.get(ann.id));
  REQUIRE(users.get(ann.id));

  const auto text = m.metrics_prometheus();
  INFO(text);
  CHECK(ormkit_test::prometheus_problems(text).empty());
  CHECK(text.find("# TYPE ormkit_cache_client_connects_total counter\n") != std::string::npos);
  CHECK(text.find("ormkit_cache_client_connects_total 1\n") != std::string::npos);
  CHECK(text.find("# TYPE ormkit_cache_client_in_use gauge\normkit_cache_client_in_use 0\n") != std::string::npos);
  CHECK(text.find("ormkit_cache_client_max_connections 4\n") != std::string::npos);
  CHECK(text.find("ormkit_backend_") == std::string::npos);  // the memory backend has no connections

  const auto doc = nlohmann::json::parse(m.metrics_json());
  CHECK(doc["cache_resources"]["connects"] == 1);
  CHECK(doc["cache_resources"]["idle"] == 1);
  CHECK(doc["cache_resources"]["timeouts"] == 0);
  CHECK_FALSE(doc.contains("backend_resources"));
}

namespace redis_cache_aside_test {

struct message {
  char tag = 0;
  std::int64_t value = 0;
};

auto now_ns() -> std::int64_t {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch()).count();
}

auto send(int fd, char tag, std::int64_t value) -> bool {
  const message m{tag, value};
  return ::write(fd, &m, sizeof m) == static_cast<ssize_t>(sizeof m);
}

auto receive(int fd) -> message {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 15'000) != 1) return {};
  message m;
  return ::read(fd, &m, sizeof m) == static_cast<ssize_t>(sizeof m) ? m : message{};
}

// The second process: opens the shared database, updates the row the parent cached,
// and reports the time just before the update (commit, then DEL + PUBLISH).
auto child_main(const ormkit::redis::options& server, const std::string& prefix, const std::string& path, int out,
                int in) -> int {
  const message go = receive(in);
  if (go.tag != 'G') return 10;
  auto db = ormkit::sqlite::backend::open({.path = path});
  if (!db) return 11;
  ormkit::redis::two_level_store cache(two_level(server, prefix));
  if (!cache.wait_coherent(5s)) return 12;
  ormkit::repository<user> users(**db, cache);
  auto row = users.get(go.value);
  if (!row) return 13;
  row->name = "changed by the child";
  const std::int64_t t0 = now_ns();
  if (!users.update(*row)) return 14;
  if (!send(out, 'U', t0)) return 15;
  if (receive(in).tag != 'D') return 16;
  return 0;
}

}  // namespace redis_cache_aside_test

TEST_CASE("redis cache-aside: two processes over one database see each other's invalidations within 100 ms",
          "[redis][cache][aside][process]") {
  auto server = redis_test::shared_server();
  if (!server) return;
  const auto prefix = redis_test::unique_prefix("aside-procs");
  const auto path = (std::filesystem::temp_directory_path() /
                     ("ormkit_aside_procs_" + std::to_string(::getpid()) + ".db"))
                        .string();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  int to_parent[2], to_child[2];
  REQUIRE(::pipe(to_parent) == 0);
  REQUIRE(::pipe(to_child) == 0);
  const pid_t pid = ::fork();  // before this process has threads or connections of its own
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(to_parent[0]);
    ::close(to_child[1]);
    ::_exit(child_main(*server, prefix, path, to_parent[1], to_child[0]));
  }
  ::close(to_parent[1]);
  ::close(to_child[0]);
  {
    auto db = ormkit::sqlite::backend::open({.path = path}).value();
    REQUIRE(db->ensure_table(ormkit::schema_of<user>()));
    ormkit::redis::two_level_store cache(two_level(*server, prefix));
    REQUIRE(cache.wait_coherent(5s));
    ormkit::repository<user> users(*db, cache);
    const auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
    const auto key = ormkit::cache_key<user>(ann.id);
    REQUIRE(users.get(ann.id));
    REQUIRE(cache.l1().contains(key));
    REQUIRE(send(to_child[1], 'G', ann.id));
    const message m = receive(to_parent[0]);
    REQUIRE(m.tag == 'U');
    // Poll until the other process's invalidation has dropped our L1 copy.
    const auto end = steady::now() + 5s;
    while (cache.l1().contains(key) && steady::now() < end) std::this_thread::sleep_for(100us);
    const std::int64_t latency = now_ns() - m.value;
    REQUIRE_FALSE(cache.l1().contains(key));
    INFO("the other process's update was seen after " << latency / 1000 << " us");
    CHECK(latency > 0);
    CHECK(latency < 100'000'000);
    CHECK(users.get(ann.id).value().name == "changed by the child");
    CHECK(cache.coherence().invalidations >= 1);
    REQUIRE(send(to_child[1], 'D', 0));
    (void)cache.clear();
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::close(to_parent[0]);
  ::close(to_child[1]);
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  INFO("child exit code " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("redis cache-aside: through the two-level store a reader never sees a row older than the last "
          "committed write it knows of",
          "[redis][cache][aside][stale]") {
  auto server = redis_test::shared_server();
  if (!server) return;
  const auto prefix = redis_test::unique_prefix("aside-stale");
  ormkit::memory::backend db;
  REQUIRE(db.ensure_table(ormkit::schema_of<user>()));
  ormkit::redis::two_level_store cache(two_level(*server, prefix));
  REQUIRE(cache.wait_coherent(5s));
  ormkit::repository<user> users(db, cache);
  auto ann = users.insert(make_user("ann@example.com", "Ann")).value();
  std::atomic<std::int64_t> committed{ann.version};
  std::atomic<bool> done{false};
  std::atomic<int> stale{0}, failed{0}, reads{0};
  std::mutex seen_mu;
  std::string seen;  // the first stale read or failure, for the report
  std::thread writer([&] {
    auto u = ann;
    for (int i = 0; i < 300; ++i) {
      u.age = i % 150;
      u = users.update(u).value();
      committed.store(u.version, std::memory_order_release);
    }
    done = true;
  });
  auto read = [&] {
    while (!done) {
      const auto known = committed.load(std::memory_order_acquire);
      auto got = users.get(ann.id);
      if (!got || got->version < known) {
        (got ? stale : failed).fetch_add(1);
        std::lock_guard lock(seen_mu);
        if (seen.empty())
          seen = got ? "version " + std::to_string(got->version) + " read after " + std::to_string(known) +
                           " was committed"
                     : "get failed: " + got.error().message;
      }
      reads.fetch_add(1);
    }
  };
  std::thread r1(read), r2(read);
  writer.join();
  r1.join();
  r2.join();
  INFO(seen);
  INFO(cache.stats().errors << " cache errors");
  CHECK(failed == 0);
  CHECK(stale == 0);
  CHECK(reads > 0);
  CHECK(users.get(ann.id).value().version == committed.load());
  (void)cache.clear();
}

//=== another process's fill of a row it read before our commit ===//

namespace redis_cache_aside_test {

// Runs `write` once, the first time the observed repository has loaded a row from the
// backend (after that read, before the cache-aside layer fills the cache with it):
// exactly the moment another process's commit and invalidation would have to fall
// into for that process to fill the cache with a row older than the commit.
struct write_during_load final : ormkit::repository_observer {
  std::function<void()> write;
  int loads = 0;
  void after(const ormkit::operation_event& e) override {
    // A point get reports `get`; the batch load of get_many's misses reports `find`.
    if (e.op != ormkit::operation::get && e.op != ormkit::operation::find) return;
    if (++loads == 1 && write) write();
  }
};

// The cache-aside guarantee across processes, for two cache stores of one kind
// (`Store`: redis::store or two_level_store), each standing for one process.
template <class Store, class Options>
void check_no_stale_fill_across_processes(const Options& a_options, const Options& b_options) {
  ormkit::memory::backend db;
  REQUIRE(db.ensure_table(ormkit::schema_of<user>()));
  Store a_store(a_options);
  Store b_store(b_options);
  ormkit::repository<user> a(db, a_store);  // process A: the writer
  write_during_load during;
  ormkit::repository<user> b(db, b_store, {}, {.observer = &during});  // process B: the reader
  auto ann = a.insert(make_user("ann@example.com", "Ann")).value();
  auto bob = a.insert(make_user("bob@example.com", "Bob")).value();

  // 1. get: B reads Ann, A commits a change and invalidates, then B fills.
  during.write = [&] {
    auto changed = ann;
    changed.name = "Ann, changed by A";
    ann = a.update(changed).value();
  };
  CHECK(b.get(ann.id).value().name == "Ann");  // B's read began before A's commit: fine for B
  CHECK(b.cache_stats().stale_fills == 1);      // but its row did not reach the cache
  CHECK(b.cache_stats().fills == 0);
  CHECK(b.get(ann.id).value() == ann);          // the next read loads A's row ...
  CHECK(b.cache_stats().fills == 1);            // ... and that one is cached
  CHECK(a.get(ann.id).value() == ann);          // A (another store object) reads it from the cache
  CHECK(a.cache_stats().hits == 1);

  // 2. get_many: the same race for one key of a batch; the other key is cached.
  REQUIRE(b_store.erase(ormkit::cache_key<user>(ann.id)));  // both keys miss
  during.loads = 0;
  during.write = [&] {
    auto changed = ann;
    changed.name = "Ann, changed again";
    ann = a.update(changed).value();
  };
  const auto fills_before = b.cache_stats().fills;
  auto rows = b.get_many(std::vector<std::int64_t>{ann.id, bob.id}).value();
  REQUIRE(rows.size() == 2);
  CHECK(b.cache_stats().stale_fills == 2);
  CHECK(b.cache_stats().fills == fills_before + 1);  // Bob only
  CHECK(b.get(ann.id).value() == ann);

  // 3. A table-wide write (erase_where) while B loads: refused through the table's scope.
  const auto key = ormkit::cache_key<user>(bob.id);
  REQUIRE(b_store.erase(key));
  during.loads = 0;
  during.write = [&] { REQUIRE(a.erase_where(ormkit::col(&user::name) == std::string("Bob")).value() == 1); };
  CHECK(b.get(bob.id).value() == bob);
  CHECK(b.cache_stats().stale_fills == 3);
  CHECK(b.get(bob.id).error().code == errc::not_found);
  CHECK(a.get(bob.id).error().code == errc::not_found);

  // A marker left by an invalidation is a plain miss, never counted as corrupt.
  CHECK(a_store.stats().corrupt == 0);
  CHECK(b_store.stats().corrupt == 0);
  (void)a_store.clear();
}

}  // namespace redis_cache_aside_test

TEST_CASE("redis cache-aside: a row another process read before our commit is never filled after our "
          "invalidation (get, get_many, erase_where)",
          "[redis][cache][aside][process]") {
  auto server = redis_test::shared_server();
  if (!server) return;
  const auto prefix = redis_test::unique_prefix("aside-guard");
  check_no_stale_fill_across_processes<ormkit::redis::store>(plain(*server, prefix), plain(*server, prefix));
}

TEST_CASE("redis cache-aside: the same guarantee through two-level stores", "[redis][cache][aside][process]") {
  auto server = redis_test::shared_server();
  if (!server) return;
  const auto prefix = redis_test::unique_prefix("aside-guard2");
  check_no_stale_fill_across_processes<ormkit::redis::two_level_store>(two_level(*server, prefix),
                                                                       two_level(*server, prefix));
}
