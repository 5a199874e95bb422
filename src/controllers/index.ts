// Every controller the controller manager runs, by upstream's controller name.
import type { KObject } from '../api/types.js';
import type { Controller, ControllerContext } from './context.js';
import { CronJobController } from './cronjob.js';
import { DaemonSetController } from './daemonset.js';
import { DeploymentController } from './deployment/controller.js';
import { DisruptionController } from './disruption.js';
import { EndpointsController } from './endpoints.js';
import { EndpointSliceController } from './endpointslice.js';
import { GarbageCollector } from './garbagecollector.js';
import { JobController } from './job.js';
import { NamespaceController } from './namespace.js';
import { NodeLifecycleController } from './nodelifecycle.js';
import { PodGCController } from './podgc.js';
import { ReplicaSetController } from './replicaset.js';
import { ReplicationControllerController } from './replicationcontroller.js';
import { ServiceAccountsController } from './serviceaccount.js';
import { ServiceAccountTokenController } from './serviceaccounttoken.js';
import { StatefulSetController } from './statefulset.js';
import { TTLAfterFinishedController } from './ttlafterfinished.js';

export interface ControllerOptions {
  caCert?: string;
  /** Signs legacy tokens for kubernetes.io/service-account-token Secrets. */
  issueLegacyToken?: (serviceAccount: KObject, secretName: string) => string;
  /** Node lifecycle: --node-monitor-grace-period (default 50 s). */
  nodeMonitorGracePeriodMs?: number;
}

export const controllerFactories: [name: string, make: (ctx: ControllerContext, opts: ControllerOptions) => Controller][] = [
  ['namespace', (ctx) => new NamespaceController(ctx.client, ctx.log.with('namespace-controller'))],
  ['garbage-collector', (ctx) => new GarbageCollector(ctx.client, ctx.log.with('garbage-collector'))],
  ['serviceaccount', (ctx, o) => new ServiceAccountsController(ctx.client, ctx.log.with('serviceaccount-controller'), o.caCert)],
  ['serviceaccount-token', (ctx, o) => new ServiceAccountTokenController(ctx, { caCert: o.caCert, issueLegacyToken: o.issueLegacyToken })],
  ['deployment', (ctx) => new DeploymentController(ctx)],
  ['replicaset', (ctx) => new ReplicaSetController(ctx)],
  ['replicationcontroller', (ctx) => new ReplicationControllerController(ctx)],
  ['job', (ctx) => new JobController(ctx)],
  ['cronjob', (ctx) => new CronJobController(ctx)],
  ['ttl-after-finished', (ctx) => new TTLAfterFinishedController(ctx)],
  ['daemonset', (ctx) => new DaemonSetController(ctx)],
  ['statefulset', (ctx) => new StatefulSetController(ctx)],
  ['endpoints', (ctx) => new EndpointsController(ctx)],
  ['endpointslice', (ctx) => new EndpointSliceController(ctx)],
  ['disruption', (ctx) => new DisruptionController(ctx)],
  ['node-lifecycle', (ctx, o) => new NodeLifecycleController(ctx, { nodeMonitorGracePeriodMs: o.nodeMonitorGracePeriodMs })],
  ['pod-garbage-collector', (ctx) => new PodGCController(ctx)],
];
