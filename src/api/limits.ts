/**
 * Length limits of the strings Xander writes to the API: the CRDs' `maxLength` (src/api/schema.ts) and the
 * Event fields events.k8s.io/v1 validates. Writers truncate to these, so one long name or message never gets
 * a whole status or Event rejected.
 */

/** An object name (a DNS subdomain, RFC 1123), and a container's name. */
export const NAME_MAX = 253;
/** A namespace (a DNS label, RFC 1123). */
export const NAMESPACE_MAX = 63;
/** "namespace/name" of a pod, service or workload, or "Kind/name" of an owner. */
export const QUALIFIED_NAME_MAX = NAMESPACE_MAX + 1 + NAME_MAX;
/** A finding's message, in NodeFindings status and in policy status's top risks. */
export const MESSAGE_MAX = 1024;
/** A recent incident's message: shorter than a finding's, as status holds many more of them. */
export const INCIDENT_MESSAGE_MAX = 512;
/** NodeFindings.status.summary.topRisk. */
export const TOP_RISK_MAX = 256;
/** An Event's note (events.k8s.io/v1: 1 kB). */
export const EVENT_NOTE_MAX = 1024;
/** An Event's reportingInstance (events.k8s.io/v1). */
export const EVENT_REPORTING_INSTANCE_MAX = 128;
