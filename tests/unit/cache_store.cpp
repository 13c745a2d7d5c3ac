// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// <ormkit/cache.hpp>: the cache_store concept and cache_ref, the value envelope
// (every kind of damage reads as a miss, never as a value), the checksum pinned
// to literal values (it is a storage format), TTL jitter bounds, and the key
// quoting used in messages.

#include <ormkit/cache.hpp>
#include <ormkit/cache/memory.hpp>

#include "../support/catch.hpp"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace cache_store_test {

using namespace std::chrono_literals;
using namespace std::string_literals;

// A type with most, but not all, of the members: not a cache_store.
struct almost_a_store {
  auto name() const -> std::string_view { return "almost"; }
  auto get(std::string_view) -> ormkit::result<std::optional<std::string>> { return std::nullopt; }
  auto set(std::string_view, std::string_view, std::chrono::milliseconds) -> ormkit::status { return {}; }
  auto erase(std::string_view) -> ormkit::result<bool> { return false; }
  auto stats() const -> ormkit::cache_stats { return {}; }
};

TEST_CASE("cache_store: the in-process store satisfies the concept; an incomplete type does not", "[cache]") {
  STATIC_REQUIRE(ormkit::cache_store<ormkit::cache::memory_store>);
  STATIC_REQUIRE_FALSE(ormkit::cache_store<almost_a_store>);
  STATIC_REQUIRE_FALSE(ormkit::cache_store<int>);
}

TEST_CASE("cache_ref: forwards every operation to the referenced store", "[cache]") {
  ormkit::cache::memory_store store({.ttl_jitter = 0});
  ormkit::cache_ref cache(store);
  CHECK(cache.name() == "memory");
  CHECK(cache.address() == &store);

  const std::string value = "a\0b\r\nc"s;
  REQUIRE(cache.set("k1", value, 10s).has_value());
  CHECK(cache.get("k1").value() == value);
  std::string out = "old";
  CHECK(cache.get_into("k1", out).value());
  CHECK(out == value);
  std::string seen;
  CHECK(cache.visit("k1", [&](std::string_view v) { seen = v; }).value());
  CHECK(seen == value);
  CHECK_FALSE(cache.visit("nope", [&](std::string_view) { FAIL("called on a miss"); }).value());

  const ormkit::cache_entry entries[] = {{"k2", "two"}, {"k3", "three"}};
  REQUIRE(cache.set_many(entries, ormkit::no_expiry).has_value());
  const std::string_view keys[] = {"k1", "missing", "k3"};
  auto many = cache.get_many(keys).value();
  REQUIRE(many.size() == 3);
  CHECK(many[0] == value);
  CHECK_FALSE(many[1].has_value());
  CHECK(many[2] == "three");

  CHECK(cache.erase("k1").value());
  CHECK_FALSE(cache.erase("k1").value());
  const std::string_view two[] = {"k2", "k3", "k9"};
  CHECK(cache.erase_many(two).value() == 2);
  REQUIRE(cache.set("p:1", "x", 1s).has_value());
  REQUIRE(cache.set("p:2", "x", 1s).has_value());
  REQUIRE(cache.set("q:1", "x", 1s).has_value());
  CHECK(cache.clear("p:").value() == 2);
  CHECK(cache.get("q:1").value().has_value());

  const auto s = cache.stats();
  CHECK(s == store.stats());
  CHECK(s.sets == 6);
  CHECK(s.entries == 1);
}

TEST_CASE("cache_ref: a store without guarded fills gets the plain calls for the guarded ones", "[cache]") {
  ormkit::cache::memory_store store({.ttl_jitter = 0});
  STATIC_REQUIRE_FALSE(ormkit::guarded_cache_store<ormkit::cache::memory_store>);
  ormkit::cache_ref cache(store);
  CHECK_FALSE(cache.guards_fills());
  std::string out;
  ormkit::cache_guard g;
  CHECK_FALSE(cache.get_guarded("k", "scope", out, g).value());
  CHECK_FALSE(g.armed);  // the in-process store needs no guard: the cache-aside layer's generations do that
  CHECK(cache.set_guarded("k", "scope", "v", 10s, g).value());
  CHECK(cache.get_guarded("k", "scope", out, g).value());
  CHECK(out == "v");
  const std::string_view keys[] = {"k", "other"};
  std::vector<ormkit::cache_guard> gs;
  auto got = cache.get_many_guarded(keys, "scope", gs).value();
  CHECK(got[0] == std::optional<std::string>("v"));
  CHECK_FALSE(got[1].has_value());
  const ormkit::cache_entry entries[] = {{"a", "1"}, {"b", "2"}};
  CHECK(cache.set_many_guarded(entries, "scope", 10s, std::vector<ormkit::cache_guard>(2)).value() == 2);
  CHECK(cache.get("b").value() == std::optional<std::string>("2"));
  CHECK(cache.invalidate("k", 10s).value());  // an erase
  CHECK_FALSE(cache.get("k").value().has_value());
  CHECK_FALSE(cache.invalidate("k", 10s).value());
  CHECK(cache.invalidate_scope("scope").has_value());  // nothing to do
  CHECK(store.stats().entries == 2);
}

TEST_CASE("cache value envelope: round trip, and every kind of damage is rejected", "[cache]") {
  const std::string key = "app:users:0123456789abcdef:42";
  const std::string payload = "name\0Ann\r\n*3\r\n$3\r\nSET"s;
  std::string stored = "reused buffer with capacity";
  ormkit::encode_cache_value(stored, key, payload);
  REQUIRE(stored.size() == ormkit::cache_value_header_size + payload.size());
  CHECK(stored.substr(0, 4) == "okc\x01"s);

  auto ok = ormkit::decode_cache_value(key, stored);
  REQUIRE(ok.ok());
  CHECK(ok.payload == payload);

  SECTION("empty payload") {
    ormkit::encode_cache_value(stored, key, "");
    auto v = ormkit::decode_cache_value(key, stored);
    CHECK(v.ok());
    CHECK(v.payload.empty());
  }
  SECTION("shorter than the header") {
    CHECK(ormkit::decode_cache_value(key, stored.substr(0, 15)).check == ormkit::cache_value_check::too_short);
    CHECK(ormkit::decode_cache_value(key, "").check == ormkit::cache_value_check::too_short);
  }
  SECTION("not ours") {
    CHECK(ormkit::decode_cache_value(key, "{\"name\":\"Ann\",\"pad\":\"xxxxxxxx\"}").check ==
          ormkit::cache_value_check::foreign);
  }
  SECTION("a future format version") {
    stored[3] = 2;
    CHECK(ormkit::decode_cache_value(key, stored).check == ormkit::cache_value_check::unsupported_version);
  }
  SECTION("truncated or extended") {
    CHECK(ormkit::decode_cache_value(key, stored.substr(0, stored.size() - 1)).check ==
          ormkit::cache_value_check::length_mismatch);
    CHECK(ormkit::decode_cache_value(key, stored + "x").check == ormkit::cache_value_check::length_mismatch);
  }
  SECTION("stored under another key") {
    CHECK(ormkit::decode_cache_value("app:users:0123456789abcdef:43", stored).check ==
          ormkit::cache_value_check::checksum_mismatch);
    CHECK(ormkit::decode_cache_value("", stored).check == ormkit::cache_value_check::checksum_mismatch);
  }
  SECTION("every single-bit flip in the payload or checksum") {
    int rejected = 0, total = 0;
    for (std::size_t i = 8; i < stored.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        std::string damaged = stored;
        damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
        ++total;
        if (ormkit::decode_cache_value(key, damaged).check == ormkit::cache_value_check::checksum_mismatch) ++rejected;
      }
    }
    CHECK(rejected == total);
  }
  SECTION("names of the verdicts") {
    CHECK(ormkit::to_string(ormkit::cache_value_check::checksum_mismatch) == "checksum_mismatch");
    CHECK(ormkit::to_string(ormkit::cache_value_check::ok) == "ok");
  }
}

TEST_CASE("cache_checksum: stable values (a storage format: changing them retires every stored value)",
          "[cache]") {
  // Literal values: the same on every platform, compiler and run.
  CHECK(ormkit::cache_checksum("", "") == 0xf124f4543cee4154ull);
  CHECK(ormkit::cache_checksum("k", "v") == 0xb4f802376422fd2aull);
  CHECK(ormkit::cache_checksum("app:users:42", "0123456789abcdef-tail") == 0x42dc0834db6f07d5ull);
  // Where the key ends and the payload starts matters.
  CHECK(ormkit::cache_checksum("ab", "c") != ormkit::cache_checksum("a", "bc"));
  CHECK(ormkit::cache_checksum("a", "") != ormkit::cache_checksum("", "a"));
  // Trailing NUL bytes are not lost in the tail padding.
  CHECK(ormkit::cache_checksum("k", "ab"s) != ormkit::cache_checksum("k", "ab\0"s));
}

TEST_CASE("jittered_ttl: only shortens, by at most the fraction, never below 1 ms", "[cache]") {
  using ms = std::chrono::milliseconds;
  CHECK(ormkit::jittered_ttl(ms(1000), 0.2, 0.0) == ms(1000));
  CHECK(ormkit::jittered_ttl(ms(1000), 0.2, 0.5) == ms(900));
  CHECK(ormkit::jittered_ttl(ms(1000), 0.2, 0.999999) == ms(801));
  CHECK(ormkit::jittered_ttl(ms(1000), 5.0, 0.5) == ms(500));  // fraction clamped to 1
  CHECK(ormkit::jittered_ttl(ms(1), 1.0, 0.99) == ms(1));
  CHECK(ormkit::jittered_ttl(ormkit::no_expiry, 0.5, 0.5) == ormkit::no_expiry);
  CHECK(ormkit::jittered_ttl(ms(-5), 0.5, 0.5) == ms(-5));
  CHECK(ormkit::jittered_ttl(ms(1000), 0.0, 0.5) == ms(1000));

  std::set<long long> seen;
  std::chrono::milliseconds::rep lo = 1'000'000, hi = 0;
  for (int i = 0; i < 20000; ++i) {
    const auto t = ormkit::jittered_ttl(ms(10'000), 0.25).count();
    lo = std::min(lo, t);
    hi = std::max(hi, t);
    seen.insert(t);
  }
  CHECK(lo >= 7500);
  CHECK(hi <= 10'000);
  // Spread over the whole range, not clumped: expiry is really desynchronized.
  CHECK(lo < 7600);
  CHECK(hi > 9900);
  CHECK(seen.size() > 1500);
}

TEST_CASE("cache stats: hit rate", "[cache]") {
  ormkit::cache_stats s;
  CHECK(s.hit_rate() == 0.0);
  s.hits = 3;
  s.misses = 1;
  CHECK(s.hit_rate() == Catch::Approx(0.75));
}

TEST_CASE("cache key quoting in messages: control bytes escaped, long keys cut with their length", "[cache]") {
  using ormkit::detail::quote_cache_key;
  CHECK(quote_cache_key("app:users:42") == "\"app:users:42\"");
  CHECK(quote_cache_key("a b\r\n\"\\\0\x7f\xc3"s) == "\"a b\\r\\n\\\"\\\\\\x00\\x7f\\xc3\"");
  const std::string longer(300, 'k');
  const std::string q = quote_cache_key(longer);
  CHECK(q.size() < 160);
  CHECK(q.find("(300 bytes)") != std::string::npos);

  auto st = ormkit::detail::check_cache_ttl("memory cache", "app:x\n", std::chrono::milliseconds(-5));
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().is(ormkit::errc::invalid_argument));
  CHECK(st.error().message == "memory cache: key \"app:x\\n\": ttl must not be negative (got -5 ms)");
}

}  // namespace cache_store_test
