-- wrk script: POST /api/v1/signals/evaluate (or BENCH_PATH, an anchor of bench/gate_site.py)
-- with a fresh signal_id per request.
local counter = 0
local token = os.getenv("BENCH_TOKEN")
local run = os.getenv("BENCH_RUN") or "0"
local path = os.getenv("BENCH_PATH") or "/api/v1/signals/evaluate"

request = function()
  counter = counter + 1
  local direction = (counter % 2 == 0) and "LONG" or "SHORT"
  local symbol = (counter % 3 == 0) and "ETHUSDT" or "BTCUSDT"
  local body = string.format(
    '{"symbol":"%s","direction":"%s","base_size":1000.0,"strategy":"TRUE_TREND","signal_id":"bench-%s-%d-%d"}',
    symbol, direction, run, math.random(1, 1000000000), counter)
  return wrk.format("POST", path,
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end
