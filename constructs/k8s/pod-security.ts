import type { k8s } from 'cdk8s-plus-28';

/**
 * Pod Security Standard "restricted" settings. Every pod template in this package uses these, and
 * the policy test checks every synthesized pod against them.
 */

/** Default non-root UID/GID for containers whose image does not set one. */
export const DEFAULT_RUN_AS_USER = 65532;

/** Pod-level security context: non-root, RuntimeDefault seccomp. */
export function restrictedPodSecurityContext(runAsUser = DEFAULT_RUN_AS_USER): k8s.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser,
    runAsGroup: runAsUser,
    fsGroup: runAsUser,
    seccompProfile: { type: 'RuntimeDefault' },
  };
}

/** Container-level security context: no escalation, all capabilities dropped, read-only root. */
export function restrictedContainerSecurityContext(): k8s.SecurityContext {
  return {
    allowPrivilegeEscalation: false,
    privileged: false,
    readOnlyRootFilesystem: true,
    runAsNonRoot: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: { type: 'RuntimeDefault' },
  };
}
