// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

#pragma once

// tests/support/catch.hpp
//
// One include for Catch2 v2 (Debian: <catch2/catch.hpp>) and v3 (Conan, vcpkg:
// split headers). Tests keep to what both versions spell the same way:
// TEST_CASE, SECTION, REQUIRE/CHECK (+ _FALSE, _THROWS_AS, _THROWS_WITH, _NOTHROW),
// STATIC_REQUIRE, TEMPLATE_TEST_CASE, TEMPLATE_LIST_TEST_CASE, Catch::Approx, INFO, CAPTURE.
// Matchers are named differently in v2 and v3: do not use them directly.
//
// Benchmarks define ORMKIT_CATCH_BENCHMARKS (benchmarks/CMakeLists.txt does) to get BENCHMARK.

#if __has_include(<catch2/catch_test_macros.hpp>)
#include <catch2/catch_approx.hpp>
#include <catch2/catch_template_test_macros.hpp>
#include <catch2/catch_test_macros.hpp>
#if defined(ORMKIT_CATCH_BENCHMARKS)
#include <catch2/benchmark/catch_benchmark.hpp>
#endif
#else
#if defined(ORMKIT_CATCH_BENCHMARKS) && !defined(CATCH_CONFIG_ENABLE_BENCHMARKING)
#define CATCH_CONFIG_ENABLE_BENCHMARKING
#endif
#include <catch2/catch.hpp>
// v3 spells it Catch::Approx; v2 has Catch::Detail::Approx (and a global Approx).
namespace Catch {
using Detail::Approx;
}  // namespace Catch
#endif
