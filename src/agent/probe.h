// Probes: one execution of one check (an HTTP request, a TCP connect, a
// command). Internal to agent/; CheckRunner schedules them, bounds their
// number and times them out.
//
// Contract: a Start*Probe function begins the work on `strand` and returns
// at once; `done` is called exactly once, on `strand`, with the result.
// Cancel(reason), called on the strand, aborts the work: `done` still
// follows (possibly after a child process has been reaped) with a critical
// result whose output mentions `reason`, unless the result was already
// known. Probes share ownership of themselves with their pending handlers,
// so dropping the returned pointer does not abort the work.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/asio.h"
#include "structs/catalog.h"

namespace sider::agent::internal {

using Strand = asio::strand<asio::io_context::executor_type>;
using ProbeDone =
    std::function<void(structs::HealthStatus status, std::string output)>;

// Most output a probe keeps (Consul's BufSize).
inline constexpr size_t kMaxOutput = 4096;

class Probe {
 public:
  virtual ~Probe() = default;
  virtual void Cancel(const std::string& reason) = 0;
};

std::shared_ptr<Probe> StartHttpProbe(const Strand& strand,
                                      const structs::CheckDefinition& def,
                                      ProbeDone done);
std::shared_ptr<Probe> StartTcpProbe(const Strand& strand,
                                     const structs::CheckDefinition& def,
                                     ProbeDone done);
std::shared_ptr<Probe> StartCmdProbe(const Strand& strand,
                                     const structs::CheckDefinition& def,
                                     ProbeDone done);

// "host:port" / "[v6]:port" split; false if malformed. Exposed for tests.
bool SplitHostPort(const std::string& addr, std::string* host,
                   std::string* port);

// HTTP status -> health, as Consul: 2xx passing, 429 warning, else critical.
structs::HealthStatus HttpCodeToStatus(unsigned code);

}  // namespace sider::agent::internal
