-- wrk script: plain requests with the method, headers and body wrk was given (-H, -s only to get
-- the figures written to $WRK_REPORT, see report.lua). Optional arguments: METHOD BODY.
package.path = os.getenv("WRK_SCRIPTS") .. "/?.lua;" .. package.path
local report = require("report")

function init(args)
  if args[1] then wrk.method = args[1] end
  if args[2] then wrk.body = args[2] end
end

done = report.done
