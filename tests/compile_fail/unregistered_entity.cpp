// expect: not registered with the persistence_manager
// Asking a persistence_manager for the repository of an entity it does not list is
// rejected at compile time with the remedy.
#include <ormkit/memory.hpp>
#include <ormkit/persistence_manager.hpp>

#include <cstdint>
#include <string>

struct author {
  std::int64_t id{};
  std::string name;

  friend constexpr auto ormkit_describe(std::type_identity<author>) {
    return ormkit::describe<author>("authors").column(&author::id, "id", ormkit::primary_key).column(&author::name, "name");
  }
};

struct book {
  std::int64_t id{};
  std::string title;

  friend constexpr auto ormkit_describe(std::type_identity<book>) {
    return ormkit::describe<book>("books").column(&book::id, "id", ormkit::primary_key).column(&book::title, "title");
  }
};

auto books(ormkit::persistence_manager<author>& db) -> ormkit::repository<book>& { return db.repository<book>(); }
