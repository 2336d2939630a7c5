-- Full quiz cycles for bench/speed.py: each wrk thread is one learner (run with -t N -c N) who
-- starts an attempt, saves the first choice of every question, submits, and starts again.
-- Any answer >= 300 counts as an error. SPEED_TOKENS names a file with one token per line.
local tokens, next_token, all_threads = {}, 1, {}

function setup(thread)
  if #tokens == 0 then
    for line in io.lines(os.getenv("SPEED_TOKENS")) do tokens[#tokens + 1] = line end
  end
  thread:set("token", tokens[next_token])
  next_token = next_token + 1
  all_threads[#all_threads + 1] = thread
end

function init(args)
  quiz = os.getenv("SPEED_QUIZ")
  phase, pending, cycles, errors = "start", {}, 0, 0
end

local function headers()
  return { ["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json" }
end

function request()
  if phase == "start" then
    return wrk.format("POST", "/api/v1/quizzes/" .. quiz .. "/attempts", headers(), "{}")
  elseif phase == "save" then
    local item = pending[1]
    return wrk.format("PUT", "/api/v1/attempts/" .. attempt .. "/answers/" .. item.question, headers(),
                      '{"response": "' .. item.choice .. '"}')
  end
  return wrk.format("POST", "/api/v1/attempts/" .. attempt .. "/submission", headers(), "{}")
end

function response(status, hdrs, body)
  if status >= 300 then errors = errors + 1 end
  if phase == "start" then
    if status ~= 201 then return end
    attempt = body:match('"attempt_id":%s*"([^"]+)"')
    pending = {}
    local questions = body:match('"questions":%s*(%b[])') or "[]"
    for q in questions:gmatch("%b{}") do
      local choices = q:match('"choices":%s*(%b[])') or "[]"
      local rest = q:gsub('"choices":%s*%b[]', ""):gsub('"targets":%s*%b[]', "")
      pending[#pending + 1] = { question = rest:match('"id":%s*"([^"]+)"'), choice = choices:match('"id":%s*"([^"]+)"') }
    end
    phase = (#pending > 0) and "save" or "submit"
  elseif phase == "save" then
    table.remove(pending, 1)
    if #pending == 0 then phase = "submit" end
  else
    cycles = cycles + 1
    phase = "start"
  end
end

function done(summary, latency, requests)
  local c, e = 0, 0
  for _, t in ipairs(all_threads) do c = c + t:get("cycles"); e = e + t:get("errors") end
  io.write(string.format("CYCLES %d ERRORS %d SECONDS %.2f\n", c, e, summary.duration / 1e6))
end
