// /echo/1.0.0: every byte back until the remote half-closes (the protocol
// js-libp2p's interop and our benchmarks use).
#pragma once

#include "p2p/host/host.h"

namespace syndb::p2p {

inline constexpr std::string_view kEchoProtocol = "/echo/1.0.0";

void register_echo(Host& host);

}  // namespace syndb::p2p
