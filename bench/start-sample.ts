/**
 * The sample program (index.ts) from process start to every resource registered, under the mocks
 * with the dev stack's config. Prints the time spent importing it (imports included) as JSON.
 */
import { settled, installMocks } from "../test/support/mocks";
import { stackConfig } from "../test/support/stack-config";
installMocks({ config: stackConfig("dev") });

const start = performance.now();
// Required after installMocks: the program registers its resources while it loads.
// eslint-disable-next-line @typescript-eslint/no-require-imports
require("../index");
const loadedMs = performance.now() - start;
settled().then(
    () => {
        process.stdout.write(JSON.stringify({ loadedMs }) + "\n");
        process.exit(0);
    },
    (err: unknown) => {
        console.error(err);
        process.exit(1);
    },
);
