// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// ormkit.hpp
//
// The backend-neutral core in one include: descriptors, column types, rules
// and validation, cache keys, queries, repositories and transactions. No
// backend (include <ormkit/memory.hpp>, and later <ormkit/sqlite.hpp> ...) and
// no nlohmann/json.hpp (include <ormkit/json.hpp> for the JSON codec), and no
// <regex> (include <ormkit/rules/pattern.hpp> for rules::pattern).
//
// Cost: see the README's compile-time table (benchmarks/compile/measure.sh);
// include the specific headers in your own code when compile time matters.

#include <ormkit/backend.hpp>
#include <ormkit/cache_key.hpp>
#include <ormkit/column_traits.hpp>
#include <ormkit/describe.hpp>
#include <ormkit/entity.hpp>
#include <ormkit/error.hpp>
#include <ormkit/query.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/result.hpp>
#include <ormkit/rules.hpp>
#include <ormkit/schema.hpp>
#include <ormkit/transaction.hpp>
#include <ormkit/validator.hpp>
#include <ormkit/value.hpp>
#include <ormkit/version.hpp>
