// Copyright (c) 2026 The ormkit authors
// SPDX-License-Identifier: MIT

// demo: a tour of ormkit on the persistence layer of a multi-tenant chat
// backend (tenants, users, conversations, messages), on a SQLite file: the
// embedded default, so it needs no server. Run it with scripts/demo.sh.
//
// Each entity is described once; from that descriptor come its repository,
// its validator, its cache keys and its JSON codec.

#include <ormkit/cache_key.hpp>
#include <ormkit/json.hpp>
#include <ormkit/sqlite.hpp>  // the embedded default backend (links SQLite3)
#include <ormkit/query.hpp>
#include <ormkit/repository.hpp>
#include <ormkit/rules.hpp>
#include <ormkit/rules/pattern.hpp>  // rules::pattern: its own header, as it includes <regex>
#include <ormkit/transaction.hpp>
#include <ormkit/validator.hpp>

#include <fmt/format.h>

#include <chrono>
#include <filesystem>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat {

using time_point = std::chrono::system_clock::time_point;

struct tenant {
  std::int64_t id{};
  std::string slug{};
  std::string name{};
  std::string plan{};
  time_point created{};
  time_point updated{};

  friend constexpr auto ormkit_describe(std::type_identity<tenant>) {
    using namespace ormkit;
    return describe<tenant>("tenants")
        .column(&tenant::id, "id", primary_key, auto_increment)
        .column(&tenant::slug, "slug", unique, rules::pattern{"[a-z][a-z0-9-]{2,31}"})
        .column(&tenant::name, "name", rules::length{1, 80})
        .column(&tenant::plan, "plan", rules::one_of{"free", "basic", "premium", "enterprise"})
        .column(&tenant::created, "created_at", created_at)
        .column(&tenant::updated, "updated_at", updated_at);
  }
};

struct user {
  std::int64_t id{};
  std::int64_t tenant_id{};
  std::string username{};
  std::string email{};
  std::optional<std::string> phone{};
  std::string password_hash{};
  std::string role{"user"};
  std::string status{"active"};
  std::int64_t version{};
  time_point created{};
  time_point updated{};
  std::optional<time_point> deleted{};

  friend constexpr auto ormkit_describe(std::type_identity<user>) {
    using namespace ormkit;
    return describe<user>("users")
        .column(&user::id, "id", primary_key, auto_increment)
        .column(&user::tenant_id, "tenant_id", references<&tenant::id>)
        .column(&user::username, "username", rules::length{3, 32}, rules::pattern{"[a-z][a-z0-9_]*"})
        .column(&user::email, "email", rules::email{})
        .column(&user::phone, "phone", rules::pattern{"\\+[0-9]{8,15}"})
        .column(&user::password_hash, "password_hash", secret, rules::not_empty{})
        .column(&user::role, "role", rules::one_of{"user", "admin", "super_admin"})
        .column(&user::status, "status", rules::one_of{"active", "inactive", "banned"})
        .column(&user::version, "version", version_column)
        .column(&user::created, "created_at", created_at)
        .column(&user::updated, "updated_at", updated_at)
        .column(&user::deleted, "deleted_at", soft_delete)
        // Usernames and e-mail addresses are unique per tenant, not globally.
        .unique("uq_users_tenant_username", &user::tenant_id, &user::username)
        .unique("uq_users_tenant_email", &user::tenant_id, &user::email)
        .rule(
            "banned_is_not_admin", [](const user& u) { return !(u.status == "banned" && u.role != "user"); },
            "a banned user cannot keep an admin role");
  }
};

struct conversation {
  std::int64_t id{};
  std::int64_t tenant_id{};
  std::int64_t user_id{};
  std::string title{};
  std::string status{"active"};
  int msg_count{};
  std::int64_t token_count{};
  std::int64_t version{};
  time_point created{};
  time_point updated{};

  friend constexpr auto ormkit_describe(std::type_identity<conversation>) {
    using namespace ormkit;
    return describe<conversation>("conversations")
        .column(&conversation::id, "id", primary_key, auto_increment)
        .column(&conversation::tenant_id, "tenant_id", references<&tenant::id>)
        .column(&conversation::user_id, "user_id", references<&user::id>)
        .column(&conversation::title, "title", rules::length{1, 200})
        .column(&conversation::status, "status", rules::one_of{"active", "archived"})
        .column(&conversation::msg_count, "msg_count", rules::range{0, 1'000'000})
        .column(&conversation::token_count, "token_count", rules::range{0, 1'000'000'000})
        .column(&conversation::version, "version", version_column)
        .column(&conversation::created, "created_at", created_at)
        .column(&conversation::updated, "updated_at", updated_at)
        .index("ix_conversations_user", &conversation::user_id);
  }
};

struct message {
  std::int64_t id{};
  std::int64_t conversation_id{};
  std::string role{};
  std::string content{};
  std::string modality{"text"};
  int token_count{};
  time_point created{};

  friend constexpr auto ormkit_describe(std::type_identity<message>) {
    using namespace ormkit;
    return describe<message>("messages")
        .column(&message::id, "id", primary_key, auto_increment)
        .column(&message::conversation_id, "conversation_id", references<&conversation::id>)
        .column(&message::role, "role", rules::one_of{"user", "assistant", "system"})
        .column(&message::content, "content", rules::length{1, 4000})
        .column(&message::modality, "modality", rules::one_of{"text", "voice", "image"})
        .column(&message::token_count, "token_count", rules::range{0, 100'000})
        .column(&message::created, "created_at", created_at)
        .index("ix_messages_conversation_time", &message::conversation_id, &message::created);
  }
};

}  // namespace chat

namespace {

using namespace chat;

// A clock that starts at a fixed instant and advances one second per reading:
// timestamps are realistic (each write is later than the last) and the demo
// prints the same output on every run.
std::int64_t clock_ticks = 0;
auto demo_clock() -> time_point {
  using namespace std::chrono;
  return sys_days{year{2026} / 3 / 14} + 9h + seconds{clock_ticks++};
}

auto hhmmss(time_point t) -> std::string {
  using namespace std::chrono;
  const hh_mm_ss hms{floor<seconds>(t - floor<days>(t))};
  return fmt::format("{:02}:{:02}:{:02}", hms.hours().count(), hms.minutes().count(), hms.seconds().count());
}

void section(std::string_view title) { fmt::print("\n== {} ==\n", title); }

void show_user(const user& u) {
  fmt::print("  user #{} {:<6} tenant={} role={:<5} v{} created {}\n", u.id, u.username, u.tenant_id, u.role, u.version,
             hhmmss(u.created));
}

void show_message(const message& m) { fmt::print("  [{}] #{} {:<9} {}\n", hhmmss(m.created), m.id, m.role, m.content); }

}  // namespace

int main() {
  using ormkit::col;
  using ormkit::query;

  // One SQLite file, made fresh in the temporary directory and left there to
  // look at afterwards (sqlite3 /tmp/ormkit_demo.db); one typed repository per
  // entity, all sharing the demo clock. Tables are created from the
  // descriptors on first use.
  const auto path = std::filesystem::temp_directory_path() / "ormkit_demo.db";
  for (const char* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path.string() + suffix);
  ormkit::sqlite::options sqlite_options;
  sqlite_options.path = path.string();
  ormkit::sqlite::backend db(sqlite_options);
  const ormkit::repository_options options{.clock = &demo_clock};
  ormkit::repository<tenant> tenants(db, options);
  ormkit::repository<user> users(db, options);
  ormkit::repository<conversation> conversations(db, options);
  ormkit::repository<message> messages(db, options);
  fmt::print("ormkit demo: a multi-tenant chat backend (tenants, users, conversations, messages) on the {} backend\n",
             db.name());

  section("1. tenants and users");
  auto acme = tenants.insert({.slug = "acme", .name = "Acme Corp", .plan = "premium"}).value();
  auto globex = tenants.insert({.slug = "globex", .name = "Globex", .plan = "free"}).value();
  for (const auto& t : {acme, globex}) fmt::print("  tenant #{} {} ({}, {})\n", t.id, t.slug, t.name, t.plan);

  auto add_user = [&](const tenant& t, const std::string& name, const std::string& role) {
    return users
        .insert({.tenant_id = t.id,
                 .username = name,
                 .email = name + "@" + t.slug + ".example",
                 .password_hash = "pbkdf2$" + name,
                 .role = role})
        .value();
  };
  auto alice = add_user(acme, "alice", "admin");
  add_user(acme, "bob", "user");
  auto carol = add_user(acme, "carol", "user");
  auto dave = add_user(globex, "dave", "admin");
  auto everyone = users.find(query<user>().order_by(&user::id)).value();
  for (const auto& u : everyone) show_user(u);

  section("2. conversations and messages");
  // Posting writes two rows, the conversation's counters and the message, in
  // one transaction: both are stored or neither is.
  auto post = [&](std::int64_t conversation_id, std::string role, std::string content, int tokens) {
    return ormkit::transact(db, [&](ormkit::transaction&) -> ormkit::result<message> {
      auto c = conversations.get(conversation_id);
      if (!c) return std::move(c).error();
      c->msg_count += 1;
      c->token_count += tokens;
      ORMKIT_TRY(conversations.update(*c));
      return messages.insert(
          {.conversation_id = conversation_id, .role = role, .content = content, .token_count = tokens});
    });
  };
  auto onboarding = conversations.insert({.tenant_id = acme.id, .user_id = alice.id, .title = "Onboarding"}).value();
  auto billing = conversations.insert({.tenant_id = acme.id, .user_id = alice.id, .title = "Billing"}).value();
  auto hello = conversations.insert({.tenant_id = globex.id, .user_id = dave.id, .title = "Hello"}).value();
  post(onboarding.id, "system", "You are a helpful assistant.", 7).value();
  post(onboarding.id, "user", "How do I invite my team?", 8).value();
  post(onboarding.id, "assistant", "Open Settings, then Members, then Invite.", 12).value();
  post(onboarding.id, "user", "Can guests read old conversations?", 9).value();
  post(onboarding.id, "assistant", "Only the ones you share with them.", 10).value();
  post(billing.id, "user", "Why was I charged twice?", 7).value();
  post(billing.id, "assistant", "One charge is a pending authorization.", 9).value();
  post(hello.id, "user", "hi", 1).value();
  fmt::print("  {} conversations, {} messages\n", conversations.count().value(), messages.count().value());

  section("3. validation: every violation at once");
  auto bad = users.insert({.tenant_id = acme.id,
                           .username = "X",
                           .email = "not-an-email",
                           .phone = "555",
                           .role = "owner",
                           .status = "banned"});
  fmt::print("  insert rejected: {}\n", bad.error().code.message());
  for (const auto& v : bad.error().violations) fmt::print("  - {}\n", v.message);

  section("4. unique keys are per tenant");
  auto twin = users.insert(
      {.tenant_id = acme.id, .username = "bob", .email = "bob2@acme.example", .password_hash = "pbkdf2$bob2"});
  fmt::print("  another bob at acme: {}\n", twin.error().describe());
  auto globex_bob = users.insert(
      {.tenant_id = globex.id, .username = "bob", .email = "bob@globex.example", .password_hash = "pbkdf2$bob"});
  fmt::print("  bob at globex: stored as user #{}\n", globex_bob.value().id);

  section("5. queries");
  auto acme_users = users.find(query<user>(col(&user::tenant_id) == acme.id).order_by(&user::username)).value();
  fmt::print("  users of acme:");
  for (const auto& u : acme_users) fmt::print(" {}", u.username);
  fmt::print("\n  latest 3 messages of \"Onboarding\":\n");
  auto latest = messages
                    .find(query<message>(col(&message::conversation_id) == onboarding.id)
                              .order_by(&message::created, ormkit::desc)
                              .limit(3))
                    .value();
  for (const auto& m : latest) show_message(m);
  // Keyset paging: "the next 2 after the last one shown", cheap however deep.
  auto thread = query<message>(col(&message::conversation_id) == onboarding.id).order_by(&message::created);
  std::optional<message> last;
  for (int n = 1;; ++n) {
    auto page = messages.page_after(thread, last, 2).value();
    fmt::print("  page {}: messages", n);
    for (const auto& m : page.items) fmt::print(" #{}", m.id);
    fmt::print("{}\n", page.has_more ? ", more..." : "");
    if (!page.has_more) break;
    last = page.items.back();
  }

  section("6. aggregate: messages per conversation");
  auto per_conversation =
      messages.run(ormkit::aggregate<message>().group_by(&message::conversation_id).count().sum(&message::token_count))
          .value();
  for (const auto& row : per_conversation) {
    auto c = conversations.get(std::get<std::int64_t>(row[0])).value();
    fmt::print("  {:<11} messages={} tokens={} (the conversation's counters: {}, {})\n", c.title,
               ormkit::to_display(row[1]), ormkit::to_display(row[2]), c.msg_count, c.token_count);
  }

  section("7. optimistic locking");
  // Two admins load alice at version 1; the first save wins, the second is told.
  auto first = users.get(alice.id).value();
  auto second = users.get(alice.id).value();
  first.phone = "+4930123456";
  fmt::print("  first save:  version {} -> {}\n", first.version, users.update(first).value().version);
  second.role = "super_admin";
  auto stale = users.update(second);
  fmt::print("  second save: {}\n", stale.error().describe());
  // The usual answer: reload, reapply the change, save again.
  auto fresh = users.get(alice.id).value();
  fresh.role = "super_admin";
  fresh = users.update(fresh).value();
  fmt::print("  retried:     version {}, role {}, phone {}\n", fresh.version, fresh.role, fresh.phone.value_or("-"));

  section("8. a transaction that rolls back");
  // The counters are updated first, then the message is rejected (empty): the
  // transaction undoes the counter update too.
  auto empty = post(billing.id, "user", "", 3);
  fmt::print("  post failed: {}\n", empty.error().message);
  auto billing_now = conversations.get(billing.id).value();
  fmt::print("  \"Billing\" still has msg_count {} and version {}; messages stored: {}\n", billing_now.msg_count,
             billing_now.version, messages.count(col(&message::conversation_id) == billing.id).value());

  section("9. soft delete");
  users.erase(carol.id).value();
  fmt::print("  carol erased: get -> {}\n", users.get(carol.id).error().code.message());
  fmt::print("  acme users: {} visible, {} with deleted\n", users.count(col(&user::tenant_id) == acme.id).value(),
             users.count(query<user>(col(&user::tenant_id) == acme.id).with_deleted()).value());
  users.restore(carol.id).value();
  fmt::print("  restored: {}\n", users.get(carol.id).value().username);

  section("10. cache keys");
  // "<namespace>:<table>:<schema hash>:<key>": a change to an entity's columns
  // changes the hash, so entries written by an older build are never read back.
  fmt::print("  {}\n  {}\n  {}\n", ormkit::cache_key_of(acme), ormkit::cache_key_of(fresh),
             ormkit::cache_key<conversation>(onboarding.id));
  // Keys for query results are built from segments; start with a name for the query.
  fmt::print(
      "  {}\n",
      ormkit::cache_key_builder("chat").add("messages_page").add_entity<message>().add(onboarding.id).add(2).str());

  section("11. JSON export of one conversation");
  // The export comes from the same descriptor; `secret` columns (users.password_hash) are left out.
  auto exported = messages.find(thread).value();
  for (const auto& m : exported) fmt::print("  {}\n", ormkit::to_json_text(m).value());
  fmt::print("  {}\n", ormkit::to_json_text(users.get(dave.id).value()).value());
}

// The block below is compared with the output line by line: keep clang-format away.
// clang-format off
// Expected output:
// ormkit demo: a multi-tenant chat backend (tenants, users, conversations, messages) on the sqlite backend
//
// == 1. tenants and users ==
//   tenant #1 acme (Acme Corp, premium)
//   tenant #2 globex (Globex, free)
//   user #1 alice  tenant=1 role=admin v1 created 09:00:02
//   user #2 bob    tenant=1 role=user  v1 created 09:00:03
//   user #3 carol  tenant=1 role=user  v1 created 09:00:04
//   user #4 dave   tenant=2 role=admin v1 created 09:00:05
//
// == 2. conversations and messages ==
//   3 conversations, 8 messages
//
// == 3. validation: every violation at once ==
//   insert rejected: validation_failed
//   - users.username: must be between 3 and 32 characters long, not 1 (got "X")
//   - users.username: must match the pattern "[a-z][a-z0-9_]*" (got "X")
//   - users.email: must be a valid e-mail address (got "not-an-email")
//   - users.phone: must match the pattern "\+[0-9]{8,15}" (got "555")
//   - users.password_hash: must not be empty
//   - users.role: must be one of user, admin, super_admin (got "owner")
//   - users: a banned user cannot keep an admin role
//
// == 4. unique keys are per tenant ==
//   another bob at acme: [ormkit.conflict] users.(tenant_id, username): value (1, "bob") already exists (uq_users_tenant_username)
//   bob at globex: stored as user #5
//
// == 5. queries ==
//   users of acme: alice bob carol
//   latest 3 messages of "Onboarding":
//   [09:00:18] #5 assistant Only the ones you share with them.
//   [09:00:16] #4 user      Can guests read old conversations?
//   [09:00:14] #3 assistant Open Settings, then Members, then Invite.
//   page 1: messages #1 #2, more...
//   page 2: messages #3 #4, more...
//   page 3: messages #5
//
// == 6. aggregate: messages per conversation ==
//   Onboarding  messages=5 tokens=46 (the conversation's counters: 5, 46)
//   Billing     messages=2 tokens=16 (the conversation's counters: 2, 16)
//   Hello       messages=1 tokens=1 (the conversation's counters: 1, 1)
//
// == 7. optimistic locking ==
//   first save:  version 1 -> 2
//   second save: [ormkit.conflict] users: id=1 was changed by someone else (version 1 is stale, stored version is 2)
//   retried:     version 3, role super_admin, phone +4930123456
//
// == 8. a transaction that rolls back ==
//   post failed: messages: 1 violation: messages.content: must be between 1 and 4000 characters long, not 0 (got "")
//   "Billing" still has msg_count 2 and version 3; messages stored: 2
//
// == 9. soft delete ==
//   carol erased: get -> not_found
//   acme users: 2 visible, 3 with deleted
//   restored: carol
//
// == 10. cache keys ==
//   ormkit:tenants:5c0f2a7601cb70c3:1
//   ormkit:users:61ac31fc75af2dc2:1
//   ormkit:conversations:f90c31b3e26909c8:1
//   chat:messages_page:messages:44f22be4d5d57bfc:1:2
//
// == 11. JSON export of one conversation ==
//   {"content":"You are a helpful assistant.","conversation_id":1,"created_at":"2026-03-14T09:00:10.000000Z","id":1,"modality":"text","role":"system","token_count":7}
//   {"content":"How do I invite my team?","conversation_id":1,"created_at":"2026-03-14T09:00:12.000000Z","id":2,"modality":"text","role":"user","token_count":8}
//   {"content":"Open Settings, then Members, then Invite.","conversation_id":1,"created_at":"2026-03-14T09:00:14.000000Z","id":3,"modality":"text","role":"assistant","token_count":12}
//   {"content":"Can guests read old conversations?","conversation_id":1,"created_at":"2026-03-14T09:00:16.000000Z","id":4,"modality":"text","role":"user","token_count":9}
//   {"content":"Only the ones you share with them.","conversation_id":1,"created_at":"2026-03-14T09:00:18.000000Z","id":5,"modality":"text","role":"assistant","token_count":10}
//   {"created_at":"2026-03-14T09:00:05.000000Z","deleted_at":null,"email":"dave@globex.example","id":4,"phone":null,"role":"admin","status":"active","tenant_id":2,"updated_at":"2026-03-14T09:00:05.000000Z","username":"dave","version":1}
