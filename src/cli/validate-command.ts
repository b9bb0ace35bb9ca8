import { readManifestDocuments } from '../local/manifest-documents.ts';
import { escapeForMessage } from '../spec/spec-error.ts';
import type { Findings, ValidatePass } from '../engine/validate-object.ts';
import { NO_POLICY, policyContext, validateObject } from '../engine/validate-object.ts';

/**
 * `multinet validate FILE...`: an offline check of NetworkAttachmentDefinition / Network manifests
 * and of the network annotations of pods and pod templates, with the same parsers the node uses.
 * One line per problem, `file: Kind namespace/name: field: what is wrong`; exit code 1 if any.
 *
 * Input is untrusted: files over 4 MiB are refused, YAML aliases are capped (a "billion laughs"
 * document is reported, not expanded) and YAML errors are reported per document.
 */

export interface ValidateFile {
  path: string;
  content: string;
}

export const VALIDATE_MAX_BYTES = 4 * 1024 * 1024;

/**
 * With `options` (multinet's config, `--config`), NADs and pods are also checked against its
 * tenantPolicy, namespaceIsolation and maxNetworkConfigBytes, as ADD would check them (names in
 * confDir are not known offline).
 */
export function runValidate(
  files: readonly ValidateFile[],
  opts: { options?: Record<string, unknown> } = {},
): { lines: string[]; exitCode: number } {
  const lines: string[] = [];
  let policy = NO_POLICY;
  if (opts.options) {
    try {
      policy = policyContext(opts.options);
    } catch (err) {
      return { lines: [`--config: ${escapeForMessage((err as Error).message, 300)}`], exitCode: 1 };
    }
  }
  // Definitions first, so a pod's warning does not depend on the order of the files.
  const findings: Findings = { warnings: [], defaultRoutes: new Map(), policy };
  const quiet: Findings = { warnings: [], defaultRoutes: findings.defaultRoutes, policy };
  for (const file of files) validateFile(file, quiet, 'definitions');
  for (const file of files) lines.push(...validateFile(file, findings, 'all'));
  const notes =
    opts.options && !policy.policy
      ? [
          "--config: no tenantPolicy: every namespace's NADs are trusted (Multus's behaviour, docs/security.md)",
        ]
      : [];
  return { lines: [...notes, ...lines, ...findings.warnings], exitCode: lines.length > 0 ? 1 : 0 };
}

function validateFile(file: ValidateFile, findings: Findings, pass: ValidatePass): string[] {
  const path = escapeForMessage(file.path, 300);
  const bytes = Buffer.byteLength(file.content, 'utf8');
  if (bytes > VALIDATE_MAX_BYTES)
    return [`${path}: too large to check (${bytes} bytes; the limit is ${VALIDATE_MAX_BYTES})`];
  const lines: string[] = [];
  const docs = readManifestDocuments(file.content);
  docs.forEach((doc) => {
    const where = docs.length > 1 ? `${path}: document ${doc.index}` : path;
    if (doc.error !== undefined) {
      const at = doc.offset !== undefined ? position(file.content, doc.offset) : '';
      lines.push(`${where}: unreadable YAML: ${firstLine(doc.error)}${at}`);
      return;
    }
    const value = doc.value;
    if (value === null || value === undefined) return;
    lines.push(...validateObject(value, path, where, findings, pass));
  });
  return lines;
}

function firstLine(message: string): string {
  return escapeForMessage(message.split('\n', 1)[0] ?? '', 200);
}

function position(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const column = offset - before.lastIndexOf('\n');
  return ` (line ${line}, column ${column})`;
}
