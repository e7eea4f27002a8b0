#!/usr/bin/env bash
# `npm run test:engine`: the engine suite in two lanes that run at the same time, each one file at a
# time. The network lane holds every file that builds the pod network or a kubelet (it imports
# test/support/pod-network, real-node, pod-cluster, google-engine, google-network or netns): they use
# fixed pod and node CIDRs and named network namespaces, so two of them would break each other. The
# API lane holds the rest: each starts its own control plane on free loopback ports and temporary
# folders. Each line is prefixed with its lane; the exit status fails when either lane fails.
# With file arguments, only those files run (each in its lane).
set -uo pipefail
cd "$(dirname "$0")/../.."
files=("$@")
[ ${#files[@]} -gt 0 ] || files=(test/engine/*.test.ts)
network=() api=()
for file in "${files[@]}"; do
	if grep -qE 'from "\.\./support/(pod-network|real-node|pod-cluster|google-engine|google-network|netns)"' "$file"; then
		network+=("$file")
	else
		api+=("$file")
	fi
done
lane() {
	local name=$1
	shift
	[ $# -gt 0 ] || return 0
	node --conditions=registry-pull-secret-source --import tsx --test --test-concurrency=1 --test-reporter=spec "$@" 2>&1 |
		sed -u "s/^/[$name] /"
}
started=$(date +%s)
lane network "${network[@]}" &
network_pid=$!
lane api "${api[@]}"
api_status=$?
wait "$network_pid"
network_status=$?
echo "=== engine lanes: network ${#network[@]} files exit $network_status, api ${#api[@]} files exit $api_status, $(($(date +%s) - started)) s ==="
[ "$network_status" -eq 0 ] && [ "$api_status" -eq 0 ]
