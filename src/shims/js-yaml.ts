// gray-matter parses frontmatter with js-yaml 3 (which pulls in esprima). The bundle points its
// `js-yaml` import here instead, so one YAML parser (the `yaml` package) serves the whole helper.
import { parse, stringify } from "yaml";

export const safeLoad = (text: string) => parse(text);
export const load = safeLoad;
export const safeDump = (value: unknown) => stringify(value);
export const dump = safeDump;
export default { safeLoad, load, safeDump, dump };
