#include "flight/ticket.h"

#include <nlohmann/json.hpp>

#include "common/bytes.h"

namespace syndb::flight {

namespace {

constexpr std::string_view kProofDomain = "syndb-flight-ticket:";

Error denied(const std::string& why) { return Error(ErrorCode::kPermissionDenied, "ticket refused: " + why); }

bool verify_by(const p2p::PeerId& signer, std::string_view message, const std::string& sig_hex) {
  bool ok = false;
  Bytes sig = from_hex(sig_hex, &ok);
  if (!ok || sig.size() != p2p::Ed25519PrivateKey::kSignatureSize) return false;
  auto key = signer.extract_public_key();
  return key.ok() && key->verify(as_bytes(message), sig);
}

}  // namespace

std::string mint_ticket(const FragmentTicket& t, const p2p::Ed25519PrivateKey& node_key) {
  nlohmann::json claims = {{"sql", t.sql}, {"dataset", t.dataset}, {"peer", t.peer}, {"node", t.node},
                           {"exp", t.expires_unix_ms}};
  std::string body = claims.dump();
  return body + "." + to_hex(node_key.sign(as_bytes(body)));
}

Result<FragmentTicket> verify_ticket(const std::string& ticket, const p2p::PeerId& node, int64_t now_unix_ms,
                                     const std::string& peer_id, const std::string& proof_hex) {
  auto dot = ticket.rfind('.');
  if (dot == std::string::npos) return denied("malformed (not a SynDB fragment ticket)");
  std::string_view body(ticket.data(), dot);
  if (!verify_by(node, body, ticket.substr(dot + 1))) return denied("bad signature (not minted by this node)");
  FragmentTicket t;
  try {
    auto claims = nlohmann::json::parse(body);
    t.sql = claims.at("sql").get<std::string>();
    t.dataset = claims.at("dataset").get<std::string>();
    t.peer = claims.at("peer").get<std::string>();
    t.node = claims.at("node").get<std::string>();
    t.expires_unix_ms = claims.at("exp").get<int64_t>();
  } catch (const nlohmann::json::exception&) {
    return denied("malformed claims");
  }
  if (t.node != node.to_string()) return denied("minted for another node");
  if (t.expires_unix_ms < now_unix_ms) {
    return denied("expired " + std::to_string(now_unix_ms - t.expires_unix_ms) + " ms ago");
  }
  if (peer_id.empty() || proof_hex.empty()) {
    return denied(std::string("missing ") + kPeerIdHeader + " / " + kProofHeader + " metadata");
  }
  if (peer_id != t.peer) return denied("issued to another peer");
  auto peer = p2p::PeerId::from_string(peer_id);
  if (!peer.ok()) return denied("bad peer id");
  std::string message = std::string(kProofDomain) + ticket;
  if (!verify_by(*peer, message, proof_hex)) return denied("bad proof of possession");
  return t;
}

std::string ticket_proof(const std::string& ticket, const p2p::Ed25519PrivateKey& peer_key) {
  std::string message = std::string(kProofDomain) + ticket;
  return to_hex(peer_key.sign(as_bytes(message)));
}

}  // namespace syndb::flight
