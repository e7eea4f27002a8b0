"""RegistryPullSecret used from Python: the TypeScript component runs in its plugin, Python declares it."""
import pulumi
import pulumi_registry_pull_secret as registry_pull_secret

config = pulumi.Config()

# Google Cloud by default: a service account, its reader grants and a key (`pulumi config set gcpProject`).
# With registryUsername set (Pulumi.local.yaml), any registry's username and password instead, and no
# Google Cloud at all: `pulumi config set --secret registryPassword`.
username = config.get("registryUsername")
credentials = {"username": username, "password": config.require_secret("registryPassword")} if username else None
gcp = None if username else {
    "project": config.require("gcpProject"),
    "service_account_id": "image-puller-py",
    "repositories": [
        {"location": "us", "repository": "gcr.io"},
        {"location": "asia-northeast1", "repository": "images"},
    ],
}

regcred = registry_pull_secret.RegistryPullSecret(
    "regcred",
    namespaces=config.get_object("namespaces") or ["team-a", "team-b"],
    registries=config.get_object("registries") or ["gcr.io", "asia-northeast1-docker.pkg.dev"],
    service_accounts=["default"],
    gcp=gcp,
    credentials=credentials,
)

pulumi.export("secretName", regcred.secret_name)
pulumi.export("serviceAccountEmail", regcred.service_account_email)
pulumi.export("keyName", regcred.key_name)
