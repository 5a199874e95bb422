// Priority admission: a pod's spec.priority comes from its priorityClassName (or the
// global default class), as upstream's Priority plugin does; a missing class is refused.
import type { KObject } from '../../api/types.js';
import { forbidden } from '../errors.js';
import type { AdmissionAttributes, AdmissionPlugin } from './index.js';

export class PriorityAdmission implements AdmissionPlugin {
  readonly name = 'Priority';

  constructor(
    private readonly getClass: (name: string) => Promise<KObject | undefined>,
    private readonly listClasses: () => Promise<KObject[]>,
  ) {}

  async admit(a: AdmissionAttributes): Promise<void> {
    if (a.operation !== 'CREATE' || a.decl.group !== '' || a.decl.plural !== 'pods' || a.subresource) return;
    const spec = (a.obj.spec ??= {});
    const name: string | undefined = spec.priorityClassName;
    let cls: KObject | undefined;
    if (name) {
      cls = await this.getClass(name);
      if (!cls) throw forbidden({ group: '', resource: 'pods' }, a.name, `no PriorityClass with name ${name} was found`);
    } else {
      cls = (await this.listClasses()).find((c) => c.globalDefault === true);
      if (cls) spec.priorityClassName = cls.metadata.name;
    }
    if (cls) {
      spec.priority = cls.value ?? 0;
      if (cls.preemptionPolicy) spec.preemptionPolicy = cls.preemptionPolicy;
    }
  }
}
