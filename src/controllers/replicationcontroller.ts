// ReplicationControllerController (pkg/controller/replication): the ReplicaSet controller's
// logic over core/v1 ReplicationControllers, whose selector is a plain label map (defaulting
// to the template's labels) and whose events come from "replication-controller".
import type { ControllerContext } from './context.js';
import { ReplicaSetLikeController, replicationControllerKind, type ReplicaSetControllerOptions } from './replicaset.js';

export class ReplicationControllerController extends ReplicaSetLikeController {
  constructor(ctx: ControllerContext, opts: ReplicaSetControllerOptions = {}) {
    super(ctx, replicationControllerKind, opts);
  }
}
