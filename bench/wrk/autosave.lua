-- Autosave alone for bench/speed.py: each wrk thread (run with -t N -c N) saves answers to its
-- own open attempt, alternating between two choices. SPEED_SAVES names a file with one line per
-- learner: token, attempt id, question id, two choice ids, separated by spaces.
local lines, next_line, all_threads = {}, 1, {}

function setup(thread)
  if #lines == 0 then
    for line in io.lines(os.getenv("SPEED_SAVES")) do lines[#lines + 1] = line end
  end
  thread:set("line", lines[next_line])
  next_line = next_line + 1
  all_threads[#all_threads + 1] = thread
end

function init(args)
  token, attempt, question, first, second = line:match("(%S+) (%S+) (%S+) (%S+) (%S+)")
  flip, errors = false, 0
end

function request()
  flip = not flip
  local body = '{"response": "' .. (flip and first or second) .. '"}'
  return wrk.format("PUT", "/api/v1/attempts/" .. attempt .. "/answers/" .. question,
                    { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }, body)
end

function response(status, hdrs, body)
  if status >= 300 then errors = errors + 1 end
end

function done(summary, latency, requests)
  local e = 0
  for _, t in ipairs(all_threads) do e = e + t:get("errors") end
  io.write(string.format("ERRORS %d\n", e))
end
