import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { checkDnsLabel } from './validation.js';

/** Props for a {@link SystemNamespace}. */
export interface SystemNamespaceProps {
  /** Namespace name. @default 'elasticai-system' */
  readonly name?: string;
}

/**
 * The namespace of ElasticAI's own platform pieces (headroom, decision runtime): Pod Security
 * "restricted" enforced, and a default-deny NetworkPolicy so each component opens only what it needs.
 */
export class SystemNamespace extends Construct {
  readonly name: string;

  constructor(scope: Construct, id: string, props: SystemNamespaceProps = {}) {
    super(scope, id);
    this.name = props.name ?? 'elasticai-system';
    checkDnsLabel('name', this.name);
    const labels = { 'app.kubernetes.io/part-of': 'elasticai' };
    new k8s.KubeNamespace(this, 'Namespace', {
      metadata: {
        name: this.name,
        labels: {
          ...labels,
          'pod-security.kubernetes.io/enforce': 'restricted',
          'pod-security.kubernetes.io/enforce-version': 'latest',
        },
      },
    });
    new k8s.KubeNetworkPolicy(this, 'DefaultDeny', {
      metadata: { name: 'default-deny-all', namespace: this.name, labels },
      spec: { podSelector: {}, policyTypes: ['Ingress', 'Egress'] },
    });
  }
}
