-- wrk script: POST a JSON body read from a file, with optional bearer key and one optional
-- extra header, on keep-alive connections.
--   wrk -s bench/wrk/post.lua URL -- BODY_FILE [KEY] [HEADER_NAME HEADER_VALUE]
-- The request is formatted once per thread; non-2xx answers show in wrk's summary.
-- WRK_DELAY_MS=N in the environment: each connection waits N ms between its requests, so the
-- load is about CONNECTIONS x 1000 / (N + latency) requests/s instead of all the server takes
-- (bench/monitor.py measures collection below saturation).
local req

function init(args)
   local f = assert(io.open(args[1], "rb"))
   local body = f:read("*a")
   f:close()
   local headers = { ["Content-Type"] = "application/json" }
   if args[2] and args[2] ~= "" then
      headers["Authorization"] = "Bearer " .. args[2]
   end
   if args[3] and args[4] then
      headers[args[3]] = args[4]
   end
   req = wrk.format("POST", nil, headers, body)
end

function request()
   return req
end

local pause = tonumber(os.getenv("WRK_DELAY_MS") or "")
if pause then
   function delay()
      return pause
   end
end
