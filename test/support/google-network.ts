/**
 * Google's side for a refresher running as a pod: the doubles of test/support/google-token-doubles.ts
 * and the DNS double, serving inside the test network's "Google" namespace (test/support/pod-network.ts)
 * at the addresses the real services have for a pod: the metadata server at 169.254.169.254:80 (plain
 * HTTP, as GKE's), STS and IAM Credentials at test-made addresses on 443 with TLS for their real names,
 * signed by a CA this test makes (openssl) and the refresher image trusts; DNS on 53 answering those
 * names and nothing else. The same certificate also names the test network's host address, where the
 * Artifact Registry front (test/support/artifact-registry-front.ts) serves pods over HTTPS.
 */
import { verify } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { isIP } from "node:net";
import type * as net from "node:net";
import type * as dgram from "node:dgram";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { startDnsDouble, type DnsDouble } from "./dns-double";
import {
    startIamCredentialsDouble,
    startMetadataServerDouble,
    startStsDouble,
    type Serve,
    type TokenDouble,
} from "./google-token-doubles";
import { listenIn, run } from "./netns";
import type { PodNetwork } from "./pod-network";

/** A CA and one serving certificate for `names` (DNS names or IP addresses), made with openssl (short-lived, test-only). */
export function makeTlsIdentity(names: string[]): { ca: string; key: string; cert: string } {
    const dir = mkdtempSync(path.join(tmpdir(), "google-doubles-tls-"));
    const file = (name: string) => path.join(dir, name);
    try {
        const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
        run("openssl", [
            "req", "-x509", ...ec, "-keyout", file("ca.key"), "-out", file("ca.pem"), "-days", "2",
            "-subj", "/CN=registry-pull-secret e2e CA for Google doubles",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
        ]); // prettier-ignore
        run("openssl", [
            "req",
            ...ec,
            "-keyout",
            file("leaf.key"),
            "-out",
            file("leaf.csr"),
            "-subj",
            `/CN=${names[0]}`,
        ]);
        const extensions = file("leaf.ext");
        writeFileSync(
            extensions,
            `subjectAltName=${names.map((name) => (isIP(name) ? `IP:${name}` : `DNS:${name}`)).join(",")}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`,
        );
        run("openssl", [
            "x509", "-req", "-in", file("leaf.csr"), "-CA", file("ca.pem"), "-CAkey", file("ca.key"),
            "-CAcreateserial", "-out", file("leaf.pem"), "-days", "2", "-extfile", extensions,
        ]); // prettier-ignore
        return {
            ca: readFileSync(file("ca.pem"), "utf8"),
            key: readFileSync(file("leaf.key"), "utf8"),
            cert: readFileSync(file("leaf.pem"), "utf8"),
        };
    } finally {
        rmSync(dir, { recursive: true, force: true });
    }
}

/** Serves on a listener made in another namespace: HTTP, or HTTPS with `tls`. */
function serveOn(listener: net.Server, url: string, tls?: { key: string; cert: string }): Serve {
    return (handler) => {
        const server = tls ? https.createServer(tls, handler) : http.createServer(handler);
        listener.on("connection", (socket) => server.emit("connection", socket));
        return Promise.resolve({
            url,
            close: () =>
                new Promise<void>((resolve) => {
                    server.closeAllConnections();
                    listener.close(() => resolve());
                }),
        });
    };
}

/**
 * The claims of a Kubernetes ServiceAccount token (a JWT, RS256) whose signature `publicKey` verifies,
 * else undefined: what Google's STS checks against the provider's issuer keys before it exchanges one.
 */
export function verifiedClaims(token: string, publicKey: string): Record<string, unknown> | undefined {
    const [header, payload, signature] = token.split(".");
    if (signature === undefined) return undefined;
    const signed = Buffer.from(`${header}.${payload}`);
    if (!verify("RSA-SHA256", signed, publicKey, Buffer.from(signature, "base64url"))) return undefined;
    return JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as Record<string, unknown>;
}

export interface GoogleSide {
    /** The CA the doubles' TLS certificate chains to (PEM): the refresher image trusts it. */
    ca: string;
    /** That certificate and its key: it names STS, IAM Credentials and the network's host address. */
    tls: { key: string; cert: string };
    /** Every metadata-server double started so far (a restart after going down starts a new one). */
    metadataServers: TokenDouble[];
    sts?: TokenDouble;
    iamCredentials?: TokenDouble;
    dns: DnsDouble;
    /** Whether `token` is one any of these doubles issued and that has not expired. */
    isLiveToken: (token: string) => boolean;
    /** Stops the metadata server: connections to 169.254.169.254:80 are refused. */
    metadataDown(): Promise<void>;
    /** Starts it again, with a new double issuing new tokens. */
    metadataUp(): Promise<void>;
    stop(): Promise<void>;
}

export interface GoogleSideOptions {
    /** Lifetime of each token, seconds (what `expires_in` says). */
    lifetimeSeconds: number;
    /** Workload Identity Federation: what STS accepts. */
    federation?: { audience: string; acceptsSubjectToken: (token: string) => boolean };
    /** Impersonation: the account IAM Credentials mints tokens for. */
    impersonate?: string;
}

export async function startGoogleSide(network: PodNetwork, options: GoogleSideOptions): Promise<GoogleSide> {
    const identity = makeTlsIdentity(["sts.googleapis.com", "iamcredentials.googleapis.com", network.hostAddress]);
    const now = () => Date.now();
    const { google } = network;
    const [dnsSocket, stsListener, iamListener] = await listenIn(network.googleNetns, [
        { protocol: "udp", host: google.dns, port: 53 },
        { protocol: "tcp", host: google.sts, port: 443 },
        { protocol: "tcp", host: google.iamCredentials, port: 443 },
    ]);
    const dns = startDnsDouble(dnsSocket as dgram.Socket, network.googleHosts);
    const metadataServers: TokenDouble[] = [];
    let metadata: TokenDouble | undefined;
    const metadataUp = async () => {
        const [listener] = await listenIn(network.googleNetns, [{ protocol: "tcp", host: google.metadata, port: 80 }]);
        metadata = await startMetadataServerDouble(
            now,
            options.lifetimeSeconds,
            serveOn(listener as net.Server, `http://${google.metadata}`),
        );
        metadataServers.push(metadata);
    };
    await metadataUp();
    const sts = options.federation
        ? await startStsDouble(
              now,
              options.federation,
              options.lifetimeSeconds,
              serveOn(stsListener as net.Server, "https://sts.googleapis.com", identity),
          )
        : undefined;
    if (!sts) (stsListener as net.Server).close();
    const iamCredentials = options.impersonate
        ? await startIamCredentialsDouble(
              now,
              {
                  email: options.impersonate,
                  trusted: () => [...metadataServers, ...(sts ? [sts] : [])].flatMap((d) => d.issued),
              },
              options.lifetimeSeconds,
              serveOn(iamListener as net.Server, "https://iamcredentials.googleapis.com", identity),
          )
        : undefined;
    if (!iamCredentials) (iamListener as net.Server).close();
    // Artifact Registry takes any live Google access token (what it may read is IAM's business, which
    // the front does not model): the metadata server's, STS's or IAM Credentials'.
    const issuers = () => [...metadataServers, ...(sts ? [sts] : []), ...(iamCredentials ? [iamCredentials] : [])];
    return {
        ca: identity.ca,
        tls: { key: identity.key, cert: identity.cert },
        metadataServers,
        sts,
        iamCredentials,
        dns,
        isLiveToken: (token) =>
            issuers().some((double) => double.issued.some((t) => t.token === token && t.expiresAtMs > now())),
        metadataDown: async () => {
            await metadata?.close();
            metadata = undefined;
        },
        metadataUp,
        async stop() {
            await metadata?.close();
            await sts?.close();
            await iamCredentials?.close();
            dns.close();
        },
    };
}
