// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// The cache benchmark. A plain program, not Catch2; it never asserts on timings,
// but it checks every side's results (the entity read, the bytes fetched, the
// number of backend loads) and exits with 1 on a mismatch.
//
// 1. Point get of one entity (User, 7 columns, a 100-byte bio) by a random id:
//      unordered_map   std::unordered_map<int64, User> lookup + copy (the floor)
//      L1 hit          repository<User> over SQLite reading through the in-process store
//      sqlite          repository<User> over SQLite without a cache (about raw sqlite3)
//    The sides take turns within each run, so a change in the machine's load shows in
//    all of them at once; the ratios are medians of the per-run ratios.
// 2. Redis (when ORMKIT_TEST_REDIS=host:port names a server), the same cached bytes:
//      raw hiredis     redisCommandArgv GET on one connection
//      store get       ormkit::redis::store::get_into (envelope checked)
//      repository      repository<User> reading through the Redis store (decode included)
// 3. Miss storm: 64 threads released together on one cold key, per round; backend
//    loads per round with single flight (expected 1) and without a cache (64).
//
// Each timing is the median of --runs runs of --iters operations, in ns per operation.
// Usage: ormkit_cache_bench [--rows N] [--iters M] [--runs K] [--rounds R]
//        (defaults: 10000 rows, 200000 iterations, 5 runs, 20 storm rounds)

#include <ormkit/cache/memory.hpp>
#include <ormkit/cache_key.hpp>
#include <ormkit/memory/backend.hpp>
#include <ormkit/redis.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/sqlite.hpp>
#include <ormkit/transaction.hpp>

#include <hiredis/hiredis.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <latch>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

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

using clock_type = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "ormkit_cache_bench: check failed: %s\n", what.c_str());
  std::exit(1);
}

auto make_user(std::int64_t i) -> User {
  User u;
  u.name = "user" + std::to_string(i);
  u.email = u.name + "@example.com";
  u.age = static_cast<int>(18 + i % 60);
  u.score = static_cast<double>(i) * 0.5;
  u.active = i % 3 != 0;
  u.bio = std::string(100, static_cast<char>('a' + i % 26));
  return u;
}

// ns per call of `body(i)` for i in [0, iters), once.
template <class F>
auto once_ns(std::size_t iters, F&& body) -> double {
  const auto t0 = clock_type::now();
  for (std::size_t i = 0; i < iters; ++i) body(i);
  const auto t = std::chrono::duration<double, std::nano>(clock_type::now() - t0).count();
  return t / static_cast<double>(iters);
}

auto median(std::vector<double> v) -> double {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// Median over `runs` of the ns per call of `body(i)` for i in [0, iters).
template <class F>
auto time_ns(std::size_t runs, std::size_t iters, F&& body) -> double {
  std::vector<double> per;
  for (std::size_t r = 0; r < runs; ++r) per.push_back(once_ns(iters, body));
  return median(per);
}

auto parse(const char* s, const char* flag) -> std::size_t {
  char* end = nullptr;
  const auto v = std::strtoull(s, &end, 10);
  if (end == s || *end != '\0' || v == 0) {
    std::fprintf(stderr, "ormkit_cache_bench: %s needs a positive number\n", flag);
    std::exit(2);
  }
  return static_cast<std::size_t>(v);
}

struct load_counter final : ormkit::repository_observer {
  std::atomic<int> gets{0};
  void after(const ormkit::operation_event& e) override {
    if (e.op == ormkit::operation::get) gets.fetch_add(1, std::memory_order_relaxed);
  }
};

volatile std::int64_t sink = 0;  // keeps results observable

}  // namespace

auto main(int argc, char** argv) -> int try {
  std::size_t rows = 10'000, iters = 200'000, runs = 5, rounds = 20;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "usage: %s [--rows N] [--iters M] [--runs K] [--rounds R]\n", argv[0]);
      return 2;
    }
    const auto v = parse(argv[i + 1], argv[i]);
    if (a == "--rows") rows = v;
    else if (a == "--iters") iters = v;
    else if (a == "--runs") runs = v;
    else if (a == "--rounds") rounds = v;
    else {
      std::fprintf(stderr, "usage: %s [--rows N] [--iters M] [--runs K] [--rounds R]\n", argv[0]);
      return 2;
    }
    ++i;
  }

  // The data: N users in a SQLite file (WAL), and the same in a hash map.
  const auto path =
      (std::filesystem::temp_directory_path() / ("ormkit_cache_bench_" + std::to_string(::getpid()) + ".db")).string();
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  auto db = ormkit::sqlite::backend::open({.path = path}).value();
  db->ensure_table(ormkit::schema_of<User>()).value();
  std::vector<User> users;
  for (std::size_t i = 0; i < rows; ++i) users.push_back(make_user(static_cast<std::int64_t>(i)));
  ormkit::repository<User> plain(*db);
  users = ormkit::transact(*db, [&](ormkit::transaction&) { return plain.insert_many(users); }).value();
  std::unordered_map<std::int64_t, User> map;
  for (const auto& u : users) map.emplace(u.id, u);

  std::vector<std::int64_t> order(iters);
  std::mt19937_64 rng(42);
  for (auto& id : order) id = users[rng() % users.size()].id;
  auto expect = [&](const User& got, std::int64_t id, const char* side) {
    const auto it = map.find(id);
    if (it == map.end() || !(got == it->second)) fail(std::string(side) + ": wrong user for id " + std::to_string(id));
  };

  ormkit::cache::memory_store l1({.max_entries = rows * 2, .max_bytes = std::size_t{256} << 20});
  ormkit::repository<User> cached(*db, l1, {.tier = ormkit::cache_tier::long_lived});
  for (const auto& u : users) expect(cached.get(u.id).value(), u.id, "L1 warm-up");

  // Checked passes, then timed ones, the sides taking turns within each run.
  for (std::size_t i = 0; i < std::min<std::size_t>(iters, 1000); ++i) {
    expect(cached.get(order[i]).value(), order[i], "L1 hit");
    expect(plain.get(order[i]).value(), order[i], "sqlite");
    expect(map.at(order[i]), order[i], "unordered_map");
  }
  std::vector<double> r_map, r_l1, r_sql, q_l1;
  for (std::size_t r = 0; r < runs; ++r) {
    r_map.push_back(once_ns(iters, [&](std::size_t i) {
      User u = map.find(order[i])->second;
      sink = sink + u.age;
    }));
    r_l1.push_back(once_ns(iters, [&](std::size_t i) { sink = sink + cached.get(order[i]).value().age; }));
    r_sql.push_back(once_ns(iters, [&](std::size_t i) { sink = sink + plain.get(order[i]).value().age; }));
    q_l1.push_back(r_sql.back() / r_l1.back());
  }
  const double t_map = median(r_map);
  const double t_l1 = median(r_l1);
  const double t_sql = median(r_sql);
  const auto s = cached.cache_stats();
  if (s.loads != users.size()) fail("L1: " + std::to_string(s.loads) + " loads, expected one per row (warm-up)");
  if (l1.stats().hits == 0) fail("L1: the store saw no hits");

  std::printf("ormkit_cache_bench: %zu rows, %zu gets per run, median of %zu runs (ns per get)\n", rows, iters, runs);
#ifndef NDEBUG
  std::printf("note: assertions enabled (not a release build); timings are not representative\n");
#endif
  std::printf("\n### point get\n\n| side             |   ns/get | vs unordered_map | sqlite / side |\n");
  std::printf("|------------------|---------:|-----------------:|--------------:|\n");
  auto row = [&](const char* name, double t, double ratio) {
    std::printf("| %-16s | %8.1f | %15.2fx | %12.1fx |\n", name, t, t / t_map, ratio);
  };
  row("unordered_map", t_map, t_sql / t_map);
  row("L1 hit", t_l1, median(q_l1));
  row("sqlite, no cache", t_sql, 1.0);
  std::printf("\nsqlite / L1 hit per run:");
  for (double q : q_l1) std::printf(" %.1fx", q);
  std::printf("\n");

  // Redis.
  const char* address = std::getenv("ORMKIT_TEST_REDIS");
  if (address == nullptr || *address == '\0') {
    std::printf("\n### redis\n\nskipped: ORMKIT_TEST_REDIS (host:port) is not set\n");
  } else {
    auto server = ormkit::redis::options::from_url(address);
    if (!server) fail("ORMKIT_TEST_REDIS is not host:port");
    const std::string prefix = "cache_bench:" + std::to_string(::getpid()) + ":";
    ormkit::redis::store l2({.server = *server, .key_prefix = prefix, .publish_invalidations = false});
    ormkit::repository<User> through_redis(*db, l2, {.tier = ormkit::cache_tier::long_lived});
    const std::size_t redis_keys = std::min<std::size_t>(users.size(), 1000);
    for (std::size_t i = 0; i < redis_keys; ++i) expect(through_redis.get(users[i].id).value(), users[i].id, "redis warm-up");
    std::vector<std::string> keys(redis_keys), full(redis_keys);
    for (std::size_t i = 0; i < redis_keys; ++i) {
      keys[i] = ormkit::cache_key<User>(users[i].id);
      full[i] = prefix + keys[i];
    }
    redisContext* raw = redisConnect(server->host.c_str(), server->port);
    if (raw == nullptr || raw->err != 0) fail("hiredis: cannot connect");
    auto raw_get = [&](std::size_t i, std::string& out) {
      const char* argv2[2] = {"GET", full[i].data()};
      const std::size_t lens[2] = {3, full[i].size()};
      auto* reply = static_cast<redisReply*>(redisCommandArgv(raw, 2, argv2, lens));
      if (reply == nullptr || reply->type != REDIS_REPLY_STRING) fail("hiredis: GET " + full[i] + " missed");
      out.assign(reply->str, reply->len);
      freeReplyObject(reply);
    };
    // Same bytes on both sides: what hiredis fetches is the store's stored value.
    std::string a, b;
    for (std::size_t i = 0; i < redis_keys; ++i) {
      raw_get(i, a);
      if (!l2.get_into(keys[i], b).value()) fail("redis store: miss on " + keys[i]);
      if (ormkit::decode_cache_value(full[i], a).payload != b) fail("redis store: bytes differ for " + keys[i]);
    }
    const std::size_t redis_iters = std::max<std::size_t>(iters / 20, 100);
    std::vector<std::size_t> pick(redis_iters);
    for (auto& p : pick) p = rng() % redis_keys;
    std::string buf;
    const double t_raw = time_ns(runs, redis_iters, [&](std::size_t i) { raw_get(pick[i], buf); });
    const double t_store = time_ns(runs, redis_iters, [&](std::size_t i) {
      if (!l2.get_into(keys[pick[i]], buf).value()) fail("redis store: miss");
    });
    const double t_repo = time_ns(runs, redis_iters, [&](std::size_t i) {
      sink = sink + through_redis.get(users[pick[i]].id).value().age;
    });
    if (through_redis.cache_stats().loads != redis_keys) fail("redis repository: a timed get went to SQLite");
    redisFree(raw);
    (void)l2.clear();
    std::printf("\n### redis L2 hit (%zu gets per run, %zu-byte values)\n\n", redis_iters, a.size());
    std::printf("| side             |   ns/get | vs raw hiredis |\n|------------------|---------:|---------------:|\n");
    std::printf("| raw hiredis GET  | %8.0f | %13.2fx |\n", t_raw, 1.0);
    std::printf("| store get_into   | %8.0f | %13.2fx |\n", t_store, t_store / t_raw);
    std::printf("| repository get   | %8.0f | %13.2fx |\n", t_repo, t_repo / t_raw);
  }

  // Miss storm: 64 threads on one cold key, over the memory backend (thread-safe).
  {
    ormkit::memory::backend mem;
    mem.ensure_table(ormkit::schema_of<User>()).value();
    load_counter with_cache, without_cache;
    ormkit::cache::memory_store store;
    ormkit::repository<User> sf(mem, store, {}, {.observer = &with_cache});
    ormkit::repository<User> naive(mem, {.observer = &without_cache});
    const auto hot = sf.insert(make_user(1)).value();
    constexpr int threads = 64;
    auto storm = [&](ormkit::repository<User>& repo) {
      std::latch start(threads);
      std::vector<std::thread> pool;
      std::atomic<int> ok{0};
      for (int t = 0; t < threads; ++t)
        pool.emplace_back([&] {
          start.arrive_and_wait();
          auto got = repo.get(hot.id);
          if (got && *got == hot) ok.fetch_add(1);
        });
      for (auto& t : pool) t.join();
      if (ok != threads) fail("miss storm: a thread read the wrong user");
    };
    std::vector<double> per;
    with_cache.gets = 0;
    for (std::size_t r = 0; r < rounds; ++r) {
      (void)store.erase(ormkit::cache_key<User>(hot.id));  // cold again
      const auto t0 = clock_type::now();
      storm(sf);
      per.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
    }
    std::sort(per.begin(), per.end());
    const double sf_loads = static_cast<double>(with_cache.gets.load()) / static_cast<double>(rounds);
    if (with_cache.gets.load() != static_cast<int>(rounds)) fail("miss storm: more than one load per round");
    std::vector<double> per_naive;
    for (std::size_t r = 0; r < rounds; ++r) {
      const auto t0 = clock_type::now();
      storm(naive);
      per_naive.push_back(std::chrono::duration<double, std::micro>(clock_type::now() - t0).count());
    }
    std::sort(per_naive.begin(), per_naive.end());
    const double naive_loads = static_cast<double>(without_cache.gets.load()) / static_cast<double>(rounds);
    std::printf("\n### miss storm (%d threads, one cold key, %zu rounds; median round incl. thread start)\n\n",
                threads, rounds);
    std::printf("| side               | backend loads/round | us/round |\n|--------------------|--------------------:|---------:|\n");
    std::printf("| cache, single flight| %19.1f | %8.0f |\n", sf_loads, per[per.size() / 2]);
    std::printf("| no cache           | %19.1f | %8.0f |\n", naive_loads, per_naive[per_naive.size() / 2]);
  }
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix);
  std::printf("\nall checks passed\n");
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "ormkit_cache_bench: %s\n", e.what());
  return 1;
}
