/**
 * The attachment's provider (create, read, update, delete, diff) driven through @kubernetes/client-node
 * against the API-server DOUBLE on 127.0.0.1 (test/support/api-server-double.ts), not a real cluster,
 * behind a real HTTP proxy that forwards every request and injects the faults (forced statuses, a
 * concurrent writer, a PATCH applied whose answer is lost: test/support/fault-injection.ts). The same
 * cases run against a real kube-apiserver in test/engine/real-api-server.test.ts.
 */
import { doubleBehindProxy } from "../support/double-entry-cluster";
import { describeEntryCases } from "../support/entry-cases";
import type { EntryTiming } from "../../components/attachment/pull-secret-entry-client";

const fast: EntryTiming = { appearTimeoutMs: 300, initialDelayMs: 5, maxDelayMs: 20, maxAttempts: 6 };

describeEntryCases("PullSecretEntry against the API-server double behind a proxy", doubleBehindProxy, fast);
