import type { EngineOptions } from '../config/multinet-config.ts';
import type { ClusterView, NetworkObject, PodInfo } from '../k8s/cluster-view.ts';
import { parseNetworkDefinition } from '../spec/network-definition.ts';
import type { NetworkSelectionElement } from '../spec/network-selection-element.ts';
import { parseNetworksAnnotation } from '../spec/parse-networks-annotation.ts';
import { selectNetworksAnnotation } from '../spec/select-networks-annotation.ts';
import { resolveDelegateConfig } from '../spec/resolve-delegate-config.ts';
import { validateNetworkSelections } from '../spec/validate-network-selection.ts';
import { trimSpace } from '../spec/trim-space.ts';
import { DEFAULT_NETWORK_ANNOTATION, RESOURCE_NAME_ANNOTATION } from '../spec/well-known.ts';
import { resourceNameProblem } from '../spec/device-info.ts';
import { quoteValue } from '../spec/spec-error.ts';
import type { ConfSource } from './conf-source.ts';
import { configName, isForeignConfig } from './conf-source.ts';
import { isTrustedNamespace, matchesPattern } from '../config/tenant-policy.ts';
import { EngineError, EngineErrorCode, describeCause } from './engine-error.ts';
import { namespaceIsolationProblem } from './namespace-isolation.ts';
import { networkConfigSizeProblem } from './network-config-size.ts';
import type { ResolvedNetwork } from './plan-attachments.ts';

/** What ADD (and the admission webhook) says of a selected `namespace/name` the API server does not have. */
export function networkNotFoundReason(key: string): string {
  return `NetworkAttachmentDefinition ${key} not found (nor a legacy Network of that name)`;
}

export interface ResolveDeps {
  config: EngineOptions;
  cluster: ClusterView | undefined;
  confs: ConfSource;
}

/**
 * Turns references (`name`, `namespace/name`, paths) into delegate configurations, reading NADs
 * through the ClusterView and CNI files through the ConfSource. One lookup per NAD per call.
 */
export class NetworkResolver {
  private readonly nads = new Map<string, Promise<ResolvedNetwork>>();

  constructor(
    private readonly deps: ResolveDeps,
    private readonly podLabel: string,
  ) {}

  /** The default network: the pod's override annotation, else the configured clusterNetwork. */
  async defaultNetwork(pod: PodInfo | undefined): Promise<ResolvedNetwork> {
    const only = pod ? this.defaultOverride(pod) : undefined;
    if (only) {
      // The override names a NAD in multinetNamespace by default: that one stays allowed.
      this.checkIsolation(pod!.namespace, only, [this.deps.config.multinetNamespace]);
      return { ...(await this.nad(only.namespace, only.name)), selection: only };
    }
    const { clusterNetwork, clusterNetworkConfig } = this.deps.config;
    if (clusterNetworkConfig) {
      const text = JSON.stringify(clusterNetworkConfig);
      return { network: configName(text) ?? 'default', configText: text };
    }
    return this.byReference(clusterNetwork, this.deps.config.multinetNamespace);
  }

  /** `defaultNetworks` from the config, except for pods in systemNamespaces (as the reference does). */
  async configuredNetworks(podNamespace: string | undefined): Promise<ResolvedNetwork[]> {
    const { defaultNetworks, systemNamespaces, multinetNamespace } = this.deps.config;
    if (podNamespace !== undefined && systemNamespaces.includes(podNamespace)) return [];
    const out: ResolvedNetwork[] = [];
    for (const ref of defaultNetworks) out.push(await this.byReference(ref, multinetNamespace));
    return out;
  }

  /** The networks the pod's annotation selects, validated and resolved, in annotation order. */
  async selectedNetworks(pod: PodInfo, runtimeIfName: string): Promise<ResolvedNetwork[]> {
    const out: ResolvedNetwork[] = [];
    for (const sel of this.selections(pod, runtimeIfName)) out.push(await this.selected(pod.namespace, sel));
    return out;
  }

  /**
   * The elements of the pod's networks annotation, parsed and validated as a whole (an invalid
   * annotation, or one naming the runtime's interface, throws INVALID_ANNOTATION), not resolved.
   */
  selections(pod: PodInfo, runtimeIfName: string): NetworkSelectionElement[] {
    const found = selectNetworksAnnotation(pod.annotations);
    if (!found) return [];
    const elements = this.parseAnnotation(found.value, pod.namespace, found.key);
    try {
      validateNetworkSelections(elements, { defaultInterface: runtimeIfName });
    } catch (err) {
      throw this.invalid(`annotation ${found.key}: ${describeCause(err)}`, err);
    }
    return elements;
  }

  /** One element of the annotation resolved: isolation checked, the NAD read (hot-plug resolves one at a time). */
  async selected(podNamespace: string, sel: NetworkSelectionElement): Promise<ResolvedNetwork> {
    this.checkIsolation(podNamespace, sel);
    return { ...(await this.nad(sel.namespace, sel.name)), selection: sel };
  }

  /**
   * The default-network override the pod's annotation names, parsed, without resolving it;
   * undefined without one. Throws INVALID_ANNOTATION as defaultNetwork does.
   */
  defaultOverride(pod: PodInfo): NetworkSelectionElement | undefined {
    const raw = pod.annotations[DEFAULT_NETWORK_ANNOTATION];
    const override = raw === undefined ? undefined : trimSpace(raw);
    if (!override) return undefined;
    const elements = this.parseAnnotation(
      override,
      this.deps.config.multinetNamespace,
      DEFAULT_NETWORK_ANNOTATION,
    );
    const [only] = elements;
    if (elements.length !== 1 || only === undefined)
      throw this.invalid(`annotation ${DEFAULT_NETWORK_ANNOTATION} must name exactly one network`);
    return only;
  }

  private parseAnnotation(value: string, namespace: string, key: string): NetworkSelectionElement[] {
    try {
      return parseNetworksAnnotation(value, namespace);
    } catch (err) {
      throw this.invalid(`annotation ${key}: ${describeCause(err)}`, err);
    }
  }

  private invalid(reason: string, cause?: unknown): EngineError {
    return new EngineError(
      { code: EngineErrorCode.InvalidAnnotation, pod: this.podLabel, reason, cniCode: 7 },
      { cause },
    );
  }

  /** NPWG §7.4: a disallowed selection fails the pod (the default-network override included). */
  private checkIsolation(
    podNamespace: string,
    sel: NetworkSelectionElement,
    alsoAllowed: string[] = [],
  ): void {
    const reason = namespaceIsolationProblem(this.deps.config, podNamespace, sel.namespace, alsoAllowed);
    if (!reason) return;
    throw new EngineError({
      code: EngineErrorCode.NetworkForbidden,
      pod: this.podLabel,
      network: `${sel.namespace}/${sel.name}`,
      reason,
      cniCode: 7,
    });
  }

  /** A clusterNetwork / defaultNetworks entry: absolute path (file or directory), NAD, or config name. */
  private async byReference(ref: string, namespace: string): Promise<ResolvedNetwork> {
    if (ref.startsWith('/')) return this.fromPath(ref);
    const [ns, name] = ref.includes('/') ? (ref.split('/', 2) as [string, string]) : [namespace, ref];
    if (this.deps.cluster) {
      // An API failure is CLUSTER_UNAVAILABLE (retry may help), not "not found": only an answer
      // that the NAD does not exist falls through to the CNI files of that name.
      const obj = await this.fetch(ns, name);
      if (obj) return this.fromObject(ns, name, obj);
    }
    const files = await this.deps.confs.listConfFiles(this.deps.config.confDir);
    const match =
      files.find((f) => f.path.endsWith('.conflist') && configName(f.content) === name) ??
      files.find((f) => !f.path.endsWith('.conflist') && configName(f.content) === name);
    if (!match)
      throw this.notFound(
        `${ns}/${name}`,
        `no NetworkAttachmentDefinition ${ns}/${name} and no CNI config named "${name}" in ${this.deps.config.confDir}`,
      );
    return { network: name, configText: match.content };
  }

  private async fromPath(path: string): Promise<ResolvedNetwork> {
    const { confs } = this.deps;
    if (await confs.isDirectory(path)) {
      const first = (await confs.listConfFiles(path)).find((f) => isForeignConfig(f.content));
      if (!first)
        throw new EngineError({
          code: EngineErrorCode.DefaultNetworkUnavailable,
          pod: this.podLabel,
          reason: `no usable CNI config in ${path} yet (is the cluster network ready?)`,
          retryable: true,
        });
      return { network: configName(first.content) ?? first.path, configText: first.content };
    }
    const file = await confs.readConfFile(path);
    if (!file || !isForeignConfig(file.content))
      throw new EngineError({
        code: EngineErrorCode.DefaultNetworkUnavailable,
        pod: this.podLabel,
        reason: `the default network's config ${path} is missing or not a usable CNI config`,
        retryable: true,
      });
    return { network: configName(file.content) ?? path, configText: file.content };
  }

  private nad(namespace: string, name: string): Promise<ResolvedNetwork> {
    const key = `${namespace}/${name}`;
    let p = this.nads.get(key);
    if (!p) {
      p = (async () => {
        const obj = await this.fetch(namespace, name);
        if (!obj) throw this.notFound(key, networkNotFoundReason(key));
        return this.fromObject(namespace, name, obj);
      })();
      this.nads.set(key, p);
    }
    return p;
  }

  private async fetch(namespace: string, name: string): Promise<NetworkObject | undefined> {
    const { cluster } = this.deps;
    if (!cluster)
      throw new EngineError({
        code: EngineErrorCode.ClusterUnavailable,
        pod: this.podLabel,
        network: `${namespace}/${name}`,
        reason:
          'no cluster view is configured (no kubeconfig), so NetworkAttachmentDefinitions cannot be read',
        cniCode: 7,
      });
    try {
      return await cluster.getNetworkObject(namespace, name);
    } catch (err) {
      throw new EngineError(
        {
          code: EngineErrorCode.ClusterUnavailable,
          pod: this.podLabel,
          network: `${namespace}/${name}`,
          reason: `cannot read the network definition: ${describeCause(err)}`,
          retryable: true,
        },
        { cause: err },
      );
    }
  }

  private async fromObject(namespace: string, name: string, obj: NetworkObject): Promise<ResolvedNetwork> {
    const network = `${namespace}/${name}`;
    try {
      const def = parseNetworkDefinition(obj);
      const tooLarge = networkConfigSizeProblem(def, this.deps.config.maxNetworkConfigBytes);
      if (tooLarge)
        throw new EngineError({
          code: EngineErrorCode.InvalidNetworkConfig,
          pod: this.podLabel,
          network,
          reason: `spec.config is ${tooLarge}`,
          cniCode: 7,
        });
      const onDisk =
        def.config === undefined ? await this.deps.confs.listConfFiles(this.deps.config.confDir) : [];
      const resolved = resolveDelegateConfig(def, onDisk);
      const device = this.resourceNameOf(network, def.resourceName);
      if (resolved.source === 'file') {
        this.checkConfFileUse(namespace, network, resolved.sourcePath ?? '', resolved.configText);
        // The config is the administrator's file, not the NAD's: nothing of it is the tenant's.
        return { network, configText: resolved.configText, ...device };
      }
      return { network, configText: resolved.configText, owner: namespace, ...device };
    } catch (err) {
      if (err instanceof EngineError) throw err;
      throw new EngineError(
        {
          code: EngineErrorCode.InvalidNetworkConfig,
          pod: this.podLabel,
          network,
          reason: describeCause(err),
          cniCode: 7,
        },
        { cause: err },
      );
    }
  }

  /** The NAD's resourceName annotation, checked: it names a kubelet resource and a file. */
  private resourceNameOf(network: string, resourceName: string | undefined): { resourceName?: string } {
    if (resourceName === undefined) return {};
    const problem = resourceNameProblem(resourceName);
    if (problem)
      throw new EngineError({
        code: EngineErrorCode.InvalidNetworkConfig,
        pod: this.podLabel,
        network,
        reason: `annotation ${RESOURCE_NAME_ANNOTATION} ${quoteValue(resourceName)} ${problem}`,
        cniCode: 7,
      });
    return { resourceName };
  }

  /**
   * A config-less NAD finds its config in confDir by name, so any namespace could name an
   * administrator's file there. Under namespaceIsolation or a tenant policy, only a trusted
   * namespace, or one the file lists in its `allowedNamespaces`, may use it (docs/security.md).
   */
  private checkConfFileUse(namespace: string, network: string, path: string, content: string): void {
    const { namespaceIsolation, tenantPolicy, multinetNamespace, systemNamespaces } = this.deps.config;
    if (!namespaceIsolation && tenantPolicy === undefined) return;
    const trusted = tenantPolicy
      ? isTrustedNamespace(tenantPolicy, namespace)
      : [multinetNamespace, ...systemNamespaces].includes(namespace);
    if (trusted) return;
    const listed = fileAllowedNamespaces(content);
    if (listed.some((p) => matchesPattern(p, namespace))) return;
    throw new EngineError({
      code: EngineErrorCode.NetworkForbidden,
      pod: this.podLabel,
      network,
      reason: `the NAD has no spec.config and names the CNI config file ${path} of ${this.deps.config.confDir}, which namespace "${namespace}" may not use: the file's "allowedNamespaces" is ${listed.length ? JSON.stringify(listed) : 'not set'} and only trusted namespaces may use other files (add "${namespace}" to the file's "allowedNamespaces" to allow it)`,
      cniCode: 7,
    });
  }

  private notFound(network: string, reason: string): EngineError {
    return new EngineError({
      code: EngineErrorCode.NetworkNotFound,
      pod: this.podLabel,
      network,
      reason,
      cniCode: 7,
    });
  }
}

/** The `allowedNamespaces` list an administrator's conf file declares (top level), if any. */
function fileAllowedNamespaces(content: string): string[] {
  try {
    const v = (JSON.parse(content) as Record<string, unknown>)['allowedNamespaces'];
    return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
  } catch {
    return [];
  }
}
