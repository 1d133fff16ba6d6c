"""`make bench`: the figures of the Living Well Line, measured the same way every time.

One run starts the real topology (`livewell run` behind the Twilio mock, on a fresh PostgreSQL
database) and a bare FastAPI app beside it, drives both with the load generator in
`bench.loadgen` (its own process), and writes `bench/results/latest.json` and a Markdown table.
"""
