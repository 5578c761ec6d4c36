-- wrk script: each request creates a new ConfigMap (POST to the collection URL given to wrk) with
-- a unique name, `<prefix>-<thread>-<n>`, and a 256-byte payload, authenticated with a bearer token.
-- Arguments (after `--`): TOKEN PREFIX. Figures go to $WRK_REPORT (see report.lua).
package.path = os.getenv("WRK_SCRIPTS") .. "/?.lua;" .. package.path
local report = require("report")

local next_thread = 0
function setup(thread)
  next_thread = next_thread + 1
  thread:set("tid", next_thread)
end

function init(args)
  prefix = args[2] or "cm"
  n = 0
  payload = string.rep("x", 256)
  headers = {
    ["Authorization"] = "Bearer " .. args[1],
    ["Content-Type"] = "application/json",
    ["Accept"] = "application/json",
  }
end

function request()
  n = n + 1
  local body = string.format(
    '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s-%d-%d"},"data":{"payload":"%s"}}',
    prefix, tid, n, payload)
  return wrk.format("POST", nil, headers, body)
end

done = report.done
