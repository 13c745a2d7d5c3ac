// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// 06_custom_column_type: storing your own types. One `column_traits<T>`
// specialization teaches ormkit a value type everywhere (writes, reads,
// queries, cache keys, JSON); an `ormkit_enum_names` hook stores an enum as text.

#include <ormkit/column_traits.hpp>
#include <ormkit/memory.hpp>
#include <ormkit/query.hpp>
#include <ormkit/repository.hpp>

#include <fmt/format.h>

#include <array>
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

namespace shop {

// A value type: an amount in cents, so sums never round.
struct money {
  std::int64_t cents = 0;
  friend auto operator<=>(const money&, const money&) = default;
};

auto to_string(money m) -> std::string { return fmt::format("${}.{:02}", m.cents / 100, m.cents % 100); }

// Stored as text ("placed", ...) rather than 0, 1, 2: readable in the
// database, and reordering the enumerators cannot silently change old rows.
enum class order_status { placed, shipped, delivered };

constexpr auto ormkit_enum_names(std::type_identity<order_status>) {
  return std::array{std::pair{order_status::placed, std::string_view("placed")},
                    std::pair{order_status::shipped, std::string_view("shipped")},
                    std::pair{order_status::delivered, std::string_view("delivered")}};
}

}  // namespace shop

// The one specialization ormkit needs for `money`: a stable name (part of the
// schema hash), the storage class, and the two conversions.
template <>
struct ormkit::column_traits<shop::money> {
  static constexpr std::string_view name = "money";
  static constexpr ormkit::storage storage = ormkit::storage::integer;
  static auto to_value(const shop::money& m) -> ormkit::value { return m.cents; }
  static auto from_value(const ormkit::value_view& v) -> ormkit::result<shop::money> {
    if (const auto* cents = std::get_if<std::int64_t>(&v)) return shop::money{*cents};
    return ormkit::column_traits_mismatch(name, storage, v);  // "expected integer for money, got text ..."
  }
};

namespace shop {

struct order {
  std::int64_t id{};
  std::string customer{};
  money total{};
  order_status status{};

  friend constexpr auto ormkit_describe(std::type_identity<order>) {
    using namespace ormkit;
    return describe<order>("orders")
        .column(&order::id, "id", primary_key, auto_increment)
        .column(&order::customer, "customer")
        // Rules work on custom types too, through custom predicates.
        .column(&order::total, "total",
                rules::custom{[](money m) { return m.cents > 0; }, "positive", "must be more than zero"})
        .column(&order::status, "status");
  }
};

}  // namespace shop

int main() {
  using shop::money;
  using shop::order;
  using shop::order_status;
  static_assert(ormkit::column_value<money> && ormkit::column_value<order_status>);

  ormkit::memory::backend db;
  ormkit::repository<order> orders(db);
  orders.insert({.customer = "ada", .total = money{4250}, .status = order_status::delivered}).value();
  orders.insert({.customer = "alan", .total = money{1999}, .status = order_status::shipped}).value();
  orders.insert({.customer = "grace", .total = money{12000}, .status = order_status::placed}).value();

  // Queries compare with `money` values: the trait encodes the operand.
  using ormkit::col;
  auto big = orders.find(col(&order::total) >= money{4000}).value();
  fmt::print("orders of $40.00 or more:\n");
  for (const auto& o : big) fmt::print("  #{} {} {}\n", o.id, o.customer, shop::to_string(o.total));

  // And with enum values; the stored form is the name.
  auto shipped = orders.find_one(col(&order::status) == order_status::shipped).value();
  fmt::print("shipped: {}\n", shipped->customer);

  // What the backend holds: integers for money, names for the enum.
  auto encoded_total = ormkit::encode(shipped->total).value();
  auto encoded_status = ormkit::encode(shipped->status).value();
  fmt::print("stored as: total={} status={}\n", ormkit::to_display(encoded_total), ormkit::to_display(encoded_status));
  auto per_status = orders.run(ormkit::aggregate<order>().group_by(&order::status).count()).value();
  for (const auto& r : per_status)
    fmt::print("  status {} -> {} order(s)\n", ormkit::to_display(r[0]), ormkit::to_display(r[1]));

  // An enum value without a name has no stored form: an error, not a number.
  auto odd = orders.insert({.customer = "eve", .total = money{100}, .status = static_cast<order_status>(7)});
  fmt::print("insert with status 7: {}\n", odd.error().describe());

  // The custom rule on the custom type.
  auto free = orders.insert({.customer = "mallory", .total = money{0}, .status = order_status::placed});
  fmt::print("insert with total 0: {}\n", free.error().describe());

  // Reading a row decodes through the same trait; a mismatch names the column and the type.
  std::array<ormkit::value_view, 4> row{std::int64_t{9}, std::string_view("bob"), std::string_view("12.50"),
                                        std::string_view("placed")};
  fmt::print("decode bad row: {}\n", ormkit::repository<order>::decode_row(row).error().message);
}

// Expected output:
// orders of $40.00 or more:
//   #1 ada $42.50
//   #3 grace $120.00
// shipped: alan
// stored as: total=1999 status="shipped"
//   status "delivered" -> 1 order(s)
//   status "placed" -> 1 order(s)
//   status "shipped" -> 1 order(s)
// insert with status 7: [ormkit.invalid_argument] orders.status: enum value 7 has no name in ormkit_enum_names
// insert with total 0: [ormkit.validation_failed] orders: 1 violation: orders.total: must be more than zero (got 0)
// decode bad row: orders.total: expected integer for money, got text "12.50"
