#include "server/catalog_writer.h"

#include "consensus/raft_node.h"
#include "fsm/commands.h"

namespace sider::server {

void CatalogWriter::Propose(std::string command, Done done) {
  raft_.Propose(std::move(command), executor_,
                [done = std::move(done)](fsm::ApplyResult r) {
                  done(std::move(r.status));
                });
}

void CatalogWriter::Register(const structs::RegisterCommand& cmd, Done done) {
  Propose(fsm::EncodeRegister(cmd), std::move(done));
}

void CatalogWriter::Deregister(const structs::DeregisterCommand& cmd,
                               Done done) {
  Propose(fsm::EncodeDeregister(cmd), std::move(done));
}

}  // namespace sider::server
