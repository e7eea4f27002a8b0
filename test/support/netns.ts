/**
 * Network namespaces the tests make for themselves (iproute2's `ip`, util-linux's `nsenter`), and a
 * way for this process to serve inside one: a short-lived helper bound into the namespace opens the
 * listening sockets and hands them over (a socket stays in the namespace it was made in, whoever
 * holds it), so the doubles in test/support serve there from this very process.
 */
import { spawn, spawnSync } from "node:child_process";
import type * as dgram from "node:dgram";
import type * as net from "node:net";

/** Runs a tool and returns its stdout; a failure is an error with its stderr. */
export function run(command: string, args: string[]): string {
    const result = spawnSync(command, args, { encoding: "utf8", timeout: 60_000 });
    if (result.error) throw new Error(`${command} could not run: ${result.error.message} (install it as .ci/run does)`);
    if (result.status !== 0)
        throw new Error(`${command} ${args.join(" ")} failed (${result.status}): ${result.stderr}`);
    return result.stdout;
}

/** `ip ARGS` in this process's namespace, or with `-n NAME` in a named one. */
export function ip(...args: string[]): string {
    return run("ip", args);
}

/** The `nsenter` arguments that run COMMAND in network namespace `netns` (a path), all else shared. */
export function inNetns(netns: string, command: string, args: string[] = []): [string, string[]] {
    return ["nsenter", [`--net=${netns}`, "--", command, ...args]];
}

/** Runs COMMAND in network namespace `netns`; returns its stdout, throws with its stderr. */
export function runIn(netns: string, command: string, args: string[]): string {
    return run(...inNetns(netns, command, args));
}

/** `ip -j ...` in `netns`, parsed (iproute2's JSON output). */
export function ipJson(netns: string, ...args: string[]): unknown {
    return JSON.parse(runIn(netns, "ip", ["-j", ...args]) || "[]");
}

export type ListenSpec = { protocol: "tcp" | "udp"; host: string; port: number };
export type Listener = net.Server | dgram.Socket;

// The helper: binds each socket in its own namespace, sends each to its parent, then exits.
const helper = `
const net = require("node:net");
const dgram = require("node:dgram");
process.once("message", async (specs) => {
    try {
        for (const spec of specs) {
            const socket = spec.protocol === "tcp" ? net.createServer() : dgram.createSocket("udp4");
            await new Promise((done, fail) => {
                socket.once("error", fail);
                if (spec.protocol === "tcp") socket.listen({ host: spec.host, port: spec.port }, done);
                else socket.bind({ address: spec.host, port: spec.port }, done);
            });
            await new Promise((done) => process.send({ sent: spec }, socket, done));
        }
        process.send({ done: true }, () => process.exit(0));
    } catch (error) {
        process.send({ error: String(error) }, () => process.exit(1));
    }
});
`;

/** Listening sockets made inside network namespace `netns`, in the order of `specs`. */
export async function listenIn(netns: string, specs: ListenSpec[]): Promise<Listener[]> {
    const [command, args] = inNetns(netns, process.execPath, ["-e", helper]);
    const child = spawn(command, args, { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    const listeners: Listener[] = [];
    return new Promise((resolve, reject) => {
        child.on("message", (message: { sent?: ListenSpec; done?: true; error?: string }, handle?: Listener) => {
            if (message.sent && handle) listeners.push(handle);
            if (message.done) resolve(listeners);
            if (message.error) reject(new Error(`listening in ${netns} failed: ${message.error}`));
        });
        child.once("exit", (code) => {
            if (listeners.length < specs.length) reject(new Error(`the listener helper in ${netns} exited (${code})`));
        });
        child.send(specs);
    });
}
