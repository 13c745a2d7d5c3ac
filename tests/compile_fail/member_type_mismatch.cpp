// expect: differs from the struct member at the same position
// Members must be described in declaration order: here `text` is described first,
// so position 0 (int) is described as std::string.
#include <ormkit/entity.hpp>

#include <string>

struct note {
  int id;
  std::string text;

  friend constexpr auto ormkit_describe(std::type_identity<note>) {
    return ormkit::describe<note>("notes")
        .column(&note::text, "text")
        .column(&note::id, "id", ormkit::primary_key);
  }
};

static_assert(ormkit::entity<note>);
