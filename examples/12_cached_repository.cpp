// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// 12: a repository that reads through a cache (cache-aside).
//
// `repository<T>::use_cache(store, policy)` puts a cache in front of `get`,
// `find_by_key` and `get_many`: a miss loads from the backend and stores the
// row under `cache_key<T>(pk)` (table and schema hash are in the key); writes
// invalidate after they commit; concurrent misses of one key make one load; a
// key the backend lacks can be remembered as absent for a short time. Query
// results can be cached too, under a key you build (`find_cached`). The store
// here is the in-process LRU; ormkit::redis::two_level_store works the same way.

#include <ormkit/cache/memory.hpp>
#include <ormkit/cache_key.hpp>
#include <ormkit/query.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/sqlite.hpp>
#include <ormkit/transaction.hpp>

#include <fmt/format.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

struct product {
  std::int64_t id{};
  std::string name{};
  std::int64_t price_cents{};
  std::int64_t version{};

  friend constexpr auto ormkit_describe(std::type_identity<product>) {
    using namespace ormkit;
    return describe<product>("products")
        .column(&product::id, "id", primary_key, auto_increment)
        .column(&product::name, "name", rules::length{1, 80})
        .column(&product::price_cents, "price_cents", rules::range{0, 10'000'000})
        .column(&product::version, "version", version_column);
  }
};

namespace {

void print_stats(const ormkit::repository<product>& repo) {
  const auto s = repo.cache_stats();
  fmt::print("  cache: {} hits ({} 'absent'), {} misses, {} loads, {} invalidations, hit rate {:.0f}%\n", s.hits,
             s.negative_hits, s.misses, s.loads, s.invalidations, 100 * s.hit_rate());
}

}  // namespace

int main() {
  using namespace std::chrono_literals;
  auto db = ormkit::sqlite::backend::open({.path = ":memory:"}).value();
  ormkit::cache::memory_store store({.max_entries = 10'000});
  ormkit::repository<product> products(*db, store, {.tier = ormkit::cache_tier::standard, .negative_ttl = 2s});

  std::vector<std::int64_t> ids;
  for (auto [name, price] : {std::pair{"kettle", 2999}, {"teapot", 1999}, {"mug", 799}})
    ids.push_back(products.insert({.name = name, .price_cents = price}).value().id);

  fmt::print("first read:  {}\n", products.get(ids[0]).value().name);  // a miss: loaded, then cached
  fmt::print("second read: {}\n", products.get(ids[0]).value().name);  // a hit
  fmt::print("cached under {}\n", ormkit::cache_key<product>(ids[0]).substr(0, 16) + "...");
  print_stats(products);

  // A write invalidates the key once it has committed; the next read loads the new row.
  auto kettle = products.get(ids[0]).value();
  kettle.price_cents = 2499;
  products.update(kettle).value();
  fmt::print("after update: {} costs {}\n", products.get(ids[0]).value().name,
             products.get(ids[0]).value().price_cents);

  // Inside a transaction the invalidation waits for the commit; a rollback invalidates nothing.
  auto rolled_back = ormkit::transact(*db, [&](ormkit::transaction&) -> ormkit::status {
    auto k = products.get(ids[0]).value();  // reads in a transaction go to the backend
    k.price_cents = 1;
    ORMKIT_TRY(products.update(k));
    return ormkit::unexpected(ormkit::errc::rejected, "changed my mind");
  });
  fmt::print("rolled back: {}; still cached: {}; price {}\n", rolled_back.error().message,
             store.contains(ormkit::cache_key<product>(ids[0])) ? "yes" : "no",
             products.get(ids[0]).value().price_cents);

  // A key the database lacks is remembered as absent (negative_ttl), until it is inserted.
  for (int i = 0; i < 3; ++i) (void)products.get(std::int64_t{404});
  fmt::print("404 looked up 3 times\n");
  print_stats(products);

  // get_many: the cached rows in one store call, the rest in one query.
  const std::vector<std::int64_t> wanted{ids[2], ids[1], ids[0]};
  for (const auto& p : products.get_many(wanted).value()) fmt::print("  {} {}\n", p.id, p.name);

  // Query results under a key you build; any write to the table retires them.
  const auto cheap = ormkit::query<product>(ormkit::col(&product::price_cents) < 2500).order_by(&product::name);
  const auto key = ormkit::cache_key_builder("shop").add("cheap_products").add(2500).str();
  fmt::print("cheap: {} products\n", products.find_cached(cheap, key).value().size());
  fmt::print("cheap: {} products (from the cache)\n", products.find_cached(cheap, key).value().size());
  products.insert({.name = "spoon", .price_cents = 199}).value();
  fmt::print("cheap: {} products (after an insert)\n", products.find_cached(cheap, key).value().size());
  print_stats(products);

  const auto st = store.stats();
  fmt::print("store: {} entries, {} sets, {} erases\n", st.entries, st.sets, st.erases);
}

// Expected output:
// first read:  kettle
// second read: kettle
// cached under ormkit:products:...
//   cache: 1 hits (0 'absent'), 1 misses, 1 loads, 3 invalidations, hit rate 50%
// after update: kettle costs 2499
// rolled back: changed my mind; still cached: yes; price 2499
// 404 looked up 3 times
//   cache: 6 hits (2 'absent'), 3 misses, 3 loads, 4 invalidations, hit rate 67%
//   3 mug
//   2 teapot
//   1 kettle
// cheap: 3 products
// cheap: 3 products (from the cache)
// cheap: 4 products (after an insert)
//   cache: 7 hits (2 'absent'), 5 misses, 5 loads, 5 invalidations, hit rate 58%
// store: 7 entries, 9 sets, 2 erases
