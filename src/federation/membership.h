// Federation membership: a JSON file listing the admitted PeerIds, signed by
// the federation admin's Ed25519 key (docs/federation-protocol.md):
//   {"name": …, "admin": "<admin PeerId>", "members": ["12D3KooW…", …], "signature": "<hex>"}
// The signature covers "syndb-federation-v1:" || decimal len(name) || ":" ||
// name || "\n" || the sorted members joined by "\n". The admin key is recovered from its PeerId
// (identity multihash), so the file is self-verifying; nodes may also pin the
// expected admin. Peers not admitted may connect (identify, ping) but are
// refused the federation protocol.
#pragma once

#include <optional>
#include <set>
#include <string>

#include "common/result.h"
#include "p2p/crypto/keys.h"
#include "p2p/crypto/peer_id.h"

namespace syndb::federation {

class Membership {
 public:
  // Admits everyone (no federation file configured).
  static Membership open_federation() { return Membership(); }
  // Loads and verifies a federation file. kInvalidArgument for a malformed
  // file, kPermissionDenied for a bad signature or an unexpected admin.
  static Result<Membership> load(const std::string& path, const std::optional<p2p::PeerId>& pinned_admin = {});

  bool is_open() const { return open_; }
  bool admits(const p2p::PeerId& peer) const { return open_ || members_.count(peer.to_string()) > 0; }
  const std::string& name() const { return name_; }
  const std::set<std::string>& members() const { return members_; }

 private:
  bool open_ = true;
  std::string name_;
  std::set<std::string> members_;
};

// Writes a new federation file admitting the admin itself. Refuses to overwrite.
Status init_federation(const std::string& path, const std::string& name, const p2p::Ed25519PrivateKey& admin);
// Adds `peer` to the file and re-signs it with `admin` (who must be the file's admin).
Status admit_peer(const std::string& path, const p2p::PeerId& peer, const p2p::Ed25519PrivateKey& admin);

}  // namespace syndb::federation
