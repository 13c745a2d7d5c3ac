// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// tests/conformance/helpers.hpp
//
// Set-up steps several conformance files share.

#include <ormkit/repository.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"

#include <string>

namespace ormkit_test {

/// Inserts tenants 1..n (named t1..tn), which memberships reference.
inline void add_tenants(ormkit::backend_ref db, int n) {
  ormkit::repository<tenant> tenants(db);
  for (int i = 1; i <= n; ++i) {
    tenant t;
    t.name = "t" + std::to_string(i);
    REQUIRE(tenants.insert(t).value().id == i);
  }
}

}  // namespace ormkit_test
