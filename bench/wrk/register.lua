-- PUT /v1/agent/service/register with a TTL check; every request registers
-- a new instance (unique ID per thread and request).
local counter = 0

local threads = {}

function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local id = string.format("bench-%d-%d", tid, counter)
  local body = string.format(
    '{"Name":"bench-reg","ID":"%s","Port":8080,"Tags":["v1"],' ..
    '"Check":{"TTL":"600s"}}', id)
  return wrk.format("PUT", "/v1/agent/service/register",
                    {["Content-Type"] = "application/json"}, body)
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
