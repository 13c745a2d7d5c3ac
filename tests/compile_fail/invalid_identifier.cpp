// expect: not a safe identifier
// Column names are spliced into SQL, so only [A-Za-z_][A-Za-z0-9_]* is accepted.
#include <ormkit/entity.hpp>

#include <string>

struct person {
  int id;
  std::string first_name;

  friend constexpr auto ormkit_describe(std::type_identity<person>) {
    return ormkit::describe<person>("people")
        .column(&person::id, "id", ormkit::primary_key)
        .column(&person::first_name, "first name");
  }
};

const auto& people_schema = ormkit::schema_of<person>();
