"""Prometheus metrics shared by every process (one registry a process)."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUESTS = Counter("livewell_http_requests_total", "HTTP requests served",
                        ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram("livewell_http_request_seconds", "HTTP request latency",
                         ["service", "route"],
                         buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5))
OUTBOX_DELIVERED = Counter("livewell_outbox_delivered_total", "Outbox events delivered", ["target"])
OUTBOX_RETRIED = Counter("livewell_outbox_retried_total", "Outbox deliveries to retry", ["target"])
OUTBOX_DEAD = Counter("livewell_outbox_dead_total",
                      "Outbox events refused by their receiver (kept as dead letters)", ["target"])
GROUP_COMMIT_BATCH = Histogram("livewell_group_commit_batch_size",
                               "Writes committed together in one transaction", ["writer"],
                               buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))
