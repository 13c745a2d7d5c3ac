// expect: cache_key_of / cache_key need an entity with a primary key
// An entity without a primary key has no row identity to cache under.
#include <ormkit/cache_key.hpp>

#include <string>

struct log_line {
  std::string text;

  friend constexpr auto ormkit_describe(std::type_identity<log_line>) {
    return ormkit::describe<log_line>("log_lines").column(&log_line::text, "text");
  }
};

auto key(const log_line& l) -> std::string { return ormkit::cache_key_of(l); }
