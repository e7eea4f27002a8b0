/**
 * The token refresher's container has a 96Mi memory limit (components/refresher/token-refresher-deployment.ts).
 * At the documented maximum of target namespaces (docs/keyless.md#accesstoken), the shipped
 * refresher writes every Secret in its first round and its process's peak RSS stays under that limit:
 * writes go 8 at a time over kept-alive connections (test/support/refresher-at-scale.ts runs it).
 * Before, all of them went at once, one TLS connection each, and 400 targets reached the limit.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { measureFirstRound } from "../support/refresher-at-scale";

/** The most target namespaces one accessToken component is documented to hold. */
const documentedMaximum = 3000;
/** The container's memory limit, 96Mi. */
const limitMiB = 96;

it(`writes all ${documentedMaximum} Secrets in its first round with a peak RSS under the container's ${limitMiB}Mi limit`, async (t) => {
    const round = await measureFirstRound(documentedMaximum);
    t.diagnostic(`peak RSS ${round.peakRssMiB.toFixed(1)} MiB, first round ${round.firstRoundMs} ms`);
    assert.equal(round.written, documentedMaximum);
    assert.equal(round.failed, 0);
    assert.ok(round.peakRssMiB < limitMiB, `${round.peakRssMiB} MiB`);
});
