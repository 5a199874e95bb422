import type { ResourceDecl } from '../types.js';
import { admissionregistrationResources } from './admissionregistration.js';
import { apiextensionsResources } from './apiextensions.js';
import { appsResources } from './apps.js';
import { autoscalingResources } from './autoscaling.js';
import { batchResources } from './batch.js';
import { coordinationResources } from './coordination.js';
import { discoveryResources } from './discovery.js';
import { eventsResources } from './events.js';
import { networkingResources } from './networking.js';
import { policyResources } from './policy.js';
import { rbacResources } from './rbac.js';
import { storageResources } from './storage.js';
import { schedulingResources } from './scheduling.js';
import { reviewResources } from './authorization.js';

/** Resources of the named API groups (apps, batch, networking.k8s.io, …). */
export const groupResources: ResourceDecl[] = [
  ...appsResources,
  ...batchResources,
  ...autoscalingResources,
  ...networkingResources,
  ...policyResources,
  ...rbacResources,
  ...storageResources,
  ...discoveryResources,
  ...coordinationResources,
  ...eventsResources,
  ...apiextensionsResources,
  ...admissionregistrationResources,
  ...schedulingResources,
  ...reviewResources,
];
