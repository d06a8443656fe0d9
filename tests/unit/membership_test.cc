// The signed membership file (federation/membership.h): init, admit, load,
// and every way a tampered file is refused.
#include "federation/membership.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "p2p/crypto/keys.h"
#include "test_fs.h"

namespace syndb::federation {
namespace {

namespace fs = std::filesystem;

class MembershipTest : public test_support::TempDirTest {
 protected:
  MembershipTest() : TempDirTest("syndb_fed_test_") {}

  std::string path() const { return dir_ + "/federation.json"; }
  nlohmann::json read_json() const {
    std::ifstream in(path());
    return nlohmann::json::parse(in);
  }
  void write_json(const nlohmann::json& j) const {
    std::ofstream out(path(), std::ios::trunc);
    out << j.dump(2);
  }
  void write_text(const std::string& text) const {
    std::ofstream out(path(), std::ios::trunc);
    out << text;
  }
  static p2p::PeerId id_of(const p2p::Ed25519PrivateKey& k) { return p2p::PeerId::from_public_key(k.public_key()); }
  // A valid file: admin_ plus member_.
  void make_federation() {
    ASSERT_TRUE(init_federation(path(), "c-elegans-consortium", admin_).ok());
    auto st = admit_peer(path(), id_of(member_), admin_);
    ASSERT_TRUE(st.ok()) << st.error().to_string();
  }

  p2p::Ed25519PrivateKey admin_ = p2p::Ed25519PrivateKey::generate();
  p2p::Ed25519PrivateKey member_ = p2p::Ed25519PrivateKey::generate();
  p2p::Ed25519PrivateKey stranger_ = p2p::Ed25519PrivateKey::generate();
};

TEST_F(MembershipTest, InitAdmitLoad) {
  ASSERT_TRUE(init_federation(path(), "c-elegans-consortium", admin_).ok());
  {
    auto m = Membership::load(path());
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    EXPECT_FALSE(m->is_open());
    EXPECT_EQ(m->name(), "c-elegans-consortium");
    EXPECT_EQ(m->members(), std::set<std::string>{id_of(admin_).to_string()});  // the admin only
    EXPECT_TRUE(m->admits(id_of(admin_)));
    EXPECT_FALSE(m->admits(id_of(member_)));
  }
  auto st = admit_peer(path(), id_of(member_), admin_);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  auto m = Membership::load(path());
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(m->members().size(), 2u);
  EXPECT_TRUE(m->admits(id_of(admin_)));
  EXPECT_TRUE(m->admits(id_of(member_)));
  EXPECT_FALSE(m->admits(id_of(stranger_)));
  // Admitting twice is idempotent.
  ASSERT_TRUE(admit_peer(path(), id_of(member_), admin_).ok());
  auto again = Membership::load(path());
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->members().size(), 2u);
  // The file is what docs/federation-protocol.md says.
  auto j = read_json();
  EXPECT_EQ(j["name"], "c-elegans-consortium");
  EXPECT_EQ(j["admin"], id_of(admin_).to_string());
  EXPECT_EQ(j["members"].size(), 2u);
  EXPECT_EQ(j["signature"].get<std::string>().size(), 128u);  // hex Ed25519 signature
  EXPECT_FALSE(fs::exists(path() + ".tmp"));
}

TEST_F(MembershipTest, InitRefusesToOverwrite) {
  ASSERT_TRUE(init_federation(path(), "one", admin_).ok());
  auto st = init_federation(path(), "two", stranger_);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kInvalidArgument);
  auto m = Membership::load(path());
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->name(), "one");
}

TEST_F(MembershipTest, OpenFederationAdmitsEveryone) {
  auto m = Membership::open_federation();
  EXPECT_TRUE(m.is_open());
  EXPECT_TRUE(m.admits(id_of(admin_)));
  EXPECT_TRUE(m.admits(id_of(stranger_)));
  EXPECT_TRUE(m.members().empty());
}

TEST_F(MembershipTest, MissingFileIsNotFound) {
  auto m = Membership::load(dir_ + "/nope.json");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kNotFound);
}

TEST_F(MembershipTest, ChangedMemberIsRejected) {
  make_federation();
  auto j = read_json();
  auto& members = j["members"];
  for (auto& m : members) {
    if (m == id_of(member_).to_string()) m = id_of(stranger_).to_string();
  }
  write_json(j);
  auto m = Membership::load(path());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kPermissionDenied) << m.error().to_string();
}

TEST_F(MembershipTest, AddedMemberIsRejected) {
  make_federation();
  auto j = read_json();
  j["members"].push_back(id_of(stranger_).to_string());
  write_json(j);
  auto m = Membership::load(path());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kPermissionDenied);
}

TEST_F(MembershipTest, RemovedMemberIsRejected) {
  make_federation();
  auto j = read_json();
  nlohmann::json kept = nlohmann::json::array();
  for (const auto& m : j["members"]) {
    if (m != id_of(member_).to_string()) kept.push_back(m);
  }
  j["members"] = kept;
  write_json(j);
  auto m = Membership::load(path());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kPermissionDenied);
}

TEST_F(MembershipTest, ChangedNameIsRejected) {
  make_federation();
  auto j = read_json();
  j["name"] = "c-elegans-consortium-2";
  write_json(j);
  auto m = Membership::load(path());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kPermissionDenied);
}

TEST_F(MembershipTest, ChangedSignatureIsRejected) {
  make_federation();
  auto j = read_json();
  std::string sig = j["signature"];
  sig[10] = sig[10] == '0' ? '1' : '0';
  j["signature"] = sig;
  write_json(j);
  auto m = Membership::load(path());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kPermissionDenied);
  j["signature"] = "not hex";
  write_json(j);
  m = Membership::load(path());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kPermissionDenied);
}

TEST_F(MembershipTest, ReplacedAdminIsRejected) {
  // Claiming another admin without re-signing fails the signature check.
  make_federation();
  auto j = read_json();
  j["admin"] = id_of(stranger_).to_string();
  write_json(j);
  auto m = Membership::load(path());
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.error().code(), ErrorCode::kPermissionDenied);
}

TEST_F(MembershipTest, PinnedAdmin) {
  make_federation();
  auto good = Membership::load(path(), id_of(admin_));
  ASSERT_TRUE(good.ok()) << good.error().to_string();
  EXPECT_TRUE(good->admits(id_of(member_)));
  // A validly self-signed file from someone else is refused when the admin is pinned.
  auto bad = Membership::load(path(), id_of(stranger_));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code(), ErrorCode::kPermissionDenied);
  fs::remove(path());
  ASSERT_TRUE(init_federation(path(), "c-elegans-consortium", stranger_).ok());
  auto forged = Membership::load(path(), id_of(admin_));
  ASSERT_FALSE(forged.ok());
  EXPECT_EQ(forged.error().code(), ErrorCode::kPermissionDenied);
}

TEST_F(MembershipTest, AdmitWithNonAdminKeyIsRefused) {
  make_federation();
  std::string before;
  {
    std::ifstream in(path());
    before.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  auto st = admit_peer(path(), id_of(stranger_), member_);  // a member, but not the admin
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kPermissionDenied);
  st = admit_peer(path(), id_of(stranger_), stranger_);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kPermissionDenied);
  std::string after;
  {
    std::ifstream in(path());
    after.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  EXPECT_EQ(before, after);  // untouched
  auto m = Membership::load(path());
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->admits(id_of(stranger_)));
}

TEST_F(MembershipTest, AdmitToATamperedFileIsRefused) {
  make_federation();
  auto j = read_json();
  j["name"] = "other";
  write_json(j);
  auto st = admit_peer(path(), id_of(stranger_), admin_);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code(), ErrorCode::kPermissionDenied);
}

TEST_F(MembershipTest, MalformedFilesAreInvalidArgument) {
  make_federation();
  const auto valid = read_json();
  auto expect_invalid = [&](const std::string& text, const char* what) {
    write_text(text);
    auto m = Membership::load(path());
    ASSERT_FALSE(m.ok()) << what;
    EXPECT_EQ(m.error().code(), ErrorCode::kInvalidArgument) << what << ": " << m.error().to_string();
  };
  expect_invalid("{\"name\": \"x\", ", "truncated JSON");
  expect_invalid("", "empty file");
  expect_invalid("not json at all", "garbage");
  expect_invalid("[1, 2, 3]", "array");
  expect_invalid("\"string\"", "string");
  for (const char* field : {"name", "admin", "members", "signature"}) {
    auto j = valid;
    j.erase(field);
    expect_invalid(j.dump(), field);
  }
  {
    auto j = valid;
    j["members"] = "12D3KooW";
    expect_invalid(j.dump(), "members not an array");
  }
  {
    auto j = valid;
    j["name"] = 42;
    expect_invalid(j.dump(), "name not a string");
  }
  {
    auto j = valid;
    j["members"].push_back("not-a-peer-id");
    expect_invalid(j.dump(), "member not a PeerId");
  }
  {
    auto j = valid;
    j["members"].push_back(7);
    expect_invalid(j.dump(), "member not a string");
  }
  {
    auto j = valid;
    j["admin"] = "not-a-peer-id";
    expect_invalid(j.dump(), "admin not a PeerId");
  }
}

// The signature covers name || "\n" || members joined by "\n", with no length
// prefixes or escaping, so the boundary between the name and the member list
// is not signed: the smallest member can be moved into the name and the file
// still verifies, with that member no longer admitted.
// BUG (src/federation/membership.cc, signed_text): disabled until fixed.
TEST_F(MembershipTest, MemberMovedIntoNameIsRejected) {
  make_federation();
  auto j = read_json();
  std::vector<std::string> members = j["members"];
  ASSERT_EQ(members.size(), 2u);  // sorted in the file
  j["name"] = j["name"].get<std::string>() + "\n" + members[0];
  j["members"] = std::vector<std::string>{members[1]};
  write_json(j);
  auto m = Membership::load(path(), id_of(admin_));
  EXPECT_FALSE(m.ok()) << "tampered file verified; members now: " << (m.ok() ? *m->members().begin() : "");
  if (!m.ok()) {  // refused as a bad signature or as a malformed (multi-line) name
    EXPECT_TRUE(m.error().code() == ErrorCode::kPermissionDenied || m.error().code() == ErrorCode::kInvalidArgument)
        << m.error().to_string();
  }
}

}  // namespace
}  // namespace syndb::federation
