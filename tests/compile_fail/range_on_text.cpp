// expect: rules::range applies to numeric columns
// rules::range bounds numbers; a text column wants rules::length.
#include <ormkit/validator.hpp>

#include <cstdint>
#include <string>

struct person {
  std::int64_t id{};
  std::string name;

  friend constexpr auto ormkit_describe(std::type_identity<person>) {
    return ormkit::describe<person>("people")
        .column(&person::id, "id", ormkit::primary_key)
        .column(&person::name, "name", ormkit::rules::range{1, 64});
  }
};

auto problems(const person& p) { return ormkit::validate(p); }
