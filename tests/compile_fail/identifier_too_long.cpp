// expect: at most 63 bytes
// A 64-byte table name: PostgreSQL would silently truncate it to 63 bytes.
#include <ormkit/entity.hpp>

struct tally {
  int id;

  friend constexpr auto ormkit_describe(std::type_identity<tally>) {
    return ormkit::describe<tally>("t123456789_123456789_123456789_123456789_123456789_123456789_123")
        .column(&tally::id, "id", ormkit::primary_key);
  }
};

static_assert(ormkit::entity<tally>);
