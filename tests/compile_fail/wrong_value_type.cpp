// expect: compared with a value of another type
// The member pointer fixes a column's value type: an int column cannot be compared with text.
#include <ormkit/query.hpp>

#include <cstdint>
#include <string>

struct person {
  std::int64_t id{};
  int age{};

  friend constexpr auto ormkit_describe(std::type_identity<person>) {
    return ormkit::describe<person>("people").column(&person::id, "id", ormkit::primary_key).column(&person::age, "age");
  }
};

auto adults() { return ormkit::col(&person::age) >= std::string("18"); }
