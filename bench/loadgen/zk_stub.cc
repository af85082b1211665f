// The ZooKeeper entry points when sider-loadgen is built without Debian's
// libzookeeper-mt-dev: Sider and etcd work, ZooKeeper says why it cannot.
#include "watch.h"
#include "zk_driver.h"

namespace sider::bench {
namespace {

Status NoZk() {
  return Status(Code::kUnavailable,
                "built without ZooKeeper: install libzookeeper-mt-dev "
                "(bench/setup.sh) and re-run cmake");
}

}  // namespace

class ZkSession {};

const bool kHaveZooKeeper = false;

ZkResult::ZkResult() = default;
ZkResult::ZkResult(ZkResult&&) noexcept = default;
ZkResult& ZkResult::operator=(ZkResult&&) noexcept = default;
ZkResult::~ZkResult() = default;

Result<ZkResult> RunZk(Workload, const WorkloadOptions&, const DriverOptions&,
                       unsigned, bool) {
  return NoZk();
}
Status ParkZkWatchers(const WatchOptions&) { return NoZk(); }
Status TriggerZkChange(const WatchOptions&) { return NoZk(); }

}  // namespace sider::bench
