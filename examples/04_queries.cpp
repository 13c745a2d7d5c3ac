// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// 04_queries: typed conditions, ordering, offset and keyset paging, streaming,
// counting and aggregates. The same query runs on every backend.

#include <ormkit/memory.hpp>
#include <ormkit/query.hpp>
#include <ormkit/repository.hpp>

#include <fmt/format.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

struct product {
  std::int64_t id{};
  std::string name{};
  std::string category{};
  std::int64_t price_cents{};
  int stock{};
  std::optional<std::string> supplier{};

  friend constexpr auto ormkit_describe(std::type_identity<product>) {
    using namespace ormkit;
    return describe<product>("products")
        .column(&product::id, "id", primary_key, auto_increment)
        .column(&product::name, "name", unique)
        .column(&product::category, "category")
        .column(&product::price_cents, "price_cents")
        .column(&product::stock, "stock")
        .column(&product::supplier, "supplier")
        .index("ix_products_category_price", &product::category, &product::price_cents);
  }
};

namespace {
void show(std::string_view title, const std::vector<product>& rows) {
  fmt::print("{}:", title);
  for (const auto& p : rows) fmt::print(" {}", p.name);
  fmt::print("\n");
}

// Prices are integer cents; avg() yields a real, like SQL's AVG.
auto money(const ormkit::value& v) -> std::string {
  double cents = 0;
  if (const auto* i = std::get_if<std::int64_t>(&v)) cents = static_cast<double>(*i);
  else if (const auto* r = std::get_if<double>(&v)) cents = *r;
  return fmt::format("{:.2f}", cents / 100);
}
}  // namespace

int main() {
  ormkit::memory::backend db;
  ormkit::repository<product> products(db);
  products
      .insert_many({{.name = "kettle", .category = "kitchen", .price_cents = 2999, .stock = 12},
                    {.name = "toaster", .category = "kitchen", .price_cents = 3499, .stock = 0},
                    {.name = "whisk", .category = "kitchen", .price_cents = 499, .stock = 40, .supplier = "acme"},
                    {.name = "lamp", .category = "living", .price_cents = 4599, .stock = 5, .supplier = "lumen"},
                    {.name = "rug", .category = "living", .price_cents = 12900, .stock = 2},
                    {.name = "sofa", .category = "living", .price_cents = 89900, .stock = 1, .supplier = "acme"},
                    {.name = "drill", .category = "tools", .price_cents = 7999, .stock = 8},
                    {.name = "hammer", .category = "tools", .price_cents = 1599, .stock = 25, .supplier = "acme"}})
      .value();

  // `col(&product::price_cents)` is typed: comparing it with a string does not compile.
  using ormkit::col;
  using ormkit::query;
  auto cheap = products.find(col(&product::price_cents) < 3000).value();
  show("price < 30.00", cheap);
  show("kitchen, in stock", products.find(col(&product::category) == "kitchen" && col(&product::stock) > 0).value());
  show("tools or acme", products.find(col(&product::category) == "tools" || col(&product::supplier) == "acme").value());
  show("not kitchen", products.find(!(col(&product::category) == "kitchen")).value());
  show("name like '%er'", products.find(col(&product::name).like("%er")).value());
  show("name in (rug, sofa, bed)", products.find(col(&product::name).in({"rug", "sofa", "bed"})).value());
  show("price between 40 and 130", products.find(col(&product::price_cents).between(4000, 13000)).value());
  // SQL semantics: `supplier != "acme"` is unknown for NULL suppliers, so they need is_null().
  show("supplier != acme", products.find(col(&product::supplier) != "acme").value());
  show("no supplier", products.find(col(&product::supplier).is_null()).value());

  // Ordering, limit and offset.
  auto by_price = query<product>().order_by(&product::price_cents, ormkit::desc).limit(3);
  show("3 most expensive", products.find(by_price).value());
  show("next 3", products.find(query<product>(by_price).offset(3)).value());

  // Offset paging counts the total, for "page 2 of 3" displays.
  auto page = products.page_of(query<product>().order_by(&product::name), 2, 3).value();
  fmt::print("page {} of {} ({} products):", page.number, page.page_count(), page.total);
  for (const auto& p : page.items) fmt::print(" {}", p.name);
  fmt::print("\n");

  // Keyset paging continues after the last row seen: stable under inserts and
  // cheap on deep pages (no offset to skip). The primary key breaks ties.
  auto by_category = query<product>().order_by(&product::category).order_by(&product::price_cents);
  std::optional<product> last;
  for (int n = 1;; ++n) {
    auto next = products.page_after(by_category, last, 3).value();
    fmt::print("keyset page {}:", n);
    for (const auto& p : next.items) fmt::print(" {}/{}", p.category, p.name);
    fmt::print("\n");
    if (!next.has_more) break;
    last = next.items.back();
  }

  // stream decodes one row at a time instead of building a vector.
  std::int64_t stock_value = 0;
  auto rows = products.stream(query<product>(col(&product::stock) > 0)).value();
  for (const auto& p : rows) stock_value += p.price_cents * p.stock;
  fmt::print("stock value: {}.{:02}\n", stock_value / 100, stock_value % 100);

  fmt::print("count(living) = {}\n", products.count(col(&product::category) == "living").value());
  fmt::print("exists(stock == 0) = {}\n", products.exists(col(&product::stock) == 0).value());

  // Aggregates: rows hold the group values, then one value per term, as ormkit::value.
  auto stats = products
                   .run(ormkit::aggregate<product>()
                            .group_by(&product::category)
                            .count()
                            .count(&product::supplier)
                            .sum(&product::stock)
                            .avg(&product::price_cents)
                            .max(&product::price_cents))
                   .value();
  fmt::print("category  count  suppliers  stock  avg price  max price\n");
  for (const auto& r : stats)
    fmt::print("{:<8}  {:>5}  {:>9}  {:>5}  {:>9}  {:>9}\n", std::get<std::string>(r[0]), std::get<std::int64_t>(r[1]),
               std::get<std::int64_t>(r[2]), std::get<std::int64_t>(r[3]), money(r[4]), money(r[5]));
}

// Expected output:
// price < 30.00: kettle whisk hammer
// kitchen, in stock: kettle whisk
// tools or acme: whisk sofa drill hammer
// not kitchen: lamp rug sofa drill hammer
// name like '%er': toaster hammer
// name in (rug, sofa, bed): rug sofa
// price between 40 and 130: lamp rug drill
// supplier != acme: lamp
// no supplier: kettle toaster rug drill
// 3 most expensive: sofa rug drill
// next 3: lamp toaster kettle
// page 2 of 3 (8 products): lamp rug sofa
// keyset page 1: kitchen/whisk kitchen/kettle kitchen/toaster
// keyset page 2: living/lamp living/rug living/sofa
// keyset page 3: tools/hammer tools/drill
// stock value: 2986.10
// count(living) = 3
// exists(stock == 0) = true
// category  count  suppliers  stock  avg price  max price
// kitchen       3          1     52      23.32      34.99
// living        3          2      8     358.00     899.00
// tools         2          1     33      47.99      79.99
