/** The API group and version of Xander's custom resources: all that the clients need, without the schemas. */

export const GROUP = "xander.io";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}`;
