// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// ormkit::repository<T>, the typed layer, beyond the conformance suite: what insert
// stamps, transient members, accessors, decode errors naming the column (and hiding
// secrets), the value size limit, decode_row, and streams that meet a bad row.

#include <ormkit/repository.hpp>

#include <ormkit/memory/backend.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"

#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

namespace {

using namespace ormkit_test;
using ormkit::col;
using ormkit::errc;

struct vault {
  std::int64_t id{};
  std::uint64_t pin{};
  std::string note{};
  std::string password{};

  friend constexpr auto ormkit_describe(std::type_identity<vault>) {
    using namespace ormkit;
    return describe<vault>("vaults")
        .column(&vault::id, "id", primary_key)
        .column(&vault::pin, "pin", secret)
        .column(&vault::note, "note")
        .column(&vault::password, "password", secret);
  }
};

auto make_vault(std::int64_t id, std::uint64_t pin, std::string note) -> vault {
  vault v;
  v.id = id;
  v.pin = pin;
  v.note = std::move(note);
  v.password = "hunter2";
  return v;
}

// Text members with defaults of their own, short (in the string's own room) and long
// (on the heap): decoding replaces them whatever their length and capacity.
struct notebook {
  std::int64_t id{};
  std::string title = "untitled";
  std::string body = std::string(40, 'd');

  friend constexpr auto ormkit_describe(std::type_identity<notebook>) {
    using namespace ormkit;
    return describe<notebook>("notebooks")
        .column(&notebook::id, "id", primary_key)
        .column(&notebook::title, "title")
        .column(&notebook::body, "body");
  }

  friend auto operator==(const notebook&, const notebook&) -> bool = default;
};

// Overwrites column `column` of every row of T's table with `v`, bypassing the repository.
template <class T>
void poke(ormkit::memory::backend& db, std::size_t column, ormkit::value_view v) {
  const std::vector<std::size_t> cols{column};
  const std::vector<ormkit::value_view> vals{v};
  REQUIRE(db.update(ormkit::schema_of<T>(), cols, vals, ormkit::expr{}).has_value());
}

}  // namespace

TEST_CASE("repository: insert stamps the entity and returns it as stored", "[repository]") {
  ormkit::memory::backend db;
  ormkit::repository<user> users(db, {.clock = &fake_clock});
  auto now = fake_clock_next();
  auto u = users.insert(make_user("ann@example.com", "Ann"));
  REQUIRE(u.has_value());
  CHECK(u->id == 1);
  CHECK(u->version == 1);
  CHECK(u->created == now);
  CHECK(u->updated == now);
  CHECK(users.get(1).value() == *u);

  // One clock reading for a whole batch.
  now = fake_clock_next();
  auto batch = users.insert_many({make_user("b@example.com", "B"), make_user("c@example.com", "C")}).value();
  CHECK(ids_of(batch) == std::vector<std::int64_t>{2, 3});
  for (const auto& b : batch) {
    CHECK(b.created == now);
    CHECK(b.version == 1);
  }
}

TEST_CASE("repository: accessors name the schema the backend and the key", "[repository]") {
  ormkit::memory::backend db;
  ormkit::repository<membership> members(db);
  CHECK(members.schema().name == "memberships");
  CHECK(&members.schema() == &ormkit::schema_of<membership>());
  CHECK(members.backend().address() == &db);
  CHECK(members.backend().name() == "memory");
  CHECK(ormkit::repository<membership>::key_of(make_membership(4, "zed", "admin", 1)) ==
        std::tuple<std::int64_t, std::string>{4, "zed"});
  CHECK(ormkit::repository<person>::key_of(make_person("x")) == 0);

  // Copies are cheap and share the backend.
  tenant t;
  t.name = "t1";
  REQUIRE(ormkit::repository<tenant>(db).insert(t).has_value());
  auto copy = members;
  REQUIRE(copy.insert(make_membership(1, "ann", "admin", 1)).has_value());
  CHECK(members.count().value() == 1u);
}

TEST_CASE("repository: transient members are neither stored nor read", "[repository]") {
  ormkit::memory::backend db;
  ormkit::repository<widget> widgets(db);
  widget w;
  w.id = 1;
  w.label = "knob";
  w.scratch = 42;
  w.hits = 7;
  auto stored = widgets.insert(w).value();
  CHECK(stored.scratch == 42);  // the caller's copy is returned as given
  auto got = widgets.get(1).value();
  CHECK(got.scratch == 0);
  CHECK(got.label == "knob");
  CHECK(got.hits == 7);
  got.scratch = 9;
  got.hits = 8;
  REQUIRE(widgets.update(got).has_value());
  CHECK(widgets.get(1).value().hits == 8);
  CHECK(widgets.get(1).value().scratch == 0);
}

TEST_CASE("repository: a stored value that cannot be decoded names the column", "[repository]") {
  ormkit::memory::backend db;
  ormkit::repository<all_types> rows(db);
  auto e = rows.insert(all_types{}).value();
  poke<all_types>(db, 1, std::int64_t{300});  // i8
  const std::string message = "all_types.i8: value 300 is out of range for int8";

  auto got = rows.get(e.id);
  REQUIRE_FALSE(got.has_value());
  CHECK(got.error().is(errc::invalid_argument));
  CHECK(got.error().message == message);
  CHECK(rows.find_all().error().message == message);
  CHECK(rows.find_by_key(e.id).error().message == message);
  CHECK(rows.get_many(std::vector<std::int64_t>{e.id}).error().message == message);
  CHECK(rows.page_of(ormkit::query<all_types>(), 1, 10).error().message == message);
  CHECK(rows.count().value() == 1u);  // counting decodes nothing

  auto s = rows.stream();
  REQUIRE(s.has_value());  // the cursor opens; the bad row is met while iterating
  auto iterate = [&] {
    for (const auto& r : *s) (void)r;
  };
  CHECK_THROWS_WITH(iterate(), "[ormkit.invalid_argument] " + message);

  poke<all_types>(db, 22, std::string_view("purple"));  // shade
  poke<all_types>(db, 1, std::int64_t{0});
  CHECK(rows.get(e.id).error().message == "all_types.shade: unknown enum name \"purple\"");
}

TEST_CASE("repository: secret columns never show their values in errors", "[repository]") {
  ormkit::memory::backend db;
  ormkit::repository<vault> vaults(db);
  const auto huge = std::numeric_limits<std::uint64_t>::max();

  auto r = vaults.insert(make_vault(1, huge, "n"));
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(errc::invalid_argument));
  CHECK(r.error().message == "vaults.pin: value cannot be stored as uint64");

  REQUIRE(vaults.insert(make_vault(1, 1234, "n")).has_value());
  poke<vault>(db, 1, std::int64_t{-987654});
  auto g = vaults.get(1);
  REQUIRE_FALSE(g.has_value());
  CAPTURE(g.error().message);
  CHECK(g.error().message == "vaults.pin: value cannot be stored as uint64");
  CHECK(g.error().message.find("987654") == std::string::npos);

  // The size limit hides the size of a secret, not of an ordinary column.
  ormkit::repository<vault> strict(db, {.max_value_bytes = 4});
  auto big_note = strict.insert(make_vault(2, 1, "12345"));
  CHECK(big_note.error().message == "vaults.note: value exceeds the limit of 4 bytes (got 5 bytes)");
  auto v = make_vault(3, 1, "ok");
  v.password = "correct horse";
  CHECK(strict.insert(v).error().message == "vaults.password: value exceeds the limit of 4 bytes");
}

TEST_CASE("repository: max_value_bytes rejects long text and blobs before the backend", "[repository]") {
  ormkit::memory::backend db;
  ormkit::repository<all_types> rows(db, {.max_value_bytes = 3});
  all_types e;
  e.text = "abc";
  e.bytes = bytes_of({1, 2, 3});
  auto ok = rows.insert(e);
  REQUIRE(ok.has_value());

  e.text = "abcd";
  auto r = rows.insert(e);
  REQUIRE_FALSE(r.has_value());
  CHECK(r.error().is(errc::invalid_argument));
  CHECK(r.error().message == "all_types.text: value exceeds the limit of 3 bytes (got 4 bytes)");

  auto blob = *ok;
  blob.bytes = bytes_of({1, 2, 3, 4, 5});
  CHECK(rows.update(blob).error().message == "all_types.bytes: value exceeds the limit of 3 bytes (got 5 bytes)");
  CHECK(rows.upsert(blob).error().is(errc::invalid_argument));
  CHECK(rows.insert_many({all_types{}, e}).error().message ==
        "all_types.text: value exceeds the limit of 3 bytes (got 4 bytes) (batch item 1)");
  CHECK(rows.count().value() == 1u);
  CHECK(rows.get(ok->id).value() == *ok);
}

TEST_CASE("repository: decode_row turns one row of views into an entity", "[repository]") {
  std::vector<ormkit::value_view> row{std::int64_t{5}, std::string_view("ann"), std::int64_t{30}, {}, 1.5};
  auto p = ormkit::repository<person>::decode_row(row);
  REQUIRE(p.has_value());
  CHECK(p->id == 5);
  CHECK(p->name == "ann");
  CHECK(p->age == 30);
  CHECK_FALSE(p->city.has_value());
  CHECK(p->score == 1.5);

  row[2] = std::string_view("thirty");
  CHECK(ormkit::repository<person>::decode_row(row).error().message ==
        "people.age: expected integer for int32, got text \"thirty\"");

  std::vector<ormkit::value_view> short_row{std::int64_t{5}, std::string_view("ann")};
  auto bad = ormkit::repository<person>::decode_row(short_row);
  REQUIRE_FALSE(bad.has_value());
  CHECK(bad.error().is(errc::invalid_argument));
  CHECK(bad.error().message == "people: row has 2 values for 5 columns");
}

TEST_CASE("repository: text replaces a member's default or old value whatever their lengths", "[repository]") {
  const std::string long_title(300, 't');
  const std::string long_body(1000, 'b');
  // A fresh entity: longer than either default (a new buffer), and shorter than the long one.
  std::vector<ormkit::value_view> row{std::int64_t{1}, std::string_view(long_title), std::string_view(long_body)};
  auto n = ormkit::repository<notebook>::decode_row(row).value();
  CHECK(n.title == long_title);
  CHECK(n.body == long_body);
  row = {std::int64_t{2}, std::string_view("t"), std::string_view("")};
  n = ormkit::repository<notebook>::decode_row(row).value();
  CHECK(n.title == "t");
  CHECK(n.body.empty());

  ormkit::memory::backend db;
  ormkit::repository<notebook> notebooks(db);
  std::vector<notebook> want;
  for (std::int64_t i = 1; i <= 40; ++i) {
    notebook e;
    e.id = i;
    e.title = std::string(static_cast<std::size_t>(i) * 3, static_cast<char>('a' + i % 26));
    e.body = std::string(static_cast<std::size_t>(i % 7) * 50, 'x');
    want.push_back(notebooks.insert(e).value());
  }
  CHECK(notebooks.find_all().value() == want);

  // Into a caller's entity: a longer text than its string holds, then a shorter one.
  notebook into;
  into.body = std::string(20, 'o');
  REQUIRE(notebooks.get_into(37, into).value());
  CHECK(into == want[36]);
  REQUIRE(notebooks.get_into(3, into).value());
  CHECK(into == want[2]);
}

TEST_CASE("repository: restore of a visible row succeeds and changes nothing", "[repository]") {
  ormkit::memory::backend db;
  ormkit::repository<document> documents(db);
  auto d = documents.insert(make_document("a")).value();
  REQUIRE(documents.restore(d.id).has_value());
  CHECK(documents.get(d.id).value() == d);
}

TEST_CASE("repository: upsert of the current row bumps the version once", "[repository]") {
  ormkit::memory::backend db;
  ormkit::repository<user> users(db);
  auto u = users.insert(make_user("ann@example.com", "Ann")).value();
  u.name = "Annie";
  auto up = users.upsert(u).value();
  CHECK(up.version == 2);
  CHECK(users.get(u.id).value() == up);
  // An ordinary update from the upserted entity then succeeds: the versions agree.
  up.age = 50;
  CHECK(users.update(up).value().version == 3);
}
