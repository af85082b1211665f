// The version the binary reports (`sider version`, /v1/agent/self).
#pragma once

namespace sider::app {
inline constexpr const char* kVersion = "0.1.0";
}  // namespace sider::app
