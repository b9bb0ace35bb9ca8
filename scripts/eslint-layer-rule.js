// The ESLint rule that keeps src/'s layers (docs/architecture.md "Layers"): each folder of src/
// imports only the folders its row of the table in eslint.config.js names, some only for types
// (ports); nothing imports src/bin/ but src/bin/; product code never imports test/; the pure
// layers import no I/O module and no package but the pure ones listed (valibot: schemas only). Static imports, `export ... from`, `import()` and
// `import('...').T` types are all checked, so a lazy import cannot hide a cycle.
import { builtinModules } from 'node:module';
import { dirname, join, normalize, relative, sep } from 'node:path';

/** Node modules that reach files, processes, sockets or the network: never in a pure layer. */
const IO_MODULES = new Set([
  'fs',
  'fs/promises',
  'child_process',
  'net',
  'http',
  'https',
  'http2',
  'dgram',
  'dns',
  'dns/promises',
  'tls',
  'cluster',
  'worker_threads',
  'readline',
  'module',
]);
/** node:net's pure functions, which a pure layer may use. */
const NET_PURE = new Set(['isIP', 'isIPv4', 'isIPv6']);

const toPosix = (p) => p.split(sep).join('/');

function isTypeOnly(node) {
  if (node.importKind === 'type' || node.exportKind === 'type') return true;
  const specs = node.specifiers ?? [];
  return specs.length > 0 && specs.every((s) => s.importKind === 'type' || s.exportKind === 'type');
}

/** @type {import('eslint').Rule.RuleModule} */
export const layerRule = {
  meta: {
    type: 'problem',
    docs: { description: "src/'s dependency rule: which layer may import which" },
    schema: [{ type: 'object', additionalProperties: true }],
  },
  create(context) {
    const { layers, purePackages = [] } = context.options[0] ?? {};
    const cwd = context.cwd;
    const file = toPosix(relative(cwd, context.filename));
    const inSrc = file.startsWith('src/');
    const isTest = /\.test\.ts$/.test(file) || file.startsWith('test/');
    const parts = file.split('/');
    const layer = inSrc && parts.length > 2 ? parts[1] : undefined;
    const row = layer === undefined ? undefined : layers[layer];
    const pure = !isTest && row?.pure === true;

    const allowed = (entries, target, targetPath) =>
      (entries ?? []).some((e) => e === '*' || e === target || e === targetPath);

    function check(node, source, typeOnly, names) {
      if (typeof source !== 'string') return;
      if (!source.startsWith('.')) {
        if (!pure) return;
        const bare = source.replace(/^node:/, '');
        const builtin = source.startsWith('node:') || builtinModules.includes(bare);
        if (builtin && IO_MODULES.has(bare)) {
          if (bare === 'net' && names && names.length > 0 && names.every((n) => NET_PURE.has(n))) return;
          context.report({
            node,
            message: `src/${layer}/ is a pure layer: no ${source} (files, processes and sockets belong to host/, k8s/, daemon/, the other edges and bin/)`,
          });
        } else if (!builtin && !typeOnly && !purePackages.includes(source)) {
          context.report({
            node,
            message: `src/${layer}/ is a pure layer: no package (${source}); packages belong to the edges`,
          });
        }
        return;
      }
      const target = toPosix(normalize(join(dirname(file), source)));
      if (target.startsWith('src/bin/') && layer !== 'bin') {
        context.report({
          node,
          message: `nothing imports src/bin/ but src/bin/ (composition roots): ${source}`,
        });
        return;
      }
      if (inSrc && !isTest && (target === 'test' || target.startsWith('test/'))) {
        context.report({ node, message: `product code (src/) never imports test/: ${source}` });
        return;
      }
      if (!inSrc || isTest || !target.startsWith('src/')) return;
      if (row === undefined) {
        context.report({
          node,
          message: `${file} is in no layer: give src/${layer ?? ''} a row in eslint.config.js (and docs/architecture.md)`,
        });
        return;
      }
      const tparts = target.split('/');
      const targetLayer = tparts[1];
      const targetPath = tparts.slice(1).join('/');
      if (targetLayer === layer || allowed(row.may, targetLayer, targetPath)) return;
      if (typeOnly && allowed(row.types, targetLayer, targetPath)) return;
      const may = (row.may ?? []).map((m) => (m.endsWith('.ts') ? m : `${m}/`));
      const types = (row.types ?? []).map((m) => (m.endsWith('.ts') ? m : `${m}/`));
      const what = [
        may.length ? may.join(', ') : 'nothing of ours',
        ...(types.length ? [`types only from ${types.join(', ')}`] : []),
      ].join('; ');
      context.report({
        node,
        message: `src/${layer}/ may not import src/${targetLayer}/ (${source}): it imports ${what} (layer table in eslint.config.js)`,
      });
    }

    const namesOf = (node) =>
      (node.specifiers ?? []).map((s) =>
        s.type === 'ImportSpecifier' ? (s.imported.name ?? s.imported.value) : '*',
      );

    return {
      ImportDeclaration: (node) => check(node, node.source.value, isTypeOnly(node), namesOf(node)),
      ExportNamedDeclaration: (node) => node.source && check(node, node.source.value, isTypeOnly(node)),
      ExportAllDeclaration: (node) => check(node, node.source.value, isTypeOnly(node)),
      ImportExpression: (node) => node.source.type === 'Literal' && check(node, node.source.value, false),
      TSImportType: (node) => check(node, node.argument?.literal?.value ?? node.argument?.value, true),
      TSImportEqualsDeclaration: (node) =>
        node.moduleReference.type === 'TSExternalModuleReference' &&
        check(node, node.moduleReference.expression.value, node.importKind === 'type'),
      CallExpression(node) {
        const c = node.callee;
        if (
          pure &&
          c.type === 'MemberExpression' &&
          c.object.type === 'Identifier' &&
          c.object.name === 'process' &&
          c.property.type === 'Identifier' &&
          c.property.name === 'getBuiltinModule'
        )
          context.report({ node, message: `src/${layer}/ is a pure layer: no process.getBuiltinModule` });
      },
    };
  },
};

export default { rules: { layers: layerRule } };
