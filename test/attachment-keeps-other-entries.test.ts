/**
 * The attachment's provider (create, read, update, delete, diff) driven through @kubernetes/client-node
 * against the API-server DOUBLE on 127.0.0.1 (test/support/api-server-double.ts), not a real cluster.
 * The same cases run against a real kube-apiserver in test/engine/real-api-server.test.ts.
 */
import { startApiServerDouble } from "./support/api-server-double";
import { describeEntryCases } from "./support/entry-cases";
import type { EntryTiming } from "../components/pull-secret-entry-client";

const fast: EntryTiming = { appearTimeoutMs: 300, initialDelayMs: 5, maxDelayMs: 20, maxAttempts: 6 };

describeEntryCases("PullSecretEntry against the API-server double", startApiServerDouble, fast);
