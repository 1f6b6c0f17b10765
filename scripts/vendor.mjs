// Copy the browser builds of our npm dependencies into static/vendor/, where Django's
// staticfiles (and whitenoise) serve them. static/vendor/ is git-ignored: it is built, not kept.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const files = {
  "lightweight-charts/dist/lightweight-charts.standalone.production.js":
    "lightweight-charts.standalone.production.js",
};

const target = join(root, "static", "vendor");
mkdirSync(target, { recursive: true });
for (const [source, name] of Object.entries(files)) {
  copyFileSync(join(root, "node_modules", source), join(target, name));
  console.log(`static/vendor/${name}`);
}
