-- One scenario of bench/web.py, run by wrk: checks every answer and reports one JSON line.
--
-- wrk -s scenario.lua URL -- MODE [CSRF_TOKEN NOTE_PATH]
--   get:   GET the URL's path; any answer but 200 counts as unexpected.
--   mixed: per 10 requests, 7 GET /, 2 GET NOTE_PATH and 1 POST /notes/new with the
--          CSRF token; a 200, or a 302 to the new note, is expected.
-- A 302 anywhere else (to the sign-in page, say) is a failure too: wrk itself
-- counts only statuses of 400 and above.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  mode = args[1] or "get"
  unexpected = 0
  first_unexpected = 0
  sent = 0
  if mode == "mixed" then
    local body = "csrf_token=" .. args[2] .. "&title=Benchmark+note&content=" ..
      string.rep("written+under+load+", 20)
    -- wrk.format() sends the headers it is given instead of wrk's own: copy them.
    local post_headers = {}
    for name, value in pairs(wrk.headers) do
      post_headers[name] = value
    end
    post_headers["Content-Type"] = "application/x-www-form-urlencoded"
    -- Behind an HTTPS router Flask-WTF checks that a POST comes from our own pages.
    post_headers["Referer"] = "https://" .. wrk.headers["Host"] .. "/notes/new"
    list_request = wrk.format("GET", "/")
    note_request = wrk.format("GET", args[3])
    write_request = wrk.format("POST", "/notes/new", post_headers, body)
  end
  plain_request = wrk.format(nil, wrk.path)
end

function request()
  if mode ~= "mixed" then
    return plain_request
  end
  sent = sent + 1
  local slot = sent % 10
  if slot == 0 then
    return write_request
  elseif slot <= 2 then
    return note_request
  end
  return list_request
end

function response(status, headers, body)
  if status == 200 then
    return
  end
  -- Header names are case-insensitive; gunicorn's asgi worker sends them in lower case.
  local location = headers["Location"] or headers["location"] or ""
  if mode == "mixed" and status == 302 and location:match("^/notes/%d+$") then
    return
  end
  unexpected = unexpected + 1
  if first_unexpected == 0 then
    first_unexpected = status
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
