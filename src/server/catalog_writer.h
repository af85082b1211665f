// CatalogWriter: the catalog's write endpoints (PUT /v1/catalog/register,
// /v1/catalog/deregister). Catalog-registered checks are status holders,
// as in Consul: no agent runs them and no TTL is tracked for them.
//
// Threading: any io thread; `done` runs on the executor given at
// construction once the command is committed and applied.
// Errors: those of the store (kInvalidArgument for a check naming an
// unknown service, nothing changed), kUnavailable, kOutcomeUnknown.
#pragma once

#include <functional>

#include "base/asio.h"
#include "base/status.h"
#include "structs/catalog.h"

namespace sider::consensus {
class RaftNode;
}

namespace sider::server {

class CatalogWriter {
 public:
  using Done = std::function<void(Status)>;

  CatalogWriter(asio::any_io_executor executor, consensus::RaftNode& raft)
      : executor_(std::move(executor)), raft_(raft) {}

  void Register(const structs::RegisterCommand& cmd, Done done);
  void Deregister(const structs::DeregisterCommand& cmd, Done done);

 private:
  void Propose(std::string command, Done done);

  const asio::any_io_executor executor_;
  consensus::RaftNode& raft_;
};

}  // namespace sider::server
