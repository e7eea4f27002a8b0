/**
 * An HTTP server on 127.0.0.1 that lets tests inject faults in front of a handler: the next answers
 * can be forced statuses, a write can run between a PATCH's arrival and its handling (a concurrent
 * writer), and every request is logged. The API-server double handles requests itself; the real
 * API server's proxy (test/engine) forwards them.
 */
import http from "node:http";
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
    /** Requests seen, as `METHOD path status`. */
    log: string[];
}

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
            writing
                .then(() => handle(req, body))
                .then(answer, (error: Error) =>
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
        log,
        close: () =>
            new Promise<void>((resolve) => {
                server.closeAllConnections();
                server.close(() => resolve());
            }),
    };
}
