-- Shared by the wrk scripts of the vs_etcd benchmark: writes the run's figures as one JSON object
-- to the file named by the WRK_REPORT environment variable (the benchmark parses it).
local M = {}

function M.done(summary, latency, requests)
  local path = os.getenv("WRK_REPORT")
  if path == nil then return end
  local f = assert(io.open(path, "w"))
  f:write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"status_errors":%d,"connect_errors":%d,' ..
    '"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, summary.bytes, summary.errors.status,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    latency.mean))
  f:close()
end

return M
