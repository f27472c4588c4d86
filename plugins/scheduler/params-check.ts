// Task params against the task type's JSON Schema (paramsSchema), with errors that name the JSON path of each problem.
import { z } from 'zod';
import { formatJsonPath, ShadowError, type TaskTypeInfo } from '../../sdk/index.js';

const compiled = new Map<string, z.ZodType>();

function schemaOf(taskType: TaskTypeInfo): z.ZodType | undefined {
  if (!taskType.paramsSchema) return undefined;
  let schema = compiled.get(taskType.id);
  if (!schema) {
    try {
      schema = z.fromJSONSchema(taskType.paramsSchema as Parameters<typeof z.fromJSONSchema>[0]);
    } catch (error) {
      throw new ShadowError('PLUGIN_MANIFEST_INVALID', `Task type '${taskType.id}' of plugin '${taskType.pluginId}' has a paramsSchema that is not a usable JSON Schema: ${(error as Error).message}`);
    }
    compiled.set(taskType.id, schema);
  }
  return schema;
}

/** The params as the schema parses them (defaults filled in); INVALID_ARGUMENT listing `path: problem` otherwise. */
export function checkParams(taskType: TaskTypeInfo, params: unknown): unknown {
  const schema = schemaOf(taskType);
  if (!schema) return params;
  const result = schema.safeParse(params);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => ({ path: formatJsonPath(i.path), message: i.message }));
  throw new ShadowError('INVALID_ARGUMENT', `Invalid params for task type '${taskType.id}': ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, { details: { taskType: taskType.id, problems } });
}
