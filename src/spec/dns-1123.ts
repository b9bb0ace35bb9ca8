/**
 * Kubernetes name rules used by the standard: NetworkAttachmentDefinition names and namespaces are
 * DNS-1123 labels (spec §3.3); IPAMClaim names are ordinary object names (DNS-1123 subdomains).
 * Each function returns why the name is invalid, or undefined when it is valid.
 */

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_MAX = 63;
const SUBDOMAIN_MAX = 253;

export function dns1123LabelProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > LABEL_MAX) return `longer than ${LABEL_MAX} characters (${name.length})`;
  if (!LABEL.test(name)) {
    return "not a DNS-1123 label: use lower-case letters, digits and '-', starting and ending with a letter or digit";
  }
  return undefined;
}

export function dns1123SubdomainProblem(name: string): string | undefined {
  if (name.length === 0) return 'must not be empty';
  if (name.length > SUBDOMAIN_MAX) return `longer than ${SUBDOMAIN_MAX} characters (${name.length})`;
  if (!name.split('.').every((part) => part.length <= LABEL_MAX && LABEL.test(part))) {
    return "not a DNS-1123 subdomain: use dot-separated labels of lower-case letters, digits and '-'";
  }
  return undefined;
}
