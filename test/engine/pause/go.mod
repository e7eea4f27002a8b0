// The sandbox ("pause") image's one binary for the test node (test/support/real-node.ts): the kubelet's
// runtime needs a sandbox image, and no container registry can be reached to pull registry.k8s.io's.
module registry-pull-secret/test/engine/pause

go 1.26.6
