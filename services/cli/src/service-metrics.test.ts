import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { MetricsScrapeError, parsePrometheusText, scrapeMetrics } from "./service-metrics.js";

const TEXT = `# HELP sluice_oni_labels_stored_total labels written
# TYPE sluice_oni_labels_stored_total counter
sluice_oni_labels_stored_total 42
sluice_oni_judge_requests_total{outcome="ok"} 40
sluice_reward_gate_open_rate{channel="oni"} 0.25
sluice_oni_label_latency_seconds_bucket{le="0.05"} 3
sluice_oni_label_latency_seconds_sum 1.5
sluice_reward_channel_mean{channel="x"} NaN
process_cpu_seconds_total 9
`;

void test("keeps counters, gauges and histogram sums of the given prefixes, drops buckets and NaN", () => {
  assert.deepEqual(parsePrometheusText(TEXT, ["sluice_oni_", "sluice_reward_"]), {
    sluice_oni_labels_stored_total: 42,
    'sluice_oni_judge_requests_total{outcome="ok"}': 40,
    'sluice_reward_gate_open_rate{channel="oni"}': 0.25,
    sluice_oni_label_latency_seconds_sum: 1.5,
  });
});

void test("scrapes an endpoint and reports one that answers with an error as MetricsScrapeError", async () => {
  let status = 200;
  const server = createServer((_req, res) => {
    res.writeHead(status);
    res.end(TEXT);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
  try {
    assert.equal((await scrapeMetrics(url, ["sluice_oni_labels"], 2_000))["sluice_oni_labels_stored_total"], 42);
    status = 500;
    await assert.rejects(scrapeMetrics(url, ["sluice_"], 2_000), MetricsScrapeError);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
