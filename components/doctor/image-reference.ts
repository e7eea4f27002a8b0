/**
 * An image reference as the kubelet reads it: docker's reference grammar and normalization
 * (github.com/distribution/reference v0.6.0 `regexp.go`, `normalize.go` `ParseNormalizedNamed`),
 * which the kubelet calls through `pkg/util/parsers.ParseImageName` (kubernetes v1.37): the name it
 * looks credentials up with is the normalized `DOMAIN/PATH`, a missing tag is `latest`.
 */

/** A parsed, normalized reference: `docker.io/library/nginx:latest` for `nginx`. */
export interface ImageReference {
    /** The registry part: `docker.io`, `asia.gcr.io`, `127.0.0.1:5000`. */
    domain: string;
    /** The repository inside the registry: `library/nginx`, `my-project/images/app`. */
    path: string;
    /** The tag, `latest` when neither a tag nor a digest is given. */
    tag?: string;
    digest?: string;
}

// The grammar's productions, as distribution/reference regexp.go writes them (Go's `\w` is ASCII).
const alphanumeric = "[a-z0-9]+";
const separator = "(?:[._]|__|[-]+)";
const domainNameComponent = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const domainName = `${domainNameComponent}(?:\\.${domainNameComponent})*`;
const ipv6address = "\\[(?:[a-fA-F0-9:]+)\\]";
const domainAndPort = `(?:${domainName}|${ipv6address})(?::[0-9]+)?`;
const tag = "[0-9A-Za-z_][0-9A-Za-z_.-]{0,127}";
const digest = "[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}";
const pathComponent = `${alphanumeric}(?:${separator}${alphanumeric})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const referenceRegexp = new RegExp(`^((?:${domainAndPort}/)?${remoteName})(?::(${tag}))?(?:@(${digest}))?$`);
const nameRegexp = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const identifierRegexp = /^[a-f0-9]{64}$/;

/** go-digest's registered algorithms and the length of their lowercase hex (opencontainers/go-digest algorithm.go). */
const digestHexLength: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
/** distribution/reference reference.go `RepositoryNameTotalLengthMax`. */
const pathLengthMax = 255;

export const defaultDomain = "docker.io";
const legacyDefaultDomain = "index.docker.io";

/** normalize.go `splitDockerDomain`: where the registry part ends, and Docker Hub's `library/`. */
function splitDockerDomain(name: string): [string, string] {
    const slash = name.indexOf("/");
    if (slash < 0) return [defaultDomain, `library/${name}`];
    const maybeDomain = name.slice(0, slash);
    const rest = name.slice(slash + 1);
    let domain: string;
    let remainder: string;
    if (maybeDomain === legacyDefaultDomain) {
        [domain, remainder] = [defaultDomain, rest];
    } else if (maybeDomain === "localhost" || /[.:]/.test(maybeDomain) || maybeDomain.toLowerCase() !== maybeDomain) {
        [domain, remainder] = [maybeDomain, rest];
    } else {
        [domain, remainder] = [defaultDomain, name];
    }
    if (domain === defaultDomain && !remainder.includes("/")) remainder = `library/${remainder}`;
    return [domain, remainder];
}

/** The reference, or the reason the kubelet refuses it (`InvalidImageName`); the reason quotes only the reference. */
export function parseImageReference(reference: string): ImageReference | { invalid: string } {
    if (reference === "") return { invalid: "the image reference is empty" };
    if (identifierRegexp.test(reference)) {
        return { invalid: "a 64-digit hexadecimal string is an image id, not a repository name" };
    }
    const [domain, remainder] = splitDockerDomain(reference);
    const tagAt = remainder.indexOf(":");
    const remote = tagAt < 0 ? remainder : remainder.slice(0, tagAt);
    if (remote.toLowerCase() !== remote) return { invalid: `the repository name ${remote} must be lowercase` };
    const match = referenceRegexp.exec(`${domain}/${remainder}`);
    if (match === null) return { invalid: "it does not follow docker's reference format (DOMAIN/PATH[:TAG][@DIGEST])" };
    const name = nameRegexp.exec(match[1]);
    if (name === null || name[1] === undefined) return { invalid: "it names no registry" };
    if (name[2].length > pathLengthMax) return { invalid: `the repository name is longer than ${pathLengthMax}` };
    const parsed: ImageReference = { domain: name[1], path: name[2] };
    if (match[2] !== undefined) parsed.tag = match[2];
    if (match[3] !== undefined) {
        const [algorithm, hex] = match[3].split(":");
        const length = digestHexLength[algorithm];
        if (length === undefined) return { invalid: `the digest algorithm ${algorithm} is not supported` };
        if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
            return { invalid: `a ${algorithm} digest is ${length} lowercase hexadecimal digits` };
        }
        parsed.digest = match[3];
    }
    if (parsed.tag === undefined && parsed.digest === undefined) parsed.tag = "latest";
    return parsed;
}

/** `DOMAIN/PATH`: the name the kubelet looks credentials up with (`ParseImageName`'s `repoToPull`). */
export const repositoryOf = (image: ImageReference): string => `${image.domain}/${image.path}`;

/** What a manifest request names: the digest when given (a pull by digest ignores the tag), else the tag. */
export const manifestReferenceOf = (image: ImageReference): string => image.digest ?? (image.tag as string);
