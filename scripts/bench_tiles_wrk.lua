-- wrk script for scripts/bench_tiles.py.
--
--   wrk -t1 -c8 -d15s --timeout 60s -s scripts/bench_tiles_wrk.lua http://127.0.0.1:PORT -- MODE ARG [SUFFIX [MARKER]]
--
-- MODE "loop": cycle through the request paths listed in file ARG (one per line) until -d ends.
-- MODE "once": request each path of file ARG exactly once, then stop (a cold pass); the
--   histogram of latencies is printed so that several passes can be merged.
-- MODE "nearest": random points in the bbox ARG = "west,south,east,north" (degrees, WGS-84),
--   SUFFIX is appended to "/api/v1/nearest?lon=..&lat=..".
-- SUFFIX (loop/once): a query string appended to every path (e.g. "?properties=key,level").
-- Environment BENCH_AUTHORIZATION: sent as the Authorization header of every request (an API token).
--
-- done() prints one line "BENCH {json}" with the counts and the latency percentiles (µs).
-- In "once" mode every request is preceded by a delay() that reserves one path, and the
-- connections with nothing left wait (delay of a day) until the last answer stops the
-- thread, so no path is requested twice; then wrk is sent SIGINT to end the run early and the
-- file MARKER (if given) is created. (The SIGINT does not always wake wrk's sleeping main thread:
-- the caller watches for MARKER and signals again.)

local paths = {}
mode = "loop"  -- global: done() reads it through thread:get
local suffix = ""
local bbox = nil
local reserved = 0
local sent = 0
local answered = 0
local marker = nil
local threads = {}

function setup(thread)
  table.insert(threads, thread)  -- done() runs in the main state and asks the thread for its mode
end

function init(args)
  -- the Authorization header of the server under test (env BENCH_AUTHORIZATION, "Bearer rmt_..."), if any
  local authorization = os.getenv("BENCH_AUTHORIZATION")
  if authorization and #authorization > 0 then
    wrk.headers["Authorization"] = authorization
  end
  mode = args[1] or "loop"
  if mode == "nearest" then
    bbox = {}
    for v in string.gmatch(args[2], "[^,]+") do table.insert(bbox, tonumber(v)) end
    suffix = args[3] or ""
    math.randomseed(os.time())
    return
  end
  suffix = args[3] or ""
  marker = args[4]
  for line in io.lines(args[2]) do
    if #line > 0 then table.insert(paths, line .. suffix) end
  end
  if mode == "once" then
    delay = function()
      if reserved < #paths then
        reserved = reserved + 1
        return 0
      end
      return 86400000
    end
    response = function(status, headers, body)
      answered = answered + 1
      if answered >= #paths then
        wrk.thread:stop()
        -- wrk's main thread sleeps for the whole -d; SIGINT ends that sleep (and the run).
        -- io.popen, not os.execute: system() ignores SIGINT in the caller while it waits.
        io.popen("kill -INT $PPID"):close()
        if marker and #marker > 0 then
          local f = io.open(marker, "w")
          f:write("done\n")
          f:close()
        end
      end
    end
  end
end

function request()
  if mode == "nearest" then
    local lon = bbox[1] + math.random() * (bbox[3] - bbox[1])
    local lat = bbox[2] + math.random() * (bbox[4] - bbox[2])
    return wrk.format("GET", string.format("/api/v1/nearest?lon=%.6f&lat=%.6f%s", lon, lat, suffix))
  end
  if mode == "once" and reserved == 0 then
    -- wrk's start-up check of the script: not a real request, reserve nothing
    return wrk.format("GET", paths[1])
  end
  sent = sent + 1
  return wrk.format("GET", paths[((sent - 1) % #paths) + 1])
end

function done(summary, latency, requests)
  local e = summary.errors
  local out = string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "errors": {"connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d}, "p50": %d, "p75": %d, "p90": %d, "p99": %d, "max": %d, "mean": %.1f',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(75), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean)
  if threads[1] and threads[1]:get("mode") == "once" then
    local hist = {}
    for i = 1, #latency do
      local value, count = latency(i)
      table.insert(hist, string.format("[%d, %d]", value, count))
    end
    out = out .. ', "hist": [' .. table.concat(hist, ", ") .. ']'
  end
  io.write("BENCH " .. out .. "}\n")
end
