/**
 * The user's client config file (`$UPDRAFT_CONFIG`, else `~/.config/updraft/client.yaml`): its
 * schema and its reading, apart from client-settings.ts so that the schema library and the YAML
 * parser load only for a user who has one (a command without pays nothing for them).
 */
import { z } from "zod";
import { loadConfigFile } from "../common/config.js";

const collectorList = z
  .union([z.string(), z.array(z.string()).min(1)])
  .transform((p) => (typeof p === "string" ? p : p.join(",")));

const userConfigSchema = z
  .object({
    /** One collector URL, several separated by commas, or a list. */
    pool: collectorList.optional(),
    /** The WMS collector, as `pool` (see ClientSettings.wmsPool). */
    wms_pool: collectorList.optional(),
    /** A file holding a bearer token. */
    token_file: z.string().optional(),
    proxy: z.string().optional(),
    cert: z.string().optional(),
    key: z.string().optional(),
    ca_dir: z.string().optional(),
  })
  .strict();

export type UserConfig = z.output<typeof userConfigSchema>;

/** The file's settings, checked; throws naming every problem (see loadConfigFile). */
export function readUserConfig(file: string): UserConfig {
  return loadConfigFile(userConfigSchema, file);
}
