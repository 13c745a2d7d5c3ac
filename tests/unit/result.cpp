// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// ormkit::result<T> and result<void>: the std::expected member set, value() throwing
// ormkit::exception with "[ormkit.<code>] message", copies and moves between the value
// and error states, ORMKIT_TRY; and the error vocabulary (errc wired into
// std::error_code under the category "ormkit").

#include <ormkit/result.hpp>

#include "../support/catch.hpp"

#include <memory>
#include <stdexcept>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>
#include <vector>

namespace {

using ormkit::errc;
using ormkit::result;
using ormkit::status;
using ormkit::unexpected;

auto not_found() -> result<int> { return unexpected(errc::not_found, "users: no row with id=1"); }

// ORMKIT_TRY in functions returning status and result<T>.
auto parse_positive(int v) -> result<int> {
  if (v <= 0) return unexpected(errc::invalid_argument, "value " + std::to_string(v) + " is not positive");
  return v;
}

auto sum_positive(int a, int b, int& steps) -> result<int> {
  ORMKIT_TRY(parse_positive(a));
  ++steps;
  ORMKIT_TRY(parse_positive(b));
  ++steps;
  return a + b;
}

auto check_all(const std::vector<int>& values, int& evaluations) -> status {
  for (int v : values) {
    ORMKIT_TRY((++evaluations, parse_positive(v)));
  }
  return {};
}

}  // namespace

TEST_CASE("result: holds a value", "[result]") {
  result<int> r = 42;
  CHECK(r.has_value());
  CHECK(static_cast<bool>(r));
  CHECK(r.value() == 42);
  CHECK(*r == 42);
  CHECK(r.value_or(0) == 42);

  result<std::string> s = std::string("text");
  CHECK(s->size() == 4);
  *s += "!";
  CHECK(s.value() == "text!");
  CHECK(std::move(s).value() == "text!");

  result<std::vector<int>> d;  // default: a value-initialized T
  REQUIRE(d.has_value());
  CHECK(d->empty());
  STATIC_REQUIRE(std::is_same_v<result<int>::value_type, int>);
  STATIC_REQUIRE(std::is_same_v<result<int>::error_type, ormkit::error>);
}

TEST_CASE("result: holds an error", "[result]") {
  auto r = not_found();
  CHECK_FALSE(r.has_value());
  CHECK_FALSE(static_cast<bool>(r));
  CHECK(r.error().is(errc::not_found));
  CHECK(r.error().code == errc::not_found);
  CHECK(r.error().message == "users: no row with id=1");
  CHECK(r.value_or(7) == 7);

  result<int> from_error = ormkit::error(errc::busy, "locked", "SQLITE_BUSY");
  CHECK(from_error.error().is(errc::busy));
  CHECK(from_error.error().native == "SQLITE_BUSY");
  result<int> from_unexpected = unexpected(errc::conflict, "taken", "23505");
  CHECK(from_unexpected.error().native == "23505");
}

TEST_CASE("result: value() on an error throws ormkit::exception", "[result]") {
  auto r = not_found();
  CHECK_THROWS_AS(r.value(), ormkit::exception);
  CHECK_THROWS_AS(r.value(), std::system_error);
  CHECK_THROWS_WITH(r.value(), "[ormkit.not_found] users: no row with id=1");
  CHECK_THROWS_WITH(std::as_const(r).value(), "[ormkit.not_found] users: no row with id=1");
  CHECK_THROWS_WITH(not_found().value(), "[ormkit.not_found] users: no row with id=1");
  try {
    (void)r.value();
    FAIL("value() did not throw");
  } catch (const ormkit::exception& e) {
    CHECK(e.code() == errc::not_found);
    CHECK(e.code().category().name() == std::string("ormkit"));
    CHECK(e.error().message == "users: no row with id=1");
    CHECK(e.error().is(errc::not_found));
  }

  status st = unexpected(errc::timeout, "postgres: no answer within 5000 ms");
  CHECK_THROWS_WITH(st.value(), "[ormkit.timeout] postgres: no answer within 5000 ms");
  CHECK_NOTHROW(status().value());
}

TEST_CASE("result: copies and moves between values and errors", "[result]") {
  result<std::string> a = std::string("alpha");
  result<std::string> b = unexpected(errc::corrupt, "bad");

  result<std::string> c = a;
  CHECK(c.value() == "alpha");
  c = b;
  REQUIRE_FALSE(c.has_value());
  CHECK(c.error().message == "bad");
  c = a;
  CHECK(c.value() == "alpha");
  c = std::move(b);
  CHECK(c.error().is(errc::corrupt));
  result<std::string> d = std::move(c);
  CHECK(d.error().message == "bad");
  d = result<std::string>(std::string("again"));
  CHECK(d.value() == "again");
  auto& alias = d;
  d = alias;  // self-assignment keeps the value
  CHECK(d.value() == "again");

  result<std::unique_ptr<int>> owned = std::make_unique<int>(5);
  auto moved = std::move(owned);
  CHECK(**moved == 5);
}

TEST_CASE("result: and_then chains results and skips on error", "[result]") {
  auto half = [](int v) -> result<int> {
    if (v % 2) return unexpected(errc::invalid_argument, std::to_string(v) + " is odd");
    return v / 2;
  };
  CHECK(result<int>(8).and_then(half).and_then(half).value() == 2);
  CHECK(result<int>(6).and_then(half).and_then(half).error().message == "3 is odd");

  int calls = 0;
  auto counted = [&](int v) -> result<std::string> {
    ++calls;
    return std::to_string(v);
  };
  CHECK(not_found().and_then(counted).error().is(errc::not_found));
  CHECK(calls == 0);
  CHECK(result<int>(3).and_then(counted).value() == "3");
  CHECK(calls == 1);

  // rvalue overload moves the value in
  auto take = [](std::unique_ptr<int> p) -> result<int> { return *p + 1; };
  CHECK(result<std::unique_ptr<int>>(std::make_unique<int>(1)).and_then(take).value() == 2);

  // result<void>
  CHECK(status().and_then([]() -> result<int> { return 1; }).value() == 1);
  CHECK(status(unexpected(errc::busy, "b")).and_then([]() -> result<int> { return 1; }).error().is(errc::busy));
}

TEST_CASE("result: transform maps the value and keeps the error", "[result]") {
  auto r = result<int>(20).transform([](int v) { return std::to_string(v) + "!"; });
  STATIC_REQUIRE(std::is_same_v<decltype(r), result<std::string>>);
  CHECK(r.value() == "20!");
  CHECK(not_found().transform([](int v) { return v * 2; }).error().message == "users: no row with id=1");

  int seen = 0;
  auto v = result<int>(4).transform([&](int x) { seen = x; });
  STATIC_REQUIRE(std::is_same_v<decltype(v), status>);
  CHECK(v.has_value());
  CHECK(seen == 4);
  CHECK_FALSE(not_found().transform([&](int x) { seen = x * 100; }).has_value());
  CHECK(seen == 4);

  CHECK(status().transform([] { return 5; }).value() == 5);
  CHECK(status(unexpected(errc::busy, "b")).transform([] { return 5; }).error().is(errc::busy));
}

TEST_CASE("result: or_else recovers from an error and keeps a value", "[result]") {
  auto recover = [](const ormkit::error& e) -> result<int> {
    if (e.is(errc::not_found)) return 0;
    return e;
  };
  CHECK(not_found().or_else(recover).value() == 0);
  CHECK(result<int>(9).or_else(recover).value() == 9);
  result<int> busy = unexpected(errc::busy, "locked");
  CHECK(busy.or_else(recover).error().is(errc::busy));

  int calls = 0;
  auto count = [&](const ormkit::error&) -> status {
    ++calls;
    return {};
  };
  CHECK(status().or_else(count).has_value());
  CHECK(calls == 0);
  CHECK(status(unexpected(errc::busy, "b")).or_else(count).has_value());
  CHECK(calls == 1);
}

TEST_CASE("result: ORMKIT_TRY returns the first error and evaluates once", "[result]") {
  int steps = 0;
  CHECK(sum_positive(2, 3, steps).value() == 5);
  CHECK(steps == 2);

  steps = 0;
  auto r = sum_positive(2, -3, steps);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(errc::invalid_argument));
  CHECK(r.error().message == "value -3 is not positive");
  CHECK(steps == 1);

  steps = 0;
  CHECK(sum_positive(0, -3, steps).error().message == "value 0 is not positive");
  CHECK(steps == 0);

  int evaluations = 0;
  CHECK(check_all({1, 2, 3}, evaluations).has_value());
  CHECK(evaluations == 3);
  evaluations = 0;
  auto st = check_all({1, -2, 3}, evaluations);
  CHECK(st.error().message == "value -2 is not positive");
  CHECK(evaluations == 2);
}

TEST_CASE("errc: is an error_code enum in the ormkit category", "[result][error]") {
  STATIC_REQUIRE(std::is_error_code_enum_v<errc>);
  std::error_code ec = errc::conflict;
  CHECK(ec.category().name() == std::string("ormkit"));
  CHECK(&ec.category() == &ormkit::error_category());
  CHECK(ec.value() == 3);
  CHECK(ec.message() == "conflict");
  CHECK(ec == errc::conflict);
  CHECK(ec != errc::busy);
  CHECK(ec != std::make_error_code(std::errc::io_error));

  CHECK(ormkit::to_string(errc::not_found) == "not_found");
  CHECK(ormkit::to_string(errc::validation_failed) == "validation_failed");
  CHECK(ormkit::to_string(errc::schema_mismatch) == "schema_mismatch");
  CHECK(ormkit::to_string(errc::commit_unknown) == "commit_unknown");
  CHECK(ormkit::to_string(errc::backend_error) == "backend_error");
  CHECK(ormkit::to_string(errc::rejected) == "rejected");
  CHECK(ormkit::to_string(static_cast<errc>(99)) == "unknown");

  CHECK(ormkit::is_transient(errc::busy));
  CHECK(ormkit::is_transient(errc::unavailable));
  CHECK(ormkit::is_transient(errc::timeout));
  CHECK_FALSE(ormkit::is_transient(errc::conflict));
  CHECK_FALSE(ormkit::is_transient(errc::commit_unknown));
}

TEST_CASE("error: describe is the bracketed code then the message", "[result][error]") {
  ormkit::error e(errc::validation_failed, "users: 1 violation: users.age: must be between 0 and 150 (got 200)");
  CHECK(e.describe() == "[ormkit.validation_failed] users: 1 violation: users.age: must be between 0 and 150 (got 200)");
  CHECK(e.is(errc::validation_failed));
  CHECK_FALSE(e.is(errc::conflict));

  // A foreign error_code keeps its own category and message.
  ormkit::error io(std::make_error_code(std::errc::no_such_file_or_directory), "db.json");
  CHECK(io.describe() == "[generic." + std::make_error_code(std::errc::no_such_file_or_directory).message() +
                             "] db.json");
  CHECK_FALSE(io.is(errc::io_error));

  ormkit::exception ex(e);
  CHECK(std::string(ex.what()) == e.describe());
  CHECK(ex.error().message == e.message);
}
