/**
 * The plan's formatter fed registrations that really carry key material (the mocks play the provider
 * after create, so `privateKey` is a key file): nothing of it may reach the printed plan or the files.
 */
import assert from "node:assert/strict";
import * as path from "node:path";
import { describe, it } from "node:test";
import * as YAML from "yaml";
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
        "auth (base64 of username:password)": Buffer.from(
            `_json_key_base64:${Buffer.from(keyFile).toString("base64")}`,
        ).toString("base64"),
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

    it("the Secrets' data prints as its shape, every credential [secret]; the secret output as [secret]", () => {
        const shapes = kubernetesObjects(registrations).map((o) => YAML.parse(o.yaml).data);
        const entry = { username: "_json_key_base64", password: "[secret]", auth: "[secret]" };
        assert.deepEqual(shapes, [
            { ".dockerconfigjson": { auths: { "asia-northeast1-docker.pkg.dev": entry, "asia.gcr.io": entry } } },
            { ".dockerconfigjson": { auths: { "asia-northeast1-docker.pkg.dev": entry, "asia.gcr.io": entry } } },
        ]);
        assert.match(text, /\n {2}dockerConfigJson: \[secret\]\n/);
    });
});
