// expect: type is not an entity
// A plain struct without ormkit_describe (or an entity_traits specialization).
#include <ormkit/entity.hpp>

struct plain {
  int id;
};

constexpr const auto& plain_descriptor = ormkit::descriptor_of<plain>;
