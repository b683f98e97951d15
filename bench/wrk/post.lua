-- wrk script: POST a JSON body read from a file, with optional bearer key and one optional
-- extra header, on keep-alive connections.
--   wrk -s bench/wrk/post.lua URL -- BODY_FILE [KEY] [HEADER_NAME HEADER_VALUE]
-- The request is formatted once per thread; non-2xx answers show in wrk's summary.
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
