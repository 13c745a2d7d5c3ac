// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// ormkit::query / condition / aggregate: the untyped AST and specs the typed builders
// produce (node kinds, column indexes, encoded operands, encoding errors), keyset specs
// (primary key appended as tie-breaker, the OR-of-ANDs condition), and aggregate specs.

#include <ormkit/query.hpp>

#include <ormkit/memory/eval.hpp>

#include "../support/catch.hpp"
#include "../support/entities.hpp"

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace {

using namespace ormkit_test;
using ormkit::col;
using ormkit::expr;
using ormkit::op;
using ormkit::value;

auto int_value(std::int64_t v) -> value { return value(v); }
auto text_value(const char* s) -> value { return value(std::string(s)); }

// Column indexes of person: id 0, name 1, age 2, city 3, score 4.
constexpr std::size_t id_col = 0, name_col = 1, age_col = 2, city_col = 3, score_col = 4;

void check_leaf(const expr& e, op kind, std::size_t column, const std::vector<value>& operands) {
  CHECK(e.kind == kind);
  CHECK(e.column == column);
  CHECK(e.operands == operands);
  CHECK(e.children.empty());
  CHECK(e.error.empty());
}

}  // namespace

TEST_CASE("query: a comparison is a leaf with the column index and the encoded value", "[query]") {
  auto age = col(&person::age);
  CHECK(age.index() == age_col);
  check_leaf((age == 30).node, op::eq, age_col, {int_value(30)});
  check_leaf((age != 30).node, op::ne, age_col, {int_value(30)});
  check_leaf((age < 30).node, op::lt, age_col, {int_value(30)});
  check_leaf((age <= 30).node, op::le, age_col, {int_value(30)});
  check_leaf((age > 30).node, op::gt, age_col, {int_value(30)});
  check_leaf((age >= 30).node, op::ge, age_col, {int_value(30)});
  check_leaf((col(&person::name) == "ann").node, op::eq, name_col, {text_value("ann")});
  check_leaf((col(&person::city) == std::string("Oslo")).node, op::eq, city_col, {text_value("Oslo")});
  check_leaf((col(&person::score) == 2).node, op::eq, score_col, {value(2.0)});  // converted to the column type
  check_leaf((col(&person::score) > 1.5).node, op::gt, score_col, {value(1.5)});
}

TEST_CASE("query: operands are encoded like the column's values", "[query]") {
  using namespace std::chrono;
  check_leaf((col(&all_types::flag) == true).node, op::eq, 11, {int_value(1)});
  check_leaf((col(&all_types::shade) == color::blue).node, op::eq, 22, {text_value("blue")});
  check_leaf((col(&all_types::lvl) == level::high).node, op::eq, 23, {int_value(300)});
  check_leaf((col(&all_types::maybe_shade) == color::red).node, op::eq, 24, {text_value("red")});
  check_leaf((col(&all_types::when) == ormkit_test::time_point(seconds(1))).node, op::eq, 18, {int_value(1'000'000)});
  check_leaf((col(&all_types::timeout) < milliseconds(250)).node, op::lt, 20, {int_value(250)});
  check_leaf((col(&all_types::f32) == 0.5f).node, op::eq, 9, {value(0.5)});
  auto b = bytes_of({1, 2});
  check_leaf((col(&all_types::bytes) == b).node, op::eq, 13,
             {value(ormkit::blob{std::byte{1}, std::byte{2}})});
}

TEST_CASE("query: integer operands outside the column type keep their value", "[query]") {
  // An int8 column compared with 300 must not compare with 44 (300 wrapped to 8 bits).
  check_leaf((col(&all_types::i8) == 300).node, op::eq, 1, {int_value(300)});
  check_leaf((col(&all_types::i8) > -129).node, op::gt, 1, {int_value(-129)});
  check_leaf((col(&all_types::u8) > -1).node, op::gt, 5, {int_value(-1)});
  check_leaf((col(&all_types::u64) > -1).node, op::gt, 8, {int_value(-1)});
  check_leaf((col(&all_types::i32) < std::int64_t{5'000'000'000}).node, op::lt, 3, {int_value(5'000'000'000)});
  check_leaf((col(&all_types::i8) == 5).node, op::eq, 1, {int_value(5)});
  auto in = col(&all_types::i16).in({1, 70'000});
  CHECK(in.node.operands == std::vector<value>{int_value(1), int_value(70'000)});
}

TEST_CASE("query: a value that cannot be stored records an error", "[query]") {
  const auto huge = std::numeric_limits<std::uint64_t>::max();
  const std::string message = "value 18446744073709551615 of uint64 exceeds the int64 storage range";
  auto bad = col(&all_types::u64) == huge;
  CHECK(bad.node.error == message);
  CHECK(bad.node.operands == std::vector<value>{value()});
  CHECK(col(&all_types::u64).between(1, huge).node.error == message);
  CHECK(col(&all_types::u64).in({std::uint64_t{1}, huge}).node.error == message);
  CHECK(col(&all_types::shade).in({color::red}).node.error.empty());

  // first_error finds it anywhere in the tree.
  auto tree = col(&all_types::i8) == 1 || !(col(&all_types::i8) == 2 && bad);
  CHECK(tree.node.error.empty());
  CHECK(ormkit::first_error(tree.node) == message);
  CHECK(ormkit::first_error((col(&all_types::i8) == 1).node).empty());
  CHECK(ormkit::first_error(col(&all_types::shade).in({static_cast<color>(3)}).node) ==
        "enum value 3 has no name in ormkit_enum_names");
}

TEST_CASE("query: and or and not build nodes over their operands", "[query]") {
  auto a = col(&person::age) > 1;
  auto b = col(&person::name) == "x";
  auto c = col(&person::city).is_null();

  auto both = a && b;
  CHECK(both.node.kind == op::and_);
  REQUIRE(both.node.children.size() == 2);
  CHECK(both.node.children[0].kind == op::gt);
  CHECK(both.node.children[1].kind == op::eq);

  auto either = (a && b) || c;
  CHECK(either.node.kind == op::or_);
  REQUIRE(either.node.children.size() == 2);
  CHECK(either.node.children[0].kind == op::and_);
  CHECK(either.node.children[1].kind == op::is_null);
  CHECK(either.node.children[1].column == city_col);

  auto negated = !either;
  CHECK(negated.node.kind == op::not_);
  REQUIRE(negated.node.children.size() == 1);
  CHECK(negated.node.children[0].kind == op::or_);
}

TEST_CASE("query: between like in is_null and is_not_null", "[query]") {
  check_leaf(col(&person::age).between(18, 65).node, op::between, age_col, {int_value(18), int_value(65)});
  check_leaf(col(&person::name).like("a\\%_%").node, op::like, name_col, {text_value("a\\%_%")});
  check_leaf(col(&person::city).like("O%").node, op::like, city_col, {text_value("O%")});
  check_leaf(col(&person::age).in({1, 2, 3}).node, op::in, age_col, {int_value(1), int_value(2), int_value(3)});
  check_leaf(col(&person::name).in(std::vector<std::string>{"a", "b"}).node, op::in, name_col,
             {text_value("a"), text_value("b")});
  check_leaf(col(&person::age).is_null().node, op::is_null, age_col, {});
  check_leaf(col(&person::age).is_not_null().node, op::is_not_null, age_col, {});
}

TEST_CASE("query: in with an empty list matches nothing", "[query]") {
  auto none = col(&person::age).in(std::vector<int>{});
  check_leaf(none.node, op::in, age_col, {});
  using ormkit::memory::evaluate;
  using ormkit::memory::truth;
  std::vector<ormkit::value_view> with_age{std::int64_t{1}, std::string_view("a"), std::int64_t{5}, {}, 0.0};
  std::vector<ormkit::value_view> without_age{std::int64_t{1}, std::string_view("a"), {}, {}, 0.0};
  CHECK(evaluate(none.node, with_age) == truth::no);
  CHECK(evaluate(none.node, without_age) == truth::no);
  CHECK(evaluate((!none).node, without_age) == truth::yes);
}

TEST_CASE("query: where ands conditions and an empty where is always", "[query]") {
  CHECK(ormkit::query<person>().spec().where.kind == op::always);

  auto one = ormkit::query<person>().where(col(&person::age) > 1).spec();
  check_leaf(one.where, op::gt, age_col, {int_value(1)});

  auto two = ormkit::query<person>().where(col(&person::age) > 1).where(col(&person::name) == "x").spec();
  CHECK(two.where.kind == op::and_);
  REQUIRE(two.where.children.size() == 2);
  CHECK(two.where.children[0].kind == op::gt);
  CHECK(two.where.children[1].kind == op::eq);

  auto from_condition = ormkit::query<person>(col(&person::age) > 1).spec();
  check_leaf(from_condition.where, op::gt, age_col, {int_value(1)});

  // make_and drops `always` on either side.
  auto leaf = (col(&person::age) > 1).node;
  CHECK(ormkit::make_and(expr{}, leaf).kind == op::gt);
  CHECK(ormkit::make_and(leaf, expr{}).kind == op::gt);
  CHECK(ormkit::make_and(expr{}, expr{}).kind == op::always);
  CHECK(ormkit::make_and(leaf, leaf).kind == op::and_);
}

TEST_CASE("query: order_by limit offset and with_deleted fill the spec", "[query]") {
  auto q = ormkit::query<person>().order_by(&person::age, ormkit::desc).order_by(&person::name).limit(10).offset(20);
  auto s = q.spec();
  REQUIRE(s.order.size() == 2);
  CHECK(s.order[0].column == age_col);
  CHECK(s.order[0].descending);
  CHECK(s.order[1].column == name_col);
  CHECK_FALSE(s.order[1].descending);
  CHECK(s.limit == std::optional<std::uint64_t>(10));
  CHECK(s.offset == 20);
  CHECK_FALSE(q.include_deleted());
  CHECK(q.with_deleted().include_deleted());
  CHECK_FALSE(q.with_deleted(false).include_deleted());

  auto plain = ormkit::query<person>().spec();
  CHECK(plain.order.empty());
  CHECK_FALSE(plain.limit.has_value());
  CHECK(plain.offset == 0);
}

TEST_CASE("query: after appends the primary key and the keyset condition", "[query]") {
  auto last = make_person("ann", 30, "Oslo", 1.5);
  last.id = 7;
  auto s = ormkit::query<person>()
               .where(col(&person::age) > 1)
               .order_by(&person::score, ormkit::desc)
               .after(last)
               .spec();

  REQUIRE(s.order.size() == 2);
  CHECK(s.order[0].column == score_col);
  CHECK(s.order[0].descending);
  CHECK(s.order[1].column == id_col);  // tie-breaker, ascending
  CHECK_FALSE(s.order[1].descending);

  // (age > 1) AND ((score < 1.5) OR (score = 1.5 AND id > 7))
  REQUIRE(s.where.kind == op::and_);
  REQUIRE(s.where.children.size() == 2);
  check_leaf(s.where.children[0], op::gt, age_col, {int_value(1)});
  const auto& any = s.where.children[1];
  REQUIRE(any.kind == op::or_);
  REQUIRE(any.children.size() == 2);
  REQUIRE(any.children[0].kind == op::and_);
  REQUIRE(any.children[0].children.size() == 1);
  check_leaf(any.children[0].children[0], op::lt, score_col, {value(1.5)});
  REQUIRE(any.children[1].kind == op::and_);
  REQUIRE(any.children[1].children.size() == 2);
  check_leaf(any.children[1].children[0], op::eq, score_col, {value(1.5)});
  check_leaf(any.children[1].children[1], op::gt, id_col, {int_value(7)});
}

TEST_CASE("query: after appends only the key columns not already ordered", "[query]") {
  auto p = make_person("ann");
  p.id = 3;
  auto by_id = ormkit::query<person>().order_by(&person::id, ormkit::desc).after(p).spec();
  REQUIRE(by_id.order.size() == 1);
  CHECK(by_id.order[0].descending);
  REQUIRE(by_id.where.kind == op::or_);
  REQUIRE(by_id.where.children.size() == 1);
  check_leaf(by_id.where.children[0].children[0], op::lt, id_col, {int_value(3)});

  auto unordered = ormkit::query<person>().after(p).spec();
  REQUIRE(unordered.order.size() == 1);
  CHECK(unordered.order[0].column == id_col);

  auto m = make_membership(2, "bob", "member", 4);
  auto composite = ormkit::query<membership>().order_by(&membership::user_name).after(m).spec();
  REQUIRE(composite.order.size() == 2);  // user_name is a key column already ordered: not repeated
  CHECK(composite.order[0].column == 1);
  CHECK(composite.order[1].column == 0);  // tenant_id appended
}

TEST_CASE("query: a transient member is not a column", "[query]") {
  CHECK_THROWS_AS(col(&widget::scratch), ormkit::exception);
  CHECK_THROWS_WITH(col(&widget::scratch), "[ormkit.invalid_argument] widgets: member is not a described column (transient?)");
  CHECK_THROWS_AS(ormkit::query<widget>().order_by(&widget::scratch), ormkit::exception);
  CHECK(col(&widget::hits).index() == 2);
}

TEST_CASE("aggregate: group_by and terms fill the spec", "[query][aggregate]") {
  auto a = ormkit::aggregate<person>();
  a.where(col(&person::age) > 1)
      .group_by(&person::city)
      .group_by(&person::name)
      .count()
      .count(&person::age)
      .sum(&person::score)
      .avg(&person::age)
      .min(&person::name)
      .max(&person::city);
  const auto& s = a.spec();
  CHECK(s.where.kind == op::gt);
  CHECK(s.group_by == std::vector<std::size_t>{city_col, name_col});
  REQUIRE(s.terms.size() == 6);
  using fn = ormkit::aggregate_fn;
  CHECK(s.terms[0].fn == fn::count_all);
  CHECK(s.terms[1].fn == fn::count);
  CHECK(s.terms[1].column == age_col);
  CHECK(s.terms[2].fn == fn::sum);
  CHECK(s.terms[2].column == score_col);
  CHECK(s.terms[3].fn == fn::avg);
  CHECK(s.terms[4].fn == fn::min);
  CHECK(s.terms[4].column == name_col);
  CHECK(s.terms[5].fn == fn::max);
  CHECK(s.terms[5].column == city_col);
  CHECK_FALSE(a.include_deleted());
  CHECK(a.with_deleted().include_deleted());
}
