-- GET /v1/kv/bench/<i> over N pre-written keys.
local n = tonumber(os.getenv("SIDER_BENCH_KEYS") or "1000")
local i = 0
function request()
  i = (i + 1) % n
  return wrk.format("GET", "/v1/kv/bench/" .. i)
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
