// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// ormkit::redis::store and ormkit::redis::client against a real redis-server
// (the one scripts/test.sh starts; see redis_support.hpp):
// - set / get / expiry with millisecond TTLs, checked with PTTL on the server;
// - get_many / set_many / erase_many in pipelines larger than one batch;
// - binary values and hostile keys (NUL, CR/LF, RESP fragments, spaces) stored
//   literally: no command is ever built from user bytes;
// - key prefixes keep applications apart; clear(prefix) touches only its keys;
// - corrupt, truncated, foreign, moved and wrong-type values read as misses and
//   are counted;
// - bad input (negative TTL, oversized value) names the key with its prefix;
// - URL parsing and password redaction.

#include "redis_support.hpp"

#include <ormkit/redis.hpp>

#include "../support/catch.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace redis_store_test {

using namespace std::chrono_literals;
using namespace std::string_literals;
using redis_test::unique_prefix;

auto make_store(const ormkit::redis::options& server, std::string prefix) -> ormkit::redis::store_options {
  ormkit::redis::store_options o;
  o.server = server;
  o.key_prefix = std::move(prefix);
  o.ttl_jitter = 0;
  return o;
}

// Every key on the server under `prefix`, read with SCAN through a raw client.
auto keys_under(ormkit::redis::client& raw, const std::string& prefix) -> std::set<std::string> {
  std::set<std::string> out;
  std::string cursor = "0";
  do {
    auto page = raw.command({"SCAN", cursor, "MATCH", prefix + "*", "COUNT", "1000"}).value();
    cursor = std::string(page[0].str());
    for (std::size_t i = 0; i < page[1].size(); ++i) out.emplace(page[1][i].str());
  } while (cursor != "0");
  return out;
}

TEST_CASE("redis store: set and get round-trip; TTLs are milliseconds on the server; values expire",
          "[redis][store]") {
  auto server_opt = redis_test::shared_server();
  if (!server_opt) return;
  const std::string prefix = unique_prefix("ttl");
  ormkit::redis::store cache(make_store(*server_opt, prefix));
  ormkit::redis::client raw(*server_opt);

  REQUIRE(cache.set("short", "value", 300ms).has_value());
  REQUIRE(cache.set("forever", "value", ormkit::no_expiry).has_value());
  CHECK(cache.get("short").value() == "value");
  const auto pttl = raw.command({"PTTL", prefix + "short"}).value().integer();
  CHECK(pttl > 0);
  CHECK(pttl <= 300);
  CHECK(raw.command({"PTTL", prefix + "forever"}).value().integer() == -1);

  std::this_thread::sleep_for(400ms);
  CHECK_FALSE(cache.get("short").value().has_value());
  CHECK(cache.get("forever").value() == "value");

  std::string out;
  CHECK(cache.get_into("forever", out).value());
  CHECK(out == "value");
  CHECK(cache.visit("forever", [&](std::string_view v) { CHECK(v == "value"); }).value());
  CHECK(cache.erase("forever").value());
  CHECK_FALSE(cache.erase("forever").value());
  CHECK_FALSE(cache.get("forever").value().has_value());

  const auto s = cache.stats();
  CHECK(s.sets == 2);
  CHECK(s.hits == 4);
  CHECK(s.misses == 2);
  CHECK(s.erases == 1);
  CHECK(s.errors == 0);
  CHECK(s.entries == 0);

  SECTION("jitter shortens the TTL on the server, within bounds") {
    auto o = make_store(*server_opt, prefix);
    o.ttl_jitter = 0.5;
    ormkit::redis::store jittered(o);
    std::set<long long> seen;
    for (int i = 0; i < 40; ++i) {
      const std::string key = "j" + std::to_string(i);
      REQUIRE(jittered.set(key, "v", 10'000ms).has_value());
      const auto t = raw.command({"PTTL", prefix + key}).value().integer();
      CHECK(t > 4900);
      CHECK(t <= 10'000);
      seen.insert(t / 100);
    }
    CHECK(seen.size() > 5);
    CHECK(jittered.clear().value() == 40);
  }
}

TEST_CASE("redis store: batches larger than one pipeline command, in order, with misses in between",
          "[redis][store]") {
  auto server_opt = redis_test::shared_server();
  if (!server_opt) return;
  auto o = make_store(*server_opt, unique_prefix("batch"));
  o.batch_size = 64;  // 600 keys: 10 MGETs and 10 DELs in one round trip each
  ormkit::redis::store cache(o);

  std::vector<std::string> keys, values;
  for (int i = 0; i < 600; ++i) {
    keys.push_back("k" + std::to_string(i));
    values.push_back(std::string(static_cast<std::size_t>(i % 50), static_cast<char>('a' + i % 26)) + "\0"s);
  }
  std::vector<ormkit::cache_entry> entries;
  for (std::size_t i = 0; i < keys.size(); i += 2) entries.push_back({keys[i], values[i]});  // even ones only
  REQUIRE(cache.set_many(entries, 1min).has_value());
  CHECK(cache.stats().sets == 300);

  std::vector<std::string_view> wanted(keys.begin(), keys.end());
  auto got = cache.get_many(wanted).value();
  REQUIRE(got.size() == 600);
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("key " << keys[i]);
    if (i % 2 == 0) CHECK(got[i] == values[i]);
    else CHECK_FALSE(got[i].has_value());
  }
  CHECK(cache.stats().hits == 300);
  CHECK(cache.stats().misses == 300);
  CHECK(cache.erase_many(wanted).value() == 300);
  CHECK(cache.get_many(wanted).value() == std::vector<std::optional<std::string>>(600));
  const std::vector<std::string_view> none;
  CHECK(cache.get_many(none).value().empty());
  CHECK(cache.erase_many(none).value() == 0);
}

TEST_CASE("redis store: binary values and hostile keys are stored literally, never as commands",
          "[redis][store]") {
  auto server_opt = redis_test::shared_server();
  if (!server_opt) return;
  const std::string prefix = unique_prefix("inject");
  ormkit::redis::store cache(make_store(*server_opt, prefix));
  ormkit::redis::client raw(*server_opt);
  const std::string canary = prefix + "CANARY";

  const std::vector<std::string> keys = {
      "a key with spaces",
      "line\r\nbreak",
      "nul\0inside"s,
      "x\r\n*3\r\n$3\r\nSET\r\n$" + std::to_string(canary.size()) + "\r\n" + canary + "\r\n$1\r\n1\r\n",
      "\"quotes\" and 'single' and \\backslash",
      "",
      std::string(1000, 'k'),
  };
  const std::vector<std::string> values = {
      ""s,
      "\0"s,
      "\r\n"s,
      "*1\r\n$8\r\nFLUSHALL\r\n"s,
      std::string("\x00\x01\xfe\xff", 4),
      "$-1\r\n"s,
      std::string(100'000, '\0') + "end",
  };
  for (std::size_t i = 0; i < keys.size(); ++i) REQUIRE(cache.set(keys[i], values[i], 1min).has_value());
  for (std::size_t i = 0; i < keys.size(); ++i) {
    INFO("key #" << i);
    CHECK(cache.get(keys[i]).value() == values[i]);
  }
  // Exactly the keys we wrote exist under the prefix, byte for byte; no injected SET ran.
  std::set<std::string> expected;
  for (const auto& k : keys) expected.insert(prefix + k);
  CHECK(keys_under(raw, prefix) == expected);
  CHECK(raw.command({"EXISTS", canary}).value().integer() == 0);
  CHECK(cache.erase_many(std::vector<std::string_view>(keys.begin(), keys.end())).value() == keys.size());
}

TEST_CASE("redis store: key prefixes keep applications apart; clear(prefix) removes only its own keys",
          "[redis][store]") {
  auto server_opt = redis_test::shared_server();
  if (!server_opt) return;
  const std::string base = unique_prefix("apps");
  ormkit::redis::store shop(make_store(*server_opt, base + "shop:"));
  ormkit::redis::store blog(make_store(*server_opt, base + "blog:"));
  REQUIRE(shop.set("users:1", "shop user", 1min).has_value());
  REQUIRE(blog.set("users:1", "blog user", 1min).has_value());
  CHECK(shop.get("users:1").value() == "shop user");
  CHECK(blog.get("users:1").value() == "blog user");

  for (int i = 0; i < 700; ++i) REQUIRE(shop.set("sessions:" + std::to_string(i), "s", 1min).has_value());
  REQUIRE(shop.set("sessionsX", "not under sessions:", 1min).has_value());
  REQUIRE(blog.set("sessions:1", "blog session", 1min).has_value());
  // Glob characters in a prefix are literal.
  REQUIRE(shop.set("we*ird?[x]\\:1", "w", 1min).has_value());
  REQUIRE(shop.set("weXirdY[x]\\:2", "w", 1min).has_value());

  CHECK(shop.clear("sessions:").value() == 700);
  CHECK(shop.get("sessionsX").value().has_value());
  CHECK(shop.get("users:1").value().has_value());
  CHECK(blog.get("sessions:1").value() == "blog session");
  CHECK(shop.clear("we*ird?[x]\\").value() == 1);
  CHECK(shop.get("weXirdY[x]\\:2").value().has_value());

  CHECK(shop.clear().value() == 3);  // users:1, sessionsX, weXirdY...
  CHECK(blog.get("users:1").value() == "blog user");
  CHECK(blog.clear().value() == 2);
}

TEST_CASE("redis store: corrupt, truncated, foreign, moved and wrong-type values read as counted misses",
          "[redis][store]") {
  auto server_opt = redis_test::shared_server();
  if (!server_opt) return;
  const std::string prefix = unique_prefix("corrupt");
  ormkit::redis::store cache(make_store(*server_opt, prefix));
  ormkit::redis::client raw(*server_opt);

  REQUIRE(cache.set("good", "payload", 1min).has_value());
  const std::string stored(raw.command({"GET", prefix + "good"}).value().str());
  REQUIRE(stored.size() == ormkit::cache_value_header_size + 7);

  raw.command({"SET", prefix + "foreign", "{\"json\": \"from another program\"}"}).value();
  raw.command({"SET", prefix + "truncated", stored.substr(0, stored.size() - 2)}).value();
  std::string flipped = stored;
  flipped.back() = static_cast<char>(flipped.back() ^ 0x20);
  raw.command({"SET", prefix + "flipped", flipped}).value();
  raw.command({"SET", prefix + "moved", stored}).value();  // valid bytes, but checksummed for "good"
  raw.command({"SET", prefix + "short", "okc"}).value();
  raw.command({"RPUSH", prefix + "list", "a", "b"}).value();

  for (const char* key : {"foreign", "truncated", "flipped", "moved", "short", "list"}) {
    INFO(key);
    auto r = cache.get(key);
    REQUIRE(r.has_value());  // never an error
    CHECK_FALSE(r->has_value());
  }
  auto s = cache.stats();
  CHECK(s.corrupt == 6);
  CHECK(s.misses == 6);
  CHECK(s.errors == 0);

  const std::string_view batch[] = {"good", "foreign", "absent", "moved", "list"};
  auto got = cache.get_many(batch).value();
  CHECK(got[0] == "payload");
  CHECK_FALSE(got[1].has_value());
  CHECK_FALSE(got[2].has_value());
  CHECK_FALSE(got[3].has_value());
  CHECK_FALSE(got[4].has_value());
  s = cache.stats();
  CHECK(s.corrupt == 6 + 2);  // MGET returns nil for the list: a plain miss there
  CHECK(s.hits == 1);

  // The bad bytes are left alone; a set replaces them.
  CHECK(raw.command({"EXISTS", prefix + "foreign"}).value().integer() == 1);
  REQUIRE(cache.set("foreign", "mine now", 1min).has_value());
  CHECK(cache.get("foreign").value() == "mine now");
  CHECK(cache.clear().value() == 7);
}

TEST_CASE("redis store: bad input names the key with its prefix; the old value does not survive",
          "[redis][store]") {
  auto server_opt = redis_test::shared_server();
  if (!server_opt) return;
  const std::string prefix = unique_prefix("bad");
  auto o = make_store(*server_opt, prefix);
  o.max_value_bytes = 10;
  ormkit::redis::store cache(o);
  REQUIRE(cache.set("k\n1", "old", 1min).has_value());

  auto st = cache.set("k\n1", "new", -1ms);
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().is(ormkit::errc::invalid_argument));
  CHECK(st.error().message ==
        "redis cache: key \"" + prefix + "k\\n1\": ttl must not be negative (got -1 ms)");
  CHECK_FALSE(cache.get("k\n1").value().has_value());

  REQUIRE(cache.set("big", "old", 1min).has_value());
  st = cache.set("big", "01234567890", 1min);
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().is(ormkit::errc::invalid_argument));
  CHECK(st.error().message ==
        "redis cache: key \"" + prefix + "big\": value of 11 bytes exceeds max_value_bytes (10)");
  CHECK_FALSE(cache.get("big").value().has_value());
  CHECK(cache.stats().errors == 2);

  const ormkit::cache_entry entries[] = {{"ok1", "fine"}, {"big2", "far too long"}, {"ok2", "fine"}};
  st = cache.set_many(entries, 1min);
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().message.find(prefix + "big2") != std::string::npos);
  CHECK(cache.get("ok1").value() == "fine");
  CHECK(cache.get("ok2").value() == "fine");
  CHECK(cache.clear().value() == 2);
}

TEST_CASE("redis store: guarded fills are refused after an invalidation or a scope move, from any store object",
          "[redis][store][guard]") {
  auto server_opt = redis_test::shared_server();
  if (!server_opt) return;
  const std::string prefix = unique_prefix("guard");
  ormkit::redis::store a(make_store(*server_opt, prefix));  // two processes, as far as Redis can tell
  ormkit::redis::store b(make_store(*server_opt, prefix));
  ormkit::redis::client raw(*server_opt);
  static_assert(ormkit::guarded_cache_store<ormkit::redis::store>);

  // A miss arms the guard; with nothing changed since, the fill is stored.
  std::string out;
  ormkit::cache_guard g;
  CHECK_FALSE(b.get_guarded("k", "scope", out, g).value());
  CHECK(g.armed);
  CHECK_FALSE(g.key_state.has_value());
  CHECK(b.set_guarded("k", "scope", "v1", 60s, g).value());
  CHECK(a.get("k").value() == "v1");
  const auto pttl = raw.command({"PTTL", prefix + "k"}).value().integer();
  CHECK(pttl > 50'000);
  CHECK(pttl <= 60'000);

  // A hit returns the value and leaves the guard unarmed: an unarmed guard fills nothing.
  ormkit::cache_guard hit;
  CHECK(b.get_guarded("k", "scope", out, hit).value());
  CHECK(out == "v1");
  CHECK_FALSE(hit.armed);
  CHECK_FALSE(b.set_guarded("k", "scope", "never", 60s, hit).value());
  CHECK(a.get("k").value() == "v1");

  // An invalidation by the other object between the guarded read and the fill refuses it.
  ormkit::cache_guard before;
  REQUIRE(a.erase("k").value());
  CHECK_FALSE(b.get_guarded("k", "scope", out, before).value());
  CHECK(a.invalidate("k", 30s).value() == false);  // nothing was there; the marker is now
  CHECK_FALSE(b.set_guarded("k", "scope", "stale", 60s, before).value());
  CHECK_FALSE(a.get("k").value().has_value());  // the marker reads as a plain miss ...
  CHECK(a.stats().corrupt == 0);                // ... never as a corrupt value
  const auto marker_ttl = raw.command({"PTTL", prefix + "k"}).value().integer();
  CHECK(marker_ttl > 25'000);
  CHECK(marker_ttl <= 30'000);

  // A read after the invalidation guards against the marker it saw: that fill is stored.
  ormkit::cache_guard after;
  CHECK_FALSE(b.get_guarded("k", "scope", out, after).value());
  REQUIRE(after.key_state.has_value());
  CHECK(b.set_guarded("k", "scope", "fresh", 60s, after).value());
  CHECK(a.get("k").value() == "fresh");
  CHECK(a.invalidate("k", 30s).value() == true);  // a value was there
  CHECK_FALSE(b.get("k").value().has_value());

  // Two invalidations never leave the same marker (a guard that saw the first is refused after the second).
  ormkit::cache_guard saw_first;
  CHECK_FALSE(b.get_guarded("k", "scope", out, saw_first).value());
  REQUIRE(b.invalidate("k", 30s));
  CHECK_FALSE(a.set_guarded("k", "scope", "stale", 60s, saw_first).value());

  // A scope move refuses every fill guarded before it, whatever the key.
  std::vector<std::string_view> keys{"x", "y"};
  std::vector<ormkit::cache_guard> gs;
  auto got = b.get_many_guarded(keys, "scope", gs).value();
  REQUIRE(got.size() == 2);
  REQUIRE(gs.size() == 2);
  CHECK((gs[0].armed && gs[1].armed));
  REQUIRE(a.invalidate_scope("scope"));
  const ormkit::cache_entry entries[] = {{"x", "1"}, {"y", "2"}};
  CHECK(b.set_many_guarded(entries, "scope", 60s, gs).value() == 0);
  CHECK_FALSE(a.get("x").value().has_value());
  got = b.get_many_guarded(keys, "scope", gs).value();
  CHECK(b.set_many_guarded(entries, "scope", 60s, gs).value() == 2);
  CHECK(a.get("y").value() == "2");
  // get_many_guarded returns hits and leaves their guards unarmed.
  got = b.get_many_guarded(keys, "scope", gs).value();
  CHECK(got[0] == std::optional<std::string>("1"));
  CHECK_FALSE(gs[0].armed);
  CHECK(b.set_many_guarded(entries, "scope", 60s, std::vector<ormkit::cache_guard>(1)).error().code ==
        ormkit::errc::invalid_argument);  // one guard per entry

  // A key of another Redis type is replaced by the marker.
  REQUIRE(raw.command({"LPUSH", prefix + "list", "x"}));
  CHECK(a.invalidate("list", 30s).value());
  CHECK_FALSE(a.get("list").value().has_value());

  // Through cache_ref the same calls reach the store; a store without guards gets the plain calls.
  ormkit::cache_ref ref(a);
  CHECK(ref.guards_fills());
  (void)a.clear();
  (void)raw.command({"DEL", prefix + "scope"});
}

TEST_CASE("redis store: usable through cache_ref", "[redis][store]") {
  auto server_opt = redis_test::shared_server();
  if (!server_opt) return;
  ormkit::redis::store store(make_store(*server_opt, unique_prefix("ref")));
  ormkit::cache_ref cache(store);
  CHECK(cache.name() == "redis");
  REQUIRE(cache.set("a", "1", 1min).has_value());
  CHECK(cache.get("a").value() == "1");
  CHECK(cache.clear().value() == 1);
  CHECK(cache.stats().sets == 1);
}

TEST_CASE("redis client: error replies become errors with the server's code", "[redis][client]") {
  auto server_opt = redis_test::shared_server();
  if (!server_opt) return;
  ormkit::redis::client raw(*server_opt);
  const std::string key = unique_prefix("client") + "list";
  raw.command({"RPUSH", key, "x"}).value();
  auto r = raw.command({"GET", key});
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(ormkit::errc::backend_error));
  CHECK(r.error().native == "WRONGTYPE");
  CHECK(r.error().message.find("redis " + raw.endpoint() + ": GET: WRONGTYPE") == 0);
  auto unknown = raw.command({"NO-SUCH-COMMAND"});
  REQUIRE_FALSE(unknown.has_value());
  CHECK(unknown.error().native == "ERR");

  ormkit::redis::command_batch batch;
  batch.add({"GET", key});
  batch.add({"DEL", key});
  auto replies = raw.pipeline(batch).value();
  REQUIRE(replies.size() == 2);
  CHECK(replies[0].is_error());  // one failed command does not hide the other's result
  CHECK(replies[1].integer() == 1);
  CHECK(raw.ping().has_value());
}

TEST_CASE("redis options: URLs parse; the password never appears in a message", "[redis][client]") {
  using ormkit::redis::options;
  auto a = options::from_url("redis://app:CANARY-7f3a9@cache.internal:6380/3").value();
  CHECK(a.username == "app");
  CHECK(a.password == "CANARY-7f3a9");
  CHECK(a.host == "cache.internal");
  CHECK(a.port == 6380);
  CHECK(a.database == 3);
  CHECK(a.redacted_url() == "redis://app:***@cache.internal:6380/3");
  CHECK(a.endpoint() == "cache.internal:6380");

  auto b = options::from_url("127.0.0.1:7000").value();
  CHECK(b.host == "127.0.0.1");
  CHECK(b.port == 7000);
  CHECK(options::from_url("[::1]:6390").value().endpoint() == "[::1]:6390");
  CHECK(options::from_url("localhost").value().port == 6379);
  CHECK(options::from_url("unix:/run/redis/r.sock").value().unix_socket == "/run/redis/r.sock");
  CHECK(options::from_url("redis://:only-a-password@h").value().password == "only-a-password");

  for (const char* bad : {"redis://u:CANARY-7f3a9@host:notaport", "redis://u:CANARY-7f3a9@host:70000",
                          "redis://u:CANARY-7f3a9@:6379", "redis://u:CANARY-7f3a9@h/x", "http://u:CANARY-7f3a9@h",
                          "redis://u:CANARY-7f3a9@[::1"}) {
    auto r = options::from_url(bad);
    INFO(bad);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().is(ormkit::errc::invalid_argument));
    CHECK(r.error().message.find("CANARY") == std::string::npos);
    CHECK(r.error().message.find("u:***@") != std::string::npos);
  }
  CHECK(options::from_url("redis://h:0").error().message ==
        "redis url \"redis://h:0\": port must be a number from 1 to 65535 (got \"0\")");
}

}  // namespace redis_store_test
