"""RegistryPullSecret used from Python: the TypeScript component runs in its plugin, Python declares it."""
import pulumi
import pulumi_registry_pull_secret as registry_pull_secret

config = pulumi.Config()

regcred = registry_pull_secret.RegistryPullSecret(
    "regcred",
    namespaces=["team-a", "team-b"],
    registries=["gcr.io", "asia-northeast1-docker.pkg.dev"],
    service_accounts=["default"],
    gcp={
        "project": config.require("gcpProject"),
        "service_account_id": "image-puller-py",
        "repositories": [
            {"location": "us", "repository": "gcr.io"},
            {"location": "asia-northeast1", "repository": "images"},
        ],
    },
)

pulumi.export("secretName", regcred.secret_name)
pulumi.export("serviceAccountEmail", regcred.service_account_email)
pulumi.export("keyName", regcred.key_name)
