/**
 * An HTTP server on 127.0.0.1 that lets tests inject faults in front of a handler: the next answers
 * can be forced statuses, a write can run between a PATCH's arrival and its handling (a concurrent
 * writer), the answer to a PATCH that was handled can be lost (a gateway's 504, or the connection
 * reset), and every request is logged. {@link forwardTo} makes it a proxy: in front of the API-server
 * double (test/attachment/attachment-keeps-other-entries.test.ts) and of the real API server (test/engine).
 */
import http from "node:http";
import https from "node:https";
import type { AddressInfo } from "node:net";

export interface Answer {
    status: number;
    body: string;
    contentType?: string;
}

export interface FaultInjection {
    /** The next answers to any request are these statuses, one each, before real handling resumes. */
    failNext(...statuses: number[]): void;
    /** Runs once, after the next PATCH arrives and before it is handled: a concurrent writer. */
    beforeNextPatch(write: () => void | Promise<void>): void;
    /**
     * The next PATCH is handled (forwarded and applied), and its answer never reaches the client: a
     * proxy's 504 Gateway Timeout instead, or the connection reset.
     */
    loseNextPatchAnswer(how: LostAnswer): void;
    /** Drops every fault armed and not yet fired. */
    disarm(): void;
    /** Requests seen, as `METHOD path status`. */
    log: string[];
}

/** How an answer is lost: a gateway's 504, or the connection reset with no answer at all. */
export type LostAnswer = "504" | "reset";

export interface FaultInjectingServer extends FaultInjection {
    url: string;
    close(): Promise<void>;
}

/** A Kubernetes `Status` body, as the API server answers failures. */
export const statusBody = (code: number, reason: string, message: string) =>
    JSON.stringify({ kind: "Status", apiVersion: "v1", status: "Failure", code, reason, message });

export async function serveWithFaults(
    handle: (request: http.IncomingMessage, body: string) => Answer | Promise<Answer>,
): Promise<FaultInjectingServer> {
    const faults: number[] = [];
    let hook: (() => void | Promise<void>) | undefined;
    let lose: LostAnswer | undefined;
    // While the concurrent writer runs, every other request waits: the write lands between our read and
    // our patch and nothing of ours slips past it (the double's hook is synchronous for the same reason).
    let writing: Promise<void> = Promise.resolve();
    const log: string[] = [];
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", (chunk) => (body += chunk));
        req.on("end", () => {
            const answer = ({ status, body: text, contentType }: Answer) => {
                log.push(`${req.method} ${req.url} ${status}`);
                res.writeHead(status, { "content-type": contentType ?? "application/json" }).end(text);
            };
            const fault = faults.shift();
            if (fault !== undefined) {
                return answer({ status: fault, body: statusBody(fault, "Injected", "injected by the test") });
            }
            const write = req.method === "PATCH" ? hook : undefined;
            if (write) {
                hook = undefined;
                writing = Promise.resolve(write());
            }
            const lost = req.method === "PATCH" ? lose : undefined;
            if (lost) lose = undefined;
            writing
                .then(() => handle(req, body))
                .then(
                    (handled) => {
                        if (lost === undefined) return answer(handled);
                        log.push(`${req.method} ${req.url} ${handled.status}, answer lost: ${lost}`);
                        if (lost === "504") {
                            answer({ status: 504, body: statusBody(504, "Timeout", "injected by the test") });
                        } else {
                            req.socket.destroy();
                        }
                    },
                    (error: Error) =>
                        answer({ status: 502, body: statusBody(502, "TestFailure", String(error.message)) }),
                );
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    return {
        url: `http://127.0.0.1:${port}`,
        failNext: (...statuses) => void faults.push(...statuses),
        beforeNextPatch: (write) => void (hook = write),
        loseNextPatchAnswer: (how) => void (lose = how),
        disarm: () => {
            faults.length = 0;
            hook = undefined;
            lose = undefined;
        },
        log,
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}

/**
 * A handler that forwards each request unchanged to `server` (http, or https verified against `ca`)
 * and hands back its answer.
 */
export function forwardTo(
    server: string,
    ca?: string,
): (request: http.IncomingMessage, body: string) => Promise<Answer> {
    const transport = server.startsWith("https:") ? https : http;
    return (request, body) =>
        new Promise((resolve, reject) => {
            const forwarded = transport.request(
                `${server}${request.url}`,
                {
                    method: request.method,
                    ...(ca === undefined ? {} : { ca }),
                    headers: { ...request.headers, host: new URL(server).host },
                },
                (response) => {
                    let text = "";
                    response.on("data", (chunk) => (text += chunk));
                    response.on("end", () =>
                        resolve({
                            status: response.statusCode ?? 0,
                            body: text,
                            contentType: response.headers["content-type"],
                        }),
                    );
                },
            );
            forwarded.on("error", reject);
            forwarded.end(body);
        });
}
