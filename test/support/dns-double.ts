/**
 * A DOUBLE of a DNS server, not one: it answers `A` questions for the names it is given (Google's
 * API hosts, pointed at the test's own doubles) and nothing else. Every other name is NXDOMAIN, so a
 * lookup that would leave the test's network fails instead. The wire format is RFC 1035's (section
 * 4.1: a 12-byte header, the question, answers with a compressed name pointing at the question); an
 * `AAAA` question for a known name gets an empty NOERROR answer (RFC 2308 "NODATA"), which is what
 * glibc's resolver expects when a name has only IPv4 addresses.
 */
import type * as dgram from "node:dgram";

export interface DnsQuestion {
    name: string;
    /** 1 = A, 28 = AAAA, ... (RFC 1035 section 3.2.2, RFC 3596). */
    type: number;
    /** What the double answered: `answered`, `nodata` or `nxdomain`. */
    outcome: "answered" | "nodata" | "nxdomain";
}

export interface DnsDouble {
    /** Every question received, in order. */
    questions: DnsQuestion[];
    close(): void;
}

const typeA = 1;
const typeAAAA = 28;
const classIN = 1;

/** Reads the question's name (labels, no compression in a question) and where the question ends. */
export function readQuestion(message: Buffer): { name: string; type: number; klass: number; end: number } {
    const labels: string[] = [];
    let offset = 12;
    for (;;) {
        const length = message[offset];
        if (length === undefined || length > 63) throw new Error("malformed question");
        offset++;
        if (length === 0) break;
        labels.push(message.subarray(offset, offset + length).toString("latin1"));
        offset += length;
    }
    return {
        name: labels.join(".").toLowerCase(),
        type: message.readUInt16BE(offset),
        klass: message.readUInt16BE(offset + 2),
        end: offset + 4,
    };
}

/** The answer to one query: header flags QR, AA, RD echoed; RCODE 0 or 3 (NXDOMAIN). */
export function dnsAnswer(
    query: Buffer,
    names: ReadonlyMap<string, string>,
): { answer: Buffer; question: DnsQuestion } {
    const { name, type, klass, end } = readQuestion(query);
    const address = names.get(name);
    const outcome: DnsQuestion["outcome"] =
        address === undefined ? "nxdomain" : type === typeA && klass === classIN ? "answered" : "nodata";
    const header = Buffer.alloc(12);
    query.copy(header, 0, 0, 2); // the ID
    const recursionDesired = query[2] & 0x01;
    header[2] = 0x80 | 0x04 | recursionDesired; // QR, AA
    header[3] = outcome === "nxdomain" ? 3 : 0;
    header.writeUInt16BE(1, 4); // QDCOUNT
    header.writeUInt16BE(outcome === "answered" ? 1 : 0, 6); // ANCOUNT
    const parts = [header, query.subarray(12, end)];
    if (outcome === "answered") {
        const record = Buffer.alloc(16);
        record.writeUInt16BE(0xc00c, 0); // the name: a pointer to the question's
        record.writeUInt16BE(typeA, 2);
        record.writeUInt16BE(classIN, 4);
        record.writeUInt32BE(30, 6); // TTL, seconds
        record.writeUInt16BE(4, 10);
        address!.split(".").forEach((octet, i) => (record[12 + i] = Number(octet)));
        parts.push(record);
    }
    return { answer: Buffer.concat(parts), question: { name, type, outcome } };
}

/** Serves `names` (lower-case, no trailing dot -> IPv4 address) on a bound UDP socket. */
export function startDnsDouble(socket: dgram.Socket, names: Record<string, string>): DnsDouble {
    const table = new Map(Object.entries(names));
    const questions: DnsQuestion[] = [];
    socket.on("message", (query, from) => {
        try {
            const { answer, question } = dnsAnswer(query, table);
            questions.push(question);
            socket.send(answer, from.port, from.address);
        } catch {
            // Not a question this double understands: no answer, as a server drops garbage.
        }
    });
    return { questions, close: () => socket.close() };
}

export { typeA, typeAAAA };
