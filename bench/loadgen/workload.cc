#include "workload.h"

namespace sider::bench {

Result<System> ParseSystem(const std::string& name) {
  if (name == "sider") return System::kSider;
  if (name == "etcd") return System::kEtcd;
  if (name == "zk") return System::kZk;
  return Status(Code::kInvalidArgument, "unknown system '" + name + "'");
}

Result<Workload> ParseWorkload(const std::string& name) {
  if (name == "register") return Workload::kRegister;
  if (name == "heartbeat") return Workload::kHeartbeat;
  if (name == "discover") return Workload::kDiscover;
  return Status(Code::kInvalidArgument, "unknown workload '" + name + "'");
}

std::string Base64(const std::string& in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) |
                       uint8_t(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (i + 1 == in.size()) {
    const uint32_t n = uint8_t(in[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    const uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

std::string InstanceJson(const std::string& id, unsigned port) {
  return "{\"ID\":\"" + id + "\",\"Address\":\"127.0.0.1\",\"Port\":" +
         std::to_string(port) + ",\"Tags\":[\"v1\"]}";
}

Status StatusOfReply(const HttpReply& reply, const char* what) {
  if (reply.status >= 200 && reply.status < 300) return Status::Ok();
  const Code code =
      reply.status >= 500 ? Code::kUnavailable : Code::kInvalidArgument;
  return Status(code, std::string(what) + ": HTTP " +
                          std::to_string(reply.status) + " " +
                          reply.body.substr(0, 200));
}

}  // namespace sider::bench
