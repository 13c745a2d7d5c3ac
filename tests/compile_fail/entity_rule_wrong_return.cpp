// expect: an entity rule must return bool (true = valid) or std::optional<std::string>
// This entity rule returns an int (a count of problems), which the validator cannot read.
#include <ormkit/validator.hpp>

#include <cstdint>

struct order {
  std::int64_t id{};
  int quantity{};

  friend constexpr auto ormkit_describe(std::type_identity<order>) {
    return ormkit::describe<order>("orders")
        .column(&order::id, "id", ormkit::primary_key)
        .column(&order::quantity, "quantity")
        .rule("positive", [](const order& o) { return o.quantity > 0 ? 0 : 1; });
  }
};

auto problems(const order& o) { return ormkit::validate(o); }
