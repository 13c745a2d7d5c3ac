// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// 07_third_party_entity: persisting a type you cannot edit (a vendor's or a
// generated struct) by specializing `ormkit::entity_traits` instead of adding
// the `ormkit_describe` friend. Everything else works the same.

#include <ormkit/cache_key.hpp>
#include <ormkit/entity.hpp>
#include <ormkit/memory.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/rules.hpp>
#include <ormkit/rules/pattern.hpp>  // rules::pattern: its own header, as it includes <regex>

#include <fmt/core.h>

#include <cstdint>
#include <string>

// --- imagine this comes from <vendor/billing.h>: no friend can be added ---
namespace vendor {
struct invoice {
  std::string number;
  std::string customer;
  std::int64_t amount_cents;
  bool paid;
};
}  // namespace vendor
// --- end of the vendor header ---

// The specialization must be visible wherever the entity is used: put it in
// your own header next to the vendor include. The descriptor is the same
// builder the friend would return, and it is checked against the struct the
// same way (every member described, in declaration order, with its type).
template <>
struct ormkit::entity_traits<vendor::invoice> {
  static constexpr auto descriptor =
      ormkit::describe<vendor::invoice>("invoices")
          .column(&vendor::invoice::number, "number", ormkit::primary_key, ormkit::rules::pattern{"INV-[0-9]{4}"})
          .column(&vendor::invoice::customer, "customer", ormkit::rules::not_empty{})
          .column(&vendor::invoice::amount_cents, "amount_cents", ormkit::rules::range{1, 10'000'000})
          .column(&vendor::invoice::paid, "paid")
          .index("ix_invoices_customer", &vendor::invoice::customer);
};

static_assert(ormkit::entity<vendor::invoice>);

namespace {
// The vendor type has no member defaults, so it is filled in explicitly.
auto make_invoice(std::string number, std::string customer, std::int64_t cents) -> vendor::invoice {
  return vendor::invoice{std::move(number), std::move(customer), cents, false};
}
}  // namespace

int main() {
  ormkit::memory::backend db;
  ormkit::repository<vendor::invoice> invoices(db);

  invoices.insert(make_invoice("INV-0001", "acme", 125000)).value();
  invoices.insert(make_invoice("INV-0002", "globex", 9900)).value();
  invoices.insert(make_invoice("INV-0003", "acme", 45000)).value();

  // The primary key is the vendor's text number.
  auto inv = invoices.get("INV-0002").value();
  inv.paid = true;
  invoices.update(inv).value();

  using ormkit::col;
  auto open = invoices
                  .find(ormkit::query<vendor::invoice>(col(&vendor::invoice::paid) == false)
                            .order_by(&vendor::invoice::amount_cents, ormkit::desc))
                  .value();
  fmt::print("unpaid invoices:\n");
  for (const auto& i : open) fmt::print("  {} {} {}\n", i.number, i.customer, i.amount_cents);

  // Rules and keys come from the specialization as well.
  auto bad = invoices.insert(make_invoice("2024/17", "", 0));
  fmt::print("insert: {}\n", bad.error().code.message());
  for (const auto& v : bad.error().violations) fmt::print("  {}\n", v.message);
  auto taken = invoices.insert(make_invoice("INV-0001", "initech", 100));
  fmt::print("insert: {}\n", taken.error().describe());
  fmt::print("cache key: {}\n", ormkit::cache_key_of(inv));
}

// Expected output:
// unpaid invoices:
//   INV-0001 acme 125000
//   INV-0003 acme 45000
// insert: validation_failed
//   invoices.number: must match the pattern "INV-[0-9]{4}" (got "2024/17")
//   invoices.customer: must not be empty (got "")
//   invoices.amount_cents: must be between 1 and 10000000 (got 0)
// insert: [ormkit.conflict] invoices.number: value "INV-0001" already exists (primary key)
// cache key: ormkit:invoices:ef54659b7836bf1a:INV-0002
