-- wrk script: each request puts a new key into etcd through its JSON gateway (POST /v3/kv/put),
-- key `/registry/configmaps/<prefix>/<thread>-<n>`, value a ConfigMap JSON document of the size
-- create_configmap.lua sends (etcd's gateway wants key and value base64-encoded).
-- Arguments (after `--`): PREFIX. Figures go to $WRK_REPORT (see report.lua).
package.path = os.getenv("WRK_SCRIPTS") .. "/?.lua;" .. package.path
local report = require("report")

local next_thread = 0
function setup(thread)
  next_thread = next_thread + 1
  thread:set("tid", next_thread)
end

local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

local function b64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local v = a * 65536 + (b or 0) * 256 + (c or 0)
    local chars = 2 + (b and 1 or 0) + (c and 1 or 0)
    for j = 1, 4 do
      if j <= chars then
        local idx = math.floor(v / 2 ^ (6 * (4 - j))) % 64
        out[#out + 1] = alphabet:sub(idx + 1, idx + 1)
      else
        out[#out + 1] = "="
      end
    end
  end
  return table.concat(out)
end

function init(args)
  prefix = args[1] or "bench"
  n = 0
  local value = string.format(
    '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"%s-%d-0"},"data":{"payload":"%s"}}',
    prefix, tid, string.rep("x", 256))
  value64 = b64(value)
  headers = { ["Content-Type"] = "application/json" }
end

function request()
  n = n + 1
  local key = string.format("/registry/configmaps/%s/%d-%d", prefix, tid, n)
  local body = string.format('{"key":"%s","value":"%s"}', b64(key), value64)
  return wrk.format("POST", nil, headers, body)
end

done = report.done
