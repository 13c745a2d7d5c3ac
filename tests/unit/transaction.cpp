// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// ormkit::transaction and ormkit::transact over a backend that records the calls it
// receives and can fail begin/commit on demand: the RAII guard, commit/rollback state,
// nesting into savepoints, the retry policy for transient errors (from fn, from begin,
// from commit), and exceptions.

#include <ormkit/transaction.hpp>

#include <ormkit/memory/backend.hpp>
#include <ormkit/repository.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace ormkit_test;
using ormkit::errc;
using ormkit::status;
using names = std::vector<std::string>;

// A memory backend that logs transaction calls and fails them on demand.
class recording_backend {
 public:
  names calls;
  int failing_begins = 0;                  // the next n begin() calls fail with `begin_error`
  errc begin_error = errc::busy;
  int failing_commits = 0;                 // the next n commit() calls fail (and roll back)
  errc commit_error = errc::commit_unknown;
  ormkit::memory::backend inner;

  [[nodiscard]] auto name() const -> std::string_view { return "recording"; }
  auto ensure_table(const ormkit::table_schema& s) -> status { return inner.ensure_table(s); }
  auto insert(const ormkit::table_schema& s, std::span<const ormkit::value_view> r) -> ormkit::result<std::int64_t> {
    return inner.insert(s, r);
  }
  auto insert_many(const ormkit::table_schema& s, std::span<const ormkit::value_view> r, std::size_t n,
                   std::vector<std::int64_t>& ids) -> status {
    return inner.insert_many(s, r, n, ids);
  }
  auto upsert(const ormkit::table_schema& s, std::span<const ormkit::value_view> r, std::span<const std::size_t> c)
      -> ormkit::result<std::int64_t> {
    return inner.upsert(s, r, c);
  }
  auto update(const ormkit::table_schema& s, std::span<const std::size_t> c, std::span<const ormkit::value_view> v,
              const ormkit::expr& f) -> ormkit::result<std::uint64_t> {
    return inner.update(s, c, v, f);
  }
  auto erase(const ormkit::table_schema& s, const ormkit::expr& f) -> ormkit::result<std::uint64_t> {
    return inner.erase(s, f);
  }
  auto select(const ormkit::table_schema& s, const ormkit::query_spec& q) -> ormkit::result<ormkit::cursor> {
    return inner.select(s, q);
  }
  auto aggregate(const ormkit::table_schema& s, const ormkit::aggregate_spec& a) -> ormkit::result<ormkit::value_rows> {
    return inner.aggregate(s, a);
  }
  auto begin() -> status {
    calls.emplace_back("begin");
    if (failing_begins > 0) {
      --failing_begins;
      return ormkit::unexpected(begin_error, "recording: begin refused");
    }
    return inner.begin();
  }
  auto commit() -> status {
    calls.emplace_back("commit");
    if (failing_commits > 0) {
      --failing_commits;
      (void)inner.rollback();
      return ormkit::unexpected(commit_error, "recording: commit failed");
    }
    return inner.commit();
  }
  auto rollback() -> status {
    calls.emplace_back("rollback");
    return inner.rollback();
  }
  auto savepoint(std::string_view n) -> status {
    calls.push_back("savepoint " + std::string(n));
    return inner.savepoint(n);
  }
  auto release(std::string_view n) -> status {
    calls.push_back("release " + std::string(n));
    return inner.release(n);
  }
  auto rollback_to(std::string_view n) -> status {
    calls.push_back("rollback_to " + std::string(n));
    return inner.rollback_to(n);
  }
};
static_assert(ormkit::backend<recording_backend>);

constexpr ormkit::retry_policy no_wait(int attempts) { return {attempts, std::chrono::milliseconds(0)}; }

}  // namespace

TEST_CASE("transaction: a guard rolls back when destroyed without commit", "[transaction]") {
  recording_backend db;
  ormkit::repository<person> people(db);
  {
    auto tx = ormkit::transaction::begin(db);
    REQUIRE(tx.has_value());
    CHECK(tx->active());
    CHECK(tx->level() == 1);
    CHECK(tx->backend().address() == &db);
    REQUIRE(people.insert(make_person("a")).has_value());
    CHECK(db.inner.in_transaction());
  }
  CHECK(db.calls == names{"begin", "rollback"});
  CHECK_FALSE(db.inner.in_transaction());
  CHECK(people.count().value() == 0u);
}

TEST_CASE("transaction: commit and rollback work once", "[transaction]") {
  recording_backend db;
  ormkit::repository<person> people(db);
  {
    auto tx = ormkit::transaction::begin(db);
    REQUIRE(tx.has_value());
    REQUIRE(people.insert(make_person("a")).has_value());
    REQUIRE(tx->commit().has_value());
    CHECK_FALSE(tx->active());

    auto again = tx->commit();
    REQUIRE_FALSE(again.has_value());
    CHECK(again.error().is(errc::transaction_state));
    CHECK(again.error().message == "transaction: commit after commit or rollback");
    auto late = tx->rollback();
    CHECK(late.error().is(errc::transaction_state));
    CHECK(late.error().message == "transaction: rollback after commit or rollback");
  }
  CHECK(db.calls == names{"begin", "commit"});  // no rollback from the destructor
  CHECK(people.count().value() == 1u);

  db.calls.clear();
  {
    auto tx = ormkit::transaction::begin(db);
    REQUIRE(tx->rollback().has_value());
    CHECK(tx->commit().error().is(errc::transaction_state));
  }
  CHECK(db.calls == names{"begin", "rollback"});
}

TEST_CASE("transaction: a nested begin is a savepoint", "[transaction]") {
  recording_backend db;
  ormkit::repository<person> people(db);
  {
    auto outer = ormkit::transaction::begin(db);
    REQUIRE(outer.has_value());
    REQUIRE(people.insert(make_person("outer")).has_value());
    {
      auto inner = ormkit::transaction::begin(db);
      REQUIRE(inner.has_value());
      CHECK(inner->level() == 2);
      {
        auto third = ormkit::transaction::begin(db);
        CHECK(third->level() == 3);
        REQUIRE(people.insert(make_person("third")).has_value());
        REQUIRE(third->commit().has_value());
      }
      REQUIRE(people.insert(make_person("inner")).has_value());
      REQUIRE(inner->rollback().has_value());
    }
    {
      auto kept = ormkit::transaction::begin(db);
      CHECK(kept->level() == 2);  // the depth went back down
      REQUIRE(people.insert(make_person("kept")).has_value());
      REQUIRE(kept->commit().has_value());
    }
    REQUIRE(outer->commit().has_value());
  }
  CHECK(db.calls == names{"begin", "savepoint ormkit_sp_1", "savepoint ormkit_sp_2", "release ormkit_sp_2",
                          "rollback_to ormkit_sp_1", "release ormkit_sp_1", "savepoint ormkit_sp_1",
                          "release ormkit_sp_1", "commit"});
  CHECK(names_of(people.find(ormkit::query<person>().order_by(&person::name)).value()) == names{"kept", "outer"});

  // After the outermost commit, the next begin is a transaction again.
  db.calls.clear();
  auto next = ormkit::transaction::begin(db);
  CHECK(next->level() == 1);
  CHECK(db.calls == names{"begin"});
}

TEST_CASE("transaction: a moved guard rolls back once", "[transaction]") {
  recording_backend db;
  {
    auto tx = ormkit::transaction::begin(db);
    REQUIRE(tx.has_value());
    ormkit::transaction moved(std::move(*tx));
    CHECK(moved.active());
    CHECK_FALSE(tx->active());
  }
  CHECK(db.calls == names{"begin", "rollback"});
}

TEST_CASE("transaction: depth is kept per backend", "[transaction]") {
  recording_backend a, b;
  auto ta = ormkit::transaction::begin(a);
  auto tb = ormkit::transaction::begin(b);
  CHECK(ta->level() == 1);
  CHECK(tb->level() == 1);
  CHECK(a.calls == names{"begin"});
  CHECK(b.calls == names{"begin"});
}

TEST_CASE("transaction: a refused begin is returned", "[transaction]") {
  recording_backend db;
  db.failing_begins = 1;
  db.begin_error = errc::unavailable;
  auto tx = ormkit::transaction::begin(db);
  REQUIRE_FALSE(tx.has_value());
  CHECK(tx.error().is(errc::unavailable));
  // The failed begin left no depth behind.
  auto ok = ormkit::transaction::begin(db);
  CHECK(ok->level() == 1);
}

TEST_CASE("transact: retries a transient error from fn exactly max_attempts times", "[transaction]") {
  recording_backend db;
  ormkit::repository<person> people(db);
  const int attempts = GENERATE(1, 3, 5);
  CAPTURE(attempts);

  int calls = 0;
  auto st = ormkit::transact(
      db,
      [&](ormkit::transaction&) -> status {
        ++calls;
        ORMKIT_TRY(people.insert(make_person("try " + std::to_string(calls))));
        return ormkit::unexpected(errc::busy, "database is locked");
      },
      no_wait(attempts));
  REQUIRE_FALSE(st.has_value());
  CHECK(st.error().is(errc::busy));
  CHECK(st.error().message == "database is locked");
  CHECK(calls == attempts);
  names expected;
  for (int i = 0; i < attempts; ++i) expected.insert(expected.end(), {"begin", "rollback"});
  CHECK(db.calls == expected);
  CHECK(people.count().value() == 0u);  // every attempt was rolled back
}

TEST_CASE("transact: the default policy makes three attempts", "[transaction]") {
  recording_backend db;
  int calls = 0;
  auto st = ormkit::transact(db, [&](ormkit::transaction&) -> status {
    ++calls;
    return ormkit::unexpected(errc::timeout, "slow");
  });
  CHECK(st.error().is(errc::timeout));
  CHECK(calls == 3);
  CHECK(ormkit::retry_policy{}.max_attempts == 3);
}

TEST_CASE("transact: errors that are not transient are not retried", "[transaction]") {
  recording_backend db;
  for (errc code : {errc::conflict, errc::not_found, errc::validation_failed, errc::commit_unknown, errc::corrupt}) {
    CAPTURE(ormkit::to_string(code));
    db.calls.clear();
    int calls = 0;
    auto st = ormkit::transact(
        db,
        [&](ormkit::transaction&) -> status {
          ++calls;
          return ormkit::unexpected(code, "no");
        },
        no_wait(5));
    CHECK(st.error().is(code));
    CHECK(calls == 1);
    CHECK(db.calls == names{"begin", "rollback"});
  }
}

TEST_CASE("transact: a transient error that clears is retried and then committed", "[transaction]") {
  recording_backend db;
  ormkit::repository<person> people(db);
  int calls = 0;
  auto st = ormkit::transact(
      db,
      [&](ormkit::transaction&) -> status {
        ++calls;
        ORMKIT_TRY(people.insert(make_person("attempt " + std::to_string(calls))));
        if (calls == 1) return ormkit::unexpected(errc::busy, "locked");
        if (calls == 2) return ormkit::unexpected(errc::unavailable, "gone");
        return {};
      },
      no_wait(3));
  REQUIRE(st.has_value());
  CHECK(calls == 3);
  CHECK(db.calls == names{"begin", "rollback", "begin", "rollback", "begin", "commit"});
  CHECK(names_of(people.find_all().value()) == names{"attempt 3"});
}

TEST_CASE("transact: a refused begin is retried when transient", "[transaction]") {
  recording_backend db;
  int calls = 0;
  auto fn = [&](ormkit::transaction&) -> status {
    ++calls;
    return {};
  };

  db.failing_begins = 2;
  CHECK(ormkit::transact(db, fn, no_wait(3)).has_value());
  CHECK(calls == 1);
  CHECK(db.calls == names{"begin", "begin", "begin", "commit"});

  db.calls.clear();
  db.failing_begins = 3;
  auto st = ormkit::transact(db, fn, no_wait(3));
  CHECK(st.error().is(errc::busy));
  CHECK(calls == 1);  // fn never ran
  CHECK(db.calls == names{"begin", "begin", "begin"});

  db.calls.clear();
  db.failing_begins = 1;
  db.begin_error = errc::cannot_open;
  CHECK(ormkit::transact(db, fn, no_wait(3)).error().is(errc::cannot_open));
  CHECK(db.calls == names{"begin"});
}

TEST_CASE("transact: a failed commit is returned and retried only when transient", "[transaction]") {
  recording_backend db;
  ormkit::repository<person> people(db);
  int calls = 0;
  auto fn = [&](ormkit::transaction&) -> status {
    ++calls;
    ORMKIT_TRY(people.insert(make_person("x")));
    return {};
  };

  db.failing_commits = 1;
  db.commit_error = errc::commit_unknown;
  auto st = ormkit::transact(db, fn, no_wait(3));
  CHECK(st.error().is(errc::commit_unknown));
  CHECK(st.error().message == "recording: commit failed");
  CHECK(calls == 1);
  CHECK(db.calls == names{"begin", "commit"});

  db.calls.clear();
  calls = 0;
  db.failing_commits = 1;
  db.commit_error = errc::busy;
  CHECK(ormkit::transact(db, fn, no_wait(3)).has_value());
  CHECK(calls == 2);
  CHECK(db.calls == names{"begin", "commit", "begin", "commit"});
  CHECK(people.count().value() == 1u);
}

TEST_CASE("transact: nested calls use savepoints and are never retried on their own", "[transaction]") {
  recording_backend db;
  int outer_calls = 0, inner_calls = 0;
  auto st = ormkit::transact(
      db,
      [&](ormkit::transaction& outer) -> status {
        ++outer_calls;
        CHECK(outer.level() == 1);
        return ormkit::transact(
            db,
            [&](ormkit::transaction& inner) -> status {
              ++inner_calls;
              CHECK(inner.level() == 2);
              return ormkit::unexpected(errc::busy, "inner busy");
            },
            no_wait(5));
      },
      no_wait(2));
  CHECK(st.error().is(errc::busy));
  CHECK(outer_calls == 2);  // the outermost call retries the whole unit
  CHECK(inner_calls == 2);  // once per outer attempt
  CHECK(db.calls == names{"begin", "savepoint ormkit_sp_1", "rollback_to ormkit_sp_1", "release ormkit_sp_1",
                          "rollback", "begin", "savepoint ormkit_sp_1", "rollback_to ormkit_sp_1",
                          "release ormkit_sp_1", "rollback"});
}

TEST_CASE("transact: returns the value of a result function", "[transaction]") {
  recording_backend db;
  auto r = ormkit::transact(db, [](ormkit::transaction&) -> ormkit::result<std::string> { return std::string("done"); });
  CHECK(r.value() == "done");
  CHECK(db.calls == names{"begin", "commit"});
}

TEST_CASE("transact: an exception rolls back and propagates", "[transaction]") {
  recording_backend db;
  ormkit::repository<person> people(db);
  int calls = 0;
  auto run = [&] {
    (void)ormkit::transact(
        db,
        [&](ormkit::transaction&) -> status {
          ++calls;
          ORMKIT_TRY(people.insert(make_person("doomed")));
          throw std::out_of_range("boom");
        },
        no_wait(3));
  };
  CHECK_THROWS_AS(run(), std::out_of_range);
  CHECK(calls == 1);  // exceptions are not retried
  CHECK(db.calls == names{"begin", "rollback"});
  CHECK(people.count().value() == 0u);
  CHECK_FALSE(db.inner.in_transaction());
}

TEST_CASE("transact: a negative backoff does not hang", "[transaction]") {
  recording_backend db;
  int calls = 0;
  auto st = ormkit::transact(
      db,
      [&](ormkit::transaction&) -> status {
        ++calls;
        return ormkit::unexpected(errc::busy, "locked");
      },
      ormkit::retry_policy{3, std::chrono::milliseconds(-5)});
  CHECK(st.error().is(errc::busy));
  CHECK(calls == 3);
}
