// @ts-check
import pulumi from "@pulumi/eslint-plugin";
import tseslint from "typescript-eslint";

export default tseslint.config(
    // docs/api is what npm run docs generates.
    // The consumer fixture is compiled and run inside an installed consumer project (test/package/installed-package.test.ts);
    // so is the pulumi new template's index.ts (test/package/template.test.ts).
    {
        ignores: [
            ".engine/**",
            "bin/**",
            "docs/api/**",
            "node_modules/**",
            "eslint.config.mjs",
            "test/fixtures/consumer/**",
            "test/fixtures/typescript-project/**",
            "templates/**",
        ],
    },
    ...tseslint.configs.recommendedTypeChecked,
    {
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        plugins: { pulumi },
        rules: {
            "pulumi/no-output-in-template-literal": "error",
            "pulumi/no-output-instance-in-template-literal": "error",
            "@typescript-eslint/no-floating-promises": "error",
        },
    },
    {
        // Tests read what the mock monitor recorded: untyped protobuf and JSON by nature; node:test's
        // describe/it return promises the runner itself awaits.
        files: ["test/**/*.ts"],
        rules: {
            "@typescript-eslint/no-floating-promises": "off",
            "@typescript-eslint/no-explicit-any": "off",
            "@typescript-eslint/no-unsafe-assignment": "off",
            "@typescript-eslint/no-unsafe-member-access": "off",
            "@typescript-eslint/no-unsafe-call": "off",
            "@typescript-eslint/no-unsafe-argument": "off",
            "@typescript-eslint/no-unsafe-return": "off",
        },
    },
);
