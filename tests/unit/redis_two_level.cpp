// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// ormkit::redis::two_level_store: L1 hits stay in process; L2 hits fill L1 for
// at most the value's remaining Redis TTL; other stores' invalidations (sets,
// erases, prefix clears) drop L1 copies within 100 ms, across two real
// processes too; its own messages and foreign ones are ignored and counted;
// when Redis stops or freezes it degrades to L1 or a miss without errors on
// reads, and on resubscription it starts L1 afresh.

#include "redis_support.hpp"

#include <ormkit/redis.hpp>

#include "../support/catch.hpp"

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <poll.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

namespace redis_two_level_test {

using namespace std::chrono_literals;
using redis_test::elapsed_ms;
using redis_test::eventually;
using redis_test::steady;
using ormkit::redis::two_level_store;

auto options_for(const ormkit::redis::options& server, const std::string& prefix) -> ormkit::redis::two_level_options {
  ormkit::redis::two_level_options o;
  o.l2.server = server;
  o.l2.key_prefix = prefix;
  o.ttl_jitter = 0;
  return o;
}

auto plain_store(const ormkit::redis::options& server, const std::string& prefix) -> ormkit::redis::store_options {
  ormkit::redis::store_options o;
  o.server = server;
  o.key_prefix = prefix;
  o.ttl_jitter = 0;
  return o;
}

// Milliseconds until `key` leaves `store`'s L1 (or -1 after 2 s).
auto ms_until_dropped(two_level_store& store, std::string_view key, steady::time_point since) -> long long {
  if (!eventually([&] { return !store.l1().contains(key); }, 2000ms)) return -1;
  return elapsed_ms(since);
}

TEST_CASE("two-level: L1 hits stay in process; L2 hits fill L1 for at most the remaining TTL",
          "[redis][two_level]") {
  auto server_opt = redis_test::shared_server();
  if (!server_opt) return;
  const std::string prefix = redis_test::unique_prefix("levels");
  two_level_store cache(options_for(*server_opt, prefix));
  REQUIRE(cache.wait_coherent(5s));
  ormkit::redis::store writer(plain_store(*server_opt, prefix));

  REQUIRE(cache.set("a", "1", 1min).has_value());
  CHECK(cache.get("a").value() == "1");
  CHECK(cache.l1().stats().hits == 1);
  CHECK(cache.l2().stats().hits == 0);

  // Written by another store: the first read goes to L2 and fills L1.
  REQUIRE(writer.set("b", "2", 400ms).has_value());
  REQUIRE(eventually([&] { return cache.coherence().invalidations >= 1; }));  // its set's message arrived
  CHECK(cache.get("b").value() == "2");
  CHECK(cache.l2().stats().hits == 1);
  CHECK(cache.l1().contains("b"));
  std::string out;
  CHECK(cache.get_into("b", out).value());
  CHECK(out == "2");
  CHECK(cache.l2().stats().hits == 1);  // the second read was an L1 hit
  std::this_thread::sleep_for(450ms);
  CHECK_FALSE(cache.l1().contains("b"));  // L1's copy did not outlive Redis's TTL
  CHECK_FALSE(cache.get("b").value().has_value());

  // get_many: L1, then one round trip to L2 for the rest.
  REQUIRE(writer.set("c", "3", 1min).has_value());
  REQUIRE(eventually([&] { return cache.coherence().invalidations >= 2; }));
  const std::string_view keys[] = {"a", "c", "absent"};
  auto many = cache.get_many(keys).value();
  CHECK(many[0] == "1");
  CHECK(many[1] == "3");
  CHECK_FALSE(many[2].has_value());
  CHECK(cache.l1().contains("c"));

  const auto s = cache.stats();
  CHECK(s.hits == 5);
  CHECK(s.misses == 2);
  CHECK(s.errors == 0);
  CHECK(s.entries == 2);

  ormkit::cache_ref ref(cache);
  CHECK(ref.name() == "two_level");
  CHECK(ref.visit("a", [](std::string_view v) { CHECK(v == "1"); }).value());
  CHECK(cache.clear().value() == 2);
}

TEST_CASE("two-level: another store's set, erase and clear drop L1 copies within 100 ms; its own are ignored",
          "[redis][two_level]") {
  auto server_opt = redis_test::shared_server();
  if (!server_opt) return;
  const std::string prefix = redis_test::unique_prefix("coherent");
  two_level_store mine(options_for(*server_opt, prefix));
  two_level_store theirs(options_for(*server_opt, prefix));
  REQUIRE(mine.wait_coherent(5s));
  REQUIRE(theirs.wait_coherent(5s));

  REQUIRE(mine.set("k", "v1", 1min).has_value());
  REQUIRE(mine.set("p:1", "x", 1min).has_value());
  REQUIRE(mine.set("p:2", "x", 1min).has_value());
  REQUIRE(mine.set("q:1", "x", 1min).has_value());
  REQUIRE(eventually([&] { return mine.coherence().own_messages >= 4; }));
  CHECK(mine.l1().contains("k"));  // its own messages did not drop its own values
  CHECK(mine.coherence().invalidations == 0);

  auto t0 = steady::now();
  REQUIRE(theirs.set("k", "v2", 1min).has_value());
  const auto after_set = ms_until_dropped(mine, "k", t0);
  CHECK(after_set >= 0);
  CHECK(after_set < 100);
  CHECK(mine.get("k").value() == "v2");  // from L2, the other store's value

  t0 = steady::now();
  REQUIRE(theirs.erase("k").has_value());
  const auto after_erase = ms_until_dropped(mine, "k", t0);
  CHECK(after_erase >= 0);
  CHECK(after_erase < 100);
  CHECK_FALSE(mine.get("k").value().has_value());

  t0 = steady::now();
  CHECK(theirs.clear("p:").value() == 2);
  CHECK(ms_until_dropped(mine, "p:1", t0) < 100);
  CHECK_FALSE(mine.l1().contains("p:2"));
  CHECK(mine.l1().contains("q:1"));

  // Messages that are not invalidations are counted and ignored.
  ormkit::redis::client raw(*server_opt);
  REQUIRE(raw.command({"PUBLISH", mine.l2().channel(), "hello"}).value().integer() == 2);
  REQUIRE(eventually([&] { return mine.coherence().foreign_messages == 1; }));
  CHECK(mine.l1().contains("q:1"));
  CHECK(mine.clear().value() == 1);
}

TEST_CASE("two-level: readers racing a writer never leave a value older than the writer's last write in L1",
          "[redis][two_level][threads]") {
  auto server_opt = redis_test::shared_server();
  if (!server_opt) return;
  const std::string prefix = redis_test::unique_prefix("race");
  two_level_store cache(options_for(*server_opt, prefix));
  REQUIRE(cache.wait_coherent(5s));
  const std::vector<std::string> keys = {"a", "b", "c"};

  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> reads{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      std::string out;
      while (!done.load()) {
        for (const auto& k : keys) {
          (void)cache.get_into(k, out);  // misses fill L1 from L2, racing the writer
          ++reads;
        }
      }
    });
  }
  for (int i = 0; i < 300; ++i) {
    for (const auto& k : keys) {
      REQUIRE(cache.set(k, "v" + std::to_string(i), 1min).has_value());
      if (i % 3 == 0) REQUIRE(cache.erase(k).has_value());
    }
  }
  for (const auto& k : keys) REQUIRE(cache.set(k, "final", 1min).has_value());
  // The last writes have returned: from here on every read sees them, while readers still run.
  for (int round = 0; round < 50; ++round)
    for (const auto& k : keys) CHECK(cache.get(k).value() == "final");
  done = true;
  for (auto& r : readers) r.join();
  for (const auto& k : keys) CHECK(cache.get(k).value() == "final");
  CHECK(reads.load() > 0);
  CHECK(cache.stats().errors == 0);
  CHECK(cache.clear().value() == 3);
}

TEST_CASE("two-level: a value too large for L1 lives in L2 only; a value L2 refuses is stored nowhere",
          "[redis][two_level]") {
  auto server_opt = redis_test::shared_server();
  if (!server_opt) return;
  auto o = options_for(*server_opt, redis_test::unique_prefix("sizes"));
  o.l1.max_bytes = 1024;
  o.l1.shards = 1;
  o.l2.max_value_bytes = 4096;
  two_level_store cache(o);
  REQUIRE(cache.wait_coherent(5s));

  const std::string big(2000, 'b');
  REQUIRE(cache.set("big", big, 1min).has_value());
  CHECK_FALSE(cache.l1().contains("big"));
  CHECK(cache.get("big").value() == big);  // from L2; not copied into L1 either
  CHECK_FALSE(cache.l1().contains("big"));
  CHECK(cache.l1().stats().errors == 0);

  REQUIRE(cache.set("huge", "old", 1min).has_value());
  auto st = cache.set("huge", std::string(5000, 'h'), 1min);
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().is(ormkit::errc::invalid_argument));
  CHECK_FALSE(cache.l1().contains("huge"));
  CHECK_FALSE(cache.get("huge").value().has_value());

  st = cache.set("neg", "x", -1ms);
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().is(ormkit::errc::invalid_argument));
  CHECK_FALSE(cache.get("neg").value().has_value());
  CHECK(cache.stats().errors == 2);
  CHECK(cache.clear().value() == 1);
}

namespace {

// Fixed-size messages between the two processes: a tag and a number.
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

// Reads one message within 10 s; tag 0 on timeout or end of file.
auto receive(int fd) -> message {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 10'000) != 1) return {};
  message m;
  return ::read(fd, &m, sizeof m) == static_cast<ssize_t>(sizeof m) ? m : message{};
}

// Waits until `key` leaves L1; returns nanoseconds since `since_ns`, or -1.
auto dropped_after(two_level_store& store, std::string_view key, std::int64_t since_ns) -> std::int64_t {
  const auto end = steady::now() + 2s;
  while (store.l1().contains(key)) {
    if (steady::now() > end) return -1;
    std::this_thread::sleep_for(100us);
  }
  return now_ns() - since_ns;
}

// The second process. Exit codes name the step that failed.
auto child_main(const ormkit::redis::options& server, const std::string& prefix, int out, int in) -> int {
  two_level_store cache(options_for(server, prefix));
  if (!cache.wait_coherent(5s)) return 10;
  if (!cache.set("k1", "v1", 1min) || !cache.set("k2", "v2", 1min)) return 11;
  if (!send(out, 'R', 0)) return 12;

  message m = receive(in);  // the parent erased k1
  if (m.tag != 'E') return 13;
  if (!send(out, 'L', dropped_after(cache, "k1", m.value))) return 14;

  m = receive(in);  // the parent set k2 to "v2b"
  if (m.tag != 'S') return 15;
  if (!send(out, 'L', dropped_after(cache, "k2", m.value))) return 16;
  auto k2 = cache.get("k2");
  if (!k2 || !*k2 || **k2 != "v2b") return 17;

  const std::int64_t t0 = now_ns();  // now this process erases the parent's k3
  if (!cache.erase("k3")) return 18;
  if (!send(out, 'X', t0)) return 19;
  if (receive(in).tag != 'D') return 20;
  return 0;
}

}  // namespace

TEST_CASE("two-level: two processes see each other's invalidations within 100 ms",
          "[redis][two_level][process]") {
  auto server_opt = redis_test::shared_server();
  if (!server_opt) return;
  const std::string prefix = redis_test::unique_prefix("procs");
  int to_parent[2], to_child[2];
  REQUIRE(::pipe(to_parent) == 0);
  REQUIRE(::pipe(to_child) == 0);
  // Fork before this process has any thread or connection of its own.
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(to_parent[0]);
    ::close(to_child[1]);
    ::_exit(child_main(*server_opt, prefix, to_parent[1], to_child[0]));
  }
  ::close(to_parent[1]);
  ::close(to_child[0]);

  {
    two_level_store cache(options_for(*server_opt, prefix));
    REQUIRE(cache.wait_coherent(5s));
    REQUIRE(cache.set("k3", "v3", 1min).has_value());
    REQUIRE(receive(to_parent[0]).tag == 'R');

    REQUIRE(send(to_child[1], 'E', now_ns()));
    REQUIRE(cache.erase("k1").has_value());
    message m = receive(to_parent[0]);
    REQUIRE(m.tag == 'L');
    INFO("the child dropped k1 after " << m.value / 1000 << " us");
    CHECK(m.value >= 0);
    CHECK(m.value < 100'000'000);

    const std::int64_t t_set = now_ns();
    REQUIRE(cache.set("k2", "v2b", 1min).has_value());
    REQUIRE(send(to_child[1], 'S', t_set));
    m = receive(to_parent[0]);
    REQUIRE(m.tag == 'L');
    INFO("the child dropped k2 after " << m.value / 1000 << " us");
    CHECK(m.value >= 0);
    CHECK(m.value < 100'000'000);

    m = receive(to_parent[0]);
    REQUIRE(m.tag == 'X');
    const auto latency = dropped_after(cache, "k3", m.value);
    INFO("this process dropped k3 after " << latency / 1000 << " us");
    CHECK(latency >= 0);
    CHECK(latency < 100'000'000);
    CHECK(cache.coherence().invalidations >= 1);
    REQUIRE(send(to_child[1], 'D', 0));
    (void)cache.clear();
  }

  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  ::close(to_parent[0]);
  ::close(to_child[1]);
  INFO("child exit code " << (WIFEXITED(status) ? WEXITSTATUS(status) : -1));
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}

TEST_CASE("two-level: with Redis stopped, reads degrade to L1 or a miss; after a restart L1 starts afresh",
          "[redis][two_level][faults]") {
  if (!redis_test::private_servers_allowed()) return;
  redis_test::private_server redis;
  auto o = options_for(redis.options(200ms), "deg:");
  o.heartbeat = 100ms;
  two_level_store cache(o);
  REQUIRE(cache.wait_coherent(5s));
  REQUIRE(cache.set("k", "v", 1min).has_value());

  redis.stop();
  REQUIRE(eventually([&] { return !cache.coherent(); }, 2000ms));
  auto t0 = steady::now();
  auto hit = cache.get("k");
  REQUIRE(hit.has_value());  // never an error on a read
  CHECK(*hit == "v");        // served from L1
  auto miss = cache.get("absent");
  REQUIRE(miss.has_value());
  CHECK_FALSE(miss->has_value());
  CHECK(elapsed_ms(t0) < 300);
  CHECK(cache.stats().errors >= 1);

  auto st = cache.set("k2", "local", 1min);  // L2 fails: reported, but this process reads its own write
  CHECK_FALSE(st.has_value());
  CHECK(cache.get("k2").value() == "local");

  redis.start();
  REQUIRE(cache.wait_coherent(5s));
  CHECK_FALSE(cache.l1().contains("k"));  // invalidations may have been missed: L1 was cleared
  CHECK(cache.coherence().subscriptions == 2);
  CHECK(cache.coherence().disconnects == 1);
  CHECK(eventually([&] { return cache.set("k", "again", 1min).has_value(); }));
  CHECK(cache.get("k").value() == "again");

  SECTION("without serve_l1_while_disconnected, L1 is dropped as soon as the subscription is lost") {
    auto strict_options = options_for(redis.options(200ms), "strict:");
    strict_options.heartbeat = 100ms;
    strict_options.serve_l1_while_disconnected = false;
    two_level_store strict(strict_options);
    REQUIRE(strict.wait_coherent(5s));
    REQUIRE(strict.set("k", "v", 1min).has_value());
    CHECK(strict.l1().contains("k"));
    redis.stop();
    REQUIRE(eventually([&] { return !strict.coherent(); }, 2000ms));
    CHECK_FALSE(strict.l1().contains("k"));
    CHECK_FALSE(strict.get("k").value().has_value());
  }
}

TEST_CASE("two-level: a frozen Redis is noticed by the heartbeat; thawed, coherence returns",
          "[redis][two_level][faults]") {
  if (!redis_test::private_servers_allowed()) return;
  redis_test::private_server redis;
  auto o = options_for(redis.options(200ms), "frozen:");
  o.heartbeat = 100ms;
  two_level_store cache(o);
  REQUIRE(cache.wait_coherent(5s));
  REQUIRE(cache.set("k", "v", 1min).has_value());

  redis.freeze();
  const auto t0 = steady::now();
  REQUIRE(eventually([&] { return !cache.coherent(); }, 2000ms));
  CHECK(elapsed_ms(t0) < 600);  // heartbeat + timeout, with slack
  CHECK(cache.get("k").value() == "v");

  redis.thaw();
  REQUIRE(cache.wait_coherent(5s));
  CHECK(cache.coherence().disconnects >= 1);
  CHECK_FALSE(cache.l1().contains("k"));
  CHECK(cache.get("k").value() == "v");  // from L2, which kept it
}

}  // namespace redis_two_level_test
