/**
 * Where the netfilter mechanism acts for one node: the network namespace its process runs in
 * (undefined: the current one), the device it talks through and the addresses peers see it by.
 * `LocalNetwork` hands these out for its hosts; a Kubernetes agent would build them from pods.
 */
export interface NetworkTarget {
  readonly name: string;
  readonly netns: string | undefined;
  readonly device: string;
  readonly addresses: readonly string[];
}
