/**
 * `node --import tsx test/support/registered-inputs.ts <stack>`: evaluates index.ts with the stack's
 * config under the mocks (the providers answering as after create) and prints, as JSON, everything
 * the engine would receive for each resource. Used to compare separate evaluations.
 */
import * as path from "node:path";
import { readStackConfig } from "../../tools/stack-config-files";
import { settled, startMocks } from "./mocks";

const repo = path.resolve(__dirname, "../..");
const registrations = startMocks({ config: readStackConfig(repo, process.argv[2]).config });
// eslint-disable-next-line @typescript-eslint/no-require-imports
require(path.join(repo, "index"));
settled().then(() => process.stdout.write(JSON.stringify(registrations)));
