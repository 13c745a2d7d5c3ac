// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// ormkit::cache::memory_store: LRU order, the entry and byte capacity bounds
// (per shard and in total), TTL expiry on an injected clock, jitter bounds,
// statistics, bad input (negative TTL, oversized entries) with messages naming
// the key, clear(prefix), batches, and 8 threads hammering one store (run under
// ASan in the sanitizer build).

#include <ormkit/cache/memory.hpp>

#include "../support/catch.hpp"

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace cache_memory_test {

using namespace std::chrono_literals;
using namespace std::string_literals;
using ormkit::cache::memory_store;

// A clock the test moves by hand.
std::atomic<std::int64_t> fake_now_ns{1'000'000'000};
auto fake_clock() -> std::chrono::steady_clock::time_point {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(fake_now_ns.load()));
}
void advance(std::chrono::milliseconds d) { fake_now_ns += std::chrono::nanoseconds(d).count(); }

auto present(memory_store& s, std::string_view key) -> bool { return s.contains(key); }

TEST_CASE("memory_store: stores bytes exactly and reads them back through every read call", "[cache][memory]") {
  memory_store cache({.ttl_jitter = 0});
  const std::string value = "\0\r\n*1\r\n$4\r\nPING\xff"s;
  const std::string key = "key with spaces\r\nand\0nul"s;
  REQUIRE(cache.set(key, value, 1min).has_value());
  CHECK(cache.get(key).value() == value);
  std::string out;
  out.reserve(64);
  CHECK(cache.get_into(key, out).value());
  CHECK(out == value);
  std::size_t calls = 0;
  CHECK(cache.visit(key, [&](std::string_view v) {
    ++calls;
    CHECK(v == value);
  }).value());
  CHECK(calls == 1);
  CHECK_FALSE(cache.get("key with spaces").value().has_value());  // stops at no NUL
  // Replacing keeps one entry and the new bytes.
  REQUIRE(cache.set(key, "v2", 1min).has_value());
  CHECK(cache.get(key).value() == "v2");
  CHECK(cache.stats().entries == 1);
  CHECK(cache.stats().bytes == key.size() + 2);
}

TEST_CASE("memory_store: evicts a value not used since it last reached the hot end (second chance)",
          "[cache][memory]") {
  memory_store cache({.max_entries = 3, .shards = 1, .ttl_jitter = 0});
  REQUIRE(cache.shard_count() == 1);
  REQUIRE(cache.set("a", "1", ormkit::no_expiry).has_value());
  REQUIRE(cache.set("b", "2", ormkit::no_expiry).has_value());
  REQUIRE(cache.set("c", "3", ormkit::no_expiry).has_value());
  CHECK(cache.get("a").value() == "1");  // a is used; b is the coldest unused value
  REQUIRE(cache.set("d", "4", ormkit::no_expiry).has_value());
  CHECK_FALSE(present(cache, "b"));
  CHECK(present(cache, "a"));
  CHECK(present(cache, "c"));
  CHECK(present(cache, "d"));
  // a had its second chance (moved to the hot end, unmarked, as if read then): from
  // the cold end the order is now c, d, a. An update moves c to the hot end too.
  REQUIRE(cache.set("c", "3b", ormkit::no_expiry).has_value());
  REQUIRE(cache.set("e", "5", ormkit::no_expiry).has_value());
  CHECK_FALSE(present(cache, "d"));
  CHECK(present(cache, "a"));
  CHECK(present(cache, "c"));
  CHECK(present(cache, "e"));
  // visit marks a value used as get does; contains() does not. Order: a, c, e.
  CHECK(cache.visit("a", [](std::string_view) {}).value());
  CHECK(present(cache, "c"));  // not a use
  REQUIRE(cache.set("f", "6", ormkit::no_expiry).has_value());
  CHECK_FALSE(present(cache, "c"));
  CHECK(present(cache, "a"));
  CHECK(present(cache, "e"));
  // When every other value is used, each gets its chance and the coldest goes; the
  // value being written is never the one evicted. From the cold end: e, f, a.
  for (const char* k : {"e", "a", "f"}) CHECK(cache.get(k).value().has_value());
  REQUIRE(cache.set("g", "7", ormkit::no_expiry).has_value());
  CHECK_FALSE(present(cache, "e"));
  CHECK(present(cache, "a"));
  CHECK(present(cache, "f"));
  CHECK(present(cache, "g"));
  const auto s = cache.stats();
  CHECK(s.evictions == 4);
  CHECK(s.entries == 3);
}

TEST_CASE("memory_store: one value per shard: a write always replaces the other value", "[cache][memory]") {
  memory_store cache({.max_entries = 1, .shards = 1, .ttl_jitter = 0});
  REQUIRE(cache.set("a", "1", ormkit::no_expiry).has_value());
  CHECK(cache.get("a").value() == "1");  // used
  REQUIRE(cache.set("b", "2", ormkit::no_expiry).has_value());
  CHECK_FALSE(present(cache, "a"));
  CHECK(cache.get("b").value() == "2");
}

TEST_CASE("memory_store: never holds more than max_entries, across shards", "[cache][memory]") {
  memory_store cache({.max_entries = 64, .shards = 8, .ttl_jitter = 0});
  CHECK(cache.shard_count() == 8);
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(cache.set("k" + std::to_string(i), "v", ormkit::no_expiry).has_value());
    REQUIRE(cache.stats().entries <= 64);
  }
  const auto s = cache.stats();
  CHECK(s.entries + s.evictions == 1000);
  CHECK(s.entries > 32);  // the shards fill up, not just one of them
  // Fewer entries than shards: shards shrink so every shard holds at least one.
  memory_store tiny({.max_entries = 3, .shards = 16});
  CHECK(tiny.shard_count() == 2);
}

TEST_CASE("memory_store: never holds more than max_bytes of keys and values", "[cache][memory]") {
  memory_store cache({.max_entries = 1000, .max_bytes = 100, .shards = 1, .ttl_jitter = 0});
  const std::string v20(20, 'v');
  for (int i = 0; i < 4; ++i) REQUIRE(cache.set("k" + std::to_string(i), v20, ormkit::no_expiry).has_value());
  CHECK(cache.stats().bytes == 88);  // 4 x (2 + 20)
  REQUIRE(cache.set("k4", v20, ormkit::no_expiry).has_value());
  CHECK(cache.stats().bytes == 88);
  CHECK_FALSE(present(cache, "k0"));  // the oldest went
  // Growing one value pushes out others, oldest first.
  REQUIRE(cache.set("k4", std::string(60, 'w'), ormkit::no_expiry).has_value());
  CHECK(cache.stats().bytes <= 100);
  CHECK(present(cache, "k4"));
  CHECK_FALSE(present(cache, "k1"));
  CHECK_FALSE(present(cache, "k2"));
  CHECK(present(cache, "k3"));
  CHECK(cache.stats().bytes == 22 + 62);

  SECTION("an entry larger than a shard's share is refused, naming the key, and the old value goes") {
    REQUIRE(cache.set("k3", "small", ormkit::no_expiry).has_value());
    auto st = cache.set("k3", std::string(99, 'x'), ormkit::no_expiry);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().is(ormkit::errc::invalid_argument));
    CHECK(st.error().message ==
          "memory cache: key \"k3\": entry of 101 bytes (key + value) exceeds the 100 bytes one shard may hold "
          "(max_bytes / shards); raise max_bytes or lower shards");
    CHECK_FALSE(present(cache, "k3"));
    CHECK(cache.stats().errors == 1);
  }
}

TEST_CASE("memory_store: TTLs expire on the store's clock, exactly at the deadline", "[cache][memory]") {
  memory_store cache({.ttl_jitter = 0, .clock = fake_clock});
  REQUIRE(cache.set("short", "s", 100ms).has_value());
  REQUIRE(cache.set("forever", "f", ormkit::no_expiry).has_value());
  REQUIRE(cache.set("long", "l", 10s).has_value());
  advance(99ms);
  CHECK(cache.get("short").value() == "s");
  advance(1ms);
  CHECK_FALSE(cache.get("short").value().has_value());
  auto s = cache.stats();
  CHECK(s.expirations == 1);
  CHECK(s.misses == 1);
  CHECK(s.hits == 1);
  CHECK(s.entries == 2);

  // A new set restarts the TTL.
  REQUIRE(cache.set("short", "s2", 100ms).has_value());
  advance(50ms);
  REQUIRE(cache.set("short", "s3", 100ms).has_value());
  advance(60ms);
  CHECK(cache.get("short").value() == "s3");

  advance(24h);
  CHECK(cache.get("forever").value() == "f");
  CHECK_FALSE(cache.contains("long"));
  // Expired entries still count until read, evicted or purged.
  CHECK(cache.stats().entries == 3);
  CHECK(cache.purge_expired() == 2);
  CHECK(cache.stats().entries == 1);
  CHECK(cache.stats().expirations == 3);
  // Erasing an expired entry reports that there was none.
  REQUIRE(cache.set("gone", "g", 1ms).has_value());
  advance(1ms);
  CHECK_FALSE(cache.erase("gone").value());
}

TEST_CASE("memory_store: jitter spreads expiry over [ttl * (1 - jitter), ttl]", "[cache][memory]") {
  memory_store cache({.max_entries = 10'000, .ttl_jitter = 0.5, .clock = fake_clock});
  constexpr int n = 2000;
  for (int i = 0; i < n; ++i) REQUIRE(cache.set("j" + std::to_string(i), "v", 1000ms).has_value());
  auto alive = [&] {
    int count = 0;
    for (int i = 0; i < n; ++i) count += cache.contains("j" + std::to_string(i)) ? 1 : 0;
    return count;
  };
  advance(499ms);
  CHECK(alive() == n);  // none expires before half its TTL
  advance(251ms);       // 750 ms: about half are gone
  const int mid = alive();
  CHECK(mid > n / 4);
  CHECK(mid < 3 * n / 4);
  advance(250ms);  // 1000 ms: all gone, none outlives its TTL
  CHECK(alive() == 0);
}

TEST_CASE("memory_store: a negative TTL is refused, naming the key and the value", "[cache][memory]") {
  memory_store cache;
  REQUIRE(cache.set("app:users:7", "old", 1min).has_value());
  auto st = cache.set("app:users:7", "new", -5ms);
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().is(ormkit::errc::invalid_argument));
  CHECK(st.error().message == "memory cache: key \"app:users:7\": ttl must not be negative (got -5 ms)");
  CHECK_FALSE(cache.get("app:users:7").value().has_value());  // the old value is not left behind
  CHECK(cache.stats().errors == 1);
}

TEST_CASE("memory_store: zero capacities are refused at construction", "[cache][memory]") {
  CHECK_THROWS_AS(memory_store({.max_entries = 0}), ormkit::exception);
  CHECK_THROWS_WITH(memory_store({.max_bytes = 0}),
                    "[ormkit.invalid_argument] memory cache: max_bytes must be at least 1 (got 0)");
}

TEST_CASE("memory_store: statistics count hits, misses, sets, erases, evictions", "[cache][memory]") {
  memory_store cache({.max_entries = 2, .shards = 1, .ttl_jitter = 0});
  REQUIRE(cache.set("a", "1", ormkit::no_expiry).has_value());
  REQUIRE(cache.set("b", "22", ormkit::no_expiry).has_value());
  CHECK(cache.get("a").value());
  CHECK(cache.get("a").value());
  CHECK_FALSE(cache.get("x").value());
  REQUIRE(cache.set("c", "333", ormkit::no_expiry).has_value());  // evicts b
  CHECK(cache.erase("c").value());
  const auto s = cache.stats();
  CHECK(s.hits == 2);
  CHECK(s.misses == 1);
  CHECK(s.sets == 3);
  CHECK(s.erases == 1);
  CHECK(s.evictions == 1);
  CHECK(s.expirations == 0);
  CHECK(s.errors == 0);
  CHECK(s.corrupt == 0);
  CHECK(s.entries == 1);
  CHECK(s.bytes == 2);
  CHECK(s.hit_rate() == Catch::Approx(2.0 / 3.0));
}

TEST_CASE("memory_store: batches and clear(prefix)", "[cache][memory]") {
  memory_store cache({.ttl_jitter = 0});
  std::vector<std::string> keys, values;
  for (int i = 0; i < 50; ++i) {
    keys.push_back((i % 2 ? "odd:" : "even:") + std::to_string(i));
    values.push_back(std::string(static_cast<std::size_t>(i), 'x'));
  }
  std::vector<ormkit::cache_entry> entries;
  for (std::size_t i = 0; i < keys.size(); ++i) entries.push_back({keys[i], values[i]});
  REQUIRE(cache.set_many(entries, 1min).has_value());

  std::vector<std::string_view> wanted(keys.begin(), keys.end());
  wanted.push_back("absent");
  auto got = cache.get_many(wanted).value();
  REQUIRE(got.size() == 51);
  for (std::size_t i = 0; i < keys.size(); ++i) CHECK(got[i] == values[i]);
  CHECK_FALSE(got[50].has_value());

  CHECK(cache.clear("odd:").value() == 25);
  CHECK_FALSE(cache.contains("odd:1"));
  CHECK(cache.contains("even:0"));
  const std::string_view some[] = {"even:0", "even:2", "odd:1"};
  CHECK(cache.erase_many(some).value() == 2);
  CHECK(cache.clear().value() == 23);
  CHECK(cache.stats().entries == 0);
  CHECK(cache.stats().bytes == 0);

  SECTION("set_many stores the good entries and returns the first error") {
    const ormkit::cache_entry mixed[] = {{"a", "1"}, {"b", "2"}};
    auto st = cache.set_many(mixed, -1ms);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().message.find("\"a\"") != std::string::npos);
  }
}

TEST_CASE("memory_store: random sets, erases and reads agree with a plain map (index growth and deletion)",
          "[cache][memory]") {
  // One shard, room for everything: nothing is evicted, so the store must hold exactly
  // what the model holds, through many index growths, backward-shift deletions and
  // values replaced in place or moved to a bigger node.
  memory_store cache({.max_entries = 100'000, .max_bytes = std::size_t{64} << 20, .shards = 1, .ttl_jitter = 0});
  std::map<std::string, std::string> model;
  std::mt19937_64 rng(7);
  for (int step = 0; step < 60'000; ++step) {
    const std::string key = "k" + std::to_string(rng() % 3000);
    switch (rng() % 4) {
      case 0:
      case 1: {
        // Sizes up and down: a value that outgrows its node moves to a new one.
        const std::string value = key + ":" + std::string(rng() % 64, 'v') + std::to_string(step);
        REQUIRE(cache.set(key, value, ormkit::no_expiry).has_value());
        model[key] = value;
        break;
      }
      case 2: {
        const bool had = model.erase(key) > 0;
        REQUIRE(cache.erase(key).value() == had);
        break;
      }
      default: {
        const auto got = cache.get(key).value();
        const auto it = model.find(key);
        REQUIRE(got.has_value() == (it != model.end()));
        if (got) REQUIRE(*got == it->second);
      }
    }
  }
  CHECK(cache.stats().entries == model.size());
  std::size_t bytes = 0;
  for (const auto& [k, v] : model) {
    bytes += k.size() + v.size();
    REQUIRE(cache.get(k).value() == std::optional<std::string>(v));
  }
  CHECK(cache.stats().bytes == bytes);
  CHECK(cache.clear().value() == model.size());
  CHECK(cache.stats().entries == 0);
  for (const auto& [k, v] : model) REQUIRE_FALSE(cache.contains(k));
}

TEST_CASE("memory_store: 8 threads hammering one small store keep every bound and every value intact",
          "[cache][memory][threads]") {
  memory_store cache({.max_entries = 256, .max_bytes = 16 * 1024, .shards = 8, .ttl_jitter = 0.2});
  constexpr int threads = 8;
  constexpr int ops = 20'000;
  std::atomic<std::uint64_t> reads{0}, bad_values{0}, failures{0}, bound_violations{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937 rng(static_cast<std::uint32_t>(1234 + t));
      std::uniform_int_distribution<int> key_of(0, 511), op_of(0, 99), len_of(0, 120);
      std::string out;
      for (int i = 0; i < ops; ++i) {
        const std::string key = "k" + std::to_string(key_of(rng));
        const int op = op_of(rng);
        if (op < 55) {
          ++reads;
          // Every value starts with its own key: anything else is a torn or misplaced value.
          if (*cache.get_into(key, out) && out.compare(0, key.size(), key) != 0) ++bad_values;
        } else if (op < 65) {
          ++reads;
          (void)cache.visit(key, [&](std::string_view v) {
            if (v.substr(0, key.size()) != key) ++bad_values;
          });
        } else if (op < 90) {
          const std::string value = key + std::string(static_cast<std::size_t>(len_of(rng)), 'v');
          if (!cache.set(key, value, std::chrono::milliseconds(1 + op)).has_value()) ++failures;
        } else if (op < 97) {
          (void)cache.erase(key);
        } else if (op < 99) {
          const std::string_view batch[] = {key, "k1", "k2"};
          auto got = cache.get_many(batch);
          reads += 3;
          for (std::size_t j = 0; j < 3; ++j)
            if (got->at(j) && got->at(j)->compare(0, batch[j].size(), batch[j]) != 0) ++bad_values;
        } else {
          (void)cache.clear("k1");
        }
        if (i % 1000 == 0) {
          const auto s = cache.stats();
          if (s.entries > 256 || s.bytes > 16 * 1024) ++bound_violations;
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  const auto s = cache.stats();
  CHECK(failures.load() == 0);
  CHECK(bad_values.load() == 0);
  CHECK(bound_violations.load() == 0);
  CHECK(s.entries <= 256);
  CHECK(s.bytes <= 16 * 1024);
  CHECK(s.hits + s.misses == reads.load());
  CHECK(s.hits > 0);
  CHECK(s.evictions + s.expirations > 0);
  // Nothing is lost in the bookkeeping: what is left can be cleared, and then nothing is.
  CHECK(cache.clear().value() <= 256);
  CHECK(cache.stats().entries == 0);
  CHECK(cache.stats().bytes == 0);
}

}  // namespace cache_memory_test
