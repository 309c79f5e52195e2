-- The views of bench/end_to_end.py, run by wrk: checks every answer and reports one JSON line.
--
-- wrk -s views.lua URL -- FILE STATUS THREADS START
--   FILE holds one request a line: path, Cookie and If-None-Match, separated by tabs (either
--   header may be empty). Each of the THREADS threads asks for its own share of the lines in
--   turn (the first every THREADS-th line, the second the next...), so that each line comes
--   once a round of them all, from its START-th on. Any answer but STATUS counts as unexpected.

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  expected = tonumber(args[2])
  unexpected = 0
  first_unexpected = 0
  requests = {}
  local threads_count, number = tonumber(args[3]), 0  -- a view of one line: written THREADS times
  for line in io.lines(args[1]) do
    number = number + 1
    local path, cookie, tag = line:match("^([^\t]*)\t([^\t]*)\t([^\t]*)$")
    local headers = {}
    for name, value in pairs(wrk.headers) do
      headers[name] = value
    end
    if cookie ~= "" then
      headers["Cookie"] = cookie
    end
    if tag ~= "" then
      headers["If-None-Match"] = tag
    end
    if (number - 1) % threads_count == id then
      table.insert(requests, wrk.format("GET", path, headers))
    end
  end
  next_request = tonumber(args[4]) % #requests
end

function request()
  next_request = next_request % #requests + 1
  return requests[next_request]
end

function response(status, headers, body)
  if status ~= expected then
    unexpected = unexpected + 1
    if first_unexpected == 0 then
      first_unexpected = status
    end
  end
end

function done(summary, latency, requests)
  local unexpected_total, first = 0, 0
  for _, thread in ipairs(threads) do
    unexpected_total = unexpected_total + thread:get("unexpected")
    if first == 0 then
      first = thread:get("first_unexpected")
    end
  end
  local errors = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "timeout": %d, "unexpected": %d, ' ..
    '"first_unexpected_status": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    latency.max, errors.connect, errors.read, errors.write, errors.timeout,
    unexpected_total, first))
end
