/**
 * `npm run schema`: writes schema.json, the schema the plugin serves to Python, Go, .NET and YAML
 * programs (components/plugin.ts), from Pulumi's analysis of the TypeScript sources. Run it after a
 * change to the component's arguments, outputs or their documentation, or to package.json's version;
 * test/package/plugin-schema.test.ts fails until it is run.
 */
import * as fs from "node:fs";
import { analyzedSchema, schemaFile } from "../components/plugin";

void analyzedSchema().then((schema) => fs.writeFileSync(schemaFile, schema));
