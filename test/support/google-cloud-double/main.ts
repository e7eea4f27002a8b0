/**
 * The plugin process's entry: what `pulumi-resource-gcp` (written by ./install.ts) runs. The engine
 * starts it with its own address as an argument (unused: the double calls nothing back) and reads
 * the port from the first line of stdout.
 */
import { serve } from "./plugin";
import { stateFileVariable } from "./state";

const stateFile = process.env[stateFileVariable];
const version = process.env.GOOGLE_CLOUD_DOUBLE_VERSION;
if (!stateFile || !version) {
    process.stderr.write(
        `pulumi-resource-gcp (double): ${stateFileVariable} and GOOGLE_CLOUD_DOUBLE_VERSION must be set\n`,
    );
    process.exit(1);
}
serve(stateFile, version).then(
    ({ port }) => process.stdout.write(`${port}\n`),
    (error: Error) => {
        process.stderr.write(`pulumi-resource-gcp (double): ${error.message}\n`);
        process.exit(1);
    },
);
