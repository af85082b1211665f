-- PUT /v1/session/renew/<id> over the session IDs listed, one per line, in
-- the file named by $SIDER_BENCH_SESSIONS.
local ids = {}
for line in io.lines(os.getenv("SIDER_BENCH_SESSIONS")) do
  if #line > 0 then ids[#ids + 1] = line end
end
local i = 0
function request()
  i = i % #ids + 1
  return wrk.format("PUT", "/v1/session/renew/" .. ids[i])
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
