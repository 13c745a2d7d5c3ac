// expect: more members than the descriptor describes
// A member the descriptor leaves out (neither .column nor .transient) is rejected.
#include <ormkit/entity.hpp>

#include <string>

struct account {
  int id;
  std::string name;
  long balance;  // not described

  friend constexpr auto ormkit_describe(std::type_identity<account>) {
    return ormkit::describe<account>("accounts")
        .column(&account::id, "id", ormkit::primary_key)
        .column(&account::name, "name");
  }
};

static_assert(ormkit::entity<account>);
