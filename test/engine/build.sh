#!/usr/bin/env bash
# Builds the real binaries test/engine needs, from the Go module proxy only, into .engine/bin
# (gitignored). Go's own module and build caches make a second run a no-op (Go skips a link whose
# output already carries the same build ID).
# Usage: test/engine/build.sh [k8s] [pulumi] [hosts] [provider] [yaml] [containerd] [cluster] (all by default)
#        [provider_v4_25] (only when named: the older Kubernetes provider, see provider_v4_25)
# RESOLVE_ONLY=1: each target only downloads and locates every module and package it needs, compiling
# nothing: what an empty module cache must get right (test/engine/cold-build.test.ts runs it that way).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
out="$root/.engine/bin"
mkdir -p "$out"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

stamp() { echo "[build $(date -u +%H:%M:%S)] $*"; }

# The folder of module $1 in the module cache, downloading it first. On a cold cache
# `go list -m -f '{{.Dir}}'` prints an empty line and exits 0 (shared/REAL-ENGINE.md, seen on a fresh
# machine), so download first, then ask, and fail loudly when the answer is still empty.
module_dir() {
	local dir
	go mod download "$1"
	dir="$(go list -m -f '{{.Dir}}' "$1")"
	[ -n "$dir" ] && [ -d "$dir" ] || { echo "module $1 has no folder in the module cache" >&2; return 1; }
	echo "$dir"
}

# `go build FLAGS -- PACKAGES`, or with RESOLVE_ONLY the same packages' `go list -deps` (same tags):
# every module they import is downloaded and found, nothing is compiled.
gobuild() {
	local flags=() tags=()
	while [ "$1" != -- ]; do
		[ "$1" = -tags ] && tags=(-tags "$2")
		flags+=("$1")
		shift
	done
	shift
	if [ -n "${RESOLVE_ONLY:-}" ]; then go list -deps "${tags[@]}" "$@" >/dev/null; else go build "${flags[@]}" "$@"; fi
}

k8s_version=v1.37.2
# Without a version the API server reports 0.0 and the Pulumi provider refuses it as too old
# (k8s hack/lib/version.sh sets these same variables for release builds).
k8s_ldflags() {
	local pkg flags="-s -w"
	for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
		flags+=" -X $pkg.gitMajor=1 -X $pkg.gitMinor=37 -X $pkg.gitVersion=$k8s_version -X $pkg.gitTreeState=clean"
	done
	echo "$flags"
}

k8s() {
	cd "$root/test/engine/k8s"
	stamp "kube-apiserver, kube-controller-manager, kubelet ($k8s_version), etcd"
	gobuild -trimpath -ldflags "$(k8s_ldflags)" -o "$out/" -- \
		k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
		k8s.io/kubernetes/cmd/kubelet
	gobuild -trimpath -ldflags "-s -w" -o "$out/etcd" -- go.etcd.io/etcd/server/v3
}

cluster() {
	# What makes the control plane and node a cluster that runs ordinary pods
	# (test/support/pod-network.ts): kube-scheduler and kube-proxy from the same wrapper module as the
	# API server (after `k8s`, Go's build cache holds nearly all of it), and the CNI reference plugins
	# into their own folder, which containerd's CNI plugin searches (never on any PATH).
	cd "$root/test/engine/k8s"
	stamp "kube-scheduler, kube-proxy ($k8s_version)"
	gobuild -trimpath -ldflags "$(k8s_ldflags)" -o "$out/" -- \
		k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kube-proxy
	local v=v1.10.0
	cd "$root/test/engine/cni"
	stamp "CNI plugins bridge, host-local, loopback $v"
	mkdir -p "$root/.engine/cni"
	gobuild -trimpath -ldflags "-s -w -X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$v" \
		-o "$root/.engine/cni/" -- \
		github.com/containernetworking/plugins/plugins/main/bridge \
		github.com/containernetworking/plugins/plugins/ipam/host-local \
		github.com/containernetworking/plugins/plugins/main/loopback
}

pulumi() {
	# Release builds use these tags and set the version this way (pulumi/pulumi scripts and goreleaser).
	local v=v3.274.1
	cd "$root/test/engine/pulumi"
	stamp "pulumi CLI $v"
	gobuild -trimpath -tags osusergo,grpcnotrace \
		-ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$v" \
		-o "$out/pulumi" -- github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
	# The official CLI archive ships @pulumi/pulumi's own dynamic-provider launcher next to the binary.
	install -m 0755 "$root/node_modules/@pulumi/pulumi/pulumi-resource-pulumi-nodejs" "$out/"
}

provider() {
	# Pulumi's Kubernetes provider v4.32.0, the create semantics users of @pulumi/kubernetes 4.34 get
	# (since v4.29.0 a create is a plain create: an existing object answers AlreadyExists unless the
	# provider sets upsertExistingObjects). The proxy refuses every module version from v4.29 on, so it
	# builds from the source in shared/third_party (its README lists the changes), copied into
	# .engine/src (never into this repository). The main package embeds a schema the mirror lacks: the
	# served v4.25 module's schema.json stands in (same resource types), versioned by its generate.go.
	# Not next to the pulumi binary: the CLI would take it from there for any version (with a warning)
	# instead of the copy `pulumi plugin install --file` puts in PULUMI_HOME for the SDK's version.
	local v=4.32.0 src="${KUBERNETES_PROVIDER_SRC:-$root/../shared/third_party/pulumi-kubernetes-provider}"
	local old=github.com/pulumi/pulumi-kubernetes/provider/v4@v4.0.0-20260115033456-f47bc2d6f199
	[ -d "$src/provider/cmd/pulumi-resource-kubernetes" ] || {
		echo "Kubernetes provider source missing at $src (set KUBERNETES_PROVIDER_SRC)" >&2
		return 1
	}
	local work="$root/.engine/src/pulumi-kubernetes-provider-$v" schema
	schema="$(module_dir "$old")/cmd/pulumi-resource-kubernetes/schema.json"
	stamp "pulumi-resource-kubernetes $v from $src, its schema from $schema"
	rm -rf "$work"
	mkdir -p "$work"
	cp -r "$src/provider/." "$work/"
	chmod -R u+w "$work"
	cp "$schema" "$work/cmd/pulumi-resource-kubernetes/schema.json"
	chmod u+w "$work/cmd/pulumi-resource-kubernetes/schema.json"
	mkdir -p "$root/.engine/plugins"
	cd "$work"
	kubernetes_plugin "$v" github.com/pulumi/pulumi-kubernetes/provider/v4 "$root/.engine/plugins"
}

provider_v4_25() {
	# The v4.25.0 plugin (the newest the proxy serves), whose create upserts: for runs against what
	# users of @pulumi/kubernetes before 4.29 get (ENGINE_KUBERNETES_PROVIDER=v4.25, docs/testing.md).
	# Not built by default.
	local v=4.25.0 mod=github.com/pulumi/pulumi-kubernetes/provider/v4 src
	cd "$root/test/engine/provider"
	src="$(module_dir "$mod")"
	stamp "pulumi-resource-kubernetes $v from $src"
	rm -rf pulumi-resource-kubernetes
	cp -r "$src/cmd/pulumi-resource-kubernetes" .
	chmod -R u+w pulumi-resource-kubernetes
	mkdir -p "$root/.engine/plugins/v4.25"
	kubernetes_plugin "$v" "$mod" "$root/.engine/plugins/v4.25" ./pulumi-resource-kubernetes
}

# Builds the Kubernetes provider's main package ($4, default its usual folder) at version $1 of module
# $2 into folder $3, its two embedded files generated first (with RESOLVE_ONLY: the generator's imports
# listed, then the files standing in as copies of their sources, which does not change what the
# package imports).
kubernetes_plugin() {
	local v=$1 mod=$2 into=$3 pkg=${4:-./cmd/pulumi-resource-kubernetes}
	if [ -n "${RESOLVE_ONLY:-}" ]; then
		go list -deps "$pkg/generate.go" >/dev/null
		cp "$pkg/schema.json" "$pkg/schema-embed.json"
		cp "$pkg/terraform-mapping.json" "$pkg/terraform-mapping-embed.json"
	else
		(cd "$pkg" && VERSION=$v go run ./generate.go)
	fi
	gobuild -trimpath -ldflags "-s -w -X $mod/pkg/version.Version=$v" -o "$into/pulumi-resource-kubernetes" -- "$pkg"
}

yaml() {
	# The YAML language host: next to the pulumi binary, where the CLI looks for language hosts.
	# pulumi-yaml sets its version this way (its Makefile, -X .../pkg/version.Version).
	local v=v1.25.0
	cd "$root/test/engine/yaml"
	stamp "pulumi-language-yaml $v"
	gobuild -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi-yaml/pkg/version.Version=$v" \
		-o "$out/pulumi-language-yaml" -- github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml
}

hosts() {
	# Pulumi's Node.js and Python language hosts: `pulumi up` of a TypeScript or Python program runs
	# through them (the CLI looks next to its own binary). Their Go modules are refused by the module
	# proxy, so they build from the source in shared/third_party (go.mod pointed at the served pkg/v3
	# and sdk/v3 v3.260.0; its README lists the changes), never copied into this repository.
	local v=v3.260.0 src="${LANGUAGE_HOSTS_SRC:-$root/../shared/third_party/pulumi-language-hosts}"
	[ -d "$src/pulumi-language-nodejs" ] || {
		echo "language host source missing at $src (set LANGUAGE_HOSTS_SRC)" >&2
		return 1
	}
	stamp "pulumi-language-nodejs, pulumi-language-python $v from $src"
	local lang
	for lang in nodejs python; do
		(cd "$src/pulumi-language-$lang" && gobuild -trimpath \
			-ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$v" \
			-o "$out/pulumi-language-$lang" -- .)
	done
	install -m 0755 "$src/pulumi-language-python/pulumi-language-python-exec" "$out/"
}

containerd() {
	# The kubelet's container runtime, its runc shim and its CLI (to import the sandbox image), and
	# that image's one binary (test/engine/pause); runc itself is Debian's.
	local v=v2.4.2
	cd "$root/test/engine/containerd"
	stamp "containerd $v, containerd-shim-runc-v2, ctr, pause"
	gobuild -trimpath \
		-ldflags "-s -w -X github.com/containerd/containerd/v2/version.Version=$v" -o "$out/" -- \
		github.com/containerd/containerd/v2/cmd/containerd \
		github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 \
		github.com/containerd/containerd/v2/cmd/ctr
	cd "$root/test/engine/pause"
	gobuild -trimpath -ldflags "-s -w" -o "$out/pause" -- .
}

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(k8s pulumi hosts provider yaml containerd cluster)
for t in "${targets[@]}"; do
	start=$(date +%s)
	"$t"
	stamp "$t done in $(($(date +%s) - start)) s"
done
