-- wrk script: POST one pre-built KServe v2 infer body on every request and report percentiles.
--   BODY=path/to/file.body [HLEN=<Inference-Header-Content-Length>] wrk -s infer.lua URL
-- HLEN given: the body is a binary-extension body (JSON header of HLEN bytes + raw tensor bytes).
local f = assert(io.open(os.getenv("BODY"), "rb"))
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
local hlen = os.getenv("HLEN")
if hlen and hlen ~= "" then
  wrk.headers["Inference-Header-Content-Length"] = hlen
  wrk.headers["Content-Type"] = "application/octet-stream"
else
  wrk.headers["Content-Type"] = "application/json"
end

local bad = 0
function response(status, headers, body)
  if status ~= 200 then bad = bad + 1 end
end

function done(summary, latency, requests)
  -- one machine-readable line: rps p50 p99 p99.9 (microseconds) errors
  io.write(string.format("RESULT rps=%.0f p50=%d p99=%d p999=%d non200=%d errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50), latency:percentile(99),
    latency:percentile(99.9), summary.errors.status + bad,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
