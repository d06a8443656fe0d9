// POST /v1/query (issue 6): one SQL question to the whole federation.
// Body: {"sql": "...", "allow_partial": false}. Result by Accept:
//   application/json (default)          {"columns":[{"name","type"}],"rows":[[…]],"row_count":N,"provenance":{…}}
//   text/csv                            RFC 4180, header line; provenance in X-SynDB-Provenance
//   application/vnd.apache.arrow.stream Arrow IPC stream; provenance in X-SynDB-Provenance
// Errors (JSON {"error"}): 400 bad body or query, 403 a node's policy refused,
// 413 the result exceeds kMaxResponseBody (64 MiB): the response is built in
// memory, so the hub stops there; Flight SQL streams any size.
// 503 a node holding relevant data is unavailable (without allow_partial),
// 504 statement timeout, 500 otherwise.
#pragma once

#include <string>

#include "api/http_api.h"
#include "query/federated_engine.h"

namespace syndb::api {

ApiResponse run_query(query::FederatedEngine& engine, const std::string& body, const std::string& accept);

}  // namespace syndb::api
