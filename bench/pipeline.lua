-- wrk script for the pipe32 test of bench/run.sh: every write carries DEPTH
-- GET requests for the URL (default 16, or the first argument after `--`).
-- wrk parses the string once, counts the requests in it and then counts
-- each response, so req/s is responses per second.
--
--   wrk -t1 -c32 -d5s -s bench/pipeline.lua http://127.0.0.1:PORT/plaintext -- 16

local batch

function init(args)
  local depth = tonumber(args[1]) or 16
  local one = wrk.format("GET", wrk.path)
  batch = string.rep(one, depth)
end

function request()
  return batch
end
