// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// ormkit::redis::store when Redis misbehaves, against redis-servers the tests
// start, stop, freeze and restart themselves (redis_support.hpp):
// - nothing listening: errc::unavailable at once, counted; then fail-fast;
// - a connect that never completes (full accept queue): errc::timeout within
//   the connect budget;
// - a frozen server (SIGSTOP; reliability.md finding 9: connects still succeed):
//   errc::timeout within the read budget, also for 8 threads at once; used again
//   after SIGCONT;
// - a server stopped mid-test: errors, no hang; restarted: used again (reconnect);
// - a server that crashes and comes back with persisted old data (F22): the
//   invalidation that failed meanwhile is replayed before anything is read;
// - a failed invalidate / invalidate_scope is replayed as a marker / an INCR, so
//   another process's fill guarded before it is still refused;
// - clear() uses SCAN, never KEYS (checked in INFO commandstats);
// - AUTH: a wrong or missing password is an error that never shows the password.

#include "redis_support.hpp"

#include <ormkit/redis.hpp>

#include "../support/catch.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace redis_faults_test {

using namespace std::chrono_literals;
using redis_test::elapsed_ms;
using redis_test::eventually;
using redis_test::steady;

auto store_options(const ormkit::redis::options& server) -> ormkit::redis::store_options {
  ormkit::redis::store_options o;
  o.server = server;
  o.key_prefix = "faults:";
  o.ttl_jitter = 0;
  return o;
}

TEST_CASE("redis faults: nothing listening is errc::unavailable at once, counted, then fails fast",
          "[redis][faults]") {
  if (!redis_test::private_servers_allowed()) return;
  auto server = ormkit::redis::options::from_url("127.0.0.1:" + std::to_string(redis_test::free_port())).value();
  server.connect_timeout = 300ms;
  server.timeout = 300ms;
  server.retry_interval = 200ms;
  ormkit::redis::store cache(store_options(server));

  auto t0 = steady::now();
  auto r = cache.get("k");
  CHECK(elapsed_ms(t0) < 250);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(ormkit::errc::unavailable));
  CHECK(r.error().message.find("redis " + server.endpoint() + ": cannot connect: ") == 0);
  CHECK(r.error().message.find("(key \"faults:k\")") != std::string::npos);

  t0 = steady::now();
  auto st = cache.set("k", "v", 1s);
  CHECK(elapsed_ms(t0) < 20);
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().is(ormkit::errc::unavailable));
  CHECK(st.error().message.find("next attempt in") != std::string::npos);
  CHECK(cache.stats().errors == 2);
  CHECK(cache.stats().misses == 1);
  CHECK(cache.connection_pool().stats().fast_failures == 1);
  CHECK(cache.connection_pool().stats().connect_failures == 1);

  // After the retry interval it tries the network again (and fails again, counted).
  std::this_thread::sleep_for(250ms);
  CHECK_FALSE(cache.get("k").has_value());
  CHECK(cache.connection_pool().stats().connect_failures == 2);
}

TEST_CASE("redis faults: a connect that never completes is errc::timeout within the connect budget",
          "[redis][faults]") {
  if (!redis_test::private_servers_allowed()) return;
  // A listener that never accepts, with an accept queue of one already full:
  // Linux drops further SYNs, so a new connect hangs until the client gives up.
  const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(listener >= 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
  REQUIRE(::listen(listener, 0) == 0);
  socklen_t len = sizeof a;
  REQUIRE(::getsockname(listener, reinterpret_cast<sockaddr*>(&a), &len) == 0);
  std::vector<int> fillers;
  for (int i = 0; i < 4; ++i) {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    REQUIRE(fd >= 0);
    (void)::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    fillers.push_back(fd);
  }
  std::this_thread::sleep_for(50ms);

  ormkit::redis::options server;
  server.port = ntohs(a.sin_port);
  server.connect_timeout = 300ms;
  server.timeout = 300ms;
  ormkit::redis::store cache(store_options(server));
  const auto t0 = steady::now();
  auto r = cache.get("k");
  const auto took = elapsed_ms(t0);
  CHECK(took >= 250);
  CHECK(took < 1000);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(ormkit::errc::timeout));
  CHECK(r.error().message.find("connect timed out after 300 ms") != std::string::npos);
  CHECK(cache.stats().errors == 1);

  for (int fd : fillers) ::close(fd);
  ::close(listener);
}

TEST_CASE("redis faults: a frozen server (SIGSTOP) times out within the budget, for 8 threads too, and is "
          "used again after SIGCONT",
          "[redis][faults]") {
  if (!redis_test::private_servers_allowed()) return;
  redis_test::private_server redis;
  auto server = redis.options(200ms);
  ormkit::redis::store cache(store_options(server));
  REQUIRE(cache.set("k", "v", 1min).has_value());
  REQUIRE(cache.get("k").value() == "v");

  redis.freeze();
  auto t0 = steady::now();
  auto r = cache.get("k");
  auto took = elapsed_ms(t0);
  CHECK(took >= 190);
  CHECK(took < 500);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(ormkit::errc::timeout));
  CHECK(r.error().message == "redis " + redis.options().endpoint() +
                                 ": GET: no reply within 200 ms (key \"faults:k\")");

  // Within the retry interval: no waiting at all.
  t0 = steady::now();
  CHECK_FALSE(cache.set("k", "w", 1min).has_value());
  CHECK(elapsed_ms(t0) < 20);

  // After it: a new connection succeeds (the kernel accepts for the frozen
  // process), and only the read deadline catches it. 8 threads at once, each
  // within its budget, whether it got a connection or waited for one.
  std::this_thread::sleep_for(150ms);
  std::atomic<long long> slowest{0};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&] {
      const auto start = steady::now();
      if (!cache.get("k").has_value()) ++errors;
      const auto ms = elapsed_ms(start);
      long long seen = slowest.load();
      while (ms > seen && !slowest.compare_exchange_weak(seen, ms)) {
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(errors.load() == 8);
  CHECK(slowest.load() < 500);
  const auto s = cache.stats();
  CHECK(s.errors == 1 + 1 + 8);
  CHECK(cache.connection_pool().stats().timeouts >= 2);

  redis.thaw();
  CHECK(eventually([&] {
    auto v = cache.get("k");
    return v.has_value() && *v == "v";
  }));
}

TEST_CASE("redis faults: a server stopped mid-test gives counted errors without hanging; restarted, it is "
          "used again",
          "[redis][faults]") {
  if (!redis_test::private_servers_allowed()) return;
  redis_test::private_server redis;
  ormkit::redis::store cache(store_options(redis.options(300ms)));
  for (int i = 0; i < 10; ++i) REQUIRE(cache.set("k" + std::to_string(i), "v", 1min).has_value());

  redis.stop();
  const auto t0 = steady::now();
  int failed = 0;
  for (int i = 0; i < 10; ++i) {
    const auto start = steady::now();
    if (!cache.get("k" + std::to_string(i)).has_value()) ++failed;
    CHECK(elapsed_ms(start) < 300);
  }
  CHECK(failed == 10);
  CHECK(elapsed_ms(t0) < 1000);
  CHECK(cache.stats().errors == 10);
  const std::string_view keys[] = {"k1", "k2"};
  auto many = cache.get_many(keys);
  REQUIRE_FALSE(many.has_value());
  CHECK(many.error().is(ormkit::errc::unavailable));
  CHECK(many.error().message.find("(key \"faults:k1\" and 1 more)") != std::string::npos);

  redis.start();  // same port, no persistence: a cold cache
  CHECK(eventually([&] { return cache.get("k1").has_value(); }));
  CHECK_FALSE(cache.get("k1").value().has_value());
  REQUIRE(cache.set("k1", "again", 1min).has_value());
  CHECK(cache.get("k1").value() == "again");
  CHECK(cache.connection_pool().stats().connects >= 2);
}

TEST_CASE("redis faults: an idle pooled connection to a restarted server is replaced without an error",
          "[redis][faults]") {
  if (!redis_test::private_servers_allowed()) return;
  redis_test::private_server redis;
  ormkit::redis::store cache(store_options(redis.options(500ms)));
  REQUIRE(cache.set("k", "v", 1min).has_value());
  redis.stop();
  redis.start();
  // The pooled connection is dead; the store finds out, reconnects and retries once.
  auto r = cache.get("k");
  REQUIRE(r.has_value());
  CHECK_FALSE(r->has_value());  // cold after the restart
  CHECK(cache.stats().errors == 0);
  CHECK(cache.connection_pool().stats().retries == 1);
}

TEST_CASE("redis faults: an invalidation that failed while Redis was down is replayed before the next read "
          "(a restart with persisted old data serves nothing stale)",
          "[redis][faults]") {
  if (!redis_test::private_servers_allowed()) return;
  redis_test::private_server redis({"--appendonly", "yes", "--appendfsync", "always"});
  auto server = redis.options(300ms);
  ormkit::redis::store cache(store_options(server));
  REQUIRE(cache.set("user:1", "v1", 1min).has_value());

  redis.crash();
  auto erased = cache.erase("user:1");  // the database changed; the cache must forget v1
  REQUIRE_FALSE(erased.has_value());
  CHECK(erased.error().is(ormkit::errc::unavailable));
  CHECK(cache.pending_invalidations() == 1);

  redis.start();
  {
    ormkit::redis::client raw(server);
    CHECK(raw.command({"EXISTS", "faults:user:1"}).value().integer() == 1);  // AOF brought v1 back
  }
  std::this_thread::sleep_for(150ms);  // past the retry interval
  auto r = cache.get("user:1");
  REQUIRE(r.has_value());
  CHECK_FALSE(r->has_value());
  CHECK(cache.pending_invalidations() == 0);
  ormkit::redis::client raw(server);
  CHECK(raw.command({"EXISTS", "faults:user:1"}).value().integer() == 0);

  SECTION("a failed clear(prefix) is replayed the same way") {
    REQUIRE(cache.set("p:1", "x", 1min).has_value());
    REQUIRE(cache.set("p:2", "x", 1min).has_value());
    redis.crash();
    CHECK_FALSE(cache.clear("p:").has_value());
    CHECK(cache.pending_invalidations() == 1);
    redis.start();
    std::this_thread::sleep_for(150ms);
    CHECK(eventually([&] { return cache.get("p:1").has_value(); }));
    CHECK_FALSE(cache.get("p:1").value().has_value());
    CHECK_FALSE(cache.get("p:2").value().has_value());
    CHECK(cache.pending_invalidations() == 0);
  }
}

TEST_CASE("redis faults: a failed invalidate is replayed as a fresh marker and a failed scope move as an INCR, "
          "so fills guarded before them stay refused",
          "[redis][faults][guard]") {
  if (!redis_test::private_servers_allowed()) return;
  redis_test::private_server redis;
  auto server = redis.options(300ms);
  ormkit::redis::store writer(store_options(server));  // process A: commits, then invalidates
  ormkit::redis::store reader(store_options(server));  // process B: read before A's commit, fills after
  std::string out;

  // B misses and arms its guards (the key is absent, the scope never moved).
  ormkit::cache_guard key_guard, scope_guard;
  REQUIRE_FALSE(reader.get_guarded("user:1", "users#epoch", out, key_guard).value());
  REQUIRE_FALSE(reader.get_guarded("user:2", "users#epoch", out, scope_guard).value());

  // A's invalidations fail: Redis is down.
  redis.stop();
  auto inv = writer.invalidate("user:1", 10s);
  REQUIRE_FALSE(inv.has_value());
  CHECK(inv.error().is(ormkit::errc::unavailable));
  auto moved = writer.invalidate_scope("users#epoch");
  REQUIRE_FALSE(moved.has_value());
  CHECK(moved.error().is(ormkit::errc::unavailable));
  CHECK(writer.invalidate_scope("users#epoch").has_value() == false);  // the same scope is kept once
  CHECK(writer.pending_invalidations() == 2);

  redis.start();
  std::this_thread::sleep_for(150ms);  // past the retry interval
  // A's next command replays both before it runs.
  CHECK(eventually([&] { return writer.get("anything").has_value(); }));
  CHECK(writer.pending_invalidations() == 0);

  // A replayed DEL would leave the key absent, as B's guard saw it, and B's old row
  // would be stored; the replayed marker and scope move refuse both fills.
  CHECK_FALSE(reader.set_guarded("user:1", "users#epoch", "stale", 60s, key_guard).value());
  CHECK_FALSE(reader.set_guarded("user:2", "users#epoch", "stale", 60s, scope_guard).value());
  CHECK_FALSE(reader.get("user:1").value().has_value());  // the marker reads as a miss
  CHECK_FALSE(reader.get("user:2").value().has_value());
  CHECK(reader.stats().corrupt == 0);
  ormkit::redis::client raw(server);
  const auto ttl = raw.command({"PTTL", "faults:user:1"}).value().integer();
  CHECK(ttl > 5000);  // held for the invalidation's 10 s, counted from the replay
  CHECK(ttl <= 10000);

  // Fills guarded after the replay are stored.
  ormkit::cache_guard fresh;
  REQUIRE_FALSE(reader.get_guarded("user:1", "users#epoch", out, fresh).value());
  CHECK(reader.set_guarded("user:1", "users#epoch", "new", 60s, fresh).value());
  CHECK(reader.get("user:1").value() == "new");
}

TEST_CASE("redis faults: clear() walks the keyspace with SCAN, never KEYS", "[redis][faults]") {
  if (!redis_test::private_servers_allowed()) return;
  redis_test::private_server redis;
  auto o = store_options(redis.options(2000ms));
  o.batch_size = 50;
  ormkit::redis::store cache(o);
  ormkit::redis::client raw(redis.options(2000ms));
  for (int i = 0; i < 300; ++i) REQUIRE(cache.set("k" + std::to_string(i), "v", 1min).has_value());
  raw.command({"SET", "other:key", "not ours"}).value();
  CHECK(cache.clear().value() == 300);
  CHECK(raw.command({"DBSIZE"}).value().integer() == 1);
  const std::string stats(raw.command({"INFO", "commandstats"}).value().str());
  CHECK(stats.find("cmdstat_scan:") != std::string::npos);
  CHECK(stats.find("cmdstat_keys:") == std::string::npos);
}

TEST_CASE("redis faults: AUTH failures are errors that never show the password", "[redis][faults]") {
  if (!redis_test::private_servers_allowed()) return;
  redis_test::private_server redis({"--requirepass", "CANARY-7f3a9-right"});
  auto server = redis.options(500ms);

  SECTION("no password") {
    ormkit::redis::store cache(store_options(server));
    auto r = cache.get("k");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().native == "NOAUTH");
    CHECK(cache.stats().errors == 1);
  }
  SECTION("a wrong password, with and without a user") {
    server.password = "CANARY-7f3a9-wrong";
    ormkit::redis::store cache(store_options(server));
    auto r = cache.get("k");
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().native == "WRONGPASS");
    CHECK(r.error().message.find("AUTH") != std::string::npos);
    CHECK(r.error().message.find("CANARY") == std::string::npos);
    CHECK(server.redacted_url().find("CANARY") == std::string::npos);

    server.username = "default";
    ormkit::redis::store with_user(store_options(server));
    auto u = with_user.set("k", "v", 1s);
    REQUIRE_FALSE(u.has_value());
    CHECK(u.error().message.find("(user \"default\")") != std::string::npos);
    CHECK(u.error().message.find("CANARY") == std::string::npos);
  }
  SECTION("the right password, through a URL with a database number") {
    auto from_url = ormkit::redis::options::from_url("redis://:CANARY-7f3a9-right@127.0.0.1:" +
                                                     std::to_string(redis.port()) + "/2")
                        .value();
    ormkit::redis::store cache(store_options(from_url));
    REQUIRE(cache.set("k", "v", 1min).has_value());
    CHECK(cache.get("k").value() == "v");
    ormkit::redis::client raw(from_url);
    CHECK(raw.command({"DBSIZE"}).value().integer() == 1);
    from_url.database = 0;
    ormkit::redis::client db0(from_url);
    CHECK(db0.command({"DBSIZE"}).value().integer() == 0);
  }
}

}  // namespace redis_faults_test
