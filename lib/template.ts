/**
 * `{{name}}` placeholders in an action's parameters (a deployment name, a
 * workflow input), filled from the incident a proposal is for. Only the
 * names a caller allows exist: a misspelt one is refused when the action or
 * policy is saved, not discovered when it runs.
 */
const PLACEHOLDER = /\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}/g;

/** The placeholder names in `text`. */
export function placeholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1]!);
}

/** `text` with every placeholder replaced; throws naming the first one `vars` lacks. */
export function fillTemplate(text: string, vars: Record<string, string>): string {
  return text.replace(PLACEHOLDER, (_, name: string) => {
    const value = vars[name];
    if (value === undefined) throw new Error(`{{${name}}} has no value here`);
    return value;
  });
}
