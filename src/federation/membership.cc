#include "federation/membership.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace syndb::federation {

namespace {

using nlohmann::json;

// The name is length-prefixed so no member can be moved into it under the same signature.
std::string signed_text(const std::string& name, const std::set<std::string>& members) {
  std::string text = "syndb-federation-v1:" + std::to_string(name.size()) + ":" + name + "\n";
  bool first = true;
  for (const auto& m : members) {
    text += (first ? "" : "\n") + m;
    first = false;
  }
  return text;
}

Status write_file(const std::string& path, const std::string& name, const std::set<std::string>& members,
                  const p2p::Ed25519PrivateKey& admin) {
  json j;
  j["name"] = name;
  j["admin"] = p2p::PeerId::from_public_key(admin.public_key()).to_string();
  j["members"] = std::vector<std::string>(members.begin(), members.end());
  j["signature"] = to_hex(admin.sign(as_bytes(signed_text(name, members))));
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) return Error(ErrorCode::kIo, "cannot write " + tmp);
    out << j.dump(2) << "\n";
    if (!out) return Error(ErrorCode::kIo, "cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Error(ErrorCode::kIo, "cannot replace " + path + ": " + ec.message());
  return ok_status();
}

struct Parsed {
  std::string name;
  p2p::PeerId admin;
  p2p::PublicKey admin_key;
  std::set<std::string> members;
};

Result<Parsed> parse_and_verify(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error(ErrorCode::kNotFound, "federation file " + path + " does not exist");
  std::stringstream ss;
  ss << in.rdbuf();
  json j = json::parse(ss.str(), nullptr, false);
  auto bad = [&](const std::string& why) { return Error(ErrorCode::kInvalidArgument, path + ": " + why); };
  if (j.is_discarded() || !j.is_object()) return bad("not JSON");
  if (!j.contains("name") || !j["name"].is_string() || !j.contains("admin") || !j["admin"].is_string() ||
      !j.contains("members") || !j["members"].is_array() || !j.contains("signature") || !j["signature"].is_string()) {
    return bad("needs name, admin, members and signature");
  }
  Parsed p;
  p.name = j["name"].get<std::string>();
  if (p.name.find('\n') != std::string::npos) return bad("name contains a newline");
  auto admin = p2p::PeerId::from_string(j["admin"].get<std::string>());
  if (!admin.ok()) return bad("admin is not a PeerId");
  p.admin = *admin;
  auto key = p.admin.extract_public_key();
  if (!key.ok()) return bad("admin PeerId does not embed its key");
  p.admin_key = *key;
  for (const auto& m : j["members"]) {
    if (!m.is_string() || !p2p::PeerId::from_string(m.get<std::string>()).ok()) return bad("member is not a PeerId");
    p.members.insert(p2p::PeerId::from_string(m.get<std::string>())->to_string());
  }
  bool ok = false;
  Bytes sig = from_hex(j["signature"].get<std::string>(), &ok);
  if (!ok || !p.admin_key.verify(as_bytes(signed_text(p.name, p.members)), sig)) {
    return Error(ErrorCode::kPermissionDenied, path + ": signature does not verify with the admin key");
  }
  return p;
}

}  // namespace

Result<Membership> Membership::load(const std::string& path, const std::optional<p2p::PeerId>& pinned_admin) {
  SYNDB_ASSIGN_OR_RETURN(auto p, parse_and_verify(path));
  if (pinned_admin && !(p.admin == *pinned_admin)) {
    return Error(ErrorCode::kPermissionDenied,
                 path + ": signed by " + p.admin.to_string() + ", expected " + pinned_admin->to_string());
  }
  Membership m;
  m.open_ = false;
  m.name_ = p.name;
  m.members_ = std::move(p.members);
  return m;
}

Status init_federation(const std::string& path, const std::string& name, const p2p::Ed25519PrivateKey& admin) {
  if (name.empty() || name.find('\n') != std::string::npos) {
    return Error(ErrorCode::kInvalidArgument, "federation name must be one non-empty line");
  }
  if (std::filesystem::exists(path)) return Error(ErrorCode::kInvalidArgument, path + " already exists");
  std::set<std::string> members{p2p::PeerId::from_public_key(admin.public_key()).to_string()};
  return write_file(path, name, members, admin);
}

Status admit_peer(const std::string& path, const p2p::PeerId& peer, const p2p::Ed25519PrivateKey& admin) {
  SYNDB_ASSIGN_OR_RETURN(auto p, parse_and_verify(path));
  if (!(p.admin == p2p::PeerId::from_public_key(admin.public_key()))) {
    return Error(ErrorCode::kPermissionDenied, "this key is not the admin of " + path + " (" + p.admin.to_string() + ")");
  }
  p.members.insert(peer.to_string());
  return write_file(path, p.name, p.members, admin);
}

}  // namespace syndb::federation
