-- PUT /v1/kv/bench/<i> with a 100-byte value over N keys. Every value is
-- different (a counter in its first bytes): the store skips a write that
-- changes nothing, and this must measure durable writes.
local n = tonumber(os.getenv("SIDER_BENCH_KEYS") or "1000")
local i = 0
local pad = string.rep("x", 100)
function request()
  i = i + 1
  local body = string.format("%012d", i) .. string.sub(pad, 13)
  return wrk.format("PUT", "/v1/kv/bench/" .. (i % n), nil, body)
end
-- Shared reporting: one machine-readable line per run.
function done(summary, latency, requests)
  local secs = summary.duration / 1e6
  local errors = summary.errors.status + summary.errors.connect +
                 summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    "RESULT requests=%d rps=%.0f p50_ms=%.2f p99_ms=%.2f errors=%d non2xx=%d\n",
    summary.requests, summary.requests / secs,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    errors, summary.errors.status))
end
