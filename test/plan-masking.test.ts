/**
 * The plan's formatter fed registrations that really carry key material (the mocks play the provider
 * after create, so `privateKey` is a key file): nothing of it may reach the printed plan or the files.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, it } from "node:test";
import type * as Program from "../index";
import { formatPlan, kubernetesObjects } from "../tools/plan-format";
import { secretValue } from "../tools/recording-monitor";
import { readStackConfig } from "../tools/stack-config-files";
import { resolve, startMocks, settled } from "./support/mocks";
import { serviceAccountKeyFile } from "./support/key-file";

const stack = readStackConfig(path.resolve(__dirname, ".."), "dev");
const registrations = startMocks({ config: stack.config });

describe("the plan masks every secret", async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = require("../index") as typeof Program;
    await settled();
    const { value: dockerConfig } = await resolve<string>(program.dockerConfigJson);
    const keyFile = serviceAccountKeyFile("image-puller-dev@example-project-dev.iam.gserviceaccount.com");
    const material = {
        "key file (base64, the provider's privateKey)": Buffer.from(keyFile).toString("base64"),
        "private key": JSON.parse(keyFile).private_key.split("\n")[1],
        ".dockerconfigjson": dockerConfig,
        ".dockerconfigjson in base64 (the Secret's data)": Buffer.from(dockerConfig).toString("base64"),
    };
    const outputs = { dockerConfigJson: secretValue(dockerConfig) };
    const text = formatPlan({ project: stack.project, stack: stack.stack, registrations, outputs });
    const files = kubernetesObjects(registrations)
        .map((o) => o.yaml)
        .join("\n");

    it("the registrations really carry the key material (so the checks below can fail)", () => {
        const sent = JSON.stringify(registrations);
        assert.ok(sent.includes(material[".dockerconfigjson in base64 (the Secret's data)"]));
        assert.ok(dockerConfig.includes(material["key file (base64, the provider's privateKey)"]));
    });

    for (const [what, value] of Object.entries(material)) {
        it(`neither the printed plan nor the YAML files contain the ${what}`, () => {
            assert.ok(value.length > 20);
            assert.equal(text.includes(value), false);
            assert.equal(files.includes(value), false);
        });
    }

    it("the Secrets' data and the secret output print as [secret]", () => {
        assert.equal((files.match(/^data: "\[secret\]"$/gm) ?? []).length, 2);
        assert.match(text, /\n {2}dockerConfigJson: \[secret\]\n/);
    });
});
