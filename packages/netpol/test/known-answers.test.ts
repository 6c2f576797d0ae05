// The evaluator against the answers the Kubernetes documentation gives
// (https://kubernetes.io/docs/concepts/services-networking/network-policies/), section by section.
import { describe, expect, it } from 'vitest';
import {
  evaluateConnection,
  parseManifests,
  type Cluster,
  type Endpoint,
  type Pod,
  type TargetPort,
} from '../src/index.js';

const tcp = (port: number): TargetPort => ({ port, protocol: 'TCP' });

function pod(
  workload: string,
  namespace: string,
  labels: Record<string, string>,
  ports = [80],
): Pod {
  return {
    workload,
    namespace,
    labels,
    ports: ports.map((port) => ({ name: `p${port}`, port, protocol: 'TCP' as const })),
  };
}

/** A cluster of the given pods and namespaces, with the policies parsed from YAML. */
function cluster(
  policies: string,
  pods: readonly Pod[],
  namespaces: Cluster['namespaces'] = [],
): Cluster {
  const parsed = parseManifests([{ name: 'policies.yaml', text: policies }], 'default');
  return { pods, namespaces, policies: parsed.policies };
}

const at = (p: Pod): Endpoint => ({ kind: 'pod', pod: p });
const outside = (address: string): Endpoint => ({ kind: 'external', address });

const web = pod('web', 'default', { app: 'web' });
const db = pod('db', 'default', { role: 'db' }, [6379]);
const frontend = pod('frontend', 'default', { role: 'frontend' });
const other = pod('other', 'other', { role: 'frontend' });

describe('Default policies', () => {
  it('no policy at all: every pod is open both ways', () => {
    const c = cluster('', [web, db]);
    expect(evaluateConnection(c, at(web), at(db), tcp(6379)).allowed).toBe(true);
  });

  it('"Default deny all ingress traffic": isolated for ingress, egress still open', () => {
    const c = cluster(
      `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: default-deny-ingress }
spec:
  podSelector: {}
  policyTypes: [Ingress]`,
      [web, db],
    );
    const verdict = evaluateConnection(c, at(web), at(db), tcp(6379));
    expect(verdict.allowed).toBe(false);
    expect(verdict.egress).toMatchObject({ allowed: true, selectedBy: [] });
    expect(verdict.ingress).toMatchObject({
      allowed: false,
      selectedBy: ['default/default-deny-ingress'],
    });
    // Egress to outside the cluster is not isolated.
    expect(evaluateConnection(c, at(web), outside('8.8.8.8'), tcp(53)).allowed).toBe(true);
  });

  it('"Allow all ingress traffic": an empty rule matches every peer and port', () => {
    const c = cluster(
      `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: allow-all-ingress }
spec:
  podSelector: {}
  ingress: [{}]
  policyTypes: [Ingress]`,
      [web, db],
    );
    expect(evaluateConnection(c, at(web), at(db), tcp(6379)).allowed).toBe(true);
    expect(evaluateConnection(c, outside('1.2.3.4'), at(db), tcp(1)).allowed).toBe(true);
  });

  it('"Default deny all ingress and all egress traffic"', () => {
    const c = cluster(
      `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: default-deny-all }
spec:
  podSelector: {}
  policyTypes: [Ingress, Egress]`,
      [web, db],
    );
    expect(evaluateConnection(c, at(web), at(db), tcp(6379)).allowed).toBe(false);
    expect(evaluateConnection(c, at(web), outside('8.8.8.8'), tcp(53)).allowed).toBe(false);
  });
});

describe('"The NetworkPolicy resource": the test-network-policy example', () => {
  const example = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: test-network-policy
  namespace: default
spec:
  podSelector:
    matchLabels:
      role: db
  policyTypes:
    - Ingress
    - Egress
  ingress:
    - from:
        - ipBlock:
            cidr: 172.17.0.0/16
            except:
              - 172.17.1.0/24
        - namespaceSelector:
            matchLabels:
              project: myproject
        - podSelector:
            matchLabels:
              role: frontend
      ports:
        - protocol: TCP
          port: 6379
  egress:
    - to:
        - ipBlock:
            cidr: 10.0.0.0/24
      ports:
        - protocol: TCP
          port: 5978`;
  const mine = pod('mine', 'myproject-ns', { app: 'anything' });
  const c = cluster(
    example,
    [db, frontend, other, mine, web],
    [{ name: 'myproject-ns', labels: { project: 'myproject' } }],
  );

  it('lets in role=frontend pods of its own namespace on 6379, nothing else of theirs', () => {
    expect(evaluateConnection(c, at(frontend), at(db), tcp(6379)).allowed).toBe(true);
    expect(evaluateConnection(c, at(frontend), at(db), tcp(6380)).allowed).toBe(false);
    expect(
      evaluateConnection(c, at(frontend), at(db), { port: 6379, protocol: 'UDP' }).allowed,
    ).toBe(false);
    expect(evaluateConnection(c, at(web), at(db), tcp(6379)).allowed).toBe(false);
  });

  it('a podSelector alone means the policy’s namespace: role=frontend elsewhere is not let in', () => {
    expect(evaluateConnection(c, at(other), at(db), tcp(6379)).allowed).toBe(false);
  });

  it('any pod of a namespace labelled project=myproject is let in', () => {
    expect(evaluateConnection(c, at(mine), at(db), tcp(6379)).allowed).toBe(true);
  });

  it('the ipBlock lets in 172.17.0.0/16 but the except range 172.17.1.0/24', () => {
    expect(evaluateConnection(c, outside('172.17.0.5'), at(db), tcp(6379)).allowed).toBe(true);
    expect(evaluateConnection(c, outside('172.17.1.5'), at(db), tcp(6379)).allowed).toBe(false);
    expect(evaluateConnection(c, outside('172.18.0.1'), at(db), tcp(6379)).allowed).toBe(false);
  });

  it('egress only to 10.0.0.0/24 on 5978', () => {
    expect(evaluateConnection(c, at(db), outside('10.0.0.7'), tcp(5978)).allowed).toBe(true);
    expect(evaluateConnection(c, at(db), outside('10.0.0.7'), tcp(80)).allowed).toBe(false);
    expect(evaluateConnection(c, at(db), at(web), tcp(80)).allowed).toBe(false);
  });

  it('does not touch pods it does not select', () => {
    expect(evaluateConnection(c, at(other), at(web), tcp(80)).allowed).toBe(true);
  });
});

describe('"Behavior of to and from selectors": one peer with both selectors vs two peers', () => {
  const policy = (peers: string) => `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: p }
spec:
  podSelector: { matchLabels: { role: db } }
  ingress:
    - from:
${peers}`;
  const clientInUser = pod('client', 'user-ns', { role: 'client' });
  const otherInUser = pod('x', 'user-ns', { role: 'x' });
  const clientElsewhere = pod('client2', 'default', { role: 'client' });
  const pods = [db, clientInUser, otherInUser, clientElsewhere];
  const namespaces = [{ name: 'user-ns', labels: { user: 'alice' } }];

  it('namespaceSelector AND podSelector in one element: role=client pods of user=alice namespaces', () => {
    const c = cluster(
      policy(`        - namespaceSelector: { matchLabels: { user: alice } }
          podSelector: { matchLabels: { role: client } }`),
      pods,
      namespaces,
    );
    expect(evaluateConnection(c, at(clientInUser), at(db), tcp(6379)).allowed).toBe(true);
    expect(evaluateConnection(c, at(otherInUser), at(db), tcp(6379)).allowed).toBe(false);
    expect(evaluateConnection(c, at(clientElsewhere), at(db), tcp(6379)).allowed).toBe(false);
  });

  it('two elements are OR: any pod of user=alice namespaces, or role=client of its own', () => {
    const c = cluster(
      policy(`        - namespaceSelector: { matchLabels: { user: alice } }
        - podSelector: { matchLabels: { role: client } }`),
      pods,
      namespaces,
    );
    expect(evaluateConnection(c, at(clientInUser), at(db), tcp(6379)).allowed).toBe(true);
    expect(evaluateConnection(c, at(otherInUser), at(db), tcp(6379)).allowed).toBe(true);
    expect(evaluateConnection(c, at(clientElsewhere), at(db), tcp(6379)).allowed).toBe(true);
  });

  it('a namespace matches its automatic kubernetes.io/metadata.name label', () => {
    const c = cluster(
      policy(
        `        - namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: user-ns } }`,
      ),
      pods,
    );
    expect(evaluateConnection(c, at(otherInUser), at(db), tcp(6379)).allowed).toBe(true);
    expect(evaluateConnection(c, at(clientElsewhere), at(db), tcp(6379)).allowed).toBe(false);
  });
});

describe('"Targeting a range of ports" and named ports', () => {
  it('port 32000 to endPort 32768 takes both ends and nothing outside', () => {
    const c = cluster(
      `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: multi-port-egress }
spec:
  podSelector: { matchLabels: { role: db } }
  policyTypes: [Egress]
  egress:
    - to: [{ ipBlock: { cidr: 10.0.0.0/24 } }]
      ports: [{ protocol: TCP, port: 32000, endPort: 32768 }]`,
      [db],
    );
    const to = outside('10.0.0.1');
    expect(evaluateConnection(c, at(db), to, tcp(32000)).allowed).toBe(true);
    expect(evaluateConnection(c, at(db), to, tcp(32768)).allowed).toBe(true);
    expect(evaluateConnection(c, at(db), to, tcp(31999)).allowed).toBe(false);
    expect(evaluateConnection(c, at(db), to, tcp(32769)).allowed).toBe(false);
  });

  it('a named port is the destination pod’s container port of that name', () => {
    const named = pod('api', 'default', { app: 'api' }, [8080, 9090]);
    const c = cluster(
      `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: named }
spec:
  podSelector: { matchLabels: { app: api } }
  ingress: [{ ports: [{ port: p8080 }] }]
---
# The pod whose ports the name refers to (a name no container has is an error).
apiVersion: v1
kind: Pod
metadata: { name: api, labels: { app: api } }
spec:
  containers: [{ name: api, ports: [{ name: p8080, containerPort: 8080 }] }]`,
      [named, web],
    );
    expect(evaluateConnection(c, at(web), at(named), tcp(8080)).allowed).toBe(true);
    expect(evaluateConnection(c, at(web), at(named), tcp(9090)).allowed).toBe(false);
  });
});

describe('policyTypes defaults', () => {
  it('egress rules without policyTypes isolate both directions', () => {
    const c = cluster(
      `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: p }
spec:
  podSelector: { matchLabels: { role: db } }
  egress: [{ to: [{ podSelector: { matchLabels: { app: web } } }] }]`,
      [db, web],
    );
    expect(c.policies[0]!.policyTypes).toEqual(['Ingress', 'Egress']);
    expect(evaluateConnection(c, at(db), at(web), tcp(80)).allowed).toBe(true);
    expect(evaluateConnection(c, at(db), at(frontend), tcp(80)).allowed).toBe(false);
    // Ingress is isolated too, with no ingress rule: nothing gets in.
    expect(evaluateConnection(c, at(web), at(db), tcp(6379)).allowed).toBe(false);
  });

  it('an egress-only policy (policyTypes [Egress]) leaves ingress open', () => {
    const c = cluster(
      `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: p }
spec:
  podSelector: { matchLabels: { role: db } }
  policyTypes: [Egress]`,
      [db, web],
    );
    expect(evaluateConnection(c, at(web), at(db), tcp(6379)).allowed).toBe(true);
    expect(evaluateConnection(c, at(db), at(web), tcp(80)).allowed).toBe(false);
  });
});
