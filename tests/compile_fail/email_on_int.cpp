// expect: rules::email applies to text columns
// rules::email checks text; here it is attached to an int column.
#include <ormkit/validator.hpp>

#include <cstdint>

struct contact {
  std::int64_t id{};
  int email{};

  friend constexpr auto ormkit_describe(std::type_identity<contact>) {
    return ormkit::describe<contact>("contacts")
        .column(&contact::id, "id", ormkit::primary_key)
        .column(&contact::email, "email", ormkit::rules::email{});
  }
};

auto problems(const contact& c) { return ormkit::validate(c); }
