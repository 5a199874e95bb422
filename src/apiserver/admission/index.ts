// Admission: plugins that see every write after defaulting and before storage, in the
// order upstream runs them (mutating first, then validating). Plugins that allocate
// something (Service IPs, node ports) also get to undo it if the write fails.
import type { KObject, ResourceDecl } from '../../api/types.js';

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

export type Operation = 'CREATE' | 'UPDATE' | 'DELETE' | 'CONNECT';

export interface AdmissionAttributes {
  operation: Operation;
  decl: ResourceDecl;
  namespace: string;
  name: string;
  subresource?: string;
  /** The object being written (mutable in admit). For DELETE, the object being deleted. */
  obj: KObject;
  old?: KObject;
  user: UserInfo;
  dryRun: boolean;
}

export interface AdmissionPlugin {
  readonly name: string;
  /** Mutating admission: may change attrs.obj, or throw an ApiError to refuse. */
  admit?(a: AdmissionAttributes): Promise<void> | void;
  /** Validating admission: may only refuse. */
  validate?(a: AdmissionAttributes): Promise<void> | void;
  /** The write that admit() prepared for did not happen: release what admit() took. */
  rollback?(a: AdmissionAttributes): Promise<void> | void;
  /** The object is gone from storage. */
  afterDelete?(a: AdmissionAttributes): Promise<void> | void;
}

export class Admission {
  constructor(private readonly plugins: AdmissionPlugin[] = []) {}

  add(p: AdmissionPlugin): void {
    this.plugins.push(p);
  }

  async admit(a: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) if (p.admit) await p.admit(a);
  }

  async validate(a: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) if (p.validate) await p.validate(a);
  }

  async rollback(a: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) {
      try {
        if (p.rollback) await p.rollback(a);
      } catch {
        // Best effort: a leaked allocation is repaired by the allocator's repair loop.
      }
    }
  }

  async afterDelete(a: AdmissionAttributes): Promise<void> {
    for (const p of this.plugins) {
      try {
        if (p.afterDelete) await p.afterDelete(a);
      } catch {
        // Best effort, as above.
      }
    }
  }
}
